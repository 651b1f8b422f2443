"""``dhcpdrill-check``: check pair folders without running a drill.

Without options it needs no Docker and finishes in well under a second per pair, so it fits a
pre-commit hook or a config-review pipeline. ``--servers`` also runs the servers' own config
checkers (``kea-dhcp4 -t``) inside the lab image. Exit status 0 when every pair is fit to drill,
1 when one is not (two pairs checked together under one name are not), 2 when it could not check
(the project's ``scenarios/`` not found: run it from the project, or give ``--scenarios DIR``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalogue import known_scenarios
from .manifest import drill_problems, name_clashes
from .pair import load_pair, pair_folders
from .problems import LabError, PairError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-check", description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("paths", nargs="*", help="pair folders or folders of pairs (default: fixtures/)")
    parser.add_argument("--servers", action="store_true",
                        help="also run kea-dhcp4 -t on each config inside the lab image (needs Docker)")
    parser.add_argument("--apt-mirror", default=None, help="Debian mirror for building the lab image")
    parser.add_argument("--scenarios", type=Path, default=None, metavar="DIR",
                        help="the project's scenarios/ folder, when dhcpdrill-check runs outside the project "
                             "(default: scenarios/ here or above the pairs checked)")
    args = parser.parse_args(argv)
    failed = False
    folders = pair_folders(args.paths, Path("fixtures"))
    scenarios, missing = _scenarios(args.scenarios, folders)
    if missing:
        print(f"ERROR {missing}", file=sys.stderr)
        return 2
    verdicts_of = {name: s.verdicts for name, s in scenarios.items()}
    loaded = []
    for folder in folders:
        try:
            pair = load_pair(folder)
            loaded.append(pair)
            problems = name_clashes(loaded)[-1:] if pair.name in {p.name for p in loaded[:-1]} else []
            problems += drill_problems(pair, verdicts_of)
            problems = problems or (_server_checks(pair, args.apt_mirror) if args.servers else [])
        except PairError as exc:
            problems = exc.problems
        except LabError as exc:
            print(f"ERROR {folder}: {exc}", file=sys.stderr)
            return 2
        if problems:
            failed = True
            print(f"FAIL {folder}")
            for p in problems:
                print(f"  {p}")
        else:
            from .pair import pair_warnings
            from .servers import adapter_for
            print(f"ok   {folder}: {pair.name} ({pair.server} {pair.mode}, sha256 {pair.config_hash[:16]})")
            for r in adapter_for(pair).lab_plan(pair).rewrites:
                print(f"  rewritten for the lab: {r}")
            for w in pair_warnings(pair):
                print(f"  WARNING {w}")
    return 1 if failed else 0


def _scenarios(given: Path | None, folders: list[Path]) -> tuple[dict, str]:
    """The project's drills, from ``--scenarios DIR`` or found here or above the pairs; with none
    found, why not and the fix. Without them a misspelt ``[drills.kill_primary]`` would read ok
    here and be refused by ``pytest drills/``: the check refuses what the drills refuse, or runs not."""
    if given is not None:
        if given.name != "scenarios" or not (given / "__init__.py").is_file():
            return {}, (f"--scenarios {given}: no scenarios package there (no {given / '__init__.py'}): give the "
                        "project's scenarios/ folder, the one beside drills/")
        roots = [given.resolve().parent]
    else:
        roots = [Path.cwd(), *{p for f in folders for p in f.resolve().parents}]
    scenarios = known_scenarios(roots)
    if not scenarios:
        where = f"--scenarios {given}" if given is not None else "the project's scenarios/ was not found here"
        return {}, (f"{where}: no drill is defined, so drill names and what they judge cannot be checked (pytest "
                    "drills/ would refuse a misspelt [drills.<name>] this check could not see): run "
                    "dhcpdrill-check from the project folder, or give --scenarios PROJECT/scenarios")
    return scenarios, ""


def _server_checks(pair, mirror):
    from .images import ensure_image
    from .lab import Engine, docker_client
    from .servers import adapter_for
    client = docker_client()
    image = ensure_image(client, pair.suite, mirror=mirror)
    engine = Engine(client, image)
    engine.start()
    try:
        return adapter_for(pair).check_in_image(engine, image, pair)
    finally:
        engine.close()


if __name__ == "__main__":
    sys.exit(main())
