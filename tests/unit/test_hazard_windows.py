"""A known hazard excuses only the harm its fault can cause, where it can cause it: a split-brain
hazard the duplicates granted inside the split brain, a slow-link hazard the queries dropped
before the heal. Built on real recorded timelines (tests/evidence) and mutations of them: the
recorded runs stay the stated hazard; the same harm moved outside its window is a real FAIL
whatever the bound; a window that cannot be measured leaves duplicates UNKNOWN."""
from __future__ import annotations

import pytest

from dhcpdrill import verdicts
from dhcpdrill.expectations import KnownHazard, Thresholds
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, Verdict

from .test_real_evidence import fault_t, judged, load, with_events, without

DUPLICATED = "198.18.1.182"  # kea-lb-peer-partition: granted by both servers 33 s into the cut


def shifted(e: Event, by: float) -> Event:
    """The event ``by`` seconds later, lease-record times with it."""
    data = dict(e.data)
    for key in ("start", "end", "end_late"):
        if data.get(key) is not None:
            data[key] = float(data[key]) + by
    return Event(e.t + by, e.source, e.kind, data)


def _intruders(tl: Timeline, after: float) -> list[Event]:
    """A new client bound to each steady client's address ``after`` seconds past the fault, by the
    server that leased it to the steady client (no switch between servers: no double service)."""
    steady = {e.get("client"): e for e in tl.of("bound") if str(e.get("client")).startswith("steady")
              and e.t < fault_t(tl)}
    return [Event(fault_t(tl) + after + k / 10, "clients", "bound",
                  {"client": f"intruder-{k}", "mac": f"02:d4:99:00:00:{k:02x}", "ip": b.get("ip"),
                   "lease_time": 60.0, "server_id": b.get("server_id")}) for k, b in enumerate(steady.values())]


@pytest.mark.parametrize("recording", ["kea-hs-peer-partition", "kea-lb-peer-partition"])
def test_recorded_split_brain_duplicates_lie_inside_it_and_stay_the_stated_hazard(recording):
    v = judged(load(recording), "peer-partition")
    dup = v["duplicates"]
    assert dup.status == FAIL and dup.figure >= 1 and dup.outside == 0, dup.reason
    assert f"{dup.figure:g} address(es) granted twice inside it, 0 outside" in dup.reason
    assert v["outcome"].status == "expected-failure" and "duplicates" in v["outcome"].as_expected


def test_the_window_begins_an_update_timeout_early_because_a_recorded_grant_needs_it(monkeypatch):
    """kea-hs-peer-partition: the primary wrote .113 and .114 for probe-01 at +7.1 s, its update to
    the standby hanging on the cut link; both went partner-down at +10.9 s and the standby gave
    both addresses to probe-00 at +17.1 s. Without the update timeout's head start those grants
    lie outside the split brain and the recorded run would be a real FAIL."""
    tl = load("kea-hs-peer-partition")
    windows = verdicts.split_brain_windows(tl)
    assert [(round(a - fault_t(tl), 1), round(b - fault_t(tl), 1)) for a, b in windows] == [(0.9, 35.0)]
    assert "+0.9 s to +35.0 s after the fault" in judged(tl, "peer-partition")["duplicates"].reason
    monkeypatch.setattr(verdicts, "UNACKED_UPDATE_S", 0.0)
    v = judged(tl, "peer-partition")
    assert v["duplicates"].outside == 2 and "granted +7.1 s (outside)" in v["duplicates"].reason
    assert v["outcome"].status == "fail"


def test_the_head_start_never_reaches_before_the_fault_and_a_files_whole_second_counts(monkeypatch):
    """Until the cut every lease update reached the partner: a head start longer than the time
    from the fault to the split brain stops at the fault. A lease-file row is dated to the whole
    second, so a grant within that second of the window's start is inside it."""
    tl = load("kea-hs-peer-partition")
    monkeypatch.setattr(verdicts, "UNACKED_UPDATE_S", 30.0)
    assert verdicts.split_brain_windows(tl)[0][0] == fault_t(tl)
    solo = next(e.t for e in tl.of("ha-state") if e.get("to") == "partner-down")
    written = min(float(e.get("start")) for e in tl.of("lease-record") if e.get("ip") == "198.18.0.113"
                  and e.get("mac") == "02:d4:20:17:70:01" and e.t > fault_t(tl) + 5)
    monkeypatch.setattr(verdicts, "UNACKED_UPDATE_S", solo - written - 0.5)  # the row 0.5 s before the window
    assert judged(tl, "peer-partition")["duplicates"].outside == 0
    monkeypatch.setattr(verdicts, "UNACKED_UPDATE_S", solo - written - 1.5)  # beyond its whole second
    assert judged(tl, "peer-partition")["duplicates"].outside == 2


def test_duplicates_within_the_pairs_own_limit_pass_though_no_window_is_measured():
    tl = load("kea-hs-peer-partition")
    primary = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "primary")
    blind = without(tl, lambda e: e.kind == "pair-ready" or (
        e.source == "clients" and e.kind in ("recv", "bound") and e.get("server_id") == primary and e.t > fault_t(tl)))
    hazard = KnownHazard("split brain", ("split-brain",), ("duplicates",), {"split-brain": 30, "duplicates": 30})
    dup = verdicts.duplicates(blind, Thresholds(max_takeover_s=15, max_duplicates=2, known_hazard=hazard))
    assert (dup.status, dup.figure) == (PASS, 2) and dup.reason.startswith("the split brain's window cannot be")


@pytest.mark.parametrize("by", [-40.0, -36.0])
def test_the_recorded_duplicate_moved_before_the_cut_is_a_real_fail_within_the_bound(by):
    """The load-balancing run's one duplicate, both its grants moved to before the peer link was
    cut (-7 s; -3 s): one address twice is well within the hazard's bound of 30, and was
    "FAIL, AS EXPECTED"; granted while the pair was healthy, no split brain caused it."""
    tl = load("kea-lb-peer-partition")
    f = fault_t(tl)
    moved = Timeline(sorted((shifted(e, by) if DUPLICATED in (e.get("ip"), e.get("yiaddr")) and f + 30 < e.t < f + 36
                             else e for e in tl.events), key=lambda e: e.t))
    v = judged(moved, "peer-partition")
    dup = v["duplicates"]
    assert (dup.status, dup.figure, dup.outside) == (FAIL, 1, 1)
    assert f"0 address(es) granted twice inside it, 1 outside: {DUPLICATED}: " in dup.reason
    assert dup.reason.count("(outside)") == 2
    outcome = v["outcome"]
    assert outcome.status == "fail" and [r.split(":")[0] for r in outcome.reasons] == ["duplicates"]
    assert "1 address(es) granted twice outside the split brain" in outcome.reasons[0]
    assert v["split-brain"].status == FAIL  # the split brain itself is still the hazard


def test_addresses_handed_out_twice_after_the_split_brain_fail_whatever_the_bound():
    """Five intruders on the steady clients' addresses 10 s after the pair was back in
    hot-standby: 7 duplicates, within the bound of 30 (the old rule: "FAIL, AS EXPECTED"); the
    two the split brain made are still excused, the five after it are named and fail the drill."""
    tl = load("kea-hs-peer-partition")
    v = judged(with_events(tl, *_intruders(tl, 45.0)), "peer-partition")
    dup = v["duplicates"]
    assert (dup.figure, dup.outside) == (7, 5)
    assert "2 address(es) granted twice inside it, 5 outside: 198.18.0.100: " in dup.reason
    assert "02:d4:99:00:00:00 (clients) granted +45.0 s (outside)" in dup.reason
    outcome = v["outcome"]
    assert outcome.status == "fail" and [r.split(":")[0] for r in outcome.reasons] == ["duplicates"]
    assert "5 address(es) granted twice outside the split brain" in outcome.reasons[0]


def test_inside_the_split_brain_only_a_lease_granted_in_it_is_excused():
    """An intruder 20 s into the split brain on a steady client's address fails: that lease was
    granted before the cut and both servers knew it, so no split brain explains a second holder.
    On the address the primary granted probe-00 at +21.9 s, an intruder the standby bound 0.5 s
    later is split-brain damage the hazard excuses."""
    tl = load("kea-hs-peer-partition")
    v = judged(with_events(tl, *_intruders(tl, 20.0)[:1]), "peer-partition")
    assert (v["duplicates"].figure, v["duplicates"].outside) == (3, 1) and v["outcome"].status == "fail"
    assert "02:d4:10:17:70:00 (secondary) granted -5.9 s (outside), 02:d4:99:00:00:00 (clients) granted +20.0 s" \
        in v["duplicates"].reason
    standby = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "secondary")
    probe = next(e for e in tl.of("bound") if e.get("client") == "probe-00" and e.t > fault_t(tl) + 21)
    intruder = Event(probe.t + 0.5, "clients", "bound", {"client": "intruder", "mac": "02:d4:99:00:00:01",
                                                          "ip": probe.get("ip"), "lease_time": 60.0,
                                                          "server_id": standby})
    v = judged(with_events(tl, intruder), "peer-partition")
    assert (v["duplicates"].figure, v["duplicates"].outside) == (3, 0), v["duplicates"].reason
    assert v["outcome"].status == "expected-failure"


def test_a_split_brain_window_that_cannot_be_measured_leaves_duplicates_unknown():
    """No pair-ready (no states to measure from) and the primary's answers in the cut gone (no
    double service in the packets): nothing says when both served, so the duplicates cannot be
    shown inside the split brain: UNKNOWN, never the hazard."""
    tl = load("kea-hs-peer-partition")
    primary = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "primary")
    blind = without(tl, lambda e: e.kind == "pair-ready" or (
        e.source == "clients" and e.kind in ("recv", "bound") and e.get("server_id") == primary and e.t > fault_t(tl)))
    assert verdicts.split_brain_windows(blind) is None
    v = judged(blind, "peer-partition")
    assert v["duplicates"].status == UNKNOWN
    assert v["duplicates"].reason.startswith("the split brain's window cannot be measured")
    assert v["outcome"].status == "fail"
    assert any(r.startswith("duplicates: unknown: ") for r in v["outcome"].reasons)
    # the states alone measure it: the same run with its pair-ready back is the hazard again
    assert verdicts.split_brain_windows(without(tl, lambda e: e.kind == "pair-ready")) is not None


def test_without_a_split_brain_hazard_duplicates_are_judged_as_before():
    """The window rule belongs to hazards that name split-brain: kill-primary's duplicates verdict
    says nothing of windows and sets nothing outside."""
    tl = load("kea-hs-kill-primary")
    held = [e for e in tl.of("bound") if e.get("client") == "steady-01"][-1]
    intruder = Event(held.t + 1.0, "clients", "bound", {"client": "intruder", "mac": "02:d4:99:00:00:01",
                                                        "ip": held.get("ip"), "lease_time": 60.0,
                                                        "server_id": held.get("server_id")})
    dup = judged(with_events(tl, intruder), "kill-primary")["duplicates"]
    assert dup.status == FAIL and dup.outside == 0 and "split brain" not in dup.reason


# -- dropped queries: Kea 2.2 hot-standby, narrow peer link (tests/evidence/kea-hs-narrow-peer-link) --
ANSWERS = {"DISCOVER": "OFFER", "REQUEST": "ACK"}


def _answered(e: Event) -> Event:
    return Event(e.t + 0.001, "clients", "recv", {"client": e.get("client"), "mac": e.get("mac"), "xid": e.get("xid"),
                                                  "msg": ANSWERS[e.get("msg")], "expected": True,
                                                  "server_id": "198.18.0.11", "udp_checksum_ok": True})


def test_recorded_narrow_link_drops_nothing_after_the_heal():
    v = judged(load("kea-hs-narrow-peer-link"), "narrow-peer-link")
    assert (v["dropped-queries"].figure, v["dropped-queries"].outside) == (67, 0)
    assert v["outcome"].status == "expected-failure"


def test_a_query_dropped_after_the_heal_fails_though_the_total_is_within_the_bound():
    """Every query before the heal answered (0 dropped while the link was narrow) and one
    client's exchange after the heal left unanswered: 1 or 2 dropped, far within the hazard's
    bound of 67 (the old rule: "FAIL, AS EXPECTED"); dropped once the link was whole again, no
    narrow link caused it."""
    tl = load("kea-hs-narrow-peer-link")
    heal = tl.first("heal-started").t
    before = [_answered(e) for e in tl.of("send", source="clients") if e.get("msg") in ANSWERS and e.t < heal]
    victim = next(e for e in tl.of("send", source="clients") if e.get("msg") in ANSWERS and e.t > heal + 5)
    mutated = Timeline(e for e in [*tl.events, *before] if not (
        e.kind == "recv" and e.source == "clients" and e.t > heal and (e.get("mac"), e.get("xid")) ==
        (victim.get("mac"), victim.get("xid"))))
    v = judged(mutated, "narrow-peer-link")
    dropped = v["dropped-queries"]
    assert dropped.status == FAIL and 0 < dropped.figure <= 67 and dropped.outside == dropped.figure, dropped.reason
    assert "(0 of 110 until the heal began, " in dropped.reason
    outcome = v["outcome"]
    assert outcome.status == "fail" and [r.split(":")[0] for r in outcome.reasons] == ["dropped-queries"]
    assert "dropped after the heal began" in outcome.reasons[0]


def test_any_part_outside_is_a_breach_and_a_verdict_recorded_before_it_existed_has_none():
    hazard = KnownHazard("why", ("dropped-queries",), (), {"dropped-queries": 67})
    assert hazard.breach("dropped-queries", 10, None, 0) is None
    assert "3 quer(ies) dropped after the heal began" in hazard.breach("dropped-queries", 10, None, 3)
    assert hazard.breach("state-transitions", None, None, 0) is None
    # a verdict recorded before ``outside`` existed (an old archive) reads as nothing outside
    assert Verdict(**{"name": "duplicates", "status": PASS, "reason": "", "figure": 0}).outside == 0


def test_a_hazard_says_where_its_bound_counts():
    split = KnownHazard("split brain", ("split-brain",), ("duplicates",), {"split-brain": 30, "duplicates": 28})
    assert split.describe() == "split brain (fails: split-brain <= 30 s; may fail: duplicates <= 28 inside the split brain)"
    stale = KnownHazard("stale binding", (), ("duplicates",), {"duplicates": 1})
    assert stale.describe() == "stale binding (may fail: duplicates <= 1)"
    slow = KnownHazard("slow link", ("dropped-queries",), (), {"dropped-queries": 110})
    assert slow.describe() == "slow link (fails: dropped-queries <= 110 before the heal)"
