"""The plugin is registered for every pytest session of the environment it is installed in, and
acts only in sessions that drill (issue 31). Before: it parametrized any test using a fixture
named ``pair`` over the drill pairs (an unrelated suite failed collection: "no pair to drill"),
made SIGTERM a Ctrl-C in every session, deselected any suite's tests marked ``longer``, and
scheduled any ``-n`` run by lab group (reading pairs that are not there).

An unrelated suite, run in a subprocess as a team's own CI would run it with the harness
installed (the plugin loaded from its entry point), must collect and run unchanged."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from dhcpdrill import plugin

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

UNRELATED_CONFTEST = '''
import signal

import pytest


def their_handler(signum, frame):
    raise SystemExit("their own SIGTERM handler")


signal.signal(signal.SIGTERM, their_handler)


def pytest_configure(config):
    assert config.pluginmanager.has_plugin("dhcpdrill"), "the harness's plugin must be loaded for this test to mean anything"
    config.addinivalue_line("markers", "longer: this suite's own slow tests")


@pytest.fixture(params=["left", "right"])
def pair(request):
    return request.param


@pytest.fixture
def drill():
    return "their own drill"
'''

UNRELATED_TESTS = '''
import signal

import pytest

import conftest


def test_their_pair_fixture_is_theirs(pair):
    assert pair in ("left", "right")


def test_their_drill_fixture_is_theirs(drill):
    assert drill == "their own drill"


@pytest.mark.longer
def test_their_longer_test_runs(pair):
    assert pair


def test_their_sigterm_handler_is_still_theirs():
    assert signal.getsignal(signal.SIGTERM) is conftest.their_handler
'''


def _unrelated(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(UNRELATED_CONFTEST)
    pytester.makepyfile(test_theirs=UNRELATED_TESTS)


@pytest.fixture
def installed(monkeypatch):
    """The subprocess imports this checkout's harness, as an installed one would be imported."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def test_an_unrelated_suite_with_its_own_pair_fixture_and_sigterm_handler_runs_unchanged(pytester, installed):
    _unrelated(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6)  # 2 pair params x 2 tests using it, the drill fixture test, the handler test
    assert "deselected" not in result.stdout.str()
    assert "DHCP failover drills" not in result.stdout.str() and not (pytester.path / "reports").exists()


def test_an_unrelated_suite_runs_unchanged_on_xdist_workers(pytester, installed):
    """``-n 2``: xdist's own scheduling (before, the drills' scheduler asked for pairs and refused)."""
    _unrelated(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=6)


def test_an_unrelated_session_keeps_the_default_sigterm(pytester, installed):
    pytester.makepyfile(test_plain='''
import signal


def test_sigterm_is_the_default():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_drilling_session_traps_sigterm_and_leaves_a_mixed_in_pair_fixture_alone(pytester, installed):
    """A session that drills (``--pair``) makes SIGTERM a Ctrl-C, parametrizes the drill test over
    the pairs, and leaves another test's own ``pair`` fixture as it is."""
    pytester.makeconftest('''
import pytest


@pytest.fixture
def pair():
    return "theirs"
''')
    pytester.makepyfile(test_mixed='''
import signal

from scenarios.kill_primary import KILL_PRIMARY


def test_kill_primary(drill):
    pass


def test_their_pair(pair):
    assert pair == "theirs"


def test_sigterm_is_a_ctrl_c_while_drilling():
    assert signal.getsignal(signal.SIGTERM) is signal.default_int_handler
''')
    result = pytester.runpytest_subprocess("--pair", str(ROOT / "fixtures" / "kea-hot-standby"), "--pair",
                                           str(ROOT / "fixtures" / "isc-failover"), "-p", "no:cacheprovider",
                                           "-p", "no:xdist", "--collect-only", "-q")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_kill_primary[[]kea-hot-standby[]]", "*test_kill_primary[[]isc-failover[]]",
                                 "*test_their_pair", "*test_sigterm_is_a_ctrl_c_while_drilling"])
    ran = pytester.runpytest_subprocess("--pair", str(ROOT / "fixtures" / "kea-hot-standby"), "-p",
                                        "no:cacheprovider", "-p", "no:xdist", "-k", "not kill_primary",
                                        "--reports-dir", str(pytester.path / "reports"))
    ran.assert_outcomes(passed=2, deselected=1)


@pytest.mark.parametrize("args, drills", [
    (["drills/"], True),
    (["drills/test_x.py::test_y"], True),
    (["tests/"], False),
    (["tests/", "--pair", "somewhere"], True),
    (["tests/", "--longer"], True),
    (["--pyargs", "dhcpdrill.drills"], True),
    (["--pyargs", "dhcpdrill.drills.test_kill_primary"], True),
    (["--pyargs", "dhcpdrill.evidence"], False),
    ([], False),  # no testpaths here: the folder holds tests/ and drills/, but names neither
])
def test_a_session_names_drills_by_its_options_or_its_paths(pytester, args, drills):
    (pytester.path / "drills").mkdir()
    (pytester.path / "drills" / "test_x.py").write_text("def test_y():\n    pass\n")
    (pytester.path / "tests").mkdir()
    before = signal.getsignal(signal.SIGTERM)
    config = pytester.parseconfigure(*args)
    assert plugin.named_drills(config) is drills
    config._ensure_unconfigure()
    assert signal.getsignal(signal.SIGTERM) is before  # a trap set while configured is undone


def test_plain_pytest_in_this_repository_drills_through_its_testpaths(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests", "drills"]\n')
    (pytester.path / "drills").mkdir()
    (pytester.path / "tests").mkdir()
    config = pytester.parseconfigure()
    assert plugin.named_drills(config)
    config._ensure_unconfigure()


def test_a_drilling_session_started_in_the_background_still_stops_on_sigint(pytester):
    """A script's ``pytest drills/ &`` inherits SIGINT ignored (a shell without job control sets
    that): Ctrl-C, ``kill -INT`` and ``timeout -s INT`` then did nothing and the drill ran on with
    its fault applied (issue 28). A drilling session makes it a Ctrl-C; an unrelated one, and the
    end of the session, leave it ignored."""
    (pytester.path / "drills").mkdir()
    (pytester.path / "drills" / "test_x.py").write_text("def test_y():\n    pass\n")
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        config = pytester.parseconfigure("tests/")
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        config._ensure_unconfigure()
        config = pytester.parseconfigure("drills/")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        config._ensure_unconfigure()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
