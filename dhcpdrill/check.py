"""``dhcpdrill-check``: check pair folders without running a drill.

Without options it needs no Docker and finishes in well under a second per pair, so it fits a
pre-commit hook or a config-review pipeline. ``--servers`` also runs the servers' own config
checkers (``kea-dhcp4 -t``) inside the lab image. Exit status 0 when every pair is fit to drill.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalogue import known_scenarios
from .manifest import drill_problems
from .pair import load_pair, pair_folders
from .problems import LabError, PairError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-check", description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("paths", nargs="*", help="pair folders or folders of pairs (default: fixtures/)")
    parser.add_argument("--servers", action="store_true",
                        help="also run kea-dhcp4 -t on each config inside the lab image (needs Docker)")
    parser.add_argument("--apt-mirror", default=None, help="Debian mirror for building the lab image")
    args = parser.parse_args(argv)
    failed = False
    folders = pair_folders(args.paths, Path("fixtures"))
    scenarios = known_scenarios([Path.cwd(), *{p for f in folders for p in f.resolve().parents}])
    verdicts_of = {name: s.verdicts for name, s in scenarios.items()}
    if not scenarios:
        print("WARNING the project's scenarios/ was not found here: drill names are not checked "
              "(run dhcpdrill-check from the project folder)", file=sys.stderr)
    for folder in folders:
        try:
            pair = load_pair(folder)
            problems = drill_problems(pair, verdicts_of)
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
