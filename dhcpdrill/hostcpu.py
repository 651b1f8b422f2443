"""The drill host's processors: a limit of the lab, not of the pair, that slows every server.

In the lab both servers, the client engine and Docker share the drill host's cores; in production
each server has its own. A population the host cannot carry (10,000 clients renewing every 10 s
on 2 cores: 96 % busy, the primary allocating 150-1,000 leases a second where 1,000 were asked) makes
clients wait, retry and lose leases whatever the pair's configuration, so a drill that failed
for that says nothing about the pair. The drill records the host's CPU time (``/proc/stat``, read
in the host's namespace by the helper) and each lab container's (the engine's one-shot stats: its
CPU time and the host's, in ns) when the clients start, when they hold their leases (or gave up)
and at the end (``host-cpu`` events); the verdicts that rest on the pair keeping up with its
clients say UNKNOWN when the lab saturated the host meanwhile, and say so.

The rule. The servers' own CPU time is evidence about the pair (a daemon spinning at full CPU is
the pair's fault), the rest (clients, harness, relay, Docker) is the lab's. Over a stretch, with
``busy`` the host's busy share and ``servers`` the server containers' share of the host's CPU time,
the lab saturated the host when it kept busy at least ``SATURATED`` of the time the servers left:
``(busy - servers) / (1 - servers) >= 0.90`` — the servers could not have had more. A server whose
container was restarted or replaced in the stretch counts from its readings only (at least that
much), which can only leave the verdict UNKNOWN, never make it FAIL. A timeline with no
per-container figures (recorded before them, or the engine would not say) counts ``servers`` as
0, today's rule, and the reason says it could not separate them.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Protocol

from .expectations import ROLES
from .timeline import Event, Timeline

SCRIPT = "grep '^cpu' /proc/stat"
SATURATED = 0.90  # busy share of every core over a stretch of the drill, beyond which waits are the lab's


class _Shell(Protocol):
    def shell(self, script: str, *args: str, what: str = "") -> str: ...


def parse(text: str) -> tuple[int, int, int]:
    """(busy jiffies, total jiffies, cores) summed over the host from ``SCRIPT``'s output. Idle and
    I/O wait are free time; everything else, steal included (the hypervisor's), was not the lab's."""
    lines = [line.split() for line in text.strip().splitlines()]
    total_line = next((row for row in lines if row and row[0] == "cpu"), None)
    if total_line is None or len(total_line) < 5:
        raise ValueError("/proc/stat has no cpu line")
    fields = [int(x) for x in total_line[1:9]]
    total = sum(fields)
    free = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return total - free, total, sum(1 for row in lines if row and row[0].startswith("cpu") and row[0] != "cpu")


def _container_cpu(container: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(getattr(container, "id", ""))[:12]}
    try:
        container.reload()
        state = container.attrs.get("State", {})
        if not state.get("Running"):
            entry["error"] = f"not running ({state.get('Status')})"
        else:
            cpu = container.stats(stream=False, one_shot=True)["cpu_stats"]
            entry.update(started=state.get("StartedAt"), cpu_ns=int(cpu["cpu_usage"]["total_usage"]),
                         system_ns=int(cpu["system_cpu_usage"]))
    except Exception as exc:  # noqa: BLE001 - the figure says why it is missing
        entry["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return entry


def containers_cpu(containers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each lab container's CPU time so far as the engine counts it (one-shot stats): its id and
    start (a restarted or replaced container counts from zero again), ``cpu_ns`` and the host's
    ``system_ns``; or why there is no figure. Read side by side: the engine answers each at its
    next one-second sample (measured here), and the fault lands ``dwell_s`` after steady state."""
    if not containers:
        return {}
    with ThreadPoolExecutor(max_workers=len(containers)) as pool:
        return dict(zip(containers, pool.map(_container_cpu, containers.values())))


def record(engine: _Shell, tl: Timeline, at: str, now: float, containers: Mapping[str, Any] | None = None) -> None:
    """A ``host-cpu`` event: the host's CPU time so far and, given the lab's containers, each one's
    (the drill goes on without them if they cannot be read)."""
    per = {"containers": containers_cpu(containers)} if containers is not None else {}
    try:
        busy, total, cores = parse(engine.shell(SCRIPT, what="read the host's CPU time"))
    except Exception as exc:  # noqa: BLE001 - the event says why it has no figure
        tl.add(now, "harness", "host-cpu", at=at, error=str(exc), **per)
        return
    tl.add(now, "harness", "host-cpu", at=at, busy=busy, total=total, cores=cores, **per)


def busy_share(tl: Timeline, start: str, end: str) -> tuple[float, int] | None:
    """(share of the host's CPU time busy, cores) between the ``start`` and ``end`` records, or None."""
    marks = {e.get("at"): e for e in tl.of("host-cpu") if e.get("total") is not None}
    a, b = marks.get(start), marks.get(end)
    if a is None or b is None or int(b.get("total")) <= int(a.get("total")):
        return None
    share = (int(b.get("busy")) - int(a.get("busy"))) / (int(b.get("total")) - int(a.get("total")))
    return share, int(b.get("cores") or 0)


def _read(mark: Event, role: str) -> dict[str, Any] | None:
    entry = (mark.get("containers") or {}).get(role)
    return entry if isinstance(entry, dict) else None


def servers_share(tl: Timeline, start: str, end: str) -> tuple[float, bool, dict[str, float]] | None:
    """The server containers' CPU time between the ``start`` and ``end`` records as a share of the
    host's: (share, whether it is whole rather than at least, each server's share), or None when
    the records hold no per-container figures to tell it by.

    Each container instance counts from its reading at ``start`` (or from zero when it started
    after that reading) to its last reading up to ``end``; a server that had no reading at
    ``start`` (the engine did not say) or whose container went away or restarted counts as much
    as the readings show, so the share is then a lower bound."""
    marks = [e for e in tl.of("host-cpu") if e.get("containers") is not None]
    first = next((i for i, e in enumerate(marks) if e.get("at") == start), None)
    last = next((i for i, e in enumerate(marks) if e.get("at") == end), None)
    if first is None or last is None or last <= first:
        return None
    stretch = marks[first:last + 1]
    system = [next((r["system_ns"] for r in (m.get("containers") or {}).values()
                    if isinstance(r, dict) and r.get("system_ns") is not None), None) for m in (stretch[0], stretch[-1])]
    if None in system or system[1] <= system[0]:
        return None
    whole, per_role = True, {}
    for role in ROLES:
        at_start = _read(stretch[0], role)
        known = at_start is not None and ("cpu_ns" in at_start or str(at_start.get("error", "")).startswith("not running"))
        instances: dict[tuple, list[dict]] = {}
        for mark in stretch:
            r = _read(mark, role)
            if r is not None and r.get("cpu_ns") is not None:
                instances.setdefault((r.get("id"), r.get("started")), []).append(r)
        used = 0
        for key, readings in instances.items():
            begun = at_start is not None and (at_start.get("id"), at_start.get("started")) == key
            if begun or known:  # seen at the start, or started after a start that saw the role
                used += int(readings[-1]["cpu_ns"]) - (int(at_start["cpu_ns"]) if begun else 0)
        at_end = _read(stretch[-1], role)
        same = at_start is not None and at_end is not None and at_end.get("cpu_ns") is not None and \
            (at_start.get("id"), at_start.get("started")) == (at_end.get("id"), at_end.get("started"))
        whole = whole and same and len(instances) == 1
        per_role[role] = max(0, used) / (system[1] - system[0])
    return sum(per_role.values()), whole, per_role


def _split(tl: Timeline, end: str) -> tuple[float, float, int, str] | None:
    """(host busy share, the lab's share of what the servers left, cores, the servers' part in
    words) from the clients' start to ``end``, or None without the host's record."""
    found = busy_share(tl, "start", end)
    if found is None:
        return None
    share, cores = found
    servers = servers_share(tl, "start", end)
    if servers is None:
        return share, share, cores, ""
    used, whole, per_role = servers
    left = (share - used) / (1 - used) if used < 1 else 0.0
    each = ", ".join(f"{role} {_percent(part)}" for role, part in per_role.items())
    return share, max(0.0, left), cores, f"{'' if whole else 'at least '}{_percent(used)} of it ({each})"


def _percent(share: float) -> str:
    """Whole percents, and tenths below one (an idle daemon's 0.2 % is not 0)."""
    if 0 < share < 0.001:
        return "< 0.1 %"
    return f"{share * 100:.0f} %" if share >= 0.01 or share == 0 else f"{share * 100:.1f} %"


def _stretch(end: str) -> str:
    return "while the clients leased" if end == "steady" else "during the drill"


def saturation_reason(tl: Timeline, end: str = "end") -> str:
    """Why the clients' waits say nothing about the pair: the lab saturated the host from the
    clients' start to ``end`` ("steady": until they held their leases or gave up), by the module's
    rule. Empty when it did not, or when the timeline predates this record."""
    found = _split(tl, end)
    if found is None or found[1] < SATURATED:
        return ""
    share, left, cores, servers = found
    whose = (f"; the servers' containers took {servers}, the rest of the lab kept {left * 100:.0f} % of what they "
             f"left busy" if servers else "; the servers' own share could not be separated from the lab's (this "
                                          "drill recorded no per-container CPU figures)")
    return (f"the drill host's {cores or '?'} cores were {share * 100:.0f} % busy {_stretch(end)} (servers, clients "
            f"and Docker share them; when the lab keeps {SATURATED * 100:.0f} % and more of what the servers leave "
            f"busy, the servers answer at the lab's pace, not their own){whose}, so clients that waited or lost leases are not evidence about the pair; drill this "
            f"population on a host with more cores, or fewer clients here")


def servers_own(tl: Timeline, end: str = "end") -> str:
    """For a failure on a host that was saturated but mostly by the servers themselves: the
    figures that make it the pair's (empty otherwise)."""
    found = _split(tl, end)
    if found is None or not found[3] or found[0] < SATURATED or found[1] >= SATURATED:
        return ""
    share, left, cores, servers = found
    return (f"the drill host's {cores or '?'} cores were {share * 100:.0f} % busy {_stretch(end)}, but the servers' "
            f"containers took {servers} themselves and the rest of the lab kept only {left * 100:.0f} % of what they "
            f"left busy: the servers' own CPU, not the lab, is what they waited on")
