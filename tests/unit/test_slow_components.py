"""Slow components: the dropped-queries verdict and the slow-server proof, as pure functions."""
from __future__ import annotations

import pytest

from dhcpdrill.expectations import Thresholds
from dhcpdrill.faults import round_trip_ms, slowed
from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import FAIL, NOT_JUDGED, PASS, UNKNOWN, dropped_queries, unanswered_queries

from .timelines import FAULT_T, PRIMARY, base, mac

LIMIT = Thresholds(max_takeover_s=15, max_dropped_queries=0)


def send(tl: Timeline, t: float, i: int, xid: int, msg: str = "REQUEST") -> None:
    tl.add(t, "clients", "send", client=f"steady-{i:02d}", mac=mac(i), msg=msg, state="RENEWING", xid=xid)


def reply(tl: Timeline, t: float, i: int, xid: int, msg: str = "ACK") -> None:
    tl.add(t, "clients", "recv", client=f"steady-{i:02d}", mac=mac(i), msg=msg, expected=True, xid=xid,
           server_id=PRIMARY, udp_checksum_ok=True)


def slow_run() -> Timeline:
    """Client 0 answered at once; client 1 retried twice before its answer; client 2 never answered."""
    tl = base()
    reply(tl, 9.9, 0, 3, "OFFER")  # the timeline keeps the clients' OFFERs
    send(tl, FAULT_T + 1, 0, 7)
    reply(tl, FAULT_T + 1.2, 0, 7)
    for k in range(3):
        send(tl, FAULT_T + 2 + 4 * k, 1, 8)
    reply(tl, FAULT_T + 10.5, 1, 8)
    send(tl, FAULT_T + 3, 2, 9, "DISCOVER")
    send(tl, FAULT_T + 7, 2, 9, "DISCOVER")
    reply(tl, FAULT_T + 29.5, 0, 10)  # a later client record: the window's queries are all decided
    return tl


def test_retries_before_a_reply_and_queries_never_answered_count_as_unanswered():
    sent, lost, who = unanswered_queries(slow_run(), FAULT_T, FAULT_T + 30)
    assert (sent, lost, who) == (6, 4, ["steady-01", "steady-02"])


def test_a_reply_answers_a_query_only_of_its_own_kind_and_exchange():
    tl = base()
    send(tl, FAULT_T + 1, 0, 7, "DISCOVER")
    reply(tl, FAULT_T + 1.1, 0, 7, "ACK")  # no OFFER: the DISCOVER went unanswered
    reply(tl, FAULT_T + 1.2, 0, 99, "OFFER")  # another exchange's
    reply(tl, FAULT_T + 20, 0, 10)
    assert unanswered_queries(tl, FAULT_T, FAULT_T + 30)[:2] == (1, 1)


def test_a_query_at_the_end_of_the_clients_record_is_left_undecided():
    tl = base()
    send(tl, FAULT_T + 1, 0, 7)
    send(tl, FAULT_T + 1.5, 0, 7)
    assert unanswered_queries(tl, FAULT_T, FAULT_T + 30)[:2] == (1, 1)


def test_queries_before_the_fault_do_not_count():
    tl = base()
    send(tl, FAULT_T - 3, 0, 7)
    send(tl, FAULT_T + 1, 0, 7)
    reply(tl, FAULT_T + 1.1, 0, 7)
    reply(tl, FAULT_T + 20, 0, 10)
    assert unanswered_queries(tl, FAULT_T, FAULT_T + 30)[:2] == (1, 0)


def test_verdict_fails_past_the_limit_and_passes_within_it():
    v = dropped_queries(slow_run(), LIMIT)
    assert (v.status, v.figure) == (FAIL, 4)
    assert "6 queries after the fault, 4 unanswered" in v.reason and "their loggers do not log" in v.reason
    assert dropped_queries(slow_run(), Thresholds(max_takeover_s=15, max_dropped_queries=4)).status == PASS
    assert dropped_queries(slow_run(), Thresholds(max_takeover_s=15)).status == NOT_JUDGED


def test_the_servers_own_count_decides_when_their_logger_says_it_and_it_is_larger():
    tl = slow_run()
    tl.first("lab").data["logs_drops"] = {"primary": True, "secondary": False}
    for k in range(6):
        tl.add(FAULT_T + 2 + k, "primary", "server-dropped", code="DHCP4_HOOK_LEASES4_PARKING_LOT_FULL", mac=None, xid=None)
    tl.add(FAULT_T + 3, "secondary", "server-dropped", code="DHCP4_PACKET_DROP_0001", mac=None, xid=None)
    v = dropped_queries(tl, LIMIT)
    assert (v.status, v.figure) == (FAIL, 6)
    assert "primary 6 dropped (DHCP4_HOOK_LEASES4_PARKING_LOT_FULL)" in v.reason and "secondary" not in v.reason.split("logged")[1]


def test_a_logger_that_would_say_it_and_said_nothing_leaves_the_clients_count():
    tl = base()
    tl.first("lab").data["logs_drops"] = {"primary": True}
    send(tl, FAULT_T + 1, 0, 7)
    reply(tl, FAULT_T + 1.1, 0, 7)
    reply(tl, FAULT_T + 20, 0, 10)
    v = dropped_queries(tl, LIMIT)
    assert (v.status, v.figure) == (PASS, 0) and "no drop (primary log drops)" in v.reason


@pytest.mark.parametrize("broken", ["no-fault", "not-verified", "no-queries", "sockets-dropped"])
def test_missing_evidence_is_unknown_never_a_pass(broken):
    tl = base(fault=broken != "no-fault", verified=broken != "not-verified")
    if broken != "no-queries":
        send(tl, FAULT_T + 1, 0, 7)
        reply(tl, FAULT_T + 1.1, 0, 7)
        reply(tl, FAULT_T + 20, 0, 10)
    if broken == "sockets-dropped":
        tl.add(FAULT_T + 31, "clients", "agent-stop", rx_dropped=12)
    assert dropped_queries(tl, LIMIT).status == UNKNOWN


def test_slowed_needs_every_request_answered_and_a_real_slowdown():
    fast = [{"ms": 1.5}, {"ms": 1.6}, {"ms": 2.0}]
    slow = [{"ms": 400.0}, {"ms": 390.0}, {"ms": 800.0}]
    assert round_trip_ms(fast) == 1.6 and round_trip_ms([{"ms": 1, "error": "x"}]) is None
    assert slowed(fast, slow, 3.0, 10.0)[0]
    assert not slowed(fast, [{"ms": 1.8}, {"ms": 1.7}, {"ms": 2.1}], 3.0, 10.0)[0]  # 0.05 CPU at light load
    assert not slowed(fast, [{"ms": 5.0}, {"ms": 6.0}, {"ms": 7.0}], 3.0, 10.0)[0]  # 3x but a few ms
    gone = [{"ms": 10000.0, "error": "TimeoutError: timed out"}, *slow]
    ok, said = slowed(fast, gone, 3.0, 10.0)
    assert not ok and "3 of 4 answered; TimeoutError" in said
    assert not slowed([], slow, 3.0, 10.0)[0]


def test_a_timeline_whose_offers_were_trimmed_cannot_judge_discovers():
    tl = base()  # its clients were leased (bound), but no OFFER was kept
    send(tl, FAULT_T + 1, 0, 7, "DISCOVER")
    send(tl, FAULT_T + 1.01, 0, 7, "REQUEST")
    reply(tl, FAULT_T + 1.02, 0, 7)
    reply(tl, FAULT_T + 20, 0, 10)
    v = dropped_queries(tl, LIMIT)
    assert v.status == UNKNOWN and "no OFFER" in v.reason
    reply(tl, FAULT_T + 1.005, 0, 7, "OFFER")
    assert dropped_queries(tl, LIMIT).status == PASS


def test_exchange_times_run_from_the_first_transmission_to_the_first_answer_of_its_kind():
    from dhcpdrill.faults import exchange_ms, median_ms
    tl = base()
    send(tl, FAULT_T + 1, 0, 7, "DISCOVER")
    send(tl, FAULT_T + 3, 0, 7, "DISCOVER")  # a retransmission: still timed from the first
    reply(tl, FAULT_T + 3.5, 0, 7, "OFFER")
    send(tl, FAULT_T + 3.6, 0, 7, "REQUEST")
    reply(tl, FAULT_T + 3.7, 0, 7, "ACK")
    reply(tl, FAULT_T + 3.8, 0, 7, "ACK")  # a duplicate answer times nothing
    send(tl, FAULT_T + 5, 1, 8)  # never answered: no time
    events = [e for e in tl.events if e.kind in ("send", "recv")]
    assert exchange_ms(events, FAULT_T, FAULT_T + 30) == [2500.0, 100.0]
    assert exchange_ms(events, FAULT_T + 3.6, FAULT_T + 30) == [100.0]
    assert median_ms([5.0, 1.0, 3.0]) == 3.0 and median_ms([]) is None


# -- a real recording: Kea 2.2 hot-standby, narrow peer link (tests/evidence/kea-hs-narrow-peer-link) --
def _recorded():
    from .test_real_evidence import judged, load
    return load("kea-hs-narrow-peer-link"), judged


def test_recorded_narrow_link_drops_queries_and_fails_as_its_hazard_says():
    tl, judged = _recorded()
    v = judged(tl, "narrow-peer-link")
    assert v["fault-effective"].status == PASS and "primary dropped 5 packet(s)" in v["fault-effective"].reason
    assert (v["dropped-queries"].status, v["dropped-queries"].figure) == (FAIL, 67)
    assert "67 of 110 until the heal began, 0 of 61 after" in v["dropped-queries"].reason
    assert "loggers do not log dropped queries" in v["dropped-queries"].reason
    assert v["outcome"].as_expected and v["split-brain"].status == PASS


def test_answering_every_query_of_the_recording_flips_dropped_queries_to_pass_and_the_hazard_to_a_real_fail():
    from dhcpdrill.timeline import Event
    tl, judged = _recorded()
    answers = {"DISCOVER": "OFFER", "REQUEST": "ACK"}
    added = [Event(e.t + 0.001, "clients", "recv", {"client": e.get("client"), "mac": e.get("mac"), "xid": e.get("xid"),
                                                     "msg": answers[e.get("msg")], "expected": True,
                                                     "server_id": PRIMARY, "udp_checksum_ok": True})
             for e in tl.of("send", source="clients") if e.get("msg") in answers]
    v = judged(Timeline([*tl.events, *added]), "narrow-peer-link")
    assert (v["dropped-queries"].status, v["dropped-queries"].figure) == (PASS, 0)
    assert v["outcome"].status == FAIL and not v["outcome"].as_expected  # an unexpected pass of what the hazard names


def test_silencing_the_primary_after_the_heal_drops_more_than_the_hazard_allows():
    tl, judged = _recorded()
    heal = tl.first("heal-started").t
    muted = Timeline(e for e in tl.events if not (e.kind == "recv" and e.source == "clients" and e.t > heal))
    v = judged(muted, "narrow-peer-link")
    assert v["dropped-queries"].status == FAIL and v["dropped-queries"].figure > 67
    assert v["outcome"].status == FAIL and not v["outcome"].as_expected
    assert any("dropped after the heal began" in r for r in v["outcome"].reasons)


def test_a_slowed_servers_exchanges_are_timed_from_its_own_answers_only():
    """A dhcpd load-balancing pair (isc-failover, 2026-12-07): the partner answered its own half
    at full speed, so the median of every exchange (6.87 ms) hid the slowed primary's (~500 ms)."""
    from dhcpdrill.faults import exchange_ms
    tl = base()
    send(tl, FAULT_T + 1, 0, 7, "DISCOVER")
    tl.add(FAULT_T + 1.005, "clients", "recv", client="steady-00", mac=mac(0), msg="OFFER", expected=True, xid=7,
           server_id="198.18.0.12", udp_checksum_ok=True)  # the partner's answer, ahead of the primary's
    reply(tl, FAULT_T + 1.6, 0, 7, "OFFER")
    send(tl, FAULT_T + 2, 1, 8, "DISCOVER")
    tl.add(FAULT_T + 2.004, "clients", "recv", client="steady-01", mac=mac(1), msg="OFFER", expected=True, xid=8,
           server_id="198.18.0.12", udp_checksum_ok=True)
    events = [e for e in tl.events if e.kind in ("send", "recv")]
    assert exchange_ms(events, FAULT_T, FAULT_T + 30) == [5.0, 4.0]
    assert exchange_ms(events, FAULT_T, FAULT_T + 30, PRIMARY) == [600.0]
