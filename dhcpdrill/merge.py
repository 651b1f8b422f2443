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
archives it was merged from, with their manifest digests. The sources' go/no-go lines and
accepted hazards are carried (``go_no_go``: GO only when every source said GO; sources that
accepted different hazards, or a go/no-go with a plain run, are refused). Run it from the project
root: the drills' scenarios are read from ``scenarios/``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

from .catalogue import known_scenarios
from .runrecord import DrillResult
from .evidence import MANIFEST, PAIR_DIR, VERDICTS, bundle, sha256, verify
from .gonogo import FILE_NAME, OPTION, Acceptance
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
    lines, results, sources, engines, decisions = [], [], [], [], []
    pair_sources: dict[str, dict[str, str]] = {}
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
            said = tar.extractfile(FILE_NAME).read().decode().strip() if FILE_NAME in tar.getnames() else None
            decisions.append((archive, said, manifest.get("accepted_hazards", [])))
            pair_sources.update(manifest.get("pair_sources", {}))
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
    line, accepted = go_no_go(decisions)
    if line is not None:
        (out / FILE_NAME).write_text(line + "\n")
        lines.append(line)
    write(results, out, line, accepted)
    engine = engines[0] if all(e == engines[0] for e in engines) else \
        {"docker": "; ".join(sorted({e.get("docker", "?") for e in engines})),
         "kernel": "; ".join(sorted({e.get("kernel", "?") for e in engines}))}
    path, digest = bundle(results, out, engine, command, merged_from=sources, accepted=accepted,
                          pair_sources=pair_sources)
    lines.append(f"merged {len(results)} run(s) into {out / 'junit-drills.xml'} and {out / 'drills.html'}")
    lines.append(f"Evidence archive: {path} (manifest sha256 {digest})")
    return path, digest, lines


def go_no_go(sources: list[tuple[Path, str | None, list[dict]]]) -> tuple[str | None, list[Acceptance]]:
    """The merged report's go/no-go line and accepted hazards, from each archive's (line, acceptances).

    Each source's line is kept as it decided it, over its own runs: the merged line is GO only when
    every source said GO, and names each source's line (sharded go/no-go runs each lack the other
    shards' drills, so each says NO-GO, and so does the merge). A go/no-go merged with a run that
    was none, or runs that accepted different hazards, are refused: one report states one
    acceptance, and a plain run's drills are no go/no-go's."""
    with_line = [(archive, said) for archive, said, _ in sources if said is not None]
    if with_line and len(with_line) < len(sources):
        plain = next(archive for archive, said, _ in sources if said is None)
        raise ValueError(f"{with_line[0][0]} is a go/no-go ({FILE_NAME}) but {plain} is not: merge go/no-go runs only "
                         "with go/no-go runs (the other's drills decided no line)")
    spelt = [(archive, sorted((a["pair"], a["drill"], a["hazard"]) for a in records)) for archive, _, records in sources]
    for archive, taken in spelt[1:]:
        if taken != spelt[0][1]:
            named = lambda t: ", ".join(f"{OPTION} {p}/{d}" for p, d, _ in t) or "none"  # noqa: E731
            raise ValueError(f"{spelt[0][0]} accepted {named(spelt[0][1])} but {archive} accepted {named(taken)}: one "
                             f"merged report states one acceptance; merge runs made with the same {OPTION} values")
    accepted = [Acceptance(*a) for a in spelt[0][1]] if spelt else []
    if not with_line:
        return None, accepted
    go = all(said.startswith("GO ") for _, said in with_line)
    return (f"{'GO' if go else 'NO-GO'} (merged from {len(with_line)} go/no-go runs): "
            + "; ".join(f"{archive.name}: {said}" for archive, said in with_line)), accepted


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
