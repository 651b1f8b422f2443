"""A drill's run record: the pair, the scenario, the timeline and the verdicts judged over it.

What the reports, the evidence archive, go/no-go and ``dhcpdrill-merge`` read; it holds no lab,
so reading or re-judging a recorded run needs no Docker engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .outcome import FAILED, Outcome, decide
from .timeline import Timeline
from .verdicts import Verdict, anchor

if TYPE_CHECKING:
    from .expectations import KnownHazard
    from .manifest import Pair
    from .scenario import Scenario


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
        assert outcome.status != FAILED, f"{self.pair.name} / {self.scenario.name}:\n  " + "\n  ".join(
            (*outcome.reasons, *self.failure_context()))

    def failure_context(self) -> list[str]:
        """What a failed drill's message carries besides its reasons, for a CI log that keeps only
        the failures: every verdict's status and figure, the servers' HA states over the window
        (seconds from the fault) and where the evidence is."""
        lines = ["verdicts: " + "; ".join(f"{v.name} {v.status}" + (f" {v.figure:g}" if isinstance(v.figure, (int, float))
                                                                     else "") for v in self.verdicts)]
        fault = anchor(self.timeline)
        zero = fault.t if fault is not None else self.started
        states: dict[str, list[str]] = {}
        for e in self.timeline.of("ha-state"):
            states.setdefault(e.source, []).append(f"{e.get('to')} {e.t - zero:+.1f} s")
        healed = [f"{e.get('fault')} {'heal began' if e.kind == 'heal-started' else 'healed'} {e.t - zero:+.1f} s"
                  for e in self.timeline.of("heal-started", "fault-healed")]
        lines += [f"{role} states (from the fault): {', '.join(seen)}" for role, seen in sorted(states.items())]
        told: dict[str, list[str]] = {}  # a partner's dhcp-disable without its dhcp-enable silences a server
        for e in self.timeline.of("ha-command"):
            if fault is None or e.t >= fault.t:
                told.setdefault(e.source, []).append(f"{e.get('command')} {e.t - zero:+.1f} s")
        lines += [f"{role} received: {', '.join(seen[-12:])}" for role, seen in sorted(told.items())]
        lines += [f"faults: {', '.join(healed)}"] if healed else []
        lines.append(f"evidence: {self.run_dir}")
        return lines
