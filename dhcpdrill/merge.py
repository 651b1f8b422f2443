"""``dhcpdrill-merge``: the evidence of several runs (CI shards) as one report and one archive.

    dhcpdrill-merge --out reports/all shard-1/evidence-*.tar.gz shard-2/evidence-*.tar.gz ...

Each archive is verified first (hashes, every verdict re-judged and the outcome re-decided as
``dhcpdrill-verify`` does); one that does not verify stops the merge. Give each shard's printed
manifest digest with ``--manifest-sha256 HEX`` (once per archive, in any order): an archive whose
manifest is none of them was rebuilt after its run (or the digest is not its own) and stops the
merge too; without digests an archive is checked against itself only, and the merged manifest says
which were checked against a digest. The run folders are then taken as recorded
(their verdicts are not judged again here) and written out as one run would have been:
``junit-drills.xml``, ``drills.html`` and a new archive whose manifest lists every file and the
archives it was merged from, with their manifest digests. Run it from the project root: the
drills' scenarios are read from ``scenarios/``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

from .catalogue import known_scenarios
from .drill import DrillResult
from .evidence import MANIFEST, PAIR_DIR, VERDICTS, bundle, sha256, verify
from .manifest import read_manifest
from .report import write
from .timeline import Timeline
from .verdicts import Verdict


def result_from(run: Path, scenarios: dict) -> DrillResult:
    """A recorded run folder as the DrillResult it was written from (verdicts as judged then)."""
    recorded = json.loads((run / VERDICTS).read_text())
    pair, problems, _ = read_manifest(run / PAIR_DIR)
    if problems:
        raise ValueError(f"{run}: its recorded pair.toml is unfit now: {problems[0]}")
    if recorded["drill"] not in scenarios:
        raise ValueError(f"{run}: drill {recorded['drill']!r} is not among this project's scenarios: run "
                         "dhcpdrill-merge from the project root, with the same scenarios/ the shards ran")
    tl = Timeline.load(run / "timeline.jsonl")
    lab = tl.first("lab")
    times = [e.t for e in tl.events]
    result = DrillResult(pair, scenarios[recorded["drill"]], str(lab.get("image", "")) if lab else "", run,
                         recorded.get("started", times[0] if times else 0.0), tl,
                         [Verdict(**v) for v in recorded["verdicts"]])
    result.duration = recorded.get("duration", (times[-1] - times[0]) if times else 0.0)
    result.error = recorded.get("error")
    result.rewrites = tuple(lab.get("rewrites", ())) if lab else ()
    result.versions = str(lab.get("versions", "")) if lab else ""
    return result


def _digest(archive: Path) -> str:
    with tarfile.open(archive, "r:gz") as tar:
        return sha256(tar.extractfile(MANIFEST).read())


def merge(archives: list[Path], out: Path, scenarios: dict, command: list[str],
          digests: list[str] | None = None) -> tuple[Path, str, list[str]]:
    """Verify the archives (against ``digests``, the manifest digests their runs printed, when
    given), put their runs in ``out`` and write one report and one archive."""
    lines, results, sources, engines = [], [], [], []
    given = {d.lower() for d in digests or ()}
    found = {archive: _digest(archive) for archive in archives}
    if given:
        for archive, digest in found.items():
            if digest not in given:
                raise ValueError(f"{archive}: its manifest sha256 {digest} is none of the digests given: the archive "
                                 "was rebuilt after its run (or its run printed another), so it is not merged")
        stray = sorted(given - set(found.values()))
        if stray:
            raise ValueError(f"--manifest-sha256 {stray[0]} is the manifest digest of none of the archives given: "
                             "give each shard's archive with the digest its run printed")
    for archive in archives:
        ok, said = verify(archive, found[archive] if given else None)
        if not ok:
            raise ValueError(f"{archive} does not verify, so it is not merged:\n  " + "\n  ".join(said[-8:]))
        with tarfile.open(archive, "r:gz") as tar:
            raw = tar.extractfile(MANIFEST).read()
            manifest = json.loads(raw)
            for run in manifest["runs"]:
                target = out / run["run"]
                if target.exists():
                    raise ValueError(f"{archive}: run {run['run']} is already in {out} (the same run merged twice?)")
                prefix = run["run"].rstrip("/") + "/"
                for member in tar.getmembers():
                    if member.isfile() and member.name.startswith(prefix):
                        path = out / member.name
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(tar.extractfile(member).read())
                results.append(result_from(target, scenarios))
        sources.append({"archive": archive.name, "manifest_sha256": sha256(raw), "digest_checked": bool(given)})
        engines.append(manifest.get("engine", {}))
        lines.append(f"{archive}: verified, {len(manifest['runs'])} run(s)")
        lines.append(f"  manifest sha256 {sha256(raw)}: " + ("one of the digests given" if given else
                                                             "no digest given, so checked against itself only"))
    results.sort(key=lambda r: (r.started, r.pair.name, r.scenario.name))
    write(results, out)
    engine = engines[0] if all(e == engines[0] for e in engines) else \
        {"docker": "; ".join(sorted({e.get("docker", "?") for e in engines})),
         "kernel": "; ".join(sorted({e.get("kernel", "?") for e in engines}))}
    path, digest = bundle(results, out, engine, command, merged_from=sources)
    lines.append(f"merged {len(results)} run(s) into {out / 'junit-drills.xml'} and {out / 'drills.html'}")
    lines.append(f"Evidence archive: {path} (manifest sha256 {digest})")
    return path, digest, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-merge", description=__doc__.split("\n\n")[0].strip("`: "))
    parser.add_argument("archives", nargs="+", type=Path, help="evidence-*.tar.gz of each shard (or run)")
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the merged report and archive")
    parser.add_argument("--manifest-sha256", metavar="HEX", action="append", default=[],
                        help="the manifest digest a shard's run printed; once per archive (any archive whose "
                             "manifest is none of them is refused)")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"dhcpdrill-merge: {args.out} is not empty: merge into a new folder", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path.cwd()))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        _, _, lines = merge(args.archives, args.out, known_scenarios(),
                            ["dhcpdrill-merge", *(argv if argv is not None else sys.argv[1:])], args.manifest_sha256)
    except (ValueError, OSError, tarfile.TarError, KeyError) as exc:
        print(f"dhcpdrill-merge: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
