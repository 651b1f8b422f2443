"""dhcpdrill-merge: shards' archives become one report and one archive that verifies, naming
what it was merged from; an archive that does not verify is not merged."""
from __future__ import annotations

import json
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dhcpdrill import evidence, merge, report
from dhcpdrill.catalogue import known_scenarios

from .test_evidence_bundle import member, recorded_run, rewrite


def shard(tmp_path: Path, name: str, runs: list[tuple[str, str]], started: float) -> Path:
    folder = tmp_path / name
    results = []
    for i, (recording, drill) in enumerate(runs):
        r = recorded_run(folder, recording, drill)
        r.started, r.duration = started + 100 * i, 42.0 + i
        results.append(r)
    reports = folder / "reports"
    report.write(results, reports)
    for r in results:
        evidence.record_run(r)
    path, _ = evidence.bundle(results, reports, {"docker": "20.10 (API 1.41)", "kernel": "6.1"},
                              ["pytest", "drills/", "--shard", name])
    return path


def test_two_shards_merge_into_one_report_and_one_verified_archive(tmp_path):
    a = shard(tmp_path, "1of2", [("kea-hs-kill-primary", "kill-primary")], 1000.0)
    b = shard(tmp_path, "2of2", [("kea-hs-peer-partition", "peer-partition"), ("isc-partner-down", "partner-down")],
              2000.0)
    out = tmp_path / "all"
    path, digest, lines = merge.merge([a, b], out, known_scenarios(), ["dhcpdrill-merge"])
    suites = ET.parse(out / "junit-drills.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["kea-hot-standby / kill-primary", "kea-hot-standby / peer-partition",
                                               "isc-failover / partner-down"]
    page = (out / "drills.html").read_text()
    assert page.count("<table class='glance'>") == 1 and page.count("<svg") == 3
    ok, said = evidence.verify(path, digest)
    assert ok, said
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile(evidence.MANIFEST).read())
    assert [m["archive"] for m in manifest["merged_from"]] == [a.name, b.name]
    assert all(len(m["manifest_sha256"]) == 64 for m in manifest["merged_from"])
    assert [r["outcome"] for r in manifest["runs"]] == ["pass", "expected-failure", "pass"]
    assert f"{a}: verified, 1 run(s)" in lines


def test_an_archive_that_does_not_verify_is_not_merged(tmp_path):
    a = shard(tmp_path, "1of2", [("kea-hs-kill-primary", "kill-primary")], 1000.0)
    with tarfile.open(a) as tar:
        name = next(m.name for m in tar.getmembers() if m.name.endswith("timeline.jsonl"))
    bad = rewrite(a, {name: b"{}\n"})
    with pytest.raises(ValueError, match="does not verify, so it is not merged"):
        merge.merge([bad], tmp_path / "all", known_scenarios(), ["dhcpdrill-merge"])


def test_the_same_run_twice_is_refused(tmp_path):
    a = shard(tmp_path, "1of2", [("kea-hs-kill-primary", "kill-primary")], 1000.0)
    with pytest.raises(ValueError, match="already in"):
        merge.merge([a, a], tmp_path / "all", known_scenarios(), ["dhcpdrill-merge"])


def test_the_digests_given_are_checked_and_a_rebuilt_archive_is_not_merged(tmp_path, capsys):
    """A shard archive rebuilt with new hashes verifies against itself; the digest its run
    printed refuses it (dhcpdrill-merge took no digest before, so it merged it)."""
    a = shard(tmp_path, "1of2", [("kea-hs-kill-primary", "kill-primary")], 1000.0)
    b = shard(tmp_path, "2of2", [("kea-hs-peer-partition", "peer-partition")], 2000.0)
    digest_a, digest_b = (evidence.sha256(member(p, evidence.MANIFEST)[1]) for p in (a, b))
    with tarfile.open(b) as tar:
        name = next(m.name for m in tar.getmembers() if m.name.endswith("timeline.jsonl"))
        data = tar.extractfile(name).read()
    rebuilt = rewrite(b, {name: data + b'{"data": {}, "kind": "note", "source": "someone", "t": 0.0}\n'},
                      redo_hashes=True)
    assert evidence.verify(rebuilt)[0]  # consistent with itself
    assert merge.main(["--out", str(tmp_path / "x"), str(a), str(rebuilt),
                       "--manifest-sha256", digest_a, "--manifest-sha256", digest_b]) == 1
    said = capsys.readouterr().err
    assert f"{rebuilt}: its manifest sha256 {evidence.sha256(member(rebuilt, evidence.MANIFEST)[1])} is none of the digests given" in said
    assert not (tmp_path / "x" / "junit-drills.xml").exists()
    with pytest.raises(ValueError, match=f"--manifest-sha256 {'0' * 64} is the manifest digest of none"):
        merge.merge([a], tmp_path / "y", known_scenarios(), ["dhcpdrill-merge"], [digest_a, "0" * 64])
    path, _, lines = merge.merge([b, a], tmp_path / "all", known_scenarios(), ["dhcpdrill-merge"],
                                 [digest_a.upper(), digest_b])
    assert f"  manifest sha256 {digest_b}: one of the digests given" in lines
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile(evidence.MANIFEST).read())
    assert [m["digest_checked"] for m in manifest["merged_from"]] == [True, True]
