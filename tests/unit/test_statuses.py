"""Verdict and outcome statuses are enums whose members are the strings the archives hold: a
misspelt status is refused where it is made, and an archive's plain strings still compare equal."""
import json

import pytest

from dhcpdrill.outcome import EXPECTED, Outcome, OutcomeStatus
from dhcpdrill.verdicts import PASS, UNKNOWN, Status, Verdict


def test_a_misspelt_status_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError):
        Verdict("takeover", "passed", "a status no reader knows")
    with pytest.raises(ValueError):
        Outcome("expected")


def test_archived_strings_read_back_as_the_members_and_write_as_before() -> None:
    v = Verdict("takeover", "unknown", "no fault-verified event")
    assert v.status is UNKNOWN and v.status == "unknown" and not v.ok
    assert json.dumps({"status": Verdict("x", PASS, "").status}) == '{"status": "pass"}'
    assert f"{Outcome(EXPECTED).status}" == "expected-failure" and Outcome("fail").status is OutcomeStatus.FAILED
    assert [s.value for s in Status] == ["pass", "fail", "unknown", "not-judged"]
