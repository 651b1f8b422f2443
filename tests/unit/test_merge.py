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

from .test_evidence_bundle import recorded_run, rewrite


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
