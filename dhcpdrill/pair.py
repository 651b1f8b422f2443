"""A pair is a folder: the primary's and the secondary's own config files plus ``pair.toml``.

Loading reads the manifest (``manifest``) and checks the configs it names with the server
adapter, everything that can be checked without Docker, and reports every problem at once
(``PairError``).
"""
from __future__ import annotations

import os
from pathlib import Path

from .manifest import MANIFEST, Pair, read_manifest
from .problems import PairError, Problem
from .servers import adapter_for

__all__ = ["Pair", "load_pair", "pair_folders"]


def load_pair(folder: Path | str) -> Pair:
    """Read and check a pair folder; raise ``PairError`` listing every problem found."""
    folder = Path(folder)
    pair, problems, usable = read_manifest(folder)
    if usable:  # the configs are checked even when the manifest has problems: report all at once
        try:
            plan = adapter_for(pair).lab_plan(pair)
        except PairError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_mclt_problems(str(folder / MANIFEST), pair, plan.mclt_s))
    if problems:
        raise PairError(problems)
    return pair


def _mclt_problems(where: str, pair: Pair, config_mclt: float | None) -> list[Problem]:
    """A declared ``mclt_s`` must be the one the servers run with: the MCLT verdicts judge the
    servers against it, so a different number would judge them against a rule they do not have."""
    out = []
    for drill, limits in pair.drills.items():
        if limits.mclt_s is None or limits.mclt_s == config_mclt:
            continue
        if config_mclt is None:
            out.append(Problem(where, f"drills.{drill}.mclt_s", f"is {limits.mclt_s:g}, but {pair.server} has no MCLT",
                               "remove mclt_s: only ISC failover pairs have one"))
        else:
            out.append(Problem(where, f"drills.{drill}.mclt_s",
                               f"is {limits.mclt_s:g}, but {pair.files['primary'].name} says mclt {config_mclt:g}",
                               f"give mclt_s = {config_mclt:g}, the primary's mclt"))
    return out


def pair_folders(paths: list[str], default_root: Path) -> list[Path]:
    """Expand the requested paths: a pair folder as is, a folder of pair folders into its children."""
    if not paths:
        env = os.environ.get("DHCPDRILL_PAIRS", "")
        paths = [p for p in env.split(os.pathsep) if p] or [str(default_root)]
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / MANIFEST).is_file() or not path.is_dir():
            found.append(path)
        else:  # a folder of pairs; one with none is reported by load_pair as missing its manifest
            found.extend(sorted(p.parent for p in path.glob(f"*/{MANIFEST}")) or [path])
    return found
