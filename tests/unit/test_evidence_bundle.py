"""The evidence archive: verified as it was written; any change to a file, a verdict flipped to
pass (even with the manifest's hashes redone), a file added, or a rebuilt archive is caught."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from dhcpdrill import evidence, report
from dhcpdrill.drill import DrillResult
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import judge

from . import test_real_evidence as real


def recorded_run(tmp_path: Path, name: str, drill: str) -> DrillResult:
    tl = real.load(name)
    pair = real.load_pair(real.ROOT / "fixtures" / tl.first("lab").get("pair"))
    scenario = real.SCENARIOS[drill]
    tl = real.with_prediction(tl, pair, scenario)
    # as a run of today's fixture records it: the pair it drilled is the one its archive keeps
    tl = Timeline(Event(e.t, e.source, e.kind, {**e.data, "pair_sha256": pair.config_hash}) if e.kind == "lab" else e
                  for e in tl.events)
    result = DrillResult(pair, scenario, "dhcpdrill/lab:bookworm-test", tmp_path / "reports" / f"run-{name}", 0.0, tl,
                         judge(tl, pair.drills[drill], real.drilled(pair, scenario)))
    result.versions = "kea-dhcp4 2.2.0; dhcpd isc-dhcpd-4.4.3-P1; image sha256:test"
    result.run_dir.mkdir(parents=True)
    tl.save(result.run_dir / "timeline.jsonl")
    return result


@pytest.fixture
def archive(tmp_path) -> tuple[Path, str]:
    results = [recorded_run(tmp_path, "kea-hs-kill-primary", "kill-primary"),
               recorded_run(tmp_path, "kea-hs-peer-partition", "peer-partition")]
    reports = tmp_path / "reports"
    report.write(results, reports)
    for r in results:
        evidence.record_run(r)
    return evidence.bundle(results, reports, {"docker": "20.10 (API 1.41)", "kernel": "6.1"}, ["pytest", "drills/"])


def rewrite(path: Path, change: dict, redo_hashes: bool = False) -> Path:
    """A copy of the archive with members replaced (name -> new bytes, or None to add nothing)."""
    with tarfile.open(path, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    members.update(change)
    if redo_hashes:
        manifest = json.loads(members[evidence.MANIFEST])
        manifest["files"] = {n: evidence.sha256(d) for n, d in members.items() if n != evidence.MANIFEST}
        members[evidence.MANIFEST] = json.dumps(manifest).encode()
    out = path.with_name("tampered.tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def member(path: Path, suffix: str) -> tuple[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        m = next(m for m in tar.getmembers() if m.name.endswith(suffix))
        return m.name, tar.extractfile(m).read()


def test_a_fresh_archive_verifies_and_every_verdict_rejudges_the_same(archive):
    path, digest = archive
    ok, lines = evidence.verify(path, digest)
    assert ok, "\n".join(lines)
    assert lines[-1].startswith("VERIFIED")
    hs = real.load_pair(real.ROOT / "fixtures" / "kea-hot-standby")
    assert sum(line.startswith("  same") for line in lines) == len(real.drilled(hs, real.SCENARIOS["kill-primary"])) + \
        len(real.drilled(hs, real.SCENARIOS["peer-partition"]))
    manifest = json.loads(member(path, evidence.MANIFEST)[1])
    assert manifest["engine"]["kernel"] == "6.1" and manifest["command"] == ["pytest", "drills/"]
    assert {r["pair_config_sha256"] for r in manifest["runs"]} and manifest["harness"]["git_commit"]
    assert any(n.endswith("/pair/pair.toml") for n in manifest["files"]) and "junit-drills.xml" in manifest["files"]
    assert evidence.main([str(path), "--manifest-sha256", digest]) == 0


def test_an_altered_timeline_fails_its_hash(archive):
    path, _ = archive
    name, data = member(path, "run-kea-hs-kill-primary/timeline.jsonl")
    ok, lines = evidence.verify(rewrite(path, {name: data.replace(b'"ACK"', b'"NAK"', 1)}))
    assert not ok and any(line.startswith(f"  ALTERED  {name}") for line in lines)


def test_a_failure_edited_into_a_pass_is_caught_by_rejudging_even_with_new_hashes(archive):
    path, digest = archive
    name, data = member(path, "run-kea-hs-peer-partition/verdicts.json")
    recorded = json.loads(data)
    split = next(v for v in recorded["verdicts"] if v["name"] == "split-brain")
    assert split["status"] == "fail"  # the recorded split brain
    split["status"] = "pass"
    forged = rewrite(path, {name: json.dumps(recorded).encode()}, redo_hashes=True)
    ok, lines = evidence.verify(forged)
    assert not ok and any(line.startswith("  DIFFERS  split-brain: recorded pass") for line in lines), lines
    ok, lines = evidence.verify(forged, digest)
    assert any("MANIFEST DIFFERS" in line for line in lines)


def test_a_rewritten_timeline_with_new_hashes_is_caught_by_the_recorded_manifest_hash(archive):
    """Hashes redone and the timeline made to agree with itself: only the printed digest tells."""
    path, digest = archive
    name, data = member(path, "run-kea-hs-kill-primary/timeline.jsonl")
    extra = b'{"data": {}, "kind": "note", "source": "someone", "t": 0.0}\n'
    forged = rewrite(path, {name: data + extra}, redo_hashes=True)
    assert evidence.verify(forged)[0] is True  # consistent with itself: the archive alone cannot tell
    ok, lines = evidence.verify(forged, digest)
    assert not ok and any("MANIFEST DIFFERS" in line for line in lines)


def test_a_file_added_after_the_run_is_named(archive):
    path, _ = archive
    ok, lines = evidence.verify(rewrite(path, {"run-x/extra.txt": b"later"}))
    assert not ok and "  UNLISTED run-x/extra.txt: added after the run" in lines


def test_something_that_is_not_an_archive_gets_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "x.tar.gz"
    bad.write_text("not a tarball")
    assert evidence.main([str(bad)]) == 2
    assert "cannot be read as an evidence archive" in capsys.readouterr().err


def test_an_unreadable_timeline_is_reported_not_a_crash(archive):
    path, _ = archive
    with tarfile.open(path) as tar:
        name = next(m.name for m in tar.getmembers() if m.name.endswith("timeline.jsonl"))
    ok, lines = evidence.verify(rewrite(path, {name: b'{"not": "an event"}\n'}, redo_hashes=True))
    assert not ok and any("CANNOT RE-JUDGE  the run's recorded files cannot be read (TypeError" in l for l in lines)
