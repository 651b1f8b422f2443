"""Figures across repeated runs: per pair, drill and verdict, the outcomes and the spread
(min / median / max) of the measured figure, read back from each run's ``junit-drills.xml``.

    dhcpdrill-figures reports/run1 reports/run2 reports/run3

A drill run once says little about a pair (takeover time is quantised by heartbeats, outages by
retransmission timers); this is how the bundled pairs' thresholds were chosen.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .report import JUNIT_NAME


def collect(paths: list[Path]) -> dict[tuple[str, str, str], list[tuple[str, float | None, str]]]:
    """(pair, drill, verdict) -> [(status, figure, unit)], one entry per run that judged it."""
    out: dict[tuple[str, str, str], list[tuple[str, float | None, str]]] = defaultdict(list)
    for path in paths:
        file = path / JUNIT_NAME if path.is_dir() else path
        root = ET.parse(file).getroot()
        for suite in root.iter("testsuite"):
            props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
            for case in suite.findall("testcase"):
                cp = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
                if "status" not in cp:
                    continue
                figure = float(cp["figure"]) if "figure" in cp else None
                out[(props.get("pair", "?"), props.get("scenario", "?"), case.get("name"))].append(
                    (cp["status"], figure, cp.get("unit", "")))
    return out


def table(data: dict[tuple[str, str, str], list[tuple[str, float | None, str]]]) -> list[str]:
    lines = [f"{'pair':<20} {'drill':<28} {'verdict':<24} {'runs':>4} {'pass':>4}  min / median / max"]
    for (pair, drill, verdict), rows in sorted(data.items()):
        figures = [f for _, f, _ in rows if f is not None]
        unit = next((u for _, _, u in rows if u), "")
        spread = (f"{min(figures):g} / {statistics.median(figures):g} / {max(figures):g} {unit}".rstrip()
                  if figures else "-")
        passed = sum(1 for s, _, _ in rows if s == "pass")
        lines.append(f"{pair:<20} {drill:<28} {verdict:<24} {len(rows):>4} {passed:>4}  {spread}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="reports folders (or junit-drills.xml files)")
    args = parser.parse_args(argv)
    missing = [p for p in args.reports if not (p / JUNIT_NAME if p.is_dir() else p).is_file()]
    if missing:
        print(f"dhcpdrill-figures: no {JUNIT_NAME} in: {', '.join(map(str, missing))} "
              "(give the --reports-dir of finished drill runs)", file=sys.stderr)
        return 2
    print("\n".join(table(collect(args.reports))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
