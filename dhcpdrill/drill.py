"""Run one scenario against one pair: build the lab, record the timeline, judge it.

Nothing is judged while the drill runs. The steps are: pair up and ready (asked, not slept on),
clients leased (steady state), the fault with its proof, an observation window, then the evidence
(client packets, server logs, both lease databases) goes onto the timeline and the verdicts read it.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from docker.errors import DockerException

from .clients import ClientFleet, Workload
from .images import server_versions
from .faults import CLOCK_FILE, Fault, FaultContext, inject, needs_clock_control
from .lab import Engine, Lab
from .expectations import ROLES, KnownHazard
from .manifest import Pair
from .problems import LabError
from .servers import adapter_for
from .timeline import Timeline
from .outcome import FAILED, Outcome, decide
from .verdicts import Verdict, judge

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Scenario:
    """A fault choreography and what to judge after it; thresholds come from the pair."""

    name: str
    title: str
    fault: Fault
    observe_s: float
    dwell_s: float = 5.0
    after_heal_s: float = 0.0
    verdicts: tuple[str, ...] = ("steady-state", "fault-effective", "takeover", "state-transitions",
                                 "duplicates", "continuity", "reply-checksums")
    workload: Workload = field(default_factory=Workload)


@dataclass
class DrillResult:
    pair: Pair
    scenario: Scenario
    image: str
    run_dir: Path
    started: float
    timeline: Timeline = field(default_factory=Timeline)
    verdicts: list[Verdict] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
    rewrites: tuple[str, ...] = ()
    versions: str = ""  # the servers' exact versions and the image ID

    @property
    def hazard(self) -> KnownHazard | None:
        limits = self.pair.drills.get(self.scenario.name)
        return limits.known_hazard if limits else None

    @property
    def outcome(self) -> Outcome:
        return decide(self.verdicts, self.error, self.hazard)

    def verdict(self, name: str) -> Verdict:
        return next(v for v in self.verdicts if v.name == name)

    def assert_verdicts(self) -> None:
        """Fail the test unless the drill passed (or failed exactly as its known hazard says)."""
        outcome = self.outcome
        assert outcome.status != FAILED, f"{self.pair.name} / {self.scenario.name}:\n  " + "\n  ".join(outcome.reasons)


def run_drill(engine: Engine, pair: Pair, scenario: Scenario, image: str, reports: Path) -> DrillResult:
    """Run one drill and judge it. However it ends (a server that never gets ready, a fault that
    raises, an engine that stops answering) the servers' logs and lease files are collected as far
    as the engine allows, the error names what each daemon last complained of, and the timeline is
    saved and judged."""
    started = time.time()
    stamp = datetime.fromtimestamp(started, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = DrillResult(pair, scenario, image, reports / f"{stamp}-{pair.name}-{scenario.name}", started)
    limits = pair.thresholds(scenario.name)
    adapter = adapter_for(pair)
    plan = adapter.lab_plan(pair)
    result.rewrites = plan.rewrites
    tl = result.timeline
    try:
        result.versions = server_versions(engine, image)
        with Lab(engine, image, result.run_dir) as lab:
            try:
                _perform(lab, adapter, plan, pair, scenario, image, tl, result.versions)
            except Exception as exc:  # noqa: BLE001 - any failure is reported as this drill's error
                result.error = _describe(exc, result.run_dir) + _daemons_said(lab, adapter)
            finally:
                try:
                    adapter.collect(lab, pair, tl)
                except Exception as exc:  # noqa: BLE001
                    result.error = (result.error + "; " if result.error else "") + \
                        "evidence not collected: " + _describe(exc, result.run_dir)
    except Exception as exc:  # noqa: BLE001 - the lab could not be built or removed, or the engine went away
        result.error = (result.error + "; " if result.error else "") + _describe(exc, result.run_dir)
    finally:
        result.duration = time.time() - started
        result.run_dir.mkdir(parents=True, exist_ok=True)
        tl.save(result.run_dir / "timeline.jsonl")
    result.verdicts = judge(tl, limits, scenario.verdicts)
    return result


def _perform(lab: Lab, adapter, plan, pair: Pair, scenario: Scenario, image: str, tl: Timeline,
             versions: str) -> None:
    """The drill's action: servers up and ready, clients steady, the fault, the observation."""
    gateway, client_ip = plan.spare_addresses()
    net = lab.network(plan.subnet, gateway)
    env, files = dict(adapter.environment), dict(plan.files_in_container)
    if needs_clock_control(scenario.fault):  # daemons read their clock offset from a file
        env.update(adapter.clock_environment)
        files = {role: {**f, CLOCK_FILE: b"+0\n"} for role, f in files.items()}
    for role in ROLES:
        lab.container(role, net, plan.addresses[role], adapter.command(pair, role), files[role], env,
                      pair.sysctls)
    tl.add(time.time(), "harness", "lab", run_id=lab.run_id, image=image, subnet=str(plan.subnet),
           roles={ip: role for role, ip in plan.addresses.items()}, serving=list(plan.serving),
           solo_states=list(plan.solo_states), normal_state=plan.normal_state,
           interrupted_states=list(plan.interrupted_states), sysctls=pair.sysctls,
           pair=pair.name, pair_sha256=pair.config_hash, rewrites=list(plan.rewrites),
           scenario=scenario.name, verdicts=list(scenario.verdicts), versions=versions)
    states = adapter.wait_ready(lab, pair, READY_TIMEOUT_S)
    tl.add(time.time(), "harness", "pair-ready", states=states)
    w = scenario.workload
    fleet = ClientFleet(lab, net, client_ip, w, plan.retrying_clients_needed,
                        lifetime=w.steady_timeout + scenario.dwell_s + scenario.observe_s
                        + scenario.after_heal_s + 120,
                        serving_servers=[plan.addresses[r] for r in plan.serving])
    fleet.start()
    try:
        steady = fleet.wait_steady(w.steady_timeout + 10)
        if steady is not None and steady.kind == "steady":
            time.sleep(scenario.dwell_s)
            with inject(scenario.fault, FaultContext(lab, pair, adapter, plan, tl), tl):
                time.sleep(scenario.observe_s)
            time.sleep(scenario.after_heal_s)
            tl.add(time.time(), "harness", "observe-end")
    finally:
        fleet.stop()
        tl.extend(fleet.events())


def _describe(exc: BaseException, run_dir: Path) -> str:
    """One line for the summary; anything but the lab's own errors also leaves its traceback."""
    if isinstance(exc, requests.ConnectionError) or (isinstance(exc, DockerException) and "Connection" in str(exc)):
        return f"the Docker engine stopped answering ({type(exc).__name__}: {str(exc)[:200]})"
    if isinstance(exc, (LabError, DockerException)):
        return f"{type(exc).__name__}: {exc}"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "error.txt").write_text("".join(traceback.format_exception(exc)))
    return f"{type(exc).__name__}: {exc} (traceback in error.txt)"


def _daemons_said(lab: Lab, adapter) -> str:
    said = []
    for role in ROLES:
        try:
            line = adapter.last_error(lab, role)
        except (LabError, DockerException, requests.RequestException):
            line = None
        if line:
            said.append(f"{role}'s daemon last logged: {line}")
    return (" — " + "; ".join(said)) if said else ""
