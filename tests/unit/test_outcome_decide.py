"""``outcome.decide`` on the verdicts of real recorded drills: each way a known hazard, an error or
a precondition turns a drill's verdicts into its outcome, with the reason the outcome states.
(Written for the mutants of ``decide`` that scripts/mutation-score found surviving.)"""
from __future__ import annotations

import dataclasses

import pytest

from dhcpdrill.expectations import KnownHazard
from dhcpdrill.outcome import EXPECTED, FAILED, PASSED, decide
from dhcpdrill.verdicts import FAIL, NOT_JUDGED, PASS, UNKNOWN, Verdict

from .test_real_evidence import judged, load

WHY = "a hazard stated for this test"


def _verdicts(name: str, drill: str) -> list[Verdict]:
    return [v for k, v in judged(load(name), drill).items() if k != "outcome"]


def _set(verdicts: list[Verdict], name: str, status: str, reason: str = "made to fail") -> list[Verdict]:
    return [dataclasses.replace(v, status=status, reason=reason) if v.name == name else v for v in verdicts]


def test_the_recorded_kill_primary_passes_with_no_hazard_and_with_one_that_did_not_strike():
    verdicts = _verdicts("kea-hs-kill-primary", "kill-primary")
    assert all(v.status == PASS for v in verdicts)
    spared = KnownHazard(WHY, (), ("duplicates",), {"duplicates": 1})
    for hazard in (None, spared):
        out = decide(verdicts, None, hazard)
        assert (out.status, out.label, out.reasons, out.as_expected) == (PASSED, "PASS", (), ())


def test_an_error_fails_the_drill_first_and_keeps_every_bad_verdict_after_it():
    verdicts = _set(_verdicts("kea-hs-kill-primary", "kill-primary"), "takeover", FAIL, "no takeover")
    out = decide(verdicts, "the Docker engine stopped", KnownHazard(WHY, ("takeover",)))
    assert out.status == FAILED and out.label == "FAIL"
    assert out.reasons == ("error: the Docker engine stopped", "takeover: fail: no takeover")


def test_a_hazard_naming_a_verdict_the_drill_did_not_judge_is_a_failure_saying_so():
    verdicts = _verdicts("kea-hs-kill-primary", "kill-primary")
    assert "failback-sync" not in {v.name for v in verdicts}
    out = decide(verdicts, None, KnownHazard(WHY, ("failback-sync",)))
    assert out.status == FAILED
    assert out.reasons == ("failback-sync: the known hazard names it, but this drill did not judge it",)


def test_a_hazard_whose_verdict_is_unknown_is_not_its_stated_failure():
    """The real engine-killed run: service-held is UNKNOWN (the engine went away), which is not
    the failure a hazard naming it states."""
    verdicts = _verdicts("kea-hs-kill-primary-engine-killed", "kill-primary")
    held = next(v for v in verdicts if v.name == "service-held")
    assert held.status == UNKNOWN
    out = decide([v for v in verdicts if v.name == "service-held" or v.ok], None, KnownHazard(WHY, ("service-held",)))
    assert out.status == FAILED
    assert out.reasons == (f"service-held: unknown, not the failure the known hazard states: {held.reason}",)


def test_a_stated_failure_that_passed_is_an_unexpected_pass_naming_the_hazard():
    out = decide(_verdicts("kea-hs-kill-primary", "kill-primary"), None, KnownHazard(WHY, ("takeover",)))
    assert out.status == FAILED
    assert out.reasons == (f"takeover: passed, unexpectedly: the known hazard says it fails ({WHY}); "
                           "check the pair's expectations",)


def test_a_failed_precondition_and_a_verdict_the_hazard_does_not_name_are_real_failures():
    verdicts = _set(_set(_verdicts("kea-hs-kill-primary", "kill-primary"), "takeover", FAIL, "too slow"),
                    "fault-effective", FAIL, "the kill did not bite")
    verdicts = _set(verdicts, "continuity", FAIL, "two moved")
    out = decide(verdicts, None, KnownHazard(WHY, ("takeover",), (), {"takeover": 30}))
    assert out.status == FAILED
    assert out.reasons == ("fault-effective: fail: the kill did not bite (no hazard excuses it)",
                           "continuity: fail: two moved (not a verdict the known hazard names)")


def test_the_hazards_failure_alone_is_expected_and_says_which_verdicts_failed_as_stated():
    verdicts = _set(_verdicts("kea-hs-kill-primary", "kill-primary"), "takeover", FAIL, "too slow")
    out = decide(verdicts, None, KnownHazard(WHY, ("takeover",), (), {"takeover": 30}))
    assert (out.status, out.label, out.reasons, out.as_expected) == (
        EXPECTED, "FAIL, AS EXPECTED", (f"known hazard: {WHY}",), ("takeover",))


def test_a_may_fail_verdict_that_failed_within_its_bound_is_expected_and_named():
    verdicts = _set(_verdicts("kea-hs-kill-primary", "kill-primary"), "duplicates", FAIL, "one")
    verdicts = [dataclasses.replace(v, figure=1) if v.name == "duplicates" else v for v in verdicts]
    out = decide(verdicts, None, KnownHazard(WHY, (), ("duplicates",), {"duplicates": 1}))
    assert (out.status, out.reasons, out.as_expected) == (EXPECTED, (f"known hazard: {WHY}",), ("duplicates",))


def test_a_verdict_not_judged_never_decides():
    verdicts = _set(_verdicts("kea-hs-kill-primary", "kill-primary"), "takeover-predicted", NOT_JUDGED, "not judged")
    assert decide(verdicts, None, None).status == PASSED
    assert decide(verdicts, None, KnownHazard(WHY, ("takeover-predicted",))).reasons == (
        "takeover-predicted: the known hazard names it, but this drill did not judge it",)


def test_a_may_fail_verdict_that_is_unknown_is_never_excused():
    """The real engine-killed run again: a hazard that may break service-held does not excuse it
    being UNKNOWN, and says so in full."""
    verdicts = _verdicts("kea-hs-kill-primary-engine-killed", "kill-primary")
    held = next(v for v in verdicts if v.name == "service-held")
    out = decide([v for v in verdicts if v.name == "service-held" or v.ok], None,
                 KnownHazard(WHY, (), ("service-held",)))
    assert out.status == FAILED
    assert out.reasons == (f"service-held: unknown: {held.reason} (the known hazard excuses a failure, never an unknown)",)


@pytest.mark.parametrize("name,drill", [("kea-hs-peer-partition", "peer-partition"),
                                        ("kea-lb-peer-partition", "peer-partition"),
                                        ("kea-lb-client-partition", "client-partition"),
                                        ("kea-lb-failback-stale-primary", "failback")])
@pytest.mark.parametrize("bound", [None, 0.5, 2.0])
def test_the_outcome_and_the_reports_excused_marks_follow_one_rule(name, drill, bound):
    """``decide`` and ``excused`` (how the reports mark a verdict) must agree: a drill is an
    expected failure exactly when every failed verdict is excused, whatever the bounds say."""
    from dhcpdrill.outcome import excused
    from .test_real_evidence import ROOT, load_pair
    verdicts = _verdicts(name, drill)
    hazard = load_pair(ROOT / "fixtures" / load(name).first("lab").get("pair")).drills[drill].known_hazard
    if bound is not None:  # every figure bound scaled: some failures now beyond it
        hazard = dataclasses.replace(hazard, bounds={k: (b * bound if isinstance(b, (int, float)) and not
                                                         isinstance(b, bool) else b) for k, b in hazard.bounds.items()})
    out = decide(verdicts, None, hazard)
    failed = [v for v in verdicts if v.decides and not v.ok]
    all_excused = all(excused(hazard, v, verdicts) for v in failed)
    assert (out.status == EXPECTED) == (bool(failed) and all_excused and all(
        by.status == FAIL for n in hazard.fails for by in verdicts if by.name == n)), (out, failed)
    if out.status == EXPECTED:
        assert set(out.as_expected) == {v.name for v in failed}
