"""What a pair promises for one drill: the one schema of a ``[drills.<name>]`` table.

``Thresholds`` is that schema: the manifest's keys are its fields and their TOML types follow
from its type hints, so the loader and the verdicts cannot disagree about a key. Which verdict
reads which key is stated once, in ``NEEDS``: a verdict whose key the pair did not state is
"not judged" (shown, never deciding the outcome).
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field

ROLES = ("primary", "secondary")

# The verdicts a drill can judge, each with the manifest key it needs (None: judged always).
NEEDS: dict[str, str | None] = {
    "steady-state": None,
    "fault-effective": None,
    "takeover": "max_takeover_s",
    "takeover-predicted": None,
    "duplicates": None,
    "continuity": None,
    "reply-checksums": None,
    "state-transitions": "expect_states",
    "split-brain": None,
    "continuity-after-heal": None,
    "failback-sync": None,
    "expected-warnings": "expect_warnings",
    "heal-to-normal": "max_heal_to_normal_s",
    "new-lease-cap": "max_new_lease_s",
    "partner-pool-after-mclt": "mclt_s",
    "mclt-cap": "mclt_s",
    "client-outage": "max_outage_s",
    "lease-conflicts": None,
    "subnets": None,
    "load": "max_expired_leases",
    "service-held": None,  # max_service_gap_s, when stated, replaces the limit the pair's timers give
    "evidence-consistent": None,
}
# A drill whose lab or fault did not work, or whose evidence contradicts itself, proves nothing,
# so no hazard may excuse these.
PRECONDITIONS = ("steady-state", "fault-effective", "evidence-consistent")


@dataclass(frozen=True)
class Bound:
    """How far a verdict the hazard ``may_fail`` may fail: its figure at most (or, with
    ``at_least``, at least) the bound. ``per`` converts the bound to the figure's unit (a
    continuity bound is a fraction, as ``min_continuity`` is; its figure is a percentage);
    ``key`` is the pair's own limit for the verdict, which the bound must lie beyond."""

    what: str
    key: str | None
    unit: str = ""
    at_least: bool = False
    per: float = 1.0
    whole: bool = False

    def text(self, value: float) -> str:
        """``<= 2``, ``>= 80 %``, ``<= 20 s``: a bound as reports show it, in the figure's unit."""
        return f"{'>=' if self.at_least else '<='} {value * self.per:g}{' ' + self.unit if self.unit else ''}"


# The verdicts a hazard may break in some runs, with how badly; a verdict that measures harm in a
# figure is excused only within a stated bound. Takeover and continuity above all: an unbounded
# excuse would pass a survivor that never served or a pair that lost every client.
BOUNDS: dict[str, Bound] = {
    "takeover": Bound("seconds the takeover may take at worst", "max_takeover_s", "s"),
    "client-outage": Bound("seconds the longest client may wait at worst", "max_outage_s", "s"),
    "split-brain": Bound("seconds both servers may serve alone at worst", None, "s"),
    "heal-to-normal": Bound("seconds back to normal after the heal at worst", "max_heal_to_normal_s", "s"),
    "new-lease-cap": Bound("seconds the longest new lease may run at worst", "max_new_lease_s", "s"),
    "duplicates": Bound("addresses bound to two clients at most", "max_duplicates", whole=True),
    "load": Bound("steady leases that may expire unrenewed at most", "max_expired_leases", whole=True),
    "lease-conflicts": Bound("lease update conflicts at most", None, whole=True),
    "reply-checksums": Bound("replies with a bad checksum at most", None, whole=True),
    "continuity": Bound("share of clients that kept their address at worst (0-1)", "min_continuity", "%",
                        at_least=True, per=100.0),
    "continuity-after-heal": Bound("share of clients that kept their address after the heal at worst (0-1)",
                                   "min_continuity", "%", at_least=True, per=100.0),
}
# Verdicts with no figure of harm to bound: a hazard may name them in a plain list.
UNBOUNDED = ("state-transitions", "expected-warnings", "takeover-predicted")


@dataclass(frozen=True)
class KnownHazard:
    """An outcome the pair is known to get wrong in one drill: why, and which verdicts it breaks.

    The drill is then an expected failure only when every verdict in ``fails`` fails and every
    other judged verdict passes; any other result is a real failure. ``may_fail`` names verdicts
    the hazard can break in some runs and not others (split brain hands an address to two
    clients only when two clients happen to ask in the wrong order): they may pass, or fail no
    worse than their ``bounds`` (``may_fail = { duplicates = 2 }``). With ``fails`` empty the
    hazard strikes in some runs only: a run it spared passes."""

    why: str
    fails: tuple[str, ...]
    may_fail: tuple[str, ...] = ()
    bounds: dict[str, float] = field(default_factory=dict)

    def breach(self, name: str, figure: float | None) -> str | None:
        """Why a failed ``may_fail`` verdict is beyond what the hazard excuses (None: within)."""
        bound = BOUNDS.get(name)
        if name not in self.bounds or bound is None:
            return None if name in UNBOUNDED else "the known hazard states no bound for it"
        limit, said = self.bounds[name] * bound.per, bound.text(self.bounds[name])
        if figure is None:
            return f"nothing was measured, so it cannot be shown within the known hazard's bound {said}"
        if (figure < limit) if bound.at_least else (figure > limit):
            return f"{figure:g} is beyond the known hazard's bound {said}"
        return None

    def describe(self) -> str:
        """``why (fails: a, b; may fail: c <= 2)``, as reports and the catalogue show it."""
        may = [f"{n} {BOUNDS[n].text(self.bounds[n])}" if n in self.bounds else n for n in self.may_fail]
        parts = ([f"fails: {', '.join(self.fails)}"] if self.fails else []) + \
            ([f"may fail: {', '.join(may)}"] if may else [])
        return f"{self.why} ({'; '.join(parts)})"


@dataclass(frozen=True)
class Thresholds:
    """What a pair promises for one drill; read from the pair's manifest, never from code.

    ``expect_states`` lists, per role, HA states that role must pass through after the fault, in
    order (an empty list: no change at all)."""

    max_takeover_s: float
    max_duplicates: int = 0
    min_continuity: float = 1.0
    expect_states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    known_hazard: KnownHazard | None = None
    max_outage_s: float | None = None
    expect_warnings: tuple[str, ...] = ()
    max_heal_to_normal_s: float | None = None
    max_new_lease_s: float | None = None
    mclt_s: float | None = None
    max_expired_leases: int | None = None  # steady clients whose lease may expire unrenewed after the fault
    max_service_gap_s: float | None = None  # how long any client may wait once the survivor serves (else timers.py's)
    to_suite: str | None = None  # a drill parameter, not a limit: the suite a rolling upgrade moves to

    def states(self, key: str) -> bool:
        """Did the pair state ``key`` (as opposed to leaving the default)?"""
        value = getattr(self, key)
        return value is not None and value != () and value != {}


def _toml_type(hint: typing.Any) -> tuple[type, ...]:
    if isinstance(hint, types.UnionType):  # X | None: the manifest gives X or leaves it out
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    base = typing.get_origin(hint) or hint
    return {float: (int, float), int: (int,), str: (str,), dict: (dict,), tuple: (list,), KnownHazard: (dict,)}[base]


KEY_TYPES: dict[str, tuple[type, ...]] = {name: _toml_type(hint)
                                          for name, hint in typing.get_type_hints(Thresholds).items()}


def problems_of(table: dict) -> list[tuple[str, str, str]]:
    """(key, what is wrong, fix) for every problem in one ``[drills.<name>]`` table."""
    out: list[tuple[str, str, str]] = []
    for key in table.keys() - KEY_TYPES.keys():
        out.append((key, "unknown key", f"remove it; known keys: {', '.join(KEY_TYPES)}"))
    if "max_takeover_s" not in table:
        out.append(("max_takeover_s", "missing", "add max_takeover_s = ... (seconds a takeover may take)"))
    for key, kinds in KEY_TYPES.items():
        value = table.get(key)
        if key not in table:
            continue
        if key == "known_hazard" and isinstance(value, str):
            out.append((key, "a plain string does not say which verdicts the hazard breaks",
                        f'write known_hazard = {{ why = "{value[:40]}…", fails = ["split-brain", …] }}'))
        elif not isinstance(value, kinds) or isinstance(value, bool):
            want = "a number" if kinds == (int, float) else kinds[0].__name__
            out.append((key, f"has the wrong type ({type(value).__name__})", f"give {want}"))
        elif isinstance(value, float) and not math.isfinite(value):
            out.append((key, f"is {value}", "give a finite number"))
        elif key == "max_service_gap_s" and value <= 0:
            out.append((key, f"is {value}: no client is answered in no time",
                        "give the seconds a client may wait once the survivor serves, or leave it out"))
    return out


def hazard_problems(hazard: dict, judged: set[str], verdict_names: typing.Iterable[str] = NEEDS,
                    table: dict | None = None) -> list[tuple[str, str, str]]:
    """Problems of a ``known_hazard = { why, fails, may_fail }`` table; ``judged`` are the keys the
    pair states, ``table`` the drill's whole table (the limits a ``may_fail`` bound must exceed)."""
    out = []
    for key in hazard.keys() - {"why", "fails", "may_fail"}:
        out.append((f"known_hazard.{key}", "unknown key", "give only why, fails and may_fail"))
    if not isinstance(hazard.get("why"), str) or not hazard.get("why"):
        out.append(("known_hazard.why", "missing", 'say why the pair fails this drill: why = "..."'))
    fails = hazard.get("fails")
    names = list(verdict_names)
    may = hazard.get("may_fail", [])
    if isinstance(may, dict):
        out += _bound_problems(may, table or {})
        may = list(may)
    elif not isinstance(may, list) or not all(isinstance(f, str) for f in may):
        out.append(("known_hazard.may_fail", "must list verdict names, or map each to its bound",
                    'e.g. may_fail = { duplicates = 2 } or may_fail = ["state-transitions"]'))
        may = []
    else:
        for name in may:
            if name in BOUNDS:
                out.append(("known_hazard.may_fail", f"excuses {name} without a bound",
                            f"say how badly the hazard may break it: may_fail = {{ {_key(name)} = N }} "
                            f"({BOUNDS[name].what}), from the worst run recorded"))
    if not isinstance(fails, list) or not (fails or may) or not all(isinstance(f, str) for f in fails):
        out.append(("known_hazard.fails", "must list the verdicts the hazard breaks (or give fails = [] "
                    "and may_fail, for a hazard that strikes in some runs only)",
                    f'e.g. fails = ["split-brain"]; verdicts: {", ".join(names)}'))
        return out
    for name in [*fails, *may]:
        if name in PRECONDITIONS:
            out.append(("known_hazard", f"names {name}, which no hazard may excuse",
                        "a drill whose clients never leased or whose fault did not bite proves nothing"))
        elif name not in NEEDS:
            out.append(("known_hazard", f"names {name!r}, which is no verdict",
                        f"use verdict names: {', '.join(names)}"))
        elif NEEDS[name] and NEEDS[name] not in judged:
            out.append(("known_hazard", f"names {name}, but the table states no {NEEDS[name]}",
                        f"add {NEEDS[name]} so {name} is judged, or drop it from the hazard"))
        elif name in may and name not in BOUNDS and name not in UNBOUNDED:
            out.append(("known_hazard.may_fail", f"names {name}, which has no bound a hazard can state",
                        f"list it in fails if the hazard breaks it in every run; may_fail takes "
                        f"{', '.join([*BOUNDS, *UNBOUNDED])}"))
    overlap = sorted(set(fails) & set(may))
    if overlap:
        out.append(("known_hazard.may_fail", f"repeats {', '.join(overlap)} from fails",
                    "a verdict either always fails (fails) or sometimes does (may_fail)"))
    return out


def _key(name: str) -> str:
    return name if name.replace("_", "").isalnum() else f'"{name}"'


def _bound_problems(may: dict, table: dict) -> list[tuple[str, str, str]]:
    """A ``may_fail`` table's bounds: a number for each verdict with a figure of harm, beyond the
    pair's own limit for it (a bound inside the limit excuses nothing) and short of excusing
    everything (a continuity of 0 would excuse losing every client)."""
    out = []
    defaults = {f.name: f.default for f in dataclasses.fields(Thresholds)}
    for name, value in may.items():
        where = f"known_hazard.may_fail.{name}"
        bound = BOUNDS.get(name)
        if bound is None:
            if name in UNBOUNDED and value is not True:
                out.append((where, "has no figure to bound", f"write {_key(name)} = true"))
            continue  # a name that is no verdict, or one no hazard may excuse, is named below
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            out.append((where, "must be a number", f"give {bound.what}, e.g. {_key(name)} = "
                                                   f"{0.9 if bound.at_least else 2}"))
            continue
        if bound.whole and not isinstance(value, int):
            out.append((where, f"{value} is not a whole number", f"give {bound.what}"))
            continue
        limit = table.get(bound.key, defaults.get(bound.key)) if bound.key else 0
        limit = 0 if limit is None or isinstance(limit, bool) or not isinstance(limit, (int, float)) else limit
        if bound.at_least and not 0 < value < limit:
            out.append((where, f"{value:g} " + ("excuses losing every client" if value <= 0 else
                                                f"excuses nothing below {bound.key} {limit:g}"),
                        f"give the worst share the hazard was seen to leave, above 0 and below {limit:g}"))
        elif not bound.at_least and value <= limit:
            out.append((where, f"{value:g} excuses nothing beyond " + (f"{bound.key} {limit:g}" if bound.key
                                                                       else "0"),
                        f"give {bound.what}, above {limit:g}, from the worst run recorded"))
    return out
