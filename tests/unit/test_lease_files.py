"""Lease files that parse to nothing, or to less than the server's own ACKs imply, are not
"checked": the rows read and not understood are recorded per file, and the verdicts that read
lease records say UNKNOWN naming the file, the row and why. dhcpd's ``db-time-format local``
is read as the daemon writes it."""
from __future__ import annotations

import time

import pytest

from dhcpdrill.servers.isc import IscAdapter, parse_leases
from dhcpdrill.servers.kea import parse_memfile
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, _lease_file_gaps

from .test_real_evidence import EVIDENCE, judged, load, with_events, without

# Written by dhcpd 4.4.3-P1 in the lab image (dhcpdrill/lab:bookworm, TZ unset: UTC) with
# "db-time-format local;" after it read a lease stanza written in the default format.
LOCAL_FORMAT = """\
# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

lease 198.18.0.100 {
  starts epoch 1796629800; # Mon Dec 07 07:50:00 2026
  ends epoch 1796633400; # Mon Dec 07 08:50:00 2026
  tstp epoch 1796633400; # Mon Dec 07 08:50:00 2026
  cltt epoch 1796629800; # Mon Dec 07 07:50:00 2026
  binding state active;
  next binding state free;
  hardware ethernet 02:d4:10:00:00:01;
}
"""
DEFAULT_FORMAT = LOCAL_FORMAT.replace("epoch 1796629800; # Mon Dec 07 07:50:00 2026", "1 2026/12/07 07:50:00;") \
    .replace("epoch 1796633400; # Mon Dec 07 08:50:00 2026", "1 2026/12/07 08:50:00;")
LEASES = "/var/lib/dhcp/dhcpd.leases"
STRANGER = "02:d4:99:00:00:01"


def test_db_time_format_local_is_read_as_dhcpd_writes_it():
    assert parse_leases(LOCAL_FORMAT) == parse_leases(DEFAULT_FORMAT) == [
        {"ip": "198.18.0.100", "mac": "02:d4:10:00:00:01", "start": 1796629800.0, "end": 1796633400.0}]
    report: dict = {}
    parse_leases(LOCAL_FORMAT, report)
    assert report == {"rows": 1, "unread": []}


def test_dhcpd_stanzas_not_understood_are_counted_with_their_line_and_why():
    report: dict = {}
    text = LOCAL_FORMAT.replace("starts epoch 1796629800;", "starts 1796629800;") + \
        "lease 198.18.0.101 {\n  binding state active;\n  ends never;\n" \
        "  hardware ethernet 02:d4:10:00:00:02;\n}\nlease 198.18.0.102 {\n  binding state free;\n"
    assert parse_leases(text, report) == []
    assert report["rows"] == 2 and [(u["row"], u["why"]) for u in report["unread"]] == [
        (7, "starts '1796629800' is neither 'w yyyy/mm/dd hh:mm:ss' nor 'epoch <seconds>'"),
        (16, "an active lease without starts, or without ends (a time, or never)"),
        (21, "no closing brace")]


def test_an_infinite_lease_binds_its_address_for_ever_and_a_later_holder_is_a_duplicate():
    """``ends never;`` (a dynamic BOOTP client's lease) was a row not understood, so any pair with
    one said duplicates UNKNOWN. It is a binding with no end: another client given that address
    later, by either server, is a duplicate."""
    text = "lease 198.18.2.150 {\n  starts 1 2026/12/07 07:50:00;\n  ends never;\n  binding state active;\n" \
        "  hardware ethernet 02:d4:10:00:00:02;\n}\n"
    report: dict = {}
    assert parse_leases(text, report) == [{"ip": "198.18.2.150", "mac": "02:d4:10:00:00:02",
                                           "start": 1796629800.0, "end": float("inf")}]
    assert report["unread"] == []
    tl = load("isc-partner-down")
    steady = next(e for e in tl.of("bound") if e.get("client") == "steady-00")
    before = steady.t - 300  # granted for ever before the drill, and never released
    bootp = Event(before, "secondary", "lease-record", {"ip": steady.get("ip"), "mac": STRANGER,
                                                        "start": float(int(before)), "end": float("inf")})
    forever = _secondary_file_as(tl, "utc", [bootp])
    rec = next(e for e in forever.of("lease-record") if e.get("mac") == STRANGER)
    assert rec.get("end") is None and rec.get("ends") == "never"
    v = judged(forever, "partner-down")["duplicates"]
    assert v.status == FAIL and STRANGER in v.reason and steady.get("ip") in v.reason, v.reason
    assert judged(_secondary_file_as(tl, "utc"), "partner-down")["duplicates"].status == PASS


def test_memfile_rows_not_understood_are_counted_with_their_line_and_why():
    header = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
    report: dict = {}
    got = parse_memfile(header + "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,0,\n"
                        "198.18.0.101,02:00:00:00:00:02,,sixty,1060,1,0,0,,0,\n198.18.0.102\n", report)
    assert [r["ip"] for r in got] == ["198.18.0.100"] and report["rows"] == 3
    assert [(u["row"], u["why"]) for u in report["unread"]] == [(3, "valid_lifetime 'sixty' is not a whole number"),
                                                                 (4, "too few fields")]
    report = {}
    assert parse_memfile("address,mac,valid_lifetime,expire\n198.18.0.100,02:00:00:00:00:01,60,1060\n", report) == []
    assert report["unread"][0]["why"] == "the header has no hwaddr column"


def _stamp(t: float, style: str) -> str:
    if t == float("inf"):
        return "never;"
    if style == "local":
        return f"epoch {int(t)}; # {time.strftime('%a %b %d %H:%M:%S %Y', time.gmtime(t))}"
    if style == "utc":
        return time.strftime("%w %Y/%m/%d %H:%M:%S;", time.gmtime(t))
    return f"{int(t)};"  # no format dhcpd writes


def _as_dhcpd_leases(records: list[Event], style: str) -> str:
    """The records of a recorded file written back as dhcpd.leases stanzas, times in ``style``."""
    return "".join(f"lease {e.get('ip')} {{\n  starts {_stamp(e.get('start'), style)}\n"
                   f"  ends {_stamp(e.get('end'), style)}\n  cltt {_stamp(e.get('start'), style)}\n"
                   f"  binding state active;\n  hardware ethernet {e.get('mac')};\n}}\n" for e in records)


def _secondary_file_as(tl: Timeline, style: str, extra: list[Event] = ()) -> Timeline:
    """The recorded timeline with the secondary's lease file replaced by the same records written
    in ``style``, read back as the collector reads a file (``extra`` records appended)."""
    mine = [e for e in tl.of("lease-record") if e.source == "secondary"] + list(extra)
    read = next(e.t for e in tl.of("lease-file") if e.source == "secondary")
    out = without(tl, lambda e: e.source == "secondary" and e.kind in ("lease-file", "lease-record", "lease-grant"))
    IscAdapter().record_lease_file(out, "secondary", LEASES, _as_dhcpd_leases(mine, style), read)
    return out


def test_a_file_in_local_time_format_is_judged_like_the_same_file_in_utc():
    """Before, every stanza of such a file parsed to nothing and duplicates passed on the
    clients' view alone: a stranger given a steady client's address in it went unseen."""
    tl = load("isc-partner-down")
    utc, local = _secondary_file_as(tl, "utc"), _secondary_file_as(tl, "local")
    assert [e.data for e in local.of("lease-record")] == [e.data for e in utc.of("lease-record")]
    assert next(e for e in local.of("lease-file") if e.source == "secondary").get("records") > 0
    assert judged(local, "partner-down")["duplicates"].status == PASS
    steady = next(e for e in tl.of("bound") if e.get("client") == "steady-00")
    stranger = Event(steady.t + 5, "secondary", "lease-record", {"ip": steady.get("ip"), "mac": STRANGER,
                                                                 "start": float(int(steady.t + 5)),
                                                                 "end": float(int(steady.t + 65))})
    v = judged(_secondary_file_as(tl, "local", [stranger]), "partner-down")["duplicates"]
    assert v.status == FAIL and STRANGER in v.reason, v.reason


def test_a_file_whose_rows_are_not_understood_makes_duplicates_unknown_naming_the_row():
    tl = _secondary_file_as(load("isc-partner-down"), "unknown")
    n = next(e for e in tl.of("lease-file") if e.source == "secondary").get("rows")
    v = judged(tl, "partner-down")["duplicates"]
    assert v.status == UNKNOWN, v.reason
    assert f"secondary's lease file {LEASES}: {n} of {n} row(s) not understood, the first at line 1: " \
        "'lease 198.18.2." in v.reason and "(starts '17" in v.reason and "nor 'epoch <seconds>')" in v.reason
    assert f"secondary's lease file {LEASES}: no lease read from {n} row(s), yet secondary's own ACKs say it held " \
        in v.reason
    v = judged(without(tl, lambda e: e.source == "primary" and e.kind == "lease-file"), "partner-down")["duplicates"]
    assert v.reason.startswith(f"primary's lease file was never collected; secondary's lease file {LEASES}: {n} of")


def test_a_file_missing_leases_its_servers_own_acks_imply_makes_duplicates_unknown():
    tl = load("isc-partner-down")
    read = next(e.t for e in tl.of("lease-file") if e.source == "secondary")
    held = [a for a in tl.of("recv") if a.get("msg") == "ACK" and a.get("server_id") == "198.18.2.12"
            and a.get("mac", "").endswith(":00") and a.t + a.get("lease_time") > read + 1][-1]
    forgot = without(tl, lambda e: e.source == "secondary" and e.kind == "lease-record"
                     and (e.get("ip"), e.get("mac")) == (held.get("yiaddr"), held.get("mac")))
    v = judged(forgot, "partner-down")["duplicates"]
    assert v.status == UNKNOWN and "never mentions 1 lease(s) secondary's own ACKs say it held" in v.reason \
        and f"{held.get('yiaddr')} ({held.get('mac')}, ACKed {held.t - tl.first('fault-applied').t:+.1f} s after the " \
        "fault)" in v.reason, v.reason


@pytest.mark.parametrize("name", sorted(p.name.split(".")[0] for p in EVIDENCE.glob("*.jsonl.gz")))
def test_every_recorded_lease_file_holds_what_its_servers_acks_imply(name):
    """Kea deletes a released lease and dhcpd keeps history: neither may look like a gap."""
    assert _lease_file_gaps(load(name)) == []


def test_a_drill_of_a_pair_writing_local_time_reads_both_lease_files_and_still_catches_a_forgotten_lease():
    """Recorded here: isc-failover with "db-time-format local;" in both configs, failback. Every
    stanza of both files was understood; before, they parsed to nothing."""
    tl = load("isc-failback-local-time")
    files = {e.source: e for e in tl.of("lease-file")}
    assert all(f.get("rows") > 100 and f.get("records") > 50 and f.get("not_understood") == 0 for f in files.values())
    v = judged(tl, "failback")
    assert v["outcome"].status == "pass" and v["duplicates"].status == PASS and v["failback-sync"].status == PASS
    fault, healed = tl.first("fault-applied").t, tl.first("fault-healed").t
    primary = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "primary")
    renewed = {(a.get("yiaddr"), a.get("mac")) for a in tl.of("recv") if a.get("server_id") == primary}
    granted = {(e.get("ip"), e.get("mac")) for e in tl.of("lease-record")  # and never renewed by the primary since
               if e.source == "secondary" and fault < e.get("start") <= healed} - renewed
    assert granted
    forgot = without(tl, lambda e: e.kind == "lease-record" and e.source == "primary" and e.get("start") > fault
                     and (e.get("ip"), e.get("mac")) in granted)
    v = judged(forgot, "failback")
    assert v["failback-sync"].status == FAIL and "missing" in v["failback-sync"].reason, v["failback-sync"].reason
    read_as_before = Timeline([Event(e.t, e.source, e.kind, {**e.data, "records": 0}) if e.kind == "lease-file" else e
                               for e in tl.events if e.kind != "lease-record"])  # what c449a4a's parser made of it
    v = judged(read_as_before, "failback")
    assert v["duplicates"].status == UNKNOWN and "primary's lease file /var/lib/dhcp/dhcpd.leases: no lease read from 637" \
        in v["duplicates"].reason, v["duplicates"].reason


def test_a_server_time_stands_for_every_host_time_a_clock_period_gives_it():
    from dhcpdrill.verdicts import _to_host_time
    periods = [(50.0, 65.0), (100.0, -1.0)]  # +65 s from host 50 s, put back to -1 s at host 100 s
    assert _to_host_time(periods, 20.0, 130.0) == [20.0]      # before the skew, as written
    assert _to_host_time(periods, 114.0, 130.0) == [49.0, 115.0]  # the skew's start - 1 s of resolution, or later
    assert _to_host_time(periods, 115.0, 130.0) == [50.0, 116.0]  # the skew's first second, or after the reset
    assert _to_host_time(periods, 51.0, 130.0) == [51.0]      # host 51 (unskewed, within a second of the set)
    assert _to_host_time(periods, 166.0, 130.0) == [101.0]    # edges: the skew's end + 1 s of resolution
    assert _to_host_time(periods, 130.0, 130.0) == [65.0, 131.0]  # the file read + 1 s of resolution
    assert _to_host_time(periods, 131.0, 130.0) == [66.0]
    assert _to_host_time([(50.0, None)], 50.0) is None        # from the moment of an unreported set
    assert _to_host_time([(50.0, None), (60.0, -30.0)], 40.0) == [40.0, 70.0]  # a later period still counts


def test_failback_sync_is_unknown_when_lease_times_cannot_be_placed():
    tl = load("kea-hs-failback")
    v = judged(with_events(tl, Event(tl.first("fault-applied").t, "secondary", "clock-set", {"offset": 30})),
               "failback")["failback-sync"]
    assert v.status == UNKNOWN and v.reason == "lease-file times cannot be placed on the timeline: secondary's clock " \
        "was moved but its daemon never reported the offset" and (v.unit, v.threshold) == ("%", "100 %")


def test_a_record_is_placed_by_an_ack_captured_within_two_seconds_of_a_placing_and_never_past_reading():
    """Synthetic, to pin the edges: the primary ran +65 s from host 50 s and was put back at 100 s."""
    from dhcpdrill.verdicts import server_bindings
    from .timelines import base, lease_files_read, mac, record
    def skewed() -> Timeline:
        tl = lease_files_read(base(fault=False))
        tl.add(50.0, "primary", "clock-set", offset=65)
        tl.add(52.0, "primary", "clock-offset", offset=65.0)
        tl.add(100.0, "primary", "clock-set", offset=0)
        tl.add(101.0, "primary", "clock-offset", offset=0.0)
        return tl
    tl = skewed()
    record(tl, "primary", "198.18.0.140", mac(40), 118.0, 148.0)  # host 53 (skew) or 118 (after): undatable
    assert {b.start for b in server_bindings(tl) if b.ip == "198.18.0.140"} == {53.0, 118.0}
    tl.add(55.0, "clients", "recv", msg="ACK", expected=True, server_id="198.18.0.11", yiaddr="198.18.0.140",
           mac=mac(40))  # exactly ACK_MATCH_S after host 53: that placing it is
    assert [(b.start, b.ambiguous) for b in server_bindings(tl) if b.ip == "198.18.0.140"] == [(53.0, "")]
    tl = skewed()
    record(tl, "primary", "198.18.0.141", mac(41), 160.0, 190.0)  # past the reading on any clock but the skew's
    assert [b.start for b in server_bindings(tl) if b.ip == "198.18.0.141"] == [95.0]
    unread = Timeline([e for e in skewed().events if e.kind != "lease-file"])  # no reading bounds the last period
    record(unread, "primary", "198.18.0.141", mac(41), 400.0, 430.0)
    assert [b.start for b in server_bindings(unread) if b.ip == "198.18.0.141"] == [400.0]
    tl = skewed()
    record(tl, "primary", "198.18.0.142", mac(42), 400.0, 430.0)  # fits no clock at all
    with pytest.raises(ValueError, match=r"primary's record of 198\.18\.0\.142 \(02:d4:10:00:00:2a\) starts at server "
                                         r"time 400, which fits no period of any server's clock"):
        server_bindings(tl)


def test_failback_sync_is_unknown_while_a_survivors_lease_cannot_be_dated_inside_the_outage():
    from dhcpdrill.verdicts import failback_sync
    from .timelines import FAULT_T, SECONDARY, healthy, mac, record
    def outage() -> Timeline:
        tl = healthy()  # the primary killed at 100 s, back at 120 s; the secondary ran +65 s from 50 s to 90 s
        tl.add(FAULT_T + 20, "harness", "fault-healed", fault="kill", target="primary", evidence="running", restored=True)
        for at, offset in ((50.0, 65.0), (90.0, 0.0)):
            tl.add(at, "secondary", "clock-set", offset=offset)
            tl.add(at + 1, "secondary", "clock-offset", offset=offset)
        record(tl, "secondary", "198.18.0.150", mac(50), FAULT_T + 15, FAULT_T + 75)  # host 50 (skew) or 115
        return tl
    v = failback_sync(outage())
    assert v.status == UNKNOWN and v.reason.startswith("a lease record cannot be dated: secondary's record of "
                                                       "198.18.0.150"), v.reason
    tl = outage()
    tl.add(FAULT_T + 15.5, "clients", "recv", msg="ACK", expected=True, server_id=SECONDARY, yiaddr="198.18.0.150",
           mac=mac(50))  # the secondary's ACK dates it: granted at 115, during the outage
    v = failback_sync(tl)
    assert v.status == FAIL and "198.18.0.150" in v.reason, v.reason
    record(tl, "primary", "198.18.0.150", mac(50), FAULT_T + 15, FAULT_T + 75)  # the partner's times, as dhcpd writes
    assert failback_sync(tl).status == PASS
