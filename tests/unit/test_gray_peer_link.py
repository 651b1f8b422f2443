"""Gray peer-link faults: what they read back (rule counters, TCP retransmissions), how long a
flap's cut may be, and fault-effective over a fault proven step by step."""
from __future__ import annotations

import pytest

from dhcpdrill.gray import LossyPeerLink, flap_cut_s, rule_packets, tcp_retransmissions
from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import FAIL, PASS, fault_effective

# `iptables -w -S OUTPUT -v` in a lab container (iptables 1.8.9, nf_tables), both rules in place
LISTING = """-P OUTPUT ACCEPT -c 0 0
-A OUTPUT -d 198.18.0.12/32 -m statistic --mode random --probability 0.20000000019 -m comment --comment dhcpdrill-lossy-peer-link-20 -c 17 1432 -j DROP
-A OUTPUT -d 198.18.0.12/32 -m comment --comment dhcpdrill-lossy-peer-link-20-passed -c 64 5120
"""
# /proc/net/snmp's Tcp rows in a server's namespace
SNMP = """Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 12 3 0 0 2 900 880 37 0 4 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
"""


def test_each_rule_is_read_by_its_own_tag_not_a_tag_it_begins():
    assert rule_packets(LISTING, "dhcpdrill-lossy-peer-link-20") == 17
    assert rule_packets(LISTING, "dhcpdrill-lossy-peer-link-20-passed") == 64
    assert rule_packets(LISTING, "dhcpdrill-lossy-peer-link-50") is None
    assert rule_packets("-P OUTPUT ACCEPT -c 0 0\n", "dhcpdrill-lossy-peer-link-20") is None


def test_retransmissions_come_from_the_tcp_rows():
    assert tcp_retransmissions(SNMP) == 37
    assert tcp_retransmissions("Ip: Forwarding\nIp: 1\n") is None


def test_a_cut_as_long_as_max_response_delay_is_halved():
    assert flap_cut_s(2.0, 3.0) == 2.0  # Kea's bundled pairs: 3 s
    assert flap_cut_s(2.0, 10.0) == 2.0  # dhcpd's: 10 s
    assert flap_cut_s(2.0, 2.0) == 1.0
    assert flap_cut_s(2.0, 1.5) == 0.75


@pytest.mark.parametrize("percent", [0, 100, -5])
def test_a_loss_that_is_no_fault_or_a_partition_is_refused_when_written(percent):
    with pytest.raises(ValueError, match="between 1 and 99"):
        LossyPeerLink(percent=percent)


def stepped(*oks: bool) -> Timeline:
    tl = Timeline()
    tl.add(100.0, "harness", "fault-applied", fault="flapping-peer-link", target="primary", takes_down=False)
    for k, ok in enumerate(oks):
        tl.add(101.0 + 2 * k, "harness", "fault-step", fault="flapping-peer-link", target="primary",
               step=f"cut {k + 1}", ok=ok, evidence="probe timed out" if ok else "primary -> secondary: connected")
    tl.add(101.5, "harness", "fault-verified", fault="flapping-peer-link", target="primary", evidence="first cut")
    return tl


def test_a_fault_proven_at_first_but_not_at_a_later_step_is_not_effective():
    assert fault_effective(stepped(True, True, True)).status == PASS
    v = fault_effective(stepped(True, False, True))
    assert v.status == FAIL and v.reason.startswith("1 of 3 steps of the fault not effective: flapping-peer-link cut 2")


# -- real recordings (tests/evidence) -------------------------------------------------------------
from dhcpdrill.timeline import Event  # noqa: E402

from .test_real_evidence import fault_t, judged, load, with_events, without  # noqa: E402


def test_the_recorded_flapping_link_passes_with_every_cut_and_restore_proven():
    """Kea 2.2 hot-standby: 15 cuts of ~2.2 s and 15 restores, each proven; neither server changed
    state, no client waited more than a few seconds."""
    tl = load("kea-hs-flapping-peer-link")
    v = judged(tl, "flapping-peer-link")
    assert v["outcome"].status == "pass", v["outcome"].reasons
    steps = tl.of("fault-step")
    assert len(steps) == 30 and all(e.get("ok") for e in steps)
    assert v["fault-effective"].reason.endswith("each of its 30 steps proven as it was made")
    assert v["state-transitions"].reason == "primary: no change; secondary: no change"


def test_one_restore_not_proven_fails_fault_effective_and_the_drill():
    """The mutation: the link did not carry after the 7th restore (its probe timed out). A flap that
    left the link cut is a partition, not a flap: the drill proves nothing about flapping."""
    tl = load("kea-hs-flapping-peer-link")
    seventh = next(e for e in tl.of("fault-step") if e.get("step") == "restore 7")
    broken = Timeline([Event(e.t, e.source, e.kind, {**e.data, "ok": False, "evidence": "TimeoutError timed out"})
                       if e is seventh else e for e in tl.events])
    v = judged(broken, "flapping-peer-link")
    assert v["fault-effective"].status == FAIL and "flapping-peer-link restore 7: TimeoutError" in v["fault-effective"].reason
    assert v["outcome"].status == "fail"


def test_a_standby_that_saw_its_partner_down_fails_the_flapping_drill():
    """The mutation the drill exists for: the standby declares partner-down in the middle of the
    flapping (what Kea does once a heartbeat fails past max-response-delay with clients waiting)."""
    tl = load("kea-hs-flapping-peer-link")
    down = Event(fault_t(tl) + 30, "secondary", "ha-state", {"from": "hot-standby", "to": "partner-down",
                                                             "partner": "hot-standby"})
    v = judged(with_events(tl, down), "flapping-peer-link")
    assert v["state-transitions"].status == FAIL and "secondary expected no change" in v["state-transitions"].reason
    assert v["outcome"].status == "fail"


def test_the_recorded_split_brain_under_50_percent_loss_is_the_pairs_known_hazard():
    """Kea 2.2 hot-standby, 50 % loss: both servers partner-down, the standby's resync stalling the
    primary's clients. The hazard excuses split brain, the long waits and the state changes, each
    within its bound; it does not excuse an address handed to two clients."""
    tl = load("kea-hs-lossy-peer-link-50")
    v = judged(tl, "lossy-peer-link-50")
    assert v["outcome"].status == "expected-failure", v["outcome"].reasons
    assert set(v["outcome"].as_expected) == {"split-brain", "client-outage", "state-transitions"}
    assert v["split-brain"].status == FAIL and v["split-brain"].figure > 0
    assert v["duplicates"].status == PASS and v["fault-effective"].status == PASS
    loss = tl.first("peer-link-loss")
    assert loss.get("percent") == 50 and all(loss.get(r)["dropped"] > 100 for r in ("primary", "secondary"))


def test_a_duplicate_in_the_split_brain_is_beyond_the_hazard():
    tl = load("kea-hs-lossy-peer-link-50")
    held = [e for e in tl.of("bound") if e.t > fault_t(tl) + 45][0]
    intruder = Event(held.t + 1.0, "clients", "bound", {"client": "intruder", "mac": "02:d4:99:00:00:01",
                                                        "ip": held.get("ip"), "lease_time": 60.0,
                                                        "server_id": held.get("server_id")})
    v = judged(with_events(tl, intruder), "lossy-peer-link-50")
    assert v["duplicates"].status == FAIL and v["outcome"].status == "fail"
    assert any(r.startswith("duplicates: fail") for r in v["outcome"].reasons)


def test_without_the_second_server_going_partner_down_there_is_no_split_brain():
    """The verdict that matters reads the states and the packets: make the standby's partner-down a
    stay in hot-standby and drop every answer it gave after the fault, and split brain is gone."""
    tl = load("kea-hs-lossy-peer-link-50")
    zero = fault_t(tl)
    standby = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "secondary")
    stayed = Timeline([Event(e.t, e.source, e.kind, {**e.data, "to": "hot-standby"})
                       if e.source == "secondary" and e.kind == "ha-state" and e.get("to") == "partner-down" else e
                       for e in tl.events])
    calm = without(stayed, lambda e: e.source == "clients" and e.kind in ("recv", "bound")
                   and e.get("server_id") == standby and e.t > zero)
    assert judged(tl, "lossy-peer-link-50")["split-brain"].status == FAIL
    assert judged(calm, "lossy-peer-link-50")["split-brain"].status == PASS


def test_a_flap_that_never_started_is_not_proven():
    from dhcpdrill.gray import FlappingPeerLink
    from dhcpdrill.faults import FaultContext
    ctx = FaultContext(None, None, None, None)  # type: ignore[arg-type]
    assert FlappingPeerLink().verify(ctx) == (False, "the flapping was never started")
    ctx.state["flapping-peer-link"] = {"first": None}  # another drill's flap is not this one's
    assert FlappingPeerLink().verify(FaultContext(None, None, None, None)) == (  # type: ignore[arg-type]
        False, "the flapping was never started")
