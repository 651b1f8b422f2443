"""The go/no-go line: GO only when every must-pass drill ran and passed; anything else says why not."""
import dataclasses
import re
from pathlib import Path

from dhcpdrill import gonogo, report
from dhcpdrill.drill import DrillResult
from dhcpdrill.expectations import KnownHazard
from dhcpdrill.pair import load_pair
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, Verdict

from scenarios.failback import FAILBACK, MAINTENANCE
from scenarios.kill_primary import KILL_PRIMARY

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"
SCENARIOS = {s.name: s for s in (KILL_PRIMARY, MAINTENANCE, FAILBACK)}


def ran(pair, name: str, tmp_path: Path, takeover: str = PASS, error: str | None = None) -> DrillResult:
    r = DrillResult(pair, SCENARIOS[name], "dhcpdrill/lab:test", tmp_path / name, 1795831441.0)
    r.verdicts = [Verdict("fault-effective", PASS, "the primary exited"),
                  Verdict("takeover", takeover, "secondary answered 4 s after the kill", 4.0, "s", "<= 10 s"),
                  Verdict("duplicates", PASS, "no address bound to two clients", 0, "addresses", "<= 0")]
    r.error, r.duration = error, 60.0
    return r


def all_three(tmp_path, pair=None, **kinds) -> list[DrillResult]:
    pair = pair or load_pair(BUNDLED)
    return [ran(pair, name, tmp_path, **kinds.get(name.replace("-", "_"), {})) for name in gonogo.must_pass(pair)]


def test_every_must_pass_drill_passed_is_go(tmp_path):
    pair = load_pair(BUNDLED)
    decision = gonogo.decide([pair], all_three(tmp_path, pair))
    assert decision.go
    assert decision.line.startswith("GO (1 run of each drill): kea-hot-standby / kill-primary passed (takeover 4 s, duplicates 0 addresses)")
    assert decision.line.count("passed") == 3 and "\n" not in decision.line


def test_a_drill_that_did_not_run_is_no_go(tmp_path):
    pair = load_pair(BUNDLED)
    decision = gonogo.decide([pair], all_three(tmp_path, pair)[:2])
    assert not decision.go
    assert decision.line == ("NO-GO (1 run of each drill): kea-hot-standby / failback did not run (interrupted, skipped or its lab "
                             "was unavailable) (passed: kea-hot-standby / kill-primary, "
                             "kea-hot-standby / maintenance-handoff)")


def test_nothing_ran_is_no_go(tmp_path):
    assert gonogo.decide([load_pair(BUNDLED)], []).line.startswith(
        "NO-GO (1 run of each drill): kea-hot-standby / kill-primary did not run")
    assert gonogo.decide([], []).line == "NO-GO (1 run of each drill): no drill ran"


def test_a_failed_verdict_names_the_drill_and_why(tmp_path):
    decision = gonogo.decide([load_pair(BUNDLED)], all_three(tmp_path, maintenance_handoff={"takeover": FAIL}))
    assert not decision.go
    assert decision.reasons == ("kea-hot-standby / maintenance-handoff FAILED: takeover: fail: secondary answered "
                                "4 s after the kill",)


def test_missing_evidence_and_errors_are_no_go(tmp_path):
    unknown = gonogo.decide([load_pair(BUNDLED)], all_three(tmp_path, kill_primary={"takeover": UNKNOWN}))
    assert unknown.reasons == ("kea-hot-standby / kill-primary FAILED: takeover: unknown: secondary answered 4 s "
                               "after the kill",)
    broken = gonogo.decide([load_pair(BUNDLED)], all_three(tmp_path, failback={"error": "the Docker engine stopped"}))
    assert broken.reasons == ("kea-hot-standby / failback FAILED: error: the Docker engine stopped",)


def test_a_known_hazard_failing_as_stated_is_still_no_go(tmp_path):
    pair = load_pair(BUNDLED)
    hazard = KnownHazard(why="the team knows takeover is slow", fails=("takeover",), bounds={"takeover": 30})
    drills = dict(pair.drills, **{"kill-primary": dataclasses.replace(pair.drills["kill-primary"], known_hazard=hazard)})
    pair = dataclasses.replace(pair, drills=drills)
    decision = gonogo.decide([pair], all_three(tmp_path, pair, kill_primary={"takeover": FAIL}))
    assert decision.reasons == ("kea-hot-standby / kill-primary failed as its known hazard says (the team knows "
                                "takeover is slow): takeover",)


def test_a_pair_without_a_must_pass_drill_is_named_before_anything_starts():
    pair = load_pair(BUNDLED)
    pair = dataclasses.replace(pair, drills={k: v for k, v in pair.drills.items() if k != "failback"})
    problems = gonogo.missing_drills([pair])
    assert [str(p) for p in problems] == [
        f"{BUNDLED / 'pair.toml'}: drills.failback: missing: a go/no-go needs it — add a [drills.failback] table "
        "with the thresholds this pair must meet (`pytest drills/ --drill-catalogue` lists the keys it reads)"]
    assert gonogo.missing_drills([load_pair(BUNDLED)]) == []


def test_a_dhcpd_pair_needs_no_maintenance_handoff(tmp_path):
    """dhcpd has no maintenance command; its planned stop is failback's first half."""
    isc = load_pair(BUNDLED.parent / "isc-failover")
    assert gonogo.must_pass(isc) == ("kill-primary", "failback")
    isc = dataclasses.replace(isc, drills=dict(isc.drills, failback=isc.drills["kill-primary"]))
    assert gonogo.decide([isc], all_three(tmp_path, isc)).go


def test_html_opens_with_the_line_and_a_table_linking_every_drill(tmp_path):
    results = all_three(tmp_path, maintenance_handoff={"takeover": FAIL})
    line = gonogo.decide([results[0].pair], results).line
    page = report.html(results, line)
    assert page.index("NO-GO (1 run of each drill): kea-hot-standby / maintenance-handoff FAILED") < page.index("<table class='glance'>")
    glance = page[page.index("<table class='glance'>"):page.index("</table>")]
    links = re.findall(r"href='#([^']+)'", glance)
    assert len(links) == 3 and all(f"id='{a}'" in page for a in links)
    assert "<td class='fail'>FAIL</td><td>takeover 4 s FAIL, duplicates 0 addresses</td>" in glance
    assert glance.count("<td class='pass'>PASS</td>") == 2
