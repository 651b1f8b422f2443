"""partner-share-held on real recorded timelines and on mutations of them: the server a fault did
not target must keep serving its own clients, and no hazard about the target's clients hides it
when it does not."""
from __future__ import annotations

import pytest

from dhcpdrill.timeline import Timeline
from dhcpdrill.expectations import Thresholds
from dhcpdrill.verdicts import FAIL, NOT_JUDGED, PASS, UNKNOWN, partner_share_held

from .test_real_evidence import fault_t, load, without
from .test_service_and_contradictions import judged_anywhere

SERVER2 = "198.18.1.12"


def _partner_silent_from(tl: Timeline, after_s: float, ip: str = SERVER2) -> Timeline:
    """The recording with every answer ``ip`` gave from ``after_s`` after the fault removed: the
    clients asked, as recorded, and nobody answered them."""
    at = fault_t(tl) + after_s
    return without(tl, lambda e: e.source == "clients" and e.t >= at and (
        e.kind == "recv" and (e.get("server_id") == ip or e.get("src_ip") == ip)
        or e.kind == "bound" and e.get("server_id") == ip))


def test_recorded_client_partition_holds_the_partners_share_and_stays_the_stated_hazard():
    v = judged_anywhere("kea-lb-client-partition")
    assert v["partner-share-held"].status == PASS, v["partner-share-held"].reason
    assert "7 of the 7 client(s) bound to secondary" in v["partner-share-held"].reason


def test_a_partner_that_stops_serving_new_clients_is_not_hidden_behind_the_never_taken_over_hazard():
    """The hole: server1 cut from its clients is the pair's known hazard (takeover none, every
    client of server1 waiting to the window's end). With server2 also answering no new client from
    +2 s (its renewals still answered, so continuity holds), every other verdict fails no worse than
    the hazard allows: without partner-share-held the drill read FAIL, AS EXPECTED."""
    from .test_real_evidence import judged
    tl = load("kea-lb-client-partition")
    at = fault_t(tl) + 2.0
    gray = without(tl, lambda e: e.source == "clients" and e.t >= at and str(e.get("client")).startswith("probe")
                   and e.kind in ("recv", "bound") and e.get("server_id") == SERVER2)
    v = judged(gray, "client-partition")
    share = v["partner-share-held"]
    assert share.status == FAIL and share.figure > 20, share.reason
    assert "still unanswered at the heal" in share.reason and "probe-04" in share.reason
    assert v["continuity"].status == PASS
    assert v["outcome"].status == "fail"
    assert [r for r in v["outcome"].reasons if not r.startswith("partner-share-held: fail:")] == []
    assert v["outcome"].reasons[0].endswith("(not a verdict the known hazard names)")


def test_a_dead_partner_fails_it_too():
    from .test_real_evidence import judged
    v = judged(_partner_silent_from(load("kea-lb-client-partition"), 2.0), "client-partition")
    assert v["partner-share-held"].status == FAIL and v["outcome"].status == "fail"


def test_kea_partner_is_judged_once_it_stops_waiting_on_its_lost_partner():
    """Kea holds a REQUEST's reply for the partner's lease-update acknowledgement: in the recorded
    scope race server2's own probes waited ~11 s after server1 was killed, until server2 left
    load-balancing. From then on its share is judged at the service limit."""
    v = judged_anywhere("kea22-lb-kill-primary-scope-race")["partner-share-held"]
    assert v.status == PASS and "judged from +" in v.reason and "left its normal state" in v.reason
    tl = load("kea22-lb-kill-primary-scope-race")
    silent = judged_anywhere_tl(_partner_silent_from(tl, 16.0), "kea22-lb-kill-primary-scope-race")
    assert silent["partner-share-held"].status == FAIL, silent["partner-share-held"].reason


def judged_anywhere_tl(tl: Timeline, name: str) -> dict:
    from .test_service_and_contradictions import DRILLS, SCENARIOS
    from .test_real_evidence import load_pair, with_prediction
    from .test_verdict_snapshots import pair_folder
    from dhcpdrill.drill import verdicts_for
    from dhcpdrill.servers import adapter_for
    from dhcpdrill.verdicts import judge
    pair = load_pair(pair_folder(tl.first("lab").get("pair")))
    scenario = SCENARIOS[DRILLS[name]]
    names = verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair)
    return {v.name: v for v in judge(with_prediction(tl, pair, scenario), pair.drills[scenario.name], names)}


def test_a_kea_partner_that_never_leaves_its_normal_state_is_judged_from_max_takeover():
    """A survivor that neither takes over nor stops waiting on its partner (its own clients
    dropped for want of lease-update acknowledgements) is not excused past ``max_takeover_s``."""
    tl = load("kea22-lb-kill-primary-scope-race")
    stuck = without(tl, lambda e: e.source == "secondary" and e.kind == "ha-state" and e.t > fault_t(tl))
    v = judged_anywhere_tl(_partner_silent_from(stuck, 0.0), "kea22-lb-kill-primary-scope-race")["partner-share-held"]
    assert v.status == FAIL and "had had max_takeover_s" in v.reason, v.reason


def test_a_client_partition_gives_the_partner_no_allowance():
    """The peer link is up in a client-link cut: server2's lease updates are acknowledged, so its
    own clients are judged from the fault. Silent for 8 s from +1 s, then answering again: FAIL."""
    tl = load("kea-lb-client-partition")
    at, back = fault_t(tl) + 1.0, fault_t(tl) + 9.0
    gap = without(tl, lambda e: e.source == "clients" and at <= e.t < back and (
        e.kind == "recv" and e.get("server_id") == SERVER2 or e.kind == "bound" and e.get("server_id") == SERVER2))
    v = judged_anywhere_tl(gap, "kea-lb-client-partition")["partner-share-held"]
    assert v.status == FAIL and v.figure > 5, v.reason
    assert "judged from +" not in v.reason


@pytest.mark.parametrize("name", ["kea-hs-kill-primary", "kea-hs-failback", "kea-hs-peer-partition"])
def test_a_hot_standby_has_no_share_of_its_own(name):
    assert "partner-share-held" not in judged_anywhere(name)  # the drill does not judge it
    v = partner_share_held(load(name), Thresholds(max_takeover_s=15))
    assert v.status == NOT_JUDGED and "serves no client of its own" in v.reason


@pytest.mark.parametrize("name", ["isc-kill-primary-new-clients", "isc-failback-late-renewal", "isc-relayed-kill-primary"])
def test_dhcpd_serves_its_own_share_through_the_fault_and_silence_fails(name):
    v = judged_anywhere(name)["partner-share-held"]
    assert v.status == PASS and "judged from +" not in v.reason, v.reason
    secondary = next(ip for ip, role in load(name).first("lab").get("roles").items() if role == "secondary")
    silent = judged_anywhere_tl(_partner_silent_from(load(name), 1.0, secondary), name)["partner-share-held"]
    assert silent.status == FAIL, silent.reason


def test_no_client_of_the_partner_before_the_fault_is_unknown():
    tl = load("kea-lb-client-partition")
    alone = without(tl, lambda e: e.source == "clients" and e.kind == "bound" and e.t < fault_t(tl)
                    and e.get("server_id") == SERVER2)
    v = judged_anywhere_tl(alone, "kea-lb-client-partition")["partner-share-held"]
    assert v.status == UNKNOWN and "no client was bound to secondary" in v.reason


@pytest.mark.parametrize("drill", ["client-partition", "peer-partition", "kill-primary"])
def test_every_drill_that_judges_a_partners_share_records_the_limit_it_reads(drill):
    """A live client-partition judged partner-share-held UNKNOWN ("no service limit recorded"):
    only drills with service-held recorded the service gap before the lab started."""
    from dhcpdrill.drill import predictions
    from dhcpdrill.servers import adapter_for
    from .test_real_evidence import ROOT, SCENARIOS, load_pair
    pair = load_pair(ROOT / "fixtures" / "kea-load-balancing")
    said = predictions(pair, SCENARIOS[drill], adapter_for(pair).lab_plan(pair))
    assert [p["of"] for p in said if p["of"] == "service-gap"] == ["service-gap"]
