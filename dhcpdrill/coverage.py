"""Evidence covers the window: every source a verdict reads is checked for silence up to ``observe-end``.

A verdict can only be as good as the evidence under it, and evidence can stop without saying so:
an engine killed mid-window stalled the client agent at +18.3 s of a 39 s window, and the drill
still passed on what the clients had seen until then. Each source therefore has a rhythm, the
longest silence its own nature allows, and a longer silence before the end of the window is a
``Gap``: the verdicts that read that source's kinds of event are UNKNOWN, naming it and the stretch.

The sources and their rhythms:

- **the clients' record** (the agent's sends and receives): probes cycle all the time (hold,
  release, pause, retransmit with backoff), so the record is never silent longer than
  ``client_rhythm_s`` of the drill's workload (recorded as ``harness/rhythm``; 8 s for the default
  workload). Measured on every recorded drill in tests/evidence (19 windows of 30-98 s, from the
  agent's start to ``observe-end``): the longest silence was 3.90 s (kea-hs-failback, the probes'
  4 s backoff while the standby waited to take over), the longest before ``observe-end`` 1.62 s.
- **the harness's hold on the engine** (``engine/engine-ping``, one a second while the drill
  runs, ``lab.EngineWatch``): silence longer than ``engine-watch``'s ``silence_s`` means the
  engine did not answer, or the drill host stalled; either way nothing seen then can be trusted.
- **each lab container's life**: a container that died or started again inside the window when no
  fault targeted its role (``engine/container-event``, ``engine/container-state``) ends or breaks
  every evidence it carries.
- **each server's log** has no rhythm of its own: a daemon logs as it pleases (a hot-standby
  standby can go minutes without a line, a killed server legitimately says nothing more), so its
  silence proves nothing. What can be checked is the log's path: Docker copies a container's
  output only while the engine runs (an outage of the engine above is a gap in every log), and a
  log that lost its beginning says so (``log-incomplete``, recorded by the server adapter). And a
  live server always logs its way to the pair's normal state before the fault (seen in every
  recorded drill, 0.3-1.7 s before ``pair-ready``): a log without that line (``ha-state`` to the
  lab's ``normal_state``) was lost or not read. The adapter records how many lines it copied and
  how many events it parsed from each log (``server-log``); an empty log, or fewer of its events on
  the timeline than were parsed, is a gap in that log too.

The limits are the judge's own, worked out again here (``client_silence_s``, ``engine_silence_s``),
never read from the timeline: a recorded ``rhythm`` or ``engine-watch`` whose limits differ, or a
timeline whose harness records them (the ``lab`` event's ``records``; a ``rhythm`` implies an
``engine-watch``) that holds none, is a contradiction (``contradictions``): every verdict reading
what it bounds is UNKNOWN, naming it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .timeline import LOG_KINDS, Timeline
from .timers import ENGINE_PING_S, engine_silence_s

if TYPE_CHECKING:
    from .clients import Workload

CLIENT_KINDS = frozenset({"send", "recv", "bound", "lease-lost"})
ENGINE = "engine"
DIES = ("die", "oom")
# The watch begins as the last lab container starts: that start can be stamped a few ms after it
# (seen live: the clients' own start read as a restart), and is no restart.
START_RACE_S = 1.0
RECORDED = ("engine-watch", "rhythm")  # what this harness puts on every timeline (the lab event's ``records``)


@dataclass(frozen=True)
class Gap:
    """A stretch in which ``source`` said nothing it should have said. ``kinds``: the kinds of
    event it would have given (None: every verdict rests on it, as on a living engine)."""

    source: str
    start: float | None
    end: float | None
    why: str
    kinds: frozenset[str] | None

    def touches(self, read: set[str]) -> bool:
        return self.kinds is None or bool(read & self.kinds)

    def say(self, read: set[str], zero: float | None) -> str:
        """The gap in words, its times in seconds from ``zero`` (the first fault), else in UTC."""
        what = f", so its {', '.join(sorted(read & self.kinds))} events are not all there" if self.kinds else ""
        if self.start is None or self.end is None:  # a lost beginning: no stretch to give
            return f"{self.source} {self.why}{what}"

        def at(t: float) -> str:
            return f"{t - zero:+.1f} s" if zero is not None else time.strftime("%H:%M:%S UTC", time.gmtime(t))
        since = " after the fault" if zero is not None else ""
        return (f"{self.source} is silent from {at(self.start)} to {at(self.end)}{since} "
                f"({self.end - self.start:.1f} s; {self.why}){what}")


def client_silence_s(workload: "Workload | None" = None) -> tuple[float, str]:
    """The longest silence the drill's workload (the default one when not given: every scenario's
    probe cycle today) allows the clients' record, and why."""
    from .clients import Workload
    from .timers import client_rhythm_s
    w = workload or Workload()
    return client_rhythm_s(w), (f"a probe holds its lease {w.probe_hold:g} s, pauses {w.probe_gap:g} s and "
                                f"retransmits at most {max(w.retransmit):g} s apart, 1 s to spare (client_rhythm_s)")


def contradictions(tl: Timeline, workload: "Workload | None" = None) -> list[Gap]:
    """Recorded limits that differ from the judge's own, and evidence the harness records that
    is missing: the timeline was edited, or recorded by other code; what it bounds cannot be trusted."""
    out = []
    allowed, _ = client_silence_s(workload)
    for e in tl.of("rhythm"):
        if e.get("of") == "clients" and e.get("max_silence_s") != allowed:
            out.append(Gap("the recorded clients' rhythm", None, None,
                           f"says {e.get('max_silence_s')} s, but the drill's workload allows {allowed:g} s between "
                           "the clients' packets: the timeline was edited or recorded by other code", CLIENT_KINDS))
    for e in tl.of("engine-watch"):
        if (e.get("every_s"), e.get("silence_s")) != (ENGINE_PING_S, engine_silence_s()):
            out.append(Gap("the recorded engine-watch", None, None,
                           f"says a ping every {e.get('every_s')} s and {e.get('silence_s')} s of silence allowed, "
                           f"but the harness pings every {ENGINE_PING_S:g} s and allows {engine_silence_s():g} s: "
                           "the timeline was edited or recorded by other code", None))
    lab = tl.first("lab")
    records = set(lab.get("records") or ()) if lab is not None else set()
    if tl.first("rhythm") is not None:
        records.add("engine-watch")  # recorded together since the harness watched its engine
    for kind in sorted(records):
        if tl.first(kind) is None:
            out.append(Gap(f"the harness's {kind} record", None, None,
                           "is missing, though the harness that recorded this timeline records it: "
                           "what it covers cannot be known", CLIENT_KINDS if kind == "rhythm" else None))
    return out


def _silences(times: list[float], start: float, end: float, allowed: float) -> list[tuple[float, float]]:
    """Stretches between ``start`` and ``end`` longer than ``allowed`` with no time in ``times``."""
    marks = [start, *(t for t in times if start < t < end), end]
    return [(a, b) for a, b in zip(marks, marks[1:]) if b - a > allowed]


def gaps(tl: Timeline, workload: "Workload | None" = None) -> list[Gap]:
    """Every gap in the evidence up to the end of the window (see the module), log-incomplete and
    contradicting limits included; ``workload``: the drill's (else the default one)."""
    found = contradictions(tl, workload) + [Gap(f"{e.source}'s log", None, None,
                 "lost its beginning (its first line kept is from "
                 + (time.strftime('%H:%M:%S', time.gmtime(e.get('first_kept'))) + ' UTC'
                    if e.get('first_kept') else 'nowhere: it is empty')
                 + ", not the container's start): the engine's log driver rotated or dropped lines "
                   "(the lab asks for json-file, 4 x 256 MB)", frozenset(e.get("kinds") or ()))
             for e in tl.of("log-incomplete")]
    end = tl.first("observe-end")
    if end is None:  # a drill that stopped early is judged as such by the verdicts themselves
        return found
    return found + _log_gaps(tl, end.t) + _client_gaps(tl, end.t, workload) + _engine_gaps(tl, end.t) \
        + _container_gaps(tl, end.t)


def _log_gaps(tl: Timeline, end: float) -> list[Gap]:
    """Each server's log against what a live server must have logged before the fault, and
    against the adapter's own count of what it parsed (see the module)."""
    lab, ready = tl.first("lab"), tl.first("pair-ready")
    if lab is None or ready is None or not lab.get("normal_state"):
        return []
    normal, kinds = lab.get("normal_state"), frozenset(LOG_KINDS)
    fault = tl.first("fault-applied")
    by = fault.t if fault is not None else end
    out = []
    for role in sorted({r for r in (lab.get("roles") or {}).values() if r in ("primary", "secondary")}):
        source = f"the {role}'s log"
        if not any(e.get("to") == normal and e.t <= by for e in tl.of("ha-state", source=role)):
            out.append(Gap(source, None, None, f"holds no line saying it reached the pair's normal state ({normal}) "
                                               "before the fault, though a live server logs it: the log was lost, cut "
                                               "or not read", kinds))
        counts = tl.of("server-log", source=role)
        parsed, kept = sum(int(e.get("parsed") or 0) for e in counts), len(tl.of(*LOG_KINDS, source=role))
        if any(not e.get("lines") for e in counts):
            out.append(Gap(source, None, None, "was copied with no line at all", kinds))
        elif kept < parsed:
            out.append(Gap(source, None, None, f"gave {parsed} events when it was read, but the timeline holds "
                                               f"{kept} of them", kinds))
    return out


def _client_gaps(tl: Timeline, end: float, workload: "Workload | None") -> list[Gap]:
    began = tl.first("agent-start") or tl.first("pair-ready")
    if began is None:
        return []
    allowed, basis = client_silence_s(workload)
    times = [e.t for e in tl.of("send", "recv", source="clients")]
    return [Gap("the clients' record", a, b, f"the workload allows {allowed:g} s between the clients' packets: "
                                             f"{basis}; the agent stalled or its record was lost", CLIENT_KINDS)
            for a, b in _silences(times, began.t, end, allowed)]


def _engine_gaps(tl: Timeline, end: float) -> list[Gap]:
    """Silences in the harness's pings, and every stretch around an ask the engine failed: an
    engine that went away and came back within the allowance has still restarted, or lost its hold."""
    watch = tl.first("engine-watch")
    if watch is None:  # recorded before the harness watched its engine
        return []
    pings = [e.t for e in tl.of("engine-ping", source=ENGINE)]
    lost = [e for e in tl.of("engine-unreachable") if watch.t <= e.t <= end]
    stretches = _silences(pings, watch.t, end, engine_silence_s())
    for e in lost:
        stretches.append((max([watch.t, *(t for t in pings if t <= e.t)]), min([end, *(t for t in pings if t > e.t)])))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(stretches):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    out = []
    for a, b in merged:
        said = [e for e in lost if a <= e.t <= b]
        why = (f"the engine did not answer: {said[0].get('error')}" if said else
               "the harness heard nothing from the engine (the engine or the drill host stalled)") + \
              f"; it answers every {ENGINE_PING_S:g} s when alive, and Docker copies no container's " \
              "output while it is away"
        out.append(Gap("the Docker engine", a, b, why, None))
    return out


def _container_gaps(tl: Timeline, end: float) -> list[Gap]:
    """A lab container that died, or started again, inside the window when no fault targeted its role
    (a rolling upgrade targets one role and stops each in turn: its ``stopped`` steps name them; a
    database fault targets a server and stops its database container: its ``database`` event
    ``stopped`` names that container's role)."""
    watch = tl.first("engine-watch")
    if watch is None:
        return []
    targeted = {e.get("target") for e in tl.of("fault-applied")} | \
        {e.get("role") for e in tl.of("upgrade-step") if e.get("step") == "stopped"} | \
        {e.source for e in tl.of("database") if e.get("state") == "stopped"}
    out, seen = [], set()
    for e in tl.of("container-event", "container-state", source=ENGINE):
        role, action = e.get("role"), e.get("action")
        if role in targeted or role in seen or not watch.t <= e.t <= end:
            continue
        started = action == "start" and e.t > watch.t + START_RACE_S
        if action in DIES or started or (e.kind == "container-state" and e.get("status") != "running"):
            seen.add(role)
            how = "started again" if action == "start" else \
                f"died (exit code {e.get('exit_code')}{', out of memory' if action == 'oom' else ''})"
            out.append(Gap(f"the {role} container", e.t, end, f"it {how} and no fault targeted it", None))
    return out


def record(tl: Timeline, workload: "Workload | None" = None) -> None:
    """Put the gaps on the timeline for the reader (``evidence-gap``); the judge works them out again."""
    for g in gaps(tl, workload):
        if g.start is not None:
            tl.add(g.start, "harness", "evidence-gap", of=g.source, since=g.start, until=g.end, why=g.why,
                   kinds=sorted(g.kinds) if g.kinds is not None else None)
