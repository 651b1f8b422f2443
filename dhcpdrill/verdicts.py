"""Verdicts: pure functions of a drill's timeline.

Each returns a ``Verdict`` that passes, fails, is ``unknown`` when the timeline lacks the
evidence to decide (the fault never took effect, a lease file could not be read), or is
``not-judged`` when the pair stated no expectation for it (shown with what was measured; it
never decides the outcome). Unknown never counts as a pass.

The anchor rule, one for every verdict: a drill's **anchor** is the moment its first fault that
takes a server out of service (kill, freeze, stop) was applied; a drill none of whose faults does
that (a partition, a clock skew) anchors on its first fault. Takeover, outages, continuity, state
transitions and new leases are measured from the anchor; warnings and leaving the normal state
count from the first fault of the drill; every window ends at ``observe-end``. So the compound
skew-then-kill drill measures from the kill, and partner-down (kill, then the declaration)
from the kill as well.

The events they read:

- ``harness/lab``: ``roles`` maps each server's client-facing address (its DHCP server id) to
  its role; ``serving`` lists the roles that answer clients while the pair is healthy.
- ``harness/fault-applied`` (``target``; ``takes_down`` when the target stops serving), then
  ``fault-verified`` or ``fault-not-effective``; ``heal-started``, ``fault-healed``/``heal-failed``.
- ``harness/observe-end``: the end of the observation window.
- ``harness/prediction`` (``of``: takeover, ``low_s``, ``high_s``, ``basis``): what the pair's own
  timers allow, computed before the drill (``timers.py``).
- ``clients/client`` (``client``, ``mac``, ``role``: steady, new (a population's newcomer), probe or fresh), ``clients/send``
  (``msg``, ``state``), ``clients/recv`` (``msg``, ``server_id``, ``expected``), ``clients/bound``
  (``ip``, ``lease_time``, ``server_id``), ``clients/lease-lost`` (``ip``, ``why``), ``clients/steady``.
- ``<role>/lease-file`` (``read``, ``error``) and ``<role>/lease-record``: one binding in that
  server's lease database (``ip``, ``mac``, ``start``, ``end``, optionally ``end_late`` when the file
  bounds the end only from above), in that server's clock.
- ``<role>/clock-set`` and ``<role>/clock-offset``: a server's clock moved, and the offset its
  daemon then reported (lease-file times are shifted back by it).
"""
from __future__ import annotations

from collections import defaultdict
import re
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Callable, Iterable

from . import load as loadfig
from . import coverage, hostcpu, neighbours, realclients
from .clients import Workload
from .timers import KEA_HTTP_TIMEOUT_S, REQUEST_TRIES
from .expectations import BACKUP, NEEDS, Thresholds
from .timeline import Event, Timeline



class Status(StrEnum):
    """A verdict's status. UNKNOWN is missing evidence, never a pass; NOT_JUDGED: the drill's pair
    states no limit for it. Members are the strings the reports and archives have always held."""
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_JUDGED = "not-judged"


PASS, FAIL, UNKNOWN, NOT_JUDGED = Status.PASS, Status.FAIL, Status.UNKNOWN, Status.NOT_JUDGED
INF = float("inf")


@dataclass(frozen=True)
class Verdict:
    name: str
    status: Status
    reason: str
    figure: float | None = None
    unit: str = ""
    threshold: str = ""
    # How much of the figure lies where no known hazard of the fault can have caused it: duplicates
    # granted outside the split brain (under a hazard that names split-brain), queries dropped after
    # the heal. A hazard excuses a failure only when this is 0 (``KnownHazard.breach``).
    outside: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # a misspelt status fails here, not as a silent UNKNOWN

    @property
    def ok(self) -> bool:
        return self.status == PASS

    @property
    def decides(self) -> bool:
        """Whether this verdict counts towards the drill's outcome (a not-judged one does not)."""
        return self.status != NOT_JUDGED


def _not_stated(v: Verdict, key: str) -> Verdict:
    """The measurement stands, but the pair asked nothing of it: shown, never deciding."""
    return Verdict(v.name, NOT_JUDGED, f"not judged: the pair states no {key} for this drill; measured: {v.reason}",
                   v.figure, v.unit, "")


@dataclass(frozen=True)
class Binding:
    """An address held by one client (``holder`` is its MAC) from ``start`` until ``end``.

    ``slack`` is how far the endpoints may be off (a lease file's whole seconds); ``end_late`` is
    the latest the end can be when the evidence bounds it only from above (a Kea deletion row)."""

    ip: str
    holder: str
    start: float
    end: float
    seen_by: str
    slack: float = 0.0
    end_late: float | None = None
    replayed: bool = False  # a lease-file row written out of time order: its start cannot be trusted
    ambiguous: str = ""  # why the record may have been written at another time too (one Binding per placing)

    @property
    def latest_end(self) -> float:
        return max(self.end, self.end_late if self.end_late is not None else self.end)


@dataclass(frozen=True)
class Conflict:
    ip: str
    first: Binding
    second: Binding
    definite: bool

    def describe(self, zero: float, since: str) -> str:
        """The conflict in words, its times in seconds from ``zero`` (``since`` names that moment)."""
        a, b = self.first, self.second
        lo, hi = max(a.start, b.start), min(a.latest_end, b.latest_end)
        how = "overlap" if self.definite else (
            "may overlap (a lease-file row written out of time order, a replayed copy, dates one of them)"
            if a.replayed or b.replayed else "may overlap (within the lease files' resolution)")
        when = f"from {lo - zero:+.1f} s to {hi - zero:+.1f} s" if hi > lo else f"around {lo - zero:+.1f} s"
        return f"{self.ip}: {a.holder} ({a.seen_by}) and {b.holder} ({b.seen_by}) {how} {when} {since}"


def anchor(tl: Timeline) -> Event | None:
    """The fault every failover figure is measured from (see the module's anchor rule)."""
    applied = tl.of("fault-applied")
    return next((e for e in applied if e.get("takes_down")), applied[0] if applied else None)


def _first_fault(tl: Timeline) -> Event | None:
    return tl.first("fault-applied")


def _roles(tl: Timeline) -> dict[str, str]:
    lab = tl.first("lab")
    return dict(lab.get("roles", {})) if lab else {}


def _acks(tl: Timeline) -> list[Event]:
    return [e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.get("expected")]


def _client_roles(tl: Timeline) -> dict[str, str]:
    """MAC -> what the client is for (steady, new, probe, fresh), as the agent declared it."""
    return {e.get("mac"): e.get("role") for e in tl.of("client", source="clients")}


def _window_end(tl: Timeline) -> float | None:
    end = tl.first("observe-end")
    return end.t if end else None


def _unseen_replies(tl: Timeline) -> str:
    """Why the clients' waits are not evidence, if they are not: the agent's sockets dropped
    frames (their receive buffer was full), or the drill host's neighbour table overflowed
    (``neighbours``), so replies the servers sent may never have been seen."""
    stop = tl.first("agent-stop")
    drops = int(stop.get("rx_dropped") or 0) if stop else 0
    socket = (f"the clients' sockets dropped {drops:,} frame(s) (receive buffer full): replies the servers sent "
              "may never have been seen, so the clients' waits are not evidence") if drops else ""
    return "; ".join(r for r in (socket, neighbours.overflow_reason(tl)) if r)


DROP_MEANING = {"DHCP4_HOOK_LEASES4_PARKING_LOT_FULL": "parked-packet-limit reached: HA holds each reply until the "
                                                       "partner has the lease update, and drops queries beyond the limit "
                                                       "after allocating their lease",
                "DHCP4_PACKET_QUEUE_FULL": "the multi-threading packet queue was full"}


def _dropped(tl: Timeline, since: float, until: float) -> str:
    """What the servers logged dropping unanswered between ``since`` and ``until`` (``server-
    dropped``; Kea logs it at debug level only, so silence here proves nothing). A remark: no
    verdict's outcome rests on it, so a log that lost lines does not make one UNKNOWN for it."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    with tl.aside():
        drops = tl.of("server-dropped")
    for e in drops:
        if since <= e.t <= until:
            counts[(e.source, str(e.get("code")))] += 1
    return "; ".join(f"{role} logged dropping {n:,} quer{'y' if n == 1 else 'ies'} unanswered ({code}"
                     + (f": {DROP_MEANING[code]}" if code in DROP_MEANING else "") + ")"
                     for (role, code), n in sorted(counts.items()))


def steady_state(tl: Timeline) -> Verdict:
    """Before the fault every steady client held a lease, served only by the roles meant to serve."""
    name = "steady-state"
    lab, steady, fault = tl.first("lab"), tl.first("steady"), tl.first("fault-applied")
    if lab is None:
        return Verdict(name, UNKNOWN, "the timeline has no lab description")
    if steady is None:
        failed = tl.first("steady-failed")
        unbound = listed(failed.get("unbound", []), 50) if failed else "all"
        dropped = _dropped(tl, lab.t, failed.t if failed else float("inf"))
        reason = f"steady clients never all held a lease (unbound: {unbound})" + (f"; meanwhile {dropped}" if dropped else "")
        saturated = hostcpu.saturation_reason(tl, "steady")
        return Verdict(name, UNKNOWN, f"{saturated}; {reason}") if saturated else \
            Verdict(name, FAIL, "; ".join(r for r in (reason, hostcpu.servers_own(tl, "steady")) if r))
    roles, serving = _roles(tl), set(lab.get("serving", []))
    cutoff = fault.t if fault else float("inf")
    wrong = sorted({roles.get(e.get("server_id"), str(e.get("server_id")))
                    for e in _acks(tl) if e.t < cutoff} - serving)
    if wrong:
        return Verdict(name, FAIL, f"before the fault, ACKs came from {', '.join(wrong)}, "
                                   f"which should not serve a healthy pair (serving: {', '.join(sorted(serving))})")
    return Verdict(name, PASS, f"{len(steady.get('leases', {}))} clients leased from {', '.join(sorted(serving))}")


def fault_effective(tl: Timeline) -> Verdict:
    """Every fault bit: evidence taken after applying it shows the intended effect."""
    name = "fault-effective"
    applied = tl.of("fault-applied")
    if not applied:
        return Verdict(name, UNKNOWN, "no fault was applied")
    proofs, misses = tl.of("fault-verified"), tl.of("fault-not-effective")
    if misses or len(proofs) < len(applied):
        why = "; ".join(f"{e.get('fault')}: {e.get('evidence')}" for e in misses) or "no evidence was recorded"
        return Verdict(name, FAIL, f"fault not effective: {why}")
    # A fault made again and again while it holds (a flapping link) proves each step as it goes.
    steps = tl.of("fault-step")
    unproven = [e for e in steps if not e.get("ok")]
    if unproven:
        return Verdict(name, FAIL, f"{len(unproven)} of {len(steps)} steps of the fault not effective: "
                                   + listed([f"{e.get('fault')} {e.get('step')}: {e.get('evidence')}" for e in unproven], 3))
    return Verdict(name, PASS, "; ".join(f"{e.get('fault')}: {e.get('evidence')}"
                                         + (f" (applying it took {e.get('apply_s'):g} s from the fault's recorded time)"
                                            if e.get("apply_s") is not None else "") for e in proofs)
                   + (f"; each of its {len(steps)} steps proven as it was made" if steps else ""))


def takeover(tl: Timeline, limit: Thresholds) -> Verdict:
    """Seconds from the anchor to the first ACK a surviving server gives a client that the
    fault's target served before it (in hot-standby that is every client; in load-balancing,
    the target's share)."""
    name, unit, threshold = "takeover", "s", f"<= {limit.max_takeover_s:g} s"
    fault = anchor(tl)
    if fault is None or tl.first("fault-verified") is None:
        return Verdict(name, UNKNOWN, "no effective fault, so no takeover to measure", unit=unit,
                       threshold=threshold)
    roles, target = _roles(tl), fault.get("target")
    acks = _acks(tl)
    orphans = {e.get("mac") for e in acks if e.t < fault.t and roles.get(e.get("server_id")) == target}
    if not orphans:
        return Verdict(name, UNKNOWN, f"no client was served by {target} before the fault", unit=unit,
                       threshold=threshold)
    end = _window_end(tl)
    after = [e for e in acks if fault.t <= e.t <= (end if end is not None else INF) and e.get("mac") in orphans
             and roles.get(e.get("server_id")) not in (None, target)]
    if not after and end is None:
        return Verdict(name, UNKNOWN, "the observation never ended (the drill stopped early): no takeover seen "
                                      "yet, which proves nothing", unit=unit, threshold=threshold)
    if not after:
        return Verdict(name, FAIL, f"no client of {target} got an ACK from a surviving server in the "
                                   f"{end - fault.t:.0f} s observed: no takeover", unit=unit, threshold=threshold)
    first = after[0]
    seconds = round(first.t - fault.t, 3)
    who = roles[first.get("server_id")]
    status = PASS if seconds <= limit.max_takeover_s else FAIL
    return Verdict(name, status, f"{who} ACKed {first.get('client')} {seconds:.2f} s after the fault",
                   figure=seconds, unit=unit, threshold=threshold)


def takeover_predicted(tl: Timeline, limit: Thresholds) -> Verdict:
    """The measured takeover lies inside the interval the pair's own timers allow for this fault
    (``harness/prediction``, see ``timers.py``). Outside it, the pair behaves unlike its config
    says, or the model is wrong: either way the figure cannot be trusted to hold next time."""
    name, unit = "takeover-predicted", "s"
    predicted = next((e for e in tl.of("prediction") if e.get("of") == "takeover"), None)
    if predicted is None:
        return Verdict(name, UNKNOWN, "no takeover was predicted for this drill", unit=unit)
    low, high, basis = predicted.get("low_s"), predicted.get("high_s"), predicted.get("basis")
    threshold = f"{low:g}–{high:g} s"
    measured = takeover(tl, limit)
    if measured.figure is None:
        return Verdict(name, UNKNOWN, f"no takeover measured ({measured.reason}); predicted {threshold} from {basis}",
                       unit=unit, threshold=threshold)
    inside = low <= measured.figure <= high
    how = "inside" if inside else ("before" if measured.figure < low else "after")
    reason = f"measured {measured.figure:g} s, {how} the {threshold} predicted from {basis}"
    if not inside:
        reason += ": the pair behaves unlike its config says, or the model is wrong (see timers.py)"
    return Verdict(name, PASS if inside else FAIL, reason, figure=measured.figure, unit=unit, threshold=threshold)


def client_bindings(tl: Timeline) -> tuple[Binding, ...]:
    """Bindings as the clients saw them, one per (client, address): from the ACK that gave the
    address until its expiry, or the ``lease-lost`` of that address (release, NAK, expiry, a
    move), or an ACK of another address to the same client. Renewals extend a binding. Worked
    out once per timeline (duplicates and both continuities read it)."""
    return tl.derived(_client_bindings)


def _client_bindings(tl: Timeline) -> tuple[Binding, ...]:
    open_: dict[tuple[str, str], Binding] = {}
    held: dict[str, set[str]] = defaultdict(set)  # mac -> addresses with an open binding
    done: list[Binding] = []

    def close(key: tuple[str, str], at: float) -> None:
        b = open_.pop(key)
        held[key[0]].discard(key[1])
        done.append(Binding(b.ip, b.holder, b.start, min(b.end, at), "clients"))

    for e in tl.of("bound", "lease-lost", source="clients"):
        mac, ip = e.get("mac"), e.get("ip")
        if e.kind == "lease-lost":
            if (mac, ip) in open_:
                close((mac, ip), e.t)
            continue
        for other in sorted(held[mac] - {ip}):
            close((mac, other), e.t)  # the client moved to another address
        cur = open_.get((mac, ip))
        if cur is not None and cur.end < e.t:
            close((mac, ip), cur.end)  # it ran out before the client got it again
            cur = None
        open_[(mac, ip)] = Binding(ip, mac, cur.start if cur else e.t, e.t + float(e.get("lease_time") or 0),
                                   "clients")
        held[mac].add(ip)
    return (*done, *open_.values())


SERVER_RESOLUTION_S = 1.0  # lease files record whole seconds (Kea's cltt/expire, dhcpd's starts/ends)


def _clock_periods(tl: Timeline) -> dict[str, list[tuple[float, float | None]]]:
    """Per role whose clock the drill moved: (host time it was set, offset its daemon then
    reported; None if it never reported one), in order."""
    periods: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
    events = tl.of("clock-set", "clock-offset")
    for k, e in enumerate(events):
        if e.kind != "clock-set":
            continue
        seen = next((x for x in events[k + 1:] if x.source == e.source), None)
        offset = float(seen.get("offset")) if seen is not None and seen.kind == "clock-offset" else None
        periods[e.source].append((e.t, offset))
    return periods


ACK_MATCH_S = 2 * SERVER_RESOLUTION_S  # a whole-second start, read with an offset measured to the second


def _to_host_time(periods: list[tuple[float, float | None]], t: float, until: float = INF) -> list[float] | None:
    """Every host time that a time ``t`` written by a server whose clock moved can stand for: one
    per clock period (the stretch of host time it lasted, up to ``until`` for the last, read with
    the offset its daemon reported) that holds ``t`` read with its offset. A clock put back runs
    over the same server times again, so one time can belong to two periods. None when a period it
    may belong to has no known offset."""
    spans = [(-INF, 0.0), *periods]
    out = []
    for k, (since, offset) in enumerate(spans):
        stop = spans[k + 1][0] if k + 1 < len(spans) else until
        if offset is None:
            if t >= since:
                return None
            continue
        if since - SERVER_RESOLUTION_S <= t - offset <= stop + SERVER_RESOLUTION_S:
            out.append(t - offset)
    return out


def server_bindings(tl: Timeline) -> tuple[Binding, ...]:
    """Bindings from the lease files, on the host's clock. A skewed server wrote a record's times
    all with the clock it had when it granted the lease, so the whole record moves back by the
    offset in force at its start (its expiry may lie past a later clock change; it still counts
    in the old offset). Which offset that was is read from the periods whose host time the start
    fits (a clock put back repeats server times), the partner's clock (a failover partner's lease
    update is written with the partner's times), and the ACK the clients captured for that
    grant; a record still placed at host times further apart than the files' resolution is kept
    once per placing, marked ``ambiguous``. Raises ValueError when a skewed server's offset is
    unknown, or a record fits no clock. Worked out once per timeline (duplicates and
    failback-sync read it)."""
    return tl.derived(_server_bindings)


def _placings(tl: Timeline) -> Callable[[Event], list[float]]:
    """For a lease record: the host times its start can stand for (its start itself when no
    server's clock moved)."""
    periods = _clock_periods(tl)
    if not periods:
        return lambda e: [float(e.get("start"))]
    roles = _roles(tl)
    acks: dict[tuple[str | None, str, str], list[float]] = defaultdict(list)
    for a in _acks(tl):
        acks[(roles.get(a.get("server_id")), a.get("yiaddr"), a.get("mac"))].append(a.t)
    read = {e.source: e.t for e in tl.of("lease-file")}
    writers = sorted({*roles.values(), *periods})

    def placings(e: Event) -> list[float]:
        start, until = float(e.get("start")), read.get(e.source, INF)
        fits: dict[str, list[float]] = {}
        for clock in [e.source, *(w for w in writers if w != e.source)]:  # its own clock first
            got = _to_host_time(periods.get(clock, []), start, until)
            if got is None:
                raise ValueError(f"{clock}'s clock was moved but its daemon never reported the offset")
            fits[clock] = got
        backed = {clock: [h for h in hs if any(abs(t - h) <= ACK_MATCH_S
                                               for t in acks.get((clock, e.get("ip"), e.get("mac")), ()))]
                  for clock, hs in fits.items()}
        # the server's own ACK near one of its own placings first, then a partner's, then any that fits
        chosen = backed[e.source] or [h for hs in backed.values() for h in hs] or fits[e.source] or \
            [h for hs in fits.values() for h in hs]
        if not chosen:
            raise ValueError(f"{e.source}'s record of {e.get('ip')} ({e.get('mac')}) starts at server time "
                             f"{start:.0f}, which fits no period of any server's clock")
        return sorted(set(chosen))
    return placings


def _undatable(tl: Timeline, e: Event, hosts: list[float]) -> str:
    """A lease record placeable at host times seconds apart, in words."""
    zero, since = _zero(tl)
    return (f"{e.source}'s record of {e.get('ip')} ({e.get('mac')}), dated {float(e.get('start')) - zero:+.0f} s on "
            f"its clock, was written {' or '.join(f'{h - zero:+.1f} s' for h in hosts)} {since} on the host's clock "
            "(its clock was put back; no captured ACK tells which)")


def _server_bindings(tl: Timeline) -> tuple[Binding, ...]:
    placings = _placings(tl)
    released: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in tl.of("lease-lost", source="clients"):
        if e.get("why") == "released":
            released[(e.get("mac"), e.get("ip"))].append(e.t)
    out = []
    for e in tl.of("lease-record"):
        hosts = placings(e)
        ambiguous = "" if hosts[-1] - hosts[0] <= ACK_MATCH_S else _undatable(tl, e, hosts)
        for host in (hosts if ambiguous else [(hosts[0] + hosts[-1]) / 2]):
            start, late = float(e.get("start")), e.get("end_late")
            end = INF if e.get("end") is None and e.get("ends") == "never" else float(e.get("end"))
            shift = start - host
            start, end, late = host, end - shift, None if late is None else float(late) - shift
            slack = SERVER_RESOLUTION_S + (0.0 if ambiguous else (hosts[-1] - hosts[0]) / 2)
            if e.get("deleted") and late is not None:  # the file cannot date a deletion: the client's release does
                pinned = [t for t in released[(e.get("mac"), e.get("ip"))]
                          if start - slack <= t <= float(late) + slack]
                if pinned:
                    end, late = max(start, min(pinned)), None
            out.append(Binding(e.get("ip"), e.get("mac"), start, end, e.source, slack,
                               None if late is None else float(late), bool(e.get("replayed")), ambiguous))
    return tuple(out)


def conflicts(bindings: Iterable[Binding]) -> list[Conflict]:
    """Pairs of bindings of one address to two different holders whose lifetimes overlap.

    Client-side times are capture times (sub-second) and are compared exactly. A lease file's
    endpoints are whole seconds: an overlap that remains with them moved inward by that slack is
    definite; one that appears only with them moved outward (or with an end the file bounds only
    from above) is possible, and reported as such."""
    by_ip: dict[str, list[tuple[Binding, float, float]]] = defaultdict(list)  # with its widest span
    for b in bindings:
        latest = b.latest_end
        if latest > b.start:
            by_ip[b.ip].append((b, b.start - b.slack, latest + b.slack))
    found = []
    for ip, held in sorted(by_ip.items()):
        held.sort(key=lambda h: h[0].start)
        for i, (a, a_lo, a_hi) in enumerate(held):
            for b, b_lo, b_hi in held[i + 1:]:
                if b_lo >= a_hi or b.holder == a.holder:
                    continue
                inner = min(a.end - a.slack, b.end - b.slack) - max(a.start + a.slack, b.start + b.slack)
                outer = min(a_hi, b_hi) - max(a_lo, b_lo)
                if inner > 0 or outer > 0:
                    found.append(Conflict(ip, a, b, definite=inner > 0 and not (a.replayed or b.replayed)))
    return found


def _down_intervals(tl: Timeline) -> dict[str, list[tuple[float, float]]]:
    """Per role, the times it asserted nothing: from a fault that took it down until the heal
    that brought it back (for ever if the heal does not restore it, as after a kill)."""
    down: dict[str, list[tuple[float, float]]] = defaultdict(list)
    heals = tl.of("fault-healed", "heal-failed")
    for e in tl.of("fault-applied"):
        if not e.get("takes_down"):
            continue
        heal = next((h for h in heals if h.t >= e.t and h.get("fault") == e.get("fault")), None)
        back = heal.t if heal is not None and heal.kind == "fault-healed" and heal.get("restored") else INF
        down[e.get("target")].append((e.t, back))
    return down


def _clip_to_lifetime(records: Iterable[Binding], tl: Timeline) -> list[Binding]:
    """A server that was down asserts nothing meanwhile: its file keeps what it last knew (a
    release it never saw, say), which must not be mistaken for a binding it still held."""
    down = _down_intervals(tl)
    clipped = []
    for b in records:
        parts = [(b.start, b.latest_end)]
        for a, h in down.get(b.seen_by, []):
            if any(s < h and e > a for s, e in parts):  # else the record lies wholly outside the outage
                parts = [p for s, e in parts for p in ((s, min(e, a)), (max(s, h), e)) if p[1] > p[0]]
        for s, e in parts:
            end = min(b.end, e)
            clipped.append(replace(b, start=s, end=end, end_late=e if e > end else None))
    return clipped


def _lease_file_gaps(tl: Timeline) -> list[str]:
    """Why a server that ran contributes no lease-file evidence to trust, one line per problem:
    its file was never collected or could not be read, rows in it were not understood, or it
    never mentions leases the server's own ACKs say it held when the file was read (none read
    at all, as when a time format is misread, is the extreme of that)."""
    files = {e.source: e for e in tl.of("lease-file")}
    mentioned: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in tl.of("lease-record"):
        mentioned[e.source].add((e.get("ip"), e.get("mac")))
    gaps = []
    for role in sorted(set(_roles(tl).values())):
        e = files.get(role)
        if e is None:
            gaps.append(f"{role}'s lease file was never collected")
            continue
        if not e.get("read"):
            gaps.append(f"{role}'s lease file {e.get('path')} could not be read: {e.get('error')}")
            continue
        if e.get("not_understood"):
            first = (e.get("unread") or [{}])[0]
            gaps.append(f"{role}'s lease file {e.get('path')}: {e.get('not_understood')} of {e.get('rows')} row(s) "
                        f"not understood, the first at line {first.get('row')}: {first.get('text')!r} "
                        f"({first.get('why')})")
        if e.get("records") is None:  # a hand-built file event that never counted its records
            continue
        zero, since = _zero(tl)
        missing = [f"{ip} ({mac}, ACKed {t - zero:+.1f} s {since})"
                   for ip, mac, t in _held_at_reading(tl, role, e.t) if (ip, mac) not in mentioned[role]]
        if missing and not mentioned[role]:
            gaps.append(f"{role}'s lease file {e.get('path')}: no lease read from {e.get('rows') or 'its'} row(s), "
                        f"yet {role}'s own ACKs say it held {len(missing)} when the file was read: {listed(missing, 3)}")
        elif missing:
            gaps.append(f"{role}'s lease file {e.get('path')} never mentions {len(missing)} lease(s) {role}'s own ACKs "
                        f"say it held when the file was read: {listed(missing, 3)}")
    return gaps


def _held_at_reading(tl: Timeline, role: str, read: float) -> list[tuple[str, str, float]]:
    """(address, MAC, ACK time) of each lease ``role`` last ACKed at least a second before its
    file was read, lasting past that, that the client neither lost nor left for another address
    before it: a lease the server's own file must hold (dhcpd and Kea write a lease before they
    ACK it)."""
    roles = _roles(tl)
    last: dict[str, Event] = {}  # per MAC, its latest ACK from anyone before the reading
    for a in _acks(tl):
        if a.t <= read - SERVER_RESOLUTION_S:
            last[a.get("mac")] = a
    lost = {(e.get("mac"), e.get("ip")): e.t for e in tl.of("lease-lost", source="clients") if e.t <= read}
    return sorted((a.get("yiaddr"), mac, a.t) for mac, a in last.items()
                  if roles.get(a.get("server_id")) == role
                  and a.t + float(a.get("lease_time") or 0) > read + SERVER_RESOLUTION_S
                  and lost.get((mac, a.get("yiaddr")), -INF) < a.t)


def _zero(tl: Timeline) -> tuple[float, str]:
    """The moment a conflict's times are told from, and its name."""
    fault = anchor(tl)
    return (fault.t, "after the fault") if fault else (tl.events[0].t, "into the drill")


def duplicates(tl: Timeline, limit: Thresholds) -> Verdict:
    """Addresses bound to two clients at once, from the clients' view and both lease databases."""
    name, threshold = "duplicates", f"<= {limit.max_duplicates}"
    gaps = _lease_file_gaps(tl)
    if not _roles(tl) or gaps:
        return Verdict(name, UNKNOWN, "; ".join(gaps) or "the timeline has no lab description", threshold=threshold)
    try:
        records = _clip_to_lifetime(server_bindings(tl), tl)
    except ValueError as exc:
        return Verdict(name, UNKNOWN, f"lease-file times cannot be placed on the timeline: {exc}", threshold=threshold)
    found = conflicts([*client_bindings(tl), *records])
    undated = [c for c in found if c.definite and (c.first.ambiguous or c.second.ambiguous)]
    definite = [c for c in found if c.definite and c not in undated]
    possible = [c for c in found if not c.definite]
    ips = sorted({c.ip for c in definite})
    status = PASS if len(ips) <= limit.max_duplicates else FAIL
    if status == PASS and len({*ips, *(c.ip for c in undated)}) > limit.max_duplicates:
        why = next(b.ambiguous for c in undated for b in (c.first, c.second) if b.ambiguous)
        return Verdict(name, UNKNOWN, f"a lease record cannot be dated: {why}; placed at one of those times it binds "
                       f"an address to two clients: {'; '.join(c.describe(*_zero(tl)) for c in undated[:3])}",
                       figure=len(ips), threshold=threshold)
    zero, since = _zero(tl)
    reason = (f"{len(ips)} address(es) bound to two clients (clients and {', '.join(sorted(set(_roles(tl).values())))} "
              f"checked): {'; '.join(c.describe(zero, since) for c in definite[:5]) or 'none'}")
    if possible:
        reason += f"; {len(possible)} possible overlap(s) the lease files cannot rule out (whole seconds, " \
            "deletions without a time of their own, rows replayed out of time order), not counted: " + \
            "; ".join(c.describe(zero, since) for c in possible[:3])
    if not ips or not _names_split_brain(limit):
        return Verdict(name, status, reason, figure=len(ips), threshold=threshold)
    windows = split_brain_windows(tl)
    if windows is None:
        return Verdict(name, UNKNOWN if status == FAIL else status,
                       "the split brain's window cannot be measured (no server states were recorded and the packets "
                       "show no double service), and the known hazard excuses only duplicates granted inside it; "
                       + reason, figure=len(ips), threshold=threshold)
    outside = [next(c for c in definite if c.ip == ip and not _granted_within(c, windows)) for ip in ips
               if not all(_granted_within(c, windows) for c in definite if c.ip == ip)]
    said = " and ".join(f"{lo - zero:+.1f} s to {hi - zero:+.1f} s" for lo, hi in windows) or "none"
    reason += (f"; split brain (both servers serving alone, from {UNACKED_UPDATE_S:g} s before it for a lease update "
               f"that never reached the partner): {said} {since}; {len(ips) - len(outside)} address(es) granted "
               f"twice inside it, {len(outside)} outside")
    if outside:
        reason += ": " + listed([_grants(c, windows, zero) for c in outside], 5)
    return Verdict(name, status, reason, figure=len(ips), threshold=threshold, outside=len(outside))


def _grants(c: Conflict, windows: list[tuple[float, float]], zero: float) -> str:
    """A conflict's two grants, each marked when it lies outside every window."""
    def one(b: Binding) -> str:
        out = not any(lo - b.slack <= b.start <= hi + b.slack for lo, hi in windows)
        return f"{b.holder} ({b.seen_by}) granted {b.start - zero:+.1f} s{' (outside)' if out else ''}"
    return f"{c.ip}: {one(c.first)}, {one(c.second)}"


@dataclass(frozen=True)
class Refusal:
    """One DHCPNAK a client got: what it asked for (``ip``), in which exchange, from which server,
    and whether another client held that address then (``held_by``: the NAK was warranted)."""

    t: float
    client: str
    mac: str
    ip: str | None
    exchange: str
    server: str
    held_by: str | None


NAK_EXCHANGES = {"REQUESTING": "new lease", "RENEWING": "renewal", "REBINDING": "rebind"}


def refusals(tl: Timeline) -> list[Refusal]:
    """Every NAK a client got for its own exchange, with the address it asked for: the one it was
    offered (a new lease) or the one it held (a renewal or rebind)."""
    roles = _roles(tl)
    offered: dict[tuple[str, object], str] = {}
    holding: dict[str, str] = {}
    others = [b for b in client_bindings(tl)]
    out = []
    for e in tl.of("recv", "bound", "lease-lost", source="clients"):
        mac = str(e.get("mac"))
        if e.kind == "bound":
            holding[mac] = str(e.get("ip"))
        elif e.kind == "lease-lost":
            if e.get("why") != "nak" and holding.get(mac) == e.get("ip"):
                holding.pop(mac, None)
        elif e.get("msg") == "OFFER":
            offered[(mac, e.get("xid"))] = str(e.get("yiaddr"))
        elif e.get("msg") == "NAK" and e.get("expected"):
            state = str(e.get("state"))
            ip = offered.get((mac, e.get("xid"))) if state == "REQUESTING" else holding.get(mac)
            held = next((b.holder for b in others if b.ip == ip and b.holder != mac and b.start <= e.t < b.end), None)
            out.append(Refusal(e.t, str(e.get("client")), mac, ip, NAK_EXCHANGES.get(state, state.lower()),
                               roles.get(e.get("server_id"), str(e.get("server_id") or e.get("src_ip"))), held))
            if state != "REQUESTING":
                holding.pop(mac, None)
    return out


def naks(tl: Timeline, limit: Thresholds) -> Verdict:
    """Clients refused (DHCPNAK) from the first fault to the window's end by a server that should
    have served them: a NAK of the address the client was just offered, or of the one it holds,
    while no other client held it. A NAK that ends a conflict (another client held the address:
    the pair resolving a split brain) is warranted and only reported. The figure counts clients."""
    name, threshold = "naks", f"<= {limit.max_naks}"
    fault, end = _first_fault(tl), _window_end(tl)
    if fault is None or end is None:
        return Verdict(name, UNKNOWN, "no fault was applied, or the window never ended", threshold=threshold)
    asked = [e for e in tl.of("send", source="clients") if fault.t <= e.t <= end and e.get("msg") == "REQUEST"]
    if not asked:
        return Verdict(name, UNKNOWN, "no client sent a REQUEST after the fault: nothing a server could refuse",
                       threshold=threshold)
    found = [r for r in refusals(tl) if fault.t <= r.t <= end]
    wrong = [r for r in found if r.held_by is None]
    clients = sorted({r.client for r in wrong})
    status = PASS if len(clients) <= limit.max_naks else FAIL
    heal = next((e.t for e in tl.of("fault-healed", "heal-failed") if e.t >= fault.t), None)
    if wrong:
        per: dict[tuple[str, str], int] = defaultdict(int)
        for r in wrong:
            per[(r.server, r.exchange)] += 1
        first, last = wrong[0], wrong[-1]
        reason = (f"{len(clients)} client(s) refused {len(wrong)} time(s) in {len(asked)} REQUESTs after the fault ("
                  + ", ".join(f"{n} {what} NAK(s) from {who}" for (who, what), n in sorted(per.items()))
                  + f"), from {first.t - fault.t:+.1f} s ({first.client}, {first.ip}) to {last.t - fault.t:+.1f} s")
        if heal is not None:
            after = [r for r in wrong if r.t >= heal]
            reason += (f"; {len(after)} after the heal ({heal - fault.t:+.1f} s), the last {after[-1].t - heal:+.1f} s "
                       "after it" if after else f"; none after the heal ({heal - fault.t:+.1f} s)")
        reason += f": {listed(clients, 8)}"
    else:
        reason = f"no client refused in {len(asked)} REQUESTs after the fault"
    target = fault.get("target")
    if heal is not None and target:
        served = next((e for e in _acks(tl) if heal <= e.t <= end and _roles(tl).get(e.get("server_id")) == target), None)
        reason += (f"; {target}'s first ACK after the heal {served.t - heal:+.2f} s after it" if served else
                   f"; {target} ACKed nobody after the heal")
    warranted = [r for r in found if r.held_by is not None]
    if warranted:
        reason += (f"; {len(warranted)} NAK(s) of an address another client held (a conflict resolved, not "
                   f"counted): {', '.join(f'{r.ip} ({r.client}, held by {r.held_by})' for r in warranted[:3])}")
    return Verdict(name, status, reason, figure=len(clients), threshold=threshold)


def _held_at(bindings: list[Binding], t: float) -> Binding | None:
    return next((b for b in bindings if b.start <= t < b.end), None)


def continuity_outcomes(tl: Timeline, start: float, end: float
                        ) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """Each steady client that held an address at ``start``: kept (the same binding at ``end``,
    confirmed by a server after ``start``), lost, or unknown (neither confirmed nor lost), as
    client names and (client, why) pairs. Continuity verdicts and the per-kind figures read it."""
    steady = tl.first("steady")
    names = set(steady.get("leases", {})) if steady else set()
    bound = [e for e in tl.of("bound", source="clients") if e.get("client") in names]
    macs = {e.get("client"): e.get("mac") for e in bound}
    bound_by: dict[str, list[Event]] = defaultdict(list)
    for e in bound:
        bound_by[e.get("client")].append(e)
    lost_by: dict[str, list[Event]] = defaultdict(list)
    for e in tl.of("lease-lost", source="clients"):
        lost_by[e.get("mac")].append(e)
    mine = defaultdict(list)
    for b in client_bindings(tl):
        mine[b.holder].append(b)
    kept, lost, unknown = [], [], []
    for client in sorted(macs):
        at = _held_at(mine[macs[client]], start)
        if at is None:
            continue
        now = _held_at(mine[macs[client]], end)
        confirmed = [e for e in bound_by[client] if start < e.t <= end and e.get("ip") == at.ip]
        if now is not None and now.ip == at.ip and now.start == at.start:
            if confirmed:
                kept.append(client)
            else:
                unknown.append((client, f"{client} {at.ip}: no server confirmed it in the window"))
        else:
            gone = [e for e in lost_by[macs[client]] if e.get("ip") == at.ip and start <= e.t <= end]
            if gone:
                how = f"lost it ({gone[0].get('why')} at {gone[0].t - start:+.1f} s)"
            elif now is not None and now.ip != at.ip:
                how = "moved"
            else:
                how = "it ran out unrenewed"
            lost.append((client, f"{client} {at.ip} -> {now.ip if now else 'no lease'} at the end ({how})"))
    return kept, lost, unknown


def _continuity(tl: Timeline, limit: Thresholds, start: Event | None, name: str, what: str) -> Verdict:
    """Every steady client that held an address at ``start`` still holds that same binding (never
    lost in between) at the end of the window, confirmed by a server after ``start``. A client
    whose lease was neither confirmed nor lost in the window is unknown: nothing shows whether a
    server would honour it. Passes when even the unknown ones counted as lost meet the limit;
    fails when even counted as kept they cannot."""
    unit, threshold = "%", f">= {limit.min_continuity * 100:g} %"
    end = _window_end(tl)
    if start is None or end is None:
        return Verdict(name, UNKNOWN, f"no {what} happened, or the window never ended", unit=unit, threshold=threshold)
    kept_, lost_, unknown_ = continuity_outcomes(tl, start.t, end)
    kept, lost, unknown = kept_, [text for _, text in lost_], [text for _, text in unknown_]
    total = len(kept) + len(lost) + len(unknown)
    if not total:
        return Verdict(name, UNKNOWN, f"no steady client held a lease at the {what}", unit=unit, threshold=threshold)
    low, high = len(kept) / total, (len(kept) + len(unknown)) / total
    status = PASS if low >= limit.min_continuity else FAIL if high < limit.min_continuity else UNKNOWN
    reason = f"{len(kept)} of {total} clients kept their address from the {what} to the end of the window"
    if lost:
        reason += "; lost: " + listed(lost)
    if unknown:
        reason += "; unknown: " + listed(unknown)
    if lost and (dropped := _dropped(tl, start.t, end)):
        reason += "; " + dropped
    lab_limit = "; ".join(r for r in (_unseen_replies(tl), hostcpu.saturation_reason(tl)) if r)
    if status == FAIL and lab_limit:  # a lease lost to the lab is not the pair's failure
        status, reason = UNKNOWN, f"{lab_limit}; {reason}"
    elif status == FAIL and (own := hostcpu.servers_own(tl)):
        reason += f"; {own}"
    return Verdict(name, status, reason, figure=round(low * 100, 1), unit=unit, threshold=threshold)


def listed(items: list[str], most: int = 20) -> str:
    """Items for a reason: all of them when few; the first ``most`` and how many more when a
    population of thousands would make the reason unreadable (the timeline has every one)."""
    return "; ".join(items[:most]) + (f"; and {len(items) - most} more" if len(items) > most else "")


def continuity(tl: Timeline, limit: Thresholds) -> Verdict:
    """Every client that held a lease at the anchor holds the same address at the window's end
    (unknown when the fault did not bite: then nothing happened for clients to survive)."""
    if tl.first("fault-verified") is None:
        return Verdict("continuity", UNKNOWN, "no effective fault, so no continuity across it to judge", unit="%",
                       threshold=f">= {limit.min_continuity * 100:g} %")
    return _continuity(tl, limit, anchor(tl), "continuity", "fault")


def continuity_after_heal(tl: Timeline, limit: Thresholds) -> Verdict:
    """Every client that held a lease when the fault was healed (failback) keeps that address."""
    return _continuity(tl, limit, _restored(tl, anchor(tl)), "continuity-after-heal", "heal")


def _heal_began(tl: Timeline, fault: Event) -> float | None:
    """When the first heal after ``fault`` began (its proof, ``fault-healed``, comes later)."""
    return next((e.t for e in tl.of("heal-started") if e.t >= fault.t), None)


def _restored(tl: Timeline, fault: Event | None) -> Event | None:
    """The heal that brought the anchor's target back (a killed server that stays dead has none)."""
    return next((e for e in tl.of("fault-healed") if fault is not None and e.t >= fault.t and e.get("restored")), None)


def failback_sync(tl: Timeline) -> Verdict:
    """Every lease a surviving server granted during the outage and still held when the server
    that came back was in its normal state again (its sync done; the window's end if it never
    got there) is known to that server (same address, same client, lasting as long). A lease
    released between the heal and the end of the sync is no longer there to know."""
    name, unit = "failback-sync", "%"
    fault = anchor(tl)
    healed = _restored(tl, fault)
    if fault is None or healed is None:
        return Verdict(name, UNKNOWN, "no fault was healed", unit=unit, threshold="100 %")
    target = fault.get("target")
    lab, end = tl.first("lab"), _window_end(tl)
    normal = lab.get("normal_state") if lab else None
    # from the heal's start: its proof waits for the daemon to answer, so the daemon's own log may
    # put it in its normal state before the heal is recorded as done
    began = min(x if (x := _heal_began(tl, fault)) is not None else healed.t, healed.t)
    synced = next((e.t for e in tl.of("ha-state", source=target) if e.t >= began and e.get("to") == normal),
                  end if end is not None else healed.t)
    gaps = _lease_file_gaps(tl)
    if gaps:
        return Verdict(name, UNKNOWN, "; ".join(gaps), unit=unit, threshold="100 %")
    try:
        records = server_bindings(tl)
    except ValueError as exc:
        return Verdict(name, UNKNOWN, f"lease-file times cannot be placed on the timeline: {exc}", unit=unit,
                       threshold="100 %")
    granted = [b for b in records if b.seen_by != target and fault.t <= b.start <= healed.t
               and b.end > synced]
    if not granted:
        return Verdict(name, UNKNOWN, "no lease was granted during the outage", unit=unit, threshold="100 %")
    leases = {(g.ip, g.holder) for g in granted}
    undated = next((b.ambiguous for b in records if b.ambiguous and (
        fault.t <= b.start <= healed.t if b.seen_by != target else (b.ip, b.holder) in leases)), "")
    if undated:  # one placing may count a lease as granted, or as known, and the other not
        return Verdict(name, UNKNOWN, f"a lease record cannot be dated: {undated}", unit=unit, threshold="100 %")
    ends: dict[tuple[str, str], float] = {}  # (address, client) -> the latest end the returning server knows
    for b in records:
        if b.seen_by == target:
            ends[(b.ip, b.holder)] = max(ends.get((b.ip, b.holder), -INF), b.end)
    need = _sync_needs(tl, target, granted)
    known = [g for g in granted if ends.get((g.ip, g.holder), -INF) >= need[g] - 1]
    missing = [f"{g.ip} ({g.holder})" for g in granted if ends.get((g.ip, g.holder), -INF) < need[g] - 1]
    late = sum(1 for g in granted if need[g] < g.end)
    ratio = round(100 * len(known) / len(granted), 1)
    status = PASS if not missing else FAIL
    return Verdict(name, status, f"{target} knows {len(known)} of {len(granted)} leases granted while it was down"
                   + (f"; missing: {', '.join(missing[:8])}" if missing else "")
                   + (f"; {late} renewal(s) granted less than {UPDATE_GRACE_S:g} s before the evidence was read "
                      f"not yet expected at {target}" if late else "") + _sync_story(tl, target, healed.t),
                   figure=ratio, unit=unit, threshold="100 %")


def dhcpd_time(text: str | None) -> float | None:
    """A dhcpd lease-file time (``1 2026/12/07 11:39:44``, UTC, or ``epoch N``) as epoch
    seconds; None when it is neither."""
    from calendar import timegm
    words = (text or "").split()
    try:
        if words[0] == "epoch":
            return float(words[1])
        return float(timegm(time.strptime(" ".join(words[1:3]), "%Y/%m/%d %H:%M:%S")))
    except (IndexError, ValueError):
        return None


def _record_end(r: dict) -> float | None:
    """When a lease record cut from a file ends, if it is a live grant: a Kea memfile row
    (``expire``, ``valid_lifetime`` > 0, state 0) or an active dhcpd stanza (``ends`` in UTC, or
    ``epoch N``); None for a release, a deletion or a free address."""
    if "expire" in r:
        try:
            live = int(r.get("valid_lifetime") or 0) > 0 and str(r.get("state") or "0") == "0"
            return float(r["expire"]) if live else None
        except (TypeError, ValueError):
            return None
    if r.get("state") != "active" or not r.get("ends"):
        return None
    return dhcpd_time(str(r["ends"]))


def tail_relearned(tl: Timeline) -> Verdict:
    """After a crash cut the tail of a server's lease file (``lease-file-truncated``), the server
    that came back knows every lease among the cut records that was live when it died and whose
    client still held that address when it was started again and ``UPDATE_GRACE_S`` after (its
    final lease file binds that address to that client past the restart), learned from its
    partner or from the client. A lease it does not know is one it may hand to another client.
    Live at the death, not at the restart: with production's hour-long leases every cut lease
    still runs at the restart, while the lab's minute-long ones run out during the outage and live
    on at the partner. A lease given up within the grace is not asked for: the partner's update
    may carry only the release (dhcpd sends the lease as it is, not its history)."""
    name, unit, threshold = "tail-relearned", "%", "100 %"
    cut = tl.first("lease-file-truncated")
    if cut is None:
        return Verdict(name, UNKNOWN, "no lease file was cut", unit=unit, threshold=threshold)
    target, fault = cut.source, anchor(tl)
    healed = _restored(tl, fault)
    if healed is None:
        return Verdict(name, UNKNOWN, f"{target} was not started again", unit=unit, threshold=threshold)
    gaps = _lease_file_gaps(tl)
    if gaps:
        return Verdict(name, UNKNOWN, "; ".join(gaps), unit=unit, threshold=threshold)
    try:
        records = [b for b in server_bindings(tl) if b.seen_by == target]
    except ValueError as exc:
        return Verdict(name, UNKNOWN, f"lease-file times cannot be placed on the timeline: {exc}", unit=unit,
                       threshold=threshold)
    removed = cut.get("removed") or []
    last = {str(r.get("ip")): r for r in removed}  # the newest cut record of each address
    held = {(b.ip, b.holder): b.end for b in client_bindings(tl) if b.start <= healed.t < b.end}
    live = sorted((ip, str(r.get("mac"))) for ip, r in last.items()
                  if (_record_end(r) or -INF) > fault.t and (ip, str(r.get("mac"))) in held)
    lost = [k for k in live if held[k] > healed.t + UPDATE_GRACE_S]
    let_go = [f"{ip} ({mac})" for ip, mac in live if (ip, mac) not in lost]
    what = (f"the last {len(removed)} records of {target}'s lease file were cut ({cut.get('records_before')} "
            f"before, {cut.get('records_after')} after)")
    given_up = (f"; {len(let_go)} more held at the restart were given up by their clients within "
                f"{UPDATE_GRACE_S:g} s of it, before the partner's update was due, not counted: {', '.join(let_go[:8])}"
                if let_go else "")
    if not lost:
        return Verdict(name, UNKNOWN, f"{what}, and none of them was a lease live at the crash that a client still "
                                      f"held {UPDATE_GRACE_S:g} s after {target} was started again: nothing to "
                                      f"relearn{given_up}",
                       unit=unit, threshold=threshold)
    known = [k for k in lost if any((b.ip, b.holder) == k and b.latest_end > healed.t for b in records)]
    missing = [f"{ip} ({mac})" for ip, mac in lost if (ip, mac) not in known]
    ratio = round(100 * len(known) / len(lost), 1)
    return Verdict(name, PASS if not missing else FAIL,
                   f"{what}; {len(lost)} of them were leases live at the crash that clients still held at the restart and "
                   f"{UPDATE_GRACE_S:g} s after, "
                   f"of which {target} "
                   f"knows {len(known)}" + (f"; unknown to it: {', '.join(missing[:8])}" if missing else "")
                   + given_up + _sync_story(tl, target, healed.t), figure=ratio, unit=unit, threshold=threshold)


def _sync_story(tl: Timeline, target: str, since: float) -> str:
    """How the returning server's lease sync went (Kea): how long it was in ``syncing``, the pages
    and leases it pulled (``sync-page-limit`` per page), Kea's own time for it, and the longest
    any client waited meanwhile (the partner serves no one while it is being synced from)."""
    states = [e for e in tl.of("ha-state", source=target) if e.t >= since]
    start = next((e.t for e in states if e.get("to") == "syncing"), None)
    if start is None:
        return ""
    stop = next((e.t for e in states if e.t > start and e.get("from") == "syncing"), None)
    pages = [e for e in tl.of("lease-sync-page", source=target) if e.t >= since]
    done = next((e for e in tl.of("lease-sync-done", source=target) if e.t >= since), None)
    story = f"; sync: {target} was syncing {f'{stop - start:.2f} s' if stop is not None else 'until the window ended'}"
    if pages:
        story += f", pulled {sum(int(e.get('leases') or 0) for e in pages):,} lease(s) in {len(pages)} page(s)"
    if done is not None:
        story += f" (Kea: completed in {done.get('took')})"
    until = stop if stop is not None else _window_end(tl)
    if until is not None:
        waits = [min(w.until if w.until is not None else until, until) - max(w.since, start)
                 for w in client_waits(tl) if w.since < until and (w.until is None or w.until > start)]
        story += f"; longest client wait during it {max(waits):.2f} s" if waits else "; no client waited during it"
    return story


UPDATE_GRACE_S = 5.0  # dhcpd tells its partner of a renewal after the ACK: not at once


def _sync_needs(tl: Timeline, target: str, granted: list[Binding]) -> dict[Binding, float]:
    """The end the returning server must know for each lease: the survivor's, except that a
    renewal the survivor granted (``lease-grant``) within ``UPDATE_GRACE_S`` of reading the
    returning server's lease file cannot be expected there yet (dhcpd sends binding updates after
    its ACK); then the end of the survivor's grant before it. Kea updates its partner before the
    ACK and records no ``lease-grant`` events, so its ends are compared as they are."""
    read = next((e.t for e in tl.of("lease-file") if e.source == target and e.get("read")), None)
    grants: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for e in tl.of("lease-grant"):
        grants[(e.source, str(e.get("ip")), str(e.get("mac")))].append(e)
    cutoff = read - UPDATE_GRACE_S if read is not None else INF
    need = {}
    for g in granted:
        mine = grants.get((g.seen_by, g.ip, g.holder), [])
        earlier = [float(e.get("ends")) for e in mine if e.t <= cutoff and e.get("ends") is not None]
        need[g] = min(g.end, max(earlier)) if earlier and any(e.t > cutoff for e in mine) else g.end
    return need


def reply_checksums(tl: Timeline) -> Verdict:
    """Server replies carry valid UDP checksums; a real client silently drops those that do not."""
    name = "reply-checksums"
    replies = [e for e in tl.of("recv", source="clients")]
    if not replies:
        return Verdict(name, UNKNOWN, "no server reply was captured")
    bad = [e for e in replies if e.get("udp_checksum_ok") is False]
    status = PASS if not bad else FAIL
    return Verdict(name, status, f"{len(bad)} of {len(replies)} replies had a bad UDP checksum",
                   figure=len(bad))


def _finish(v: Verdict, limit: Thresholds) -> Verdict:
    """A verdict whose manifest key the pair did not state is shown but not judged."""
    key = NEEDS.get(v.name)
    return v if key is None or limit.states(key) else _not_stated(v, key)


def state_transitions(tl: Timeline, limit: Thresholds) -> Verdict:
    """Each role passed, after the anchor, through the HA states its pair says it must (in order);
    an empty list means the role must not change state at all."""
    name = "state-transitions"
    fault = anchor(tl)
    if fault is None:
        return Verdict(name, UNKNOWN, "no fault was applied")
    seen, missing = [], []
    roles = sorted(set(limit.expect_states) | set(_roles(tl).values()) | {e.source for e in tl.of("ha-state")})
    for role in roles:
        wanted = limit.expect_states.get(role, ())
        path = [e.get("to") for e in tl.of("ha-state", source=role) if e.t >= fault.t]
        it = iter(path)
        if role in limit.expect_states and not wanted and path:
            missing.append(f"{role} expected no change")
        elif not all(any(s == w for s in it) for w in wanted):
            missing.append(f"{role} expected {' -> '.join(wanted)}")
        seen.append(f"{role}: {' -> '.join(path) or 'no change'}")
    status = FAIL if missing else PASS
    return _finish(Verdict(name, status, ("; ".join(missing) + " but saw " if missing else "") + "; ".join(seen),
                           threshold="; ".join(f"{r}: {' -> '.join(w) or 'no change'}"
                                               for r, w in sorted(limit.expect_states.items()))), limit)


def _state_intervals(tl: Timeline, role: str) -> list[tuple[float, float, str]]:
    """(start, end, state) for one role, from pair-ready until the end of the observation."""
    ready, end = tl.first("pair-ready"), tl.first("observe-end")
    if ready is None:
        return []
    t, state = ready.t, str(ready.get("states", {}).get(role, "unknown"))
    stop = end.t if end else max((e.t for e in tl), default=t)
    spans = []
    for e in tl.of("ha-state", source=role):
        if e.t < t:
            continue
        spans.append((t, e.t, state))
        t, state = e.t, e.get("to")
    spans.append((t, stop, state))
    return spans


def _hand_overs(tl: Timeline, stop: float) -> list[tuple[float, float]]:
    """Stretches in which two servers may both serve one scope by design: a fault being applied
    (a maintenance hand-over is part of it), and each heal until every server is back in the
    normal state (the heal alone when they never are). A heal's hand-over begins when a target
    that was silenced serves again (``_silenced``): while it restarts or syncs it answers no one,
    so an answer from it then is no hand-over."""
    lab = tl.first("lab")
    proofs = tl.of("fault-verified", "fault-not-effective")
    out = [(a.t, next((p.t for p in proofs if p.t >= a.t), stop)) for a in tl.of("fault-applied")]
    normal = lab.get("normal_state") if lab else None
    roles = sorted(set(_roles(tl).values()))
    returns = {q.heal: q.until for spans in _silenced(tl).values() for q in spans if q.until < INF}
    for h in tl.of("heal-started"):
        healed = next((x.t for x in tl.of("fault-healed", "heal-failed") if x.t >= h.t), h.t)
        back = [next((s for s, _, st in _state_intervals(tl, r) if s >= h.t and st == normal), None) for r in roles]
        end = max(back) if back and None not in back else healed
        out.append((min(returns.get(h.t, h.t), end), end))
    return out


SAME_STRETCH_S = 8.0  # switches closer than a probe's cycle and the longest backoff (timers.client_rhythm_s) are one stretch


def double_serving(tl: Timeline) -> tuple[float, list[str]]:
    """Seconds and switches of ``double_stretches`` (which see)."""
    total, said, _ = double_stretches(tl)
    return total, said


def double_stretches(tl: Timeline) -> tuple[float, list[str], list[tuple[float, float]]]:
    """Seconds, from the first fault to the end of the window, during which two servers served
    clients of one scope, and the switches that show it (one line each): consecutive answers to a
    scope's clients from different servers with no hand-over between them. Hot-standby: every
    client is one scope and every ACK counts. Load-balancing: a scope is the clients one server
    alone served before the fault (which server owns a MAC is the servers' hash, not known here),
    and each client new since is its own; what counts is the ACK each client took (a dhcpd pair
    answers one REQUEST from both servers by design, and the client keeps the first). Switches
    less than ``SAME_STRETCH_S`` apart count with the time between them. Not measured for a
    dhcpd failover pair (one with interrupted states): each of its servers serves from the
    addresses it owns, so both answering one scope is its normal operation (seen after every
    recorded failback); its split brain is both in partner-down."""
    lab, applied = tl.first("lab"), tl.of("fault-applied")
    if lab is None or not applied or lab.get("interrupted_states"):
        return 0.0, [], []
    roles, zero = _roles(tl), applied[0].t
    end = _window_end(tl)
    stop = end if end is not None else max(e.t for e in tl)
    pauses = _hand_overs(tl, stop)
    if len(lab.get("serving", [])) <= 1:
        answers = [e for e in _acks(tl) if zero <= e.t <= stop]
        streams = {"all clients": answers}
    else:
        answers = [e for e in tl.of("bound", source="clients") if e.t <= stop]
        before: dict[str, set[str]] = defaultdict(set)
        for e in answers:
            if e.t < zero:
                before[e.get("mac")].add(roles.get(e.get("server_id"), str(e.get("server_id"))))
        streams = defaultdict(list)
        for e in answers:
            if e.t >= zero:
                owner = before.get(e.get("mac"), set())
                key = f"{next(iter(owner))}'s clients" if len(owner) == 1 else "" if owner else str(e.get("client"))
                if key:
                    streams[key].append(e)
    spans, said = [], []
    for scope, events in sorted(streams.items()):
        for x, y in zip(events, events[1:]):
            rx, ry = roles.get(x.get("server_id")), roles.get(y.get("server_id"))
            if rx != ry and not any(a < y.t and x.t < b for a, b in pauses):
                spans.append((x.t, y.t))
                said.append(f"{scope}: {rx} ACKed {x.get('client')} at {x.t - zero:+.2f} s, {ry} ACKed "
                            f"{y.get('client')} at {y.t - zero:+.2f} s")
    spans.sort()
    total, reach, stretches = 0.0, -INF, []
    for a, b in spans:  # switches less than SAME_STRETCH_S apart: one stretch of double service
        total += max(0.0, b - max(a if a - reach > SAME_STRETCH_S else reach, reach))
        if a - reach > SAME_STRETCH_S:
            stretches.append((a, b))
        else:
            stretches[-1] = (stretches[-1][0], max(reach, b))
        reach = max(reach, b)
    return round(total, 2), said, stretches


def split_brain(tl: Timeline) -> Verdict:
    """Seconds during which both servers served alone at once: both in a state where each serves
    every client alone (Kea and ISC: partner-down: each allocates from the whole pool on its own),
    or, whatever the states say, both answering clients of one scope outside a hand-over
    (``double_serving``, from the packets). The figure is the longer of the two."""
    name, unit = "split-brain", "s"
    lab = tl.first("lab")
    solo = set(lab.get("solo_states", [])) if lab else set()
    doubled, switches = double_serving(tl)
    packets = (f"both served one scope for {doubled:g} s outside a hand-over ({len(switches)} switch(es) between "
               f"servers: {listed(switches, 3)})" if switches else
               "not measured from packets: both servers of a dhcpd failover pair answer one scope by design, each "
               "from the addresses it owns" if lab is not None and lab.get("interrupted_states") else
               "no scope was served by both servers outside a hand-over")
    if not solo or tl.first("pair-ready") is None:
        if switches:
            return Verdict(name, FAIL, f"no server states were recorded, but {packets}", figure=doubled, unit=unit,
                           threshold="0 s")
        return Verdict(name, UNKNOWN, f"no server states were recorded; {packets}", unit=unit, threshold="0 s")
    a = [(s, e) for s, e, st in _state_intervals(tl, "primary") if st in solo]
    b = [(s, e) for s, e, st in _state_intervals(tl, "secondary") if st in solo]
    both = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)
    both = round(both, 2)
    states = (f"both servers were in {'/'.join(sorted(solo))} for {both:g} s: each served every client from the "
              "whole pool without the other" if both else f"the servers were never both in {'/'.join(sorted(solo))}")
    figure = max(both, doubled)
    if both == 0 and not switches:
        return Verdict(name, PASS, f"{states}; {packets}", figure=0.0, unit=unit, threshold="0 s")
    return Verdict(name, FAIL, f"{states}; {packets}", figure=figure, unit=unit, threshold="0 s")


UNACKED_UPDATE_S = KEA_HTTP_TIMEOUT_S
"""How long before a split brain began a server may have granted a lease its partner never learned
of: its lease update hangs on the cut peer link for up to the peer timeout (Kea's fixed 10 s HTTP
timeout; the bundled dhcpd pairs' max-response-delay 10 s) while it holds the client's ACK, and the
partner goes on alone without it. Recorded (tests/evidence/kea-hs-peer-partition): the primary
wrote 198.18.0.113 and .114 for probe-01 3.8 s before both servers went partner-down; the standby,
never told, gave both to probe-00 6 s into the split brain."""


def split_brain_windows(tl: Timeline) -> list[tuple[float, float]] | None:
    """The stretches in which both servers served on their own, as split-brain measures them: from
    the first of the two to enter a solo state until the last to leave it, wherever both were in
    one at once, and each stretch of double service the packets show (``double_stretches``); each
    begun ``UNACKED_UPDATE_S`` early, but not before the first fault (until the fault every lease
    update reached the partner), and merged. None when neither can be measured (no server states
    recorded and no double service in the packets): split-brain is then unknown too."""
    lab, first = tl.first("lab"), _first_fault(tl)
    solo = set(lab.get("solo_states", [])) if lab else set()
    _, _, stretches = double_stretches(tl)
    spans = list(stretches)
    if solo and tl.first("pair-ready") is not None:
        a = [(s, e) for s, e, st in _state_intervals(tl, "primary") if st in solo]
        b = [(s, e) for s, e, st in _state_intervals(tl, "secondary") if st in solo]
        spans += [(min(s1, s2), max(e1, e2)) for s1, e1 in a for s2, e2 in b if min(e1, e2) > max(s1, s2)]
    elif not spans:
        return None
    floor = first.t if first is not None else -INF
    merged: list[tuple[float, float]] = []
    for s, e in sorted((min(s, max(floor, s - UNACKED_UPDATE_S)), e) for s, e in spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _granted_within(c: Conflict, windows: list[tuple[float, float]]) -> bool:
    """Both grants of a conflict (each binding's start, give or take its slack) in one window."""
    return any(all(lo - b.slack <= b.start <= hi + b.slack for b in (c.first, c.second)) for lo, hi in windows)


def _names_split_brain(limit: Thresholds) -> bool:
    hazard = limit.known_hazard
    return hazard is not None and "split-brain" in (*hazard.fails, *hazard.may_fail)


@dataclass(frozen=True)
class Wait:
    """A stretch during which one client needed an answer: from the first DISCOVER or REQUEST of
    an exchange (a new lease, a renewal, a rebind, a retry after a NAK) until the ACK that ended
    it (``until`` None: still waiting). ``using``: the server that gave its last lease."""

    client: str
    since: float
    until: float | None
    using: str | None
    answered_by: str | None = None
    exchange: str = ""  # what the client was doing: a new lease, a renewal, a rebind

    def length(self, end: float) -> float:
        return min(self.until if self.until is not None else end, end) - self.since


EXCHANGES = {"RENEWING": "renewal", "REBINDING": "rebind", "REBOOTING": "reboot (INIT-REBOOT)"}


def client_waits(tl: Timeline) -> tuple[Wait, ...]:
    """Every wait of every client. A request whose exchange (xid) was already answered starts
    no wait: an agent that stamped its sends after they left could record the REQUEST a moment
    after the ACK that answered it. Worked out once per timeline (outage, load, the sync story
    and the picture all read it)."""
    return tl.derived(_client_waits)


def _client_waits(tl: Timeline) -> tuple[Wait, ...]:
    roles = _roles(tl)
    waiting: dict[str, tuple[str, float, str | None, str]] = {}
    server: dict[str, str | None] = {}
    answered: set[tuple[str, object]] = set()
    out = []
    for e in tl.of("send", "recv", "bound", source="clients"):
        mac = e.get("mac")
        if e.kind == "recv":
            if e.get("msg") == "ACK" and e.get("expected"):
                answered.add((mac, e.get("xid")))
        elif e.kind == "send" and e.get("msg") in ("DISCOVER", "REQUEST") and mac not in waiting \
                and (mac, e.get("xid")) not in answered:
            waiting[mac] = (str(e.get("client")), e.t, server.get(mac), EXCHANGES.get(e.get("state"), "new lease"))
        elif e.kind == "bound":
            server[mac] = roles.get(e.get("server_id"), e.get("server_id"))
            if mac in waiting:
                client, since, using, what = waiting.pop(mac)
                out.append(Wait(client, since, e.t, using, server[mac], what))
    return (*out, *(Wait(client, since, None, using, None, what) for client, since, using, what in waiting.values()))


def client_outage(tl: Timeline, limit: Thresholds) -> Verdict:
    """The longest any client that needed service after the anchor waited for an answer
    (exchanges still open when the window ends count up to its end). The longest stretch with
    no ACK to anyone is reported beside it: it hides the clients of a dead server while the
    survivor keeps serving its own."""
    name, unit = "client-outage", "s"
    threshold = f"<= {limit.max_outage_s:g} s" if limit.max_outage_s is not None else ""
    fault, end = anchor(tl), _window_end(tl)
    if fault is None or end is None:
        return Verdict(name, UNKNOWN, "no fault was applied, or the window never ended", unit=unit, threshold=threshold)
    waits = [w for w in client_waits(tl) if (w.until if w.until is not None else INF) >= fault.t and w.since < end]
    if not waits:
        return Verdict(name, UNKNOWN, "no client asked for service after the fault", unit=unit, threshold=threshold)
    worst = max(waits, key=lambda w: w.length(end))
    longest = round(worst.length(end), 2)
    times = [fault.t] + [e.t for e in _acks(tl) if fault.t <= e.t <= end] + [end]
    gap = round(max(b - a for a, b in zip(times, times[1:])), 2)
    answer = f"answered by {worst.answered_by}" if worst.until is not None else "still unanswered when the window ended"
    kinds: dict[str, float] = {}
    for w in waits:
        kinds[w.exchange] = max(kinds.get(w.exchange, 0.0), w.length(end))
    reason = (f"{worst.client} (last served by {worst.using or 'no server yet'}) waited {longest:g} s for a "
              f"{worst.exchange} from {worst.since - fault.t:+.1f} s after the fault, {answer}; longest per "
              f"exchange: {', '.join(f'{k} {v:.2f} s' for k, v in sorted(kinds.items()))}; "
              f"longest stretch without any ACK: {gap:g} s")
    status = PASS
    if limit.max_outage_s is not None:
        over = sorted({w.client for w in waits if w.length(end) > limit.max_outage_s})
        status = FAIL if over else PASS
        if over:
            reason += f"; {len(over)} client(s) waited longer than {limit.max_outage_s:g} s: {', '.join(over[:8])}"
    if _unseen_replies(tl):
        status, reason = UNKNOWN, f"{_unseen_replies(tl)}; {reason}"
    return _finish(Verdict(name, status, reason, figure=longest, unit=unit, threshold=threshold), limit)


def expected_warnings(tl: Timeline, limit: Thresholds) -> Verdict:
    """The servers logged each warning the pair says this fault must raise (e.g. a clock-skew
    warning), at or after the drill's first fault: the pair's own protection noticed."""
    name = "expected-warnings"
    fault = _first_fault(tl)
    if fault is None:
        return Verdict(name, UNKNOWN, "no fault was applied")
    lines = [(e.source, e.get("line", "")) for e in tl.of("ha-warning") if e.t >= fault.t]
    if not limit.expect_warnings:
        return _finish(Verdict(name, PASS, f"{len(lines)} HA warning(s) logged after the fault"), limit)
    found = {w: sorted({src for src, line in lines if w in line}) for w in limit.expect_warnings}
    missing = [w for w, where in found.items() if not where]
    detail = "; ".join(f"{w} from {', '.join(where) or 'nobody'}" for w, where in found.items())
    return Verdict(name, FAIL if missing else PASS, detail, threshold=", ".join(limit.expect_warnings))


def heal_to_normal(tl: Timeline, limit: Thresholds) -> Verdict:
    """Seconds from the heal until both servers were back in the pair's normal state. Unknown
    when neither server left it after the fault (there was nothing to recover from); fails when
    the pair was back in it while the fault still held (the fault stopped keeping it apart)."""
    name, unit = "heal-to-normal", "s"
    threshold = f"<= {limit.max_heal_to_normal_s:g} s" if limit.max_heal_to_normal_s is not None else ""
    lab, healed, fault = tl.first("lab"), tl.of("fault-healed"), _first_fault(tl)
    normal = lab.get("normal_state") if lab else None
    if not healed or not normal or fault is None:
        return _finish(Verdict(name, UNKNOWN, "no heal, or no normal state known", unit=unit, threshold=threshold),
                       limit)
    # From the moment the heal began: proving it took (a probe, the daemon's next timestamp) can
    # take seconds, and a quick pair is back in normal before that proof is in.
    started = [e for e in tl.of("heal-started") if e.t <= healed[-1].t]
    heal = (started[-1] if started else healed[-1]).t
    back, early, left_any = [], {}, False
    for role in sorted(set(_roles(tl).values())):
        spans = _state_intervals(tl, role)
        if not spans:  # no pair-ready: the states the pair was in are not evidence of anything
            return _finish(Verdict(name, UNKNOWN, f"{role}'s HA states were never recorded (no pair-ready): its "
                                                  "recovery cannot be measured", unit=unit, threshold=threshold), limit)
        last_start, _, last_state = spans[-1]
        if last_state != normal:
            return _finish(Verdict(name, FAIL, f"{role} was still {last_state} when the drill ended", unit=unit,
                                   threshold=threshold), limit)
        left = next((s for s, _, st in spans if s >= fault.t and st != normal), None)
        left_any = left_any or left is not None
        again = [s for s, _, st in spans if left is not None and left < s < heal and st == normal]
        if again:  # left normal after the fault and was back in it while the fault still held
            early[role] = again[0]
        back.append(max(last_start, heal))
    if not left_any:
        return _finish(Verdict(name, UNKNOWN, f"neither server left {normal} after the fault: there was no recovery "
                                              "to measure", unit=unit, threshold=threshold), limit)
    if early and len(early) == len(back):
        when = max(early.values())
        return _finish(Verdict(name, FAIL, f"the pair was in {normal} again {heal - when:.1f} s before the heal: the "
                                           "fault stopped keeping it apart while it still held",
                               figure=round(when - heal, 2), unit=unit, threshold=threshold), limit)
    seconds = round(max(back) - heal, 2)
    status = PASS if limit.max_heal_to_normal_s is None or seconds <= limit.max_heal_to_normal_s else FAIL
    return _finish(Verdict(name, status, f"both servers {normal} {seconds:g} s after the heal", figure=seconds,
                           unit=unit, threshold=threshold), limit)


def new_lease_cap(tl: Timeline, limit: Thresholds) -> Verdict:
    """The longest lease the survivors granted a brand-new client after the anchor (ISC
    failover: at most MCLT while the partner cannot be told)."""
    name, unit = "new-lease-cap", "s"
    threshold = f"<= {limit.max_new_lease_s:g} s" if limit.max_new_lease_s is not None else ""
    fault = anchor(tl)
    if fault is None:
        return Verdict(name, UNKNOWN, "no fault was applied", unit=unit, threshold=threshold)
    roles, target, kinds = _roles(tl), fault.get("target"), _client_roles(tl)
    new = [e for e in _acks(tl) if e.t >= fault.t and kinds.get(e.get("mac")) in ("fresh", "new")
           and roles.get(e.get("server_id")) not in (None, target)]
    if not new:
        return Verdict(name, UNKNOWN, "no new client was served after the fault", unit=unit, threshold=threshold)
    longest = max(float(e.get("lease_time") or 0) for e in new)
    status = PASS if limit.max_new_lease_s is None or longest <= limit.max_new_lease_s else FAIL
    return _finish(Verdict(name, status, f"{len(new)} new clients served after the fault; longest lease {longest:g} s",
                           figure=longest, unit=unit, threshold=threshold), limit)


def mclt_cap(tl: Timeline, limit: Thresholds) -> Verdict:
    """No lease a failover server ACKs, in any state, may end more than MCLT past the expiry its
    partner has acknowledged for that address (``tsfp`` in the server's own lease record of the
    grant; for an address the partner knows nothing of, MCLT past now; for the partner's own
    grant re-confirmed unchanged, past its end): the rule that keeps two servers from ever
    promising one address to two clients. An ACK with no lease record makes it UNKNOWN, unless
    another ACK definitely broke the cap: that fails whatever the unrecorded ones would show."""
    name, unit = "mclt-cap", "s"
    if limit.mclt_s is None:
        return Verdict(name, NOT_JUDGED, "not judged: the pair states no mclt_s for this drill", unit=unit)
    threshold = f"<= partner-acknowledged expiry + {limit.mclt_s:g} s"
    roles, grants = _roles(tl), tl.of("lease-grant")
    checked, worst, over, unmatched = 0, None, [], []
    by_state: dict[str, int] = defaultdict(int)
    spans = {role: _state_intervals(tl, role) for role in set(roles.values())}
    for e in _acks(tl):
        role = roles.get(e.get("server_id"))
        if role is None or e.get("lease_time") is None:
            continue
        # The record in force at the ACK: dhcpd writes none when an ACK leaves the end where it
        # was, so the latest one up to the ACK (2 s: whole-second clock). With no record of its
        # own, the server re-confirmed its partner's grant, whose end both know.
        records = [g for g in grants if g.get("ip") == e.get("yiaddr") and g.get("mac") == e.get("mac")
                   and g.t <= e.t + 2.0]
        own = [g for g in records if g.source == role]
        if not records:
            unmatched.append(f"{e.get('client')} {e.get('yiaddr')} from {role}")
            continue
        checked += 1
        state = next((st for a, b, st in spans[role] if a <= e.t < b), "before ready")
        by_state[state] += 1
        promised = e.t + float(e.get("lease_time"))
        if own:
            mine, now = max(own, key=lambda g: g.t), e.t
            # The server's own record of this grant says, on its own whole-second clock, when it
            # granted (cltt) and the end it promised: the client's capture time + lease time
            # overshoots that end by the part of a second the server's clock dropped plus the
            # reply's delivery (31.0 s for a 30-s MCLT in a CI run on 2026-12-01; evidence
            # isc-partner-down-second-edge). Both ends of the comparison then use its clock.
            if mine.get("ends") is not None and abs(float(mine.get("ends")) - promised) <= 2.0:
                promised, now = float(mine.get("ends")), float(mine.get("cltt") or e.t)
            known = max(float(mine.get("tsfp") or 0.0), now)
        else:
            theirs = max(records, key=lambda g: g.t)
            known = max(float(theirs.get("tsfp") or 0.0), float(theirs.get("ends")), e.t)
        beyond = promised - known
        worst = beyond if worst is None else max(worst, beyond)
        if beyond > limit.mclt_s + 1.0:  # 1 s: capture time vs the server's whole-second clock
            over.append(f"{role} ({state}) gave {e.get('client')} {e.get('yiaddr')} {e.get('lease_time')} s, "
                        f"{beyond:.0f} s past what its partner acknowledged")
    unseen = f"{len(unmatched)} ACKs have no record in any server's lease file: " + "; ".join(unmatched[:4])
    if over:  # a definite breach fails, whatever the ACKs without a record would have shown
        return Verdict(name, FAIL, f"{len(over)} of {checked} ACKs broke the MCLT cap: " + "; ".join(over[:4])
                       + (f"; besides, {unseen}" if unmatched else ""),
                       figure=round(worst, 1), unit=unit, threshold=threshold)
    if unmatched:
        return Verdict(name, UNKNOWN, unseen, unit=unit, threshold=threshold)
    if not checked:
        return Verdict(name, UNKNOWN, "no server gave an ACK", unit=unit, threshold=threshold)
    figure = round(worst, 1)
    states = ", ".join(f"{n} in {st}" for st, n in sorted(by_state.items()))
    return Verdict(name, PASS, f"{checked} ACKs checked ({states}); the furthest ended {figure:g} s past what the "
                               "partner had acknowledged", figure=figure, unit=unit, threshold=threshold)


def partner_pool_after_mclt(tl: Timeline, limit: Thresholds) -> Verdict:
    """After partner-down, the survivor hands out addresses its partner owned only once MCLT has
    passed (ISC failover), and then does use them: the whole pool is its own again."""
    name, unit = "partner-pool-after-mclt", "s"
    if limit.mclt_s is None:
        return Verdict(name, NOT_JUDGED, "not judged: the pair states no mclt_s for this drill", unit=unit)
    threshold = f">= {limit.mclt_s:g} s after partner-down"
    owners = tl.of("pool-owners")
    if not owners:
        return Verdict(name, UNKNOWN, "no record of who owned which free addresses", unit=unit, threshold=threshold)
    survivor, partner_pool = owners[-1].source, set(owners[-1].get("partner", []))
    down = [e for e in tl.of("ha-state", source=survivor) if e.get("to") == "partner-down" and e.t >= owners[-1].t - 1]
    if not down:
        return Verdict(name, FAIL, f"{survivor} never logged its move to partner-down", unit=unit, threshold=threshold)
    since = down[0].t
    roles = _roles(tl)
    own_grants = [e for e in _acks(tl) if e.t >= since and roles.get(e.get("server_id")) == survivor]
    taken = [e for e in own_grants if e.get("yiaddr") in partner_pool]
    early = [e for e in taken if e.t - since < limit.mclt_s - 1.0]  # 1 s: log vs capture clocks
    if early:
        e = early[0]
        return Verdict(name, FAIL, f"{survivor} granted {e.get('yiaddr')} (its partner's) to {e.get('client')} "
                                   f"{e.t - since:.1f} s after partner-down, before MCLT", figure=round(e.t - since, 2),
                       unit=unit, threshold=threshold)
    if not taken:
        return Verdict(name, UNKNOWN, f"{survivor} never needed its partner's {len(partner_pool)} free addresses "
                                      f"({len(own_grants)} grants after partner-down): the drill did not drain "
                                      "its own pool", unit=unit, threshold=threshold)
    first = round(taken[0].t - since, 2)
    return Verdict(name, PASS, f"{survivor} first granted a partner-owned address {first:g} s after partner-down "
                               f"({len(taken)} such grants, none earlier)", figure=first, unit=unit, threshold=threshold)


def subnets(tl: Timeline) -> Verdict:
    """Each link's clients were answered with addresses of their own link (its subnet, or any
    subnet of its shared network), and a link whose clients asked after the anchor was answered
    after it. A server that picks the wrong subnet for a relay's giaddr, or a relay that forwards
    to one server only (its link goes dark when that server dies while the others are served),
    shows here. Judged when the pair has relayed subnets or a shared network; for a shared network
    it says how many ACKs each of its subnets gave."""
    import ipaddress
    name = "subnets"
    lab = tl.first("lab")
    links = (lab.get("links") if lab else None) or []
    subnet_of = {e.get("mac"): e.get("subnet") for e in tl.of("client", source="clients") if e.get("subnet")}
    if not links or not subnet_of:
        return Verdict(name, UNKNOWN, "the timeline names no client subnets (a drill of one unrelayed subnet)")
    fault = anchor(tl)
    cut = fault.t if fault else INF
    roles = _roles(tl)
    seen = {link["subnet"]: {"clients": 0, "acks": 0, "after": 0, "asked": 0, "by": set(), "wrong": [], "from": {}}
            for link in links}
    nets_of = {}
    for link in links:
        try:
            nets_of[link["subnet"]] = [ipaddress.ip_network(n) for n in [link["subnet"], *(link.get("shared") or [])]]
        except ValueError:
            return Verdict(name, UNKNOWN, f"the timeline names a link subnet that is no network: {link}")
    for mac, net in subnet_of.items():
        if net in seen:
            seen[net]["clients"] += 1
    for e in tl.of("send", source="clients"):
        net = subnet_of.get(e.get("mac"))
        if net in seen and e.t >= cut and e.get("msg") in ("DISCOVER", "REQUEST"):
            seen[net]["asked"] += 1
    for e in _acks(tl):
        net = subnet_of.get(e.get("mac"))
        if net not in seen:
            continue
        got = seen[net]
        got["acks"] += 1
        got["by"].add(roles.get(e.get("server_id"), str(e.get("server_id"))))
        if e.t >= cut:
            got["after"] += 1
        try:
            ip = ipaddress.ip_address(str(e.get("yiaddr")))
            inside = next((n for n in nets_of[net] if ip in n), None)
        except ValueError:
            inside = None
        if inside is None:
            got["wrong"].append(f"{e.get('client')} got {e.get('yiaddr')}")
        else:
            got["from"][str(inside)] = got["from"].get(str(inside), 0) + 1
    bad, told = [], []
    for link in links:
        net, got = link["subnet"], seen[link["subnet"]]
        how = f"relay {link['relay']}" if link.get("relay") else "the servers' own network"
        shared = link.get("shared") or []
        told.append(f"{net}{' + ' + ' + '.join(shared) if shared else ''} ({how}): {got['clients']} clients, "
                    f"{got['acks']} ACKs from {', '.join(sorted(got['by'])) or 'nobody'}"
                    + (f" ({got['after']} after the fault)" if fault else "")
                    + (" [" + ", ".join(f"{n}: {got['from'].get(str(n), 0)}" for n in nets_of[net]) + "]"
                       if shared else ""))
        if got["wrong"]:
            bad.append(f"{net}: {len(got['wrong'])} address(es) outside the "
                       f"{'shared network' if shared else 'subnet'} ({'; '.join(got['wrong'][:3])})")
        if got["clients"] and not got["acks"]:
            bad.append(f"{net}: no client of it was ever answered")
        elif fault and got["asked"] and not got["after"]:
            bad.append(f"{net}: its clients asked {got['asked']} time(s) after the fault and were never answered")
    if bad:
        return Verdict(name, FAIL, "; ".join(bad) + " — " + "; ".join(told), figure=len(bad))
    return Verdict(name, PASS, "; ".join(told), figure=0)


CONFLICT_WORDS = ("CONFLICT", "REJECT")


def lease_conflicts(tl: Timeline) -> Verdict:
    """No server logged a lease update its partner rejected or found in conflict (Kea:
    HA_LEASE_UPDATE_CONFLICT, rejected updates; e.g. peers of different versions that disagree on
    a lease state), from the first server line of the drill to the last."""
    name = "lease-conflicts"
    if not tl.of("lease-file"):
        return Verdict(name, UNKNOWN, "the servers' evidence was never collected")
    found = [e for e in tl.of("ha-warning") if any(w in str(e.get("line", "")) for w in CONFLICT_WORDS)]
    if not found:
        return Verdict(name, PASS, "no lease update was rejected or in conflict in either server's log", figure=0)
    ids = sorted({next((w for w in str(e.get("line", "")).split() if w.startswith("HA_")), "?") for e in found})
    return Verdict(name, FAIL, f"{len(found)} lease update conflict(s) or rejection(s) logged "
                               f"({', '.join(ids)}; first by {found[0].source}: {str(found[0].get('line'))[:160]})",
                   figure=len(found))


def load(tl: Timeline, limit: Thresholds) -> Verdict:
    """What the population saw (``load``): latency p50/p99 of new leases and renewals and the
    exchanges begun and answered per second before the fault, during it (until the heal, or the
    window's end) and after the heal; the clients that waited more than 1 s, 10 s or their own T2
    after the fault; and the steady clients whose lease expired unrenewed after the fault (the
    figure, judged against ``max_expired_leases``)."""
    name = "load"
    threshold = f"<= {limit.max_expired_leases}" if limit.max_expired_leases is not None else ""
    steady, fault, end = tl.first("steady"), anchor(tl), _window_end(tl)
    if steady is None or fault is None or end is None:
        return Verdict(name, UNKNOWN, "the clients never reached steady state, no fault was applied, "
                                      "or the window never ended", threshold=threshold)
    waits = client_waits(tl)
    healed = next((e.t for e in tl.of("fault-healed") if e.t >= fault.t), None)
    phases = [loadfig.phase("before", waits, steady.t, fault.t),
              loadfig.phase("during", waits, fault.t, healed or end)]
    if healed is not None and healed < end - 1:  # a kill "healed" as the window closes has no after
        phases.append(loadfig.phase("after", waits, healed, end))
    t2: dict[str, float] = {}
    for e in tl.of("recv", source="clients"):
        if e.t < fault.t and e.get("msg") == "ACK" and e.get("expected") and e.get("rebinding_time"):
            t2[str(e.get("client"))] = float(e.get("rebinding_time"))
    waited = loadfig.outage_counts(waits, fault.t, end, t2)
    roles = _client_roles(tl)
    expired = sorted({str(e.get("client")) for e in tl.of("lease-lost", source="clients") if e.get("why") == "expired"
                      and fault.t <= e.t <= end and roles.get(e.get("mac")) in ("steady", "new")})
    newcomers = {mac for mac, role in roles.items() if role == "new"}
    leased = {e.get("mac") for e in tl.of("bound", source="clients") if e.get("mac") in newcomers}
    refused = [e for e in tl.of("pool-exhausted") if fault.t <= e.t <= end]
    exhausted = (f"first refused for lack of addresses by {refused[0].source} {refused[0].t - fault.t:+.1f} s "
                 f"after the fault ({len(refused)} refusal(s) logged)" if refused else
                 "no server logged a client refused for lack of addresses" if tl.of("lease-file") else
                 "pool exhaustion unknown (the servers' logs were never collected)")
    reason = ("; ".join(p.describe() for p in phases) + f"; {exhausted}"
              + f"; after the fault {waited['clients']} client(s) asked: "
              + ", ".join(f"{v} waited {k}" for k, v in waited.items() if k != "clients")
              + (f"; {len(newcomers)} new client(s) arrived during the drill, {len(leased)} of them leased"
                 if newcomers else "")
              + f"; {len(expired)} {'steady or new' if newcomers else 'steady'} lease(s) expired unrenewed"
              + (f": {listed(expired)}" if expired else "")
              + (f"; {dropped}" if (dropped := _dropped(tl, steady.t, end)) else ""))
    status = PASS if limit.max_expired_leases is None or len(expired) <= limit.max_expired_leases else FAIL
    if _unseen_replies(tl):
        status, reason = UNKNOWN, f"{_unseen_replies(tl)}; {reason}"
    elif status == FAIL and (saturated := hostcpu.saturation_reason(tl)):
        status, reason = UNKNOWN, f"{saturated}; {reason}"
    elif status == FAIL and (own := hostcpu.servers_own(tl)):
        reason += f"; {own}"
    return _finish(Verdict(name, status, reason, figure=len(expired), threshold=threshold), limit)


def _service_limit(tl: Timeline, limit: Thresholds) -> tuple[float | None, float, float, str]:
    """How long a client may wait once the survivor serves, how long across a hand-back (from a
    heal until both servers are normal again), and how much more after it waited out a REQUEST to
    a server that stopped answering: the pair's ``max_service_gap_s`` for every wait, else what
    its timers allow (``prediction`` of ``service-gap``, recorded before the drill; one recorded
    before hand-backs were told apart allowed its one limit everywhere)."""
    if limit.max_service_gap_s is not None:
        return limit.max_service_gap_s, limit.max_service_gap_s, 0.0, "(the pair's max_service_gap_s)"
    recorded = next((e for e in tl.of("prediction") if e.get("of") == "service-gap"), None)
    if recorded is None:
        return None, 0.0, 0.0, ""
    answer = float(recorded.get("high_s"))
    more = float(recorded.get("give_up_s") or 0.0)
    return answer, float(recorded.get("hand_back_s") or answer), more, f"({recorded.get('basis')})"


def _heal_stretches(tl: Timeline, stop: float) -> list[tuple[float, float]]:
    """From each heal that brought its target back until every server is in the normal state
    again, or ``stop`` (the window's end) when they never are: where a hand-back may leave a
    client unanswered for a while. A heal that restores nothing (a kill's, at the window's end)
    hands nothing back."""
    lab = tl.first("lab")
    normal = lab.get("normal_state") if lab else None
    roles = sorted(set(_roles(tl).values()))
    out = []
    for h in tl.of("heal-started"):
        healed = next((x for x in tl.of("fault-healed", "heal-failed") if x.t >= h.t), None)
        if healed is not None and healed.kind == "fault-healed" and not healed.get("restored"):
            continue
        back = [next((s for s, _, st in _state_intervals(tl, r) if s >= h.t and st == normal), None) for r in roles]
        out.append((h.t, max(back) if back and None not in back else stop))
    return out


def _spans_in(tl: Timeline, role: str, states: set[str]) -> list[tuple[float, float]]:
    return [(s, e) for s, e, st in _state_intervals(tl, role) if st in states]


def _survivor_waits(tl: Timeline, since: float, stop: float) -> list[tuple[Wait, bool]]:
    """Each wait of each client as the survivors are answerable for it, and whether the client
    first gave up on a REQUEST in it: sent it ``REQUEST_TRIES`` times unanswered to a server that
    had stopped answering (the fault's target, or either server in a hand-back: from a heal until
    both are normal again), not to one that was serving. The wait runs from the first packet of
    the exchange a serving server must answer (a broadcast; a renewal unicast to a server then
    serving alone), but not before ``since``, until the ACK that ended it (None: open). A renewal
    unicast to a server that is not serving alone (a dead one, a hot standby) may go unanswered
    until the client rebinds by broadcast, as RFC 2131 lets it; so may one to a server that left
    its solo state before it answered (a hand-back: recorded, a renewal sent as the standby went
    back to hot-standby, answered at the rebind 10 s later): the wait until it left is judged as it
    stands, and a new one starts at the client's next packet a serving server must answer."""
    roles, lab = _roles(tl), tl.first("lab")
    solo = set(lab.get("solo_states", [])) if lab else set()
    alone = {role: _spans_in(tl, role, solo) for role in set(roles.values())}
    fault = anchor(tl)
    heals = _heal_stretches(tl, stop)
    target = str(fault.get("target")) if fault is not None else None
    down = (fault.t, min((a for a, _ in heals if a >= fault.t), default=stop)) if fault is not None else (INF, INF)
    offered = {(e.get("mac"), e.get("xid")): roles.get(e.get("server_id"), str(e.get("server_id")))
               for e in tl.of("recv", source="clients") if e.get("msg") == "OFFER" and e.get("expected")}
    waiting: dict[str, dict] = {}
    server: dict[str, str | None] = {}
    answered: set[tuple[str, object]] = set()
    out = []

    def done(w: dict, until: float | None, by: str | None) -> tuple[Wait, bool]:
        gave_up = any(len(sent) >= REQUEST_TRIES and (
            offered.get((w["mac"], xid)) == target and sent[-1] >= down[0] and sent[0] < down[1]
            or any(a <= sent[-1] and sent[0] <= b for a, b in heals)) for xid, sent in w["requests"].items())
        return Wait(w["client"], w["clock"], until, w["using"], by, w["what"]), gave_up

    for e in tl.of("send", "recv", "bound", source="clients"):
        mac = e.get("mac")
        if e.kind == "recv":
            if e.get("msg") == "ACK" and e.get("expected"):
                answered.add((mac, e.get("xid")))
        elif e.kind == "send" and e.get("msg") in ("DISCOVER", "REQUEST") and (mac, e.get("xid")) not in answered:
            w = waiting.setdefault(mac, {"client": str(e.get("client")), "mac": mac, "clock": None,
                                         "using": server.get(mac), "what": EXCHANGES.get(e.get("state"), "new lease"),
                                         "requests": {}})
            if e.get("state") == "REBINDING":
                w["what"] = "rebind"
            if e.get("state") == "REQUESTING":
                w["requests"].setdefault(e.get("xid"), []).append(e.t)
            if w.get("alone_until") is not None and e.t >= w["alone_until"] and w["clock"] is not None:
                out.append((Wait(w["client"], w["clock"], max(w["clock"], w["alone_until"]), w["using"],
                                 f"no one ({w['to']} stopped serving alone)", w["what"]), False))
                w["clock"], w["alone_until"] = None, None
            to = roles.get(e.get("dst")) if e.get("dst") else server.get(mac)
            solo = next((b for a, b in alone.get(to or "", []) if a <= e.t < b), None)
            if w["clock"] is None and (e.get("state") != "RENEWING" or solo is not None):
                w["clock"] = max(e.t, since)
                w["alone_until"], w["to"] = (solo, to) if e.get("state") == "RENEWING" else (None, None)
        elif e.kind == "bound":
            server[mac] = roles.get(e.get("server_id"), e.get("server_id"))
            w = waiting.pop(mac, None)
            if w is not None and w["clock"] is not None and e.t >= since:
                out.append(done(w, e.t, server[mac]))
    return out + [done(w, None, None) for w in waiting.values() if w["clock"] is not None]


def _waits_caveats(tl: Timeline, status: str, reason: str) -> tuple[str, str]:
    """A judgement of clients' waits is UNKNOWN where the clients may not have seen every reply,
    and a FAIL is UNKNOWN on a saturated drill host (the waits may be the host's, not the pair's)."""
    if _unseen_replies(tl):
        return UNKNOWN, f"{_unseen_replies(tl)}; {reason}"
    if status == FAIL and (saturated := hostcpu.saturation_reason(tl)):
        return UNKNOWN, f"{saturated}; {reason}"
    return status, reason


def service_held(tl: Timeline, limit: Thresholds) -> Verdict:
    """From the takeover (from the fault itself when it hit a backup server, which answers no
    client) to the end of the window the survivors kept serving: every client that
    asked was answered within what the pair's timers allow (``timers.service_gap``: the client's
    next retransmission, and one REQUEST given up on if it named a server that stopped answering)
    unless the pair states ``max_service_gap_s``; an exchange still open when the window ends
    counts up to the end. The takeover is the first ACK a survivor gave a client of the fault's
    target (how late it came is the takeover verdict's matter), or, with none in the window, the
    moment ``max_takeover_s`` ran out. A failback's hand-back is judged alike: time a client
    waited while the returning server synced its leases (Kea stops its partner's service for it)
    counts, and the reason says how much it was."""
    name, unit = "service-held", "s"
    answer, hand_back, more, basis = _service_limit(tl, limit)
    if not _heal_stretches(tl, INF):
        hand_back = answer or 0.0  # nothing healed, nothing handed back
    threshold = (f"<= {answer:g} s" + (f", {hand_back:g} s across a hand-back" if hand_back > answer else "")
                 + (f" (+ {more:g} s after a REQUEST given up)" if more else "")) if answer is not None else ""
    fault, end = anchor(tl), _window_end(tl)
    if fault is None or tl.first("fault-verified") is None or end is None:
        return Verdict(name, UNKNOWN, "no effective fault, or the window never ended: no service to judge after it",
                       unit=unit, threshold=threshold)
    if answer is None:
        return Verdict(name, UNKNOWN, "the drill recorded no service limit (it predates service-held) and the pair "
                                      "states no max_service_gap_s", unit=unit)
    if fault.get("target") == BACKUP:  # it answers no client: the servers must serve on from the fault itself
        since, begin = fault.t, "from the fault (the backup answers no client: nothing to take over)"
    else:
        taken = takeover(tl, limit)
        since = fault.t + taken.figure if taken.figure is not None else fault.t + limit.max_takeover_s
        begin = (f"from the takeover (+{since - fault.t:.2f} s: {taken.reason})" if taken.figure is not None else
                 f"from +{since - fault.t:g} s, when max_takeover_s ran out ({taken.reason})")
    if since >= end:
        return Verdict(name, UNKNOWN, f"the window ended {end - fault.t:.1f} s after the fault, before the survivors "
                                      "had to serve", unit=unit, threshold=threshold)
    heals = _heal_stretches(tl, end)

    def allowed(w: Wait, gave_up: bool) -> float:
        across = any(a < min(w.until if w.until is not None else end, end) and w.since < b for a, b in heals)
        return (hand_back if across else answer) + (more if gave_up else 0.0)

    waits = [(w, gave_up) for w, gave_up in _survivor_waits(tl, since, end) if w.since < end]
    if not waits:
        return Verdict(name, UNKNOWN, f"no client asked for service {begin} to the end of the window "
                                      f"(+{end - fault.t:.1f} s)", unit=unit, threshold=threshold)
    worst, _ = max(waits, key=lambda x: x[0].length(end))
    longest = round(worst.length(end), 2)
    answered = f"answered by {worst.answered_by}" if worst.until is not None else "still unanswered when the window ended"
    reason = (f"{begin} to the end of the window (+{end - fault.t:.1f} s), {len({w.client for w, _ in waits})} "
              f"client(s) asked {len(waits)} time(s); the longest wait: {worst.client} (last served by "
              f"{worst.using or 'no server yet'}) {longest:g} s for a {worst.exchange} from +{worst.since - fault.t:.1f} "
              f"s, {answered}; limit {answer:g} s" + (f", {hand_back:g} s across a hand-back" if hand_back > answer
                                                       else "")
              + (f", {answer + more:g} s after a REQUEST given up" if more else "") + f" {basis}")
    restored = _restored(tl, fault)
    if restored is not None:
        stop = min(worst.until if worst.until is not None else end, end)
        inside = sum(max(0.0, min(b, stop) - max(a, worst.since))
                     for a, b in _spans_in(tl, str(fault.get("target")), {"syncing"}))
        if inside:
            reason += f"; {inside:.2f} s of it while {fault.get('target')} synced its leases"
    over = sorted({w.client for w, gave_up in waits if w.length(end) > allowed(w, gave_up)})
    status = FAIL if over else PASS
    if over:
        reason += f"; {len(over)} client(s) waited longer than allowed: {listed(over, 8)}"
        if dropped := _dropped(tl, since, end):
            reason += f"; {dropped}"
    status, reason = _waits_caveats(tl, status, reason)
    return Verdict(name, status, reason, figure=longest, unit=unit, threshold=threshold)


def partner_share_held(tl: Timeline, limit: Thresholds) -> Verdict:
    """While the fault lasted, the server it did not target kept answering its own share: the
    clients bound to it when the fault began, each exchange (a renewal unicast to it included)
    answered within the service limit (as service-held's). A known hazard that excuses the target's
    clients going unanswered (a client-link cut no one takes over) must not also hide a partner
    that stopped serving its own. Not judged where the partner serves no one in the pair's normal
    state (a hot standby); judged from the fault until its heal begins."""
    name, unit = "partner-share-held", "s"
    answer, _, _, basis = _service_limit(tl, limit)
    threshold = f"<= {answer:g} s" if answer is not None else ""
    fault, end, lab = anchor(tl), _window_end(tl), tl.first("lab")
    if fault is None or tl.first("fault-verified") is None or end is None or lab is None:
        return Verdict(name, UNKNOWN, "no effective fault, or the window never ended: no service to judge in it",
                       unit=unit, threshold=threshold)
    roles = _roles(tl)
    target = str(fault.get("target"))
    partner = next((r for r in sorted(set(roles.values())) if r != target), None)
    if target not in roles.values() or partner is None:
        return Verdict(name, NOT_JUDGED, f"the fault targets {target}: there is no untouched partner to judge",
                       unit=unit)
    if partner not in (lab.get("serving") or ()):
        return Verdict(name, NOT_JUDGED, f"not judged: {partner} serves no client of its own in the pair's normal "
                                         f"state ({lab.get('normal_state')})", unit=unit)
    if answer is None:
        return Verdict(name, UNKNOWN, "the drill recorded no service limit and the pair states no max_service_gap_s",
                       unit=unit)
    stop = min(x if (x := _heal_began(tl, fault)) is not None else end, end)
    since, waited_on = fault.t, ""
    if not lab.get("interrupted_states") and (fault.get("takes_down") or fault.get("fault") in PEER_LINK_FAULTS):
        left = next((s for s, _, st in _state_intervals(tl, partner) if s > fault.t and st != lab.get("normal_state")),
                    INF)
        since = min(left, fault.t + (limit.max_takeover_s if limit.max_takeover_s is not None else KEA_HTTP_TIMEOUT_S))
        waited_on = (f"; judged from +{since - fault.t:.2f} s, when {partner} " +
                     ("left its normal state" if since == left else "had had max_takeover_s to stop waiting on it")
                     + f": until then Kea holds each reply for {target}'s lease-update acknowledgement and drops it "
                       "when the update fails (the HA hook, send-lease-updates)")
    held: dict[str, str | None] = {}
    for e in tl.of("bound", source="clients"):
        if e.t >= fault.t:
            break
        held[str(e.get("client"))] = roles.get(e.get("server_id"), e.get("server_id"))
    share = {c for c, by in held.items() if by == partner}
    if not share:
        return Verdict(name, UNKNOWN, f"no client was bound to {partner} when the fault began: its share is "
                                      "not in the evidence", unit=unit, threshold=threshold)
    waits = [w for w in client_waits(tl) if w.client in share and w.using == partner and w.since < stop
             and (w.until if w.until is not None else INF) > fault.t]
    lengths = {w: max(0.0, min(w.until if w.until is not None else stop, stop) - max(w.since, since)) for w in waits}
    span = f"from the fault to {'its heal' if stop < end else 'the end of the window'} (+{stop - fault.t:.1f} s)"
    if not waits:
        return Verdict(name, UNKNOWN, f"none of the {len(share)} client(s) bound to {partner} asked for service "
                                      f"{span}", unit=unit, threshold=threshold)
    worst = max(waits, key=lambda w: lengths[w])
    longest = round(lengths[worst], 2)
    answered = f"answered by {worst.answered_by}" if worst.until is not None and worst.until <= stop else \
        "still unanswered " + ("at the heal" if stop < end else "when the window ended")
    reason = (f"{span}, {len({w.client for w in waits})} of the {len(share)} client(s) bound to {partner} asked "
              f"{len(waits)} time(s); the longest wait: {worst.client} {longest:g} s for a {worst.exchange} from "
              f"+{max(worst.since, since) - fault.t:.1f} s, {answered}; limit {answer:g} s {basis}{waited_on}")
    over = sorted({w.client for w in waits if lengths[w] > answer})
    status = FAIL if over else PASS
    if over:
        reason += f"; {len(over)} client(s) of {partner}'s own share waited longer: {listed(over, 8)}"
    status, reason = _waits_caveats(tl, status, reason)
    return Verdict(name, status, reason, figure=longest, unit=unit, threshold=threshold)


# Faults that leave the target unable to acknowledge its partner's lease updates though it keeps
# running (those that take it down say so in their ``takes_down``).
PEER_LINK_FAULTS = ("peer-partition", "one-way-peer-partition")


# Faults whose proof shows the target serving nothing until its heal begins. A rolling upgrade is
# proven once both servers serve again, a partition or a skew leaves the target running.
SILENCING_FAULTS = ("kill", "kill-then-restart", "freeze", "maintenance-handoff", "kill-truncate-restart")
REPLIES = ("OFFER", "ACK", "NAK")


def _serving_states(tl: Timeline) -> set[str]:
    """The states in which a server answers clients: the pair's normal state, a solo state
    (partner-down) and a serving-but-interrupted one (dhcpd's communications-interrupted)."""
    lab = tl.first("lab")
    if lab is None:
        return set()
    return {s for s in (lab.get("normal_state"), *(lab.get("solo_states") or ()), *(lab.get("interrupted_states") or ()))
            if s}


@dataclass(frozen=True)
class Silence:
    """A stretch in which a server was proven to serve nothing: from its fault's proof until it was
    restored and logged a serving state again (``until``; INF when its heal did not bring it back).
    ``logged`` False: it was restored but logged no serving state, so from ``healed`` its replies
    can be neither excused nor held against it. ``heal``: when its heal began."""

    since: float
    until: float
    fault: str
    healed: float = INF
    logged: bool = True
    heal: float = INF


def _silenced(tl: Timeline) -> dict[str, list[Silence]]:
    """Per role, each stretch in which a kill, freeze or stop held it silent: from the proof of
    the fault until its thaw began (a freeze: the resumed daemon answers at once in the state it was
    frozen in, before its state machine learns what its partner did; recorded on Kea 2.2: four
    OFFERs 30 ms after the thaw, two seconds before it logged its next state), or until its heal
    restored it (``fault-healed`` with ``restored``) and it logged a serving state (a restarted Kea server passes waiting, syncing and ready first, a restarted
    dhcpd startup and recover: it answers no client in them); for ever when the heal does not
    bring the target back (a kill). The silence ends at that state, not at ``fault-healed``: the
    harness stamps that when its check is done, after the daemon may already serve (recorded:
    a restarted dhcpd logged normal at +25.95 s, ACKed at +26.18 s, fault-healed +26.41 s)."""
    out: dict[str, list[Silence]] = defaultdict(list)
    serving = _serving_states(tl)
    for a in tl.of("fault-applied"):
        if a.get("fault") not in SILENCING_FAULTS:
            continue
        same = lambda e: e.t >= a.t and e.get("fault") == a.get("fault") and e.get("target") == a.get("target")  # noqa: E731
        proof = next((p for p in tl.of("fault-verified") if same(p)), None)
        if proof is None:
            continue
        target, fault = str(a.get("target")), str(a.get("fault"))
        heal = next((h for h in tl.of("heal-started") if same(h) and h.t >= proof.t), None)
        healed = next((h for h in tl.of("fault-healed", "heal-failed") if heal is not None and same(h) and h.t >= heal.t),
                      None)
        if heal is None or healed is not None and healed.kind == "fault-healed" and not healed.get("restored"):
            out[target].append(Silence(proof.t, INF, fault))
            continue
        if healed is None or healed.kind != "fault-healed":  # the heal's end is not known: nor is its return
            out[target].append(Silence(proof.t, INF, fault, heal.t, logged=False, heal=heal.t))
            continue
        if fault == "freeze":  # a thawed process resumes in the state it was frozen in, serving or not
            out[target].append(Silence(proof.t, heal.t, fault, healed.t, heal=heal.t))
            continue
        back = next((e.t for e in tl.of("ha-state", source=target) if e.t >= heal.t and e.get("to") in serving), None)
        out[target].append(Silence(proof.t, back, fault, healed.t, heal=heal.t) if back is not None else
                           Silence(proof.t, INF, fault, healed.t, logged=False, heal=heal.t))
    return out


def _proof_contradictions(tl: Timeline) -> list[str]:
    """Each fault's proof must name its fault and target and lie between it and the next step."""
    applied = tl.of("fault-applied")
    proofs = tl.of("fault-verified", "fault-not-effective")
    zero = applied[0].t if applied else 0.0
    found = []
    for k, a in enumerate(applied):
        nxt = applied[k + 1].t if k + 1 < len(applied) else INF
        mine = [p for p in proofs if a.t <= p.t < nxt]
        what = f"{a.get('fault')} on {a.get('target')} (applied {a.t - zero:+.2f} s)"
        for p in mine:
            if (p.get("fault"), p.get("target")) != (a.get("fault"), a.get("target")):
                found.append(f"the proof recorded for {what} is of {p.get('fault')} on {p.get('target')}")
        if len(mine) > 1:
            found.append(f"{what} has {len(mine)} proofs")
        if not mine:
            early = [p for p in proofs if p.t < a.t and (p.get("fault"), p.get("target")) == (a.get("fault"), a.get("target"))]
            if early:
                found.append(f"the {early[-1].kind} of {what} is dated {a.t - early[-1].t:.2f} s before it was applied")
    if applied:
        orphans = [p for p in proofs if p.t < applied[0].t
                   and not any((p.get("fault"), p.get("target")) == (a.get("fault"), a.get("target")) for a in applied)]
        found += [f"a {p.kind} of {p.get('fault')} on {p.get('target')} with no such fault applied" for p in orphans]
    return found


def _subnets_of(lab: Event) -> list:
    import ipaddress
    nets = [n for link in lab.get("links") or [] for n in [link.get("subnet"), *(link.get("shared") or [])]] \
        + [lab.get("subnet")]
    return [ipaddress.ip_network(n, strict=False) for n in dict.fromkeys(n for n in nets if n)]


def _foreign_sources(replies: list[Event], lab: Event, zero: float) -> list[str]:
    """Replies that came from a host outside the pair, whatever server id they carry: a source
    address that is neither a server's (``roles``) nor a relay's (``links``), a server's address
    used by another server's reply, or a server's address sent from two hosts (two MACs, not
    counting the relays', which forward the servers' replies to relayed clients)."""
    roles = dict(lab.get("roles") or {})
    relays = {str(link.get("relay")) for link in lab.get("links") or [] if link.get("relay")}
    relay_macs = {e.get("src_mac") for e in replies if e.get("src_ip") in relays and e.get("src_mac")}
    found = []
    outside = [e for e in replies if e.get("src_ip") and e.get("src_ip") not in roles and e.get("src_ip") not in relays]
    if outside:
        found.append(f"{len(outside)} repl(ies) sent from {', '.join(sorted({str(e.get('src_ip')) for e in outside}))}, "
                     f"which is neither a server of the pair nor a relay, first {outside[0].get('msg')} to "
                     f"{outside[0].get('client')} at {outside[0].t - zero:+.2f} s with server id "
                     f"{outside[0].get('server_id')}")
    crossed = [e for e in replies if e.get("src_ip") in roles and roles.get(e.get("server_id")) is not None
               and roles[e.get("src_ip")] != roles[e.get("server_id")]]
    if crossed:
        found.append(f"{len(crossed)} repl(ies) sent from {roles[crossed[0].get('src_ip')]}'s address "
                     f"{crossed[0].get('src_ip')} carry {roles[crossed[0].get('server_id')]}'s server id, first "
                     f"{crossed[0].get('msg')} to {crossed[0].get('client')} at {crossed[0].t - zero:+.2f} s")
    hosts: dict[str, list[Event]] = defaultdict(list)
    for e in replies:
        if e.get("src_ip") in roles and e.get("src_mac") and e.get("src_mac") not in relay_macs:
            hosts[str(e.get("src_ip"))].append(e)
    for ip, sent in sorted(hosts.items()):
        macs = list(dict.fromkeys(str(e.get("src_mac")) for e in sent))
        if len(macs) > 1:
            other = next(e for e in sent if e.get("src_mac") == macs[1])
            found.append(f"{roles[ip]}'s address {ip} answered from {len(macs)} hosts ({', '.join(macs)}), the "
                         f"second first {other.get('msg')} to {other.get('client')} at {other.t - zero:+.2f} s")
    return found


def evidence_consistent(tl: Timeline) -> Verdict:
    """Nothing on the timeline contradicts the fault or the lab: no reply from a server while a
    proof says it was killed, frozen or stopped, or after its restart before it served again; no
    reply from a server id, source address or second host outside the pair and its relays
    (``_foreign_sources``); each fault's proof names that fault and target and comes after it (a step of a sequence proven by
    another step's proof does not count); steady state before the fault; every ACKed address
    inside the pair's subnets; no lease row a server wrote while proven dead (after its return, a
    row copied from its partner's record of the same grant is a sync, not a contradiction)."""
    import ipaddress
    name = "evidence-consistent"
    lab, applied = tl.first("lab"), tl.of("fault-applied")
    if lab is None or not applied:
        return Verdict(name, UNKNOWN, "the timeline has no lab description or no fault")
    roles, zero = _roles(tl), applied[0].t
    silenced = _silenced(tl)
    found, unchecked = _proof_contradictions(tl), []
    replies = [e for e in tl.of("recv", source="clients") if e.get("msg") in REPLIES and e.get("server_id")]

    for role, spans in sorted(silenced.items()):
        for q in spans:
            mine = [e for e in replies if roles.get(e.get("server_id")) == role and q.since < e.t < q.until]
            dead = [e for e in mine if q.logged or e.t < q.healed]
            if dead:
                back = ("" if q.until == INF else f" and before its thaw began ({q.until - zero:+.2f} s)"
                        if q.fault == "freeze" else
                        f" and before it was restored and logged a serving state ({q.until - zero:+.2f} s)")
                found.append(f"{len(dead)} {'/'.join(sorted({e.get('msg') for e in dead}))} from {role} after its "
                             f"{q.fault} was proven ({q.since - zero:+.2f} s){back}, first to {dead[0].get('client')} "
                             f"at {dead[0].t - zero:+.2f} s")
            if len(mine) > len(dead):
                unchecked.append(f"{role} logged no serving state after its heal ({q.healed - zero:+.2f} s): "
                                 f"{len(mine) - len(dead)} repl(ies) from it since could be from before it served")
    strangers = [e for e in replies if e.get("server_id") not in roles]
    if strangers:
        who = sorted({str(e.get("server_id")) for e in strangers})
        found.append(f"{len(strangers)} repl(ies) from {', '.join(who)}, which is not a server of the pair, first "
                     f"{strangers[0].get('msg')} to {strangers[0].get('client')} at {strangers[0].t - zero:+.2f} s")
    found += _foreign_sources(replies, lab, zero)
    steady = tl.first("steady")
    if steady is not None and steady.t > zero:
        found.append(f"steady state is recorded {steady.t - zero:+.2f} s, after the fault it must precede")
    nets = _subnets_of(lab)
    if nets:
        def inside(ip: str) -> bool:
            try:
                return any(ipaddress.ip_address(ip) in n for n in nets)
            except ValueError:
                return False
        outside = [e for e in _acks(tl) if e.get("yiaddr") and not inside(str(e.get("yiaddr")))]
        if outside:
            found.append(f"{len(outside)} ACK(s) of addresses outside the pair's subnets ({', '.join(map(str, nets))}), "
                         f"first {outside[0].get('yiaddr')} to {outside[0].get('client')} at {outside[0].t - zero:+.2f} s")
    else:
        unchecked.append("the lab names no subnet")
    read = {e.source for e in tl.of("lease-file") if e.get("read")}
    try:
        records = server_bindings(tl)
    except ValueError as exc:
        records, unchecked = (), [*unchecked, f"lease rows cannot be placed on the timeline: {exc}"]
    for role, spans in sorted(silenced.items()):
        if role not in read:
            unchecked.append(f"{role}'s lease file was not read")
            continue
        others = {(b.ip, b.holder, round(b.start)) for b in records if b.seen_by != role} | {
            (str(g.get("ip")), str(g.get("mac")), round(float(g.get("cltt")))) for g in tl.of("lease-grant")
            if g.source != role and g.get("cltt") is not None}  # each row dhcpd wrote, not only the last
        for a, back, fault in ((q.since, q.until if q.logged else q.healed, q.fault) for q in spans):
            rows = [b for b in records if b.seen_by == role and a + b.slack < b.start < back
                    and not (back < INF and any((b.ip, b.holder, round(b.start) + d) in others for d in (-1, 0, 1)))]
            if rows:
                found.append(f"{role}'s lease file holds {len(rows)} row(s) it wrote after its {fault} was proven "
                             f"({a - zero:+.2f} s){' and before it came back' if back < INF else ''}, first "
                             f"{rows[0].ip} to {rows[0].holder} from {rows[0].start - zero:+.1f} s")
    if found:
        return Verdict(name, FAIL, "; ".join(found), figure=len(found))
    checked = (f"{len(replies)} replies from {', '.join(sorted(set(roles.values())))} only"
               + "".join(f"; none from {r} while its {f} held" for r, spans in sorted(silenced.items()) for f in (q.fault for q in spans))
               + f"; {len(applied)} fault(s) each proven after it was applied, by its own proof"
               + (f"; every ACKed address inside {', '.join(map(str, nets))}" if nets else ""))
    if unchecked:
        return Verdict(name, UNKNOWN, f"not all checked ({'; '.join(unchecked)}); {checked}")
    return Verdict(name, PASS, checked, figure=0)


QUERIES = {"DISCOVER": ("OFFER",), "REQUEST": ("ACK", "NAK")}
REPLY_GRACE_S = 2.0  # a query sent this close to the end of the client records may be answered after them


def unanswered_queries(tl: Timeline, since: float, until: float) -> tuple[int, int, list[str]]:
    """(queries sent, queries no server answered, the clients that sent those) among the
    DISCOVERs and REQUESTs clients sent from ``since`` to ``until``. The clients' own record is the
    evidence: of the transmissions of one step of an exchange (a DISCOVER and its retransmissions,
    which share an xid; likewise a REQUEST) sent before a reply to that step, the reply answered
    one (the latest is taken: which one, the client cannot tell) and the others went unanswered;
    transmissions no reply followed went unanswered. A reply that came after the client had retried counts as one
    answer: the query was dropped, or answered too late to count, which the client lives through
    alike. Queries sent within ``REPLY_GRACE_S`` of the last client record are left out."""
    client_end = max((e.t for e in tl.of("send", "recv", source="clients")), default=until)
    sends: dict[tuple, list[Event]] = defaultdict(list)
    replies: dict[tuple, list[float]] = defaultdict(list)
    for e in tl.of("send", "recv", source="clients"):
        msg = e.get("msg")
        if e.kind == "send" and msg in QUERIES:
            sends[(e.get("mac"), e.get("xid"), msg)].append(e)
        elif e.kind == "recv" and e.get("expected"):
            for query, answers in QUERIES.items():
                if msg in answers:
                    replies[(e.get("mac"), e.get("xid"), query)].append(e.t)
    sent, lost, who = 0, 0, set()

    def within(e: Event) -> bool:
        return since <= e.t <= until

    for key, tries in sends.items():
        pending: list[Event] = []
        missed: list[Event] = []
        merged = sorted([(e.t, 0, e) for e in tries] + [(t, 1, None) for t in replies.get(key, [])],
                        key=lambda x: (x[0], x[1]))
        for _, _, e in merged:
            if e is not None:
                pending.append(e)
            elif pending:  # this reply answered the latest of them
                missed += pending[:-1]
                pending = []
        undecided = pending[-1:] if pending and pending[-1].t > client_end - REPLY_GRACE_S else []
        missed += [e for e in pending if e not in undecided]  # all but the last were retried unanswered
        sent += sum(1 for e in tries if within(e) and e not in undecided)
        missed = [e for e in missed if within(e)]
        if missed:
            lost += len(missed)
            who.add(str(tries[0].get("client")))
    return sent, lost, sorted(who)


BACKUP_LAG_S = 2.0  # a lease update reaches a backup beside the ACK, not before it: Kea never waits for a backup here


def backup_updated(tl: Timeline) -> Verdict:
    """The backup server's lease file holds every lease the serving servers granted up to the
    moment it stopped receiving updates (the fault that took it down, else the reading of its
    file): for each client, its latest ACK at least ``BACKUP_LAG_S`` before that moment, the
    same address bound to the same MAC, lasting as long as the ACK said (to the file's 1 s
    resolution). A lease the client let go of before the cutoff is not asked for; one it let go
    of after the cutoff but before that moment must be there, granted or already deleted (the
    update may or may not have arrived). UNKNOWN without a
    backup, or when its file was not read, or when no lease was granted in time to be judged."""
    name, unit = "backup-updated", "lease(s)"
    lab = tl.first("lab")
    backup = lab.get("backup") if lab else None
    if not backup:
        return Verdict(name, UNKNOWN, "the lab ran no backup server", unit=unit)
    files = tl.of("lease-file", source=BACKUP)
    read = next((e for e in files if e.get("read")), None)
    if read is None:
        why = files[0].get("error") if files else "it was never collected"
        return Verdict(name, UNKNOWN, f"the backup's lease file was not read: {why}", unit=unit)
    if read.get("not_understood"):
        first = (read.get("unread") or [{}])[0]
        return Verdict(name, UNKNOWN, f"the backup's lease file {read.get('path')}: {read.get('not_understood')} of "
                                      f"{read.get('rows')} row(s) not understood, the first at line {first.get('row')} "
                                      f"({first.get('why')})", unit=unit)
    killed = next((e for e in tl.of("fault-applied") if e.get("target") == BACKUP and e.get("takes_down")), None)
    until = killed.t if killed is not None else read.t
    upto = "the backup was taken down" if killed is not None else "its file was read"
    cutoff = until - BACKUP_LAG_S
    latest: dict[str, Event] = {}
    for a in _acks(tl):
        if a.t <= cutoff:
            latest[a.get("mac")] = a
    lost = defaultdict(list)
    for e in tl.of("lease-lost", source="clients"):
        if e.t <= until:
            lost[(e.get("mac"), e.get("ip"))].append(e.t)
    wanted = {mac: a for mac, a in latest.items() if not any(a.t <= t <= cutoff for t in lost[(mac, a.get("yiaddr"))])}
    late = {mac for mac, a in wanted.items() if any(t >= a.t for t in lost[(mac, a.get("yiaddr"))])}
    if not wanted:
        return Verdict(name, UNKNOWN, f"no client held a lease granted {BACKUP_LAG_S:g} s or more before {upto}: "
                                      "nothing the backup must have", unit=unit)
    held: dict[tuple[str, str], float] = {}
    for e in tl.of("backup-lease", source=BACKUP):
        key = (e.get("ip"), e.get("mac"))
        held[key] = max(held.get(key, -INF), float(e.get("end")))
    zero, since = _zero(tl)
    missing, short = [], []
    for mac, a in sorted(wanted.items(), key=lambda x: x[1].t):
        end = held.get((a.get("yiaddr"), mac))
        said = f"{a.get('yiaddr')} ({mac}, ACKed {a.t - zero:+.1f} s {since})"
        if end is None:
            missing.append(said)
        elif mac not in late and end < a.t + float(a.get("lease_time") or 0) - 2 * SERVER_RESOLUTION_S:
            short.append(f"{said}: the backup's copy ends {end - a.t:.0f} s after that ACK, which granted "
                         f"{float(a.get('lease_time') or 0):g} s")
    bad = len(missing) + len(short)
    reason = (f"{len(wanted) - bad} of {len(wanted)} lease(s) the clients held, granted up to {BACKUP_LAG_S:g} s "
              f"before {upto} ({until - zero:+.1f} s {since}), are in the backup's file "
              f"({read.get('records')} record(s) read)")
    if missing:
        reason += f"; missing: {listed(missing, 5)}"
    if short:
        reason += f"; older than the grant: {listed(short, 5)}"
    return Verdict(name, FAIL if bad else PASS, reason, figure=bad, unit=unit, threshold="0 missing")


def dropped_queries(tl: Timeline, limit: Thresholds) -> Verdict:
    """Queries (DISCOVER, REQUEST) sent after the anchor that no server answered, until the end
    of the window; those sent after the heal began are counted apart (``outside``: no known
    hazard of the fault excuses them, the fault being gone). The servers' own word where their loggers say it (``server-dropped``, from a
    server whose log, by the ``lab`` event's ``logs_drops``, would hold such lines: Kea logs them at
    debug level 15 only); else, and always beside it, the clients' record (``unanswered_queries``).
    The figure is the larger of the two where both exist. What neither can see is UNKNOWN, never
    a pass: replies the clients' sockets may have missed, a window no client asked in."""
    name = "dropped-queries"
    threshold = f"<= {limit.max_dropped_queries}" if limit.max_dropped_queries is not None else ""
    fault, end, lab = anchor(tl), _window_end(tl), tl.first("lab")
    if fault is None or end is None or tl.first("fault-verified") is None:
        return Verdict(name, UNKNOWN, "no effective fault, or the window never ended", threshold=threshold)
    offers = any(e.get("msg") == "OFFER" for e in tl.of("recv", source="clients"))
    if not offers and any(e.get("msg") == "DISCOVER" for e in tl.of("send", source="clients")) and tl.of("bound"):
        return Verdict(name, UNKNOWN, "clients were leased, yet the timeline holds no OFFER they received (trimmed "
                                      "from it): no DISCOVER can be told answered", threshold=threshold)
    sent, lost, who = unanswered_queries(tl, fault.t, end)
    if not sent:
        return Verdict(name, UNKNOWN, "no client sent a query after the fault", threshold=threshold)
    healed = _heal_began(tl, fault)
    split, after = "", 0
    if healed is not None and healed < end:
        during = unanswered_queries(tl, fault.t, healed)
        after = lost - during[1]
        split = f" ({during[1]} of {during[0]} until the heal began, {after} of {sent - during[0]} after)"
    reason = (f"clients sent {sent} quer{'y' if sent == 1 else 'ies'} after the fault, {lost} unanswered{split}"
              + (f" by {listed(who, 8)}" if who else ""))
    logging = dict(lab.get("logs_drops") or {}) if lab else {}
    said = [e for e in tl.of("server-dropped") if fault.t <= e.t <= end and logging.get(e.source)]
    figure = lost
    if any(logging.values()):
        figure = max(lost, len(said))
        if split:
            after = max(after, sum(1 for e in said if e.t >= healed))
        per = defaultdict(int)
        for e in said:
            per[(e.source, str(e.get("code")))] += 1
        reason += "; the servers logged " + ("; ".join(f"{role} {n} dropped ({code})" for (role, code), n in sorted(per.items()))
                                            if per else f"no drop ({', '.join(r for r, on in sorted(logging.items()) if on)} log drops)")
    else:
        reason += ("; the servers' own count is unknown: their loggers do not log dropped queries (Kea logs them on "
                   "kea-dhcp4.packets at debug level 15 only; dhcpd never does), so the clients' record decides")
    status = PASS
    if limit.max_dropped_queries is not None and figure > limit.max_dropped_queries:
        status = FAIL
    if _unseen_replies(tl):
        status, reason = UNKNOWN, f"{_unseen_replies(tl)}; {reason}"
    elif status == FAIL and (saturated := hostcpu.saturation_reason(tl)):
        status, reason = UNKNOWN, f"{saturated}; {reason}"
    return _finish(Verdict(name, status, reason, figure=figure, threshold=threshold, outside=after), limit)

def real_client(tl: Timeline, limit: Thresholds, kind: str) -> Verdict:
    """One real client daemon (``realclients``) kept the address it held at the anchor on its
    interface until the window's end, and its log shows no more NAKs than the pair allows
    (``max_naks``). Figure: the longest time its interface had no usable address. Samples further
    apart than ``realclients.MAX_SAMPLE_GAP_S`` leave a pass UNKNOWN (a loss they prove stays a
    FAIL). The reason says whether the simulated clients' continuity agrees."""
    name = f"real-{kind}"
    threshold = f"keeps its address, NAKs <= {limit.max_naks}"
    fault, end = anchor(tl), _window_end(tl)
    if tl.first("fault-verified") is None or fault is None:
        return Verdict(name, UNKNOWN, "no effective fault, so no continuity across it to judge", unit="s",
                       threshold=threshold)
    if end is None:
        return Verdict(name, UNKNOWN, "the window has no recorded end (observe-end)", unit="s", threshold=threshold)
    r = realclients.read(tl, kind, fault.t, end)
    if r.problem:
        return Verdict(name, UNKNOWN, r.problem, unit="s", threshold=threshold)
    if r.held is None:
        said = [e.get("line", "") for e in tl.of("client-log", source=realclients.SOURCE + kind) if e.t <= fault.t]
        return Verdict(name, UNKNOWN, f"{kind} held no usable address when the fault came, so there was none to "
                       f"keep" + (f" (its log last said: {said[-1][:200]!r})" if said else " (its log is empty)"),
                       unit="s", threshold=threshold)
    fig = round(r.without_s, 2)
    gaps = "; ".join(f"{a - fault.t:+.1f} s to {b - fault.t:+.1f} s" for a, b in r.gaps)
    nak_text = f"{len(r.naks)} NAK(s) in its log after the fault" + (
        f" (first at {r.naks[0].t - fault.t:+.1f} s: {r.naks[0].get('line', '')[:120]!r})" if r.naks else "")
    if r.lost_at is not None:
        how = (f"without a usable address for {r.without_s:.1f} s from {r.without_from - fault.t:+.1f} s"
               if r.without_from is not None else "its interface always had some usable address, but not that one")
        status = FAIL
        reason = f"{kind} lost {r.held} at {r.lost_at - fault.t:+.1f} s after the fault: {how}; {nak_text}"
    elif len(r.naks) > limit.max_naks:
        status = FAIL
        reason = f"{kind} kept {r.held} to the window's end, but {nak_text} (at most {limit.max_naks} allowed)"
    else:
        status = PASS
        reason = (f"{kind} kept {r.held} on its interface from the fault to the window's end "
                  f"({end - fault.t:+.1f} s); {nak_text}")
    if gaps:
        reason += f"; address samples missing {gaps} (more than {realclients.MAX_SAMPLE_GAP_S:g} s apart)"
        if status == PASS:
            status, reason = UNKNOWN, f"what the interface had then is unknown: {reason}"
    with tl.aside():
        sim = continuity(tl, limit)
    if sim.status in (PASS, FAIL):
        agrees = (sim.status == PASS) == (r.lost_at is None)
        reason += (f"; the simulated clients' continuity: {sim.status}"
                   + (f" ({sim.figure:g} %)" if sim.figure is not None else "")
                   + ("" if agrees else f" — {kind} DISAGREES with them"))
    reason += _simulated_of_kind(tl, kind, kept=r.lost_at is None)
    return Verdict(name, status, reason, figure=fig, unit="s", threshold=threshold)


def _simulated_of_kind(tl: Timeline, kind: str, kept: bool) -> str:
    """What the drill's simulated clients of the real client's own kind (a stated mix,
    ``clientkinds``) did with their addresses, and whether the real one disagrees: all of them kept
    theirs and it lost its own, or all lost theirs and it kept its own. Empty without such clients."""
    from .bykind import per_kind  # bykind reads this module's figures

    with tl.aside():
        mine = next((k for k in per_kind(tl) if k.kind == kind and k.continuity_judged), None)
    if mine is None or mine.kept + mine.lost == 0:
        return ""
    disagrees = (kept and mine.kept == 0) or (not kept and mine.lost == 0)
    return (f"; the simulated {kind} clients: {mine.kept} kept, {mine.lost} lost"
            + (f" — the real {kind} DISAGREES with them" if disagrees else ""))

# The HA states in which Kea switches its own DHCP service off (HAService::adjustNetworkState): a
# server resyncing after a partition passes through them and serves no one meanwhile.
KEA_OFF_STATES = ("waiting", "syncing", "ready")
SYNC_ENABLES = ("dhcp-enable", "ha-sync-complete-notify")  # what ends a partner's dhcp-disable


@dataclass(frozen=True)
class Off:
    """A stretch in which ``role``'s DHCP service was off, and why (``how``)."""

    role: str
    since: float
    until: float
    how: str


def kea_version(tl: Timeline) -> tuple[int, int] | None:
    """The drilled Kea's (major, minor), from the ``lab`` event's versions (None: not recorded)."""
    lab = tl.first("lab")
    m = re.search(r"kea-dhcp4 (\d+)\.(\d+)", str(lab.get("versions") or "")) if lab else None
    return (int(m[1]), int(m[2])) if m else None


SEPARATE_HA_SWITCHES = (2, 4)  # from Kea 2.4 its HA state and its partner's commands switch the service apart


def _switched(role: str, events: list[Event], timeout_s: float, stop: float) -> list[Off]:
    """Off stretches of one switch: off at ``service-disabled`` or the partner's ``dhcp-disable``,
    on at ``service-enabled`` or the partner's notify or ``dhcp-enable``; a dhcp-disable nothing
    ended lapses after ``timeout_s`` (Kea's sync-timeout)."""
    out: list[Off] = []
    off: tuple[float, str] | None = None
    last_disable = None
    for e in events:
        if off is not None and last_disable is not None and e.t > last_disable + timeout_s:
            out.append(Off(role, off[0], last_disable + timeout_s, off[1] + ", until sync-timeout"))
            off, last_disable = None, None
        if e.kind == "service-disabled" or e.get("command") == "dhcp-disable":
            last_disable = e.t if e.kind == "ha-command" else last_disable
            if off is None:
                off = (e.t, f"its {e.get('state')} state" if e.kind == "service-disabled" else "its partner's dhcp-disable")
        elif off is not None:
            ended = f"its {e.get('state')} state" if e.kind == "service-enabled" else f"the partner's {e.get('command')}"
            out.append(Off(role, off[0], e.t, f"{off[1]} until {ended}"))
            off, last_disable = None, None
    if off is not None:
        until = min(last_disable + timeout_s, stop) if last_disable is not None else stop
        out.append(Off(role, off[0], until, off[1] + (", until sync-timeout" if until < stop else ", to the window's end")))
    return out


def _union(role: str, offs: list[Off]) -> list[Off]:
    """One server's off stretches from two switches, merged where they overlap."""
    out: list[Off] = []
    for o in sorted(offs, key=lambda o: o.since):
        if out and o.since <= out[-1].until:
            last = out[-1]
            out[-1] = Off(role, last.since, max(last.until, o.until), f"{last.how}; {o.how}")
        else:
            out.append(o)
    return out


def service_off(tl: Timeline, since: float, stop: float) -> list[Off]:
    """Each stretch from ``since`` to ``stop`` in which a server's DHCP service was off, by its own
    log: off at ``service-disabled`` (its HA state: waiting, syncing, ready) and at its partner's
    ``dhcp-disable`` (sent before every page a syncing partner pulls); on at ``service-enabled``
    and at the partner's ``ha-sync-complete-notify`` or ``dhcp-enable``, or, after a dhcp-disable
    nothing ended, once the sync-timeout has passed (Kea switches itself on again then). Kea 2.2
    keeps one HA switch for its own state and its partner's commands (either turns the service on
    or off: a notify switches on a server still in ready); from 2.4 they are two switches, and the
    service is off while either is. A log without the service lines falls back to the server's
    stretches in Kea's off states."""
    lab = tl.first("lab")
    timeout_s = float(((lab.get("lease_sync") if lab else None) or {}).get("sync-timeout", 60000)) / 1000
    version = kea_version(tl)
    separate = version is not None and version >= SEPARATE_HA_SWITCHES
    out: list[Off] = []
    for role in sorted(set(_roles(tl).values())):
        events = [e for e in tl.of("service-disabled", "service-enabled", "ha-command", source=role)
                  if e.t <= stop and (e.kind != "ha-command" or e.get("command") in ("dhcp-disable", *SYNC_ENABLES))]
        local = [e for e in events if e.kind != "ha-command"]
        remote = [e for e in events if e.kind == "ha-command"]
        if not local:
            out += [Off(role, a, b, f"its {state} state") for a, b, state in _state_intervals(tl, role)
                    if state in KEA_OFF_STATES and b > since and a < stop]
            out += _switched(role, remote, timeout_s, stop)
        elif separate:
            out += _union(role, _switched(role, local, timeout_s, stop) + _switched(role, remote, timeout_s, stop))
        else:
            out += _switched(role, events, timeout_s, stop)
    clipped = [Off(o.role, max(o.since, since), min(o.until, stop), o.how) for o in out]
    return sorted((o for o in clipped if o.until > o.since), key=lambda o: o.since)


def _episodes(offs: list[Off]) -> list[tuple[float, float, list[Off]]]:
    """Off stretches of either server that touch, merged: (start, end, the stretches)."""
    out: list[tuple[float, float, list[Off]]] = []
    for o in offs:
        if out and o.since <= out[-1][1]:
            a, b, members = out[-1]
            out[-1] = (a, max(b, o.until), [*members, o])
        else:
            out.append((o.since, o.until, [o]))
    return out


def _sync_due(tl: Timeline, fault: Event, heal: float) -> str:
    """Why the partition should have cost a lease sync at the heal, in words (empty: no sign it should):
    a server went partner-down, or granted more leases while cut off than delayed-updates-limit
    lets it queue (Kea sends its partner one update per lease it commits)."""
    why = [f"{role} went partner-down" for role in sorted(set(_roles(tl).values()))
           if any(e.get("to") == "partner-down" and fault.t <= e.t <= heal for e in tl.of("ha-state", source=role))]
    lab = tl.first("lab")
    limit = ((lab.get("lease_sync") if lab else None) or {}).get("delayed-updates-limit")
    if isinstance(limit, int):
        per: dict[str, int] = defaultdict(int)
        for e in _acks(tl):
            if fault.t <= e.t <= heal:
                per[_roles(tl).get(e.get("server_id"), str(e.get("server_id")))] += 1
        why += [f"{role} ACKed {n:,} leases while cut off, past delayed-updates-limit {limit}"
                for role, n in sorted(per.items()) if n > limit]
        if limit == 0:
            why.append("delayed-updates-limit is 0 (no communication-recovery: any lost update means a sync)")
    return "; ".join(why)


def lease_sync_gap(tl: Timeline, limit: Thresholds) -> Verdict:
    """From the heal to the window's end, the longest any client went unanswered while a server's
    DHCP service was off for a lease sync (Kea: the syncing server serves no one from waiting to
    ready, and it switches its partner off with dhcp-disable before every page it pulls; a sync is
    known from the logs' HA_SYNC_START, a syncing state, or a dhcp-disable). A client's wait counts
    when it overlaps such a stretch of either server, from the heal (or its start) until its answer
    or the window's end. UNKNOWN when the logs hold no sync though the partition should have
    caused one (a server went partner-down, or granted more leases while cut off than
    ``delayed-updates-limit``), when a server's log is missing, or when no client asked while the
    service was off; figure 0 when no sync was due and none came."""
    name, unit = "lease-sync-gap", "s"
    threshold = f"<= {limit.max_lease_sync_gap_s:g} s" if limit.max_lease_sync_gap_s is not None else ""
    fault, end, lab = _first_fault(tl), _window_end(tl), tl.first("lab")
    if fault is None or end is None or tl.first("fault-verified") is None:
        return Verdict(name, UNKNOWN, "no effective fault, or the window never ended", unit=unit, threshold=threshold)
    heal = _heal_began(tl, fault)
    if heal is None or heal >= end:
        return Verdict(name, UNKNOWN, "the fault was never healed inside the window: there was no resync to watch",
                       unit=unit, threshold=threshold)
    logs = {e.source for e in tl.of("server-log") if int(e.get("lines") or 0) > 0}
    missing = [r for r in sorted(set(_roles(tl).values())) if r not in logs]
    if missing:
        return Verdict(name, UNKNOWN, f"no log of {', '.join(missing)} on the timeline: its sync and its service "
                                      "cannot be seen", unit=unit, threshold=threshold)
    starts = [e for e in tl.of("lease-sync-start") if heal <= e.t <= end]
    syncing = [e for e in tl.of("ha-state") if heal <= e.t <= end and e.get("to") == "syncing"]
    disables = [e for e in tl.of("ha-command") if heal <= e.t <= end and e.get("command") == "dhcp-disable"]
    due = _sync_due(tl, fault, heal)
    backlog = [e for e in tl.of("lease-backlog") if heal <= e.t <= end]
    sent = "; ".join(f"{e.source} logged its update backlog {e.get('phase')}"
                     + (f" ({e.get('updates')} updates)" if e.get("updates") is not None else "") for e in backlog)
    if not (starts or syncing or disables):
        if due:
            return Verdict(name, UNKNOWN, f"no lease sync in the servers' logs after the heal (no HA_SYNC_START, no "
                                          f"syncing state, no dhcp-disable received), though one was due: {due}"
                                          + (f"; {sent}" if sent else ""), unit=unit, threshold=threshold)
        if not (lab and lab.get("lease_sync")):
            return Verdict(name, UNKNOWN, "no lease sync logged after the heal, and the timeline does not record the "
                                          "pair's delayed-updates-limit: whether one was due cannot be told",
                           unit=unit, threshold=threshold)
        return _finish(Verdict(name, PASS, "no lease sync after the heal, and none was due (no server went "
                                           "partner-down or granted more leases while cut off than delayed-updates-"
                                           f"limit {lab.get('lease_sync').get('delayed-updates-limit')})"
                                           + (f"; {sent}" if sent else ""), figure=0.0, unit=unit,
                               threshold=threshold), limit)
    marks = [e.t for e in (*starts, *syncing, *disables)]
    episodes = [ep for ep in _episodes(service_off(tl, heal, end)) if any(ep[0] <= t <= ep[1] for t in marks)]

    def at(t: float) -> str:
        return f"{t - heal:+.2f} s"
    pages = [e for e in tl.of("lease-sync-page") if heal <= e.t <= end]
    done = [e for e in tl.of("lease-sync-done") if heal <= e.t <= end]

    def told(e: Event) -> str:
        """One sync in words: who pulled from whom, how many leases in how many pages, how long."""
        def same(x: Event) -> bool:  # the same server, and the same thread where the log names it
            return x.source == e.source and (x.get("thread") is None or x.get("thread") == e.get("thread"))
        finish = next((d for d in done if same(d) and d.t >= e.t), None)
        upto = finish.t if finish is not None else end
        mine = [p for p in pages if same(p) and e.t <= p.t <= upto]
        twin = any(o is not e and o.source == e.source and o.get("thread") != e.get("thread")
                   and abs(o.t - e.t) < 1.0 for o in starts)
        return (f"{e.source} began a sync with {e.get('partner')} at {at(e.t)}"
                + (" (another of its threads began one at once: Kea HA+MT ran its state machine twice)" if twin else "")
                + ", pulled "
                f"{sum(int(p.get('leases') or 0) for p in mine):,} lease(s) in {len(mine)} page(s), "
                + (f"done at {at(finish.t)} (Kea: {finish.get('took')})" if finish is not None else "never logged done"))
    story = "; ".join(told(e) for e in starts) or "no HA_SYNC_START logged, but " + ", ".join(
        [*(f"{e.source} syncing at {at(e.t)}" for e in syncing),
         *(f"{e.source} got its partner's dhcp-disable at {at(e.t)}" for e in disables[:2])])
    if not episodes:
        return Verdict(name, UNKNOWN, f"heal at {_after_fault(heal, fault)}; {story}; but no server's log shows its "
                                      "service off around it (no HA_LOCAL_DHCP_DISABLE, off state or dhcp-disable): "
                                      "the gap cannot be placed", unit=unit, threshold=threshold)
    waits = [w for w in client_waits(tl) if w.since < end and (w.until if w.until is not None else INF) > heal]
    hit = [(w, ep) for w in waits for ep in episodes if w.since < ep[1] and (w.until if w.until is not None else INF) > ep[0]]
    offs = "; ".join(f"{o.role} off {at(o.since)} to {at(o.until)} ({o.until - o.since:.2f} s, {o.how})"
                     for _, _, members in episodes for o in members)
    reason = f"heal at {_after_fault(heal, fault)}; {story}; service off: {offs}"
    if sent:
        reason += f"; {sent}"
    if not hit:
        return Verdict(name, UNKNOWN, f"{reason}; no client asked while a server's service was off: the gap is "
                                      "unmeasured", unit=unit, threshold=threshold)

    def length(w: Wait) -> float:
        return min(w.until if w.until is not None else end, end) - max(w.since, heal)
    worst, _ = max(hit, key=lambda x: length(x[0]))
    figure = round(length(worst), 2)
    clients = sorted({w.client for w, _ in hit})
    slow = sorted({w.client for w, _ in hit if length(w) > 1.0})
    answered = f"answered by {worst.answered_by}" if worst.until is not None else "still unanswered when the window ended"
    times = [heal] + [e.t for e in _acks(tl) if heal <= e.t <= end] + [end]
    quiet = max(((a, b) for a, b in zip(times, times[1:])), key=lambda x: x[1] - x[0])
    reason += (f"; {len(clients)} client(s) asked while it was off, {len(slow)} of them waited more than 1 s, the "
               f"longest {worst.client} {figure:g} s for a "
               f"{worst.exchange} from {at(max(worst.since, heal))}, {answered}; the longest stretch without any ACK "
               f"after the heal {quiet[1] - quiet[0]:.2f} s from {at(quiet[0])}")
    status = PASS
    if limit.max_lease_sync_gap_s is not None:
        over = sorted({w.client for w, _ in hit if length(w) > limit.max_lease_sync_gap_s})
        if over:
            status = FAIL
            reason += f"; {len(over)} client(s) waited longer than {limit.max_lease_sync_gap_s:g} s: {listed(over, 8)}"
    status, reason = _waits_caveats(tl, status, reason)
    return _finish(Verdict(name, status, reason, figure=figure, unit=unit, threshold=threshold), limit)


def _after_fault(t: float, fault: Event) -> str:
    """``t`` as seconds after the fault, for a reason."""
    return f"{t - fault.t:+.1f} s after the fault"


JUDGES: dict[str, Callable[[Timeline, Thresholds], Verdict]] = {
    "load": load,
    "steady-state": lambda tl, _: steady_state(tl),
    "fault-effective": lambda tl, _: fault_effective(tl),
    "takeover": takeover,
    "takeover-predicted": takeover_predicted,
    "duplicates": duplicates,
    "continuity": continuity,
    "reply-checksums": lambda tl, _: reply_checksums(tl),
    "state-transitions": state_transitions,
    "split-brain": lambda tl, _: split_brain(tl),
    "continuity-after-heal": continuity_after_heal,
    "failback-sync": lambda tl, _: failback_sync(tl),
    "expected-warnings": expected_warnings,
    "heal-to-normal": heal_to_normal,
    "new-lease-cap": new_lease_cap,
    "partner-pool-after-mclt": partner_pool_after_mclt,
    "mclt-cap": mclt_cap,
    "client-outage": client_outage,
    "lease-conflicts": lambda tl, _: lease_conflicts(tl),
    "subnets": lambda tl, _: subnets(tl),
    "service-held": service_held,
    "partner-share-held": partner_share_held,
    "evidence-consistent": lambda tl, _: evidence_consistent(tl),
    "naks": naks,
    "tail-relearned": lambda tl, _: tail_relearned(tl),
    "dropped-queries": dropped_queries,
    "backup-updated": lambda tl, _: backup_updated(tl),
    **{name: (lambda tl, limit, kind=kind: real_client(tl, limit, kind)) for name, kind in realclients.VERDICTS.items()},
    "lease-sync-gap": lease_sync_gap,
}
assert JUDGES.keys() == NEEDS.keys(), "every verdict states which manifest key it needs"


def judge(tl: Timeline, limits: Thresholds, names: Iterable[str], workload: "Workload | None" = None) -> list[Verdict]:
    """The named verdicts, each UNKNOWN where evidence it reads is missing (``coverage``, whose
    limits follow the drill's ``workload``: the default one when not given)."""
    gaps = coverage.gaps(tl, workload)
    verdicts = []
    for n in names:
        with tl.kinds_read() as read:
            verdict = JUDGES[n](tl, limits)
        verdicts.append(_unless_evidence_lost(verdict, gaps, read, _first_fault(tl)))
    return verdicts


def _unless_evidence_lost(verdict: Verdict, gaps: list[coverage.Gap], read: set[str], fault: Event | None) -> Verdict:
    """A pass or fail that rests on events a source should have given while it was silent (a log
    that lost its beginning, a client record that stopped, an engine that went away: see
    ``coverage``) is UNKNOWN: what is missing may be what decides it."""
    lost = [g for g in gaps if g.touches(read)]
    if not lost or verdict.status not in (PASS, FAIL):
        return verdict
    said = "; ".join(g.say(read, fault.t if fault else None) for g in lost)
    return replace(verdict, status=UNKNOWN, reason=f"{said}; {verdict.reason}")
