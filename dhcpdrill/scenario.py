"""What a drill is before it runs: the fault choreography and what it judges (``Scenario``), the
verdicts it must judge for a pair, how long it watches and what the pair's timers predict.

Pure: the catalogue, the judging of a recorded run (``dhcpdrill-verify``) and the reports use it
without a Docker engine; ``drill.run_drill`` performs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import realclients
from .clients import Workload
from .faults import Fault, Sequence
from .manifest import MANIFEST, Pair
from .problems import PairError, Problem
from .quiet import QuietPrediction, quiet_takeover
from .servers import LabPlan, adapter_for
from .timers import (HealWatch, Prediction, ServiceGap, Window, client_rhythm_s, heal_watch, kea_takeover,
                     observation_window, predict_takeover, service_gap)


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
