"""The drill host's processors: a limit of the lab, not of the pair, that slows every server.

In the lab both servers, the client engine and Docker share the drill host's cores; in production
each server has its own. A population the host cannot carry (10,000 clients renewing every 10 s
on 2 cores: 96 % busy, the primary allocating 150-1,000 leases a second where 1,000 were asked) makes
clients wait, retry and lose leases whatever the pair's configuration, so a drill that failed
for that says nothing about the pair. The drill records the host's CPU time (``/proc/stat``, read
in the host's namespace by the helper) when the clients start, when they hold their leases (or
gave up) and at the end (``host-cpu`` events); the verdicts that rest on the pair keeping up with
its clients say UNKNOWN when the host was saturated meanwhile, and say so.
"""
from __future__ import annotations

from typing import Protocol

from .timeline import Timeline

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


def record(engine: _Shell, tl: Timeline, at: str, now: float) -> None:
    """A ``host-cpu`` event: the host's CPU time so far (the drill goes on without it if it cannot be read)."""
    try:
        busy, total, cores = parse(engine.shell(SCRIPT, what="read the host's CPU time"))
    except Exception as exc:  # noqa: BLE001 - the event says why it has no figure
        tl.add(now, "harness", "host-cpu", at=at, error=str(exc))
        return
    tl.add(now, "harness", "host-cpu", at=at, busy=busy, total=total, cores=cores)


def busy_share(tl: Timeline, start: str, end: str) -> tuple[float, int] | None:
    """(share of the host's CPU time busy, cores) between the ``start`` and ``end`` records, or None."""
    marks = {e.get("at"): e for e in tl.of("host-cpu") if e.get("total") is not None}
    a, b = marks.get(start), marks.get(end)
    if a is None or b is None or int(b.get("total")) <= int(a.get("total")):
        return None
    share = (int(b.get("busy")) - int(a.get("busy"))) / (int(b.get("total")) - int(a.get("total")))
    return share, int(b.get("cores") or 0)


def saturation_reason(tl: Timeline, end: str = "end") -> str:
    """Why the clients' waits say nothing about the pair: the host was saturated from the clients'
    start to ``end`` ("steady": until they held their leases or gave up). Empty when it was not,
    or when the timeline predates this record."""
    found = busy_share(tl, "start", end)
    if found is None or found[0] < SATURATED:
        return ""
    share, cores = found
    stretch = "while the clients leased" if end == "steady" else "during the drill"
    return (f"the drill host's {cores or '?'} cores were {share * 100:.0f} % busy {stretch} (servers, clients and "
            f"Docker share them; at {SATURATED * 100:.0f} % and more the servers answer at the lab's pace, not "
            f"their own), so clients that waited or lost leases are not evidence about the pair; drill this "
            f"population on a host with more cores, or fewer clients here")
