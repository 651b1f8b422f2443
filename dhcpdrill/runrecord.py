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
from .verdicts import Verdict

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
        assert outcome.status != FAILED, f"{self.pair.name} / {self.scenario.name}:\n  " + "\n  ".join(outcome.reasons)
