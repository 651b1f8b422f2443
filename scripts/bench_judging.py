#!/usr/bin/env python3
"""Benchmark: how long judging a recorded drill takes, per verdict. Prints figures; not a test.

    python3 scripts/bench_judging.py reports/<run>/timeline.jsonl [--pair fixtures/scale/kea-hot-standby-10k]

The verdicts are the ones the drill judged (its ``lab`` event lists them), against the pair's
expectations for that drill (``--pair``, default: the pair folder the lab event names, looked
for under fixtures/).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dhcpdrill.pair import load_pair  # noqa: E402
from dhcpdrill.timeline import Timeline  # noqa: E402
from dhcpdrill.verdicts import JUDGES  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("timeline", type=Path)
    ap.add_argument("--pair", type=Path)
    args = ap.parse_args()
    t0 = time.perf_counter()
    tl = Timeline.load(args.timeline)
    tl.events  # noqa: B018 - sorted and indexed once, as judging does
    loaded = time.perf_counter() - t0
    lab = tl.first("lab")
    folder = args.pair or next((p.parent for p in ROOT.glob("fixtures/**/pair.toml")
                                if load_pair(p.parent).name == lab.get("pair")), None)
    limits = load_pair(folder).thresholds(lab.get("scenario"))
    clients = len(tl.of("client", source="clients"))
    print(f"{args.timeline}: {len(tl):,} events, {clients:,} clients; read and sorted in {loaded:.2f} s")
    total = 0.0
    for name in lab.get("verdicts"):
        t0 = time.perf_counter()
        v = JUDGES[name](tl, limits)
        took = time.perf_counter() - t0
        total += took
        print(f"  {name:24s} {took:7.3f} s  {v.status}")
    print(f"judged in {total:.2f} s; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
