"""Load figures: what a population of clients saw before, during and after a fault.

Pure statistics over client waits (``verdicts.client_waits``: one per exchange, from its first
DISCOVER or REQUEST to its ACK) so the ``load`` verdict can say, for a drill with thousands of
clients, how fast new leases and renewals were answered (p50 / p99), how many exchanges were
offered and answered per second in each phase, how many clients waited more than 1 s, 10 s or
their own T2 after the fault, and how many leases expired unrenewed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol


class WaitLike(Protocol):
    client: str
    since: float
    until: float | None
    exchange: str


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of ``values``; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Phase:
    """One stretch of the drill and what clients saw in it."""

    name: str
    start: float
    end: float
    new_p50: float | None
    new_p99: float | None
    renew_p50: float | None
    renew_p99: float | None
    offered_per_s: float
    answered_per_s: float

    def describe(self) -> str:
        def pair(p50: float | None, p99: float | None) -> str:
            return "none" if p50 is None else f"p50 {p50:.3f} s, p99 {p99:.3f} s"
        return (f"{self.name} ({self.end - self.start:.0f} s): new leases {pair(self.new_p50, self.new_p99)}; "
                f"renewals {pair(self.renew_p50, self.renew_p99)}; {self.offered_per_s:.1f} exchanges/s begun, "
                f"{self.answered_per_s:.1f}/s answered")


def phase(name: str, waits: Iterable[WaitLike], start: float, end: float) -> Phase:
    """Latencies of the exchanges begun in [start, end) and answered, and the rates there."""
    begun = [w for w in waits if start <= w.since < end]
    answered = [w for w in begun if w.until is not None]
    new = [w.until - w.since for w in answered if w.exchange == "new lease"]
    renew = [w.until - w.since for w in answered if w.exchange != "new lease"]
    length = max(end - start, 1e-9)
    return Phase(name, start, end, percentile(new, 50), percentile(new, 99), percentile(renew, 50),
                 percentile(renew, 99), len(begun) / length, len(answered) / length)


def outage_counts(waits: Iterable[WaitLike], fault: float, end: float, t2: dict[str, float],
                  over: tuple[float, ...] = (1.0, 10.0)) -> dict[str, int]:
    """Clients whose longest wait overlapping [fault, end] exceeded each of ``over`` seconds, and
    their own T2 (``t2``: client -> rebind time of its last lease before the fault)."""
    longest: dict[str, float] = {}
    for w in waits:
        until = w.until if w.until is not None else end
        if until < fault or w.since >= end:
            continue
        longest[w.client] = max(longest.get(w.client, 0.0), min(until, end) - w.since)
    counts = {f"> {s:g} s": sum(1 for v in longest.values() if v > s) for s in over}
    counts["> T2"] = sum(1 for c, v in longest.items() if c in t2 and v > t2[c])
    counts["clients"] = len(longest)
    return counts
