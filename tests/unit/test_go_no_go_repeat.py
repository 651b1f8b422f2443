"""Go/no-go rests on repeated runs and names any hazard it accepts: a declared hazard that spared
the run is NO-GO unless accepted by name (``--accept-hazard PAIR/DRILL``), every run must pass,
and each drill's pass rate reaches the summary, HTML, JUnit, archive and ``dhcpdrill-figures``."""
from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dhcpdrill import evidence, figures, gonogo, parallel, report
from dhcpdrill.drill import DrillResult
from dhcpdrill.pair import load_pair
from dhcpdrill.verdicts import FAIL, PASS, Verdict

from scenarios.failback import FAILBACK, MAINTENANCE
from scenarios.kill_primary import KILL_PRIMARY

from . import test_real_evidence as real

ROOT = Path(__file__).resolve().parents[2]
HS, LB = ROOT / "fixtures" / "kea-hot-standby", ROOT / "fixtures" / "kea-load-balancing"
SCENARIOS = {s.name: s for s in (KILL_PRIMARY, MAINTENANCE, FAILBACK)}
T0 = 1796629063.0
STALE_BINDING = ("Kea 2.2 HA lease sync adds and updates the partner's leases but never deletes one the partner "
                 "released meanwhile: the returning server keeps a stale binding for an address the partner has "
                 "given to another client (may fail: duplicates <= 1)")


def run(pair, name: str, tmp_path: Path, number: int = 1, count: int = 1, takeover: float = 4.0,
        status: str = PASS) -> DrillResult:
    """One run of a must-pass drill (its own folder, started ``number`` minutes in)."""
    folder = tmp_path / (f"{name}-run{number}of{count}" if count > 1 else name)
    r = DrillResult(pair, SCENARIOS[name], "dhcpdrill/lab:test", folder, T0 + 60 * number)
    r.verdicts = [Verdict("fault-effective", PASS, "the primary exited"),
                  Verdict("takeover", status, f"secondary answered {takeover:g} s after the kill", takeover, "s",
                          "<= 15 s"),
                  Verdict("duplicates", PASS, "no address bound to two clients", 0, "addresses", "<= 0")]
    r.duration = 60.0
    return r


def rounds(pair, tmp_path: Path, count: int, **takeovers) -> list[DrillResult]:
    """``count`` passing runs of each must-pass drill of ``pair``."""
    return [run(pair, name, tmp_path, i, count, takeovers.get(name, 4.0 + i))
            for name in gonogo.must_pass(pair) for i in range(1, count + 1)]


def recorded(name: str, drill: str, tmp_path: Path, number: int, count: int) -> DrillResult:
    """A real recorded run, judged now under the bundled pair's expectations, as run ``number``."""
    tl = real.load(name)
    pair = load_pair(ROOT / "fixtures" / tl.first("lab").get("pair"))
    verdicts = real.judged(tl, drill)
    r = DrillResult(pair, SCENARIOS[drill], "recorded", tmp_path / f"{name}-run{number}of{count}", T0 + 60 * number, tl,
                    [v for k, v in verdicts.items() if k != "outcome"])
    r.duration = 53.0
    return r


# -- item 3: a declared hazard ---------------------------------------------------------------------
def test_a_declared_hazard_that_spared_the_run_is_no_go_and_named(tmp_path):
    """kea-load-balancing's failback declares the stale-binding hazard (``fails = []``); a run it
    spared passes, yet the window is no safer: the line says NO-GO, names it and the option."""
    pair = load_pair(LB)
    results = rounds(pair, tmp_path, 1)
    assert all(r.outcome.status == "pass" for r in results)
    decision = gonogo.decide([pair], results)
    assert not decision.go
    assert decision.reasons == (
        f"kea-load-balancing / failback passed, but its pair declares a known hazard a run may spare ({STALE_BINDING}): "
        "NO-GO unless the run accepts it by name, --accept-hazard kea-load-balancing/failback",)
    assert decision.line.endswith("(passed: kea-load-balancing / kill-primary, kea-load-balancing / maintenance-handoff)")


def test_an_accepted_hazard_is_go_and_the_line_records_the_acceptance(tmp_path):
    pair = load_pair(LB)
    accepted, problems = gonogo.acceptances(["kea-load-balancing/failback"], [pair])
    assert problems == [] and accepted == [gonogo.Acceptance("kea-load-balancing", "failback", STALE_BINDING)]
    decision = gonogo.decide([pair], rounds(pair, tmp_path, 3), 3, accepted)
    assert decision.go
    assert decision.line.startswith("GO (3 runs of each drill): kea-load-balancing / kill-primary passed 3 of 3 runs "
                                    "(takeover 5–7 s, duplicates 0 addresses)")
    assert decision.line.endswith("kea-load-balancing / failback passed 3 of 3 runs (takeover 5–7 s, duplicates 0 "
                                  "addresses), its known hazard accepted (--accept-hazard kea-load-balancing/failback: "
                                  f"{STALE_BINDING})")


def test_a_run_the_accepted_hazard_struck_is_no_go_naming_that_run(tmp_path):
    """The recorded failback whose returning primary kept a stale binding (failed as the hazard
    says) is run 2 of 3: accepting the hazard never turns a failed run into a GO."""
    pair = load_pair(LB)
    results = [r for r in rounds(pair, tmp_path, 3) if not (r.scenario.name == "failback" and r.run_dir.name.endswith("run2of3"))]
    struck = recorded("kea-lb-failback-stale-primary", "failback", tmp_path, 2, 3)
    assert struck.outcome.status == "expected-failure"
    accepted, _ = gonogo.acceptances(["kea-load-balancing/failback"], [pair])
    decision = gonogo.decide([pair], [*results, struck], 3, accepted)
    assert not decision.go
    assert decision.reasons == (
        "kea-load-balancing / failback run 2 of 3 (kea-lb-failback-stale-primary-run2of3) failed as its known hazard "
        f"says ({STALE_BINDING.rsplit(' (', 1)[0]}): duplicates",)


def test_an_acceptance_that_names_no_declared_hazard_is_refused_with_the_fix():
    pairs = [load_pair(LB), load_pair(HS)]
    fix = "the must-pass drills here that declare one: kea-load-balancing/failback; or drop --accept-hazard"
    accepted, problems = gonogo.acceptances(["kea-hot-standby/kill-primary", "kea-load-balancing/peer-partition",
                                             "kea-load-balncing/failback", "failback"], pairs)
    assert accepted == []
    assert problems == [
        f"--accept-hazard kea-hot-standby/kill-primary: {HS / 'pair.toml'} declares no known_hazard in "
        f"[drills.kill-primary]: there is nothing to accept; {fix}",
        "--accept-hazard kea-load-balancing/peer-partition: 'peer-partition' is not a must-pass drill of "
        f"kea-load-balancing (kill-primary, maintenance-handoff, failback): only their hazards decide the go/no-go; {fix}",
        "--accept-hazard kea-load-balncing/failback: no pair named 'kea-load-balncing' is drilled in this run "
        f"(kea-load-balancing, kea-hot-standby); {fix}",
        "--accept-hazard failback: give PAIR/DRILL (the pair's [pair] name, a must-pass drill), e.g. "
        "kea-load-balancing/failback"]


def test_a_hazard_that_fails_every_run_cannot_be_accepted(tmp_path):
    import dataclasses
    from dhcpdrill.expectations import KnownHazard
    pair = load_pair(HS)
    hazard = KnownHazard(why="takeover is slow here", fails=("takeover",), bounds={"takeover": 30})
    pair = dataclasses.replace(pair, drills={**pair.drills, "kill-primary": dataclasses.replace(
        pair.drills["kill-primary"], known_hazard=hazard)})
    _, problems = gonogo.acceptances(["kea-hot-standby/kill-primary"], [pair])
    assert problems == ["--accept-hazard kea-hot-standby/kill-primary: its known hazard fails every run "
                        "(fails = ['takeover']): a must-pass drill that fails is NO-GO whatever is accepted; no "
                        "must-pass drill of these pairs declares one; or drop --accept-hazard"]


# -- item 11: repetition ---------------------------------------------------------------------------
def test_the_scope_race_in_one_run_of_three_is_no_go_naming_that_run(tmp_path):
    """The recorded Kea 2.2 HA+MT scope race (two threads went partner-down in one millisecond,
    then the primary's scope went unanswered) as run 2 of 3; runs 1 and 3 passed."""
    pair = load_pair(LB)
    results = [r for r in rounds(pair, tmp_path, 3) if not (r.scenario.name == "kill-primary"
                                                          and r.run_dir.name.endswith("run2of3"))]
    race = recorded("kea22-lb-kill-primary-scope-race", "kill-primary", tmp_path, 2, 3)
    assert race.outcome.status == "fail"
    accepted, _ = gonogo.acceptances(["kea-load-balancing/failback"], [pair])
    decision = gonogo.decide([pair], [*results, race], 3, accepted)
    assert not decision.go
    assert decision.line.startswith(
        "NO-GO (3 runs of each drill): kea-load-balancing / kill-primary run 2 of 3 "
        "(kea22-lb-kill-primary-scope-race-run2of3) FAILED: takeover: fail: no client of primary got an ACK from a "
        "surviving server in the 39 s observed: no takeover (and ")
    assert decision.line.endswith("(passed: kea-load-balancing / maintenance-handoff, kea-load-balancing / failback)")
    assert report.pass_rates([*results, race])[0] == (
        "kea-load-balancing / kill-primary: 2 of 3 passed; run 2 FAIL (kea22-lb-kill-primary-scope-race-run2of3)")


def test_fewer_runs_than_asked_is_no_go(tmp_path):
    pair = load_pair(HS)
    results = rounds(pair, tmp_path, 3)
    results.remove(next(r for r in results if r.scenario.name == "failback"))
    decision = gonogo.decide([pair], results, 3)
    assert decision.reasons == ("kea-hot-standby / failback ran 2 of the 3 runs asked (the others were interrupted, "
                                "skipped or their lab was unavailable)",)


def test_every_run_passed_is_go_and_the_line_says_what_it_rests_on(tmp_path):
    pair = load_pair(HS)
    decision = gonogo.decide([pair], rounds(pair, tmp_path, 3, **{"kill-primary": 11.9}), 3)
    assert decision.go
    assert decision.line == ("GO (3 runs of each drill): kea-hot-standby / kill-primary passed 3 of 3 runs (takeover "
                             "11.9 s, duplicates 0 addresses); kea-hot-standby / maintenance-handoff passed 3 of 3 runs "
                             "(takeover 5–7 s, duplicates 0 addresses); kea-hot-standby / failback passed 3 of 3 runs "
                             "(takeover 5–7 s, duplicates 0 addresses)")


def test_pass_rates_and_the_acceptance_reach_junit_html_and_the_archive(tmp_path):
    pair = load_pair(LB)
    reports = tmp_path / "reports"
    results = rounds(pair, reports, 3)
    results[1].verdicts[1] = Verdict("takeover", FAIL, "no takeover", None, "s", "<= 15 s")
    for r in results:
        r.run_dir.mkdir(parents=True)
        (r.run_dir / "timeline.jsonl").write_text("")
        evidence.record_run(r)
    accepted, _ = gonogo.acceptances(["kea-load-balancing/failback"], [pair])
    line = gonogo.decide([pair], results, 3, accepted).line
    junit = report.write(results, reports, line, accepted)

    suites = ET.parse(junit).getroot().findall("testsuite")
    props = [{p.get("name"): p.get("value") for p in s.find("properties")} for s in suites]
    assert [(p["scenario"], p["drill_run"], p["drill_pass_rate"]) for p in props[:3]] == [
        ("kill-primary", "1 of 3", "2 of 3 passed"), ("kill-primary", "2 of 3", "2 of 3 passed"),
        ("kill-primary", "3 of 3", "2 of 3 passed")]
    assert {p.get("accepted_hazard") for p in props if p["scenario"] == "failback"} == \
        {f"--accept-hazard kea-load-balancing/failback: {STALE_BINDING}"}
    assert not any("accepted_hazard" in p for p in props if p["scenario"] != "failback")
    own = ET.parse(results[1].run_dir / report.JUNIT_NAME).getroot()
    assert own.find(".//property[@name='drill_run']").get("value") == "2 of 3"  # its own file says which run

    page = (reports / report.HTML_NAME).read_text()
    assert "<li>kea-load-balancing / kill-primary: 2 of 3 passed; run 2 FAIL (kill-primary-run2of3)</li>" in page
    assert f"Known hazards this run accepted: --accept-hazard kea-load-balancing/failback: {STALE_BINDING}" \
        in html.unescape(page)
    assert ">kill-primary (run 2 of 3)</a>" in page

    path, _ = evidence.bundle(results, reports, {"docker": "test"}, ["pytest"], accepted=accepted)
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile(evidence.MANIFEST).read())
    assert manifest["accepted_hazards"] == [{"pair": "kea-load-balancing", "drill": "failback",
                                             "hazard": STALE_BINDING,
                                             "option": "--accept-hazard kea-load-balancing/failback"}]


def test_figures_give_each_drills_pass_rate_across_reports(tmp_path, capsys):
    pair = load_pair(HS)
    first = [run(pair, "kill-primary", tmp_path / "a", i, 2) for i in (1, 2)]
    first[1].verdicts[1] = Verdict("takeover", FAIL, "no takeover", None, "s", "<= 15 s")
    report.write(first, tmp_path / "a")
    report.write([run(pair, "kill-primary", tmp_path / "b"), run(pair, "failback", tmp_path / "b")], tmp_path / "b")
    data = figures.collect([tmp_path / "a", tmp_path / "b"])
    assert figures.rates(data) == ["kea-hot-standby / failback: 1 of 1 runs passed (100 %)",
                                   "kea-hot-standby / kill-primary: 2 of 3 runs passed (67 %); 1 fail"]
    assert figures.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "  kea-hot-standby / kill-primary: 2 of 3 runs passed (67 %); 1 fail" in capsys.readouterr().out


def test_a_repeated_drills_runs_stay_in_their_pairs_lab_group():
    from types import SimpleNamespace
    pairs = [load_pair(HS), load_pair(ROOT / "fixtures" / "kea-relayed")]
    assert parallel.pair_id("drills/test_kill_primary.py::test_kill_primary[kea-relayed-run2of3]") == "kea-relayed"
    config = SimpleNamespace(getvalue=lambda name: ["popen", "popen"] if name == "tx" else None,
                             option=SimpleNamespace(numprocesses=2, tx=["popen", "popen"]))
    split = parallel.scheduler(config, None, pairs)._split_scope
    assert split("drills/test_kill_primary.py::test_kill_primary[kea-relayed-run1of3]") == \
        split("drills/test_failback_and_maintenance.py::test_failback[kea-relayed-run3of3]") == "lab-kea-relayed"
    own = parallel.scheduler(config, None, pairs, ["unix:///var/run/docker.sock", "tcp://198.18.250.2:2375"])
    assert own._split_scope("drills/test_kill_primary.py::test_kill_primary[kea-relayed-run1of3]") == \
        own._split_scope("drills/test_kill_primary.py::test_kill_primary[kea-relayed-run3of3]") != \
        own._split_scope("drills/test_kill_primary.py::test_boot_storm[kea-relayed-run1of3]")


# -- the options, in real pytest runs that start nothing --------------------------------------------
def collect(*args: str, where: str = "drills/") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", where, "--collect-only", "-q", "-n", "0",
                           "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_repeat_collects_each_drill_n_times():
    got = collect("--pair", "fixtures/kea-hot-standby", "--repeat", "3",
                  where="drills/test_kill_primary.py::test_kill_primary")
    assert got.returncode == 0, got.stdout + got.stderr
    assert [line for line in got.stdout.splitlines() if "::" in line] == [
        f"drills/test_kill_primary.py::test_kill_primary[kea-hot-standby-run{i}of3]" for i in (1, 2, 3)]


def test_a_go_no_go_collects_every_run_of_each_must_pass_drill():
    got = collect("--pair", "fixtures/kea-load-balancing", "--go-no-go", "--accept-hazard", "kea-load-balancing/failback")
    ids = [line for line in got.stdout.splitlines() if "::" in line]
    assert got.returncode == 0, got.stdout + got.stderr
    assert len(ids) == 3 * gonogo.DEFAULT_REPEAT and len(set(ids)) == len(ids)
    assert {i.split("::")[1].split("[")[0] for i in ids} == {"test_kill_primary", "test_maintenance_handoff",
                                                             "test_failback"}
    assert sum(1 for i in ids if i.endswith(f"-run{gonogo.DEFAULT_REPEAT}of{gonogo.DEFAULT_REPEAT}]")) == 3
    assert len([line for line in collect("--pair", "fixtures/kea-load-balancing", "--go-no-go", "--repeat", "1")
                .stdout.splitlines() if "::" in line]) == 3


@pytest.mark.parametrize("args, said", [
    (("--go-no-go", "--accept-hazard", "kea-load-balancing/kill-primary"),
     "declares no known_hazard in [drills.kill-primary]: there is nothing to accept; the must-pass drills here "
     "that declare one: kea-load-balancing/failback"),
    (("--accept-hazard", "kea-load-balancing/failback"), "--accept-hazard changes only a go/no-go line: add --go-no-go"),
    (("--repeat", "0"), "argument --repeat: '0': give how many times to run each drill, a whole number, 1 or more"),
])
def test_a_bad_option_is_refused_before_anything_starts(args, said):
    got = collect("--pair", "fixtures/kea-load-balancing", *args)
    assert got.returncode == 4 and said in got.stdout + got.stderr


FAKE_LAB = '''
"""A lab that runs nothing: each drill "passes" at once, except the run named in $FAKE_FAIL."""
import os
import time

import dhcpdrill.plugin as plugin
from dhcpdrill.drill import DrillResult
from dhcpdrill.verdicts import Verdict


def run_drill(engine, pair, scenario, image, reports, progress=None, image_for=None, label="", real_clients=(), real_image=None, database_image=None):
    r = DrillResult(pair, scenario, image, reports / f"{pair.name}-{scenario.name}{label}", time.time())
    ok = f"{scenario.name}{label}" != os.environ.get("FAKE_FAIL")
    r.verdicts = [Verdict("fault-effective", "pass", "the primary exited"),
                  Verdict("takeover", "pass" if ok else "fail", "secondary answered", 11.5 if ok else None, "s",
                          "<= 15 s")]
    r.run_dir.mkdir(parents=True)
    r.timeline.save(r.run_dir / "timeline.jsonl")
    time.sleep(0.01)
    return r


def pytest_configure(config):
    plugin.run_drill = run_drill
    plugin.DrillSession.image = lambda self, suite: "dhcpdrill/lab:fake"
    plugin.DrillSession.engine = lambda self, suite: None
    plugin.DrillSession.server_check = lambda self, pair: []
    plugin.DrillSession.client = lambda self: None
'''


def test_a_go_no_go_session_records_runs_rates_and_the_acceptance(tmp_path):
    """The whole session, with a lab that runs nothing: each run's outcome reaches the line,
    go-no-go.txt, the terminal's pass rates, the JUnit and the archive's manifest."""
    (tmp_path / "fake_lab.py").write_text(FAKE_LAB)

    def session(name: str, *args: str, fail: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "drills/", "-n", "0", "-p", "no:cacheprovider",
                               "-p", "fake_lab", "--pair", "fixtures/kea-load-balancing", "--go-no-go", "--repeat", "2",
                               "--reports-dir", str(tmp_path / name), *args], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}", "FAKE_FAIL": fail})

    reports = tmp_path / "went"
    went = session("went", "--accept-hazard", "kea-load-balancing/failback")
    assert went.returncode == 0, went.stdout[-3000:]
    line = (reports / gonogo.FILE_NAME).read_text()
    assert line.startswith("GO (2 runs of each drill): kea-load-balancing / kill-primary passed 2 of 2 runs "
                           "(takeover 11.5 s)")
    assert f"its known hazard accepted (--accept-hazard kea-load-balancing/failback: {STALE_BINDING})" in line
    props = {(p.get("name"), p.get("value")) for p in ET.parse(reports / report.JUNIT_NAME).getroot().iter("property")}
    assert ("accepted_hazard", f"--accept-hazard kea-load-balancing/failback: {STALE_BINDING}") in props
    archive = max(reports.glob("evidence-*.tar.gz"))
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile(evidence.MANIFEST).read())
    assert [a["option"] for a in manifest["accepted_hazards"]] == ["--accept-hazard kea-load-balancing/failback"]
    assert len(manifest["runs"]) == 6

    unaccepted = session("unaccepted")
    assert unaccepted.returncode == 1
    assert "NO-GO unless the run accepts it by name, --accept-hazard kea-load-balancing/failback" in unaccepted.stdout

    failed = session("failed", "--accept-hazard", "kea-load-balancing/failback", fail="kill-primary-run2of2")
    assert failed.returncode == 1
    assert "pass rate: kea-load-balancing / kill-primary: 1 of 2 passed; run 2 FAIL (kea-load-balancing-kill-" \
           "primary-run2of2)" in failed.stdout
    assert (tmp_path / "failed" / gonogo.FILE_NAME).read_text().startswith(
        "NO-GO (2 runs of each drill): kea-load-balancing / kill-primary run 2 of 2 (kea-load-balancing-kill-primary-"
        "run2of2) FAILED: takeover: fail: secondary answered")
