"""Shared networks (several subnets on one link): how Kea ``shared-networks`` and dhcpd
``shared-network`` map onto the lab (the servers' link, or a relayed one), readdressing every
subnet of one consistently in both configs, the problems that refuse a pair, and the ``subnets``
verdict: an address from any subnet of the client's own link is right, one from another link wrong."""
from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

from dhcpdrill import relay
from dhcpdrill.drill import verdicts_for
from dhcpdrill.pair import load_pair, pair_warnings
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import CONFIG_PATH as KEA_CONFIG
from dhcpdrill.servers.isc import CONFIG_PATH as ISC_CONFIG
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, anchor, subnets
from scenarios.kill_primary import KILL_PRIMARY

ROOT = Path(__file__).resolve().parents[2]
KEA = ROOT / "fixtures" / "kea-shared-network"
ISC = ROOT / "fixtures" / "isc-shared-network"
KEA_RELAYED_SHARED = ROOT / "fixtures" / "production" / "kea-relayed-shared-network"


def plan_of(folder: Path):
    pair = load_pair(folder)
    return pair, adapter_for(pair).lab_plan(pair)


def edited(tmp_path: Path, folder: Path, *changes: tuple[str, str], name: str = "") -> Path:
    """A copy of the pair with each (old, new) replaced in both of its config files."""
    folder = Path(shutil.copytree(folder, tmp_path / (name or folder.name)))
    for path in [*folder.glob("*.json"), *folder.glob("*.conf")]:
        text = path.read_text()
        for old, new in changes:
            assert old in text, f"{old!r} not in {path.name}"
            text = text.replace(old, new)
        path.write_text(text)
    return folder


# -- the plan ------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder,home,other", [(KEA, "198.18.70.0/24", "198.18.71.0/24"),
                                               (ISC, "198.18.72.0/24", "198.18.73.0/24")])
def test_a_shared_network_on_the_servers_link_is_drilled(folder, home, other):
    pair, plan = plan_of(folder)
    assert str(plan.subnet) == home and list(map(str, plan.shared)) == [other] and plan.relayed == ()
    assert {str(lo) for lo, _ in plan.pools} == {home.replace("0/24", "100"), other.replace("0/24", "100")}
    assert plan.onlink_routes() == {other: "dev eth0"}  # the servers reach the other subnet on their link
    assert "subnets" in verdicts_for(KILL_PRIMARY, plan)
    assert plan.warnings == () and pair_warnings(pair) == []
    assert any(f"{other} (" in r and f"shared with {home} (shared network floor-3)" in r for r in plan.rewrites)


def test_room_for_the_clients_counts_every_pool_of_the_shared_network():
    """The first subnet's pool (4 addresses) is smaller than a drill's clients: the pair is still
    fit, because Kea and dhcpd serve the rest from the second subnet of the link."""
    for folder in (KEA, ISC):
        _, plan = plan_of(folder)
        first = int(plan.pools[0][1]) - int(plan.pools[0][0]) + 1
        assert first == 4 and sum(int(hi) - int(lo) + 1 for lo, hi in plan.pools) == 104


def test_a_dhcpd_pool_declared_in_the_shared_network_itself_belongs_to_the_subnet_holding_it(tmp_path):
    folder = edited(tmp_path, ISC, ('  subnet 198.18.73.0 netmask 255.255.255.0 {\n    option routers 198.18.73.1;\n'
                                    '    pool {\n      failover peer "drill";\n      range 198.18.73.100 198.18.73.199;\n'
                                    '    }\n  }\n',
                                    '  subnet 198.18.73.0 netmask 255.255.255.0 {\n    option routers 198.18.73.1;\n  }\n'
                                    '  pool {\n    failover peer "drill";\n    range 198.18.73.100 198.18.73.199;\n  }\n'))
    _, plan = plan_of(folder)
    assert list(map(str, plan.shared)) == ["198.18.73.0/24"]
    assert [(str(lo), str(hi)) for lo, hi in plan.pools][1] == ("198.18.73.100", "198.18.73.199")


def test_a_shared_network_pool_without_the_failover_peer_is_refused(tmp_path):
    folder = edited(tmp_path, ISC, ('    pool {\n      failover peer "drill";\n      range 198.18.73.100',
                                    '    pool {\n      range 198.18.73.100'))
    with pytest.raises(PairError, match="198.18.73.100 198.18.73.199.*is not in a pool that names the failover peer"):
        load_pair(folder)


def test_configs_that_disagree_on_a_shared_network_are_refused(tmp_path):
    folder = Path(shutil.copytree(KEA, tmp_path / "kea"))
    path = folder / "standby.json"
    path.write_text(path.read_text().replace('"198.18.71.100 - 198.18.71.199"', '"198.18.71.100 - 198.18.71.150"'))
    with pytest.raises(PairError, match=r"Dhcp4\.shared-networks\[floor-3\]\.subnet4\[198\.18\.71\.0/24\]\.pools\[0\]\.pool: is \"198\.18\.71\.100 - 198\.18\.71\.150\""):
        load_pair(folder)
    folder = Path(shutil.copytree(ISC, tmp_path / "isc"))
    path = folder / "secondary.conf"
    path.write_text(path.read_text().replace("shared-network floor-3 {", "shared-network floor-4 {"))
    with pytest.raises(PairError, match="subnets, shared networks or pool ranges"):
        load_pair(folder)


def test_a_kea_config_of_shared_networks_only_is_drilled_not_refused():
    """Once refused ("declares no subnet outside shared-networks"): every subnet of this pair is
    inside one, and its lab copy is the user's file as written."""
    pair, plan = plan_of(KEA)
    assert plan.files_in_container["primary"][KEA_CONFIG] == (KEA / "primary.json").read_bytes()


# -- readdressing ---------------------------------------------------------------------------------
PRODUCTION = (("198.18.70.", "10.40.6."), ("198.18.71.", "10.40.7."))


@pytest.mark.parametrize("folder,files", [(KEA, ("primary.json", "standby.json")),
                                          (ISC, ("primary.conf", "secondary.conf"))])
def test_every_subnet_of_a_production_shared_network_moves_into_the_lab_in_both_configs(tmp_path, folder, files):
    changes = PRODUCTION if folder == KEA else (("198.18.72.", "10.40.6."), ("198.18.73.", "10.40.7."))
    pair, plan = plan_of(edited(tmp_path, folder, *changes))
    moves = [r for r in plan.rewrites if "readdressed" in r]
    assert len(moves) == 2 and all(r.startswith(f"{files[0]} and {files[1]}: readdressed 10.40.") for r in moves)
    moved = dict(re.findall(r"readdressed (\S+) -> (\S+)", " ".join(moves)))
    assert str(plan.subnet) == moved["10.40.6.0/24"] and list(map(str, plan.shared)) == [moved["10.40.7.0/24"]]
    path = KEA_CONFIG if folder == KEA else ISC_CONFIG
    for role in ("primary", "secondary"):
        text = plan.files_in_container[role][path].decode()
        assert "10.40." not in text
        for new in moved.values():  # both subnets, their pools and routers, in both lab copies
            assert text.count(new.rsplit(".", 1)[0] + ".") >= 3


# -- a relayed shared network --------------------------------------------------------------------
def test_a_relayed_shared_network_is_one_relayed_link_with_every_subnet_routed():
    """The relay address is stated once, for the shared network (Kea selects the shared network
    by giaddr): the relay sits there, and every subnet of the link is routed through it."""
    _, plan = plan_of(KEA_RELAYED_SHARED)
    assert [(str(r.subnet), r.relay, [str(d.subnet) for d in r.shared]) for r in plan.relayed] == [
        ("198.18.81.0/24", "198.18.81.1", []), ("198.18.82.0/24", "198.18.82.1", ["198.18.83.0/24"])]
    assert plan.shared == () and plan.onlink_routes() == {}
    up = plan.relay_upstream
    assert relay.routes(plan) == {"198.18.81.0/24": up, "198.18.82.0/24": up, "198.18.83.0/24": up}
    assert relay.command(plan)[6] == "198.18.82.1=198.18.83.0/24"  # the relay reaches 198.18.83.0/24 on the annex link
    assert "subnets" in verdicts_for(KILL_PRIMARY, plan)
    assert any("shared with 198.18.83.0/24" in r and "giaddr 198.18.82.1" in r for r in plan.rewrites)


# -- the subnets verdict ------------------------------------------------------------------------
def timeline(acks: list[tuple[str, str]], links: list[dict]) -> Timeline:
    """A lab with ``links``; clients (name, subnet label) each granted one address, all before any fault."""
    events = [Event(0.0, "harness", "lab", {"links": links, "roles": {"198.18.70.11": "primary"}})]
    for i, (label, yiaddr) in enumerate(acks):
        mac = f"02:00:00:00:00:{i:02x}"
        events.append(Event(1.0, "clients", "client", {"mac": mac, "name": f"c{i}", "subnet": label}))
        events.append(Event(2.0 + i, "clients", "recv", {"msg": "ACK", "mac": mac, "client": f"c{i}", "yiaddr": yiaddr,
                                                          "server_id": "198.18.70.11", "expected": True}))
    return Timeline(events)


SHARED_LINK = {"subnet": "198.18.70.0/24", "relay": None, "shared": ["198.18.71.0/24"]}
OTHER_LINK = {"subnet": "198.18.13.0/24", "relay": "198.18.13.1"}


def test_an_address_from_any_subnet_of_the_shared_network_is_right_and_counted_per_subnet():
    v = subnets(timeline([("198.18.70.0/24", "198.18.70.100"), ("198.18.70.0/24", "198.18.71.100"),
                          ("198.18.70.0/24", "198.18.71.101")], [SHARED_LINK]))
    assert v.status == PASS, v.reason
    assert "[198.18.70.0/24: 1, 198.18.71.0/24: 2]" in v.reason


def test_an_address_from_another_link_fails_even_beside_a_shared_network():
    v = subnets(timeline([("198.18.70.0/24", "198.18.71.100"), ("198.18.70.0/24", "198.18.13.100"),
                          ("198.18.13.0/24", "198.18.13.101")], [SHARED_LINK, OTHER_LINK]))
    assert v.status == FAIL and "198.18.70.0/24: 1 address(es) outside the shared network (c1 got 198.18.13.100)" in v.reason
    v = subnets(timeline([("198.18.70.0/24", "198.18.71.100"), ("198.18.13.0/24", "198.18.71.101")],
                         [SHARED_LINK, OTHER_LINK]))  # the other link's client given the shared network's address
    assert v.status == FAIL and "198.18.13.0/24: 1 address(es) outside the subnet (c1 got 198.18.71.101)" in v.reason


def test_a_link_naming_no_network_is_unknown_not_pass():
    v = subnets(timeline([("198.18.70.0/24", "198.18.70.100")],
                         [{"subnet": "198.18.70.0/24", "shared": ["not-a-network"]}]))
    assert v.status == UNKNOWN


# -- on a real recorded drill ----------------------------------------------------------------------
def recorded(name: str) -> Timeline:
    with gzip.open(ROOT / "tests" / "evidence" / f"{name}.jsonl.gz", "rt") as src:
        return Timeline(Event(**json.loads(line)) for line in src if line.strip())


def judged(tl: Timeline, folder: Path, scenario=KILL_PRIMARY) -> dict:
    from dhcpdrill.verdicts import judge

    from .test_real_evidence import with_prediction
    pair, plan = plan_of(folder)
    names = verdicts_for(scenario, plan, pair)
    return {v.name: v for v in judge(with_prediction(tl, pair, scenario), pair.drills[scenario.name], names)}


def test_recorded_kea_shared_network_kill_primary_passes_and_used_both_subnets():
    """kea-shared-network / kill-primary on real Docker: every verdict passes, and both subnets
    were really used: the first (4 addresses) filled, the rest of the link served from the second,
    as the lease files say and the subnets verdict counts."""
    tl = recorded("kea-shared-kill-primary")
    v = judged(tl, KEA)
    assert {n: x.status for n, x in v.items() if x.status != PASS} == {}
    leased = {e.get("ip") for e in tl.of("lease-record")}
    first = {ip for ip in leased if ip.startswith("198.18.70.")}
    second = {ip for ip in leased if ip.startswith("198.18.71.")}
    assert first == {f"198.18.70.{i}" for i in range(100, 104)} and len(second) >= 5
    assert leased == first | second
    counts = dict(re.findall(r"(198\.18\.7[01]\.0/24): (\d+)", v["subnets"].reason.split("[")[1]))
    assert int(counts["198.18.70.0/24"]) > 0 and int(counts["198.18.71.0/24"]) > 0


def moved_ack(tl: Timeline, to: str) -> Timeline:
    """The recording with one steady client's ACK after the fault handing out ``to`` instead."""
    fault = anchor(tl)
    target = next(e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.get("expected")
                  and e.t > fault.t and "steady" in str(e.get("client")))
    return Timeline(Event(e.t, e.source, e.kind, {**e.data, "yiaddr": to}) if e is target else e for e in tl.events)


def test_mutated_to_an_address_of_another_link_the_subnets_verdict_fails():
    tl = recorded("kea-shared-kill-primary")
    v = judged(moved_ack(tl, "198.18.13.150"), KEA)["subnets"]
    assert v.status == FAIL and "198.18.70.0/24: 1 address(es) outside the shared network" in v.reason
    assert "got 198.18.13.150" in v.reason


def test_mutated_to_the_other_subnet_of_the_shared_network_it_still_passes():
    tl = recorded("kea-shared-kill-primary")
    ack = next(e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK"
               and str(e.get("yiaddr")).startswith("198.18.70."))
    swapped = Timeline(Event(e.t, e.source, e.kind, {**e.data, "yiaddr": "198.18.71.250"}) if e is ack else e
                       for e in tl.events)
    assert judged(swapped, KEA)["subnets"].status == PASS


def test_judged_as_one_subnet_per_link_the_same_recording_would_fail():
    """What the verdict said before it knew shared networks: the second subnet's addresses are
    "outside the subnet". The recording's lab event names the shared subnet; without it, FAIL."""
    tl = recorded("kea-shared-kill-primary")
    lab = tl.first("lab")
    bare = {**lab.data, "links": [{k: x for k, x in link.items() if k != "shared"} for link in lab.get("links")]}
    tl = Timeline(Event(e.t, e.source, e.kind, bare) if e is lab else e for e in tl.events)
    assert subnets(tl).status == FAIL


def test_peers_in_two_subnets_of_one_shared_network_are_refused_saying_so(tmp_path):
    folder = edited(tmp_path, KEA, ("http://198.18.70.12:8001/", "http://198.18.71.12:8001/"))
    with pytest.raises(PairError, match=r"198\.18\.71\.12 is not in the drilled subnet 198\.18\.70\.0/24, which holds "
                                        r"its partner's address; it is in 198\.18\.71\.0/24 of the same shared network "
                                        r"floor-3"):
        load_pair(folder)


def test_recorded_dhcpd_shared_network_kill_primary_serves_the_second_subnet_by_unicast_too():
    """isc-shared-network / kill-primary on real Docker: every verdict passes. dhcpd merged the two
    subnets' pools into one failover pool ("balancing pool ... floor-3 total 104" in its log) and
    handed out the second subnet's addresses first, so every lease is in 198.18.73.0/24 while the
    servers sit in 198.18.72.0/24; renewals unicast from those addresses were answered (dhcpd's
    unicast ACK leaves by the kernel, over the on-link route the lab gives the servers)."""
    tl = recorded("isc-shared-kill-primary")
    v = judged(tl, ISC)
    assert {n: x.status for n, x in v.items() if x.status != PASS} == {}
    assert {e.get("ip").rsplit(".", 1)[0] for e in tl.of("lease-record")} == {"198.18.73"}
    renewals = {e.get("xid") for e in tl.of("send", source="clients") if e.get("state") == "RENEWING"}
    answered = [e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.get("xid") in renewals]
    assert renewals and answered and all(e.get("yiaddr").startswith("198.18.73.") for e in answered)
    assert judged(moved_ack(tl, "198.18.2.150"), ISC)["subnets"].status == FAIL
