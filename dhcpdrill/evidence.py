"""The evidence bundle an auditor keeps, and its verification.

Every run of the drills leaves one archive, ``reports/evidence-<UTC stamp>.tar.gz``: each drill's
run folder (timeline, server logs, lease files, summary, per-run JUnit and HTML, ``verdicts.json``
with the verdicts as judged, and ``pair/`` with the pair's own files as they were drilled), the
run's ``junit-drills.xml`` and ``drills.html``, and ``MANIFEST.json``: the SHA-256 of every file,
each pair's config hash, the harness version and the commit of its own source, separately the
repository and commit each pair folder came from (``provenance``), the image and exact server
versions, the Docker engine and kernel versions, and the command line.

    dhcpdrill-verify reports/evidence-20261130T153000Z.tar.gz [--manifest-sha256 HEX]

checks every file against the manifest, then **re-judges** every recorded timeline with the code
installed now, judging the verdicts its drill must judge (the scenario's, as ``verdicts_for`` gives
them; run it from the project root so ``scenarios/`` is found, else the run's own lab record lists
them), and **re-decides** the drill's outcome from them. It says, per verdict and for the outcome,
whether it comes out the same: a verdict recorded that the drill does not judge, one it judges that
is not recorded, a different status or figure, or a different outcome is DIFFERS, and so are pair
files that do not hash to the pair the run recorded it drilled (``lab.pair_sha256``) and recorded
limits (the takeover and service-gap ``prediction``) unlike those the pair and the scenario give.
When the archive's harness is not the one installed, a line says so, and a verdict its harness did
not judge (absent from its lab record's list) is NEWER, "judged differently by newer code": not
VERIFIED, but no sign of tampering. A file changed
after the run fails its hash; a verdict edited to read "pass", a failing one removed or renamed, or
an outcome set to pass fails the re-judging. Someone who rewrites files *and* the manifest
consistently (a timeline made to agree with itself) is caught only against the manifest's own
SHA-256, which the run prints and a CI log keeps: give it as ``--manifest-sha256``.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import shutil
import sys
import tarfile
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .provenance import harness_identity, pair_source

if TYPE_CHECKING:
    from .runrecord import DrillResult
    from .expectations import Acceptance

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


def engine_identity(client: Any) -> dict[str, str]:
    try:
        v = client.version()
        return {"docker": f"{v.get('Version')} (API {v.get('ApiVersion')})", "kernel": str(v.get("KernelVersion")),
                "os": f"{v.get('Os')}/{v.get('Arch')}"}
    except Exception as exc:  # noqa: BLE001 - the bundle says what it could not learn
        return {"docker": f"unknown ({exc})", "kernel": platform.release()}


def bundle(results: list["DrillResult"], reports: Path, engine: dict[str, str], command: list[str],
           merged_from: list[dict[str, str]] | None = None, accepted: Sequence["Acceptance"] = (),
           pair_sources: dict[str, dict[str, str]] | None = None) -> tuple[Path, str]:
    """Write the run's evidence archive; return its path and its manifest's SHA-256. A merged
    archive (``dhcpdrill-merge``) names the archives it was made from and their manifest digests,
    and carries their ``pair_sources`` (its pair folders are extracted copies); a go/no-go's
    manifest names the known hazards it accepted (``--accept-hazard``)."""
    if pair_sources is None:
        pair_sources = {r.pair.name: pair_source(r.pair.folder) for r in results}
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
                           "pair_sources": pair_sources,
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


TAMPERED = ("DIFFERS", "MANIFEST DIFFERS", "UNLISTED", "MISSING", "ALTERED", "REFUSED", "CANNOT")
SAME, NEWER, DIFFERS = "same", "newer", "differs"  # how a run re-judges: as recorded, only new code, or not


def _required(drill: str, pair: Any, tl: Any) -> tuple[tuple[str, ...], str, Any] | None:
    """The verdicts the drill must have judged (``verdicts_for`` over the project's scenario),
    where that list came from, and the scenario (None when only the run's own lab record lists
    them, the scenario not being here); None when neither says."""
    from .catalogue import known_scenarios
    from .scenario import verdicts_for
    from .servers import adapter_for
    scenario = known_scenarios().get(drill)
    lab = tl.first("lab")
    if scenario is not None:  # with the real client daemons the run recorded it ran (their verdicts with them)
        real = tuple(lab.get("real_clients") or ()) if lab is not None else ()
        return verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair, real), "the drill's scenario", scenario
    if lab is None or not lab.get("verdicts"):
        return None
    return tuple(lab.get("verdicts")), (f"the run's lab record (drill {drill!r} is not among the scenarios here: run "
                                        "from the project root to check against the scenario)"), None


def _figure(figure: float | None, unit: str = "") -> str:
    return "" if figure is None else f" {figure:g}{unit and ' ' + unit}"


def _pair_differs(pair: Any, tl: Any, recorded: dict) -> list[str]:
    """The archive's pair files against the pair the run recorded it drilled: re-judged under
    other files, the thresholds are not the run's."""
    said = {"the timeline's lab record": (tl.first("lab").get("pair_sha256") if tl.first("lab") else None),
            "verdicts.json": recorded.get("pair_config_sha256")}
    other = [f"{where} says {digest}" for where, digest in said.items() if digest and digest != pair.config_hash]
    return [f"  DIFFERS  pair: the archive's pair files hash to {pair.config_hash}, but {'; '.join(other)}: "
            "re-judged under files the run did not drill"] if other else []


def _limits_differ(pair: Any, scenario: Any, tl: Any) -> list[str]:
    """Limits the run recorded before its lab started (``prediction`` of takeover and service-gap)
    against the same worked out again from the pair and the scenario, as ``drill.run`` does."""
    from .scenario import drill_service_gap, drill_window
    from .servers import adapter_for
    plan = adapter_for(pair).lab_plan(pair)
    takeover, _ = drill_window(pair, scenario, plan)
    gap = drill_service_gap(pair, scenario, plan).as_prediction()
    expected = {"takeover": {"low_s": takeover.low_s, "high_s": takeover.high_s} if takeover else None,
                "service-gap": {k: gap[k] for k in ("high_s", "hand_back_s", "give_up_s")}}
    out = []
    for e in tl.of("prediction"):
        want = expected.get(e.get("of"))
        got = {k: e.get(k) for k in want or ()}
        if want is not None and got != want:
            out.append(f"  DIFFERS  {e.get('of')} limit: recorded {got}, the pair's timers and the scenario give {want}")
    return out


def _redecide(run: Path, listed_outcome: str, newer_code: bool = False) -> tuple[str, list[str]]:
    """Judge a run's recorded timeline again with this code, the verdicts its drill must judge, and
    decide its outcome again: (SAME, NEWER or DIFFERS, one line per verdict and one for the outcome).
    A verdict recorded that the drill does not judge, one it judges that is not recorded, a
    different status or figure, a different outcome, recorded limits or pair files unlike the
    pair's is a DIFFERS line. With ``newer_code`` (the archive's harness is not the one installed),
    a verdict the recording harness did not judge (not in its lab record's list) is NEWER, "judged
    differently by newer code", and so is an outcome that only such verdicts change."""
    from .manifest import read_manifest
    from .outcome import decide
    from .problems import PairError
    from .events import problems as event_problems
    from .timeline import Timeline
    from .verdicts import judge
    recorded = json.loads((run / VERDICTS).read_text())
    pair, problems, _ = read_manifest(run / PAIR_DIR)
    if problems:
        return DIFFERS, [f"  CANNOT RE-JUDGE  the recorded pair.toml is unfit now: {problems[0]}"]
    drill, tl = recorded["drill"], Timeline.load(run / "timeline.jsonl")
    try:
        found, limits = _required(drill, pair, tl), pair.thresholds(drill)
    except PairError as exc:
        return DIFFERS, [f"  CANNOT RE-DECIDE  the recorded pair is unfit now: {exc}"]
    if found is None:
        return DIFFERS, [f"  CANNOT RE-DECIDE  drill {drill!r} is not among this project's scenarios and its timeline "
                         "does not list its verdicts: run dhcpdrill-verify from the project root"]
    required, source, scenario = found
    now = judge(tl, limits, required, scenario.workload if scenario else None)
    by_name = {v.name: v for v in now}
    lab = tl.first("lab")
    had = set(lab.get("verdicts") or ()) if lab is not None and lab.get("verdicts") else None
    lines = [f"  verdicts the drill judges, from {source}: {', '.join(required)}",
             *_pair_differs(pair, tl, recorded), *(_limits_differ(pair, scenario, tl) if scenario else [])]
    status = DIFFERS if len(lines) > 1 else SAME
    newer: set[str] = set()
    seen: set[str] = set()
    for old in recorded["verdicts"]:
        name, figure = old["name"], _figure(old["figure"], old["unit"])
        new = by_name.get(name)
        if new is None or name in seen:
            status = DIFFERS
            lines.append(f"  DIFFERS  {name}: recorded {old['status']}{figure}, but "
                         + ("recorded twice" if new else "this drill judges no verdict of that name"))
        elif (new.status, new.figure) == (old["status"], old["figure"]):
            lines.append(f"  same     {name}: {old['status']}{figure}")
        else:
            status = DIFFERS
            lines.append(f"  DIFFERS  {name}: recorded {old['status']}{figure}, re-judged {new.status}"
                         f"{_figure(new.figure)} ({new.reason[:160]})")
        seen.add(name)
    for new in now:
        if new.name in seen:
            continue
        said = f"re-judged {new.status}{_figure(new.figure, new.unit)} ({new.reason[:160]})"
        if newer_code and had is not None and new.name not in had:
            newer.add(new.name)
            lines.append(f"  NEWER    {new.name}: judged differently by newer code (the recording harness did not "
                         f"judge it); {said}")
        else:
            status = DIFFERS
            lines.append(f"  DIFFERS  {new.name}: not recorded, though the drill judges it; {said}")
    outcome = decide(now, recorded.get("error"), limits.known_hazard)
    if outcome.status == recorded["outcome"] == listed_outcome:
        lines.append(f"  outcome  {outcome.status}, re-decided the same")
    else:
        old_only = decide([v for v in now if v.name not in newer], recorded.get("error"), limits.known_hazard)
        by_newer = newer and old_only.status == recorded["outcome"] == listed_outcome
        status = DIFFERS if not by_newer else status
        lines.append(f"  {'NEWER   ' if by_newer else 'DIFFERS '} outcome: recorded {recorded['outcome']} "
                     f"(the manifest says {listed_outcome}), re-decided {outcome.status}"
                     + (f" by newer code's verdicts {', '.join(sorted(newer))}, {old_only.status} without them"
                        if by_newer else "")
                     + (f" ({'; '.join(r[:120] for r in outcome.reasons)})" if outcome.reasons else ""))
    # Said, not judged: an older harness's kinds and fields are the archive's truth, not tampering.
    lines.extend(f"  events   {line}" for line in event_problems(tl)[:10])
    return (NEWER if status == SAME and newer else status), lines


def verify(archive: Path, manifest_sha256: str | None = None) -> tuple[bool, list[str]]:
    """Check an evidence archive: (everything holds, what was found, line by line). When the
    archive's harness is not the one installed, a line says so, and what only newer code judges
    differently is told apart from what differs (see ``_redecide``): still not verified."""
    lines, ok, newer = [], True, False
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
            for name, source in sorted(manifest.get("pair_sources", {}).items()):
                lines.append(f"pair {name} from {source.get('repository') or source.get('folder')} "
                             f"at {source.get('git_commit')}")
            then, installed = manifest["harness"], harness_identity()
            newer_code = (then.get("version"), then.get("git_commit")) != (installed["version"], installed["git_commit"])
            if newer_code:
                lines.append(f"harness installed now: {installed['version']} {installed['git_commit']}, not the "
                             "archive's: verdicts it did not judge are told apart (NEWER)")
            for run in manifest.get("runs", []):
                lines.append(f"{run['pair']} / {run['drill']}: recorded {run['outcome']} "
                             f"({run['server_versions']})")
                folder = Path(tmp) / run["run"]
                if not (folder / VERDICTS).is_file() or not (folder / "timeline.jsonl").is_file():
                    ok = False
                    lines.append("  CANNOT RE-JUDGE  the run's verdicts.json or timeline.jsonl is missing")
                    continue
                try:
                    how, judged = _redecide(folder, run["outcome"], newer_code)
                except (TypeError, ValueError, KeyError) as exc:
                    how, judged = DIFFERS, [f"  CANNOT RE-JUDGE  the run's recorded files cannot be read "
                                            f"({type(exc).__name__}: {exc})"]
                ok = ok and how == SAME
                newer = newer or how == NEWER
                lines.extend(judged)
    if ok:
        lines.append("VERIFIED: every file as recorded, every verdict and outcome the same when re-judged")
    elif newer and not any(line.lstrip().startswith(TAMPERED) for line in lines):
        lines.append("NOT VERIFIED: every file as recorded; judged differently by newer code only (the NEWER lines "
                     "above), no sign of tampering: re-verify with the archive's own harness version")
    else:
        lines.append("NOT VERIFIED: see the lines above")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="an evidence-*.tar.gz a drill run left in its reports folder")
    parser.add_argument("--manifest-sha256", metavar="HEX",
                        help="the manifest SHA-256 the run printed (catches an archive rebuilt with new hashes)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path.cwd()))  # the project's scenarios/, when run from its root
    try:
        ok, lines = verify(args.archive, args.manifest_sha256)
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        print(f"dhcpdrill-verify: {args.archive}: cannot be read as an evidence archive ({exc})", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
