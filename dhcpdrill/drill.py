"""Run one scenario against one pair: build the lab, record the timeline, judge it.

Nothing is judged while the drill runs. The steps are: pair up and ready (asked, not slept on),
clients leased (steady state), the fault with its proof, an observation window, then the evidence
(client packets, server logs, both lease databases) goes onto the timeline and the verdicts read it.
"""
from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import replace
from typing import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests
from docker.errors import DockerException

from . import coverage, databases, hostcpu, neighbours, realclients, relay
from .clientkinds import assign
from .clients import ClientFleet, Link
from .images import server_versions
from .faults import CLOCK_FILE, FaultContext, inject, needs_clock_control
from .lab import Engine, EngineWatch, Lab
from .expectations import BACKUP, ROLES
from .manifest import Pair
from .problems import LabError
from .servers import LabPlan, adapter_for
from .servers.placement import free_addresses
from .storage import lab_tmpfs
from .timeline import Timeline
from .timers import (HealWatch, Window, ready_timeout, wake_after)
from .verdicts import judge

from .runrecord import DrillResult  # noqa: F401  (re-exported: drills and tests import it from here)
from .scenario import (REPLAY_MAX, REPLAY_START_S, SERVICE_GAP_READERS, SETUP_S, Scenario,  # noqa: F401
                       drill_heal_watch, drill_service_gap, drill_window, expected_s, predictions, quiet_plan,
                       verdicts_for)

READY_TIMEOUT_S = 60.0
Progress = Callable[[str], None]


class Phases:
    """Tells the person at the terminal which phase a drill is in and about how long remains
    (from the drill's expected duration for this pair)."""

    def __init__(self, what: str, expected: float, say: Progress) -> None:
        self.what, self.expected, self.say, self.start = what, expected, say, time.monotonic()

    def __call__(self, phase: str) -> None:
        elapsed = time.monotonic() - self.start
        left = f"about {self.expected - elapsed:.0f} s left" if elapsed < self.expected else "running over"
        self.say(f"{self.what}: {phase} — {elapsed:.0f} s in, {left}")


def run_drill(engine: Engine, pair: Pair, scenario: Scenario, image: str, reports: Path,
              progress: Progress | None = None, image_for: Callable[[str], str] | None = None,
              label: str = "", real_clients: tuple[str, ...] = (), real_image: str | None = None,
              database_image: str | None = None) -> DrillResult:
    """Run one drill and judge it. However it ends (a server that never gets ready, a fault that
    raises, an engine that stops answering) the servers' logs and lease files are collected as far
    as the engine allows, the error names what each daemon last complained of, and the timeline is
    saved and judged. ``label`` ends the run folder's name (``-run2of3`` for a repeated drill).
    ``real_clients`` (with the pair's own ``[lab] real_clients``) run as real daemons from
    ``real_image`` beside the simulated clients (``realclients``); a pair with SQL lease databases
    runs them from ``database_image`` (``databases``)."""
    real_clients = tuple(k for k in realclients.KINDS if k in {*real_clients, *pair.real_clients})
    started = time.time()
    stamp = datetime.fromtimestamp(started, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = DrillResult(pair, scenario, image, reports / f"{stamp}-{pair.name}-{scenario.name}{label}", started)
    limits = pair.thresholds(scenario.name)
    adapter = adapter_for(pair)
    plan = adapter.lab_plan(pair)
    result.rewrites = plan.rewrites
    tl = result.timeline
    _, window = drill_window(pair, scenario, plan)
    for said in predictions(pair, scenario, plan):
        tl.add(started, "harness", "prediction", **said)
    try:
        result.versions = server_versions(engine, image)
        with Lab(engine, image, result.run_dir) as lab:
            try:
                phases = Phases(f"{pair.name} / {scenario.name}", expected_s(pair, scenario),
                                progress or (lambda line: None))
                _perform(lab, adapter, plan, pair, scenario, image, tl, result.versions, window, phases, image_for,
                         (real_clients, real_image), database_image)
            except Exception as exc:  # noqa: BLE001 - any failure is reported as this drill's error
                result.error = _describe(exc, result.run_dir) + _daemons_said(lab, adapter)
            finally:
                try:
                    phases("collecting evidence (logs, lease files)")
                    adapter.collect(lab, pair, tl)
                    if relay.ROLE in lab.containers:
                        lab.log_lines(lab.containers[relay.ROLE])  # kept beside the servers' logs
                    # what could not be read is on the timeline: a real client's verdict without its
                    # samples is UNKNOWN; a lost log or lease file decides nothing, so it is no error
                    realclients.collect(lab, real_clients, tl)
                except Exception as exc:  # noqa: BLE001
                    result.error = (result.error + "; " if result.error else "") + \
                        "evidence not collected: " + _describe(exc, result.run_dir)
    except Exception as exc:  # noqa: BLE001 - the lab could not be built or removed, or the engine went away
        result.error = (result.error + "; " if result.error else "") + _describe(exc, result.run_dir)
    finally:
        result.duration = time.time() - started
        result.run_dir.mkdir(parents=True, exist_ok=True)
        coverage.record(tl, scenario.workload)
        tl.save(result.run_dir / "timeline.jsonl")
    result.verdicts = judge(tl, limits, verdicts_for(scenario, plan, pair, real_clients), scenario.workload)
    return result


def _perform(lab: Lab, adapter, plan, pair: Pair, scenario: Scenario, image: str, tl: Timeline,
             versions: str, window: Window, phases: Phases,
             image_for: Callable[[str], str] | None = None,
             real: tuple[tuple[str, ...], str | None] = ((), None), database_image: str | None = None) -> None:
    """The drill's action: servers up and ready, clients steady, the fault, the observation."""
    real_clients, real_image = real
    phases("starting servers")
    gateway, client_ip = plan.spare_addresses()[:2]
    net = lab.network(plan.subnet, gateway)
    relayed_nets = [lab.network(r.subnet, r.spare_addresses()[0]) for r in plan.relayed]
    peer_net = lab.network(plan.peer_subnet, plan.peer_gateway()) if plan.peer_subnet else None
    env, files = dict(adapter.environment), dict(plan.files_in_container)
    if needs_clock_control(scenario.fault):  # daemons read their clock offset from a file
        env.update(adapter.clock_environment)
        files = {role: {**f, CLOCK_FILE: b"+0\n"} for role, f in files.items()}
    mounts = lab_tmpfs(scenario.fault, adapter, pair)  # a storage drill's size-limited lease filesystem
    if plan.databases:  # up, with its schema, before a server connects to it
        if database_image is None:
            raise LabError(f"{pair.name} keeps its leases in SQL but no database image was given")
        phases("starting lease databases")
        for made in databases.start(lab, plan.databases, net, database_image):
            tl.add(time.time(), made["role"], "database-ready", **made)
        databases.TableWatch(lab, plan.lease_databases).start()  # a table keeps no history: sample it
    for role in ROLES:
        lab.container(role, net, plan.ids[role], adapter.command(pair, role), files[role], env,
                      pair.sysctls, routes={**relay.routes(plan), **plan.onlink_routes()},
                      also_on=[(peer_net, plan.addresses[role])] if peer_net else None, tmpfs=mounts.get(role))
    if plan.backup is not None:  # on the peers' network alone, at its peer address: it answers no client
        lab.container(BACKUP, peer_net or net, plan.backup.address, adapter.command(pair, BACKUP), files[BACKUP], env,
                      pair.sysctls)
    if plan.relayed:
        relay.start(lab, plan, net, relayed_nets, image_for(relay.SUITE) if image_for else image)
    links = ([Link(net, client_ip, str(plan.subnet) if plan.multi_subnet else "", shared=tuple(map(str, plan.shared)))]
             if plan.pools else []) + [
        Link(n, r.spare_addresses()[1], str(r.subnet), f"{r.subnet.network_address}-", r.relay,
             tuple(str(x) for x in r.subnets[1:]))
        for r, n in zip(plan.relayed, relayed_nets)]
    tl.add(time.time(), "harness", "lab", run_id=lab.run_id, image=image, subnet=str(plan.subnet),
           roles={ip: role for role, ip in [*plan.addresses.items(), *plan.ids.items()]}, serving=list(plan.serving),
           peer_subnet=str(plan.peer_subnet) if plan.peer_subnet else None,
           solo_states=list(plan.solo_states), normal_state=plan.normal_state,
           interrupted_states=list(plan.interrupted_states), sysctls=pair.sysctls,
           logs_drops={role: adapter.logs_drops(pair, role) for role in ROLES},
           pair=pair.name, pair_sha256=pair.config_hash, tmpfs=mounts, rewrites=list(plan.rewrites), records=list(coverage.RECORDED),
           scenario=scenario.name, verdicts=list(verdicts_for(scenario, plan, pair, real_clients)), versions=versions,
           **({"real_clients": list(real_clients)} if real_clients else {}),
           observe_s=window.observe_s, window_reason=window.reason,
           **({"backup": plan.backup.describe()} if plan.backup else {}),
           **({"lease_sync": plan.lease_sync} if plan.lease_sync else {}),
           links=[{"subnet": link.subnet or str(plan.subnet), "relay": link.relay,
                   **({"shared": list(link.shared)} if link.shared else {})} for link in links])
    phases("waiting for both servers' normal state")
    states = adapter.wait_ready(lab, pair, ready_timeout(pair.server, plan.ha_timers, READY_TIMEOUT_S))
    tl.add(time.time(), "harness", "pair-ready", states=states)
    if plan.backup is not None:
        tl.add(time.time(), "harness", "backup-ready", state=adapter.wait_backup(lab, pair, READY_TIMEOUT_S),
               name=plan.backup.name, address=plan.backup.address)
    for source, kind, data in adapter.peer_link_evidence(lab, pair, plan):
        tl.add(time.time(), source, kind, **data)
    w = scenario.workload
    healed = drill_heal_watch(pair, scenario, plan)
    if scenario.period is not None:
        quiet, w = quiet_plan(pair, scenario, plan, window.observe_s)
        tl.add(time.time(), "harness", "prediction", of="quiet-takeover", period=scenario.period,
               words=quiet.words(), counted_at_s=quiet.counted_at_s, max_unacked=quiet.max_unacked,
               new_replayed=w.new_clients, new_over_s=w.new_over_s, active_clients=w.steady_clients,
               with_zero_low_s=quiet.with_zero.low_s, with_zero_high_s=quiet.with_zero.high_s)
    elif pair.population:
        people = pair.population
        w = w.populated(people.renewing_per_link(len(links)), people.arrival_per_s, people.new_per_link(len(links)),
                        new_over_s=scenario.dwell_s + window.observe_s + healed.seconds)
    if pair.mix:  # the renewing and new clients behave as the site's kinds of client do (clientkinds)
        w = replace(w, mix=pair.mix)
        tl.add(time.time(), "harness", "client-mix", mix=dict(pair.mix),
               steady=dict(Counter(assign(w.steady_clients, dict(pair.mix)))) if w.steady_clients else {},
               new=dict(Counter(assign(w.new_clients, dict(pair.mix)))) if w.new_clients else {},
               per_link=True, links=len(links))
    fleet = ClientFleet(lab, links, w, plan.retrying_clients_needed,
                        lifetime=w.steady_timeout + scenario.dwell_s + window.observe_s + scenario.fault.max_apply_s
                        + healed.seconds + SETTLE_MAX_S + 120,
                        serving_servers=[plan.ids[r] for r in plan.serving])
    placement = real_placement(plan, links, len(real_clients)) if real_clients else None
    if placement is not None:
        phases(f"starting real clients ({', '.join(real_clients)})")
        realclients.start(lab, real_clients, placement, real_image or image, tl)
    neighbours.record(lab.engine, tl, "start", fleet.clients, time.time())
    hostcpu.record(lab.engine, tl, "start", time.time(), lab.containers)
    fleet.start()
    watch = EngineWatch(lab)
    watch.start()
    allowed, basis = coverage.client_silence_s(w)
    tl.add(time.time(), "harness", "rhythm", of="clients", max_silence_s=allowed, basis=basis)
    try:
        phases("clients leasing, waiting for steady state")
        steady = fleet.wait_steady(w.steady_timeout + 10)
        if placement is not None:
            phases("waiting for the real clients' addresses")
            bound = realclients.wait_bound(lab, real_clients, placement.subnets, REAL_BOUND_S)
            tl.add(time.time(), "harness", "real-clients-bound", addresses=bound, timeout_s=REAL_BOUND_S)
        seen = time.time()
        hostcpu.record(lab.engine, tl, "steady", seen, lab.containers)
        if steady is not None and steady.kind == "steady":
            # The fault lands dwell_s after steady state, whatever the reading took: the probes'
            # cycle against the fault decides when a takeover is first seen (a 0.5 s helper moved a
            # planned hand-over's first answer from +0.7 s to +2.8 s).
            time.sleep(max(0.0, scenario.dwell_s - (time.time() - seen)))
            wake = wake_after(plan.renew_s, window.observe_s) \
                if {"continuity", "continuity-after-heal"} & set(scenario.verdicts) else None

            def wake_clients() -> None:
                tl.add(time.time(), "harness", "clients-woken", renew_s=plan.renew_s,
                       why=f"their T1 ({plan.renew_s:g} s) falls after the {window.observe_s:g} s window")
                fleet.wake()

            def storm() -> None:
                tl.add(time.time(), "harness", "boot-storm", population=(w.steady_clients + w.new_clients) * len(links),
                       over_s=w.storm_s)
                fleet.storm()
            action = (0.0, storm) if w.storm_s else (wake, wake_clients) if wake is not None else None
            phases(f"applying the fault ({scenario.fault.name} {scenario.fault.target})")
            with inject(scenario.fault, FaultContext(lab, pair, adapter, plan, tl, image_for), tl):
                _observe(window, phases, action)
            if healed.settles:
                fleet.mark_settle()
            _watch_healed(healed, phases, tl, fleet)
            if healed.settles:
                _settle(phases, tl, fleet)
            tl.add(time.time(), "harness", "observe-end")
    finally:
        tl.extend(watch.stop())
        fleet.stop()
        neighbours.record(lab.engine, tl, "end", fleet.clients, time.time())
        hostcpu.record(lab.engine, tl, "end", time.time(), lab.containers)
        tl.extend(fleet.events())


REAL_BOUND_S = 30.0  # a real client with no address this long after steady state is judged UNKNOWN, not waited for


def real_placement(plan: LabPlan, links: list[Link], n: int) -> realclients.Placement:
    """The real clients' network (the first client link: the servers' own, else the first relayed
    subnet's, behind the relay), addresses for their containers outside every pool and clear of the
    lab's own, and the subnets a lease there may be in."""
    link = links[0]
    if plan.pools:
        taken = len(plan.spare_addresses())
        free = free_addresses(plan.subnet, plan.pools, set(plan.ids.values()) | set(plan.addresses.values()), taken + n)
        subnets = (str(plan.subnet), *map(str, plan.shared))
    else:
        r = plan.relayed[0]
        taken = len(r.spare_addresses())
        free = free_addresses(r.subnet, r.pools, {r.relay}, taken + n)
        subnets = tuple(map(str, r.subnets))
    if len(free) < taken + n:
        raise LabError(f"no room for {n} real client container(s) on {subnets[0]} outside the pools "
                       f"(needs {n} free addresses beside the lab's {taken})")
    return realclients.Placement(link.network, tuple(free[taken:]), subnets)


def _watch_healed(healed: HealWatch, phases: Phases, tl: Timeline, fleet: ClientFleet) -> None:
    """Sleep through the watch after the heal, waking the steady clients on the way if their own
    T1 would not come round in it."""
    if healed.wake_s is None:
        time.sleep(healed.seconds)
        return
    phases(f"healed, watching {healed.seconds:g} s ({healed.reason})")
    time.sleep(healed.wake_s)
    tl.add(time.time(), "harness", "clients-woken", after="heal", why=healed.reason)
    fleet.wake()
    time.sleep(healed.seconds - healed.wake_s)


SETTLE_MAX_S = 60.0  # at most this long past the watch: a short lease runs out within it


def _settle(phases: Phases, tl: Timeline, fleet: ClientFleet) -> None:
    """Keep watching, at most ``SETTLE_MAX_S``, until every client holding a lease has been
    answered since the heal: then continuity after the heal is decided for each client (kept,
    or lost when its lease ran out unanswered) instead of unknown for clients still rebinding
    when the watch ended (10,000 clients rebinding after a failback kept a pair at its ceiling
    past it). Evidence is only added, never retried: the verdicts read the whole window."""
    phases("waiting until every client has been answered since the heal")
    began = time.time()
    done = fleet.wait_settled(SETTLE_MAX_S)
    settled = done is not None and done.kind == "settled"
    tl.add(time.time(), "harness", "settle-wait", settled=settled, waited_s=round(time.time() - began, 2),
           limit_s=SETTLE_MAX_S)


def _observe(window: Window, phases: Phases, action: tuple[float, Callable[[], None]] | None = None,
             every_s: float = 15.0) -> None:
    """Sleep through the observation window, saying how far it is every ``every_s`` seconds and
    doing ``action`` = (seconds in, callable) once on the way."""
    start = time.monotonic()
    end = start + window.observe_s
    phases(f"fault applied, observing {window.observe_s:g} s ({window.reason})")
    marks = sorted([(start + every_s * k, None) for k in range(1, int(window.observe_s // every_s) + 1)]
                   + ([(start + action[0], action[1])] if action else []), key=lambda m: m[0])
    for at, do in marks:
        if at >= end - 0.5:
            break
        time.sleep(max(0.0, at - time.monotonic()))
        if do is not None:
            do()
        else:
            phases(f"fault applied {time.monotonic() - start:.0f} s ago, observing ({window.observe_s:g} s in all)")
    time.sleep(max(0.0, end - time.monotonic()))


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
