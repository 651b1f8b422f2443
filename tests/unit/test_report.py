import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

from dhcpdrill import report
from dhcpdrill.drill import DrillResult
from dhcpdrill.pair import load_pair
from dhcpdrill.timeline import Timeline
from dhcpdrill.expectations import KnownHazard
from dhcpdrill.verdicts import Thresholds, judge

from .timelines import FAULT_T, SECONDARY, base, bound, healthy
from scenarios.kill_primary import KILL_PRIMARY

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"
NAMES = tuple(v for v in KILL_PRIMARY.verdicts if v != "partner-share-held")  # as drilled on a hot standby


def result(tl: Timeline, tmp_path: Path) -> DrillResult:
    r = DrillResult(load_pair(BUNDLED), KILL_PRIMARY, "dhcpdrill/lab:test", tmp_path / "run", 1795831441.0, tl)
    r.verdicts = judge(tl, Thresholds(max_takeover_s=10, expect_states={"secondary": ("partner-down",)}), NAMES)
    r.duration = 42.0
    return r


def test_junit_has_one_case_per_verdict_with_figures_as_properties(tmp_path):
    good, bad = result(healthy(), tmp_path), result(base(verified=False), tmp_path)
    root = ET.fromstring(report.junit_xml([good, bad]))
    suites = root.findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [len(NAMES) + 1, len(NAMES) + 1]  # + the outcome
    takeover = suites[0].find("testcase[@name='takeover']")
    assert takeover.find("system-out").text.startswith("PASS 4 s (limit <= 10 s): ")
    suite_props = {p.get("name"): p.get("value") for p in suites[0].find("properties")}
    assert {k: v for k, v in suite_props.items() if k.startswith("verdict.takeover.")} == {
        "verdict.takeover.status": "pass", "verdict.takeover.figure": "4.0", "verdict.takeover.unit": "s",
        "verdict.takeover.threshold": "<= 10 s"}
    assert suite_props["pair_config_sha256"] == good.pair.config_hash
    assert suites[0].get("failures") == "0"
    failed = {c.get("name") for c in suites[1].findall("testcase") if c.find("failure") is not None}
    assert {"fault-effective", "takeover", "outcome"} <= failed  # unknown counts against the drill
    outcome = suites[0].find("testcase[@name='outcome']")
    assert outcome.get("time") == "42.000" and outcome.find("failure") is None


def test_summary_names_the_pair_each_verdict_and_the_evidence(tmp_path):
    text = report.summary(result(healthy(), tmp_path))
    assert text.startswith("kea-hot-standby / kill-primary: PASS")
    assert "PASS       takeover = 4 s (limit <= 10 s)" in text
    assert f"evidence: {tmp_path / 'run'}" in text


def test_write_leaves_per_run_and_combined_files(tmp_path):
    r = result(healthy(), tmp_path)
    path = report.write([r], tmp_path / "reports")
    assert path == tmp_path / "reports" / "junit-drills.xml" and path.is_file()
    assert (r.run_dir / "summary.txt").read_text().startswith("kea-hot-standby")


def test_timeline_round_trips_through_its_file(tmp_path):
    tl = healthy()
    tl.save(tmp_path / "t.jsonl")
    again = Timeline.load(tmp_path / "t.jsonl")
    assert [(e.t, e.kind, e.data) for e in again] == [(e.t, e.kind, e.data) for e in tl]


def test_html_report_has_the_verdict_table_and_the_timeline_picture(tmp_path):
    page = report.html([result(healthy(), tmp_path)])
    assert "kea-hot-standby / kill-primary: PASS" in page
    assert "<td>takeover</td><td class='pass'>pass</td><td>4 s</td>" in page
    assert "<svg" in page and "partner-down" in page and "ACKs from secondary" in page


def _with_hazard(r: DrillResult, *fails: str, may_fail: tuple[str, ...] | dict[str, float] = ()) -> DrillResult:
    """A hazard that always breaks ``fails`` (each bounded well beyond what these timelines show)
    and may break ``may_fail``."""
    bounds = {**{n: 30 for n in fails}, **(may_fail if isinstance(may_fail, dict) else {})}
    hazard = KnownHazard("split brain", fails, tuple(may_fail), bounds)
    r.pair.drills["kill-primary"] = dataclasses.replace(r.pair.drills["kill-primary"], known_hazard=hazard)
    return r


def test_a_hazard_never_excuses_a_fault_that_did_not_bite(tmp_path):
    r = _with_hazard(result(base(verified=False), tmp_path), "takeover")
    assert r.outcome.status == "fail"
    text = report.summary(r)
    assert text.startswith("kea-hot-standby / kill-primary: FAIL (")
    assert "fault-effective: fail: fault not effective" in text and "no hazard excuses it" in text


def test_a_hazard_that_failed_as_stated_is_an_expected_failure_everywhere(tmp_path):
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09", role="probe")  # .100 twice
    r = _with_hazard(result(tl, tmp_path), "duplicates")
    assert r.outcome.status == "expected-failure" and r.outcome.as_expected == ("duplicates",)
    text = report.summary(r)
    assert "FAIL, AS EXPECTED: known hazard: split brain (failed: duplicates)" in text
    assert "XFAIL      duplicates = 1" in text
    suite = ET.fromstring(report.junit_xml([r])).find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "2"  # the verdict and the outcome
    dup = suite.find("testcase[@name='duplicates']")
    assert "failed as expected" in dup.find("skipped").get("message")
    assert suite.find("properties/property[@name='verdict.duplicates.figure']").get("value") == "1"
    assert "XFAIL" not in report.summary(result(healthy(), tmp_path))


def test_an_unexpected_pass_or_another_failure_is_a_real_failure(tmp_path):
    r = _with_hazard(result(healthy(), tmp_path), "duplicates")  # healthy: no duplicate at all
    assert r.outcome.status == "fail" and "passed, unexpectedly" in r.outcome.reasons[0]
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09", role="probe")
    r = _with_hazard(result(tl, tmp_path), "takeover")  # the hazard names takeover, duplicates failed
    assert r.outcome.status == "fail"
    assert any("duplicates" in x and "not a verdict the known hazard names" in x for x in r.outcome.reasons)
    assert _with_hazard(result(tl, tmp_path), "takeover", may_fail={"duplicates": 1}).outcome.status == "fail"
    r = _with_hazard(result(tl, tmp_path), "duplicates", may_fail={"continuity": 0.8})
    assert r.outcome.status == "expected-failure"  # a may-fail verdict that passed is fine


def test_a_hazard_that_strikes_in_some_runs_passes_a_run_it_spared_and_excuses_only_its_verdict(tmp_path):
    spared = _with_hazard(result(healthy(), tmp_path), may_fail={"duplicates": 1})
    assert spared.outcome.status == "pass"
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09", role="probe")  # .100 twice
    struck = _with_hazard(result(tl, tmp_path), may_fail={"duplicates": 1})
    assert struck.outcome.status == "expected-failure" and struck.outcome.as_expected == ("duplicates",)
    assert "split brain (may fail: duplicates &lt;= 1)" in report.junit_xml([struck])
    other = _with_hazard(result(tl, tmp_path), may_fail={"continuity": 0.8})  # duplicates is not what it names
    assert other.outcome.status == "fail"
    assert any("duplicates" in x and "not a verdict the known hazard names" in x for x in other.outcome.reasons)


def test_an_error_is_a_failure_whatever_the_hazard(tmp_path):
    r = _with_hazard(result(healthy(), tmp_path), "takeover")
    r.error = "LabError: could not create the lab network"
    assert r.outcome.status == "fail" and r.outcome.reasons[0].startswith("error: LabError")
    suite = ET.fromstring(report.junit_xml([r])).find("testsuite")
    assert suite.find("testcase[@name='outcome']/error") is not None


def test_a_verdict_the_pair_did_not_ask_for_is_shown_but_decides_nothing(tmp_path):
    r = result(healthy(), tmp_path)
    r.verdicts = judge(healthy(), Thresholds(max_takeover_s=10), NAMES)  # no expect_states
    assert r.verdict("state-transitions").status == "not-judged" and r.outcome.status == "pass"
    assert "NOT JUDGED state-transitions" in report.summary(r)
    case = ET.fromstring(report.junit_xml([r])).find("testsuite/testcase[@name='state-transitions']")
    assert case.find("skipped") is not None


def test_figures_across_runs_give_outcomes_and_the_spread_of_each_verdict(tmp_path, capsys):
    from dhcpdrill import figures
    runs = []
    for i, tl in enumerate((healthy(), healthy(), base(verified=False))):
        folder = tmp_path / f"run{i}"
        report.write([result(tl, folder)], folder)
        runs.append(folder)
    data = figures.collect(runs)
    takeover = data[("kea-hot-standby", "kill-primary", "takeover")]
    assert [s for s, *_ in takeover] == ["pass", "pass", "unknown"]
    row = next(l for l in figures.table(data) if " takeover " in l)
    assert row.split()[3:5] == ["3", "2"] and row.endswith("4 / 4 / 4 s")
    assert figures.main([str(r) for r in runs]) == 0
    assert "4 / 4 / 4 s" in capsys.readouterr().out
    assert figures.main([str(tmp_path / "nowhere")]) == 2
    assert "cannot read a run's junit-drills.xml" in capsys.readouterr().err


def slow_takeover() -> Timeline:
    """As healthy(), but the standby answers only 20 s after the fault."""
    from .timelines import lease_files_read
    tl = lease_files_read(base())
    tl.add(FAULT_T + 19.9, "secondary", "ha-state", **{"from": "hot-standby", "to": "partner-down", "partner": "undefined"})
    for i in range(3):
        bound(tl, FAULT_T + 20 + i, i, f"198.18.0.{100 + i}", SECONDARY, lease=120.0, asked=FAULT_T + 1)
    return tl


def test_drill_over_drill_flags_what_got_worse_and_exits_1(tmp_path, capsys):
    import tarfile
    from dhcpdrill import figures
    runs = {}
    for name, tl in (("base1", healthy()), ("base2", healthy()), ("same", healthy()), ("slow", slow_takeover())):
        report.write([result(tl, tmp_path / name)], tmp_path / name)
        runs[name] = tmp_path / name
    archive = tmp_path / "evidence-base.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:  # a baseline kept as its evidence archive
        tar.add(runs["base1"] / "junit-drills.xml", arcname="junit-drills.xml")
    assert figures.main([str(runs["same"]), "--baseline", str(archive), "--baseline", str(runs["base2"])]) == 0
    assert "no regression" in capsys.readouterr().out
    assert figures.main([str(runs["slow"]), "--baseline", str(runs["base1"])]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION kea-hot-standby / kill-primary / takeover: fail, was pass in the baseline" in out
    assert "REGRESSION kea-hot-standby / kill-primary / outcome: fail, was pass in the baseline" in out


def test_a_figure_beyond_the_baselines_spread_is_a_regression_in_the_direction_its_limit_forbids():
    from dhcpdrill.figures import regressions
    key = ("p", "kill-primary")
    before = {(*key, "takeover"): [("pass", 12.0, "s", "<= 30 s"), ("pass", 12.4, "s", "<= 30 s")],
              (*key, "continuity"): [("pass", 100.0, "%", ">= 80 %")],
              (*key, "duplicates"): [("pass", 0.0, "", "<= 3")]}
    same = {(*key, "takeover"): [("pass", 14.0, "s", "<= 30 s")], (*key, "continuity"): [("pass", 100.0, "%", ">= 80 %")],
            (*key, "duplicates"): [("pass", 0.0, "", "<= 3")]}
    assert regressions(before, same) == []  # timings within the spread + max(1 s, 20 %)
    worse = {(*key, "takeover"): [("pass", 20.0, "s", "<= 30 s")], (*key, "continuity"): [("pass", 80.0, "%", ">= 80 %")],
             (*key, "duplicates"): [("pass", 1.0, "", "<= 3")]}
    assert regressions(before, worse) == ["p / kill-primary / continuity: 80 %, baseline 100-100 %",
                                          "p / kill-primary / duplicates: 1, baseline 0-0",
                                          "p / kill-primary / takeover: 20 s, baseline 12-12.4 s"]


def test_the_outcome_case_links_the_drills_report_and_timeline_for_ci_test_views(tmp_path):
    r = result(healthy(), tmp_path)
    out = ET.fromstring(report.junit_xml([r])).find("testsuite/testcase[@name='outcome']/system-out").text
    assert f"[[ATTACHMENT|{r.run_dir / 'report.html'}]]" in out and "timeline.jsonl]]" in out


def test_reports_link_up_when_the_reports_folder_is_moved(tmp_path):
    import re
    import shutil
    from dhcpdrill.report import EVIDENCE_FILES
    reports = tmp_path / "reports"
    r = DrillResult(load_pair(BUNDLED), KILL_PRIMARY, "dhcpdrill/lab:test", reports / "20261130T000000Z-run", 0.0, healthy())
    r.verdicts = judge(r.timeline, Thresholds(max_takeover_s=10), NAMES)
    r.run_dir.mkdir(parents=True)
    for name in EVIDENCE_FILES:
        (r.run_dir / name).write_text("x")
    report.write([r], reports)
    moved = shutil.move(str(reports), tmp_path / "opened-elsewhere")
    for page in (Path(moved) / "drills.html", Path(moved) / r.run_dir.name / "report.html"):
        links = [h for h in re.findall(r"href='([^']+)'", page.read_text()) if not h.startswith("#")]
        assert len(links) == 1 + len(EVIDENCE_FILES)
        assert all((page.parent / h).exists() for h in links), links
    combined = ET.parse(Path(moved) / "junit-drills.xml").getroot()
    assert combined.find(".//property[@name='evidence']").get("value") == r.run_dir.name
    own = ET.parse(Path(moved) / r.run_dir.name / "junit-drills.xml").getroot()
    assert own.find(".//property[@name='evidence']").get("value") == "."
    assert str(tmp_path) not in (Path(moved) / "drills.html").read_text()


def test_a_picture_of_thousands_of_clients_draws_rates_not_one_tick_per_packet():
    """10,000 clients' ACKs as ticks made a 6 MB report; above the limit the lanes aggregate."""
    from dhcpdrill.picture import AGGREGATE_ABOVE, svg
    from dhcpdrill.timeline import Timeline
    tl = Timeline()
    tl.add(0.0, "harness", "lab", roles={"198.18.0.11": "primary", "198.18.0.12": "secondary"})
    tl.add(1.0, "harness", "pair-ready", states={"primary": "hot-standby", "secondary": "hot-standby"})
    tl.add(20.0, "harness", "fault-applied", fault="kill", target="primary")
    for i in range(AGGREGATE_ABOVE * 4):
        t = 2.0 + i * 0.02
        server = "198.18.0.11" if t < 20 else "198.18.0.12"
        tl.add(t - 0.001, "clients", "send", client=f"steady-{i}", mac=f"m{i}", msg="DISCOVER", xid=i, state="SELECTING")
        tl.add(t, "clients", "recv", client=f"steady-{i}", mac=f"m{i}", msg="ACK", server_id=server, expected=True, xid=i)
        tl.add(t, "clients", "bound", client=f"steady-{i}", mac=f"m{i}", ip="198.18.0.100", server_id=server)
    big = svg(tl)
    assert "ACKs/s from primary" in big and "ACKs/s from secondary" in big and "clients waiting" in big
    assert big.count("<line") < 50 and len(big) < 100_000  # bars per bin, not a tick per ACK
    small = svg(Timeline([e for e in tl.events if e.kind != "recv" or int(e.get("xid")) < 100]))
    assert "ACKs from primary" in small and small.count("stroke='#3182bd'") == 100  # one tick per ACK below the limit
