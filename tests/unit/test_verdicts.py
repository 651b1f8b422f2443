from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import (FAIL, NOT_JUDGED, PASS, UNKNOWN, Binding, Thresholds, client_bindings, conflicts,
                                continuity, duplicates, fault_effective, judge, reply_checksums,
                                state_transitions, steady_state, takeover, split_brain, client_outage,
                                failback_sync, continuity_after_heal, expected_warnings, new_lease_cap,
                                heal_to_normal, mclt_cap, partner_pool_after_mclt, client_waits)

from .timelines import FAULT_T, PRIMARY, SECONDARY, base, bound, healthy, mac, record

LIMITS = Thresholds(max_takeover_s=10, max_duplicates=0, min_continuity=1.0,
                    expect_states={"secondary": ("partner-down",)})


def test_healthy_run_passes_every_verdict():
    names = ("steady-state", "fault-effective", "takeover", "state-transitions", "duplicates", "continuity",
             "reply-checksums")
    verdicts = judge(healthy(), LIMITS, names)
    assert [v.status for v in verdicts] == [PASS] * len(names), verdicts


def test_takeover_is_fault_to_first_ack_from_the_survivor():
    v = takeover(healthy(), LIMITS)
    assert v.status == PASS and v.figure == 4.0 and v.threshold == "<= 10 s"


def test_takeover_over_threshold_fails_with_the_figure():
    v = takeover(healthy(), Thresholds(max_takeover_s=3.5))
    assert v.status == FAIL and v.figure == 4.0


def test_acks_from_the_killed_server_do_not_count_as_takeover():
    tl = base()
    bound(tl, FAULT_T + 1, 0, "198.18.0.100", PRIMARY)  # a reply still in flight from the primary
    v = takeover(tl, LIMITS)
    assert v.status == FAIL and "no takeover" in v.reason and "30 s" in v.reason
    assert "no client of primary got an ACK from a surviving server" in v.reason


def test_load_balancing_takeover_counts_only_clients_of_the_dead_server():
    tl = healthy()
    tl._events = [e for e in tl._events if not (e.kind in ("recv", "bound") and e.t > FAULT_T)]
    bound(tl, 50.0, 9, "198.18.0.160", SECONDARY, client="probe-09")   # the secondary's own client
    bound(tl, FAULT_T + 1, 9, "198.18.0.160", SECONDARY, client="probe-09")  # not a takeover
    bound(tl, FAULT_T + 7, 0, "198.18.0.100", SECONDARY)                     # the primary's client: takeover
    assert takeover(tl, LIMITS).figure == 7.0


def test_no_takeover_without_an_effective_fault_is_unknown_not_pass():
    assert takeover(base(fault=False), LIMITS).status == UNKNOWN
    assert takeover(base(verified=False), LIMITS).status == UNKNOWN


def test_fault_not_effective_fails_and_says_so():
    v = fault_effective(base(verified=False))
    assert v.status == FAIL and "fault not effective" in v.reason and "still running" in v.reason


def test_steady_state_fails_when_the_secondary_answers_a_healthy_pair():
    tl = healthy()
    bound(tl, 50.0, 7, "198.18.0.150", SECONDARY, client="probe-00")
    v = steady_state(tl)
    assert v.status == FAIL and "secondary" in v.reason


def test_steady_state_fails_when_clients_never_leased():
    tl = base(fault=False)
    tl._events = [e for e in tl._events if e.kind != "steady"]
    tl.add(40.0, "clients", "steady-failed", unbound=["steady-02"])
    v = steady_state(tl)
    assert v.status == FAIL and "steady-02" in v.reason


def test_split_brain_seen_by_clients_is_a_duplicate():
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09")  # steady-00 still holds .100
    v = duplicates(tl, LIMITS)
    assert v.status == FAIL and v.figure == 1 and "198.18.0.100" in v.reason


def test_conflicting_lease_databases_are_a_duplicate_even_if_no_client_noticed():
    tl = healthy()
    record(tl, "secondary", "198.18.0.120", mac(20), FAULT_T + 5, FAULT_T + 65)
    record(tl, "primary", "198.18.0.120", mac(21), FAULT_T - 5, FAULT_T - 1)  # ended before: fine
    assert duplicates(tl, LIMITS).status == PASS
    record(tl, "primary", "198.18.0.121", mac(22), FAULT_T - 10, FAULT_T + 50)
    record(tl, "secondary", "198.18.0.121", mac(23), FAULT_T - 5, FAULT_T + 55)
    v = duplicates(tl, LIMITS)
    assert v.status == FAIL and "198.18.0.121" in v.reason


def test_a_killed_servers_stale_file_is_not_a_duplicate_after_its_death():
    tl = healthy()
    # The primary never saw a release sent after it died; the secondary re-leased the address later.
    record(tl, "primary", "198.18.0.130", mac(30), FAULT_T - 2, FAULT_T + 58)
    record(tl, "secondary", "198.18.0.130", mac(31), FAULT_T + 20, FAULT_T + 80)
    assert duplicates(tl, LIMITS).status == PASS


def test_duplicates_allowed_up_to_the_pairs_threshold():
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09")
    assert duplicates(tl, Thresholds(max_takeover_s=10, max_duplicates=1)).status == PASS


def test_duplicates_without_any_lease_database_is_unknown():
    tl = base()
    assert duplicates(tl, LIMITS).status == UNKNOWN


def test_client_bindings_end_at_release_and_at_address_change():
    tl = base(fault=False)
    tl.add(20.0, "clients", "lease-lost", client="steady-00", mac=mac(0), ip="198.18.0.100", why="released")
    bound(tl, 30.0, 1, "198.18.0.140", PRIMARY)  # steady-01 moves from .101 to .140
    got = {(b.ip, b.holder): (b.start, b.end) for b in client_bindings(tl)}
    assert got[("198.18.0.100", mac(0))] == (10.0, 20.0)
    assert got[("198.18.0.101", mac(1))] == (11.0, 30.0)
    assert got[("198.18.0.140", mac(1))] == (30.0, 90.0)


def test_a_lease_that_expired_before_the_client_came_back_is_two_bindings():
    tl = base(fault=False)
    bound(tl, 200.0, 2, "198.18.0.102", PRIMARY)  # steady-02's first lease ran out at 132
    got = sorted((b.start, b.end) for b in client_bindings(tl) if b.holder == mac(2))
    assert got == [(12.0, 132.0), (200.0, 260.0)]


def test_continuity_needs_a_lease_held_at_the_fault():
    tl = base()
    tl._events = [e for e in tl._events if e.kind != "bound"]
    bound(tl, 10.0, 0, "198.18.0.100", PRIMARY, lease=60.0)  # expired at 70, fault at 100
    bound(tl, FAULT_T + 5, 0, "198.18.0.100", SECONDARY)
    assert continuity(tl, LIMITS).status == UNKNOWN


def test_lease_file_overlaps_within_their_one_second_resolution_are_only_possible():
    released = Binding("x", "m1", 0, 10.3, "clients")
    (within,) = conflicts([released, Binding("x", "m2", 10, 70, "primary", slack=1.0)])
    assert not within.definite and "may overlap" in within.describe(0.0, "after the fault")
    assert [c.definite for c in conflicts([released, Binding("x", "m2", 9, 70, "primary", slack=1.0)])] == [True]
    assert [c.definite for c in conflicts([released, Binding("x", "m2", 10.2, 70, "clients")])] == [True]
    assert conflicts([released, Binding("x", "m2", 11.4, 70, "primary", slack=1.0)]) == []


def test_conflicts_need_overlap_and_two_holders():
    a = Binding("x", "m1", 0, 10, "clients")
    assert conflicts([a, Binding("x", "m1", 5, 15, "primary")]) == []
    assert conflicts([a, Binding("x", "m2", 10, 20, "primary")]) == []
    assert len(conflicts([a, Binding("x", "m2", 9.5, 20, "clients")])) == 1


def test_continuity_counts_clients_that_kept_their_address():
    assert continuity(healthy(), LIMITS).figure == 100.0
    tl = base()
    bound(tl, FAULT_T + 5, 0, "198.18.0.100", SECONDARY)
    bound(tl, FAULT_T + 6, 1, "198.18.0.199", SECONDARY)  # moved
    v = continuity(tl, LIMITS)                             # steady-02: never confirmed
    assert v.status == FAIL and round(v.figure) == 33
    assert "steady-01 198.18.0.101 -> 198.18.0.199 at the end (moved)" in v.reason
    assert "unknown: steady-02 198.18.0.102: no server confirmed it" in v.reason
    assert continuity(tl, Thresholds(max_takeover_s=10, min_continuity=0.3)).status == PASS


def test_continuity_without_fault_is_unknown():
    assert continuity(base(fault=False), LIMITS).status == UNKNOWN


def test_bad_reply_checksums_fail():
    tl = healthy()
    tl.add(FAULT_T + 9, "clients", "recv", client="steady-00", msg="ACK", udp_checksum_ok=False)
    v = reply_checksums(tl)
    assert v.status == FAIL and v.figure == 1


def _states(tl, role, *path, t0=FAULT_T + 1):
    for i, to in enumerate(path):
        tl.add(t0 + i, role, "ha-state", **{"from": "x", "to": to, "partner": "y"})


def test_state_transitions_must_appear_in_order_after_the_fault():
    limits = Thresholds(max_takeover_s=10, expect_states={"secondary": ("partner-down", "hot-standby")})
    tl = healthy()
    _states(tl, "secondary", "hot-standby", t0=FAULT_T - 20)  # before the fault: does not count
    _states(tl, "secondary", "partner-down", "waiting", "hot-standby")
    _states(tl, "primary", "waiting")
    v = state_transitions(tl, limits)
    assert v.status == PASS and "primary: waiting" in v.reason
    tl2 = healthy()
    _states(tl2, "secondary", "hot-standby", "partner-down")  # wrong order
    v2 = state_transitions(tl2, limits)
    assert v2.status == FAIL and "secondary expected partner-down -> hot-standby" in v2.reason
    v3 = state_transitions(healthy(), Thresholds(max_takeover_s=10))
    assert v3.status == NOT_JUDGED and "secondary: partner-down" in v3.reason and not v3.decides


def _ready(tl, states):
    tl.add(5.0, "harness", "pair-ready", states=states)


def test_split_brain_is_the_time_both_servers_served_alone():
    tl = healthy()
    tl._events[0] = type(tl._events[0])(1.0, "harness", "lab", {**tl._events[0].data, "solo_states": ["partner-down"]})
    _ready(tl, {"primary": "hot-standby", "secondary": "hot-standby"})
    tl.add(FAULT_T + 10, "primary", "ha-state", **{"from": "hot-standby", "to": "partner-down"})
    tl.add(FAULT_T + 25, "primary", "ha-state", **{"from": "partner-down", "to": "waiting"})
    v = split_brain(tl)  # secondary partner-down from +3.9 until the end (+30): overlap +10..+25
    assert v.status == FAIL and v.figure == 15.0
    tl2 = healthy()
    tl2._events[0] = tl._events[0]
    _ready(tl2, {"primary": "hot-standby", "secondary": "hot-standby"})
    assert split_brain(tl2).status == PASS and split_brain(tl2).figure == 0.0
    assert split_brain(healthy()).status == UNKNOWN


def test_client_outage_is_the_longest_wait_of_any_client():
    v = client_outage(healthy(), Thresholds(max_takeover_s=10, max_outage_s=4.5))  # asked at +1, ACKed +4..+6
    assert v.status == FAIL and v.figure == 5.0 and "steady-02" in v.reason and "answered by secondary" in v.reason
    assert "longest stretch without any ACK: 24 s" in v.reason
    assert client_outage(healthy(), Thresholds(max_takeover_s=10, max_outage_s=5)).status == PASS
    v = client_outage(healthy(), LIMITS)  # no limit stated: measured, not judged
    assert v.status == NOT_JUDGED and v.figure == 5.0


def test_failback_sync_needs_every_outage_lease_on_the_returning_server():
    tl = healthy()
    tl.add(FAULT_T + 20, "harness", "fault-healed", fault="kill", target="primary", evidence="running", restored=True)
    record(tl, "secondary", "198.18.0.150", mac(50), FAULT_T + 8, FAULT_T + 68)
    record(tl, "secondary", "198.18.0.151", mac(51), FAULT_T + 9, FAULT_T + 69)
    record(tl, "primary", "198.18.0.150", mac(50), FAULT_T + 8, FAULT_T + 68)  # synced
    v = failback_sync(tl)
    assert v.status == FAIL and v.figure == 50.0 and "198.18.0.151" in v.reason
    record(tl, "primary", "198.18.0.151", mac(51), FAULT_T + 9, FAULT_T + 69)
    assert failback_sync(tl).status == PASS


def test_continuity_after_heal_is_anchored_at_the_heal():
    tl = healthy()
    tl.add(FAULT_T + 10, "harness", "fault-healed", fault="kill", target="primary", evidence="running", restored=True)
    assert continuity_after_heal(tl, LIMITS).status == UNKNOWN  # nobody renewed after the heal
    for i in range(3):
        bound(tl, FAULT_T + 20 + i, i, f"198.18.0.{100 + i}", PRIMARY)
    assert continuity_after_heal(tl, LIMITS).status == PASS


def test_expected_warnings_must_come_from_the_servers_after_the_fault():
    limits = Thresholds(max_takeover_s=10, expect_warnings=("HA_HIGH_CLOCK_SKEW",))
    tl = healthy()
    tl.add(FAULT_T - 5, "secondary", "ha-warning", line="WARN HA_HIGH_CLOCK_SKEW before the fault")
    assert expected_warnings(tl, limits).status == FAIL
    tl.add(FAULT_T + 2, "secondary", "ha-warning", line="WARN [kea] HA_HIGH_CLOCK_SKEW 35 s")
    v = expected_warnings(tl, limits)
    assert v.status == PASS and "from secondary" in v.reason


def test_in_a_sequence_of_faults_every_one_must_bite_and_the_last_one_is_decisive():
    tl = healthy()  # the kill at FAULT_T, ACK from the secondary at +4
    tl.add(FAULT_T - 30, "harness", "fault-applied", fault="clock-skew", target="primary")
    tl.add(FAULT_T - 29, "harness", "fault-verified", fault="clock-skew", target="primary", evidence="+65 s")
    assert fault_effective(tl).status == PASS
    assert takeover(tl, LIMITS).figure == 4.0  # measured from the kill, not from the skew
    tl.add(FAULT_T - 28, "harness", "fault-not-effective", fault="clock-skew", target="primary", evidence="+0 s")
    assert fault_effective(tl).status == FAIL


def test_an_empty_expected_state_list_means_no_change_allowed():
    limits = Thresholds(max_takeover_s=10, expect_states={"primary": (), "secondary": ()})
    tl = base()
    assert state_transitions(tl, limits).status == PASS
    _states(tl, "secondary", "terminated")
    v = state_transitions(tl, limits)
    assert v.status == FAIL and "secondary expected no change" in v.reason


def test_new_lease_cap_reads_leases_granted_to_brand_new_clients_after_the_fault():
    limits = Thresholds(max_takeover_s=10, max_new_lease_s=30)
    tl = healthy()
    assert new_lease_cap(tl, limits).status == UNKNOWN  # no new client after the fault
    bound(tl, FAULT_T + 8, 60, "198.18.0.160", SECONDARY, lease=30.0, client="fresh-000", role="fresh")
    assert new_lease_cap(tl, limits).status == PASS
    bound(tl, FAULT_T + 9, 62, "198.18.0.162", SECONDARY, lease=90.0, client="fresh-looking", role="probe")
    assert new_lease_cap(tl, limits).status == PASS  # the agent's word decides, not the name
    bound(tl, FAULT_T + 10, 61, "198.18.0.161", SECONDARY, lease=60.0, client="late", role="fresh")
    v = new_lease_cap(tl, limits)
    assert v.status == FAIL and v.figure == 60.0


def test_a_frozen_servers_stale_file_does_not_count_while_it_was_frozen_but_does_after():
    tl = healthy()
    tl._events = [e for e in tl._events if e.kind != "fault-applied"]
    tl.add(FAULT_T, "harness", "fault-applied", fault="freeze", target="primary", takes_down=True)
    tl.add(FAULT_T + 20, "harness", "fault-healed", fault="freeze", target="primary", evidence="thawed", restored=True)
    # released just after the freeze (the primary never saw it); the secondary re-leased it at +10
    record(tl, "primary", "198.18.0.130", mac(30), FAULT_T - 2, FAULT_T + 58)
    bound(tl, FAULT_T + 10, 31, "198.18.0.130", SECONDARY, lease=5.0, client="probe-31")
    assert duplicates(tl, LIMITS).status == PASS
    bound(tl, FAULT_T + 25, 32, "198.18.0.130", SECONDARY, lease=5.0, client="probe-32")  # after the thaw
    assert duplicates(tl, LIMITS).status == FAIL


def _isc(tl):
    """Mark a timeline as an ISC pair's: normal when ready, MCLT applies in
    communications-interrupted."""
    lab = tl.first("lab")
    lab.data.update(normal_state="normal", interrupted_states=["communications-interrupted"])
    tl.add(5.0, "harness", "pair-ready", states={"primary": "normal", "secondary": "normal"})
    for i in range(3):  # the primary's records of the steady clients' first leases (tsfp: partner's ack)
        tl.add(10.0 + i, "primary", "lease-grant", ip=f"198.18.0.{100 + i}", mac=mac(i), cltt=10.0 + i,
               ends=130.0 + i, tsfp=115.0 + i)
    return tl


def test_mclt_cap_holds_acks_in_communications_interrupted_to_the_partners_expiry_plus_mclt():
    limits = Thresholds(max_takeover_s=10, mclt_s=30)
    tl = _isc(base())
    _states(tl, "secondary", "communications-interrupted")  # at FAULT_T + 1
    # a renewal 40 s past the last lease end is fine when the partner acknowledged 20 s more
    bound(tl, FAULT_T + 5, 0, "198.18.0.100", SECONDARY, lease=60.0)
    tl.add(FAULT_T + 5, "secondary", "lease-grant", ip="198.18.0.100", mac=mac(0), cltt=FAULT_T + 5,
           ends=FAULT_T + 65, tsfp=FAULT_T + 40)
    v = mclt_cap(tl, limits)
    assert v.status == PASS and v.figure == 25.0
    # a new client: nothing acknowledged, so at most MCLT from now
    bound(tl, FAULT_T + 8, 40, "198.18.0.140", SECONDARY, lease=45.0, client="fresh-000")
    tl.add(FAULT_T + 8, "secondary", "lease-grant", ip="198.18.0.140", mac=mac(40), cltt=FAULT_T + 8,
           ends=FAULT_T + 53, tsfp=None)
    v = mclt_cap(tl, limits)
    assert v.status == FAIL and v.figure == 45.0 and "fresh-000" in v.reason


def test_mclt_cap_uses_the_record_in_force_and_wants_one_for_every_ack():
    limits = Thresholds(max_takeover_s=10, mclt_s=30)
    tl = _isc(base())
    _states(tl, "secondary", "communications-interrupted")
    tl.add(FAULT_T + 2, "secondary", "lease-grant", ip="198.18.0.100", mac=mac(0), cltt=FAULT_T + 2,
           ends=FAULT_T + 62, tsfp=FAULT_T + 40)
    bound(tl, FAULT_T + 12, 0, "198.18.0.100", SECONDARY, lease=50.0)  # capped renewal: no new record
    assert mclt_cap(tl, limits).status == PASS
    # the partner's own grant, re-confirmed unchanged: its end is known to both
    tl.add(FAULT_T - 3, "primary", "lease-grant", ip="198.18.0.101", mac=mac(1), cltt=FAULT_T - 3,
           ends=FAULT_T + 57, tsfp=FAULT_T + 40)
    bound(tl, FAULT_T + 14, 1, "198.18.0.101", SECONDARY, lease=43.0)
    assert mclt_cap(tl, limits).status == PASS
    bound(tl, FAULT_T + 15, 2, "198.18.0.120", SECONDARY, lease=30.0)
    v = mclt_cap(tl, limits)
    assert v.status == UNKNOWN and "no record" in v.reason
    normal = mclt_cap(_isc(base()), limits)  # judged in the normal state too: 120 s leases, partner acked +105
    assert normal.status == PASS and normal.figure == 15.0 and "3 in normal" in normal.reason


def _partner_down(tl, at):
    tl.add(at - 0.5, "secondary", "pool-owners", own=["198.18.0.150"], partner=["198.18.0.180", "198.18.0.181"])
    tl.add(at, "secondary", "ha-state", **{"from": "communications-interrupted", "to": "partner-down", "partner": ""})


def test_partner_pool_is_used_only_mclt_after_partner_down_and_then_used():
    limits = Thresholds(max_takeover_s=10, mclt_s=30)
    tl = base()
    _partner_down(tl, FAULT_T + 10)
    bound(tl, FAULT_T + 12, 50, "198.18.0.150", SECONDARY, lease=30.0, client="fresh-000")  # its own
    v = partner_pool_after_mclt(tl, limits)
    assert v.status == UNKNOWN and "did not drain" in v.reason
    bound(tl, FAULT_T + 41, 51, "198.18.0.180", SECONDARY, lease=30.0, client="fresh-001")
    v = partner_pool_after_mclt(tl, limits)
    assert v.status == PASS and v.figure == 31.0
    bound(tl, FAULT_T + 25, 52, "198.18.0.181", SECONDARY, lease=30.0, client="fresh-002")
    v = partner_pool_after_mclt(tl, limits)
    assert v.status == FAIL and "before MCLT" in v.reason and v.figure == 15.0


def test_partner_pool_verdict_wants_the_move_to_partner_down():
    tl = base()
    tl.add(FAULT_T + 9, "secondary", "pool-owners", own=[], partner=["198.18.0.180"])
    v = partner_pool_after_mclt(tl, Thresholds(max_takeover_s=10, mclt_s=30))
    assert v.status == FAIL and "never logged" in v.reason


def test_heal_to_normal_fails_when_the_pair_was_normal_again_while_the_fault_held():
    limits = Thresholds(max_takeover_s=10, max_heal_to_normal_s=15)
    tl = _isc(base())
    tl._events = [e for e in tl._events if e.kind != "observe-end"]
    for role in ("primary", "secondary"):
        tl.add(FAULT_T + 1, role, "ha-state", **{"from": "normal", "to": "communications-interrupted", "partner": ""})
    tl.add(FAULT_T + 30, "harness", "heal-started", fault="clock-skew", target="primary")
    tl.add(FAULT_T + 36, "harness", "fault-healed", fault="clock-skew", target="primary", restored=True)
    late = Timeline(list(tl._events))
    for role in ("primary", "secondary"):
        late.add(FAULT_T + 32, role, "ha-state", **{"from": "communications-interrupted", "to": "normal", "partner": ""})
        tl.add(FAULT_T + 12, role, "ha-state", **{"from": "communications-interrupted", "to": "normal", "partner": ""})
    late.add(FAULT_T + 40, "harness", "observe-end")
    tl.add(FAULT_T + 40, "harness", "observe-end")
    v = heal_to_normal(late, limits)
    assert v.status == PASS and v.figure == 2.0  # from the start of the heal, not its proof at +36
    v = heal_to_normal(tl, limits)
    assert v.status == FAIL and "before the heal" in v.reason
    for role in ("primary", "secondary"):  # out again, and back only after the heal: still a lapse
        tl.add(FAULT_T + 14, role, "ha-state", **{"from": "normal", "to": "communications-interrupted", "partner": ""})
        tl.add(FAULT_T + 31, role, "ha-state", **{"from": "communications-interrupted", "to": "normal", "partner": ""})
    v = heal_to_normal(tl, limits)
    assert v.status == FAIL and v.figure == -18.0


def test_a_derived_reading_is_worked_out_once_per_change_of_the_timeline():
    tl = Timeline()
    tl.add(1.0, "clients", "send", mac="m1", client="c1", msg="DISCOVER", xid=1)
    calls = []

    def count(t):
        calls.append(len(t))
        return len(t)

    assert tl.derived(count) == 1 and tl.derived(count) == 1 and calls == [1]
    tl.add(2.0, "clients", "bound", mac="m1", server_id="x")
    assert tl.derived(count) == 2 and calls == [1, 2]  # a new event is never judged on a stale reading
    waits = client_waits(tl)
    assert client_waits(tl) is waits and [(w.since, w.until) for w in waits] == [(1.0, 2.0)]


def test_fault_effective_says_how_long_applying_the_fault_took_when_it_was_recorded():
    # Figures are timed from the fault's recorded time, taken before the engine delivers it: over
    # a remote (ssh://) engine the delivery is no longer instant, and the auditor is told so.
    tl = base()
    proof = tl.first("fault-verified")
    tl.add(proof.t + 0.01, "harness", "fault-applied", fault="freeze", target="secondary", takes_down=True)
    tl.add(proof.t + 0.5, "harness", "fault-verified", fault="freeze", target="secondary", evidence="paused",
           apply_s=0.31)
    v = fault_effective(tl)
    assert v.status == PASS and v.reason.endswith("freeze: paused (applying it took 0.31 s from the fault's recorded time)")
    assert "took" not in v.reason.split(";")[0]  # older evidence, no figure: nothing invented
