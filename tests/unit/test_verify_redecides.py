"""dhcpdrill-verify re-decides each drill's outcome from the re-judged verdicts and the verdicts
the drill must judge; an archive rebuilt (hashes redone, no digest given) with a failing verdict
removed, renamed or a required one dropped, or its outcome set to pass, says DIFFERS."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from dhcpdrill import catalogue, evidence, report

from .test_evidence_bundle import member, recorded_run, rewrite

FAILED_RUN = "run-kea-lb-freeze-stale-primary"  # failed live: stale primary, three addresses bound twice
PASSED_RUN = "run-kea-hs-kill-primary"


@pytest.fixture
def archive(tmp_path) -> Path:
    results = [recorded_run(tmp_path, "kea-lb-freeze-stale-primary", "freeze-primary"),
               recorded_run(tmp_path, "kea-hs-kill-primary", "kill-primary")]
    assert [r.outcome.status for r in results] == ["fail", "pass"]
    reports = tmp_path / "reports"
    report.write(results, reports)
    for r in results:
        evidence.record_run(r)
    path, digest = evidence.bundle(results, reports, {"docker": "20.10 (API 1.41)", "kernel": "6.1"}, ["pytest"])
    assert evidence.verify(path, digest)[0]
    return path


def forged(path: Path, run: str, edit: Callable[[dict], None]) -> Path:
    """The archive rebuilt as a forger would: ``edit`` changes the run's verdicts.json, the
    manifest then lists the outcome it says and every file's new hash (no digest to check)."""
    name, data = member(path, f"{run}/verdicts.json")
    recorded = json.loads(data)
    edit(recorded)
    manifest = json.loads(member(path, evidence.MANIFEST)[1])
    for entry in manifest["runs"]:
        if entry["run"].endswith(run):
            entry["outcome"] = recorded["outcome"]
    return rewrite(path, {name: json.dumps(recorded).encode(), evidence.MANIFEST: json.dumps(manifest).encode()},
                   redo_hashes=True)


def differs(path: Path) -> list[str]:
    ok, lines = evidence.verify(path)
    assert not ok and lines[-1].startswith("NOT VERIFIED"), "\n".join(lines)
    assert evidence.main([str(path)]) == 1
    return [line for line in lines if line.startswith("  DIFFERS")]


def test_the_failing_verdicts_removed_and_the_outcome_set_to_pass_differs(archive):
    def edit(recorded: dict) -> None:
        recorded["verdicts"] = [v for v in recorded["verdicts"] if v["status"] == "pass"]
        recorded["outcome"], recorded["reasons"] = "pass", []
    said = differs(forged(archive, FAILED_RUN, edit))
    assert "  DIFFERS  duplicates: not recorded, though the drill judges it; re-judged fail 3" in "\n".join(said)
    assert any(line.startswith("  DIFFERS  outcome: recorded pass (the manifest says pass), re-decided fail")
               and "state-transitions: fail" in line for line in said), said


def test_only_the_outcome_set_to_pass_differs(archive):
    def edit(recorded: dict) -> None:
        recorded["outcome"] = "pass"
    said = differs(forged(archive, FAILED_RUN, edit))
    assert len(said) == 1 and said[0].startswith("  DIFFERS  outcome: recorded pass"), said


def test_a_failing_verdict_renamed_to_one_the_drill_does_not_judge_differs(archive):
    """Renamed to mclt-cap, with mclt-cap's own re-judged status (not judged: a Kea pair has no
    MCLT), each recorded verdict re-judges the same: only the drill's list tells."""
    def edit(recorded: dict) -> None:
        v = next(v for v in recorded["verdicts"] if v["name"] == "duplicates")
        v.update(name="mclt-cap", status="not-judged", figure=None, unit="s")
    said = "\n".join(differs(forged(archive, FAILED_RUN, edit)))
    assert "  DIFFERS  mclt-cap: recorded not-judged, but this drill judges no verdict of that name" in said
    assert "  DIFFERS  duplicates: not recorded, though the drill judges it; re-judged fail 3" in said
    assert "outcome" not in said  # still recorded as the failure it was


def test_a_verdict_the_scenario_requires_dropped_from_a_pass_differs(archive):
    def edit(recorded: dict) -> None:
        recorded["verdicts"] = [v for v in recorded["verdicts"] if v["name"] != "reply-checksums"]
    said = differs(forged(archive, PASSED_RUN, edit))
    assert said == ["  DIFFERS  reply-checksums: not recorded, though the drill judges it; re-judged pass 0 "
                    "(0 of 47 replies had a bad UDP checksum)"], said


def test_a_verdict_recorded_twice_differs(archive):
    def edit(recorded: dict) -> None:
        recorded["verdicts"].append(dict(recorded["verdicts"][0]))
    said = differs(forged(archive, PASSED_RUN, edit))
    assert said == ["  DIFFERS  steady-state: recorded pass, but recorded twice"], said


def test_without_the_scenario_the_runs_own_record_of_its_verdicts_is_the_list(archive, monkeypatch):
    """Verified away from the project (no scenarios/): the timeline's lab record lists what the
    drill judged; a run whose timeline predates that record cannot be re-decided."""
    monkeypatch.setattr(catalogue, "known_scenarios", lambda: {})
    ok, lines = evidence.verify(archive)
    assert not ok
    assert any(line.startswith("  verdicts the drill judges, from the run's lab record (drill 'freeze-primary' is "
                               "not among the scenarios here") for line in lines), lines
    assert "  outcome  fail, re-decided the same" in lines
    assert any(line.startswith("  CANNOT RE-DECIDE  drill 'kill-primary' is not among this project's scenarios")
               for line in lines), lines


def test_a_run_whose_recorded_pair_lost_its_drill_table_cannot_be_re_decided(archive):
    name, data = member(archive, f"{PASSED_RUN}/pair/pair.toml")
    cut = data.decode().replace("[drills.kill-primary]", "[drills.unrelated-drill]").encode()
    assert cut != data
    ok, lines = evidence.verify(rewrite(archive, {name: cut}, redo_hashes=True))
    assert not ok and any(line.startswith("  CANNOT RE-DECIDE  the recorded pair is unfit now") for line in lines), lines


def rewritten_timeline(path: Path, run: str, edit: Callable[[dict], None], also: dict | None = None) -> Path:
    """The archive rebuilt with each of the run's timeline events passed through ``edit`` (hashes redone)."""
    name, data = member(path, f"{run}/timeline.jsonl")
    events = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    for e in events:
        edit(e)
    return rewrite(path, {name: "".join(json.dumps(e) + "\n" for e in events).encode(), **(also or {})},
                   redo_hashes=True)


def test_a_loosened_pair_toml_in_the_archive_differs_from_the_pair_the_run_drilled(archive):
    """Re-judged under the archive's own pair.toml, a loosened threshold that changes no figure
    read VERIFIED on c0d8884: the hash the run recorded of the pair it drilled now says DIFFERS."""
    name, data = member(archive, f"{PASSED_RUN}/pair/pair.toml")
    loose = data.decode().replace("max_takeover_s = 15", "max_takeover_s = 150", 1).encode()
    assert loose != data
    said = differs(rewrite(archive, {name: loose}, redo_hashes=True))
    assert len(said) == 1 and said[0].startswith("  DIFFERS  pair: the archive's pair files hash to "), said
    assert "the timeline's lab record says " in said[0] and "verdicts.json says " in said[0]


def test_a_service_gap_limit_widened_in_the_timeline_differs_from_the_pairs_timers(archive):
    def widen(e: dict) -> None:
        if e["kind"] == "prediction" and e["data"].get("of") == "service-gap":
            e["data"]["high_s"] = 600.0
    said = differs(rewritten_timeline(archive, PASSED_RUN, widen))
    assert len(said) == 1 and said[0].startswith("  DIFFERS  service-gap limit: recorded {'high_s': 600.0"), said


def older_harness(path: Path, drop_also: str | None = None) -> Path:
    """The archive as a harness before service-held would have left it: no such verdict in its
    verdicts.json nor in its lab record's list, another commit in the manifest."""
    gone = {"service-held", *([drop_also] if drop_also else [])}
    vname, vdata = member(path, f"{PASSED_RUN}/verdicts.json")
    recorded = json.loads(vdata)
    judged_then = [v["name"] for v in recorded["verdicts"] if v["name"] != "service-held"]
    recorded["verdicts"] = [v for v in recorded["verdicts"] if v["name"] not in gone]
    manifest = json.loads(member(path, evidence.MANIFEST)[1])
    manifest["harness"]["git_commit"] = "c449a4a0000000000000000000000000000000000"

    def lab(e: dict) -> None:
        if e["kind"] == "lab":
            e["data"]["verdicts"] = judged_then
    return rewritten_timeline(path, PASSED_RUN, lab, {vname: json.dumps(recorded).encode(),
                                                      evidence.MANIFEST: json.dumps(manifest).encode()})


def test_an_archive_of_an_older_harness_is_judged_differently_by_newer_code_not_tampered(archive):
    """c0d8884 called every older archive DIFFERS for verdicts its harness never judged, mixing
    code changes with tampering: those are NEWER, the harness is named, and it is still not VERIFIED."""
    ok, lines = evidence.verify(older_harness(archive))
    assert not ok and not [line for line in lines if line.startswith("  DIFFERS")], lines
    assert any(line.startswith("harness installed now: ") for line in lines), lines
    assert any(line.startswith("  NEWER    service-held: judged differently by newer code") for line in lines), lines
    assert lines[-1].startswith("NOT VERIFIED: every file as recorded; judged differently by newer code only")


def test_an_older_harness_does_not_excuse_a_verdict_it_did_judge(archive):
    ok, lines = evidence.verify(older_harness(archive, drop_also="reply-checksums"))
    assert not ok and lines[-1] == "NOT VERIFIED: see the lines above"
    assert any(line.startswith("  DIFFERS  reply-checksums: not recorded") for line in lines), lines
