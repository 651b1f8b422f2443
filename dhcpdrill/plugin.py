"""The pytest plugin: ``pytest drills/`` selects pairs, builds the lab image once, runs each drill
against real containers and leaves JUnit evidence plus a summary.

Pairs come from ``--pair PATH`` (repeatable; a folder holding pair folders counts too), else from
``$DHCPDRILL_PAIRS`` (``:``-separated), else every pair folder directly under ``fixtures/``.
Every pair is checked before the first container starts; a bad one stops the run with each
problem named.

The plugin is registered for every pytest session of the environment it is installed in, and acts
only in a session that drills. A **drill test** is one that uses the ``drill`` fixture (through it,
the ``dhcpdrill_pair`` parameter: the plugin parametrizes no other test, and claims no generic
name: a suite's own ``pair`` or ``drill`` fixture wins as pytest's own precedence says). A session
**drills** when it collects a drill test, or (``named_drills``, asked before anything is collected,
as an xdist controller must) when its command line names drills: a drill option such as
``--pair``, a path inside a ``drills/`` folder (``pytest drills/``; plain ``pytest`` here, whose
testpaths include it), or ``--pyargs dhcpdrill.drills``. Only such a session has SIGTERM (and a
SIGINT its shell ignored) turned into a Ctrl-C (CI timeouts and interrupts then clean up), its ``longer`` drills deselected, the drills' xdist
scheduling, and reports written; another session runs as if the plugin were not there (it still
lists the ``dhcpdrill`` options and the ``drill``/``longer`` markers).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import NoReturn

import pytest

from .catalogue import known_scenarios
from .drill import DrillResult, Scenario, drill_window, run_drill
from .images import BUILDERS, DATABASES, REAL_CLIENTS, ensure_image, packages
from .lab import Engine, docker_client
from .outcome import EXPECTED, FAILED
from .manifest import drill_problems, name_clashes
from .pair import Pair, load_pair, pair_folders, pair_warnings
from .problems import LabError, PairError
from .report import NotRun
from .servers import adapter_for
from . import evidence, gonogo, neighbours, parallel, realclients, report, shards

KEY = pytest.StashKey["DrillSession"]()
DEFAULT_WORKERS = pytest.StashKey[int]()
RESULTS = pytest.StashKey[list]()  # on a drill test's item: the results its drill.run calls judged
REFUSED = "dhcpdrill / run refused"  # the JUnit suite of a refused run
DRILL_PROPERTY = "dhcpdrill_drill"  # a drill test's user property: "pair / drill", set before it may skip
PAIR_PARAM = "dhcpdrill_pair"  # the parameter a drill test runs once per pair for (no generic name: see above)
SIGTERM_BEFORE = pytest.StashKey[dict]()  # the signal handlers a drilling session replaced (TRAPPED)
V6_PAIR = "v6_pair"  # the fixture of the DHCPv6 drills
DRILL_OPTIONS = ("pair", "reports_dir", "longer", "drill_catalogue", "go_no_go", "repeat", "accept_hazard",
                 "shard", "docker_host", "v6_pair")  # given on the command line, each names drills (no env-set default)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dhcpdrill", "DHCP failover drills")
    group.addoption("--pair", action="append", default=[], metavar="PATH",
                    help="pair folder to drill, or a folder of pair folders; repeatable "
                         "(default: $DHCPDRILL_PAIRS, else the pairs under fixtures/)")
    group.addoption("--reports-dir", default=None, metavar="DIR",
                    help="where drills leave their evidence (default: reports/ in the rootdir)")
    group.addoption("--image-builder", choices=BUILDERS, default=os.environ.get("DHCPDRILL_IMAGE_BUILDER", "auto"),
                    help="how to build the lab image: mmdebstrap (offline, default when installed) "
                         "or dockerfile (needs debian:<suite> pullable)")
    group.addoption("--max-window", type=float, default=float(os.environ.get("DHCPDRILL_MAX_WINDOW_S", 600)),
                    metavar="S", help="longest a drill may watch after its fault; a pair whose timers or "
                                      "thresholds need longer is refused before anything starts (default 600 s)")
    group.addoption("--v6-pair", default=None, metavar="PATH",
                    help="the DHCPv6 pair drills/test_v6_kill_primary.py drills (default: "
                         "fixtures/v6/kea-hot-standby-v6; docs/dhcpv6.md \"DHCPv6 (first slice)\")")
    group.addoption("--longer", action="store_true",
                    help="also run the drills marked 'longer' (gray failures measured too few times, or too "
                         "heavy for the default run beside other labs; docs/drills.md \"The longer run\")")
    group.addoption("--drill-catalogue", action="store_true",
                    help="list every drill for each pair (name, -k expression, fault, window, verdicts, keys, "
                         "expected duration) and exit without starting anything")
    group.addoption("--go-no-go", action="store_true",
                    help="before a maintenance window: run only the drills a team must see pass (Kea: "
                         "kill-primary, maintenance-handoff, failback; dhcpd: kill-primary, failback), each "
                         f"{gonogo.DEFAULT_REPEAT} times unless --repeat says otherwise, and end with one GO / NO-GO "
                         "line (exit 1 on NO-GO)")
    group.addoption("--repeat", type=run_count, default=None, metavar="N",
                    help="run each selected drill N times, each a full drill with its own run folder and evidence; "
                         "the summary, HTML and JUnit give each drill's pass rate (default 1; with --go-no-go "
                         f"{gonogo.DEFAULT_REPEAT}, see docs/results.md 'Go / no-go')")
    group.addoption("--accept-hazard", action="append", default=[], metavar="PAIR/DRILL",
                    help="with --go-no-go: accept the known hazard PAIR's pair.toml declares for must-pass DRILL "
                         "(e.g. kea-load-balancing/failback), so runs it spared may say GO (a failed run never "
                         "does); written into the line, the HTML, the JUnit and the evidence archive; repeatable")
    group.addoption("--shard", default=None, metavar="I/N",
                    help="run only shard I of N: a deterministic split of the drills by expected duration, "
                         "for a CI matrix of N jobs (every drill runs in exactly one)")
    group.addoption("--drill-progress", choices=("auto", "on", "off"),
                    default=os.environ.get("DHCPDRILL_PROGRESS", "auto"),
                    help="one line per drill phase with the time left: on, off, or auto (on at a terminal, "
                         "off when output is not a terminal or $CI is set)")
    group.addoption("--docker-host", action="append", default=[], metavar="URL",
                    help="Docker engine to drill on (a DOCKER_HOST URL: unix://, tcp://, ssh://); repeatable: "
                         "with -n N, worker K drives engine K mod N (default: $DHCPDRILL_DOCKER_HOSTS, comma-"
                         "separated, else DOCKER_HOST)")
    group.addoption("--real-clients", type=real_client_kinds, default=(), metavar="KINDS",
                    help="run real DHCP client daemons beside the simulated clients in every drill, one container "
                         f"each, judged per kind (comma-separated: {','.join(realclients.KINDS)}; a pair can ask "
                         "for them itself with [lab] real_clients; docs/clients.md \"Real clients\")")
    group.addoption("--apt-mirror", default=os.environ.get("DHCPDRILL_APT_MIRROR"), metavar="URL",
                    help="Debian mirror for mmdebstrap (default: this host's own apt sources)")


def real_client_kinds(text: str) -> tuple[str, ...]:
    """``--real-clients``' value: known client kinds, comma-separated."""
    try:
        return realclients.parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_count(text: str) -> int:
    """``--repeat``'s value: a whole number of runs, 1 or more."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give how many times to run each drill, a whole number, 1 or more")
    return n


class DrillSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[DrillResult] = []
        self.run_dirs: list[Path] = []  # on an xdist controller: its workers' run folders
        self.not_run: list[NotRun] = []  # drills skipped or refused before they ran
        self.refused: str | None = None  # why the run was refused before any drill was collected
        self._pairs: list[Pair] | None = None
        self._images: dict[str, str] = {}
        self._checked: dict[Path, list[str]] = {}
        self._client = None
        self._engine: Engine | None = None
        self.junit_path: Path | None = None
        self.bundle: tuple[Path, str] | None = None
        self.decision: gonogo.Decision | None = None
        self.accepted: list[gonogo.Acceptance] = []
        opt = config.getoption("--reports-dir")
        self.reports = Path(opt) if opt else config.rootpath / "reports"

    def refuse(self, message: str) -> "NoReturn":
        """Stop the run before anything starts, and keep why: the JUnit written at the session's
        end carries it as an error case, so CI has a file that names the refusal."""
        self.refused = message
        raise pytest.UsageError(message)

    def pairs(self) -> list[Pair]:
        if self._pairs is None:
            problems, pairs = [], []
            for folder in pair_folders(self.config.getoption("--pair"), self.config.rootpath / "fixtures"):
                try:
                    pairs.append(load_pair(folder))
                except PairError as exc:
                    problems.extend(str(p) for p in exc.problems)
            scenarios = known_scenarios()
            verdicts_of = {name: s.verdicts for name, s in scenarios.items()}
            problems += [str(p) for p in name_clashes(pairs)]
            problems += [f"--real-clients: {kind} ({realclients.PACKAGES[kind]}) is not packaged for Debian "
                         f"{pair.suite}, the suite of {pair.folder / 'pair.toml'}: drop {kind} from --real-clients, "
                         "or leave that pair out of this run"
                         for pair in pairs for kind in self.config.getoption("--real-clients")
                         if realclients.PACKAGES[kind] not in packages(pair.suite, REAL_CLIENTS)]
            problems += [str(p) for pair in pairs for p in drill_problems(pair, verdicts_of)]
            if scenarios:
                problems += [p for pair in pairs for p in window_problems(pair, scenarios,
                                                                          self.config.getoption("--max-window"))]
            if problems:
                self.refuse("pair check failed, nothing was started:\n  " + "\n  ".join(problems))
            if not pairs:
                self.refuse("no pair to drill: give --pair PATH (a folder with pair.toml)")
            for pair in pairs:
                for line in pair_warnings(pair):
                    warnings.warn(pytest.PytestWarning(line))
            self._pairs = pairs
        return self._pairs

    def repeat(self) -> int:
        """Runs of each selected drill: ``--repeat``, else ``gonogo.DEFAULT_REPEAT`` for a go/no-go, else 1."""
        n = self.config.getoption("--repeat")
        return n if n is not None else gonogo.DEFAULT_REPEAT if self.config.getoption("--go-no-go") else 1

    def accept_hazards(self) -> list[gonogo.Acceptance]:
        """The ``--accept-hazard`` values, each naming a hazard a must-pass drill declares; else the
        run is refused before anything starts."""
        texts = self.config.getoption("--accept-hazard")
        if texts and not self.config.getoption("--go-no-go"):
            self.refuse(f"{gonogo.OPTION} changes only a go/no-go line: add --go-no-go, or drop it")
        self.accepted, problems = gonogo.acceptances(texts, self.pairs()) if texts else ([], [])
        if problems:
            self.refuse("NO-GO: nothing was started:\n  " + "\n  ".join(problems))
        return self.accepted

    def hosts(self) -> list[str]:
        return self.config.getoption("--docker-host") or \
            [h for h in os.environ.get("DHCPDRILL_DOCKER_HOSTS", "").split(",") if h.strip()]

    def client(self):
        """This process's engine: its share of ``--docker-host`` (``parallel.engine_for``), else DOCKER_HOST."""
        if self._client is None:
            host = parallel.engine_for(parallel.worker_id(self.config), self.hosts())
            if host:
                os.environ["DOCKER_HOST"] = host  # the SDK, and the sentinel's socket, follow it
            self._client = docker_client()
        return self._client

    def image(self, suite: str) -> str:
        """The lab image for ``suite``, built here the first time (never pulled; one build at a
        time on this host, so parallel workers do not build the same image twice)."""
        if suite not in self._images:
            with parallel.host_lock(f"image-{suite}"):
                self._images[suite] = ensure_image(self.client(), suite, self.config.getoption("--image-builder"),
                                                   self.config.getoption("--apt-mirror"))
        return self._images[suite]

    def real_clients_image(self, suite: str) -> str:
        """The real-clients image for ``suite`` (``images.REAL_CLIENTS``), built here the first
        time a drill runs real clients: a default run never builds it."""
        key = f"{suite}-real-clients"
        if key not in self._images:
            with parallel.host_lock(f"image-{key}"):
                self._images[key] = ensure_image(self.client(), suite, self.config.getoption("--image-builder"),
                                                 self.config.getoption("--apt-mirror"), listing=REAL_CLIENTS)
        return self._images[key]

    def database_image(self, suite: str) -> str:
        """The lease-database image for ``suite`` (``images.DATABASES``), built here the first
        time a pair with a SQL lease database is drilled: a default run never builds it."""
        key = f"{suite}-databases"
        if key not in self._images:
            with parallel.host_lock(f"image-{key}"):
                self._images[key] = ensure_image(self.client(), suite, self.config.getoption("--image-builder"),
                                                 self.config.getoption("--apt-mirror"), listing=DATABASES)
        return self._images[key]

    def engine(self, suite: str) -> Engine:
        """The session's hold on the engine: its sentinel is started (from ``suite``'s image) before
        anything else, then what dead sessions left is swept."""
        if self._engine is None:
            engine = Engine(self.client(), self.image(suite))
            _report_sweep(engine.start())
            self._engine = engine
            self._warn_small_neighbour_table(engine)
        return self._engine

    def _warn_small_neighbour_table(self, engine: Engine) -> None:
        """Say before the first drill if the host's neighbour table is too small for the largest
        population among the pairs (``neighbours``)."""
        big = max(self.pairs(), key=lambda p: p.population.clients if p.population else 0)
        if not big.population:
            return
        try:
            _, limit = neighbours.parse(engine.shell(neighbours.SCRIPT, what="read the host's neighbour table limit"))
        except Exception:  # noqa: BLE001 - each drill records (or says it could not record) the table itself
            return
        line = neighbours.shortfall(limit, big.population.clients, big.name)
        if line:
            warnings.warn(pytest.PytestWarning(line))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def server_check(self, pair: Pair) -> list[str]:
        """The servers' own config checkers, once per pair, before its first drill starts a lab."""
        if pair.folder not in self._checked:
            problems = adapter_for(pair).check_in_image(self.engine(pair.suite), self.image(pair.suite), pair)
            self._checked[pair.folder] = [str(p) for p in problems]
        return self._checked[pair.folder]


def window_problems(pair: Pair, scenarios: dict[str, Scenario], max_window_s: float) -> list[str]:
    """Drills of ``pair`` whose observation window (from its timers and thresholds) exceeds the limit."""
    out = []
    for name in sorted(pair.drills.keys() & scenarios.keys()):
        _, window = drill_window(pair, scenarios[name])
        if window.observe_s > max_window_s:
            lower = "lower max_takeover_s, or " if window.reason.startswith("max_takeover_s") else ""
            out.append(f"{pair.folder / 'pair.toml'}: drills.{name}: would watch {window.observe_s:g} s "
                       f"(~{window.observe_s / 60:.0f} min) after its fault ({window.reason}), longer than "
                       f"--max-window {max_window_s:g} s — {lower}run with --max-window {window.observe_s:g} "
                       "(or DHCPDRILL_MAX_WINDOW_S) if you mean it: it runs its full length with a progress line")
    return out


def _report_sweep(removed: list[str]) -> None:
    if removed:
        warnings.warn(pytest.PytestWarning("removed what sessions that are no longer running left: "
                                           + ", ".join(removed)))


class DrillRunner:
    """What a drill test gets: ``drill.run(SCENARIO)`` returns the judged result."""

    def __init__(self, session: DrillSession, pair: Pair, node: pytest.Item, label: str = "") -> None:
        self.session, self.pair, self.node = session, pair, node
        self.label = label  # the run folder's suffix when the drill is repeated

    def run(self, scenario: Scenario) -> DrillResult:
        """Run the scenario and judge it. A pair that states no expectations for this drill skips
        it (saying so). The judged result is recorded on the test, and the plugin reports the test
        from it whatever the test body does (``pytest_runtest_makereport``)."""
        self.node.user_properties.append((DRILL_PROPERTY, f"{self.pair.name} / {scenario.name}"))
        if scenario.name not in self.pair.drills:
            pytest.skip(f"{self.pair.name} states no [drills.{scenario.name}] expectations in its pair.toml")
        try:
            image = self.session.image(self.pair.suite)
            engine = self.session.engine(self.pair.suite)
            to_suite = self.pair.drills[scenario.name].to_suite
            if to_suite:  # a rolling upgrade's target image is built before its lab starts
                self.session.image(to_suite)
            problems = self.session.server_check(self.pair)
            real = tuple(self.node.config.getoption("--real-clients")) + self.pair.real_clients
            real_image = self.session.real_clients_image(self.pair.suite) if real else None
            database_image = self.session.database_image(self.pair.suite) if adapter_for(self.pair).lab_plan(self.pair).databases else None
        except LabError as exc:
            pytest.fail(f"lab unavailable: {exc}", pytrace=False)
        if problems:
            pytest.fail("the servers' own checkers refused the pair:\n  " + "\n  ".join(problems), pytrace=False)
        result = run_drill(engine, self.pair, scenario, image, self.session.reports, progress=self._progress,
                           image_for=self.session.image, label=self.label, real_clients=real, real_image=real_image,
                           database_image=database_image)
        evidence.record_run(result)  # now, not at the end: an xdist controller reads it from the run folder
        self.session.results.append(result)
        self.node.stash.setdefault(RESULTS, []).append(result)
        self.node.user_properties.append((parallel.RUN_PROPERTY, str(result.run_dir)))
        self.node.user_properties.append(("pair_config_sha256", self.pair.config_hash))
        for v in result.verdicts:
            self.node.user_properties.append((v.name, f"{v.status} {'' if v.figure is None else v.figure}".strip()))
        return result


    def _progress(self, line: str) -> None:
        """A live line on the terminal (not captured) as a drill moves through its phases. An
        xdist worker's terminal reporter reaches no terminal, so a worker writes to the stderr it
        shares with the controller, its lines marked with its id. Whether that is a terminal is
        asked with capture suspended (a captured stream never is one)."""
        config = self.node.config
        worker = parallel.worker_id(config)
        terminal, capture = (config.pluginmanager.get_plugin(name) for name in ("terminalreporter", "capturemanager"))
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            out = sys.stderr if worker else sys.stdout
            if not progress_wanted(config.getoption("--drill-progress"), out.isatty(), os.environ):
                return
            if worker:
                out.write(f"  [{worker}] {line}\n")
                out.flush()
            elif terminal is not None:
                terminal.write_line(f"  {line}")


def progress_wanted(choice: str, tty: bool, env) -> bool:
    """Progress lines at a terminal; quiet in CI logs unless asked for."""
    return choice == "on" or (choice == "auto" and tty and not env.get("CI"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """``pytest drills/`` over pairs that can run side by side runs them on the measured number of
    xdist workers unless the user said otherwise (``-n 0``: one drill at a time)."""
    ns = early_config.known_args_namespace
    if not hasattr(ns, "numprocesses") or os.environ.get("PYTEST_XDIST_WORKER"):
        return  # pytest-xdist not loaded (-p no:xdist), or this is one of its workers
    asked = ns.numprocesses is not None or ns.dist != "no" or bool(getattr(ns, "tx", None))
    needs_serial = bool(ns.usepdb or getattr(ns, "trace", False) or ns.collectonly or ns.capture == "no"
                        or getattr(ns, "drill_catalogue", False))
    drills = parallel.targets_drills(ns.file_or_dir) or (bool(getattr(ns, "pyargs", False)) and bool(ns.file_or_dir)
                                                         and all(map(installed_drills, ns.file_or_dir)))
    groups = 0
    if drills and not asked and not needs_serial:
        try:
            pairs = [load_pair(f) for f in pair_folders(ns.pair, early_config.rootpath / "fixtures")]
        except PairError:
            return  # the session's pair check names the problem before anything starts
        groups = len(set(parallel.lab_groups(pairs).values()))
    workers = parallel.default_workers(drills, asked, needs_serial, os.cpu_count() or 1, groups)
    if workers:
        args[:] = ["-n", str(workers), *args]
        early_config.stash[DEFAULT_WORKERS] = workers


def pytest_report_header(config: pytest.Config) -> str | None:
    workers = config.stash.get(DEFAULT_WORKERS, 0)
    if workers:
        return (f"dhcpdrill: {workers} workers by default (pairs side by side, figures measured to stay "
                f"within serial runs' spread); -n 0 runs one drill at a time")
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill: runs real DHCP servers in Docker (minutes, needs a Docker engine)")
    config.addinivalue_line("markers", "longer: a drill of the longer run, deselected unless --longer is given")
    config.stash[KEY] = DrillSession(config)  # inert until a drill test asks it for pairs
    config.pluginmanager.register(RunFolders(config.stash[KEY]), "dhcpdrill-run-folders")
    if named_drills(config):
        _trap_sigterm(config)


def named_drills(config: pytest.Config) -> bool:
    """Whether the command line names drills, before anything is collected: a drill option given
    (``DRILL_OPTIONS``), a test path inside a ``drills/`` folder (below the rootdir), or ``--pyargs
    dhcpdrill.drills[.module]``. ``config.args`` holds the testpaths when no path was given."""
    option = config.option
    if any(getattr(option, name, None) not in (None, False, []) for name in DRILL_OPTIONS):
        return True
    for arg in config.args:
        target = arg.split("::", 1)[0]
        if getattr(option, "pyargs", False) and installed_drills(arg):
            return True
        path = (config.invocation_params.dir / target).resolve()
        if not path.exists():
            continue
        try:
            parts = path.relative_to(config.rootpath.resolve()).parts
        except ValueError:
            parts = path.parts
        if "drills" in parts:
            return True
    return False


def installed_drills(arg: str) -> bool:
    """Whether a ``--pyargs`` argument names the installed drills (``dhcpdrill.drills[.test_x][::test]``)."""
    target = arg.split("::", 1)[0]
    return target == "dhcpdrill.drills" or target.startswith("dhcpdrill.drills.")


def is_drill_test(item: pytest.Item) -> bool:
    """Whether ``item`` runs drills: it uses the harness's ``drill`` fixture (``PAIR_PARAM``)."""
    return PAIR_PARAM in getattr(item, "fixturenames", ())


def is_v6_drill(item: pytest.Item) -> bool:
    """Whether ``item`` is a DHCPv6 drill (issue 30's first slice): it uses the ``v6_pair`` fixture,
    runs its own lab (``drill6``) and, like a ``longer`` drill, only with ``--longer``."""
    return V6_PAIR in getattr(item, "fixturenames", ())


# The handlers a drilling session replaces, and what each must be for it to be replaced: SIGTERM
# at its default (a CI timeout), SIGINT ignored (a shell that starts a command in the background
# without job control, ``cmd &`` in a script, has it ignore SIGINT: Ctrl-C, ``kill -INT`` and
# ``timeout -s INT`` then did nothing and the drill ran on with its fault applied, issue 28).
TRAPPED = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.SIG_IGN}


def _trap_sigterm(config: pytest.Config) -> None:
    """In a drilling session: make a default SIGTERM, and an ignored SIGINT, a Ctrl-C, so a CI
    timeout or an interrupt removes the labs (restored when the session ends). A handler the
    session's own code installed is left alone."""
    if SIGTERM_BEFORE in config.stash:
        return
    replaced = {}
    try:
        for sig, when in TRAPPED.items():
            if signal.getsignal(sig) is when:
                signal.signal(sig, signal.default_int_handler)
                replaced[sig] = when
    except ValueError:  # not the main thread: signals cannot be set there
        pass
    config.stash[SIGTERM_BEFORE] = replaced


def _release_sigterm(config: pytest.Config) -> None:
    for sig, before in config.stash.get(SIGTERM_BEFORE, {}).items():
        if signal.getsignal(sig) is signal.default_int_handler:
            try:
                signal.signal(sig, before)
            except ValueError:
                pass


@pytest.hookimpl(trylast=True)  # after -k/-m: a shard splits what is left to run
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """In a drilling session only (see the module's docstring): the catalogue, hazards accepted,
    ``longer`` drills left out, the go/no-go's and the shard's selection; SIGTERM trapped."""
    if not any(is_drill_test(item) or is_v6_drill(item) for item in items) and not named_drills(config):
        return
    if config.getoption("--drill-catalogue"):
        _print_catalogue(config, items)
    config.stash[KEY].accept_hazards()
    if not config.getoption("--longer"):
        _deselect_longer(config, items)
    if config.getoption("--go-no-go"):
        _select_go_no_go(config, items)
    if config.getoption("--shard"):
        _select_shard(config, items)
    if any(is_drill_test(item) for item in items):
        _trap_sigterm(config)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With pytest-xdist (``-n N``), drills are dealt by lab group (``parallel``): a pair's drills,
    and pairs whose lab networks overlap, run one after another on one worker; other pairs side
    by side. The user's own ``--dist`` other than the default ``load`` is left alone."""
    if config.getvalue("dist") != "load" or not named_drills(config):
        return None  # the user's own --dist, or a session that does not drill: xdist's own scheduling
    session = config.stash[KEY]
    return parallel.scheduler(config, log, session.pairs(), session.hosts())


def _deselect_longer(config: pytest.Config, items: list) -> None:
    """The default run leaves out drills marked ``longer``; ``--longer`` runs them too. Another
    suite's tests marked ``longer`` are not drills, and are left alone."""
    longer = [item for item in items if item.get_closest_marker("longer") and (is_drill_test(item) or is_v6_drill(item))]
    if longer:
        config.hook.pytest_deselected(items=longer)
        items[:] = [item for item in items if item not in longer]


def _select_shard(config: pytest.Config, items: list) -> None:
    """Keep this job's shard of the drills (``shards``); each costs its expected duration, a
    drill the pair does not state (skipped at once) costs nothing."""
    from .drill import expected_s
    try:
        index, count = shards.parse(config.getoption("--shard"))
    except ValueError as exc:
        config.stash[KEY].refuse(str(exc))
    scenario_of = {e.test: e.scenario for e in _entries(items)}
    costs = {}
    for item in items:
        pair, scenario = _drill_of(item, scenario_of)
        stated = pair is not None and scenario is not None and scenario.name in pair.drills
        costs[item.nodeid] = expected_s(pair, scenario) if stated else 0.0
    mine = set(shards.split(costs, count)[index - 1])
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in mine])
    items[:] = [item for item in items if item.nodeid in mine]


def _drill_of(item, scenario_of: dict) -> tuple:
    """(pair, scenario) a collected drill test runs, either None when it is not one."""
    pair = getattr(getattr(item, "callspec", None), "params", {}).get(PAIR_PARAM)
    return pair, scenario_of.get(getattr(item, "originalname", None))


def _entries(items: list) -> list:
    from .catalogue import drills_in
    modules = {item.module for item in items if getattr(item, "module", None) is not None}
    return sorted((e for m in modules for e in drills_in(m)), key=lambda e: (e.test, e.scenario.name))


def _select_go_no_go(config: pytest.Config, items: list) -> None:
    """Keep each pair's must-pass drills only; a pair lacking one is refused before anything starts."""
    missing = gonogo.missing_drills(config.stash[KEY].pairs())
    if missing:
        config.stash[KEY].refuse("NO-GO: nothing was started, a must-pass drill has no expectations:\n  "
                                 + "\n  ".join(map(str, missing)))
    scenario_of = {e.test: e.scenario for e in _entries(items)}
    keep, runs = [], set()
    wanted = {(p.folder, name) for p in config.stash[KEY].pairs() for name in gonogo.must_pass(p)}
    for item in items:
        pair, scenario = _drill_of(item, scenario_of)
        run = (None, None) if pair is None or scenario is None else \
            (pair.folder, scenario.name, item.callspec.params.get(REPEAT_PARAM, 1))
        if run[:2] in wanted and run not in runs:  # every repetition, each once
            keep.append(item)
            runs.add(run)
    wanted -= {run[:2] for run in runs}
    if wanted:
        config.stash[KEY].refuse("NO-GO: nothing was started: no collected test runs "
                                 + ", ".join(sorted(f"{folder.name} / {name}" for folder, name in wanted))
                                 + "; run `pytest drills/ --go-no-go` (not a single file or -k)")
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def _print_catalogue(config: pytest.Config, items: list) -> None:
    from .catalogue import lines
    entries = _entries(items)
    pairs = config.stash[KEY].pairs()
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    for line in lines(pairs, entries):
        terminal.write_line(line)
    pytest.exit("drill catalogue printed; nothing was started", returncode=0)


REPEAT_PARAM = "dhcpdrill_repetition"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A drill test runs once per pair, and ``--repeat N`` times for each (ids ``[pair-run2of3]``:
    the xdist scheduler reads the pair back from them, ``parallel.pair_id``). Only drill tests:
    those whose fixtures include ``PAIR_PARAM``, which only the ``drill`` fixture requests."""
    if PAIR_PARAM not in metafunc.fixturenames:
        return
    pairs = metafunc.config.stash[KEY].pairs()
    metafunc.parametrize(PAIR_PARAM, pairs, ids=[p.name for p in pairs])
    repeat = metafunc.config.stash[KEY].repeat()
    if REPEAT_PARAM in metafunc.fixturenames and repeat > 1:
        metafunc.parametrize(REPEAT_PARAM, range(1, repeat + 1),
                             ids=[parallel.repetition_id(i, repeat) for i in range(1, repeat + 1)])


@pytest.fixture
def dhcpdrill_repetition() -> int:
    """Which run of a repeated drill this test is (1 when the drill runs once)."""
    return 1


@pytest.fixture
def drill(dhcpdrill_pair: Pair, dhcpdrill_repetition: int, request: pytest.FixtureRequest) -> DrillRunner:
    """The drill tests' one fixture: ``drill.run(SCENARIO)`` against the pair this test runs for."""
    request.node.add_marker("drill")
    session = request.config.stash[KEY]
    repeat = session.repeat()
    label = f"-{parallel.repetition_id(dhcpdrill_repetition, repeat)}" if repeat > 1 else ""
    return DrillRunner(session, dhcpdrill_pair, request.node, label)


@pytest.fixture
def drill_session(request: pytest.FixtureRequest) -> DrillSession:
    return request.config.stash[KEY]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A drill test's status is its drills' outcome, whether or not its body asserts anything:
    a FAIL (an UNKNOWN deciding verdict, an error, a hazard beyond its bound) fails it with the
    reasons; a known hazard that failed as stated makes it xfail; a PASS leaves the body's own
    result standing."""
    made = yield
    results = item.stash.get(RESULTS, [])
    if call.when == "call" and results:
        apply_outcomes(made.get_result(), results)


def apply_outcomes(rep: pytest.TestReport, results: list[DrillResult]) -> None:
    """Set ``rep`` from the drills' outcomes (see ``pytest_runtest_makereport``)."""
    failed = [r for r in results if r.outcome.status == FAILED]
    if failed:
        body = f"\n\nthe test body also failed:\n{rep.longreprtext}" if rep.failed else ""
        rep.outcome = "failed"
        rep.longrepr = "\n".join(f"{r.pair.name} / {r.scenario.name}: FAIL\n  " + "\n  ".join(r.outcome.reasons)
                                 for r in failed) + body
        if hasattr(rep, "wasxfail"):
            del rep.wasxfail
    elif rep.passed and any(r.outcome.status == EXPECTED for r in results):
        rep.outcome, rep.longrepr = "skipped", None
        rep.wasxfail = "; ".join(f"{r.outcome.reasons[0]}; failed as expected: {', '.join(r.outcome.as_expected)}"
                                 for r in results if r.outcome.status == EXPECTED)


class RunFolders:
    """Collects, on an xdist controller, the run folders its workers' drills left (judged there)."""

    def __init__(self, session: "DrillSession") -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(getattr(report, "user_properties", ()))
        for name, value in getattr(report, "user_properties", ()):
            if name == parallel.RUN_PROPERTY and Path(value) not in self.session.run_dirs:
                self.session.run_dirs.append(Path(value))
        if DRILL_PROPERTY in props and parallel.RUN_PROPERTY not in props and (report.skipped or report.failed) \
                and report.when != "teardown":  # a drill that never ran still gets its JUnit case
            why = report.longrepr[2].removeprefix("Skipped: ") if report.skipped and isinstance(report.longrepr, tuple) \
                else report.longreprtext
            self.session.not_run.append(NotRun(props[DRILL_PROPERTY], report.nodeid,
                                               "skipped" if report.skipped else "error", why))


def pytest_sessionfinish(session: pytest.Session) -> None:
    ds = session.config.stash.get(KEY, None)
    if ds is None or parallel.worker_id(session.config):
        return  # a worker's drills are reported by the controller, from their run folders
    if not ds.results and ds.run_dirs:
        ds.results = parallel.results_from(ds.run_dirs, ds.pairs())
    if session.config.getoption("--go-no-go") and not session.config.option.collectonly and \
            (ds._pairs is not None or ds.results):
        if not ds.accepted:  # an xdist controller collects nothing: its workers refused bad ones
            ds.accepted = gonogo.acceptances(session.config.getoption("--accept-hazard"), ds.pairs())[0]
        ds.decision = gonogo.decide(ds.pairs(), ds.results, ds.repeat(), ds.accepted)
        ds.reports.mkdir(parents=True, exist_ok=True)
        (ds.reports / gonogo.FILE_NAME).write_text(ds.decision.line + "\n")
        if not ds.decision.go and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a known hazard's xfail is not a GO
    if ds.refused and not ds.results:  # refused before anything started: CI still gets a file naming why
        ds.not_run.append(NotRun(REFUSED, " ".join(session.config.invocation_params.args) or "pytest", "error",
                                 ds.refused))
    if ds.results or ds.not_run:  # every run of drills leaves JUnit, even one where none ran
        line = ds.decision.line if ds.decision else None
        if line is None:
            (ds.reports / gonogo.FILE_NAME).unlink(missing_ok=True)  # an earlier run's, not this one's
        ds.junit_path = report.write(ds.results, ds.reports, line, ds.accepted, not_run=ds.not_run)
    if ds.results:
        ds.bundle = evidence.bundle(ds.results, ds.reports, evidence.engine_identity(ds.client()),
                                    [Path(sys.argv[0]).name, *sys.argv[1:]], accepted=ds.accepted)


def pytest_unconfigure(config: pytest.Config) -> None:
    _release_sigterm(config)
    ds = config.stash.get(KEY, None)
    if ds is not None:
        ds.close()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    ds = config.stash.get(KEY, None)
    if ds is None:
        return
    if ds.results:
        _summarise(terminalreporter, ds)
    elif ds.junit_path is not None:
        terminalreporter.write_sep("=", "DHCP failover drills: none ran")
        terminalreporter.write_line(f"JUnit evidence for CI and audits: {ds.junit_path}")
    if ds.decision is not None:
        terminalreporter.write_sep("=", ds.decision.line, bold=True, green=ds.decision.go, red=not ds.decision.go)


def _summarise(terminalreporter, ds: DrillSession) -> None:
    terminalreporter.write_sep("=", "DHCP failover drills")
    for r in ds.results:
        terminalreporter.write_line(report.summary(r, ds.results))
    for line in report.pass_rates(ds.results):
        terminalreporter.write_line(f"pass rate: {line}")
    terminalreporter.write_line(f"JUnit evidence for CI and audits: {ds.junit_path}")
    terminalreporter.write_line(f"Human report with timeline pictures: {ds.reports / report.HTML_NAME}")
    if ds.bundle is not None:
        path, digest = ds.bundle
        terminalreporter.write_line(f"Evidence archive: {path} (manifest sha256 {digest}); check it any time with: "
                                    f"dhcpdrill-verify {path} --manifest-sha256 {digest}")
