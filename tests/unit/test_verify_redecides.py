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
