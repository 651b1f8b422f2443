"""The evidence bundle an auditor keeps, and its verification.

Every run of the drills leaves one archive, ``reports/evidence-<UTC stamp>.tar.gz``: each drill's
run folder (timeline, server logs, lease files, summary, per-run JUnit and HTML, ``verdicts.json``
with the verdicts as judged, and ``pair/`` with the pair's own files as they were drilled), the
run's ``junit-drills.xml`` and ``drills.html``, and ``MANIFEST.json``: the SHA-256 of every file,
each pair's config hash, the harness version and git commit, the image and exact server versions,
the Docker engine and kernel versions, and the command line.

    dhcpdrill-verify reports/evidence-20261130T153000Z.tar.gz [--manifest-sha256 HEX]

checks every file against the manifest, then **re-judges** every recorded timeline with the code
installed now and says, per verdict, whether it comes out the same. A file changed after the run
fails its hash; a verdict edited to read "pass" fails the re-judging. Someone who rewrites files
*and* the manifest is caught only against the manifest's own SHA-256, which the run prints and a
CI log keeps: give it as ``--manifest-sha256``.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .drill import DrillResult
    from .gonogo import Acceptance

MANIFEST = "MANIFEST.json"
VERDICTS = "verdicts.json"
PAIR_DIR = "pair"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_run(result: "DrillResult") -> None:
    """Leave in the run folder what re-judging it needs: the verdicts as judged, and the pair's
    own files (its thresholds come from them)."""
    run = result.run_dir
    run.mkdir(parents=True, exist_ok=True)
    outcome = result.outcome
    (run / VERDICTS).write_text(json.dumps({
        "pair": result.pair.name, "drill": result.scenario.name, "pair_config_sha256": result.pair.config_hash,
        "outcome": outcome.status, "reasons": list(outcome.reasons), "error": result.error,
        "started": result.started, "duration": result.duration,
        "verdicts": [asdict(v) for v in result.verdicts]}, indent=1) + "\n")
    folder = result.pair.folder
    for path in [folder / "pair.toml", *result.pair.files.values(), *result.pair.included]:
        target = run / PAIR_DIR / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def harness_identity() -> dict[str, str]:
    """The harness's version and, when it runs from a git checkout, the commit (and whether the
    tree had uncommitted changes)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        ident = {"version": version("dhcpdrill")}
    except PackageNotFoundError:
        ident = {"version": "unknown"}
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    ident["git_commit"] = commit or "unknown (not a git checkout)"
    if commit and dirty:
        ident["git_commit"] += " with uncommitted changes"
    return ident


def engine_identity(client: Any) -> dict[str, str]:
    try:
        v = client.version()
        return {"docker": f"{v.get('Version')} (API {v.get('ApiVersion')})", "kernel": str(v.get("KernelVersion")),
                "os": f"{v.get('Os')}/{v.get('Arch')}"}
    except Exception as exc:  # noqa: BLE001 - the bundle says what it could not learn
        return {"docker": f"unknown ({exc})", "kernel": platform.release()}


def bundle(results: list["DrillResult"], reports: Path, engine: dict[str, str], command: list[str],
           merged_from: list[dict[str, str]] | None = None, accepted: Sequence["Acceptance"] = ()) -> tuple[Path, str]:
    """Write the run's evidence archive; return its path and its manifest's SHA-256. A merged
    archive (``dhcpdrill-merge``) names the archives it was made from and their manifest digests;
    a go/no-go's manifest names the known hazards it accepted (``--accept-hazard``)."""
    files: dict[str, bytes] = {}
    for r in results:
        for path in sorted(p for p in r.run_dir.rglob("*") if p.is_file()):
            files[path.relative_to(reports).as_posix()] = path.read_bytes()
    for name in ("junit-drills.xml", "drills.html", "go-no-go.txt"):
        if (reports / name).is_file():
            files[name] = (reports / name).read_bytes()
    runs = [{"run": r.run_dir.relative_to(reports).as_posix(), "pair": r.pair.name, "drill": r.scenario.name,
             "pair_config_sha256": r.pair.config_hash, "image": r.image, "server_versions": r.versions or "unknown",
             "outcome": r.outcome.status} for r in results]
    created = datetime.now(timezone.utc)
    manifest = json.dumps({"created": created.isoformat(timespec="seconds"), "command": command,
                           "harness": harness_identity(), "engine": engine, "python": platform.python_version(),
                           "runs": runs, "files": {name: sha256(data) for name, data in sorted(files.items())},
                           **({"merged_from": merged_from} if merged_from else {}),
                           **({"accepted_hazards": [a.record() for a in accepted]} if accepted else {})},
                          indent=1, sort_keys=True).encode() + b"\n"
    path = reports / f"evidence-{created.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [(MANIFEST, manifest), *sorted(files.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(created.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return path, sha256(manifest)


def _rejudge(run: Path) -> list[str]:
    """Judge a run's recorded timeline again with this code; one line per verdict."""
    from .manifest import read_manifest
    from .timeline import Timeline
    from .verdicts import judge
    recorded = json.loads((run / VERDICTS).read_text())
    pair, problems, _ = read_manifest(run / PAIR_DIR)
    if problems:
        return [f"  CANNOT RE-JUDGE  the recorded pair.toml is unfit now: {problems[0]}"]
    names = [v["name"] for v in recorded["verdicts"]]
    now = {v.name: v for v in judge(Timeline.load(run / "timeline.jsonl"), pair.thresholds(recorded["drill"]), names)}
    lines = []
    for old in recorded["verdicts"]:
        new = now[old["name"]]
        same = (new.status, new.figure) == (old["status"], old["figure"])
        figure = "" if old["figure"] is None else f" {old['figure']:g}{old['unit'] and ' ' + old['unit']}"
        if same:
            lines.append(f"  same     {old['name']}: {old['status']}{figure}")
        else:
            now_figure = "" if new.figure is None else f" {new.figure:g}"
            lines.append(f"  DIFFERS  {old['name']}: recorded {old['status']}{figure}, re-judged {new.status}{now_figure}"
                         f" ({new.reason[:160]})")
    return lines


def verify(archive: Path, manifest_sha256: str | None = None) -> tuple[bool, list[str]]:
    """Check an evidence archive: (everything holds, what was found, line by line)."""
    lines, ok = [], True
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        if MANIFEST not in members:
            return False, [f"{archive}: no {MANIFEST}: not an evidence archive"]
        raw = tar.extractfile(members[MANIFEST]).read()
        manifest = json.loads(raw)
        digest = sha256(raw)
        lines.append(f"manifest sha256 {digest}")
        if manifest_sha256 and manifest_sha256.lower() != digest:
            ok = False
            lines.append(f"  MANIFEST DIFFERS from the one recorded at the run ({manifest_sha256}): the archive was rebuilt")
        listed = manifest.get("files", {})
        for name in sorted(set(members) - {MANIFEST} - set(listed)):
            ok = False
            lines.append(f"  UNLISTED {name}: added after the run")
        with tempfile.TemporaryDirectory(prefix="dhcpdrill-verify-") as tmp:
            for name, want in sorted(listed.items()):
                if name not in members:
                    ok = False
                    lines.append(f"  MISSING  {name}")
                    continue
                data = tar.extractfile(members[name]).read()
                if sha256(data) != want:
                    ok = False
                    lines.append(f"  ALTERED  {name}: its SHA-256 is not the one recorded")
                target = Path(tmp) / name
                if Path(tmp).resolve() not in target.resolve().parents:
                    ok = False
                    lines.append(f"  REFUSED  {name}: a path outside the archive")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            lines.append(f"files: {len(listed)} listed; harness {manifest['harness'].get('version')} "
                         f"{manifest['harness'].get('git_commit')}; engine {manifest['engine'].get('docker')}, "
                         f"kernel {manifest['engine'].get('kernel')}")
            for run in manifest.get("runs", []):
                lines.append(f"{run['pair']} / {run['drill']}: recorded {run['outcome']} "
                             f"({run['server_versions']})")
                folder = Path(tmp) / run["run"]
                if not (folder / VERDICTS).is_file() or not (folder / "timeline.jsonl").is_file():
                    ok = False
                    lines.append("  CANNOT RE-JUDGE  the run's verdicts.json or timeline.jsonl is missing")
                    continue
                try:
                    judged = _rejudge(folder)
                except (TypeError, ValueError, KeyError) as exc:
                    judged = [f"  CANNOT RE-JUDGE  the run's recorded files cannot be read ({type(exc).__name__}: {exc})"]
                ok = ok and not any(not line.startswith("  same") for line in judged)
                lines.extend(judged)
    lines.append("VERIFIED: every file as recorded, every verdict the same when re-judged" if ok else
                 "NOT VERIFIED: see the lines above")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="an evidence-*.tar.gz a drill run left in its reports folder")
    parser.add_argument("--manifest-sha256", metavar="HEX",
                        help="the manifest SHA-256 the run printed (catches an archive rebuilt with new hashes)")
    args = parser.parse_args(argv)
    try:
        ok, lines = verify(args.archive, args.manifest_sha256)
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        print(f"dhcpdrill-verify: {args.archive}: cannot be read as an evidence archive ({exc})", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
