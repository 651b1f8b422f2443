"""dhcpdrill-merge: shards' archives become one report and one archive that verifies, naming
what it was merged from; an archive that does not verify is not merged."""
from __future__ import annotations

import json
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dhcpdrill import evidence, gonogo, merge, report
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


STALE = "a stale binding can hand an address out twice (may fail: duplicates <= 1 address)"


def decided_shard(tmp_path: Path, name: str, recording: str, drill: str, started: float, line: str | None,
                  accepted: list) -> Path:
    """A shard of a go/no-go run: its line in go-no-go.txt and its acceptances in the manifest."""
    folder = tmp_path / name
    r = recorded_run(folder, recording, drill)
    r.started, r.duration = started, 42.0
    reports = folder / "reports"
    report.write([r], reports, line, accepted)
    if line is not None:
        (reports / gonogo.FILE_NAME).write_text(line + "\n")
    evidence.record_run(r)
    return evidence.bundle([r], reports, {"docker": "20.10 (API 1.41)", "kernel": "6.1"},
                           ["pytest", "drills/", "--go-no-go", "--shard", name], accepted=accepted)[0]


def test_the_sources_go_no_go_lines_and_acceptances_are_carried_into_the_merge(tmp_path):
    """Before: the merged report, archive and JUnit had no go/no-go line and no accepted hazard."""
    taken = [gonogo.Acceptance("kea-hot-standby", "kill-primary", STALE)]
    a = decided_shard(tmp_path, "1of2", "kea-hs-kill-primary", "kill-primary", 1000.0,
                      "GO (1 run of each drill): kea-hot-standby / kill-primary passed (takeover 4 s)", taken)
    b = decided_shard(tmp_path, "2of2", "kea-hs-peer-partition", "peer-partition", 2000.0,
                      "NO-GO (1 run of each drill): kea-hot-standby / failback did not run", taken)
    out = tmp_path / "all"
    path, digest, lines = merge.merge([a, b], out, known_scenarios(), ["dhcpdrill-merge"])
    line = (out / gonogo.FILE_NAME).read_text().strip()
    assert line == (f"NO-GO (merged from 2 go/no-go runs): {a.name}: GO (1 run of each drill): kea-hot-standby / "
                    f"kill-primary passed (takeover 4 s); {b.name}: NO-GO (1 run of each drill): kea-hot-standby / "
                    "failback did not run")
    assert line in lines
    page = (out / "drills.html").read_text()
    assert "<p id='go-no-go' class='fail'>" in page and "id='accepted-hazards'" in page
    props = {(p.get("name"), p.get("value")) for p in ET.parse(out / report.JUNIT_NAME).getroot().iter("property")}
    assert ("accepted_hazard", f"--accept-hazard kea-hot-standby/kill-primary: {STALE}") in props
    ok, said = evidence.verify(path, digest)
    assert ok, said
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile(evidence.MANIFEST).read())
        assert tar.extractfile(gonogo.FILE_NAME).read().decode().strip() == line
    assert manifest["accepted_hazards"] == [t.record() for t in taken]


def test_a_merge_is_go_only_when_every_source_said_go(tmp_path):
    a = decided_shard(tmp_path, "1of2", "kea-hs-kill-primary", "kill-primary", 1000.0, "GO (1 run of each drill): a", [])
    b = decided_shard(tmp_path, "2of2", "kea-hs-peer-partition", "peer-partition", 2000.0,
                      "GO (1 run of each drill): b", [])
    merge.merge([a, b], tmp_path / "all", known_scenarios(), ["dhcpdrill-merge"])
    assert (tmp_path / "all" / gonogo.FILE_NAME).read_text().startswith("GO (merged from 2 go/no-go runs): ")


def test_sources_that_accepted_different_hazards_or_decided_no_line_are_not_merged(tmp_path):
    taken = [gonogo.Acceptance("kea-hot-standby", "failback", STALE)]
    a = decided_shard(tmp_path, "1of3", "kea-hs-kill-primary", "kill-primary", 1000.0, "GO (1 run of each drill): a",
                      taken)
    b = decided_shard(tmp_path, "2of3", "kea-hs-peer-partition", "peer-partition", 2000.0,
                      "GO (1 run of each drill): b", [])
    c = shard(tmp_path, "3of3", [("isc-partner-down", "partner-down")], 3000.0)
    with pytest.raises(ValueError, match=f"{a} accepted --accept-hazard kea-hot-standby/failback but {b} accepted "
                                         "none: one merged report states one acceptance"):
        merge.merge([a, b], tmp_path / "ab", known_scenarios(), ["dhcpdrill-merge"])
    with pytest.raises(ValueError, match=f"{b} is a go/no-go \\(go-no-go.txt\\) but {c} is not"):
        merge.merge([b, c], tmp_path / "bc", known_scenarios(), ["dhcpdrill-merge"])
