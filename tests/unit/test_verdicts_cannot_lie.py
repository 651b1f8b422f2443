"""Timelines on which an earlier version of the verdicts came out green (or silent) although the
pair, the fault or the harness did something else. Each case states what it must say instead."""
from __future__ import annotations

from dhcpdrill.expectations import Thresholds
from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import (FAIL, NOT_JUDGED, PASS, UNKNOWN, anchor, client_bindings, client_outage, continuity,
                                duplicates, expected_warnings, heal_to_normal, mclt_cap, new_lease_cap)

from .timelines import FAULT_T, PRIMARY, SECONDARY, base, bound, healthy, lease_files_read, mac, record

LIMITS = Thresholds(max_takeover_s=15)


# -- outages are per client ----------------------------------------------------------------------
def test_the_survivors_own_clients_do_not_hide_the_dead_servers_clients():
    """Load-balancing: the secondary's own probe is ACKed every 2 s while the primary's client
    asks in vain for the whole window. The gap between any two ACKs is 2 s; the client waited 30."""
    tl = base()
    for k in range(16):
        bound(tl, FAULT_T + 2 * k, 40, f"198.18.0.{150 + k}", SECONDARY, lease=2.0, client="probe-own", role="probe")
    tl.add(FAULT_T + 0.5, "clients", "send", client="probe-orphan", mac=mac(41), msg="DISCOVER", state="SELECTING")
    tl.add(FAULT_T + 29, "clients", "send", client="probe-orphan", mac=mac(41), msg="DISCOVER", state="SELECTING")
    v = client_outage(tl, Thresholds(max_takeover_s=15, max_outage_s=5))
    assert v.status == FAIL and v.figure == 29.5
    assert "probe-orphan" in v.reason and "still unanswered when the window ended" in v.reason
    assert "longest stretch without any ACK: 2 s" in v.reason


def test_a_renewal_waits_from_its_first_request_and_names_the_server_it_was_using():
    tl = base()
    tl.add(FAULT_T + 1, "clients", "send", client="steady-00", mac=mac(0), msg="REQUEST", state="RENEWING")
    tl.add(FAULT_T + 9, "clients", "send", client="steady-00", mac=mac(0), msg="REQUEST", state="REBINDING")
    bound(tl, FAULT_T + 12, 0, "198.18.0.100", SECONDARY, asked=FAULT_T + 12)
    v = client_outage(tl, Thresholds(max_takeover_s=15, max_outage_s=20))
    assert v.status == PASS and v.figure == 11.0
    assert "steady-00 (last served by primary) waited 11 s for a renewal" in v.reason


def test_a_request_recorded_just_after_its_own_ack_starts_no_wait():
    """Seen in a load-balancing maintenance drill: the REQUEST was stamped after it left and sorted
    after the ACK that answered it (same xid), which read as a 20 s wait for a new lease."""
    tl = base()
    for kind, t, data in (("send", FAULT_T - 5.39, {"msg": "DISCOVER", "state": "SELECTING"}),
                          ("recv", FAULT_T - 5.37, {"msg": "ACK", "expected": True, "yiaddr": "198.18.0.150",
                                                     "server_id": PRIMARY, "lease_time": 60.0}),
                          ("bound", FAULT_T - 5.37, {"ip": "198.18.0.150", "server_id": PRIMARY, "lease_time": 60.0}),
                          ("send", FAULT_T - 5.369, {"msg": "REQUEST", "state": "REQUESTING"})):
        tl.add(t, "clients", kind, client="steady-07", mac=mac(7), xid=42, **data)
    bound(tl, FAULT_T + 4, 0, "198.18.0.100", SECONDARY, asked=FAULT_T + 1)
    v = client_outage(tl, Thresholds(max_takeover_s=15, max_outage_s=5))
    assert v.status == PASS and v.figure == 3.0 and "steady-07" not in v.reason


# -- bindings per (client, address) --------------------------------------------------------------
def test_a_new_address_survives_the_agents_late_record_of_the_old_one():
    """The old agent stamped ``lease-lost (changed)`` after the ``bound`` of the new address; the
    new binding was then closed at once and a second client on it went unseen."""
    tl = lease_files_read(base())
    bound(tl, FAULT_T + 5, 0, "198.18.0.150", SECONDARY)  # steady-00 moves from .100 to .150
    tl.add(FAULT_T + 5.02, "clients", "lease-lost", client="steady-00", mac=mac(0), ip="198.18.0.100", why="changed")
    held = {(b.ip, b.start, b.end) for b in client_bindings(tl) if b.holder == mac(0)}
    assert held == {("198.18.0.100", 10.0, FAULT_T + 5), ("198.18.0.150", FAULT_T + 5, FAULT_T + 65)}
    bound(tl, FAULT_T + 20, 9, "198.18.0.150", SECONDARY, client="probe-09", role="probe")
    v = duplicates(tl, LIMITS)
    assert v.status == FAIL and "198.18.0.150" in v.reason


# -- continuity: the same binding at the end, and unknown without evidence -----------------------
def test_keep_then_lose_is_not_continuity():
    """Rebind keeps .100, then the thawed primary NAKs it and the client moves to .150: the
    first bound after the fault says "kept", the end of the window says otherwise."""
    tl = healthy()
    tl.add(FAULT_T + 20, "clients", "lease-lost", client="steady-00", mac=mac(0), ip="198.18.0.100", why="nak")
    bound(tl, FAULT_T + 22, 0, "198.18.0.150", PRIMARY)
    v = continuity(tl, LIMITS)
    assert v.status == FAIL and round(v.figure) == 67
    assert "steady-00 198.18.0.100 -> 198.18.0.150 at the end (lost it (nak at +20.0 s))" in v.reason


def test_lost_and_regained_is_not_kept():
    tl = healthy()
    tl.add(FAULT_T + 20, "clients", "lease-lost", client="steady-01", mac=mac(1), ip="198.18.0.101", why="nak")
    bound(tl, FAULT_T + 22, 1, "198.18.0.101", SECONDARY)
    assert continuity(tl, LIMITS).status == FAIL


def test_no_renewal_in_the_window_is_unknown_not_a_failure():
    tl = Timeline([e for e in base()._events if e.kind != "observe-end"])
    tl.add(FAULT_T + 20, "harness", "observe-end")  # the 120 s leases outlive it; nobody asked anything
    v = continuity(tl, LIMITS)
    assert v.status == UNKNOWN and "0 of 3" in v.reason and "no server confirmed it" in v.reason
    bound(tl, FAULT_T + 5, 0, "198.18.0.199", SECONDARY)  # one moved: now it cannot reach 100 %
    assert continuity(tl, LIMITS).status == FAIL


def test_one_anchor_for_every_verdict():
    skew_then_kill = Timeline()
    skew_then_kill.add(10, "harness", "fault-applied", fault="clock-skew", target="primary", takes_down=False)
    skew_then_kill.add(30, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
    assert anchor(skew_then_kill).t == 30
    kill_then_declare = Timeline()
    kill_then_declare.add(10, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
    kill_then_declare.add(22, "harness", "fault-applied", fault="declare-partner-down", target="primary",
                          takes_down=False)
    assert anchor(kill_then_declare).t == 10  # partner-down is measured from the kill, not the declaration
    cut = Timeline()
    cut.add(10, "harness", "fault-applied", fault="peer-partition", target="primary", takes_down=False)
    assert anchor(cut).t == 10


def test_warnings_count_from_the_first_fault_of_a_sequence():
    tl = healthy()
    tl.add(FAULT_T - 20, "harness", "fault-applied", fault="clock-skew", target="primary", takes_down=False)
    tl.add(FAULT_T - 18, "primary", "ha-warning", line="HA_HIGH_CLOCK_SKEW_CAUSES_TERMINATION")
    v = expected_warnings(tl, Thresholds(max_takeover_s=15, expect_warnings=("HA_HIGH_CLOCK_SKEW",)))
    assert v.status == PASS


# -- lease files: missing evidence is unknown; slack only at file endpoints; skew shifted -----------
def test_an_unreadable_lease_file_makes_duplicates_unknown_with_the_reason():
    tl = base()
    tl.add(FAULT_T + 31, "primary", "lease-file", path="/var/lib/kea/kea-leases4.csv", read=True, bytes=10)
    tl.add(FAULT_T + 31, "secondary", "lease-file", path="/var/lib/kea/kea-leases4.csv", read=False,
           error="/var/lib/kea/kea-leases4.csv does not exist in dhcpdrill-x-secondary")
    v = duplicates(tl, LIMITS)
    assert v.status == UNKNOWN and "secondary's lease file" in v.reason and "does not exist" in v.reason
    assert duplicates(base(), LIMITS).reason == ("primary's lease file was never collected; "
                                                 "secondary's lease file was never collected")


def test_an_overlap_only_inside_the_files_resolution_is_possible_not_counted():
    tl = healthy()
    bound(tl, 50.0, 9, "198.18.0.120", SECONDARY, lease=120.0, client="probe-09", role="probe")
    tl.add(FAULT_T + 10.4, "clients", "lease-lost", client="probe-09", mac=mac(9), ip="198.18.0.120", why="released")
    record(tl, "secondary", "198.18.0.120", mac(7), FAULT_T + 10, FAULT_T + 70)  # granted "at" 110 (whole second)
    v = duplicates(tl, LIMITS)
    assert v.status == PASS and v.figure == 0 and "1 possible overlap(s)" in v.reason
    record(tl, "secondary", "198.18.0.101", mac(8), FAULT_T + 10, FAULT_T + 70)  # .101 is still held: definite
    v = duplicates(tl, LIMITS)
    assert v.status == FAIL and v.figure == 1 and "198.18.0.101" in v.reason


def test_a_skewed_servers_lease_times_are_shifted_back_by_its_verified_offset():
    tl = lease_files_read(base(fault=False))
    tl.add(50.0, "primary", "clock-set", offset=65)
    tl.add(55.0, "primary", "clock-offset", offset=65.0)
    record(tl, "secondary", "198.18.0.130", mac(31), 100.0, 160.0)
    record(tl, "primary", "198.18.0.130", mac(30), 170.0, 230.0)  # the primary's clock: host 105..165
    v = duplicates(tl, LIMITS)
    assert v.status == FAIL and "198.18.0.130" in v.reason  # unshifted, 170..230 would miss 100..160
    unverified = lease_files_read(base(fault=False))
    unverified.add(50.0, "primary", "clock-set", offset=65)
    record(unverified, "primary", "198.18.0.130", mac(30), 170.0, 230.0)
    v = duplicates(unverified, LIMITS)
    assert v.status == UNKNOWN and "never reported the offset" in v.reason


# -- MCLT in every state ---------------------------------------------------------------------------
def test_mclt_cap_holds_in_the_normal_state_too():
    tl = base()
    tl.first("lab").data.update(normal_state="normal", interrupted_states=["communications-interrupted"])
    tl.add(5.0, "harness", "pair-ready", states={"primary": "normal", "secondary": "normal"})
    for i in range(3):  # the partner acknowledged only 20 s of each 120 s lease: 100 s beyond, MCLT 30
        tl.add(10.0 + i, "primary", "lease-grant", ip=f"198.18.0.{100 + i}", mac=mac(i), cltt=10.0 + i,
               ends=130.0 + i, tsfp=30.0 + i)
    v = mclt_cap(tl, Thresholds(max_takeover_s=15, mclt_s=30))
    assert v.status == FAIL and v.figure == 100.0 and "primary (normal) gave steady-00" in v.reason
    assert mclt_cap(tl, LIMITS).status == NOT_JUDGED


# -- heal-to-normal needs a departure from normal ----------------------------------------------------
def test_heal_to_normal_is_unknown_when_the_pair_never_left_normal():
    tl = base()
    tl.first("lab").data.update(normal_state="normal")
    tl.add(5.0, "harness", "pair-ready", states={"primary": "normal", "secondary": "normal"})
    tl.add(FAULT_T + 20, "harness", "heal-started", fault="kill", target="primary")
    tl.add(FAULT_T + 21, "harness", "fault-healed", fault="kill", target="primary", restored=True)
    v = heal_to_normal(tl, Thresholds(max_takeover_s=15, max_heal_to_normal_s=10))
    assert v.status == UNKNOWN and "neither server left normal" in v.reason


# -- not asked: shown, not judged ------------------------------------------------------------------
def test_a_verdict_without_its_key_is_not_judged_but_keeps_its_measurement():
    tl = healthy()
    bound(tl, FAULT_T + 8, 60, "198.18.0.160", SECONDARY, lease=30.0, client="fresh-000", role="fresh")
    v = new_lease_cap(tl, LIMITS)
    assert v.status == NOT_JUDGED and v.figure == 30.0 and not v.decides
    assert "not judged: the pair states no max_new_lease_s" in v.reason


def test_a_drill_that_stopped_before_its_window_ended_has_seen_no_takeover_yet():
    from dhcpdrill.verdicts import takeover
    tl = Timeline([e for e in base()._events if e.kind != "observe-end"])
    v = takeover(tl, LIMITS)
    assert v.status == UNKNOWN and "never ended" in v.reason
    assert takeover(base(), LIMITS).status == FAIL  # the whole window observed: no takeover is a finding


def test_a_server_killed_for_good_has_no_failback_to_judge():
    from dhcpdrill.verdicts import continuity_after_heal, failback_sync
    tl = healthy()
    tl.add(FAULT_T + 20, "harness", "fault-healed", fault="kill", target="primary", evidence="nothing to undo",
           restored=False)
    record(tl, "secondary", "198.18.0.150", mac(50), FAULT_T + 8, FAULT_T + 68)
    assert failback_sync(tl).status == UNKNOWN  # not FAIL: the primary never came back to know anything
    assert continuity_after_heal(tl, LIMITS).status == UNKNOWN


# -- found by the mutation run: paths no other case reached -----------------------------------------
def test_a_deletion_row_bounded_only_from_above_gives_a_possible_overlap_not_a_definite_one():
    from dhcpdrill.verdicts import Binding, conflicts, server_bindings
    tl = lease_files_read(base(fault=False))
    tl.add(50.0, "primary", "lease-record", ip="198.18.0.170", mac=mac(70), start=50.0, end=50.0, end_late=110.0)
    (b,) = [b for b in server_bindings(tl) if b.ip == "198.18.0.170"]
    assert (b.end, b.latest_end, b.slack) == (50.0, 110.0, 1.0)
    later = Binding("198.18.0.170", mac(71), 80.0, 140.0, "clients")
    (c,) = conflicts([b, later])
    assert not c.definite and "from +80.0 s to +110.0 s after the fault" in c.describe(0.0, "after the fault")
    assert conflicts([b, Binding("198.18.0.170", mac(71), 111.5, 140.0, "clients")]) == []


def test_a_server_killed_after_a_clock_skew_still_asserts_nothing_once_dead():
    """skew-then-kill: the first fault takes nobody down, the second does; records of the dead
    primary after the kill must not count."""
    tl = lease_files_read(base(fault=False))
    tl.add(60.0, "harness", "fault-applied", fault="clock-skew", target="primary", takes_down=False)
    tl.add(FAULT_T, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
    record(tl, "primary", "198.18.0.130", mac(30), FAULT_T - 2, FAULT_T + 58)  # a release it never saw
    record(tl, "secondary", "198.18.0.130", mac(31), FAULT_T + 20, FAULT_T + 80)
    assert duplicates(tl, LIMITS).status == PASS


def test_a_record_written_just_after_the_clock_moved_is_shifted_by_the_new_offset():
    from dhcpdrill.verdicts import server_bindings
    tl = lease_files_read(base(fault=False))
    tl.add(50.0, "primary", "clock-set", offset=65)
    tl.add(52.0, "primary", "clock-offset", offset=65.0)
    record(tl, "primary", "198.18.0.131", mac(32), 116.0, 176.0)  # server time 116 = host 51: after the set
    record(tl, "primary", "198.18.0.132", mac(33), 40.0, 100.0)   # before the set: host time as written
    got = {b.ip: (b.start, b.end) for b in server_bindings(tl) if b.seen_by == "primary"}
    assert got["198.18.0.131"] == (51.0, 111.0) and got["198.18.0.132"] == (40.0, 100.0)


def test_no_takeover_to_measure_when_the_target_served_nobody_before():
    from dhcpdrill.verdicts import takeover
    tl = base()
    tl.first("fault-applied").data["target"] = "secondary"  # hot-standby: the standby served nobody
    v = takeover(tl, LIMITS)
    assert v.status == UNKNOWN and v.reason == "no client was served by secondary before the fault"
    assert (v.unit, v.threshold) == ("s", "<= 15 s")


def test_a_record_granted_before_the_clock_moved_keeps_its_own_clock_for_its_expiry():
    """Found by a live load-balancing 35 s skew: a lease granted before the skew, expiring after
    it, had only its expiry shifted; the shortened record looked like 37 duplicates."""
    from dhcpdrill.verdicts import server_bindings
    tl = lease_files_read(base(fault=False))
    tl.add(50.0, "primary", "clock-set", offset=35)
    tl.add(52.0, "primary", "clock-offset", offset=35.0)
    record(tl, "primary", "198.18.0.133", mac(34), 40.0, 100.0)   # granted at 40 (unskewed), ends at 100
    record(tl, "primary", "198.18.0.134", mac(35), 95.0, 155.0)   # granted at host 60 with the clock +35
    got = {b.ip: (b.start, b.end) for b in server_bindings(tl)}
    assert got["198.18.0.133"] == (40.0, 100.0) and got["198.18.0.134"] == (60.0, 120.0)
