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
BACKUP = "backup"  # a Kea HA backup server: receives lease updates, serves no client (``files.backup``)

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
    "partner-share-held": None,  # the service-held limit, for the untouched server's own clients
    "service-held": None,  # max_service_gap_s, when stated, replaces the limit the pair's timers give
    "evidence-consistent": None,
    "naks": None,  # max_naks, 0 unless stated, as duplicates' max_duplicates
    "tail-relearned": None,
    "dropped-queries": "max_dropped_queries",
    "backup-updated": None,  # the backup's lease file holds what was granted: none missing
    # one per real client daemon (realclients.py), judged only in drills run with them
    "real-dhclient": None,
    "real-dhcpcd": None,
    "real-udhcpc": None,
    "real-systemd-networkd": None,
    "lease-sync-gap": "max_lease_sync_gap_s",
}
# A drill whose lab or fault did not work, or whose evidence contradicts itself, proves nothing,
# so no hazard may excuse these.
PRECONDITIONS = ("steady-state", "fault-effective", "evidence-consistent")


@dataclass(frozen=True)
class Bound:
    """How far a verdict a known hazard excuses may fail: its figure at most (or, with
    ``at_least``, at least) the bound. ``per`` converts the bound to the figure's unit (a
    continuity bound is a fraction, as ``min_continuity`` is; its figure is a percentage);
    ``key`` is the pair's own limit for the verdict, which the bound must lie beyond (``limit``
    when no key states it). ``step`` is how finely the verdict rounds its figure: a figure is
    within the bound only if every value it may stand for is (79.96 % reads 80.0 %)."""

    what: str
    key: str | None
    unit: str = ""
    at_least: bool = False
    per: float = 1.0
    whole: bool = False
    limit: float = 0.0
    step: float = 0.0
    zero: str = "excuses any failure"  # what an at-least bound of 0 would excuse
    # what of the figure no hazard excuses, whatever the bound (``Verdict.outside``), in words
    outside: str = ""

    def text(self, value: float) -> str:
        """``<= 2``, ``>= 80 %``, ``<= 20 s``: a bound as reports show it, in the figure's unit."""
        return f"{'>=' if self.at_least else '<='} {value * self.per:g}{' ' + self.unit if self.unit else ''}"


_SHARE = dict(unit="%", at_least=True, per=100.0, step=0.1)
# The verdicts a hazard may break, with how badly: a verdict that measures harm in a figure is
# excused only within a stated bound, in fails as in may_fail. Takeover and continuity above all:
# an unbounded excuse would pass a survivor that never served or a pair that lost every client.
BOUNDS: dict[str, Bound] = {
    "takeover": Bound("seconds the takeover may take at worst", "max_takeover_s", "s", step=0.001),
    "client-outage": Bound("seconds the longest client may wait at worst", "max_outage_s", "s", step=0.01),
    "service-held": Bound("seconds the longest client may wait once the survivor serves, at worst",
                          "max_service_gap_s", "s", step=0.01),
    "partner-share-held": Bound("seconds the longest client of the untouched server's own share may wait, at worst",
                                "max_service_gap_s", "s", step=0.01),
    "split-brain": Bound("seconds both servers may serve alone at worst", None, "s", step=0.01),
    "heal-to-normal": Bound("seconds back to normal after the heal at worst", "max_heal_to_normal_s", "s",
                            step=0.01),
    "new-lease-cap": Bound("seconds the longest new lease may run at worst", "max_new_lease_s", "s"),
    "mclt-cap": Bound("seconds a lease may end past what the partner acknowledged, at worst", "mclt_s", "s",
                      step=0.1),
    "partner-pool-after-mclt": Bound("seconds after partner-down the first grant of a partner's address may "
                                     "come, at the earliest", "mclt_s", "s", at_least=True, step=0.01,
                                     zero="excuses granting the partner's addresses at once"),
    "duplicates": Bound("addresses bound to two clients at most", "max_duplicates", whole=True,
                        outside="address(es) granted twice outside the split brain, which a split-brain hazard "
                                "cannot have caused"),
    "naks": Bound("clients refused with a NAK they should not have had, at most", "max_naks", whole=True),
    "load": Bound("steady leases that may expire unrenewed at most", "max_expired_leases", whole=True),
    "dropped-queries": Bound("client queries no server answered at most", "max_dropped_queries", whole=True,
                             outside="quer(ies) dropped after the heal began, when the fault the hazard "
                                     "describes was gone"),
    "lease-sync-gap": Bound("seconds a client may go unanswered while a lease sync holds a server's service off, "
                            "at worst", "max_lease_sync_gap_s", "s", step=0.01),
    "lease-conflicts": Bound("lease update conflicts at most", None, whole=True),
    "reply-checksums": Bound("replies with a bad checksum at most", None, whole=True),
    "backup-updated": Bound("granted leases the backup's file may lack at most", None, whole=True),
    "subnets": Bound("subnets whose clients may get a wrong address or no answer, at most", None, whole=True),
    "continuity": Bound("share of clients that kept their address at worst (0-1)", "min_continuity",
                        zero="excuses losing every client", **_SHARE),
    "continuity-after-heal": Bound("share of clients that kept their address after the heal at worst (0-1)",
                                   "min_continuity", zero="excuses losing every client", **_SHARE),
    "tail-relearned": Bound("share of the live leases a crash cut from the lease file that the returning server "
                            "knows, at worst (0-1)", None, limit=1.0,
                            zero="excuses a returning server that knows none of them", **_SHARE),
    **{f"real-{kind}": Bound(f"seconds the real {kind} may go without a usable address at worst", None, "s",
                             step=0.01) for kind in ("dhclient", "dhcpcd", "udhcpc", "systemd-networkd")},
    "failback-sync": Bound("share of the leases granted during the outage the returning server knows, at worst "
                           "(0-1)", None, limit=1.0, zero="excuses a returning server that knows none of them",
                           **_SHARE),
}
# Verdicts with no figure of harm to bound: a hazard names them plainly (a list, or ``= true``).
UNBOUNDED = ("state-transitions", "expected-warnings", "takeover-predicted")
# A hazard whose statement is "nobody takes over" says exactly that, in place of a bound:
# ``takeover = "none"`` is excused only when no survivor took over at all (a takeover that came,
# however late, is a real failure), and ``client-outage = "no-takeover"`` only in such a run,
# where clients of the lost server may wait the whole window.
NO_TAKEOVER = {"takeover": "none", "client-outage": "no-takeover"}


@dataclass(frozen=True)
class KnownHazard:
    """An outcome the pair is known to get wrong in one drill: why, and which verdicts it breaks.

    The drill is then an expected failure only when every verdict in ``fails`` failed, no worse
    than its bound, and every other judged verdict passed; any other result is a real failure.
    ``may_fail`` names verdicts the hazard can break in some runs and not others (split brain
    hands an address to two clients only when two clients happen to ask in the wrong order):
    they may pass, or fail no worse than their bound. ``bounds`` holds both lists' bounds
    (``fails = { split-brain = 25 }``, ``may_fail = { duplicates = 2 }``), or the words of
    ``NO_TAKEOVER``. With ``fails`` empty the hazard strikes in some runs only: a run it spared passes."""

    why: str
    fails: tuple[str, ...]
    may_fail: tuple[str, ...] = ()
    bounds: dict[str, float | str] = field(default_factory=dict)

    def breach(self, name: str, figure: float | None, took_over: bool | None = None,
               outside: int = 0) -> str | None:
        """Why a failed verdict of the hazard is beyond what it excuses (None: within).
        ``took_over``: whether a survivor took over in this run (None: not known); ``outside``:
        how much of the figure lies where the hazard cannot have caused it, which no bound excuses."""
        bound, said = BOUNDS.get(name), self.bounds.get(name)
        if outside and bound is not None:
            return (f"{outside} {bound.outside or 'of it outside what the hazard describes'}: no known hazard "
                    "excuses them, whatever its bound (the verdict names them)")
        if isinstance(said, str):
            return self._no_takeover(name, said, figure, took_over)
        if said is None or bound is None:
            return None if name in UNBOUNDED else "the known hazard states no bound for it"
        limit, text = said * bound.per, bound.text(said)
        if figure is None:
            return f"nothing was measured, so it cannot be shown within the known hazard's bound {text}"
        if (figure < limit) if bound.at_least else (figure > limit):
            return f"{figure:g} is beyond the known hazard's bound {text}"
        worst = figure - bound.step / 2 if bound.at_least else figure + bound.step / 2
        if not math.isclose(worst, limit) and ((worst < limit) if bound.at_least else (worst > limit)):
            return (f"{figure:g} is rounded to {bound.step:g} and may stand for {worst:g}, beyond the known "
                    f"hazard's bound {text}")
        return None

    @staticmethod
    def _no_takeover(name: str, said: str, figure: float | None, took_over: bool | None) -> str | None:
        if NO_TAKEOVER.get(name) != said:
            return f"the known hazard's {said!r} is no bound for it"
        if name == "takeover":
            return None if figure is None else (f"a survivor took over {figure:g} s after the fault; the known hazard "
                                                "says none does, and a late takeover is not what it excuses")
        if took_over is False:
            return None
        return ("a survivor took over, so this is not the outage the known hazard states (no takeover at all)"
                if took_over else "no takeover verdict shows that nobody took over, as the known hazard states")

    def said(self, name: str) -> str:
        """``split-brain <= 25 s``, ``takeover (none at all)``: one verdict as the hazard excuses it."""
        value = self.bounds.get(name)
        if name == "takeover" and value == NO_TAKEOVER[name]:
            return "takeover (none at all)"
        if name == "client-outage" and value == NO_TAKEOVER[name]:
            return "client-outage (up to the whole window, with no takeover)"
        if name not in BOUNDS or value is None:
            return name
        return f"{name} {BOUNDS[name].text(value)}{self._where(name)}"

    def _where(self, name: str) -> str:
        """Where the bound counts (``Verdict.outside``: the rest is never excused)."""
        if name == "duplicates" and "split-brain" in (*self.fails, *self.may_fail):
            return " inside the split brain"
        return " before the heal" if name == "dropped-queries" else ""

    def describe(self) -> str:
        """``why (fails: a <= 25 s, b; may fail: c <= 2)``, as reports and the catalogue show it."""
        parts = ([f"fails: {', '.join(map(self.said, self.fails))}"] if self.fails else []) + \
            ([f"may fail: {', '.join(map(self.said, self.may_fail))}"] if self.may_fail else [])
        return f"{self.why} ({'; '.join(parts)})"

    @classmethod
    def from_table(cls, table: dict) -> "KnownHazard":
        """From a ``known_hazard`` table that ``hazard_problems`` found sound."""
        fails, may = table["fails"], table.get("may_fail", [])
        bounds = {n: v for part in (fails, may) if isinstance(part, dict)
                  for n, v in part.items() if not isinstance(v, bool)}
        return cls(table["why"], tuple(fails), tuple(may), bounds)


OPTION = "--accept-hazard"  # how a go/no-go accepts a declared hazard by name


@dataclass(frozen=True)
class Acceptance:
    """A go/no-go's acceptance of the known hazard a pair declares for a must-pass drill."""
    pair: str
    drill: str
    hazard: str  # as the pair declares it (``KnownHazard.describe``)

    @property
    def spelling(self) -> str:
        return f"{self.pair}/{self.drill}"

    @property
    def text(self) -> str:
        """What the line, the reports and the archive record: ``--accept-hazard p/d: why (may fail: …)``."""
        return f"{OPTION} {self.spelling}: {self.hazard}"

    def record(self) -> dict[str, str]:
        return {"pair": self.pair, "drill": self.drill, "hazard": self.hazard, "option": f"{OPTION} {self.spelling}"}


@dataclass(frozen=True)
class Thresholds:
    """What a pair promises for one drill; read from the pair's manifest, never from code.

    ``expect_states`` lists, per role, HA states that role must pass through after the fault, in
    order (an empty list: no change at all)."""

    max_takeover_s: float
    max_duplicates: int = 0
    max_naks: int = 0  # clients a server may refuse (DHCPNAK) though it should have served them
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
    max_dropped_queries: int | None = None  # client queries after the fault that no server may leave unanswered
    max_lease_sync_gap_s: float | None = None  # how long a client may go unanswered while a sync holds service off
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
                        f'write known_hazard = {{ why = "{value[:40]}…", fails = {{ split-brain = N, … }} }}'))
        elif not isinstance(value, kinds) or isinstance(value, bool):
            want = "a number" if kinds == (int, float) else kinds[0].__name__
            out.append((key, f"has the wrong type ({type(value).__name__})", f"give {want}"))
        elif isinstance(value, float) and not math.isfinite(value):
            out.append((key, f"is {value}", "give a finite number"))
        elif key == "max_lease_sync_gap_s" and value <= 0:
            out.append((key, f"is {value}: a sync with both servers' service off cannot take no time",
                        "give the seconds a client may go unanswered during the heal's lease sync, e.g. 10"))
        elif key == "max_service_gap_s" and value <= 0:
            out.append((key, f"is {value}: no client is answered in no time",
                        "give the seconds a client may wait once the survivor serves, or leave it out"))
    return out


def hazard_problems(hazard: dict, judged: set[str], verdict_names: typing.Iterable[str] = NEEDS,
                    table: dict | None = None) -> list[tuple[str, str, str]]:
    """Problems of a ``known_hazard = { why, fails, may_fail }`` table; ``judged`` are the keys the
    pair states, ``table`` the drill's whole table (the limits a bound must exceed). ``fails`` and
    ``may_fail`` each list verdicts without a figure, or map every verdict to its bound."""
    out = []
    for key in hazard.keys() - {"why", "fails", "may_fail"}:
        out.append((f"known_hazard.{key}", "unknown key", "give only why, fails and may_fail"))
    if not isinstance(hazard.get("why"), str) or not hazard.get("why"):
        out.append(("known_hazard.why", "missing", 'say why the pair fails this drill: why = "..."'))
    names = list(verdict_names)
    fails = _part(hazard.get("fails"), "fails", table or {}, out)
    may = _part(hazard.get("may_fail", []), "may_fail", table or {}, out)
    if fails is None or not (fails or may):
        out.append(("known_hazard.fails", "must list the verdicts the hazard breaks (or give fails = [] "
                    "and may_fail, for a hazard that strikes in some runs only)",
                    f'e.g. fails = {{ split-brain = 25 }} or fails = ["state-transitions"]; verdicts: '
                    f'{", ".join(names)}'))
        return out
    may = may or []
    for name in [*fails, *may]:
        if name in PRECONDITIONS:
            out.append(("known_hazard", f"names {name}, which no hazard may excuse",
                        "a drill whose clients never leased, whose fault did not bite or whose evidence "
                        "contradicts itself proves nothing"))
        elif name not in NEEDS:
            out.append(("known_hazard", f"names {name!r}, which is no verdict",
                        f"use verdict names: {', '.join(names)}"))
        elif NEEDS[name] and NEEDS[name] not in judged:
            out.append(("known_hazard", f"names {name}, but the table states no {NEEDS[name]}",
                        f"add {NEEDS[name]} so {name} is judged, or drop it from the hazard"))
    words = {n: v for part in (hazard.get("fails"), hazard.get("may_fail")) if isinstance(part, dict)
             for n, v in part.items()}
    if words.get("client-outage") == NO_TAKEOVER["client-outage"] and words.get("takeover") != NO_TAKEOVER["takeover"]:
        out.append(("known_hazard", 'excuses client-outage = "no-takeover" but not takeover = "none"',
                    'a client outage is excused for want of a takeover only when the hazard says none comes: '
                    'add takeover = "none", or give client-outage its bound in seconds'))
    overlap = sorted(set(fails) & set(may))
    if overlap:
        out.append(("known_hazard.may_fail", f"repeats {', '.join(overlap)} from fails",
                    "a verdict either always fails (fails) or sometimes does (may_fail)"))
    return out


def _part(value: object, part: str, table: dict, out: list[tuple[str, str, str]]) -> list[str] | None:
    """The verdict names of ``fails`` or ``may_fail`` (None: malformed), adding its problems to ``out``:
    a list may name only verdicts without a figure; a table gives each its bound."""
    if isinstance(value, dict):
        out += _bound_problems(value, table, part)
        return list(value)
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        out.append((f"known_hazard.{part}", "must list verdict names, or map each to its bound",
                    f'e.g. {part} = {{ duplicates = 2 }} or {part} = ["state-transitions"]'))
        return None
    for name in value:
        if name in BOUNDS:
            words = f', or {_key(name)} = "{NO_TAKEOVER[name]}" {_NO_TAKEOVER_SAYS[name]}' if name in NO_TAKEOVER else ""
            rest = "".join(f", {_key(n)} = true" for n in value if n in UNBOUNDED)
            out.append((f"known_hazard.{part}", f"excuses {name} without a bound",
                        f"say how badly the hazard may break it: {part} = {{ {_key(name)} = N{rest} }} "
                        f"({BOUNDS[name].what}), no less than the worst run recorded{words}"))
    return list(value)


_NO_TAKEOVER_SAYS = {"takeover": "when the hazard is that no survivor ever takes over",
                     "client-outage": 'beside takeover = "none", when clients wait because nobody takes over'}


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else f'"{name}"'


def _bound_problems(bounds: dict, table: dict, part: str = "may_fail") -> list[tuple[str, str, str]]:
    """A ``fails`` or ``may_fail`` table's bounds: a number for each verdict with a figure of harm,
    beyond the pair's own limit for it (a bound inside the limit excuses nothing) and short of
    excusing everything (a continuity of 0 would excuse losing every client); ``true`` for a
    verdict without a figure; the words of ``NO_TAKEOVER`` for those that take them."""
    out = []
    defaults = {f.name: f.default for f in dataclasses.fields(Thresholds)}
    for name, value in bounds.items():
        where = f"known_hazard.{part}.{name}"
        bound = BOUNDS.get(name)
        if isinstance(value, str) and name in NO_TAKEOVER:
            if value != NO_TAKEOVER[name]:
                out.append((where, f"{value!r} is no bound", f'give {bound.what} as a number, or "{NO_TAKEOVER[name]}" '
                                                             f"{_NO_TAKEOVER_SAYS[name]}"))
            continue
        if bound is None:
            if name in UNBOUNDED and value is not True:
                out.append((where, "has no figure to bound", f"write {_key(name)} = true"))
            continue  # a name that is no verdict, or one no hazard may excuse, is named by the caller
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            words = f', or "{NO_TAKEOVER[name]}" {_NO_TAKEOVER_SAYS[name]}' if name in NO_TAKEOVER else ""
            out.append((where, "must be a number", f"give {bound.what}, e.g. {_key(name)} = "
                                                   f"{0.9 if bound.at_least and bound.per != 1 else 2}{words}"))
            continue
        if bound.whole and not isinstance(value, int):
            out.append((where, f"{value} is not a whole number", f"give {bound.what}"))
            continue
        limit = table.get(bound.key, defaults.get(bound.key)) if bound.key else bound.limit
        limit = bound.limit if limit is None or isinstance(limit, bool) or not isinstance(limit, (int, float)) else limit
        own = f"{bound.key} {limit:g}" if bound.key else f"{limit * bound.per:g}{' ' + bound.unit if bound.unit else ''}"
        if bound.at_least and not 0 < value < limit:
            out.append((where, f"{value:g} " + (bound.zero if value <= 0 else f"excuses nothing below {own}"),
                        f"give the worst the hazard was seen to leave, above 0 and below {limit:g}"))
        elif not bound.at_least and value <= limit:
            out.append((where, f"{value:g} excuses nothing beyond {own}",
                        f"give {bound.what}, above {limit:g}, no less than the worst run recorded"))
    return out
