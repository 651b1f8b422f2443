"""CI shards: a deterministic split of the drill set into N parts of about equal expected
duration, so a CI matrix of N jobs runs every drill exactly once.

    pytest drills/ --shard 1/3      # in job 1 of 3 (2/3, 3/3 in the others)

Each drill (pair x test) has an expected duration from the pair's own timers (the catalogue's);
the drills are dealt longest first to the shard with the least so far (ties by name), so every
job, given the same pairs and code, computes the same split without talking to the others.
"""
from __future__ import annotations

import re

SHARD = re.compile(r"(\d+)/(\d+)")


def parse(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); anything else raises ValueError with the fix."""
    m = SHARD.fullmatch(text.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard {text!r}: give I/N with 1 <= I <= N, e.g. --shard 2/3")
    return int(m.group(1)), int(m.group(2))


def split(costs: dict[str, float], shards: int) -> list[list[str]]:
    """Deal the keys (drill ids) into ``shards`` lists of about equal total cost; deterministic."""
    bins: list[tuple[float, int, list[str]]] = [(0.0, i, []) for i in range(shards)]
    for key in sorted(costs, key=lambda k: (-costs[k], k)):
        total, i, keys = min(bins)
        keys.append(key)
        bins[i] = (total + costs[key], i, keys)
    return [sorted(keys) for _, _, keys in sorted(bins, key=lambda b: b[1])]
