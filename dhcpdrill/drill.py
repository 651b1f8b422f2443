"""Run one scenario against one pair: build the lab, record the timeline, judge it.

Nothing is judged while the drill runs. The steps are: pair up and ready (asked, not slept on),
clients leased (steady state), the fault with its proof, an observation window, then the evidence
(client packets, server logs, both lease databases) goes onto the timeline and the verdicts read it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import docker
from docker.errors import DockerException

from .clients import ClientFleet, Workload
from .faults import CLOCK_FILE, Fault, FaultContext, inject, needs_clock_control
from .lab import Lab
from .pair import ROLES, Pair
from .problems import LabError
from .servers import adapter_for
from .timeline import Timeline
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

    @property
    def ok(self) -> bool:
        return self.error is None and all(v.ok for v in self.verdicts)

    def verdict(self, name: str) -> Verdict:
        return next(v for v in self.verdicts if v.name == name)

    def assert_verdicts(self) -> None:
        """Fail the test with every verdict that did not pass (the summary says why)."""
        bad = [f"{v.name}: {v.status}: {v.reason}" for v in self.verdicts if not v.ok]
        assert self.error is None, self.error
        assert not bad, f"{self.pair.name} / {self.scenario.name}:\n  " + "\n  ".join(bad)


def run_drill(client: docker.DockerClient, pair: Pair, scenario: Scenario, image: str,
              reports: Path) -> DrillResult:
    started = time.time()
    stamp = datetime.fromtimestamp(started, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = DrillResult(pair, scenario, image, reports / f"{stamp}-{pair.name}-{scenario.name}", started)
    limits = pair.thresholds(scenario.name)
    adapter = adapter_for(pair)
    plan = adapter.lab_plan(pair)
    gateway, client_ip = plan.spare_addresses()
    result.rewrites = plan.rewrites
    tl = result.timeline
    try:
        with Lab(client, image, result.run_dir) as lab:
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
                   pair=pair.name, pair_sha256=pair.config_hash, rewrites=list(plan.rewrites))
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
                adapter.collect(lab, pair, tl)
    except (LabError, DockerException) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        result.duration = time.time() - started
        result.run_dir.mkdir(parents=True, exist_ok=True)
        tl.save(result.run_dir / "timeline.jsonl")
    result.verdicts = judge(tl, limits, scenario.verdicts)
    return result
