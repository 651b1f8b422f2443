"""Runs are tied to the pair that ran them, never to a name another pair folder may share (issue
26, review of the go/no-go): before, ``gonogo.decide`` and the pass rates grouped runs by
``[pair] name``, so two pair folders under one name, only one of them drilled, read "GO (3 runs of
each drill)" for both. Now runs are tied by config hash, and two pairs under one name are refused
before anything starts, by ``pytest drills/`` and by ``dhcpdrill-check`` alike.

Also here: the GO line shows the worst wait for service (``service-held``, a key verdict now),
and ``dhcpdrill-check`` run outside the project refuses to say ok instead of warning."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dhcpdrill import check, gonogo, report
from dhcpdrill.pair import load_pair
from dhcpdrill.verdicts import PASS, Verdict

from .test_go_no_go_repeat import ROOT, rounds

pytest_plugins = ["pytester"]

HS = ROOT / "fixtures" / "kea-hot-standby"


def _site(tmp_path: Path, folder: str, takeover: int) -> Path:
    """A copy of the bundled hot-standby pair (same ``[pair] name``) with its own takeover limit."""
    path = tmp_path / folder
    shutil.copytree(HS, path)
    manifest = path / "pair.toml"
    text = manifest.read_text()
    assert "max_takeover_s = 15" in text
    manifest.write_text(text.replace("max_takeover_s = 15", f"max_takeover_s = {takeover}", 1))
    return path


def _two_sites(tmp_path: Path):
    a, b = load_pair(_site(tmp_path, "site-a", 15)), load_pair(_site(tmp_path, "site-b", 14))
    assert a.name == b.name == "kea-hot-standby" and a.config_hash != b.config_hash
    return a, b


def test_a_pair_never_drilled_is_not_go_because_another_shares_its_name(tmp_path):
    """Before: GO (3 runs of each drill) for both, from site-a's runs alone."""
    a, b = _two_sites(tmp_path)
    decision = gonogo.decide([a, b], rounds(a, tmp_path / "runs", 3), 3)
    assert not decision.go
    assert decision.reasons == tuple(f"kea-hot-standby / {name} did not run (interrupted, skipped or its lab was "
                                     "unavailable)" for name in gonogo.must_pass(b))
    assert gonogo.decide([a], rounds(a, tmp_path / "runs", 3), 3).go


def test_runs_of_two_pairs_under_one_name_are_not_counted_as_one_drill(tmp_path):
    """Before: site-b's one run was "run 2 of 2" of site-a's drill, and the pass rates summed them."""
    a, b = _two_sites(tmp_path)
    results = rounds(a, tmp_path / "a", 1) + rounds(b, tmp_path / "b", 1)
    assert [report.run_of(r, results) for r in results] == [(1, 1)] * len(results)
    assert report.pass_rates(results) == []


def test_pytest_refuses_two_pairs_under_one_name_naming_both_folders(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # had it run, it reached no engine
    a, b = (_site(tmp_path, name, 15) for name in ("site-a", "site-b"))
    pytester.makepyfile(test_drill="""
from scenarios.kill_primary import KILL_PRIMARY


def test_kill_primary(drill):
    drill.run(KILL_PRIMARY)
""")
    result = pytester.runpytest_inprocess("--pair", str(a), "--pair", str(b), "--rootdir", str(pytester.path),
                                          "--reports-dir", str(pytester.path / "reports"),
                                          "-p", "no:xdist", "-p", "no:cacheprovider")
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    out = result.stdout.str() + result.stderr.str()
    assert "pair check failed, nothing was started" in out
    assert (f"{b}/pair.toml: pair.name: 'kea-hot-standby' is also the name of {a}/pair.toml" in out
            and 'e.g. name = "site-b"' in out), out[-3000:]


def test_the_check_refuses_two_pairs_under_one_name(tmp_path, capsys):
    a, b = (_site(tmp_path, name, 15) for name in ("site-a", "site-b"))
    assert check.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert f"ok   {a}" in out and f"FAIL {b}" in out
    assert f"pair.name: 'kea-hot-standby' is also the name of {a}/pair.toml" in out
    assert check.main([str(a)]) == 0 and check.main([str(b)]) == 0


def test_the_go_line_shows_the_worst_wait_for_service(tmp_path):
    """Before: ``service-held`` was no key verdict, so the line showed takeover, duplicates and
    continuity but never how long a client waited for the survivor."""
    pair = load_pair(HS)
    results = rounds(pair, tmp_path, 3)
    for i, r in enumerate(results):
        r.verdicts.insert(2, Verdict("service-held", PASS, "the longest wait …", 2.5 + i % 3, "s", "<= 8 s"))
        r.verdicts.append(Verdict("continuity", PASS, "every client kept its address", 1.0, "", ">= 1"))
    decision = gonogo.decide([pair], results, 3)
    assert decision.go
    assert decision.passed[0] == ("kea-hot-standby / kill-primary passed 3 of 3 runs (takeover 5–7 s, "
                                  "service-held 2.5–4.5 s, duplicates 0 addresses)")


def test_the_check_outside_the_project_refuses_rather_than_say_ok(tmp_path):
    """Before: a WARNING and exit 0 for a misspelt ``[drills.kill_primary]``, which pytest then
    refuses. Run as a team would, from another folder, with only the installed package importable."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "dhcpdrill").symlink_to(ROOT / "dhcpdrill")
    pair = _site(tmp_path / "elsewhere", "pair", 15)
    manifest = pair / "pair.toml"
    manifest.write_text(manifest.read_text().replace("[drills.kill-primary]", "[drills.kill_primary]"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dhcpdrill.check", str(pair), *args], cwd=tmp_path / "elsewhere",
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(site)})

    lost = run()
    assert lost.returncode == 2, lost.stdout + lost.stderr
    assert "the project's scenarios/ was not found here" in lost.stderr
    assert "run dhcpdrill-check from the project folder, or give --scenarios PROJECT/scenarios" in lost.stderr
    told = run("--scenarios", str(ROOT / "scenarios"))
    assert told.returncode == 1, told.stdout + told.stderr
    assert "drills.kill_primary: no drill has this name — did you mean [drills.kill-primary]?" in told.stdout
    wrong = run("--scenarios", str(tmp_path))
    assert wrong.returncode == 2 and f"--scenarios {tmp_path}: no scenarios package there" in wrong.stderr
