"""A pair that can judge nothing is refused, by ``dhcpdrill-check`` and by ``pytest drills/``
alike (issue 26, item 6): no ``[drills.*]`` table, a table for a drill that does not exist, or a
table under which every verdict the drill judges is excused. Before, the first went green
(every drill skipped, exit 0) and the check said ok for the second while pytest refused it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dhcpdrill import check
from dhcpdrill.catalogue import known_scenarios
from dhcpdrill.pair import load_pair

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def _pair(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "pair"
    shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", folder)
    manifest = folder / "pair.toml"
    manifest.write_text(edit(manifest.read_text()))
    return folder


def _no_tables(text: str) -> str:
    return text[:text.index("[drills.")]


def test_the_check_refuses_a_pair_with_no_drill_tables(tmp_path, capsys):
    folder = _pair(tmp_path, _no_tables)
    assert check.main([str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {folder}" in out
    assert f"{folder}/pair.toml: drills: states no [drills.<name>] table, so no drill would judge anything — " \
           "add a table per drill the pair must pass, e.g. [drills.kill-primary]" in out


def test_the_check_refuses_a_misspelt_drill_table_as_pytest_does(tmp_path, capsys):
    folder = _pair(tmp_path, lambda t: t.replace("[drills.kill-primary]", "[drills.kill_primary]"))
    assert check.main([str(folder)]) == 1
    assert "drills.kill_primary: no drill has this name — did you mean [drills.kill-primary]?" in capsys.readouterr().out


def test_a_table_whose_hazard_excuses_every_verdict_judges_nothing(tmp_path, capsys):
    """clock-skew-then-kill judges takeover, state transitions, client outage, duplicates and
    reply checksums: a hazard that always breaks all of them leaves nothing."""
    folder = _pair(tmp_path, lambda t: t.replace('fails = { takeover = "none", client-outage = "no-takeover" }',
                                                 'fails = { takeover = "none", client-outage = "no-takeover", '
                                                 'duplicates = 5, reply-checksums = 5, state-transitions = true }'))
    from dhcpdrill.manifest import drill_problems
    verdicts_of = {n: s.verdicts for n, s in known_scenarios().items()}
    [problem] = drill_problems(load_pair(folder), verdicts_of)
    assert problem.field == "drills.clock-skew-then-kill" and problem.what.startswith("judges nothing that can fail")
    assert check.main([str(folder)]) == 1
    assert "drills.clock-skew-then-kill: judges nothing that can fail" in capsys.readouterr().out


def test_every_bundled_pair_judges_something():
    from dhcpdrill.manifest import drill_problems
    verdicts_of = {n: s.verdicts for n, s in known_scenarios().items()}
    # DHCPv6 pairs (fixtures/v6/) have their own loader and drill: tests/unit/test_v6.py
    folders = sorted(p.parent for p in (ROOT / "fixtures").rglob("pair.toml")
                     if "v6" not in p.relative_to(ROOT).parts)
    assert len(folders) > 15
    assert [str(p) for f in folders for p in drill_problems(load_pair(f), verdicts_of)] == []


def test_pytest_refuses_a_pair_with_no_drill_tables_before_anything_starts(pytester, tmp_path):
    folder = _pair(tmp_path, _no_tables)
    pytester.makepyfile(test_drill="""
from scenarios.kill_primary import KILL_PRIMARY


def test_kill_primary(drill):
    drill.run(KILL_PRIMARY).assert_verdicts()
""")
    result = pytester.runpytest_inprocess("--pair", str(folder), "--rootdir", str(pytester.path),
                                          "--reports-dir", str(pytester.path / "reports"),
                                          "-p", "no:xdist", "-p", "no:cacheprovider")
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    result.stdout.fnmatch_lines(["*pair check failed, nothing was started:*"])
    assert f"{folder}/pair.toml: drills: states no [drills.<name>] table" in result.stdout.str()
