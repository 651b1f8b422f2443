"""Figures across repeated runs: per pair, drill and verdict, the outcomes and the spread
(min / median / max) of the measured figure, and each drill's pass rate (every run counts: a
``--repeat`` run holds several), read back from each run's ``junit-drills.xml`` (a reports
folder, the file itself, or an evidence archive).

    dhcpdrill-figures reports/run1 reports/run2 reports/run3
    dhcpdrill-figures --baseline last-half-year.tar.gz reports/evidence-20270101T030000Z.tar.gz

A drill run once says little about a pair (takeover time is quantised by heartbeats, outages by
retransmission timers); this is how the bundled pairs' thresholds were chosen. With
``--baseline`` it compares drill over drill and exits 1 on a regression: a verdict or outcome
that got worse (pass to fail, a hazard's expected failure to a real one), or a figure beyond
the baseline's spread in the direction its limit forbids: timings by more than 20 % (at least
1 s), counts and shares by any amount, e.g. takeover 12 s -> 20 s, a new duplicate.
"""
from __future__ import annotations

import argparse
import statistics
import tarfile
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .report import JUNIT_NAME


def junit_root(path: Path) -> ET.Element:
    """The run's JUnit from a reports folder, the file itself, or an evidence archive."""
    if path.is_dir():
        path = path / JUNIT_NAME
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path, "r:gz") as tar:
            return ET.fromstring(tar.extractfile(JUNIT_NAME).read())
    return ET.parse(path).getroot()


def collect(paths: list[Path]) -> dict:
    """(pair, drill, verdict) -> [(status, figure, unit, threshold)], one entry per run that judged
    it; the drill's outcome is the verdict ``outcome``."""
    out: dict = defaultdict(list)
    for path in paths:
        for suite in junit_root(path).iter("testsuite"):
            props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
            key = (props.get("pair", "?"), props.get("scenario", "?"))
            if "outcome" in props:
                out[(*key, "outcome")].append((props["outcome"], None, "", ""))
            for name, cp in _verdicts(suite, props).items():
                figure = float(cp["figure"]) if "figure" in cp else None
                out[(*key, name)].append((cp["status"], figure, cp.get("unit", ""), cp.get("threshold", "")))
    return out


def _verdicts(suite: ET.Element, props: dict[str, str]) -> dict[str, dict[str, str]]:
    """verdict -> its status, figure, unit and threshold: suite properties ``verdict.<name>.<key>``,
    or (reports written before 2026-12) properties of the verdict's own test case."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for name, value in props.items():
        if name.startswith("verdict."):
            verdict, _, key = name[len("verdict."):].rpartition(".")
            found[verdict][key] = value
    for case in suite.findall("testcase"):
        cp = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
        if "status" in cp:
            found.setdefault(case.get("name"), cp)
    return {name: cp for name, cp in found.items() if "status" in cp}


def _with(value: float, unit: str) -> str:
    return f"{value:g} {unit}" if unit else f"{value:g}"


RANK = {"pass": 0, "expected-failure": 1, "not-judged": 1, "unknown": 2, "fail": 3}


def regressions(baseline: dict, current: dict) -> list[str]:
    """What got worse from the baseline runs to the current ones, one line each."""
    found = []
    for key in sorted(current):
        pair, drill, verdict = key
        now, before = current[key], baseline.get(key)
        if not before:
            if any(s in ("fail", "unknown") for s, *_ in now):
                found.append(f"{pair} / {drill} / {verdict}: {now[-1][0]} (not in the baseline)")
            continue
        worst_before = max(RANK.get(s, 3) for s, *_ in before)
        for status, figure, unit, limit in now:
            if RANK.get(status, 3) > worst_before:
                found.append(f"{pair} / {drill} / {verdict}: {status}, was "
                             f"{'/'.join(sorted({s for s, *_ in before}))} in the baseline")
                break
            figures = [f for _, f, *_ in before if f is not None]
            if figure is None or not figures:
                continue
            lo, hi = min(figures), max(figures)
            slack = max(1.0, 0.2 * hi) if unit == "s" else 0.0  # timings jitter; counts and shares do not
            worse = figure < lo - slack if limit.startswith(">=") else figure > hi + slack
            if worse:
                found.append(f"{pair} / {drill} / {verdict}: {_with(figure, unit)}, baseline "
                             f"{lo:g}-{_with(hi, unit)}")
                break
    for key in sorted(set(baseline) - set(current)):
        if key[2] == "outcome":
            found.append(f"{key[0]} / {key[1]}: drilled in the baseline, not in this run")
    return found


def table(data: dict[tuple[str, str, str], list[tuple[str, float | None, str, str]]]) -> list[str]:
    lines = [f"{'pair':<20} {'drill':<28} {'verdict':<24} {'runs':>4} {'pass':>4}  min / median / max"]
    for (pair, drill, verdict), rows in sorted(data.items()):
        figures = [f for _, f, *_ in rows if f is not None]
        unit = next((u for _, _, u, _ in rows if u), "")
        spread = (f"{min(figures):g} / {statistics.median(figures):g} / {max(figures):g} {unit}".rstrip()
                  if figures else "-")
        passed = sum(1 for s, *_ in rows if s == "pass")
        lines.append(f"{pair:<20} {drill:<28} {verdict:<24} {len(rows):>4} {passed:>4}  {spread}")
    return lines


def rates(data: dict) -> list[str]:
    """Each pair / drill's pass rate over every run read (``5 of 6 runs passed (83 %); 1 fail``):
    how often a rare fault strikes shows only across scheduled runs."""
    lines = []
    for (pair, drill, verdict), rows in sorted(data.items()):
        if verdict != "outcome":
            continue
        statuses = [s for s, *_ in rows]
        passed = statuses.count("pass")
        others = "".join(f"; {statuses.count(s)} {s}" for s in sorted(set(statuses) - {"pass"}))
        lines.append(f"{pair} / {drill}: {passed} of {len(rows)} runs passed ({100 * passed / len(rows):.0f} %){others}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path,
                        help="reports folders, junit-drills.xml files or evidence archives")
    parser.add_argument("--baseline", action="append", type=Path, default=[], metavar="RUN",
                        help="an earlier run (repeatable) to compare against; exit 1 on a regression")
    args = parser.parse_args(argv)
    try:
        current = collect(args.reports)
        baseline = collect(args.baseline)
    except (OSError, KeyError, ET.ParseError, tarfile.TarError) as exc:
        print(f"dhcpdrill-figures: cannot read a run's {JUNIT_NAME} ({exc}); give the --reports-dir of "
              "finished drill runs, their junit-drills.xml, or their evidence archives", file=sys.stderr)
        return 2
    print("\n".join(table({k: v for k, v in current.items() if k[2] != "outcome"})))
    print(f"\npass rate per pair / drill, over {len(args.reports)} report(s):")
    print("\n".join(f"  {line}" for line in rates(current)) or "  (no drill outcome recorded)")
    if not args.baseline:
        return 0
    found = regressions(baseline, current)
    print(f"\nagainst the baseline ({len(args.baseline)} run(s)): "
          + ("no regression" if not found else f"{len(found)} regression(s)"))
    for line in found:
        print(f"  REGRESSION {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
