"""DHCPv6 first slice (issue 30): RFC 8415 timing, the v6 agent's packets, Dhcp6 validation,
kea-leases6.csv, and the v6 verdicts on a real recorded timeline and on mutations of it that
must fail (or be UNKNOWN) — no Docker."""
from __future__ import annotations

import dataclasses
import gzip
import heapq
import json
import random
import shutil
from pathlib import Path

import pytest

from dhcpdrill import agent6, v6timers as vt, verdicts6
from dhcpdrill.drill6 import load_pair6
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers.kea6 import load6, parse_leases6
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, NOT_JUDGED, PASS, UNKNOWN

ROOT = Path(__file__).resolve().parents[2]
PAIR = ROOT / "fixtures" / "v6" / "kea-hot-standby-v6"
EVIDENCE = ROOT / "tests" / "evidence" / "v6" / "kea-hs-v6-kill-primary.jsonl.gz"
THRESHOLDS = {"max_takeover_s": 15, "max_duplicates": 0, "min_continuity": 1.0}


# -- RFC 8415 timing -----------------------------------------------------------------------------
def test_first_rt_is_irt_with_rand_and_then_doubles():
    assert vt.next_rt(None, vt.SOLICIT, 0.0) == 1.0
    assert vt.next_rt(None, vt.SOLICIT, 0.1) == pytest.approx(1.1)
    assert vt.next_rt(1.0, vt.SOLICIT, 0.0) == 2.0
    assert vt.next_rt(2.0, vt.SOLICIT, -0.1) == pytest.approx(3.8)
    assert vt.next_rt(None, vt.RENEW, 0.0) == 10.0


def test_rt_is_capped_at_mrt_with_rand():
    assert vt.next_rt(20.0, vt.REQUEST, 0.0) == 30.0
    assert vt.next_rt(20.0, vt.REQUEST, 0.1) == pytest.approx(33.0)
    assert vt.next_rt(400.0, vt.RENEW, -0.1) == pytest.approx(540.0)


def test_first_solicit_rand_is_strictly_positive_and_others_span_both_ways():
    rng = random.Random(1)
    first = [vt.jitter(rng, first_solicit=True) for _ in range(2000)]
    later = [vt.jitter(rng) for _ in range(2000)]
    assert all(0 < r <= 0.1 for r in first)
    assert min(later) < -0.09 and max(later) > 0.09 and all(-0.1 <= r <= 0.1 for r in later)


def test_request_stops_at_mrc_and_renew_at_t2():
    assert vt.retransmission_times(vt.REQUEST, [0.0] * 20) == [0, 1, 3, 7, 15, 31, 61, 91, 121, 151]
    assert vt.retransmission_times(vt.RENEW, [0.0] * 5, duration=10.0) == [0.0]
    assert vt.retransmission_times(vt.RENEW, [0.0] * 5, duration=40.0) == [0.0, 10.0, 30.0]


def test_elapsed_time_rises_in_hundredths_and_saturates():
    assert vt.elapsed_hundredths(100.0, 100.0) == 0
    assert vt.elapsed_hundredths(100.0, 103.07) == 307
    assert vt.elapsed_hundredths(100.0, 100.0 + 700) == 0xFFFF
    assert vt.elapsed_hundredths(100.0, 99.0) == 0


def test_t1_t2_default_to_half_and_four_fifths_of_preferred():
    assert vt.renew_times(10, 20, 40) == (10.0, 20.0)
    assert vt.renew_times(0, 0, 40) == (20.0, 32.0)


def test_advertise_choice_takes_highest_preference_then_first():
    a = {"server": "a", "addresses": ["2001:2::1"], "preference": 0}
    b = {"server": "b", "addresses": ["2001:2::2"], "preference": 10}
    c = {"server": "c", "addresses": [], "prefixes": [], "preference": 255}
    assert vt.choose_advertise([a, b, c])["server"] == "b"
    assert vt.choose_advertise([a, dict(a, server="a2")])["server"] == "a"
    assert vt.choose_advertise([c]) is None


# -- the agent's packets -------------------------------------------------------------------------
def test_renew_names_the_server_and_carries_elapsed_time_and_both_ias():
    d = pytest.importorskip("scapy.layers.dhcp6")
    duid = agent6.duid_ll(agent6.client_mac(0x1234, 0x10, 7))
    assert duid.hex() == "0003000102123410" + "0007"
    server = bytes.fromhex("000100012a2b2c2d0242c6123c0b")
    raw = agent6.build("RENEW", 0xABCDEF, duid, 1234, True, server, ["2001:2:0:60::100"], ["2001:2:0:6000::/64"])
    pkt = d.DHCP6_Renew(raw)
    assert pkt.trid == 0xABCDEF
    assert bytes(pkt[d.DHCP6OptServerId])[4:4 + len(server)] == server
    assert pkt[d.DHCP6OptElapsedTime].elapsedtime == 1234
    assert pkt[d.DHCP6OptIAAddress].addr == "2001:2:0:60::100"
    assert (pkt[d.DHCP6OptIAPrefix].prefix, pkt[d.DHCP6OptIAPrefix].plen) == ("2001:2:0:6000::", 64)
    solicit = d.DHCP6_Solicit(agent6.build("SOLICIT", 1, duid, 0, False))
    assert solicit.getlayer(d.DHCP6OptServerId) is None and solicit.getlayer(d.DHCP6OptIA_PD) is None


def test_reply_parsing_reads_addresses_prefixes_timers_and_statuses():
    d = pytest.importorskip("scapy.layers.dhcp6")
    sid = d.DHCP6OptServerId(duid=d.DUID_LLT(lladdr="02:42:c6:12:3c:0b", timeval=5))
    ok = (d.DHCP6_Reply(trid=7) / sid
          / d.DHCP6OptIA_NA(iaid=1, T1=10, T2=20, ianaopts=[d.DHCP6OptIAAddress(addr="2001:2:0:60::100", preflft=40, validlft=60)])
          / d.DHCP6OptIA_PD(iaid=1, T1=10, T2=20, iapdopt=[d.DHCP6OptIAPrefix(prefix="2001:2:0:6000::", plen=64, preflft=40, validlft=60)]))
    got = agent6.parse(bytes(ok))
    assert (got["msg"], got["xid"], got["t1"], got["t2"], got["valid"]) == ("REPLY", 7, 10, 20, 60)
    assert got["addresses"] == ["2001:2:0:60::100"] and got["prefixes"] == ["2001:2:0:6000::/64"]
    assert got["server"] == "00010001000000050242c6123c0b"
    no_binding = d.DHCP6_Reply(trid=7) / sid / d.DHCP6OptIA_NA(iaid=1, ianaopts=[d.DHCP6OptStatusCode(statuscode=3)])
    assert agent6.parse(bytes(no_binding))["ia_status"] == [agent6.NO_BINDING]
    refused = d.DHCP6_Reply(trid=7) / sid / d.DHCP6OptStatusCode(statuscode=2)
    assert agent6.parse(bytes(refused))["status"] == agent6.NO_ADDRS_AVAIL
    assert agent6.parse(bytes(d.DHCP6_Solicit(trid=1))) is None


# -- Dhcp6 validation ----------------------------------------------------------------------------
def test_bundled_v6_pair_loads():
    pair = load_pair6(PAIR)
    assert str(pair.plan.subnet6) == "2001:2:0:60::/64"
    assert pair.plan.addresses4 == {"primary": "198.19.60.11", "secondary": "198.19.60.12"}
    assert pair.plan.pd_pools == ("2001:2:0:6000::/56->64",)


def test_the_v4_loader_refuses_a_v6_pair_naming_the_v6_drill():
    with pytest.raises(PairError) as err:
        load_pair(PAIR)
    assert "pair.family" in str(err.value) and "test_v6_kill_primary.py" in str(err.value)


def _copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "pair"
    shutil.copytree(PAIR, folder)
    for name in ("primary.json", "standby.json"):
        cfg = json.loads("\n".join(l for l in (folder / name).read_text().splitlines() if not l.startswith("//")))
        edit(cfg)
        (folder / name).write_text(json.dumps(cfg))
    return folder


@pytest.mark.parametrize("edit, field, words", [
    (lambda c: c["Dhcp6"]["subnet6"][0].update(subnet="2001:db8:1::/64"), "Dhcp6.subnet6[0].subnet", "2001:2::/48"),
    (lambda c: c["Dhcp6"]["subnet6"][0]["pd-pools"][0].update(prefix="2001:db8:100::"), "pd-pools[0].prefix", "outside"),
    (lambda c: c["Dhcp6"]["subnet6"][0]["pd-pools"][0].update({"delegated-len": 48}), "pd-pools[0].delegated-len", "at least"),
    (lambda c: c["Dhcp6"]["subnet6"][0]["pools"][0].update(pool="2001:2:0:61::1 - 2001:2:0:61::9"), "pools[0].pool", "outside the subnet"),
    (lambda c: c["Dhcp6"].update({"valid-lifetime": "60"}), "Dhcp6.valid-lifetime", "not a whole number"),
    (lambda c: c["Dhcp6"]["hooks-libraries"].pop(1), "Dhcp6.hooks-libraries", "High Availability hook"),
    (lambda c: c["Dhcp6"]["lease-database"].update(type="mysql"), "Dhcp6.lease-database", "memfile"),
    (lambda c: c["Dhcp6"]["interfaces-config"].update(interfaces=["*"]), "interfaces-config.interfaces", "one named"),
    (lambda c: c["Dhcp6"]["hooks-libraries"][1]["parameters"]["high-availability"][0]["peers"][0].update(
        url="http://[2001:2:0:60::11]:8001/"), "peers[0].url", "IPv4"),
])
def test_bad_dhcp6_configs_name_file_field_and_fix(tmp_path, edit, field, words):
    folder = _copy(tmp_path, edit)
    with pytest.raises(PairError) as err:
        load_pair6(folder)
    text = str(err.value)
    assert str(folder / "primary.json") in text and field in text and words in text, text
    assert all(p.fix for p in err.value.problems)


def test_a_dhcp4_config_is_named_as_one(tmp_path):
    path = tmp_path / "kea4.json"
    path.write_text((ROOT / "fixtures" / "kea-hot-standby" / "primary.json").read_text())
    problems = []
    assert load6(path, problems) is None
    assert "Dhcp6" == problems[0].field and "Dhcp4" in problems[0].what + problems[0].fix


def test_manifest_problems_are_named(tmp_path):
    folder = tmp_path / "pair"
    shutil.copytree(PAIR, folder)
    toml = folder / "pair.toml"
    toml.write_text(toml.read_text().replace('mode = "hot-standby"', 'mode = "load-balancing"')
                    .replace("max_takeover_s = 15", "max_takeover_s = 15\nmax_takover = 3"))
    with pytest.raises(PairError) as err:
        load_pair6(folder)
    assert "pair.mode" in str(err.value) and "drills.kill-primary.max_takover" in str(err.value)


# -- kea-leases6.csv -----------------------------------------------------------------------------
LEASES6 = """address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source
2001:2:0:60::100,00:03:00:01:02:12:34:10:00:00,60,1765130000,1,40,0,1,128,0,0,,,0,,,
2001:2:0:6000::,00:03:00:01:02:12:34:10:00:00,60,1765130000,1,40,2,1,64,0,0,,,0,,,
2001:2:0:60::101,00:03:00:01:02:12:34:10:00:01,sixty,1765130000,1,40,0,1,128,0,0,,,0,,,
"""


def test_leases6_rows_keyed_by_address_or_prefix_and_unreadable_rows_kept():
    rows = parse_leases6(LEASES6)
    assert rows[0] == {"lease": "2001:2:0:60::100", "type": "address", "duid": "00030001021234100000", "iaid": 1,
                       "start": 1765129940.0, "expire": 1765130000.0, "valid": 60, "state": 0}
    assert rows[1]["lease"] == "2001:2:0:6000::/64" and rows[1]["type"] == "prefix"
    assert "unread" in rows[2]
    assert "unread" in parse_leases6("address,duid\n2001:2::1,00\n")[0]
    assert parse_leases6("") == []


# -- verdicts on real evidence and its mutations -------------------------------------------------
def recorded() -> Timeline:
    with gzip.open(EVIDENCE, "rt") as src:
        return Timeline(Event(**json.loads(line)) for line in src if line.strip())


def with_events(tl: Timeline, drop=lambda e: False, change=lambda e: e, add=()) -> Timeline:
    return Timeline([*(change(e) for e in tl if not drop(e)), *add])


def test_recorded_kill_primary_passes():
    verdicts = {v.name: v for v in verdicts6.kill_primary(recorded(), THRESHOLDS)}
    assert {n: v.status for n, v in verdicts.items()} == {"takeover": PASS, "duplicates": PASS, "continuity": PASS,
                                                          "client-outage": NOT_JUDGED}
    assert 10 < verdicts["client-outage"].figure < 30
    assert 10 < verdicts["takeover"].figure < 15
    assert verdicts["continuity"].figure == 1.0


def test_no_survivor_reply_fails_takeover_and_continuity():
    tl = recorded()
    primary = verdicts6.primary_duid(tl)
    fault = verdicts6.fault_time(tl)
    cut = with_events(tl, drop=lambda e: e.kind == "v6-bound" and e.t > fault and e.get("server") != primary)
    verdicts = {v.name: v for v in verdicts6.kill_primary(cut, THRESHOLDS)}
    assert verdicts["takeover"].status == FAIL and "no client was served" in verdicts["takeover"].reason
    assert verdicts["continuity"].status == FAIL and "never served again" in verdicts["continuity"].reason


def test_client_outage_judged_only_when_stated_and_fails_past_its_bound():
    tl = recorded()
    assert verdicts6.client_outage(tl, 60).status == PASS
    assert verdicts6.client_outage(tl, 5).status == FAIL
    fault = verdicts6.fault_time(tl)
    unserved = with_events(tl, drop=lambda e: e.kind == "v6-bound" and e.t > fault)
    v = verdicts6.client_outage(unserved, 60)
    assert v.status == FAIL and "never served" in v.reason


def test_slow_takeover_fails_its_bound():
    assert verdicts6.takeover(recorded(), 5).status == FAIL


def test_a_prefix_delegated_to_two_clients_fails_duplicates():
    tl = recorded()
    fault = verdicts6.fault_time(tl)
    victim = next(e for e in tl.of("v6-bound") if e.t > fault and e.get("client") == "steady-0")
    thief = Event(victim.t + 0.5, "clients", "v6-bound", {**victim.data, "client": "steady-1",
                                                         "addresses": [], "prefixes": victim.get("prefixes")})
    v = verdicts6.duplicates(with_events(tl, add=[thief]), 0)
    assert v.status == FAIL and "1 delegated prefixes" in v.reason


def test_an_address_leased_twice_in_the_files_fails_duplicates():
    tl = recorded()
    rows = [e for e in tl.of("lease6-record") if e.source == "secondary" and e.get("type") == "address"]
    last = {e.get("lease"): e for e in sorted(rows, key=lambda e: e.get("row"))}  # each address's latest row
    row = next(e for e in last.values() if e.get("valid") and e.get("state") == 0)
    other = Event(row.t + 1, "primary", "lease6-record", {**row.data, "duid": "00030001deadbeef0000", "row": 99999,
                                                          "start": row.get("start") + 1, "expire": row.get("expire") + 1})
    v = verdicts6.duplicates(with_events(tl, add=[other]), 0)
    assert v.status == FAIL and "1 in the lease files" in v.reason


def test_a_new_address_after_the_fault_breaks_continuity():
    tl = recorded()
    fault = verdicts6.fault_time(tl)
    first = next(e for e in tl.of("v6-bound") if e.t > fault and e.get("client").startswith("steady"))

    def moved(e):
        if e is first:
            return dataclasses.replace(e, data={**e.data, "addresses": ["2001:2:0:60::1ff"]})
        return e
    v = verdicts6.continuity(with_events(tl, change=moved), 1.0)
    assert v.status == FAIL and "changed: " + first.get("client") in v.reason


@pytest.mark.parametrize("kind, verdict", [("fault-applied", "takeover"), ("fault-applied", "continuity"),
                                           ("server-duid", "takeover"), ("fault-applied", "client-outage"),
                                           ("lease6-record", "duplicates")])
def test_missing_evidence_is_unknown(kind, verdict):
    tl = with_events(recorded(), drop=lambda e: e.kind == kind)
    v = {v.name: v for v in verdicts6.kill_primary(tl, THRESHOLDS)}[verdict]
    assert v.status == UNKNOWN, v


def test_servers_sharing_one_duid_make_takeover_unknown():
    tl = recorded()
    primary = verdicts6.primary_duid(tl)
    same = with_events(tl, change=lambda e: dataclasses.replace(e, data={"duid": primary})
                       if e.kind == "server-duid" else e)
    v = verdicts6.takeover(same, 15)
    assert v.status == UNKNOWN and "both servers have the DUID" in v.reason


def test_no_clients_at_all_is_unknown_everywhere():
    tl = with_events(recorded(), drop=lambda e: e.source == "clients")
    assert {v.status for v in verdicts6.kill_primary(tl, THRESHOLDS)} == {UNKNOWN}


# -- the agent's state machine, driven by hand (no socket, no Docker) ----------------------------
class FakeSocket:
    def __init__(self):
        self.sent = []

    def sendto(self, data, address):
        self.sent.append(data)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _reply(d, cls, xid, server_mac, t1=10, t2=20):
    return bytes(cls(trid=xid) / d.DHCP6OptServerId(duid=d.DUID_LLT(lladdr=server_mac, timeval=5))
                 / d.DHCP6OptIA_NA(iaid=1, T1=t1, T2=t2, ianaopts=[d.DHCP6OptIAAddress(addr="2001:2:0:60::100", preflft=40, validlft=60)])
                 / d.DHCP6OptIA_PD(iaid=1, T1=t1, T2=t2, iapdopt=[d.DHCP6OptIAPrefix(prefix="2001:2:0:6000::", plen=64, preflft=40, validlft=60)]))


def test_a_steady_client_solicits_requests_renews_to_its_server_then_rebinds_to_any(monkeypatch):
    d = pytest.importorskip("scapy.layers.dhcp6")
    import io
    clock = Clock(1000.0)
    monkeypatch.setattr(agent6.time, "time", clock)
    sock, out = FakeSocket(), io.StringIO()
    agent = agent6.Agent({"steady": 1, "probes": 0, "seed": 3}, sock=sock, out=out)

    def due():  # the next live timer, stale generations skipped as the agent's loop does
        while True:
            when, _, name, gen = heapq.heappop(agent.heap)
            if gen == agent.clients[name]["gen"]:
                return when, name, gen

    agent.timer("steady-0")                                    # first Solicit, Elapsed Time 0
    first = d.DHCP6_Solicit(sock.sent[-1])
    assert first[d.DHCP6OptElapsedTime].elapsedtime == 0
    when, name, gen = due()
    assert 1.0 < when - 1000.0 <= 1.1                          # SOL_TIMEOUT with a positive RAND
    clock.now = when
    agent.timer(name)                                          # no Advertise: retransmitted, same xid
    again = d.DHCP6_Solicit(sock.sent[-1])
    assert again.trid == first.trid and again[d.DHCP6OptElapsedTime].elapsedtime == round((when - 1000.0) * 100)
    clock.now += 0.2
    agent.receive(_reply(d, d.DHCP6_Advertise, first.trid, "02:00:00:00:00:11"), clock.now, "fe80::11")
    request = d.DHCP6_Request(sock.sent[-1])                   # past the first RT: taken at once
    server = agent6._server_id_bytes(request)
    assert request[d.DHCP6OptIAAddress].addr == "2001:2:0:60::100" and server.endswith(bytes.fromhex("020000000011"))
    clock.now += 0.01
    agent.receive(_reply(d, d.DHCP6_Reply, request.trid, "02:00:00:00:00:11"), clock.now, "fe80::11")
    bound = clock.now
    assert agent.clients["steady-0"]["lease"]["prefixes"] == ["2001:2:0:6000::/64"]
    when, name, gen = due()
    assert when == pytest.approx(bound + 10)                   # T1
    clock.now = when
    agent.timer(name)
    renew = d.DHCP6_Renew(sock.sent[-1])
    assert agent6._server_id_bytes(renew) == server and renew[d.DHCP6OptElapsedTime].elapsedtime == 0
    when, name, gen = due()
    assert when == pytest.approx(bound + 20)                   # REN_TIMEOUT 10 s reaches T2: Renew ends there
    clock.now = when
    agent.timer(name)
    rebind = d.DHCP6_Rebind(sock.sent[-1])
    assert rebind.getlayer(d.DHCP6OptServerId) is None and rebind.trid != renew.trid
    assert rebind[d.DHCP6OptIAAddress].addr == "2001:2:0:60::100"
    when, name, gen = due()
    assert 9.0 <= when - clock.now <= 11.0                     # REB_TIMEOUT
    clock.now = when
    agent.timer(name)
    assert d.DHCP6_Rebind(sock.sent[-1])[d.DHCP6OptElapsedTime].elapsedtime >= 900
    kinds = [json.loads(line)["kind"] for line in out.getvalue().splitlines()]
    assert kinds.count("v6-send") == 6 and "v6-bound" in kinds and "steady" in kinds


def test_the_default_drill_run_leaves_the_v6_drill_out_and_longer_takes_it():
    import subprocess
    import sys

    def collected(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "pytest", "drills/", "--collect-only", "-q", "-n", "0",
                               "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True, text=True).stdout
    assert "test_v6_kill_primary" not in collected()
    assert "drills/test_v6_kill_primary.py::test_v6_kill_primary" in collected("--longer")
