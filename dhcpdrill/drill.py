"""Run one scenario against one pair: build the lab, record the timeline, judge it.

Nothing is judged while the drill runs. The steps are: pair up and ready (asked, not slept on),
clients leased (steady state), the fault with its proof, an observation window, then the evidence
(client packets, server logs, both lease databases) goes onto the timeline and the verdicts read it.
"""
from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests
from docker.errors import DockerException

from . import coverage, databases, hostcpu, neighbours, realclients, relay
from .clientkinds import assign
from .clients import ClientFleet, Link, Workload
from .images import server_versions
from .faults import CLOCK_FILE, Fault, FaultContext, Sequence, inject, needs_clock_control
from .lab import Engine, EngineWatch, Lab
from .expectations import BACKUP, ROLES, KnownHazard
from .manifest import MANIFEST, Pair
from .problems import LabError, PairError, Problem
from .quiet import QuietPrediction, quiet_takeover
from .servers import LabPlan, adapter_for
from .servers.placement import free_addresses
from .storage import lab_tmpfs
from .timeline import Timeline
from .timers import (HealWatch, Prediction, ServiceGap, Window, client_rhythm_s, heal_watch, kea_takeover,
                     observation_window, predict_takeover, ready_timeout, service_gap, wake_after)
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
    period: str | None = None  # runs the pair's own [workload.<period>] population instead of the lab's


REPLAY_MAX = 10  # new clients a quiet-hours drill replays at most (a handful, compressed: see quiet_plan)
REPLAY_START_S = 2.0  # the first replayed new client arrives this long after the fault


def quiet_plan(pair: Pair, scenario: Scenario, plan: LabPlan, window_s: float | None = None
               ) -> tuple[QuietPrediction, Workload]:
    """The takeover the pair's own population predicts for this drill's period, and the workload
    that replays it: the period's active clients (they lease before the fault and then renew and
    rebind on the configs' own timers, never woken), the new clients that arrive before the
    predicted takeover (at most ``REPLAY_MAX``), and passive probes that Kea never counts.
    The new clients' gaps are compressed into the window: Kea's unacked count has no clock but
    each client's own ``secs`` (kept in real time here) and is cleared only by contact with the
    partner (``CommunicationState::pokeInternal``), so with the partner dead the standby decides
    the same after the same clients, sooner or later; what compression changes is only when."""
    where = str(pair.folder / MANIFEST)
    if pair.server != "kea":
        raise PairError([Problem(where, f"drills.{scenario.name}", "this drill models Kea's HA failure detection",
                                 "remove the table for a non-Kea pair")])
    period = pair.periods.get(scenario.period or "")
    if period is None:
        raise PairError([Problem(where, f"workload.{scenario.period}", "missing: this drill runs the site's own "
                                 "population at that hour", f"add [workload.{scenario.period}] with active_clients "
                                 "and new_per_hour as the site has them then, e.g. active_clients = 40, "
                                 "new_per_hour = 4")])
    t1 = period.t1_s or plan.renew_s
    t2 = period.t2_s or plan.rebind_s
    if t1 is None or t2 is None:
        raise PairError([Problem(where, f"workload.{scenario.period}.t1_s", "the configs state no lease times",
                                 "give t1_s and t2_s, the clients' renew and rebind seconds")])
    w = scenario.workload
    predicted = quiet_takeover(plan.ha_timers, scenario.fault.link or "", period, t1, t2, client_rhythm_s(w),
                               max_unacked=plan.retrying_clients_needed - 1)
    replay = min(REPLAY_MAX, sum(1 for _, who in predicted.before if who == "new"))
    ack_delay_s = float(plan.ha_timers.get("max-ack-delay", 10_000)) / 1000
    # the last one arrives with time left to retry past max-ack-delay, and to be seen doing so
    spread = max(0.0, (window_s if window_s is not None else scenario.observe_s) - REPLAY_START_S
                 - ack_delay_s - max(w.retransmit) - WINDOW_MARGIN_S)
    return predicted, replace(w, steady_clients=period.active_clients, new_clients=replay,
                              new_after_s=scenario.dwell_s + REPLAY_START_S, new_over_s=spread, passive_probes=True,
                              steady_timeout=w.steady_timeout + period.active_clients / 100)


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


def verdicts_for(scenario: Scenario, plan: LabPlan, pair: Pair | None = None,
                 real_clients: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The scenario's verdicts, ``subnets`` when the pair serves relayed subnets or a shared
    network, and ``load`` when the pair states a population or a limit on expired leases for this
    drill; ``partner-share-held`` only where both servers serve clients of their own (not a hot
    standby); one ``real-<kind>`` per real client daemon the drill runs (``realclients``)."""
    extra = ("subnets",) if plan.multi_subnet else ()
    extra += ("backup-updated",) if plan.backup is not None else ()
    limits = pair.drills.get(scenario.name) if pair else None
    if pair and (pair.population or (limits and limits.max_expired_leases is not None)):
        extra += ("load",)
    own = tuple(v for v in scenario.verdicts if v != "partner-share-held" or len(plan.serving) > 1)
    return own + tuple(v for v in extra if v not in scenario.verdicts) + realclients.verdict_names(real_clients)


WINDOW_MARGIN_S = 10.0  # after the slowest takeover allowed: time for waiting clients to be served
MCLT_MARGIN_S = 20.0  # after MCLT: time for new clients to drain into the partner's pool
Progress = Callable[[str], None]


def drill_window(pair: Pair, scenario: Scenario, plan: LabPlan | None = None) -> tuple[Prediction | None, Window]:
    """The takeover the pair's own timers predict for this drill's fault, and how long the drill
    watches after the fault: long enough for that takeover and for the pair's threshold."""
    plan = plan or adapter_for(pair).lab_plan(pair)
    judged = "takeover" in scenario.verdicts
    w = scenario.workload
    if scenario.period is not None:  # watched past the takeover the timers allow once enough clients count
        quiet, _ = quiet_plan(pair, scenario, plan)
        limits = pair.drills.get(scenario.name)
        timers_only = kea_takeover(plan.ha_timers, scenario.fault.link or "", client_rhythm_s(w))
        return quiet.takeover, observation_window(scenario.observe_s, timers_only,
                                                  limits.max_takeover_s if limits else None, WINDOW_MARGIN_S)
    prediction = predict_takeover(pair.server, plan.ha_timers, scenario.fault.link,
                                  client_rhythm_s(w)) if judged else None
    limits = pair.drills.get(scenario.name)
    window = observation_window(scenario.observe_s, prediction,
                                limits.max_takeover_s if limits and judged else None, WINDOW_MARGIN_S)
    if "partner-pool-after-mclt" in scenario.verdicts and plan.mclt_s and \
            plan.mclt_s + MCLT_MARGIN_S > window.observe_s:  # the partner's pool opens MCLT after partner-down
        window = Window(plan.mclt_s + MCLT_MARGIN_S, f"the pair's MCLT ({plan.mclt_s:g} s) after the partner-down, "
                                                     f"+ {MCLT_MARGIN_S:g} s for grants from the partner's pool")
    return prediction, window


SERVICE_GAP_READERS = ("service-held", "partner-share-held")  # the verdicts that judge waits by the service gap


def predictions(pair: Pair, scenario: Scenario, plan: LabPlan) -> list[dict[str, object]]:
    """The limits a drill records before its lab starts, so that re-judging it reads what it was
    judged by: the takeover its timers predict, and the service gap where a verdict reads it."""
    out: list[dict[str, object]] = []
    prediction, _ = drill_window(pair, scenario, plan)
    if prediction is not None:
        out.append({"of": "takeover", "low_s": prediction.low_s, "high_s": prediction.high_s,
                    "basis": prediction.basis})
    if set(SERVICE_GAP_READERS) & set(verdicts_for(scenario, plan, pair)):
        out.append(drill_service_gap(pair, scenario, plan).as_prediction())
    return out


def drill_service_gap(pair: Pair, scenario: Scenario, plan: LabPlan | None = None) -> ServiceGap:
    """How long the pair's own timers let this drill's clients wait for an answer (service-held's
    limit, recorded before the drill as ``prediction`` of ``service-gap``): the one place it is
    worked out, for the drill, the catalogue and re-judged recordings alike."""
    plan = plan or adapter_for(pair).lab_plan(pair)
    return service_gap(scenario.workload.retransmit, pair.server, plan.ha_timers)


def drill_heal_watch(pair: Pair, scenario: Scenario, plan: LabPlan | None = None) -> HealWatch:
    """How long the drill watches after its heal and whether the clients are woken in it (only a
    drill that judges continuity after the heal needs them to speak to the returning server)."""
    if "continuity-after-heal" not in scenario.verdicts:
        return HealWatch(scenario.after_heal_s)
    plan = plan or adapter_for(pair).lab_plan(pair)
    limits = pair.drills.get(scenario.name)
    return heal_watch(plan.renew_s, scenario.after_heal_s, limits.max_heal_to_normal_s if limits else None)


SETUP_S = 30.0  # the pair becoming ready, clients leasing, evidence collected: measured 20-40 s here


def expected_s(pair: Pair, scenario: Scenario) -> float:
    """Roughly how long the drill takes for this pair, from its window and the scenario's steps."""
    _, window = drill_window(pair, scenario)
    fault = scenario.fault
    steps = (len(fault.steps) - 1) * (fault.hold_s + fault.pause_s) if isinstance(fault, Sequence) else 0.0
    return SETUP_S + scenario.dwell_s + steps + window.observe_s + drill_heal_watch(pair, scenario).seconds


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
