"""Drills side by side with pytest-xdist (``pytest drills/ -n 2``), on one Docker engine or several.

Two labs whose networks overlap cannot exist at once (Docker refuses the second network), so the
drills are grouped by lab: a pair's drills, and every pair whose networks (its subnets, relayed
subnets and peer network) overlap another's, form one group that one worker runs, one drill
after another; different groups run side by side. The grouping is xdist's ``loadscope``
scheduler with the lab group as the scope (its ``xdist_group`` marks are not used: with pytest
9.2 they silently stop grouping, pytest-xdist issue #1386). The harness decides the
groups from the pairs, never the user. Each worker holds its own engine session (its own sentinel,
so a sweep never takes another live worker's lab). Workers judge their drills and leave them in
their run folders; the controller reads those back and writes the one JUnit, HTML and archive.

Several engines (``--docker-host URL``, repeatable): worker ``gwK`` drives engine K mod N. When
every worker has an engine of its own, labs on different engines cannot collide, so drills are
dealt one by one (the same pair may run on two engines at once); with fewer engines than
workers the lab groups still apply.
"""
from __future__ import annotations

import fcntl
import ipaddress
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .manifest import Pair
from .servers import adapter_for

# Measured on 2 cores: at 2 workers every drill's figures stayed within the spread of serial runs
# (scripts/bench_parallel.py, three rounds each way; docs/ci.md "Many pairs, one engine").
MEASURED_WORKERS = 2
RUN_PROPERTY = "dhcpdrill_run_dir"  # a drill test's user property naming its run folder
LOCKS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dhcpdrill" / "locks"


def worker_id(config) -> str | None:
    """This process's xdist worker id (``gw0``…), or None on a controller or without xdist."""
    return getattr(config, "workerinput", {}).get("workerid")


def default_workers(targets_drills: bool, asked: bool, needs_serial: bool, cores: int, groups: int) -> int:
    """Workers for a run whose user gave no ``-n``: the measured parallelism when it runs only
    drills, there are lab groups to run side by side and a core for each worker; 0 (serial)
    otherwise, and whenever the user chose (``-n``, ``--dist``) or asked for something a worker
    cannot give (a debugger, uncaptured output, collection only)."""
    if not targets_drills or asked or needs_serial or groups < 2:
        return 0
    workers = min(MEASURED_WORKERS, groups)
    return workers if cores >= workers else 0


def targets_drills(file_or_dir: list[str]) -> bool:
    """Whether every test path a run names lies in a ``drills`` folder (``pytest drills/``,
    ``drills/test_x.py::test_y``); a run of the harness's own tests, or of everything, does not."""
    paths = [Path(a.split("::", 1)[0]) for a in file_or_dir]
    return bool(paths) and all(p.exists() and "drills" in p.resolve().parts for p in paths)


def engine_for(worker: str | None, hosts: list[str]) -> str | None:
    """The Docker engine (a ``DOCKER_HOST`` URL) this process drives: worker ``gwK`` gets
    ``hosts[K % len(hosts)]``, a process without xdist the first; None when none was given."""
    if not hosts:
        return None
    index = int(worker[2:]) if worker and worker.startswith("gw") and worker[2:].isdigit() else 0
    return hosts[index % len(hosts)]


def own_engines(config, hosts: list[str]) -> bool:
    """Whether every xdist worker drives an engine no other worker uses."""
    workers = getattr(config.option, "numprocesses", None) or 0
    return len(hosts) > 1 and isinstance(workers, int) and 0 < workers <= len(hosts)


def networks(pair: Pair) -> list[ipaddress.IPv4Network]:
    """Every lab network a drill of ``pair`` creates."""
    return adapter_for(pair).lab_plan(pair).networks


def lab_groups(pairs: list[Pair]) -> dict[Path, str]:
    """Pair folder -> its lab group: pairs whose networks overlap, directly or through others,
    share one group (named after its first pair)."""
    nets = {pair.folder: networks(pair) for pair in pairs}
    parent = {pair.folder: pair.folder for pair in pairs}

    def root(folder: Path) -> Path:
        while parent[folder] != folder:
            folder = parent[folder]
        return folder

    for i, a in enumerate(pairs):
        for b in pairs[:i]:
            if any(x.overlaps(y) for x in nets[a.folder] for y in nets[b.folder]):
                parent[root(a.folder)] = root(b.folder)
    name = {pair.folder: pair.name for pair in pairs}
    return {pair.folder: f"lab-{name[root(pair.folder)]}" for pair in pairs}


@contextmanager
def host_lock(name: str) -> Iterator[None]:
    """One holder at a time on this host (an image build that parallel workers would repeat)."""
    LOCKS.mkdir(parents=True, exist_ok=True)
    with open(LOCKS / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def results_from(run_dirs: list[Path], pairs: list[Pair]) -> list:
    """The workers' drills as results, read back from their run folders (verdicts as judged
    there), each tied again to the session's own pair by its config hash (``report.pair_key``:
    the name alone is no tie, two pair folders may share one)."""
    from .catalogue import known_scenarios
    from .merge import result_from
    from .report import pair_key
    scenarios = known_scenarios()
    live = {pair_key(pair): pair for pair in pairs}
    results = []
    for run in run_dirs:
        if not (run / "verdicts.json").is_file():
            continue
        result = result_from(run, scenarios)
        result.pair = live.get(pair_key(result.pair), result.pair)
        results.append(result)
    return sorted(results, key=lambda r: (r.started, r.pair.name, r.scenario.name))


def repetition_id(number: int, count: int) -> str:
    """A repeated drill's id part and run folder suffix: ``run2of3``."""
    return f"run{number}of{count}"


REPETITION = re.compile(r"-run\d+of\d+\]$")


def drill_id(nodeid: str) -> str:
    """A drill test's id without its repetition: every run of one drill on one pair shares it."""
    return REPETITION.sub("]", nodeid)


def pair_id(nodeid: str) -> str | None:
    """The pair a drill test's id names (``drills/test_x.py::test_y[pair-name]``, or
    ``[pair-name-run2of3]`` when repeated)."""
    nodeid = drill_id(nodeid)
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    return nodeid[nodeid.rindex("[") + 1:-1]


def scheduler(config, log, pairs: list[Pair], hosts: list[str] = ()):
    """xdist's loadscope scheduler whose scope is a drill's lab group (a test naming no known
    pair is a scope of its own); each drill its own scope when every worker has its own engine
    (the runs of a repeated drill one scope: one after another, run 1 first)."""
    from xdist.scheduler import LoadScopeScheduling
    if own_engines(config, list(hosts)):
        class OwnEngines(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return drill_id(nodeid)
        return OwnEngines(config, log)
    groups = lab_groups(pairs)
    by_name = {pair.name: groups[pair.folder] for pair in pairs}

    class LabScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return by_name.get(pair_id(nodeid) or "", nodeid)

    return LabScheduling(config, log)
