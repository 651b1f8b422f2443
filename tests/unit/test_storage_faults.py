"""Storage faults: the NAK verdict, cutting a lease file's tail, and mending rows a full disk tore."""
from __future__ import annotations

import pytest

from dhcpdrill.expectations import Thresholds
from dhcpdrill.servers.kea import parse_memfile
from dhcpdrill.storage import drop_tail, records
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, naks

from .timelines import FAULT_T, PRIMARY, SECONDARY, base, bound, mac

LIMIT = Thresholds(max_takeover_s=15)


def nak(tl, t: float, i: int, state: str, server: str = PRIMARY, client: str | None = None) -> None:
    """Client ``i`` asks (a REQUEST in ``state``) and is refused at ``t``."""
    name = client or f"steady-{i:02d}"
    xid = round(t * 1000) * 256 + i
    tl.add(t - 0.01, "clients", "send", client=name, mac=mac(i), msg="REQUEST", state=state, xid=xid)
    tl.add(t, "clients", "recv", client=name, mac=mac(i), msg="NAK", expected=True, server_id=server, xid=xid,
           state=state, yiaddr="0.0.0.0")
    if state != "REQUESTING":
        held = next(e.get("ip") for e in reversed(tl.of("bound")) if e.get("mac") == mac(i))
        tl.add(t, "clients", "lease-lost", client=name, mac=mac(i), ip=held, why="nak")


def answered() -> object:
    """Every steady client renews once after the fault and is ACKed."""
    tl = base()
    for i in range(3):
        bound(tl, FAULT_T + 5 + i, i, f"198.18.0.{100 + i}", PRIMARY, lease=120.0)
    return tl


def test_no_nak_passes_with_the_requests_counted():
    v = naks(answered(), LIMIT)
    assert v.status == PASS and v.figure == 0 and "no client refused in 3 REQUESTs" in v.reason


def test_a_renewal_refused_by_the_server_that_granted_it_fails():
    tl = answered()
    nak(tl, FAULT_T + 12, 1, "RENEWING")
    v = naks(tl, LIMIT)
    assert v.status == FAIL and v.figure == 1
    assert "1 renewal NAK(s) from primary" in v.reason and "steady-01" in v.reason and "198.18.0.101" in v.reason


def test_the_figure_counts_clients_not_naks_and_a_limit_allows_them():
    tl = answered()
    for k in range(5):
        nak(tl, FAULT_T + 10 + k, 7, "REQUESTING", client="probe-00")
    nak(tl, FAULT_T + 20, 2, "REBINDING", server=SECONDARY)
    v = naks(tl, LIMIT)
    assert v.status == FAIL and v.figure == 2 and "refused 6 time(s)" in v.reason
    assert "5 new lease NAK(s) from primary" in v.reason and "1 rebind NAK(s) from secondary" in v.reason
    assert naks(tl, Thresholds(max_takeover_s=15, max_naks=2)).status == PASS


def test_a_nak_of_an_address_another_client_holds_is_a_conflict_resolved_not_counted():
    tl = answered()
    bound(tl, FAULT_T + 9, 5, "198.18.0.101", SECONDARY, lease=120.0, client="steady-05")  # split brain
    nak(tl, FAULT_T + 12, 1, "RENEWING")
    v = naks(tl, LIMIT)
    assert v.status == PASS and v.figure == 0
    assert "198.18.0.101 (steady-01, held by " + mac(5) + ")" in v.reason


def test_naks_before_the_fault_are_not_judged_and_after_the_heal_are_told_apart():
    tl = answered()
    nak(tl, FAULT_T - 20, 0, "RENEWING")
    bound(tl, FAULT_T - 19, 0, "198.18.0.100", PRIMARY, lease=120.0)
    nak(tl, FAULT_T + 12, 1, "RENEWING")
    tl.add(FAULT_T + 15, "harness", "fault-healed", fault="storage-full", target="primary", restored=True)
    v = naks(tl, LIMIT)
    assert v.figure == 1 and "none after the heal (+15.0 s)" in v.reason
    nak(tl, FAULT_T + 18, 2, "RENEWING")
    assert "1 after the heal (+15.0 s), the last +3.0 s after it" in naks(tl, LIMIT).reason


@pytest.mark.parametrize("broken", ["no fault", "no end", "nobody asked"])
def test_without_a_fault_a_window_or_a_request_it_is_unknown(broken):
    tl = base(fault=broken != "no fault") if broken != "nobody asked" else base()
    if broken == "no end":
        tl = base()
        tl._events = [e for e in tl._events if e.kind != "observe-end"]
        tl._sorted = None
    assert naks(tl, LIMIT).status == UNKNOWN


KEA = ("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
       "198.18.0.100,02:10:ff:00:00:00,,60,1000,1,0,0,,0,\n"
       "198.18.0.101,02:10:ff:00:00:01,,60,1001,1,0,0,,0,\n"
       "198.18.0.102,02:10:ff:00:00:02,,60,1002,1,0,0,,0,\n")
ISC = ("# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
       "lease 198.18.0.100 {\n  starts 1 2026/12/07 11:00:00;\n  ends 1 2026/12/07 11:01:00;\n"
       "  binding state active;\n  hardware ethernet 02:10:ff:00:00:00;\n}\n"
       'failover peer "dhcp" state {\n  my state normal at 1 2026/12/07 11:00:00;\n}\n'
       "lease 198.18.0.101 {\n  starts 1 2026/12/07 11:00:01;\n  ends 1 2026/12/07 11:01:01;\n"
       "  binding state active;\n  hardware ethernet 02:10:ff:00:00:01;\n}\n")


def test_cutting_a_memfiles_tail_keeps_the_header_and_names_the_rows_removed():
    after, removed = drop_tail(KEA, "csv", 2)
    assert after == KEA.split("198.18.0.101")[0]
    assert [(r["ip"], r["mac"], r["expire"]) for r in removed] == [("198.18.0.101", "02:10:ff:00:00:01", "1001"),
                                                                    ("198.18.0.102", "02:10:ff:00:00:02", "1002")]
    assert len(records(after, "csv")) == 1


def test_cutting_dhcpd_stanzas_keeps_the_failover_state_between_them():
    after, removed = drop_tail(ISC, "leases", 1)
    assert [(r["ip"], r["state"]) for r in removed] == [("198.18.0.101", "active")]
    assert 'failover peer "dhcp" state' in after and "lease 198.18.0.100 {" in after and "198.18.0.101" not in after
    assert drop_tail(ISC, "leases", 0) == (ISC, [])


def test_a_cut_reaching_back_in_time_takes_every_record_from_the_first_begun_since():
    """dhcpd ``starts`` (UTC) and Kea's expire less lifetime date a record's binding; the cut is a
    tail, so it also takes an older binding written after that first record."""
    at = 1796641200.0  # 2026/12/07 11:00:00 UTC
    assert [r["began"] for _, _, r in records(ISC, "leases")] == [at, at + 1]
    assert drop_tail(ISC, "leases", 0, since=at + 0.5)[1] == [records(ISC, "leases")[1][2]]
    assert len(drop_tail(ISC, "leases", 1, since=at)[1]) == 2  # the time reaches further back than the count
    assert len(drop_tail(ISC, "leases", 2, since=at + 5)[1]) == 2  # the count reaches further back than the time
    assert len(drop_tail(ISC, "leases", 40, since=at + 5)[1]) == 2  # a shorter file is cut whole
    assert len(drop_tail(KEA, "csv", 40, since=2000.0)[1]) == 3
    assert [r["began"] for _, _, r in records(KEA, "csv")] == [940.0, 941.0, 942.0]
    late = KEA + "198.18.0.100,02:10:ff:00:00:00,,0,945,1,0,0,,0,\n"  # released after .101 and .102 began
    assert [r["ip"] for r in drop_tail(late, "csv", 0, since=941.0)[1]] == ["198.18.0.101", "198.18.0.102",
                                                                             "198.18.0.100"]


def test_an_unknown_lease_file_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="no record format .* 'json'"):
        records("", "json")


def test_a_row_torn_by_a_full_disk_is_mended_and_reported_not_left_unread():
    """As Kea 2.2 left it (storage-full drill, 2026-12-07): the row that met the full disk stopped
    after its expire, and the row written once space returned went on from there."""
    torn = KEA + "198.18.0.133,02:20:ff:00:00:00,,60,1796642990198.18.0.133,02:20:ff:00:00:00,,60,1796642990,1,0,0,,0,\n"
    report: dict = {}
    found = parse_memfile(torn, report)
    assert report["unread"] == [] and report["rows"] == 4
    assert report["torn"] == [{"row": 5, "text": "198.18.0.133,02:20:ff:00:00:00,,60,1796642990",
                               "why": "a row cut short (its write failed), the next row written on after it"}]
    assert {r["ip"]: (r["mac"], r["end"]) for r in found}["198.18.0.133"] == ("02:20:ff:00:00:00", 1796642990)


def test_a_row_with_too_many_fields_that_is_no_torn_row_stays_unread():
    report: dict = {}
    parse_memfile(KEA + "198.18.0.140,02:20:ff:00:00:00,,60,1000,1,0,0,,0,,extra\n", report)
    assert report["unread"][0]["why"] == "too many fields" and "torn" not in report


# -- the recorded drill: Kea 2.2 hot-standby, storage full (2026-12-07) -----------------------------
PRIMARY_OF_RECORDING = "198.18.0.11"


def recorded():
    from .test_real_evidence import load
    return load("kea-hs-storage-full")


def test_recorded_storage_full_fails_as_the_pairs_known_hazard_says():
    """Every client NAKed by the primary, nobody taking over: the hazard, within its bounds."""
    from .test_real_evidence import judged
    v = judged(recorded(), "storage-full")
    assert v["outcome"].status == "expected-failure", v["outcome"].reasons
    assert v["naks"].status == FAIL and v["naks"].figure == 9
    assert "renewal NAK(s) from primary" in v["naks"].reason and "none after the heal" in v["naks"].reason
    assert v["state-transitions"].status == FAIL and "secondary: no change" in v["state-transitions"].reason
    assert v["client-outage"].status == FAIL and 40 < v["client-outage"].figure <= 45
    assert v["fault-effective"].status == PASS and "ALLOC_ENGINE_V4_ALLOC_ERROR" in v["fault-effective"].reason
    assert v["duplicates"].status == PASS


def test_without_the_naks_the_recording_passes_naks_and_the_hazard_no_longer_holds():
    """The mutation: every NAK (and the lease it cost) taken out. naks passes, and the drill is a
    real FAIL: the known hazard says naks fails, so an unexpected pass is reported."""
    from .test_real_evidence import judged, without
    tl = without(recorded(), lambda e: e.source == "clients" and (
        (e.kind == "recv" and e.get("msg") == "NAK") or (e.kind == "lease-lost" and e.get("why") == "nak")))
    v = judged(tl, "storage-full")
    assert v["naks"].status == PASS and v["naks"].figure == 0
    assert v["outcome"].status == "fail"
    assert any(r.startswith("naks: passed, unexpectedly") for r in v["outcome"].reasons)


def test_one_more_client_refused_is_beyond_the_hazards_bound_and_a_real_fail():
    """The bound mutation: a tenth client (never seen) refused 10 s into the fault. The hazard
    excuses at most 9 clients refused, so the drill is a real FAIL naming naks and its bound (the
    client is served 30 s later, inside the outage the hazard allows, and the primary's file
    records it)."""
    from dhcpdrill.timeline import Event
    from .test_real_evidence import fault_t, judged, with_events
    tl = recorded()
    t, who = fault_t(tl) + 10, {"client": "probe-99", "mac": "02:20:ff:00:00:99"}
    free = "198.18.0.250"  # the pool's 100 addresses all passed through the NAK storm
    assert free not in {e.get("ip") for e in tl.of("bound", "lease-record")}
    v = judged(with_events(tl, Event(0.5 + tl.events[0].t, "clients", "client", {**who, "role": "probe"}),
                           Event(t - 0.01, "clients", "send", {**who, "msg": "REQUEST", "state": "REQUESTING", "xid": 7}),
                           Event(t, "clients", "recv", {**who, "msg": "NAK", "expected": True, "xid": 7,
                                                        "server_id": PRIMARY_OF_RECORDING, "state": "REQUESTING"}),
                           Event(t + 30, "clients", "recv", {**who, "msg": "ACK", "expected": True, "xid": 8,
                                                             "yiaddr": free, "server_id": PRIMARY_OF_RECORDING,
                                                             "udp_checksum_ok": True, "lease_time": 60}),
                           Event(t + 30, "clients", "bound", {**who, "ip": free, "lease_time": 60,
                                                              "server_id": PRIMARY_OF_RECORDING}),
                           Event(t + 30, "primary", "lease-record", {"ip": free, "mac": who["mac"], "start": t + 30,
                                                                     "end": t + 90})),
               "storage-full")
    assert v["naks"].status == FAIL and v["naks"].figure == 10
    assert v["outcome"].status == "fail"
    assert [r.split(":")[0] for r in v["outcome"].reasons] == ["naks"]
    assert "10 is beyond the known hazard's bound <= 9" in v["outcome"].reasons[0]


# -- tail-relearned --------------------------------------------------------------------------------
def cut_tail(known: bool, live: bool = True, released_after: float | None = None) -> object:
    """The primary killed at the fault, 20 records cut, started again at +25 s; steady-01's lease
    (198.18.0.101, ACKed at 11 s for 120 s) was the newest record cut. ``known``: the primary's
    final file binds it past the restart (its partner synced it back). ``released_after``: the
    client released it that many seconds after the restart."""
    from .timelines import lease_files_read, record
    tl = base()
    heal = FAULT_T + 25
    tl.add(heal - 0.5, "primary", "lease-file-truncated", path="/var/lib/kea/kea-leases4.csv", records_before=40,
           records_after=20, removed=[
               {"ip": "198.18.0.101", "mac": mac(1), "valid_lifetime": "120" if live else "0", "expire": "131",
                "state": "0"},
               {"ip": "198.18.0.150", "mac": mac(9), "valid_lifetime": "0", "expire": "90", "state": "0"}])
    tl.add(heal, "harness", "fault-healed", fault="kill-truncate-restart", target="primary", restored=True)
    if released_after is not None:
        tl.add(heal + released_after, "clients", "lease-lost", client="steady-01", mac=mac(1), ip="198.18.0.101",
               why="released")
    record(tl, "primary", "198.18.0.100", mac(0), 10.0, 130.0)
    if known:
        record(tl, "primary", "198.18.0.101", mac(1), 11.0, 131.0)
    record(tl, "secondary", "198.18.0.101", mac(1), 11.0, 131.0)
    return lease_files_read(tl)


def test_a_returning_server_that_knows_the_cut_lease_passes():
    from dhcpdrill.verdicts import tail_relearned
    v = tail_relearned(cut_tail(known=True))
    assert v.status == PASS and v.figure == 100.0
    assert "1 of them were leases live at the crash that clients still held at the restart and 5 s after, of which " \
           "primary knows 1" in v.reason


def test_a_returning_server_that_lost_a_held_lease_fails_naming_it():
    from dhcpdrill.verdicts import tail_relearned
    v = tail_relearned(cut_tail(known=False))
    assert v.status == FAIL and v.figure == 0.0 and f"unknown to it: 198.18.0.101 ({mac(1)})" in v.reason


def test_a_lease_its_client_gave_up_soon_after_the_restart_is_named_not_asked_for():
    """CI stop 34: a probe held a cut lease at the restart and released it 2 s later; the partner's
    update carried only the release. Nothing was left to relearn: UNKNOWN, the lease named. Held
    6 s after the restart and still unknown, the same lease fails the drill."""
    from dhcpdrill.verdicts import tail_relearned
    v = tail_relearned(cut_tail(known=False, released_after=2.0))
    assert v.status == UNKNOWN and "nothing to relearn" in v.reason
    assert f"given up by their clients within 5 s of it, before the partner's update was due, not counted: " \
           f"198.18.0.101 ({mac(1)})" in v.reason
    late = tail_relearned(cut_tail(known=False, released_after=6.0))
    assert late.status == FAIL and f"unknown to it: 198.18.0.101 ({mac(1)})" in late.reason


def test_a_cut_of_released_leases_only_leaves_nothing_to_relearn_unknown():
    from dhcpdrill.verdicts import tail_relearned
    v = tail_relearned(cut_tail(known=False, live=False))
    assert v.status == UNKNOWN and "nothing to relearn" in v.reason


def test_without_a_cut_or_a_restart_it_is_unknown():
    from dhcpdrill.verdicts import tail_relearned
    from .test_real_evidence import without
    tl = cut_tail(known=True)
    assert tail_relearned(without(tl, lambda e: e.kind == "lease-file-truncated")).status == UNKNOWN
    assert "not started again" in tail_relearned(without(tl, lambda e: e.kind == "fault-healed")).reason


def test_a_dhcpd_stanzas_end_is_read_in_utc_and_in_epoch_form():
    from dhcpdrill.verdicts import _record_end
    assert _record_end({"ip": "x", "state": "active", "ends": "1 2026/12/07 11:39:44"}) == 1796643584.0
    assert _record_end({"ip": "x", "state": "active", "ends": "epoch 1796643584"}) == 1796643584.0
    assert _record_end({"ip": "x", "state": "free", "ends": "1 2026/12/07 11:39:44"}) is None


# -- the faults' proofs, with stand-ins (no Docker) ------------------------------------------------
class Disk:
    """A container whose lease directory is full or not, and a lab that reads its log and files."""

    def __init__(self, full: bool, log: list[tuple[float, str]], running: bool = True) -> None:
        self.full, self.log, self.files, self.started = full, log, {}, False
        self.attrs = {"State": {"Running": running, "Status": "running" if running else "exited",
                                "StartedAt": "2026-12-07T12:00:00Z"}}

    def reload(self) -> None:
        pass

    def exec_run(self, cmd):
        if cmd[0] == "df":
            used = "2048 0 100%" if self.full else "12 2036 1%"
            return 0, f"Filesystem 1K-blocks Used Available Use% Mounted on\ntmpfs 2048 {used} {cmd[-1]}\n".encode()
        if "bs=4096 count=1" in cmd[2]:
            return (1, b"dd: error writing '/var/lib/kea/.dhcpdrill-probe': No space left on device\n") if self.full \
                else (0, b"1+0 records in\n")
        return 0, b""

    def start(self) -> None:
        self.started = True


def storage_ctx(disk: Disk):
    from types import SimpleNamespace
    from dhcpdrill.faults import FaultContext
    from dhcpdrill.timeline import Timeline
    adapter = SimpleNamespace(lease_path=lambda pair, role: "/var/lib/kea/kea-leases4.csv", lease_suffix="csv",
                              ha_state=lambda lab, pair, role: "waiting")

    def read_file(container, path):
        return container.files[path]
    lab = SimpleNamespace(containers={"primary": disk}, log_lines=lambda c: c.log, read_file=read_file)
    tl = Timeline()
    tl.add(1000.0, "harness", "fault-applied", fault="storage-full", target="primary")
    return FaultContext(lab, None, adapter, None, tl)


def test_a_full_disk_is_proven_only_once_the_daemon_itself_says_a_lease_write_failed():
    from dhcpdrill.storage import FillLeaseStorage
    fault = FillLeaseStorage(log_wait_s=0.0)
    said = "ERROR ALLOC_ENGINE_V4_ALLOC_ERROR [hwtype=1 02:20:ff:00:00:00]: failed to write CSV row '198.18.0.133,...'"
    ok, why = fault.verify(storage_ctx(Disk(True, [(999.0, said), (1001.0, "INFO DHCP4_LEASE_ALLOC")])))
    assert not ok and "logged no failed lease write" in why and "No space left on device" in why
    c = storage_ctx(Disk(True, [(1015.8, said)]))
    ok, why = fault.verify(c)
    assert ok and "ALLOC_ENGINE_V4_ALLOC_ERROR" in why and "tmpfs 2048 2048 0 100%" in why
    assert [e.get("state") for e in c.timeline.of("storage")] == ["write-failed"]
    ok, why = fault.verify(storage_ctx(Disk(False, [(1015.8, said)])))
    assert not ok and "is not full" in why


def test_a_freed_disk_is_healed_when_a_write_succeeds_again():
    from dhcpdrill.storage import FillLeaseStorage
    assert FillLeaseStorage().verify_healed(storage_ctx(Disk(False, [])))[0]
    assert not FillLeaseStorage().verify_healed(storage_ctx(Disk(True, [])))[0]


def test_the_cut_is_proven_from_the_file_read_back_before_the_restart(monkeypatch):
    from dhcpdrill import lab as labmod
    from dhcpdrill.storage import TruncateLeaseTail
    disk = Disk(False, [], running=False)
    disk.files["/var/lib/kea/kea-leases4.csv"] = KEA
    monkeypatch.setattr(labmod, "put_files", lambda c, files: c.files.update({p: d.decode() for p, d in files.items()}))
    fault, c = TruncateLeaseTail(records=2, restart_wait_s=0.1), storage_ctx(disk)
    fault.heal(c)
    cut = c.timeline.first("lease-file-truncated")
    assert disk.started and cut.get("records_before") == 3 and cut.get("records_after") == 1
    assert [r["ip"] for r in cut.get("removed")] == ["198.18.0.101", "198.18.0.102"] and cut.get("read_back_matches")
    disk.attrs["State"]["Running"] = True
    ok, why = fault.verify_healed(c)
    assert ok and "3 records before, 1 read back after cutting the last 2 (198.18.0.101, 198.18.0.102)" in why


def test_the_cut_reaches_back_from_the_kill_by_the_time_the_fault_states(monkeypatch):
    from dhcpdrill import lab as labmod
    from dhcpdrill import storage
    disk = Disk(False, [], running=False)
    disk.files["/var/lib/kea/kea-leases4.csv"] = KEA
    monkeypatch.setattr(labmod, "put_files", lambda c, files: c.files.update({p: d.decode() for p, d in files.items()}))
    fault, c = storage.TruncateLeaseTail(records=1, written_s=60.0, restart_wait_s=0.1), storage_ctx(disk)
    fault.proof["killed"] = 1001.5  # what apply() notes before its kill: rows begun at 941.5 s or later are cut
    fault.heal(c)
    cut = c.timeline.first("lease-file-truncated")
    assert cut.get("since") == 941.5 and [r["ip"] for r in cut.get("removed")] == ["198.18.0.102"]
    fault.proof["killed"] = 1001.0
    disk.files["/var/lib/kea/kea-leases4.csv"] = KEA
    disk.attrs["State"]["Running"] = False
    fault.heal(c)
    assert [r["ip"] for r in c.timeline.of("lease-file-truncated")[-1].get("removed")] == ["198.18.0.101",
                                                                                           "198.18.0.102"]
    disk.attrs["State"]["Running"] = True
    ok, why = fault.verify_healed(c)
    assert ok and "cutting the last 2, back to -60 s from the kill" in why


def test_a_cut_that_did_not_land_fails_the_heal(monkeypatch):
    from dhcpdrill import lab as labmod
    from dhcpdrill.storage import TruncateLeaseTail
    disk = Disk(False, [], running=False)
    disk.files["/var/lib/kea/kea-leases4.csv"] = KEA
    monkeypatch.setattr(labmod, "put_files", lambda c, files: None)  # the write went nowhere
    fault, c = TruncateLeaseTail(records=2, restart_wait_s=0.1), storage_ctx(disk)
    fault.heal(c)
    disk.attrs["State"]["Running"] = True
    ok, why = fault.verify_healed(c)
    assert not ok and disk.started and "3 read back" in why


def test_a_dhcpd_stanza_torn_by_a_full_disk_is_cut_out_not_read_as_the_next_clients_binding():
    """As dhcpd 4.4.3 left it (isc-failover storage-full, run 2 of 3, 2026-12-07): the stanza for
    .151 stopped inside its ``ends`` and the next write went on with .172's stanza, whose client and
    state the torn one would otherwise have taken (a duplicate that never was)."""
    from dhcpdrill.servers.isc import IscAdapter
    text = ("lease 198.18.2.151 {\n  starts 1 2026/12/07 12:12:54;\n  ends 1 2026/12/07 12:13:24;\n"
            "  cltt 1 2026/12/07 12:12:54;\n  binding state active;\n  hardware ethernet 02:20:0b:00:00:00;\n}\n"
            "lease 198.18.2.151 {\n  starts 1 2026/12/07 12:12:54;\n  ends 1 2026/"
            "lease 198.18.2.172 {\n  starts 1 2026/12/07 12:13:37;\n  ends 1 2026/12/07 12:14:07;\n"
            "  cltt 1 2026/12/07 12:13:37;\n  binding state active;\n  hardware ethernet 02:20:0b:00:00:02;\n}\n")
    report: dict = {}
    found = [data for _, kind, data in IscAdapter().lease_events(text, report) if kind == "lease-record"]
    assert {(r["ip"], r["mac"]) for r in found} == {("198.18.2.151", "02:20:0b:00:00:00"),
                                                    ("198.18.2.172", "02:20:0b:00:00:02")}
    assert report["unread"] == [] and report["torn"] == [
        {"row": 8, "text": "lease 198.18.2.151 { starts 1 2026/12/07 12:12:54; ends 1 2026/",
         "why": "a stanza cut short (its write failed), the next stanza written on after it"}]
    whole: dict = {}
    IscAdapter().lease_events(text.replace("2026/lease", "2026/12/07 12:13:24;\n  binding state active;\n"
                                           "  hardware ethernet 02:20:0b:00:00:00;\n}\nlease"), whole)
    assert "torn" not in whole and whole["unread"] == []


def test_a_memfiles_last_row_cut_short_with_nothing_after_it_is_torn_not_unread():
    """As Kea 3.0.4 left it: the write failed, the daemon shut down, the file ends mid-row."""
    report: dict = {}
    found = parse_memfile(KEA + "198.18.4.10", report)
    assert report["unread"] == [] and report["torn"][0]["text"] == "198.18.4.10" and len(found) == 3
    report = {}
    parse_memfile(KEA + "198.18.4.10\n", report)  # a short row that ended its line is not a cut write
    assert report["unread"][0]["why"] == "too few fields" and "torn" not in report
