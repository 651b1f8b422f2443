"""A drill's outcome from its verdicts: pass, fail, or a known hazard that failed as expected.

A known hazard excuses exactly the verdicts it names, and only in a drill that otherwise worked:
no error, clients leased and the fault bit, every named verdict failed (a named verdict that is
unknown is not the stated failure), and every other judged verdict passed. Anything else is a
real failure with its reasons; a named verdict that passed is reported as an unexpected pass.
A hazard that names only verdicts it ``may_fail`` (it strikes in some runs) passes in a run where
it did not strike. A verdict the hazard excuses, in ``fails`` or ``may_fail``, is excused only when
it failed no worse than the hazard's bound for it (a failure beyond the bound, or a takeover that
came where the hazard says none does, is a real failure naming it), and only for the part of it
the hazard can have caused (``Verdict.outside`` is 0): a duplicate granted outside the split brain
of a split-brain hazard, a query dropped after the heal, is a real failure whatever the bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from .expectations import PRECONDITIONS, KnownHazard
from .verdicts import FAIL, PASS, Verdict



class OutcomeStatus(StrEnum):
    """A drill's outcome; members are the strings the reports and archives have always held."""
    PASSED = "pass"
    FAILED = "fail"
    EXPECTED = "expected-failure"


PASSED, FAILED, EXPECTED = OutcomeStatus.PASSED, OutcomeStatus.FAILED, OutcomeStatus.EXPECTED


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus
    reasons: tuple[str, ...] = ()
    as_expected: tuple[str, ...] = ()  # the hazard's verdicts, when they failed as it says

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OutcomeStatus(self.status))

    @property
    def label(self) -> str:
        return {PASSED: "PASS", FAILED: "FAIL", EXPECTED: "FAIL, AS EXPECTED"}[self.status]


def decide(verdicts: Iterable[Verdict], error: str | None, hazard: KnownHazard | None) -> Outcome:
    verdicts = [v for v in verdicts if v.decides]
    bad = [f"{v.name}: {v.status}: {v.reason}" for v in verdicts if not v.ok]
    if error is not None:
        return Outcome(FAILED, (f"error: {error}", *bad))
    if hazard is None:
        return Outcome(FAILED, tuple(bad)) if bad else Outcome(PASSED)
    by_name = {v.name: v for v in verdicts}
    took_over = _took_over(verdicts)
    reasons = [f"{v.name}: {v.status}: {v.reason} (no hazard excuses it)"
               for v in verdicts if v.name in PRECONDITIONS and not v.ok]
    for name in hazard.fails:
        v = by_name.get(name)
        if v is None:
            reasons.append(f"{name}: the known hazard names it, but this drill did not judge it")
        elif v.status == PASS:
            reasons.append(f"{name}: passed, unexpectedly: the known hazard says it fails "
                           f"({hazard.why}); check the pair's expectations")
        elif v.status != FAIL:
            reasons.append(f"{name}: {v.status}, not the failure the known hazard states: {v.reason}")
        elif not excused(hazard, v, verdicts):
            reasons.append(f"{name}: {v.status}: {v.reason} ({hazard.breach(name, v.figure, took_over, v.outside)})")
    reasons += [f"{v.name}: {v.status}: {v.reason} ("
                + ("the known hazard excuses a failure, never an unknown" if v.name in hazard.may_fail
                   else "not a verdict the known hazard names") + ")"
                for v in verdicts if v.name not in hazard.fails and v.name not in PRECONDITIONS and not v.ok
                and not (v.name in hazard.may_fail and v.status == FAIL)]
    reasons += [f"{v.name}: {v.status}: {v.reason} ({hazard.breach(v.name, v.figure, took_over, v.outside)})"
                for v in verdicts
                if v.name in hazard.may_fail and v.status == FAIL and not excused(hazard, v, verdicts)]
    if reasons:
        return Outcome(FAILED, tuple(reasons))
    also = tuple(v.name for v in verdicts if v.name in hazard.may_fail and excused(hazard, v, verdicts))
    if not hazard.fails and not also:  # a hazard that strikes in some runs only did not strike in this one
        return Outcome(PASSED)
    return Outcome(EXPECTED, (f"known hazard: {hazard.why}",), tuple(hazard.fails) + also)


def _took_over(verdicts: Iterable[Verdict]) -> bool | None:
    """Whether a survivor took over in this run (None: the takeover verdict does not know)."""
    took = next((v for v in verdicts if v.name == "takeover"), None)
    return None if took is None or took.status not in (PASS, FAIL) else took.figure is not None


def excused(hazard: KnownHazard | None, v: Verdict, verdicts: Iterable[Verdict]) -> bool:
    """Whether ``v`` failed within what the known hazard excuses (named, and inside its bound):
    how the reports mark it, whatever else decided the drill's outcome."""
    return bool(hazard and v.status == FAIL and (v.name in hazard.fails or v.name in hazard.may_fail)
                and hazard.breach(v.name, v.figure, _took_over(verdicts), v.outside) is None)
