import xml.etree.ElementTree as ET
from pathlib import Path

from dhcpdrill import report
from dhcpdrill.drill import DrillResult
from dhcpdrill.pair import load_pair
from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import Thresholds, judge

from .timelines import base, healthy
from scenarios.kill_primary import KILL_PRIMARY

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"
NAMES = KILL_PRIMARY.verdicts


def result(tl: Timeline, tmp_path: Path) -> DrillResult:
    r = DrillResult(load_pair(BUNDLED), KILL_PRIMARY, "dhcpdrill/lab:test", tmp_path / "run", 1795831441.0, tl)
    r.verdicts = judge(tl, Thresholds(max_takeover_s=10, expect_states={"secondary": ("partner-down",)}), NAMES)
    r.duration = 42.0
    return r


def test_junit_has_one_case_per_verdict_with_figures_as_properties(tmp_path):
    good, bad = result(healthy(), tmp_path), result(base(verified=False), tmp_path)
    root = ET.fromstring(report.junit_xml([good, bad]))
    suites = root.findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [len(NAMES), len(NAMES)]
    takeover = suites[0].find("testcase[@name='takeover']")
    props = {p.get("name"): p.get("value") for p in takeover.find("properties")}
    assert props == {"status": "pass", "figure": "4.0", "unit": "s", "threshold": "<= 10 s"}
    suite_props = {p.get("name"): p.get("value") for p in suites[0].find("properties")}
    assert suite_props["pair_config_sha256"] == good.pair.config_hash
    assert suites[0].get("failures") == "0"
    failed = {c.get("name") for c in suites[1].findall("testcase") if c.find("failure") is not None}
    assert {"fault-effective", "takeover"} <= failed  # unknown counts against the drill, never as a pass


def test_summary_names_the_pair_each_verdict_and_the_evidence(tmp_path):
    text = report.summary(result(healthy(), tmp_path))
    assert text.startswith("kea-hot-standby / kill-primary: PASS")
    assert "PASS    takeover = 4 s (limit <= 10 s)" in text
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


def test_known_hazard_is_named_in_summary_and_junit(tmp_path):
    import dataclasses
    r = result(base(verified=False), tmp_path)
    limits = dataclasses.replace(r.pair.drills["kill-primary"], known_hazard="split brain")
    r.pair.drills["kill-primary"] = limits
    assert "FAIL, AS EXPECTED: known hazard: split brain" in report.summary(r)
    assert "(known hazard of this pair: split brain)" in report.junit_xml([r])


def test_figures_across_runs_give_outcomes_and_the_spread_of_each_verdict(tmp_path, capsys):
    from dhcpdrill import figures
    runs = []
    for i, tl in enumerate((healthy(), healthy(), base(verified=False))):
        folder = tmp_path / f"run{i}"
        report.write([result(tl, folder)], folder)
        runs.append(folder)
    data = figures.collect(runs)
    takeover = data[("kea-hot-standby", "kill-primary", "takeover")]
    assert [s for s, _, _ in takeover] == ["pass", "pass", "unknown"]
    row = next(l for l in figures.table(data) if " takeover " in l)
    assert row.split()[3:5] == ["3", "2"] and row.endswith("4 / 4 / 4 s")
    assert figures.main([str(r) for r in runs]) == 0
    assert "4 / 4 / 4 s" in capsys.readouterr().out
    assert figures.main([str(tmp_path / "nowhere")]) == 2
    assert "no junit-drills.xml in" in capsys.readouterr().err
