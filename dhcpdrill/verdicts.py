"""Verdicts: pure functions of a drill's timeline.

Each returns a ``Verdict`` that passes, fails, or is ``unknown`` when the timeline lacks the
evidence to decide (for example the fault never took effect): an unknown verdict never counts as
a pass. The events they read:

- ``harness/lab``: ``roles`` maps each server's client-facing address (its DHCP server id) to
  its role; ``serving`` lists the roles that answer clients while the pair is healthy.
- ``harness/fault-applied`` (``target`` role; ``takes_down`` when the target stops serving), then ``fault-verified`` or ``fault-not-effective``.
- ``harness/observe-end``: the end of the observation window.
- ``clients/recv`` (``msg``, ``server_id``, ``expected``), ``clients/bound`` (``client``, ``mac``,
  ``ip``, ``lease_time``, ``server_id``), ``clients/lease-lost``, ``clients/steady``.
- ``<role>/lease-record``: one binding in that server's lease database (``ip``, ``mac``,
  ``start``, ``end``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .timeline import Event, Timeline

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True)
class Verdict:
    name: str
    status: str
    reason: str
    figure: float | None = None
    unit: str = ""
    threshold: str = ""

    @property
    def ok(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class Thresholds:
    """What a pair promises for one drill; read from the pair's manifest, never from code.

    ``expect_states`` lists, per role, HA states that role must pass through after the fault, in
    order; ``known_hazard`` names an outcome the pair is known to get wrong (the drill is then an
    expected failure, strictly: a pass is reported too)."""

    max_takeover_s: float
    max_duplicates: int = 0
    min_continuity: float = 1.0
    expect_states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    known_hazard: str | None = None
    max_outage_s: float | None = None
    expect_warnings: tuple[str, ...] = ()
    max_heal_to_normal_s: float | None = None
    max_new_lease_s: float | None = None
    mclt_s: float | None = None


@dataclass(frozen=True)
class Binding:
    """An address held by one client (``holder`` is its MAC) from ``start`` until ``end``."""

    ip: str
    holder: str
    start: float
    end: float
    seen_by: str


@dataclass(frozen=True)
class Conflict:
    ip: str
    first: Binding
    second: Binding

    def describe(self) -> str:
        a, b = self.first, self.second
        return (f"{self.ip}: {a.holder} ({a.seen_by}) and {b.holder} ({b.seen_by}) "
                f"overlap for {min(a.end, b.end) - max(a.start, b.start):.1f} s")


def _fault(tl: Timeline) -> Event | None:
    """The decisive fault: the last one applied (a drill may apply several in sequence)."""
    faults = tl.of("fault-applied")
    return faults[-1] if faults else None


def _roles(tl: Timeline) -> dict[str, str]:
    lab = tl.first("lab")
    return dict(lab.get("roles", {})) if lab else {}


def _acks(tl: Timeline) -> list[Event]:
    return [e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.get("expected")]


def steady_state(tl: Timeline) -> Verdict:
    """Before the fault every steady client held a lease, served only by the roles meant to serve."""
    name = "steady-state"
    lab, steady, fault = tl.first("lab"), tl.first("steady"), tl.first("fault-applied")
    if lab is None:
        return Verdict(name, UNKNOWN, "the timeline has no lab description")
    if steady is None:
        failed = tl.first("steady-failed")
        unbound = ", ".join(failed.get("unbound", [])) if failed else "all"
        return Verdict(name, FAIL, f"steady clients never all held a lease (unbound: {unbound})")
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
    return Verdict(name, PASS, "; ".join(f"{e.get('fault')}: {e.get('evidence')}" for e in proofs))


def takeover(tl: Timeline, limit: Thresholds) -> Verdict:
    """Seconds from the fault to the first ACK a surviving server gives a client that the fault's
    target served before it (in hot-standby that is every client; in load-balancing, the
    target's share)."""
    name, unit, threshold = "takeover", "s", f"<= {limit.max_takeover_s:g} s"
    fault = _fault(tl)
    if fault is None or tl.first("fault-verified") is None:
        return Verdict(name, UNKNOWN, "no effective fault, so no takeover to measure", unit=unit,
                       threshold=threshold)
    roles, target = _roles(tl), fault.get("target")
    acks = _acks(tl)
    orphans = {e.get("mac") for e in acks if e.t < fault.t and roles.get(e.get("server_id")) == target}
    if not orphans:
        return Verdict(name, UNKNOWN, f"no client was served by {target} before the fault", unit=unit,
                       threshold=threshold)
    after = [e for e in acks if e.t >= fault.t and e.get("mac") in orphans
             and roles.get(e.get("server_id")) not in (None, target)]
    if not after:
        end = tl.first("observe-end")
        window = f" in the {end.t - fault.t:.0f} s observed" if end else ""
        return Verdict(name, FAIL, f"no client of {target} got an ACK from a surviving server{window}: no takeover",
                       unit=unit, threshold=threshold)
    first = after[0]
    seconds = round(first.t - fault.t, 3)
    who = roles[first.get("server_id")]
    status = PASS if seconds <= limit.max_takeover_s else FAIL
    return Verdict(name, status, f"{who} ACKed {first.get('client')} {seconds:.2f} s after the fault",
                   figure=seconds, unit=unit, threshold=threshold)


def client_bindings(tl: Timeline) -> list[Binding]:
    """Bindings as the clients saw them: from each ACK until expiry, release, NAK or a new address."""
    open_: dict[str, Binding] = {}
    done: list[Binding] = []
    for e in tl.of("bound", "lease-lost", source="clients"):
        mac, cur = e.get("mac"), open_.get(e.get("mac"))
        if e.kind == "lease-lost" or (cur and (cur.ip != e.get("ip") or cur.end < e.t)):
            if cur:
                done.append(Binding(cur.ip, mac, cur.start, min(cur.end, e.t), "clients"))
                del open_[mac]
        if e.kind == "bound":
            end = e.t + float(e.get("lease_time") or 0)
            start = open_[mac].start if mac in open_ else e.t
            open_[mac] = Binding(e.get("ip"), mac, start, end, "clients")
    return done + list(open_.values())


def server_bindings(tl: Timeline) -> list[Binding]:
    return [Binding(e.get("ip"), e.get("mac"), float(e.get("start")), float(e.get("end")), e.source)
            for e in tl.of("lease-record")]


SERVER_RESOLUTION_S = 1.0  # lease files record whole seconds (Kea's cltt/expire, dhcpd's starts/ends)


def conflicts(bindings: Iterable[Binding]) -> list[Conflict]:
    """Pairs of bindings of one address to two different holders whose lifetimes overlap.

    Client-side times are capture times (sub-second); lease-file times are whole seconds, so an
    overlap involving a lease file counts only beyond that resolution (a release at 10.3 s and a
    new grant recorded as 10 s are not two holders at once)."""
    by_ip: dict[str, list[Binding]] = defaultdict(list)
    for b in bindings:
        if b.end > b.start:
            by_ip[b.ip].append(b)
    found = []
    for ip, held in sorted(by_ip.items()):
        held.sort(key=lambda b: b.start)
        for i, a in enumerate(held):
            for b in held[i + 1:]:
                if b.start >= a.end:
                    break
                tolerance = 0.0 if a.seen_by == b.seen_by == "clients" else SERVER_RESOLUTION_S
                if b.holder != a.holder and min(a.end, b.end) - max(a.start, b.start) > tolerance:
                    found.append(Conflict(ip, a, b))
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
        back = heal.t if heal is not None and heal.kind == "fault-healed" and heal.get("restored") else float("inf")
        down[e.get("target")].append((e.t, back))
    return down


def _clip_to_lifetime(records: list[Binding], tl: Timeline) -> list[Binding]:
    """A server that was down asserts nothing meanwhile: its file keeps what it last knew (a
    release it never saw, say), which must not be mistaken for a binding it still held."""
    down = _down_intervals(tl)
    clipped = []
    for b in records:
        parts = [(b.start, b.end)]
        for a, h in down.get(b.seen_by, []):
            parts = [p for s, e in parts for p in ((s, min(e, a)), (max(s, h), e)) if p[1] > p[0]]
        clipped += [Binding(b.ip, b.holder, s, e, b.seen_by) for s, e in parts]
    return clipped


def duplicates(tl: Timeline, limit: Thresholds) -> Verdict:
    """Addresses bound to two clients at once, from the clients' view and both lease databases."""
    name, threshold = "duplicates", f"<= {limit.max_duplicates}"
    records = _clip_to_lifetime(server_bindings(tl), tl)
    if not records:
        return Verdict(name, UNKNOWN, "no server lease database was read", threshold=threshold)
    found = conflicts(client_bindings(tl) + records)
    ips = sorted({c.ip for c in found})
    status = PASS if len(ips) <= limit.max_duplicates else FAIL
    servers = sorted({b.seen_by for b in records})
    detail = "; ".join(c.describe() for c in found[:5]) or "none"
    return Verdict(name, status, f"{len(ips)} address(es) bound to two clients (clients and "
                                 f"{', '.join(servers)} checked): {detail}",
                   figure=len(ips), threshold=threshold)


def _continuity(tl: Timeline, limit: Thresholds, anchor: Event | None, name: str, what: str) -> Verdict:
    unit, threshold = "%", f">= {limit.min_continuity * 100:g} %"
    if anchor is None:
        return Verdict(name, UNKNOWN, f"no {what} happened", unit=unit, threshold=threshold)
    steady = tl.first("steady")
    names = set(steady.get("leases", {})) if steady else set()
    held = {b.holder: b for b in client_bindings(tl) if b.start <= anchor.t < b.end}
    macs = {e.get("client"): e.get("mac") for e in tl.of("bound", source="clients")}
    before = {c: held[m].ip for c, m in macs.items() if c in names and m in held}
    if not before:
        return Verdict(name, UNKNOWN, f"no client held a lease at the {what}", unit=unit, threshold=threshold)
    after: dict[str, str] = {}
    for e in tl.of("bound", source="clients"):
        if e.t > anchor.t and e.get("client") in before:
            after.setdefault(e.get("client"), e.get("ip"))
    kept = sorted(c for c, ip in before.items() if after.get(c) == ip)
    lost = [f"{c} {before[c]} -> {after.get(c, 'no lease confirmed')}" for c in sorted(before) if c not in kept]
    ratio = len(kept) / len(before)
    status = PASS if ratio >= limit.min_continuity else FAIL
    reason = f"{len(kept)} of {len(before)} clients kept their address after the {what}"
    return Verdict(name, status, reason + (": " + "; ".join(lost) if lost else ""),
                   figure=round(ratio * 100, 1), unit=unit, threshold=threshold)


def continuity(tl: Timeline, limit: Thresholds) -> Verdict:
    """Every client that held a lease at the fault holds the same address afterwards."""
    return _continuity(tl, limit, _fault(tl), "continuity", "fault")


def continuity_after_heal(tl: Timeline, limit: Thresholds) -> Verdict:
    """Every client that held a lease when the fault was healed (failback) keeps that address."""
    return _continuity(tl, limit, tl.first("fault-healed"), "continuity-after-heal", "heal")


def failback_sync(tl: Timeline) -> Verdict:
    """Every lease a surviving server granted during the outage, still valid at the heal, is
    known to the server that came back (same address, same client, lasting as long)."""
    name, unit = "failback-sync", "%"
    fault, healed = _fault(tl), tl.first("fault-healed")
    if fault is None or healed is None:
        return Verdict(name, UNKNOWN, "no fault was healed", unit=unit, threshold="100 %")
    target = fault.get("target")
    records = server_bindings(tl)
    granted = [b for b in records if b.seen_by != target and fault.t <= b.start <= healed.t
               and b.end > healed.t]
    if not granted:
        return Verdict(name, UNKNOWN, "no lease was granted during the outage", unit=unit, threshold="100 %")
    known = [g for g in granted if any(b.seen_by == target and b.ip == g.ip and b.holder == g.holder
                                       and b.end >= g.end - 1 for b in records)]
    missing = [f"{g.ip} ({g.holder})" for g in granted if g not in known]
    ratio = round(100 * len(known) / len(granted), 1)
    status = PASS if not missing else FAIL
    return Verdict(name, status, f"{target} knows {len(known)} of {len(granted)} leases granted while it was down"
                   + (f"; missing: {', '.join(missing[:8])}" if missing else ""), figure=ratio, unit=unit,
                   threshold="100 %")


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


def state_transitions(tl: Timeline, limit: Thresholds) -> Verdict:
    """Each role passed, after the fault, through the HA states its pair says it must (in order);
    an empty list means the role must not change state at all."""
    name = "state-transitions"
    fault = _fault(tl)
    if fault is None:
        return Verdict(name, UNKNOWN, "no fault was applied")
    if not limit.expect_states:
        return Verdict(name, UNKNOWN, "the pair states no expected transitions for this drill")
    seen, missing = [], []
    roles = sorted(set(limit.expect_states) | {e.source for e in tl.of("ha-state")})
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
    return Verdict(name, status, ("; ".join(missing) + " but saw " if missing else "") + "; ".join(seen),
                   threshold="; ".join(f"{r}: {' -> '.join(w) or 'no change'}" for r, w in sorted(limit.expect_states.items())))


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


def split_brain(tl: Timeline) -> Verdict:
    """Seconds during which both servers were at once in a state where each serves every client
    alone (Kea and ISC: partner-down): each then allocates from the whole pool on its own."""
    name, unit = "split-brain", "s"
    lab = tl.first("lab")
    solo = set(lab.get("solo_states", [])) if lab else set()
    if not solo or tl.first("pair-ready") is None:
        return Verdict(name, UNKNOWN, "no server states were recorded", unit=unit, threshold="0 s")
    a = [(s, e) for s, e, st in _state_intervals(tl, "primary") if st in solo]
    b = [(s, e) for s, e, st in _state_intervals(tl, "secondary") if st in solo]
    both = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)
    both = round(both, 2)
    if both == 0:
        return Verdict(name, PASS, f"the servers were never both in {'/'.join(sorted(solo))}", figure=0.0,
                       unit=unit, threshold="0 s")
    return Verdict(name, FAIL, f"both servers were in {'/'.join(sorted(solo))} for {both:g} s: each served "
                               "every client from the whole pool without the other", figure=both, unit=unit,
                   threshold="0 s")


def client_outage(tl: Timeline, limit: Thresholds) -> Verdict:
    """The longest stretch after the fault during which no client got any ACK."""
    name, unit = "client-outage", "s"
    threshold = f"<= {limit.max_outage_s:g} s" if limit.max_outage_s is not None else ""
    fault, end = _fault(tl), tl.first("observe-end")
    if fault is None or end is None:
        return Verdict(name, UNKNOWN, "no fault was applied", unit=unit, threshold=threshold)
    if limit.max_outage_s is None:
        return Verdict(name, UNKNOWN, "the pair states no max_outage_s for this drill", unit=unit)
    times = [fault.t] + [e.t for e in _acks(tl) if fault.t <= e.t <= end.t] + [end.t]
    gaps = [(b - a, a) for a, b in zip(times, times[1:])]
    longest, start = max(gaps)
    longest = round(longest, 2)
    status = PASS if longest <= limit.max_outage_s else FAIL
    return Verdict(name, status, f"longest stretch without any ACK: {longest:g} s from "
                                 f"{start - fault.t:+.1f} s after the fault", figure=longest, unit=unit,
                   threshold=threshold)


def expected_warnings(tl: Timeline, limit: Thresholds) -> Verdict:
    """The servers logged each warning the pair says this fault must raise (e.g. a clock-skew
    warning): the pair's own protection noticed."""
    name = "expected-warnings"
    fault = tl.first("fault-applied")
    if fault is None or not limit.expect_warnings:
        return Verdict(name, UNKNOWN, "no fault applied" if fault is None else "the pair states no expected warnings")
    lines = [(e.source, e.get("line", "")) for e in tl.of("ha-warning") if e.t >= fault.t]
    found = {w: sorted({src for src, line in lines if w in line}) for w in limit.expect_warnings}
    missing = [w for w, where in found.items() if not where]
    detail = "; ".join(f"{w} from {', '.join(where) or 'nobody'}" for w, where in found.items())
    return Verdict(name, FAIL if missing else PASS, detail, threshold=", ".join(limit.expect_warnings))


def heal_to_normal(tl: Timeline, limit: Thresholds) -> Verdict:
    """Seconds from the heal until both servers were back in the pair's normal state."""
    name, unit = "heal-to-normal", "s"
    threshold = f"<= {limit.max_heal_to_normal_s:g} s" if limit.max_heal_to_normal_s is not None else ""
    lab, healed = tl.first("lab"), tl.of("fault-healed")
    normal = lab.get("normal_state") if lab else None
    if not healed or not normal:
        return Verdict(name, UNKNOWN, "no heal, or no normal state known", unit=unit, threshold=threshold)
    if limit.max_heal_to_normal_s is None:
        return Verdict(name, UNKNOWN, "the pair states no max_heal_to_normal_s for this drill", unit=unit)
    # From the moment the heal began: proving it took (a probe, the daemon's next timestamp) can
    # take seconds, and a quick pair is back in normal before that proof is in.
    started = [e for e in tl.of("heal-started") if e.t <= healed[-1].t]
    heal, fault = (started[-1] if started else healed[-1]).t, _fault(tl)
    back, early = [], {}
    for role in sorted(set(_roles(tl).values())):
        spans = _state_intervals(tl, role)
        last_start, _, last_state = spans[-1] if spans else (heal, heal, "unknown")
        if last_state != normal:
            return Verdict(name, FAIL, f"{role} was still {last_state} when the drill ended", unit=unit,
                           threshold=threshold)
        left = next((s for s, _, st in spans if fault is not None and s >= fault.t and st != normal), None)
        again = [s for s, _, st in spans if left is not None and left < s < heal and st == normal]
        if again:  # left normal after the fault and was back in it while the fault still held
            early[role] = again[0]
        back.append(max(last_start, heal))
    if early and len(early) == len(back):
        when = max(early.values())
        return Verdict(name, FAIL, f"the pair was in {normal} again {heal - when:.1f} s before the heal: the fault "
                                   "stopped keeping it apart while it still held",
                       figure=round(when - heal, 2), unit=unit, threshold=threshold)
    seconds = round(max(back) - heal, 2)
    status = PASS if seconds <= limit.max_heal_to_normal_s else FAIL
    return Verdict(name, status, f"both servers {normal} {seconds:g} s after the heal", figure=seconds, unit=unit,
                   threshold=threshold)


def new_lease_cap(tl: Timeline, limit: Thresholds) -> Verdict:
    """The longest lease the survivors granted a brand-new client after the fault (ISC failover:
    at most MCLT while the partner cannot be told)."""
    name, unit = "new-lease-cap", "s"
    threshold = f"<= {limit.max_new_lease_s:g} s" if limit.max_new_lease_s is not None else ""
    fault = _fault(tl)
    if fault is None or limit.max_new_lease_s is None:
        return Verdict(name, UNKNOWN, "no fault, or the pair states no max_new_lease_s", unit=unit, threshold=threshold)
    roles, target = _roles(tl), fault.get("target")
    new = [e for e in _acks(tl) if e.t >= fault.t and str(e.get("client", "")).startswith("fresh-")
           and roles.get(e.get("server_id")) not in (None, target)]
    if not new:
        return Verdict(name, UNKNOWN, "no new client was served after the fault", unit=unit, threshold=threshold)
    longest = max(float(e.get("lease_time") or 0) for e in new)
    status = PASS if longest <= limit.max_new_lease_s else FAIL
    return Verdict(name, status, f"{len(new)} new clients served after the fault; longest lease {longest:g} s",
                   figure=longest, unit=unit, threshold=threshold)


def mclt_cap(tl: Timeline, limit: Thresholds) -> Verdict:
    """While a server cannot tell its partner what it grants (ISC failover:
    communications-interrupted), no lease it ACKs may end more than MCLT past the expiry its
    partner has acknowledged for that address (``tsfp`` in the server's own lease record of the
    grant; for an address the partner knows nothing of, MCLT past now; for the partner's own
    grant re-confirmed unchanged, past its end)."""
    name, unit = "mclt-cap", "s"
    lab = tl.first("lab")
    interrupted = set(lab.get("interrupted_states", [])) if lab else set()
    if limit.mclt_s is None or not interrupted:
        return Verdict(name, UNKNOWN, "the pair states no mclt_s, or its servers have no interrupted state",
                       unit=unit)
    threshold = f"<= partner-acknowledged expiry + {limit.mclt_s:g} s"
    roles, acks, grants = _roles(tl), _acks(tl), tl.of("lease-grant")
    checked, worst, over, unmatched = 0, None, [], []
    for role in sorted(set(roles.values())):
        for start, stop, state in _state_intervals(tl, role):
            if state not in interrupted:
                continue
            for e in acks:
                if not (start <= e.t < stop and roles.get(e.get("server_id")) == role) or e.get("lease_time") is None:
                    continue
                # The record in force at the ACK: dhcpd writes none when an ACK leaves the end where
                # it was, so the latest one up to the ACK (2 s: whole-second clock). With no record
                # of its own, the server re-confirmed its partner's grant, whose end both know.
                records = [g for g in grants if g.get("ip") == e.get("yiaddr") and g.get("mac") == e.get("mac")
                           and g.t <= e.t + 2.0]
                own = [g for g in records if g.source == role]
                if not records:
                    unmatched.append(f"{e.get('client')} {e.get('yiaddr')} at {e.t - start:+.1f} s")
                    continue
                checked += 1
                if own:
                    known = max(float(max(own, key=lambda g: g.t).get("tsfp") or 0.0), e.t)
                else:
                    theirs = max(records, key=lambda g: g.t)
                    known = max(float(theirs.get("tsfp") or 0.0), float(theirs.get("ends")), e.t)
                beyond = e.t + float(e.get("lease_time")) - known
                worst = beyond if worst is None else max(worst, beyond)
                if beyond > limit.mclt_s + 1.0:  # 1 s: capture time vs the server's whole-second clock
                    over.append(f"{role} gave {e.get('client')} {e.get('yiaddr')} {e.get('lease_time')} s, "
                                f"{beyond:.0f} s past what its partner acknowledged")
    if unmatched:
        return Verdict(name, UNKNOWN, f"{len(unmatched)} ACKs have no record in the server's lease file: "
                                      + "; ".join(unmatched[:4]), unit=unit, threshold=threshold)
    if not checked:
        return Verdict(name, UNKNOWN, f"no ACK was given in {'/'.join(sorted(interrupted))}", unit=unit,
                       threshold=threshold)
    figure = round(worst, 1)
    if over:
        return Verdict(name, FAIL, f"{len(over)} of {checked} ACKs broke the MCLT cap: " + "; ".join(over[:4]),
                       figure=figure, unit=unit, threshold=threshold)
    return Verdict(name, PASS, f"{checked} ACKs given in {'/'.join(sorted(interrupted))}; the furthest ended "
                               f"{figure:g} s past what the partner had acknowledged", figure=figure, unit=unit,
                   threshold=threshold)


def partner_pool_after_mclt(tl: Timeline, limit: Thresholds) -> Verdict:
    """After partner-down, the survivor hands out addresses its partner owned only once MCLT has
    passed (ISC failover), and then does use them: the whole pool is its own again."""
    name, unit = "partner-pool-after-mclt", "s"
    if limit.mclt_s is None:
        return Verdict(name, UNKNOWN, "the pair states no mclt_s for this drill", unit=unit)
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


JUDGES: dict[str, Callable[[Timeline, Thresholds], Verdict]] = {
    "steady-state": lambda tl, _: steady_state(tl),
    "fault-effective": lambda tl, _: fault_effective(tl),
    "takeover": takeover,
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
}


def judge(tl: Timeline, limits: Thresholds, names: Iterable[str]) -> list[Verdict]:
    return [JUDGES[n](tl, limits) for n in names]
