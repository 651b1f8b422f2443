"""Go / no-go before a maintenance window: the drills a team must see pass before it touches a
server of the pair, run for the pair and summed up in one line.

    pytest drills/ --pair PATH --go-no-go

GO only when every must-pass drill of every pair ran and passed. A drill that failed, that
failed as a known hazard says (a known hazard is a reason not to go, however well understood),
that errored or that never ran (interrupted, skipped, its lab unavailable) is a NO-GO reason:
missing evidence never reads as GO.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .outcome import EXPECTED, PASSED
from .problems import Problem
from .report import key_figures

if TYPE_CHECKING:
    from .drill import DrillResult
    from .manifest import Pair

# Unplanned loss of the primary, the planned handover a maintenance window starts with, and the
# hand-back it ends with. dhcpd has no maintenance command: its planned stop is the first half of
# failback (the partner serves, then the restarted primary takes its clients back).
MUST_PASS = {"kea": ("kill-primary", "maintenance-handoff", "failback"), "isc-dhcp": ("kill-primary", "failback")}
FILE_NAME = "go-no-go.txt"


def must_pass(pair: "Pair") -> tuple[str, ...]:
    return MUST_PASS[pair.server]


@dataclass(frozen=True)
class Decision:
    go: bool
    passed: tuple[str, ...]   # "pair / drill passed (key figures)"
    reasons: tuple[str, ...]  # why not, one per drill that did not pass
    passed_drills: tuple[str, ...] = ()  # "pair / drill", for the NO-GO line

    @property
    def line(self) -> str:
        if self.go:
            return "GO: " + "; ".join(self.passed)
        also = f" (passed: {', '.join(self.passed_drills)})" if self.passed_drills else ""
        return "NO-GO: " + "; ".join(self.reasons) + also


def missing_drills(pairs: list["Pair"]) -> list[Problem]:
    """Must-pass drills a pair states no expectations for: the go/no-go cannot be earned then."""
    return [Problem(str(pair.folder / "pair.toml"), f"drills.{name}", "missing: a go/no-go needs it",
                    f"add a [drills.{name}] table with the thresholds this pair must meet "
                    "(`pytest drills/ --drill-catalogue` lists the keys it reads)")
            for pair in pairs for name in must_pass(pair) if name not in pair.drills]


def decide(pairs: list["Pair"], results: list["DrillResult"]) -> Decision:
    """GO or NO-GO from the drills that ran; each must-pass drill of each pair needs a PASS."""
    passed, reasons, names = [], [], []
    for pair in pairs:
        for name in must_pass(pair):
            runs = [r for r in results if r.pair.folder == pair.folder and r.scenario.name == name]
            where = f"{pair.name} / {name}"
            if not runs:
                reasons.append(f"{where} did not run (interrupted, skipped or its lab was unavailable)")
                continue
            for r in runs:
                outcome = r.outcome
                if outcome.status == PASSED:
                    figures = ", ".join(key_figures(r))
                    passed.append(f"{where} passed" + (f" ({figures})" if figures else ""))
                    names.append(where)
                elif outcome.status == EXPECTED:
                    reasons.append(f"{where} failed as its known hazard says ({r.hazard.why}): "
                                   f"{', '.join(outcome.as_expected)}")
                else:
                    why = outcome.reasons[0] if outcome.reasons else "no reason recorded"
                    more = f" (and {len(outcome.reasons) - 1} more)" if len(outcome.reasons) > 1 else ""
                    reasons.append(f"{where} FAILED: {why}{more}")
    return Decision(not reasons and bool(passed), tuple(passed), tuple(reasons) or (() if passed else ("no drill ran",)),
                    tuple(names))
