"""The drill catalogue: what each drill does to a pair, what it judges, which of the pair's keys
it reads, and how long it will take for this pair (its window follows the pair's own timers).

    pytest drills/ --drill-catalogue [--pair PATH]

Nothing is started: it reads the pairs and the drills only.
"""
from __future__ import annotations

import ast
import sys
import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Iterable

from .scenario import SERVICE_GAP_READERS, Scenario, drill_heal_watch, drill_service_gap, drill_window, expected_s, quiet_plan, \
    verdicts_for
from .expectations import NEEDS
from .faults import Sequence
from .manifest import Pair
from .servers import adapter_for



@dataclass(frozen=True)
class Entry:
    scenario: Scenario
    test: str  # the pytest function that runs it (the -k expression selects it)


def drills_in(module: ModuleType) -> list[Entry]:
    """Each test function of a drill module with the scenario it passes to ``drill.run``."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test_"):
            continue
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "run" and call.args \
                    and isinstance(call.args[0], ast.Name):
                scenario = getattr(module, call.args[0].id, None)
                if isinstance(scenario, Scenario):
                    found.append(Entry(scenario, fn.name))
    return found


def selector(test: str, pair: str, tests: list[str], pairs: list[str]) -> str:
    """A ``-k`` expression that selects one drill of one pair and nothing else (``-k`` matches
    substrings: test_kill_primary would also pick test_kill_primary_with_new_clients)."""
    words = [test, *[f"not {t}" for t in sorted(set(tests)) if t != test and test in t]]
    words += [pair, *[f"not {p}" for p in sorted(set(pairs)) if p != pair and pair in p]]
    return " and ".join(words)


def lines(pairs: list[Pair], entries: list[Entry]) -> list[str]:
    out = []
    tests, names = [e.test for e in entries], [p.name for p in pairs]
    for pair in pairs:
        out.append(f"{pair.name} ({pair.server} {pair.mode}, {pair.folder})")
        for e in entries:
            s = e.scenario
            limits = pair.drills.get(s.name)
            fault = s.fault
            what = " then ".join(f"{f.name} {f.target}" for f in fault.steps) if isinstance(fault, Sequence) \
                else f"{fault.name} {fault.target}"
            if limits is None:
                out.append(f"  {s.name:<26} not drilled: pair.toml has no [drills.{s.name}] table")
                continue
            prediction, window = drill_window(pair, s)
            out.append(f"  {s.name:<26} ~{expected_s(pair, s):.0f} s   -k '{selector(e.test, pair.name, tests, names)}'")
            out.append(f"      {s.title}; fault: {what}; watches {window.observe_s:g} s ({window.reason})"
                       + (f"; takeover predicted {prediction.describe()}" if prediction else ""))
            if s.period is not None:
                quiet, w = quiet_plan(pair, s, adapter_for(pair).lab_plan(pair), window.observe_s)
                out.append(f"      {s.period}: {quiet.words()}; replays {w.steady_clients} active and "
                           f"{w.new_clients} new clients (over {w.new_over_s:g} s), probes with secs = 0")
            healed = drill_heal_watch(pair, s)
            if healed.wake_s is not None:
                out.append(f"      after the heal: watches {healed.seconds:g} s ({healed.reason})")
            judged, unjudged = [], []
            for v in verdicts_for(s, adapter_for(pair).lab_plan(pair), pair):
                key = NEEDS[v]
                (unjudged if key and not limits.states(key) else judged).append(v if not key else f"{v} ({key})")
            out.append(f"      judges: {', '.join(judged)}")
            if set(SERVICE_GAP_READERS) & set(judged):
                gap = drill_service_gap(pair, s)
                out.append(f"      service held: every client answered within {limits.max_service_gap_s:g} s "
                           "(max_service_gap_s)" if limits.max_service_gap_s is not None else
                           f"      service held: every client answered within {gap.answer_s:g} s"
                           + (f", {gap.hand_back_s:g} s across a hand-back" if gap.hand_back_s > gap.answer_s else "")
                           + f", {gap.answer_s + gap.give_up_s:g} s after a REQUEST given up ({gap.basis})")
            if unjudged:
                out.append(f"      shown, not judged (the pair states no key): {', '.join(unjudged)}")
            if limits.known_hazard:
                out.append(f"      known hazard: {limits.known_hazard.describe()}")
        named = {e.scenario.name for e in entries}
        for name in sorted(set(pair.drills) - named):
            out.append(f"  {name:<26} [drills.{name}] names no drill of this project")
    return out


SHIPPED = "dhcpdrill.scenarios"  # the repository's scenarios/ in an installed wheel (pyproject.toml package-dir)


def shipped_scenarios() -> ModuleType | None:
    """The scenarios installed with this harness (``dhcpdrill.scenarios``), or None when it runs
    from a checkout, where ``scenarios/`` lies beside ``dhcpdrill/`` instead. Asked of the package
    folder itself, not of the import system: a team's own ``scenarios`` package is never taken for it."""
    import importlib
    if not (Path(__file__).resolve().parent / "scenarios" / "__init__.py").is_file():
        return None
    return importlib.import_module(SHIPPED)


def alias_shipped_scenarios() -> None:
    """Let the installed drills' ``from scenarios.x import ...`` reach the scenarios installed with
    them, the same module objects as ``dhcpdrill.scenarios.x`` (the drills' own files are those of
    the repository, unchanged). Called by ``dhcpdrill.drills`` as it is imported, so only a session
    that collects the installed drills names anything ``scenarios``; one that already imported a
    different ``scenarios`` package is told so rather than drilling with the wrong catalogue."""
    import importlib
    import pkgutil
    package = shipped_scenarios()
    if package is None:
        return
    taken = sys.modules.get("scenarios")
    if taken is not None and taken is not package:
        raise ImportError(f"the installed drills need the name 'scenarios' for {SHIPPED}, but this session already "
                          f"imported another package by that name ({getattr(taken, '__file__', taken)}): run the "
                          "drills in a pytest session of their own (pytest --pyargs dhcpdrill.drills --pair PATH)")
    sys.modules["scenarios"] = package
    for module in pkgutil.iter_modules(package.__path__):
        sys.modules[f"scenarios.{module.name}"] = importlib.import_module(f"{SHIPPED}.{module.name}")


def known_scenarios(roots: Iterable[Path] = ()) -> dict[str, Scenario]:
    """Every drill the harness's scenarios define, and any other Scenario already imported; empty
    when none can be found, so nothing is refused then. The scenarios are those installed with the
    harness (``shipped_scenarios``), else the project's ``scenarios/`` beside the drills (importable
    in a pytest session of this repository). Outside pytest (``dhcpdrill-check``) ``scenarios`` is
    looked for in ``roots`` too: the project folder the command runs in, or one above the pairs it
    checks."""
    import importlib
    import pkgutil
    package = shipped_scenarios()
    if package is None:
        try:
            import scenarios  # noqa: F401  (is the checkout's scenarios package importable?)
        except ImportError:
            root = next((r for r in roots if (r / "scenarios" / "__init__.py").is_file()), None)
            if root is not None:
                sys.path.append(str(root))
        try:
            import scenarios as package
        except ImportError:
            package = None
    if package is not None:
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    modules = [m for name, m in list(sys.modules.items())
               if name.split(".")[0] in ("scenarios", "drills") or name.startswith((SHIPPED, "dhcpdrill.drills"))
               or name.rsplit(".", 1)[-1].startswith("test_")]
    return {value.name: value for module in modules for value in vars(module).values() if isinstance(value, Scenario)}
