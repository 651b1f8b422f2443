#!/usr/bin/env python3
"""Benchmark: do figures stay honest when drills run in parallel? Prints figures; not a test.

Runs the same drills serially and with ``-n WORKERS`` (pytest-xdist), alternated ``--rounds``
times back to back, then compares every verdict's figure: the serial runs give a min–max per
(pair, drill, verdict), and each parallel figure outside it is listed with the serial spread.
Outcomes that differ between any two runs are listed too. Wall times per run are printed.

    python3 scripts/bench_parallel.py --rounds 3 --workers 2 -- -k test_kill_primary
    python3 scripts/bench_parallel.py --compare-only --out reports/bench-parallel

Everything after ``--`` goes to ``pytest drills/`` (pairs, ``-k``); each run's reports land in
``OUT/serial-K`` and ``OUT/parallel-K`` and can be read again with ``--compare-only``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dhcpdrill.figures import collect  # noqa: E402
from dhcpdrill.report import JUNIT_NAME  # noqa: E402


def run(out: Path, workers: int, pytest_args: list[str]) -> float:
    cmd = [sys.executable, "-m", "pytest", "drills/", "-p", "no:cacheprovider", "-q",
           "--reports-dir", str(out), *(["-n", str(workers)] if workers > 1 else ["-n", "0"]), *pytest_args]
    began = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    took = time.monotonic() - began
    tail = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"  {out.name}: {took / 60:.1f} min, exit {done.returncode}: {tail}", flush=True)
    return took


def compare(serial: list[Path], parallel: list[Path]) -> int:
    """Print per-verdict comparisons; return how many parallel figures fell outside the serial spread."""
    s, p = collect(serial), collect(parallel)
    outside, judged = [], 0
    for key in sorted(set(s) | set(p)):
        pair, drill, verdict = key
        s_runs, p_runs = s.get(key, []), p.get(key, [])
        statuses = {status for status, *_ in s_runs + p_runs}
        if len(statuses) > 1:
            print(f"  outcome differs  {pair} / {drill} / {verdict}: serial {[r[0] for r in s_runs]}, "
                  f"parallel {[r[0] for r in p_runs]}")
        s_fig = [f for _, f, *_ in s_runs if f is not None]
        unit = next((u for _, _, u, _ in s_runs + p_runs if u), "")
        for f in (f for _, f, *_ in p_runs if f is not None):
            judged += 1
            if s_fig and not min(s_fig) <= f <= max(s_fig):
                side = "above" if f > max(s_fig) else "below"
                outside.append(f"  {side} serial     {pair} / {drill} / {verdict}: parallel {f:g} {unit}, "
                               f"serial {min(s_fig):g}–{max(s_fig):g} {unit} ({len(s_fig)} runs)")
    print("\n".join(outside) if outside else "  every parallel figure lies inside the serial min–max")
    print(f"parallel figures inside the serial spread: {judged - len(outside)} of {judged}")
    if len(serial) > 2:
        # The control: a run's figure falls outside the min–max of n others by chance alone (for
        # figures that vary, with probability 2/(n+1)), so the same test is applied to each serial
        # run against the other serial runs, and to each parallel run against as many serial runs.
        held_out = [[r for r in serial if r != one] for one in serial]
        control, trial = _outside_share(serial, held_out), _outside_share(parallel, held_out)
        print(f"outside the min–max of {len(serial) - 1} serial runs: serial runs {control:.0%} "
              f"(the noise between serial runs), parallel runs {trial:.0%}")
    return len(outside)


def _outside_share(tested: list[Path], baselines: list[list[Path]]) -> float:
    """The share of figures of each tested run outside the spread of a baseline, over every
    baseline that does not contain the tested run itself."""
    outside = total = 0
    for run in tested:
        mine = collect([run])
        for base in (b for b in baselines if run not in b):
            theirs = collect(base)
            for key, rows in mine.items():
                ref = [f for _, f, *_ in theirs.get(key, []) if f is not None]
                for f in (f for _, f, *_ in rows if f is not None):
                    if ref:
                        total += 1
                        outside += not min(ref) <= f <= max(ref)
    return outside / total if total else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-parallel")
    ap.add_argument("--compare-only", action="store_true", help="compare the runs already in OUT")
    ap.add_argument("pytest_args", nargs="*", help="after --: arguments for pytest drills/")
    args = ap.parse_args()
    if not args.compare_only:
        walls: dict[str, list[float]] = {"serial": [], "parallel": []}
        for k in range(1, args.rounds + 1):
            print(f"round {k}", flush=True)
            walls["serial"].append(run(args.out / f"serial-{k}", 1, args.pytest_args))
            walls["parallel"].append(run(args.out / f"parallel-{k}", args.workers, args.pytest_args))
        for kind, times in walls.items():
            print(f"{kind}: " + ", ".join(f"{t / 60:.1f}" for t in times) + " min")
    serial = sorted(p for p in args.out.glob("serial-*") if (p / JUNIT_NAME).exists())
    parallel = sorted(p for p in args.out.glob("parallel-*") if (p / JUNIT_NAME).exists())
    if not serial or not parallel:
        print(f"no serial-* and parallel-* runs under {args.out}", file=sys.stderr)
        return 2
    print(f"{len(serial)} serial and {len(parallel)} parallel run(s) under {args.out}")
    compare(serial, parallel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
