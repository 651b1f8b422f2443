"""Go / no-go before a maintenance window: the drills a team must see pass before it touches a
server of the pair, each run several times, summed up in one line.

    pytest drills/ --pair PATH --go-no-go [--repeat N] [--accept-hazard PAIR/DRILL ...]

GO only when every run of every must-pass drill of every pair ran and passed. A run that failed,
that failed as a known hazard says (a known hazard is a reason not to go, however well
understood), that errored, or a run that never happened (interrupted, skipped, its lab
unavailable) is a NO-GO reason naming that run: missing evidence never reads as GO, and no
option turns a failed run into a GO. A must-pass drill whose pair declares a ``known_hazard``
that spared every run is NO-GO too, unless the run accepts that hazard by name
(``--accept-hazard PAIR/DRILL``): the acceptance is written into the line, the HTML, the JUnit
and the evidence archive's manifest.

Each must-pass drill runs ``DEFAULT_REPEAT`` = 3 times unless ``--repeat N`` says otherwise. One
run is one sample: Kea 2.2 HA+MT load-balancing drops its partner's scope after kill-primary in
about 1 run in 8 measured here (two threads logging LOAD-BALANCING -> PARTNER-DOWN in the same
millisecond), so a single run misses it 7 times in 8. N runs catch a 1-in-8 fault with
probability 1 - (7/8)^N: 12.5 % at 1, 33 % at 3, 49 % at 5, 95 % only at 23. A Kea go/no-go is 3
drills of ~60-100 s, so each round costs 3-5 min: 3 rounds (9-15 min) still fit the evening before
a window and triple the chance of seeing such a fault; 23 rounds (~1.5 h) do not. Catching rare
faults is the scheduled runs' work (``--repeat`` in CI, rates across runs with
``dhcpdrill-figures``); the line always says how many runs it rests on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .expectations import OPTION, Acceptance
from .outcome import EXPECTED, PASSED
from .problems import Problem
from .report import figure_spread, pair_key, repetitions

if TYPE_CHECKING:
    from .runrecord import DrillResult
    from .manifest import Pair

# Unplanned loss of the primary, the planned handover a maintenance window starts with, and the
# hand-back it ends with. dhcpd has no maintenance command: its planned stop is the first half of
# failback (the partner serves, then the restarted primary takes its clients back).
MUST_PASS = {"kea": ("kill-primary", "maintenance-handoff", "failback"), "isc-dhcp": ("kill-primary", "failback")}
FILE_NAME = "go-no-go.txt"
DEFAULT_REPEAT = 3  # runs of each must-pass drill; why 3: the module's docstring


def must_pass(pair: "Pair") -> tuple[str, ...]:
    return MUST_PASS[pair.server]


def declared_hazards(pairs: Iterable["Pair"]) -> list[str]:
    """``PAIR/DRILL`` for every must-pass drill that declares a known hazard a run may spare."""
    return [f"{pair.name}/{name}" for pair in pairs for name in must_pass(pair)
            if name in pair.drills and pair.drills[name].known_hazard and not pair.drills[name].known_hazard.fails]


def acceptances(texts: list[str], pairs: list["Pair"]) -> tuple[list[Acceptance], list[str]]:
    """The ``--accept-hazard`` values as acceptances, and one problem (with the fix) for each
    that names no hazard a must-pass drill of these pairs declares."""
    by_name = {pair.name: pair for pair in pairs}
    declared = declared_hazards(pairs)
    fix = (f"the must-pass drills here that declare one: {', '.join(declared)}" if declared else
           "no must-pass drill of these pairs declares one") + f"; or drop {OPTION}"
    accepted, problems = [], []
    for text in texts:
        name, slash, drill = text.strip().rpartition("/")
        pair = by_name.get(name)
        where = f"{OPTION} {text}"
        if not slash or not name or not drill:
            problems.append(f"{where}: give PAIR/DRILL (the pair's [pair] name, a must-pass drill), "
                            f"e.g. {declared[0] if declared else 'kea-load-balancing/failback'}")
        elif pair is None:
            problems.append(f"{where}: no pair named {name!r} is drilled in this run ({', '.join(by_name)}); {fix}")
        elif drill not in must_pass(pair):
            problems.append(f"{where}: {drill!r} is not a must-pass drill of {name} ({', '.join(must_pass(pair))}): "
                            f"only their hazards decide the go/no-go; {fix}")
        elif drill not in pair.drills or pair.drills[drill].known_hazard is None:
            problems.append(f"{where}: {pair.folder / 'pair.toml'} declares no known_hazard in "
                            f"[drills.{drill}]: there is nothing to accept; {fix}")
        elif pair.drills[drill].known_hazard.fails:
            hazard = pair.drills[drill].known_hazard
            problems.append(f"{where}: its known hazard fails every run (fails = {list(hazard.fails)}): a "
                            f"must-pass drill that fails is NO-GO whatever is accepted; {fix}")
        else:
            accepted.append(Acceptance(name, drill, pair.drills[drill].known_hazard.describe()))
    return accepted, problems


@dataclass(frozen=True)
class Decision:
    go: bool
    passed: tuple[str, ...]   # "pair / drill passed (key figures)"
    reasons: tuple[str, ...]  # why not, one per run that did not pass and per drill short of a GO
    passed_drills: tuple[str, ...] = ()  # "pair / drill", for the NO-GO line
    repeat: int = 1  # runs of each drill asked for: what the line rests on
    accepted: tuple[Acceptance, ...] = ()

    @property
    def line(self) -> str:
        basis = f"({self.repeat} run{'s' if self.repeat != 1 else ''} of each drill)"
        if self.go:
            return f"GO {basis}: " + "; ".join(self.passed)
        also = f" (passed: {', '.join(self.passed_drills)})" if self.passed_drills else ""
        return f"NO-GO {basis}: " + "; ".join(self.reasons) + also


def missing_drills(pairs: list["Pair"]) -> list[Problem]:
    """Must-pass drills a pair states no expectations for: the go/no-go cannot be earned then."""
    return [Problem(str(pair.folder / "pair.toml"), f"drills.{name}", "missing: a go/no-go needs it",
                    f"add a [drills.{name}] table with the thresholds this pair must meet "
                    "(`pytest drills/ --drill-catalogue` lists the keys it reads)")
            for pair in pairs for name in must_pass(pair) if name not in pair.drills]


def _run_failed(where: str, number: int, count: int, r: "DrillResult") -> str:
    """Why one run is a NO-GO reason, naming the run (and its evidence folder) when there were several."""
    which = f"{where} run {number} of {count} ({r.run_dir.name})" if count > 1 else where
    outcome = r.outcome
    if outcome.status == EXPECTED:
        return f"{which} failed as its known hazard says ({r.hazard.why}): {', '.join(outcome.as_expected)}"
    why = outcome.reasons[0] if outcome.reasons else "no reason recorded"
    more = f" (and {len(outcome.reasons) - 1} more)" if len(outcome.reasons) > 1 else ""
    return f"{which} FAILED: {why}{more}"


def decide(pairs: list["Pair"], results: list["DrillResult"], repeat: int = 1,
           accepted: Iterable[Acceptance] = ()) -> Decision:
    """GO or NO-GO from the drills that ran: each must-pass drill of each pair needs ``repeat``
    runs, every one a PASS, and a hazard its pair declares for it accepted by name. Runs are tied
    to a pair by its config hash (``report.pair_key``), never by its name: another pair folder
    under the same name is not this pair."""
    accepted = tuple(accepted)
    taken = {(a.pair, a.drill) for a in accepted}
    by_drill = repetitions(results)
    passed, reasons, names = [], [], []
    for pair in pairs:
        for name in must_pass(pair):
            runs = by_drill.get((pair_key(pair), name), [])
            where = f"{pair.name} / {name}"
            if not runs:
                reasons.append(f"{where} did not run (interrupted, skipped or its lab was unavailable)")
                continue
            failed = [_run_failed(where, i, len(runs), r) for i, r in enumerate(runs, 1)
                      if r.outcome.status != PASSED]
            reasons += failed
            if len(runs) < repeat:
                reasons.append(f"{where} ran {len(runs)} of the {repeat} runs asked (the others were interrupted, "
                               "skipped or their lab was unavailable)")
            if failed or len(runs) < repeat:
                continue
            figures = ", ".join(figure_spread(runs))
            count = f" {len(runs)} of {len(runs)} runs" if len(runs) > 1 else ""
            hazard = pair.drills[name].known_hazard if name in pair.drills else None
            if hazard and (pair.name, name) not in taken:
                reasons.append(f"{where} passed{count}, but its pair declares a known hazard a run may spare "
                               f"({hazard.describe()}): NO-GO unless the run accepts it by name, "
                               f"{OPTION} {pair.name}/{name}")
                continue
            accepting = f", its known hazard accepted ({OPTION} {pair.name}/{name}: {hazard.describe()})" \
                if hazard else ""
            passed.append(f"{where} passed{count}" + (f" ({figures})" if figures else "") + accepting)
            names.append(where)
    return Decision(not reasons and bool(passed), tuple(passed), tuple(reasons) or (() if passed else ("no drill ran",)),
                    tuple(names), repeat, accepted)
