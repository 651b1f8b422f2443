"""Parallel drills (pytest-xdist): which drills may run side by side is decided from the pairs'
lab networks, and a controller rebuilds its workers' results from their run folders."""
from __future__ import annotations

import gzip
import ipaddress
import json
from pathlib import Path

from dhcpdrill import parallel
from dhcpdrill.drill import DrillResult
from dhcpdrill.evidence import record_run
from dhcpdrill.pair import load_pair, pair_folders
from dhcpdrill.timeline import Event, Timeline

from .test_real_evidence import drilled
from dhcpdrill.verdicts import judge
from scenarios.kill_primary import KILL_PRIMARY

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_pairs_run_side_by_side_and_pairs_on_one_range_never_do():
    pairs = [load_pair(f) for f in pair_folders([str(ROOT / "fixtures"), str(ROOT / "fixtures" / "production")],
                                                ROOT / "fixtures")]
    groups = {pair.name: group for pair, group in zip(pairs, (parallel.lab_groups(pairs)[p.folder] for p in pairs))}
    bundled = [groups[n] for n in ("kea-hot-standby", "kea-load-balancing", "isc-failover", "kea-relayed",
                                   "kea-hot-standby-1k", "kea-load-balancing-1k", "isc-failover-1k", "kea-relayed-1k")]
    assert len(set(bundled)) == 8
    assert groups["kea-default-timers"] == groups["kea-hot-standby"]  # both live on 198.18.0.0/24


def test_overlap_through_a_third_pair_joins_all_three(monkeypatch):
    class P:
        def __init__(self, name):
            self.name, self.folder = name, Path(name)
    nets = {"a": ["198.18.40.0/24"], "b": ["198.18.41.0/24", "198.18.40.128/25"], "c": ["198.18.41.0/25"],
            "d": ["198.18.42.0/24"]}
    monkeypatch.setattr(parallel, "networks", lambda p: [ipaddress.ip_network(n) for n in nets[p.name]])
    groups = parallel.lab_groups([P(n) for n in "abcd"])
    assert groups[Path("a")] == groups[Path("b")] == groups[Path("c")] != groups[Path("d")]


def test_a_controller_reads_its_workers_results_back_tied_to_its_own_pairs(tmp_path):
    pair = load_pair(ROOT / "fixtures" / "kea-hot-standby")
    with gzip.open(ROOT / "tests" / "evidence" / "kea-hs-kill-primary.jsonl.gz", "rt") as src:
        tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
    run = tmp_path / "20261130T000000Z-kea-hot-standby-kill-primary"
    result = DrillResult(pair, KILL_PRIMARY, "img", run, tl.events[0].t, tl,
                         judge(tl, pair.drills["kill-primary"], drilled(pair, KILL_PRIMARY)))
    run.mkdir()
    tl.save(run / "timeline.jsonl")
    record_run(result)
    back = parallel.results_from([run, tmp_path / "a-run-that-left-nothing"], [pair])
    assert len(back) == 1 and back[0].pair is pair
    assert [(v.name, v.status, v.figure) for v in back[0].verdicts] == \
           [(v.name, v.status, v.figure) for v in result.verdicts]


def test_the_scheduler_deals_a_drill_by_its_pairs_lab_group():
    from types import SimpleNamespace
    pairs = [load_pair(ROOT / "fixtures" / name) for name in ("kea-hot-standby", "kea-relayed")]
    pairs.append(load_pair(ROOT / "fixtures" / "production" / "kea-default-timers"))
    config = SimpleNamespace(getvalue=lambda name: ["popen", "popen"] if name == "tx" else None,
                             option=SimpleNamespace(numprocesses=2, tx=["popen", "popen"]))
    sched = parallel.scheduler(config, None, pairs)
    split = sched._split_scope
    assert split("drills/test_kill_primary.py::test_kill_primary[kea-hot-standby]") == \
        split("drills/test_freeze_primary.py::test_freeze_primary[kea-default-timers]")  # one range
    assert split("drills/test_kill_primary.py::test_kill_primary[kea-relayed]") == "lab-kea-relayed"
    assert split("tests/unit/test_x.py::test_y") == "tests/unit/test_x.py::test_y"


def test_a_drill_id_names_its_pair():
    assert parallel.pair_id("drills/test_partitions.py::test_peer_partition[kea-relayed]") == "kea-relayed"
    assert parallel.pair_id("drills/test_partitions.py::test_peer_partition") is None


def test_each_worker_drives_its_share_of_the_engines():
    hosts = ["unix:///var/run/docker.sock", "tcp://198.18.250.2:2375"]
    assert [parallel.engine_for(w, hosts) for w in ("gw0", "gw1", "gw2", None)] == [hosts[0], hosts[1], hosts[0], hosts[0]]
    assert parallel.engine_for("gw1", []) is None  # none given: DOCKER_HOST as always


def test_drills_are_dealt_one_by_one_only_when_every_worker_has_an_engine_of_its_own():
    from types import SimpleNamespace

    def config(n):
        return SimpleNamespace(option=SimpleNamespace(numprocesses=n))
    two = ["unix:///var/run/docker.sock", "tcp://198.18.250.2:2375"]
    assert parallel.own_engines(config(2), two)
    assert not parallel.own_engines(config(3), two)  # two workers would share an engine: lab groups hold
    assert not parallel.own_engines(config(2), two[:1])


def test_drills_run_on_the_measured_workers_only_when_nothing_asks_otherwise():
    assert parallel.default_workers(True, False, False, cores=2, groups=6) == parallel.MEASURED_WORKERS == 2
    assert parallel.default_workers(True, False, False, cores=2, groups=1) == 0  # one lab: nothing to overlap
    assert parallel.default_workers(True, False, False, cores=1, groups=6) == 0  # no core for a second worker
    assert parallel.default_workers(True, True, False, cores=8, groups=6) == 0   # the user's -n / --dist wins
    assert parallel.default_workers(True, False, True, cores=8, groups=6) == 0   # --pdb, -s, --collect-only
    assert parallel.default_workers(False, False, False, cores=8, groups=6) == 0  # tests/, or everything


def test_only_a_run_of_drills_alone_counts_as_one_of_drills(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert parallel.targets_drills(["drills/"])
    assert parallel.targets_drills(["drills/test_kill_primary.py::test_kill_primary"])
    assert not parallel.targets_drills([])  # testpaths: the harness's own tests too
    assert not parallel.targets_drills(["drills/", "tests/unit"])
    assert not parallel.targets_drills(["drills/no_such_file.py"])


def test_pytest_drills_picks_two_workers_and_says_how_to_run_one_at_a_time():
    """The plugin's own wiring, in a real pytest run that selects no drill (no Docker needed)."""
    import os
    import subprocess
    import sys

    def run(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "pytest", "drills/", "-k", "no_drill_has_this_name",
                               "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True, text=True).stdout

    everything = run()
    if (os.cpu_count() or 1) >= 2:
        assert "2 workers by default" in everything and "created: 2/2 workers" in everything
    else:
        assert "workers" not in everything
    one_pair = run("--pair", "fixtures/kea-hot-standby")
    assert "workers" not in one_pair
    serial = run("-n", "0")
    assert "workers" not in serial
