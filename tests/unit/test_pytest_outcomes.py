"""How a drill's outcome reaches pytest (issue 26, item 10): the plugin reports each drill test
from its judged result, whatever the test body does. Small drill test files whose bodies never
call ``assert_verdicts()`` run under pytester, against results judged from real recorded
timelines (``run_drill`` and the lab replaced: no Docker); each case checks the test's status,
pytest's exit code and the JUnit file."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = '''
import pytest
from dhcpdrill import plugin
from dhcpdrill.drill import DrillResult, verdicts_for
from dhcpdrill.servers import adapter_for
from dhcpdrill.verdicts import judge
from tests.unit.test_real_evidence import load, with_prediction, without

CASE = open("case.txt").read().strip()


def recorded(pair, scenario, reports):
    """The result a drill of ``scenario`` would have judged, from a real recorded timeline."""
    name = {"kill-primary": "kea-hs-kill-primary", "peer-partition": "kea-hs-peer-partition"}[scenario.name]
    tl = with_prediction(load(name), pair, scenario)
    standby = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "secondary")
    if CASE == "fail":  # the survivor never answers: no takeover
        tl = without(tl, lambda e: e.source == "clients" and e.kind in ("recv", "bound")
                     and e.get("server_id") == standby)
    if CASE == "unknown":  # the standby's lease file was never read: duplicates unknown
        tl = without(tl, lambda e: e.source == "secondary" and e.kind in ("lease-file", "lease-record"))
    verdicts = judge(tl, pair.drills[scenario.name], verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair))
    result = DrillResult(pair, scenario, "recorded", reports / f"{pair.name}-{scenario.name}", 0.0, tl, verdicts)
    if CASE == "error":
        result.error = "the lab broke: a container vanished"
    return result


class NoEngine:
    def version(self):
        raise RuntimeError("no engine in this test")


@pytest.fixture(autouse=True)
def no_lab(monkeypatch):
    monkeypatch.setattr(plugin.DrillSession, "image", lambda self, suite: "recorded")
    monkeypatch.setattr(plugin.DrillSession, "engine", lambda self, suite: None)
    monkeypatch.setattr(plugin.DrillSession, "server_check", lambda self, pair: [])
    monkeypatch.setattr(plugin.DrillSession, "client", lambda self: NoEngine())
    monkeypatch.setattr(plugin, "run_drill", lambda engine, pair, scenario, image, reports, **kw:
                        recorded(pair, scenario, reports))
'''

KILL = '''
from scenarios.kill_primary import KILL_PRIMARY


def test_kill_primary(drill):
    drill.run(KILL_PRIMARY)  # no assert_verdicts(): the plugin decides
'''

PARTITION = '''
from scenarios.partitions import PEER_PARTITION


def test_peer_partition(drill):
    drill.run(PEER_PARTITION)
'''

BODY_FAILS = '''
from scenarios.kill_primary import KILL_PRIMARY


def test_kill_primary(drill):
    result = drill.run(KILL_PRIMARY)
    assert result.verdict("takeover").figure < 1, "the body asks for more than the pair does"
'''


def _run(pytester: pytest.Pytester, case: str, test: str, *args: str,
         conftest: str = CONFTEST) -> tuple[pytest.RunResult, Path]:
    pytester.makeconftest(conftest)
    pytester.makefile(".txt", case=case)
    pytester.makepyfile(test_drill=test)
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess("--pair", str(ROOT / "fixtures" / "kea-hot-standby"),
                                          "--reports-dir", str(reports), "--rootdir", str(pytester.path),
                                          "-p", "no:xdist", "-p", "no:cacheprovider", *args)
    return result, reports / "junit-drills.xml"


def _junit_outcome(junit: Path) -> ET.Element:
    return ET.parse(junit).getroot().find("testsuite/testcase[@name='outcome']")


def test_a_pass_passes(pytester):
    result, junit = _run(pytester, "pass", KILL)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert [e.tag for e in _junit_outcome(junit)] == ["system-out"]  # no failure, error or skip


def test_a_fail_fails_though_the_body_asserts_nothing(pytester):
    result, junit = _run(pytester, "fail", KILL)
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*kea-hot-standby / kill-primary: FAIL*", "*takeover: fail: no client of primary*"])
    assert _junit_outcome(junit).find("failure") is not None


def test_an_unknown_deciding_verdict_fails(pytester):
    result, _ = _run(pytester, "unknown", KILL)
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*duplicates: unknown: *secondary's lease file was never collected*"])


def test_an_error_fails(pytester):
    result, junit = _run(pytester, "error", KILL)
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*error: the lab broke: a container vanished*"])
    assert _junit_outcome(junit).find("error") is not None


def test_a_known_hazard_that_failed_as_stated_is_an_xfail_and_exit_0(pytester):
    """kea-hs-peer-partition: split brain 23.5 s and 2 duplicates, within the pair's bound of 2."""
    result, junit = _run(pytester, "pass", PARTITION)
    result.assert_outcomes(xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    assert _junit_outcome(junit).find("skipped") is not None


def test_a_drill_that_passed_keeps_the_bodys_own_failure(pytester):
    result, _ = _run(pytester, "pass", BODY_FAILS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the body asks for more than the pair does*"])


def test_a_failed_drill_fails_even_when_the_body_also_fails_and_says_both(pytester):
    result, _ = _run(pytester, "fail", BODY_FAILS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*kea-hot-standby / kill-primary: FAIL*", "*the test body also failed*"])


def test_assert_verdicts_still_fails_a_failed_drill(pytester):
    asserting = KILL.replace("drill.run(KILL_PRIMARY)", "drill.run(KILL_PRIMARY).assert_verdicts()")
    result, _ = _run(pytester, "fail", asserting)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*takeover: fail*"])


def test_a_run_where_every_drill_was_skipped_still_writes_junit(pytester):
    """Before: JUnit was written only when some drill ran; a run of skips left none (or an old one)."""
    test = '''
from dataclasses import replace
from scenarios.kill_primary import KILL_PRIMARY

UNSTATED = replace(KILL_PRIMARY, name="kill-primary-unstated")


def test_unstated(drill):
    drill.run(UNSTATED)
'''
    result, junit = _run(pytester, "pass", test)
    result.assert_outcomes(skipped=1)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "kea-hot-standby / kill-primary-unstated"
    assert suite.find("testcase/skipped").get("message") == \
        "kea-hot-standby states no [drills.kill-primary-unstated] expectations in its pair.toml"
    result.stdout.fnmatch_lines(["*DHCP failover drills: none ran*", f"*JUnit evidence for CI and audits: {junit}"])


def test_a_drill_refused_before_it_ran_is_an_error_in_junit(pytester):
    refusing = CONFTEST + '''

@pytest.fixture(autouse=True)
def refusing_servers(monkeypatch, no_lab):
    monkeypatch.setattr(plugin.DrillSession, "server_check", lambda self, pair: ["kea-dhcp4 -t: syntax error"])
'''
    result, junit = _run(pytester, "pass", KILL, conftest=refusing)
    result.assert_outcomes(failed=1)
    error = _junit_outcome(junit).find("error")
    assert error is not None and "the servers' own checkers refused the pair" in error.get("message")


def _refused_junit(junit: Path) -> ET.Element:
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["dhcpdrill / run refused"]
    error = suites[0].find("testcase[@name='outcome']/error")
    assert error is not None
    return error


def test_a_pair_refused_at_collection_still_leaves_junit_naming_the_refusal(pytester, tmp_path):
    """Before: pytest refused the pair (exit non-zero) and wrote no JUnit, so CI had no file."""
    import shutil
    pair = tmp_path / "pair"
    shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", pair)
    (pair / "pair.toml").write_text((pair / "pair.toml").read_text().replace("[drills.kill-primary]",
                                                                             "[drills.kill_primary]"))
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".txt", case="pass")
    pytester.makepyfile(test_drill=KILL)
    junit = pytester.path / "reports" / "junit-drills.xml"
    result = pytester.runpytest_inprocess("--pair", str(pair), "--reports-dir", str(junit.parent), "--rootdir",
                                          str(pytester.path), "-p", "no:xdist", "-p", "no:cacheprovider")
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    error = _refused_junit(junit)
    assert error.get("message") == "pair check failed, nothing was started:"
    assert f"{pair}/pair.toml: drills.kill_primary: no drill has this name" in error.text


def test_a_go_no_go_refused_before_it_started_leaves_junit_naming_the_refusal(pytester):
    """An ``--accept-hazard`` that names no declared hazard is refused after the pairs were read."""
    result, junit = _run(pytester, "pass", KILL, "--go-no-go", "--accept-hazard", "kea-hot-standby/takeover")
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    error = _refused_junit(junit)
    assert error.get("message") == "NO-GO: nothing was started:"
    assert "--accept-hazard kea-hot-standby/takeover: 'takeover' is not a must-pass drill" in error.text


SKIPPING = KILL.replace("drill.run(KILL_PRIMARY)  # no assert_verdicts(): the plugin decides",
                        "drill.run(KILL_PRIMARY)\n    pytest.{how}('the body would rather not say')") \
    .replace("from scenarios", "import pytest\nfrom scenarios")


@pytest.mark.parametrize("how", ["skip", "xfail"])
def test_a_body_cannot_turn_a_failed_drill_into_a_skip_or_an_xfail(pytester, how):
    result, junit = _run(pytester, "fail", SKIPPING.format(how=how))
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*kea-hot-standby / kill-primary: FAIL*", "*takeover: fail: no client of primary*"])
    assert _junit_outcome(junit).find("failure") is not None


def test_an_xfail_mark_cannot_turn_a_failed_drill_into_an_xfail(pytester):
    marked = KILL.replace("def test_kill_primary", "import pytest\n\n\n@pytest.mark.xfail(reason='flaky lab')\n"
                          "def test_kill_primary")
    result, _ = _run(pytester, "fail", marked)
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("how", ["skip", "xfail"])
def test_a_body_may_still_skip_or_xfail_a_drill_that_passed(pytester, how):
    """The plugin overrides a body only to keep a failed drill failed: a PASS leaves the body's say."""
    result, _ = _run(pytester, "pass", SKIPPING.format(how=how))
    result.assert_outcomes(**{"skipped" if how == "skip" else "xfailed": 1})
