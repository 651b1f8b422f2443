"""The harness against real containers: a broken pair fails for the right reason, a fault that does
not bite is reported as such, and nothing is left behind when a drill blows up."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import docker
import pytest

from dhcpdrill.drill import run_drill
from dhcpdrill.faults import (DeclarePartnerDown, FreezeServer, KillServer, MaintenanceHandoff, PartitionClients,
                              PartitionPeers, SkewClock)
from dhcpdrill import reaper
from dhcpdrill.lab import Engine, Lab, owner
from dhcpdrill.reaper import OWNER_LABEL, SESSION_LABEL
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import LabError
from dhcpdrill.servers import adapter_for
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN
from scenarios.kill_primary import KILL_PRIMARY

pytestmark = pytest.mark.drill
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HEALTHY = FIXTURES / "kea-hot-standby"
ISC = FIXTURES / "isc-failover"


def copy_without_upgrade(folder: Path) -> None:
    """The bundled pair without its rolling upgrade to trixie: these tests give the copy paths
    that Kea 2.6.3 refuses, and the pair would be refused for its upgrade before anything starts."""
    import shutil
    shutil.copytree(HEALTHY, folder)
    manifest = folder / "pair.toml"
    text = manifest.read_text()
    manifest.write_text(text[:text.index("[drills.rolling-upgrade]")])


def leftovers(engine: Engine) -> set[str]:
    """What this session has on the engine and the host firewall, its sentinel aside."""
    items = reaper.engine_leftovers(engine.client) + reaper.firewall_leftovers(engine.shell)
    return {str(i) for i in items if i.session == engine.session and i.name != engine.sentinel.name}


def drill(session, pair, scenario, reports: Path):
    """Run outside the session's report: these pairs are broken on purpose, not audit evidence."""
    return run_drill(session.engine(pair.suite), pair, scenario, session.image(pair.suite), reports)


def test_standby_without_auto_failover_fails_the_takeover_verdict(drill_session, tmp_path):
    pair = load_pair(FIXTURES / "broken" / "kea-standby-no-auto-failover")
    result = drill(drill_session, pair, KILL_PRIMARY, tmp_path)
    assert result.verdict("steady-state").status == PASS
    assert result.verdict("fault-effective").status == PASS
    takeover = result.verdict("takeover")
    assert takeover.status == FAIL and "no takeover" in takeover.reason, takeover
    with pytest.raises(AssertionError, match="takeover: fail"):
        result.assert_verdicts()


def no_op(fault_class):
    """The same fault with its mechanism replaced by nothing: what a broken injector would do."""
    return dataclasses.dataclass(frozen=True)(type(f"NoOp{fault_class.__name__}", (fault_class,),
                                                  {"apply": lambda self, ctx: None}))


NO_OPS = {
    "kill": no_op(KillServer)(),
    "freeze": no_op(FreezeServer)(),
    "peer-partition": no_op(PartitionPeers)(),
    "client-partition": no_op(PartitionClients)(evidence_wait_s=4.0),
    "maintenance-handoff": no_op(MaintenanceHandoff)(),
    "clock-skew": no_op(SkewClock)(seconds=65),
}


# Faults whose proof reads ISC dhcpd's own evidence (its OMAPI state, the cltt it writes).
ISC_NO_OPS = {
    "declare-partner-down": no_op(DeclarePartnerDown)(),
    "clock-skew": no_op(SkewClock)(seconds=65),
}


@pytest.mark.parametrize("pair_folder, fault", [(HEALTHY, f) for f in sorted(NO_OPS)]
                         + [(ISC, f) for f in sorted(ISC_NO_OPS)],
                         ids=[f"kea-{f}" for f in sorted(NO_OPS)] + [f"isc-{f}" for f in sorted(ISC_NO_OPS)])
def test_a_fault_that_did_not_bite_is_reported_not_passed(drill_session, tmp_path, pair_folder, fault):
    no_ops = NO_OPS if pair_folder == HEALTHY else ISC_NO_OPS
    scenario = dataclasses.replace(KILL_PRIMARY, fault=no_ops[fault], dwell_s=1, observe_s=3)
    result = drill(drill_session, load_pair(pair_folder), scenario, tmp_path)
    effective = result.verdict("fault-effective")
    assert effective.status == FAIL and "fault not effective" in effective.reason, effective
    assert result.verdict("takeover").status == UNKNOWN
    assert result.outcome.status == "fail"


@dataclasses.dataclass(frozen=True)
class KillThatCrashes(KillServer):
    def apply(self, ctx) -> None:
        raise RuntimeError("harness bug in the middle of a drill")


def test_nothing_is_left_behind_when_a_drill_crashes(drill_session, tmp_path):
    pair = load_pair(HEALTHY)
    image, engine = drill_session.image(pair.suite), drill_session.engine(pair.suite)
    scenario = dataclasses.replace(KILL_PRIMARY, fault=KillThatCrashes(), dwell_s=0, observe_s=0)
    before = leftovers(engine)
    result = run_drill(engine, pair, scenario, image, tmp_path)
    assert leftovers(engine) - before == set()
    assert "RuntimeError: harness bug in the middle of a drill" in result.error
    assert result.outcome.status == "fail"  # judged and reported, not an escaped traceback
    for kept in ("timeline.jsonl", "error.txt", "primary.log", "secondary.log", "leases-secondary.csv"):
        assert (result.run_dir / kept).is_file(), kept  # the evidence up to the crash is kept


def test_a_pair_that_never_gets_ready_leaves_its_logs_and_says_what_the_daemon_said(drill_session, tmp_path):
    """Kea accepts the config (kea-dhcp4 -t passes) but cannot open its lease file at start."""
    folder = tmp_path / "pair"
    copy_without_upgrade(folder)
    path = folder / "primary.json"
    path.write_text(path.read_text().replace('"/var/lib/kea/kea-leases4.csv"', '"/proc/kea-leases4.csv"'))
    pair = load_pair(folder)
    assert drill_session.server_check(pair) == []
    engine, image = drill_session.engine(pair.suite), drill_session.image(pair.suite)
    before = leftovers(engine)
    result = run_drill(engine, pair, KILL_PRIMARY, image, tmp_path / "reports")
    assert leftovers(engine) - before == set()
    assert "did not reach hot-standby" in result.error and "primary's daemon last logged:" in result.error
    assert "/proc/kea-leases4.csv" in result.error, result.error
    assert (result.run_dir / "primary.log").is_file() and (result.run_dir / "secondary.log").is_file()
    lease_file = next(e for e in result.timeline.of("lease-file") if e.source == "primary")
    assert lease_file.get("read") is False  # missing evidence is recorded as missing
    assert result.verdict("duplicates").status == "unknown" and result.outcome.status == "fail"


def test_sweep_removes_only_sessions_whose_sentinel_is_gone(drill_session):
    """A dead session's container, network, rule and bridge table go; a live session's stay, its
    helper included, whatever host or pid it claims."""
    pair = load_pair(HEALTHY)
    engine = drill_session.engine(pair.suite)
    client, image = engine.client, engine.image
    other = Engine(client, image)
    other.start()
    mark = reaper.engine_mark(client)
    dead_id, elsewhere = mark + "deadbeef", ("0000" if mark != "0000" else "1111") + "deadbeef"
    dead = {SESSION_LABEL: dead_id, OWNER_LABEL: f"{owner()}"}
    live = {**other.labels, OWNER_LABEL: f"{__import__('socket').gethostname()}:999999999"}
    made = [client.containers.create(image, ["true"], labels={**labels, reaper.RUN_LABEL: "helper"})
            for labels in (dead, live)]
    net = client.networks.create("dhcpdrill-deadbeef-net", internal=True, labels=dead)
    for session in (dead_id, elsewhere):  # the second: a session of another engine on this host
        engine.shell(reaper.FIREWALL, "run", "-I", "DOCKER-USER", "-i", "dd-deadbeef", "-o", "dd-deadbeef", "-m",
                     "comment", "--comment", reaper.rule_tag(session, "000000000001"), "-j", "ACCEPT")
        engine.shell('nft add table bridge "$1"', reaper.table_name(session, "000000000001"))
    try:
        removed, errors = reaper.sweep(client, engine.shell)
        assert errors == []
        assert {str(i) for i in removed} >= {f"container {made[0].name}", "network dhcpdrill-deadbeef-net",
                                             f"rule DOCKER-USER dhcpdrill:{dead_id}-000000000001",
                                             f"table dhcpdrill_{dead_id}_000000000001"}
        assert not any(i.session in (engine.session, other.session, elsewhere) for i in removed)
        left = {str(i) for i in reaper.firewall_leftovers(engine.shell)}
        assert {f"rule DOCKER-USER dhcpdrill:{elsewhere}-000000000001", f"table dhcpdrill_{elsewhere}_000000000001"} <= left
        reaper.remove([i for i in reaper.firewall_leftovers(engine.shell) if i.session == elsewhere], engine.shell)
        remaining = {c.id for c in client.containers.list(all=True, filters={"label": SESSION_LABEL}, ignore_removed=True)}
        assert made[0].id not in remaining and made[1].id in remaining
        other.close()  # its sentinel removes what the session still had
        assert made[1].id not in {c.id for c in client.containers.list(all=True, filters={"label": SESSION_LABEL}, ignore_removed=True)}
    finally:
        other.close()
        for obj in [*made, net]:
            try:
                obj.remove(**({"force": True} if obj in made else {}))
            except Exception:
                pass


KILLED_SESSION = """
import ipaddress, sys, time
from pathlib import Path
from dhcpdrill.lab import Engine, Lab, docker_client
engine = Engine(docker_client(), sys.argv[1])
engine.start()
lab = Lab(engine, engine.image, Path(sys.argv[2])).__enter__()
net = lab.network(ipaddress.ip_network("198.19.254.0/24"), "198.19.254.254")
lab.container("primary", net, "198.19.254.10", ["sleep", "infinity"])
lab.container("secondary", net, "198.19.254.11", ["sleep", "infinity"])
lab.cut_dhcp("primary")
print(engine.session, flush=True)
time.sleep(600)
"""


def test_kill_9_mid_drill_leaves_nothing_within_30_seconds(drill_session, tmp_path):
    """The session's process is killed outright; its sentinel removes the containers, the network,
    the DOCKER-USER rule and the bridge table with no later run needed."""
    import signal
    import subprocess
    import sys
    import time
    engine = drill_session.engine(load_pair(HEALTHY).suite)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SESSION, engine.image, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    session = proc.stdout.readline().strip()
    assert session, "the killed session never got its lab up"

    def of_session() -> set[str]:
        items = reaper.engine_leftovers(engine.client) + reaper.firewall_leftovers(engine.shell)
        return {str(i) for i in items if i.session == session}

    assert {k.split()[0] for k in of_session()} == {"container", "network", "rule", "table"}
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while of_session() and time.monotonic() < deadline:
        time.sleep(1)
    assert of_session() == set()


def test_the_privileged_helper_never_touches_a_port_outside_the_labs_bridge(drill_session, tmp_path):
    """A daemon with NET_ADMIN renames eth0 and puts a veth of its own in its place, whose link index can
    name any host interface (the physical NIC's, say): the cut is refused, nothing is filtered."""
    engine = drill_session.engine(load_pair(HEALTHY).suite)
    with Lab(engine, engine.image, tmp_path) as lab:
        net = lab.network(__import__("ipaddress").ip_network("198.19.253.0/24"), "198.19.253.254")
        lab.container("primary", net, "198.19.253.10", ["sh", "-c", "ip link set eth0 down && ip link set eth0 name real0 "
                                                        "&& ip link add eth0 type veth peer name p0 && sleep infinity"])
        lab.container("secondary", net, "198.19.253.11", ["sleep", "infinity"])
        assert lab.host_port("secondary").startswith("veth")
        for _ in range(50):
            if lab.containers["primary"].exec_run(["ip", "link", "show", "real0"]).exit_code == 0:
                break
            __import__("time").sleep(0.1)
        with pytest.raises(LabError, match="is not a port of the lab bridge"):
            lab.cut_dhcp("primary")
        assert lab.bridge_tables() == []


def test_the_harness_never_pulls_a_missing_image(drill_session):
    engine = drill_session.engine(load_pair(HEALTHY).suite)
    with pytest.raises(LabError, match="never pulls"):
        engine.run_helper(["true"], image="dhcpdrill/lab:bookworm-000000000000", what="run a helper")


def test_the_servers_own_checker_runs_in_the_image_and_names_keas_complaint(drill_session, tmp_path):
    import shutil
    folder = tmp_path / "pair"
    shutil.copytree(HEALTHY, folder)
    for name in ("primary.json", "standby.json"):  # consistent on both sides, so only Kea objects
        path = folder / name
        path.write_text(path.read_text().replace('"renew-timer": 10,', '"renew-timer": 30,'))
    pair = load_pair(folder)
    engine, image = drill_session.engine(pair.suite), drill_session.image(pair.suite)
    before = leftovers(engine)
    problems = [str(p) for p in adapter_for(pair).check_in_image(engine, image, pair)]
    assert len(problems) == 2 and all("kea-dhcp4 -t" in p and "renew-timer (30) is greater than the value of rebind-timer (20)" in p
                                      for p in problems), problems
    assert adapter_for(load_pair(HEALTHY)).check_in_image(engine, image, load_pair(HEALTHY)) == []
    assert leftovers(engine) - before == set()


def test_a_renamed_readdressed_copy_of_the_bundled_pair_drills_green(drill_session, tmp_path):
    """A user's pair: other file names, another lab subnet, a production interface name, and
    socket and lease paths with a space, a quote and shell syntax in them: unquoted, the space
    would split the directory in two and ``$(...)`` would rename it, and the server would never
    get ready."""
    import json
    from dhcpdrill.events import problems
    from dhcpdrill.servers.kea import strip_comments
    folder = tmp_path / "site-b"
    copy_without_upgrade(folder)
    for old, new in (("primary.json", "dhcp-b1.json"), ("standby.json", "dhcp-b2.json")):
        text = (folder / old).read_text().replace("198.18.0.", "198.19.7.").replace('"eth0"', '"ens192"')
        cfg = json.loads(strip_comments(text))
        cfg["Dhcp4"]["control-socket"]["socket-name"] = "/run/kea/site b's $(echo x) dir/kea4.sock"
        cfg["Dhcp4"]["lease-database"]["name"] = "/var/lib/kea/lease's`id`$(echo)/kea-leases4.csv"  # Kea itself takes no space here
        (folder / new).write_text(json.dumps(cfg, indent=1))
        (folder / old).unlink()
    manifest = (folder / "pair.toml").read_text()
    (folder / "pair.toml").write_text(manifest.replace('"primary.json"', '"dhcp-b1.json"')
                                      .replace('"standby.json"', '"dhcp-b2.json"').replace('"kea-hot-standby"', '"site-b"'))
    pair = load_pair(folder)
    assert drill_session.server_check(pair) == []
    result = drill(drill_session, pair, KILL_PRIMARY, tmp_path / "reports")
    assert sum('"ens192" -> "eth0"' in r for r in result.rewrites) == 2
    assert result.timeline.first("lab").get("subnet") == "198.19.7.0/24"
    assert problems(result.timeline) == []  # what the agent, adapters and faults wrote, as dhcpdrill/events.py declares
    result.assert_verdicts()


def test_a_known_hazard_never_excuses_a_lab_that_was_never_built(drill_session, tmp_path):
    """The reproduction from the issue: a network already holds the pair's subnet, so the lab
    cannot be created; a pair declaring a hazard for the drill once read 'FAIL, AS EXPECTED'."""
    import shutil
    folder = tmp_path / "pair"
    shutil.copytree(HEALTHY, folder)
    for name in ("primary.json", "standby.json"):
        path = folder / name
        path.write_text(path.read_text().replace("198.18.0.", "198.19.9."))
    manifest = folder / "pair.toml"
    manifest.write_text(manifest.read_text().replace(
        "[drills.kill-primary]\n", '[drills.kill-primary]\nknown_hazard = { why = "split brain", fails = { split-brain = 30 } }\n'))
    pair = load_pair(folder)
    engine, image = drill_session.engine(pair.suite), drill_session.image(pair.suite)
    client = engine.client
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="198.19.9.0/24")])
    squatter = client.networks.create(f"squatter-{owner().replace(':', '-')}", internal=True, ipam=ipam,
                                      labels={OWNER_LABEL: owner()})
    try:
        result = run_drill(engine, pair, KILL_PRIMARY, image, tmp_path / "reports")
    finally:
        squatter.remove()
    assert "could not create the lab network" in result.error
    assert result.outcome.status == "fail" and result.outcome.reasons[0].startswith("error: LabError")
    with pytest.raises(AssertionError, match="could not create the lab network"):
        result.assert_verdicts()


def test_a_default_timer_pair_is_watched_until_its_takeover_and_fails_a_10_s_threshold_with_it(drill_session, tmp_path):
    """Kea's default HA timers (the production pair's): a fixed 30 s window used to report 'no
    takeover'. The window now follows the timers, the figure lands inside the prediction, and a
    10 s threshold fails with that figure. The pair logs to a file: the lab copy's logger rewrite
    lets state-transitions see partner-down. Its 12 h leases renew at T1 = 6 h, so the steady
    clients are woken after the fault and continuity is judged on their real renew and rebind."""
    pair = load_pair(FIXTURES / "production" / "kea-default-timers")
    strict = dataclasses.replace(pair.drills["kill-primary"], max_takeover_s=10)
    pair = dataclasses.replace(pair, drills={**pair.drills, "kill-primary": strict})
    result = drill(drill_session, pair, KILL_PRIMARY, tmp_path)
    takeover, predicted = result.verdict("takeover"), result.verdict("takeover-predicted")
    assert takeover.status == FAIL and 50 <= takeover.figure <= 85, takeover
    assert predicted.status == PASS and predicted.threshold == "50–88 s", predicted
    assert result.timeline.first("lab").get("observe_s") == 98  # 88 s predicted + 10 s
    assert result.verdict("state-transitions").status == PASS
    assert result.timeline.first("clients-woken") is not None and result.timeline.first("woken") is not None
    continuity = result.verdict("continuity")
    assert continuity.status == PASS and continuity.figure == 100, continuity
    assert [r.startswith("takeover") for r in result.outcome.reasons].count(True) == 1


def test_a_server_log_that_lost_its_beginning_says_so_and_one_that_did_not_is_complete(drill_session, tmp_path,
                                                                                        monkeypatch):
    """Docker's json-file driver rotating a container's log (as a daemon.json "max-size" does)
    drops its first lines; the lab notices (the numbered start line is gone) and the adapter
    records a log-incomplete event. A restarted container's log, kept whole, is complete."""
    import ipaddress
    import time as clock
    from docker.types import LogConfig
    from dhcpdrill import lab as labmod
    from dhcpdrill.timeline import Timeline
    engine = drill_session.engine(load_pair(HEALTHY).suite)
    with Lab(engine, engine.image, tmp_path) as lab:
        net = lab.network(ipaddress.ip_network("198.19.252.0/24"), "198.19.252.254")
        whole = lab.container("secondary", net, "198.19.252.11", ["sh", "-c", "echo ready; sleep infinity"])
        monkeypatch.setattr(labmod, "LOG_CONFIG", LogConfig(type="json-file", config={"max-size": "4k", "max-file": "2"}))
        rotated = lab.container("primary", net, "198.19.252.10",
                                ["sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line $i of a busy server; "
                                             "i=$((i+1)); done; sleep infinity"])
        whole.restart(timeout=1)
        for _ in range(100):
            if "line 399" in rotated.logs().decode() and b"start 2" in whole.logs():
                break
            clock.sleep(0.1)
        tl = Timeline()
        pair = load_pair(HEALTHY)
        adapter_for(pair).collect(lab, pair, tl)
    gaps = {e.source: e for e in tl.of("log-incomplete")}
    assert set(gaps) == {"primary"}, gaps
    assert gaps["primary"].get("first_kept") is not None and "ha-state" in gaps["primary"].get("kinds")
    saved = (tmp_path / "secondary.log").read_text().splitlines()
    assert saved[0].endswith(f"{labmod.START_LINE} 1") and any(s.endswith(f"{labmod.START_LINE} 2") for s in saved)
