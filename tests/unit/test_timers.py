"""The takeover a config's own timers predict, and the window a drill watches: checked against
takeovers measured with the real daemons (tests/evidence, ../shared/notes/failover-facts.md)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dhcpdrill.drill import drill_heal_watch, drill_window
from dhcpdrill.pair import load_pair
from dhcpdrill.plugin import known_scenarios, window_problems
from dhcpdrill.servers.kea import strip_comments
from dhcpdrill.timers import HANGS, REFUSES, VANISHES, HealWatch, heal_watch, isc_takeover, kea_takeover, observation_window
from scenarios.failback import FAILBACK
from scenarios.freeze_primary import FREEZE_PRIMARY
from scenarios.kill_primary import KILL_PRIMARY
from scenarios.partitions import PEER_PARTITION

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TIGHT = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000, "max-unacked-clients": 2}

# (timers, how the dead partner's link behaves, takeovers measured with the real daemon, seconds)
MEASURED = [
    ({}, REFUSES, [60.4, 61.9, 62.3]),                       # defaults, daemon killed in a namespace
    (TIGHT, REFUSES, [3.2, 3.4, 3.8]),                        # tight timers, same lab
    ({**TIGHT, "max-unacked-clients": 0}, REFUSES, [2.1, 2.2, 2.9]),
    (TIGHT, VANISHES, [11.96, 11.99]),                        # bundled pair, container killed (evidence)
]


@pytest.mark.parametrize("timers, link, seen", MEASURED)
def test_kea_prediction_covers_what_the_daemon_did(timers, link, seen):
    p = kea_takeover(timers, link, client_retry_s=5.0)
    assert all(p.covers(s) for s in seen), (p, seen)
    assert p.high_s - p.low_s <= 40  # an interval that says something


def test_kea_prediction_is_driven_by_each_timer():
    base = kea_takeover({}, VANISHES, 5.0)
    assert (base.low_s, base.high_s) == (50.0, 85.0)
    assert kea_takeover({"max-response-delay": 120_000}, VANISHES, 5.0).low_s == 110.0
    assert kea_takeover({"heartbeat-delay": 1000, "max-response-delay": 3000}, HANGS, 5.0).low_s == 10.0  # the HTTP timeout
    assert kea_takeover({}, REFUSES, 5.0).high_s == 75.0
    assert "more than 10 clients with secs > 10 s" in base.basis and "10 s HTTP timeout" in base.basis


def test_isc_prediction_follows_load_balance_max_seconds():
    assert (isc_takeover(None, 5.0).low_s, isc_takeover(None, 5.0).high_s) == (0.0, 8.0)
    assert isc_takeover(10, 5.0).high_s == 15.0


def test_the_window_stretches_for_the_prediction_and_the_threshold_and_says_why():
    p = kea_takeover({}, VANISHES, 5.0)
    w = observation_window(30, p, 15, margin_s=10)
    assert w.observe_s == 95 and "slowest predicted takeover (85 s)" in w.reason
    w = observation_window(30, None, 120, margin_s=10)
    assert w.observe_s == 130 and "max_takeover_s (120 s)" in w.reason
    assert observation_window(30, kea_takeover(TIGHT, VANISHES, 5.0), 15, 10).observe_s == 36


def default_timer_pair(tmp_path: Path, max_takeover_s: int = 90) -> Path:
    """The bundled hot-standby pair with the HA timers most production pairs run: Kea's defaults."""
    folder = tmp_path / "kea-default-timers"
    shutil.copytree(FIXTURES / "kea-hot-standby", folder)
    for name in ("primary.json", "standby.json"):
        path = folder / name
        cfg = json.loads(strip_comments(path.read_text()))
        ha = cfg["Dhcp4"]["hooks-libraries"][1]["parameters"]["high-availability"][0]
        for key in ("heartbeat-delay", "max-response-delay", "max-ack-delay", "max-unacked-clients"):
            ha.pop(key)
        path.write_text(json.dumps(cfg, indent=1))
    manifest = folder / "pair.toml"
    manifest.write_text(manifest.read_text().replace('name = "kea-hot-standby"', 'name = "kea-default-timers"')
                        .replace("max_takeover_s = 15", f"max_takeover_s = {max_takeover_s}", 1))
    return folder


def test_a_default_timer_pair_is_watched_long_enough_to_see_its_takeover(tmp_path):
    pair = load_pair(default_timer_pair(tmp_path))
    prediction, window = drill_window(pair, KILL_PRIMARY)
    assert (prediction.low_s, prediction.high_s) == (50.0, 88.0)
    assert window.observe_s == 100 and "max_takeover_s (90 s)" in window.reason
    assert drill_window(pair, PEER_PARTITION) == (None, observation_window(30, None, None, 10))  # no takeover judged


def test_a_window_beyond_the_limit_is_refused_before_anything_starts(tmp_path):
    pair = load_pair(default_timer_pair(tmp_path, max_takeover_s=900))
    problems = window_problems(pair, known_scenarios(), max_window_s=600)
    assert problems and all("longer than --max-window 600 s" in p for p in problems)
    assert any("drills.kill-primary: would watch 910 s (~15 min) after its fault (max_takeover_s (900 s) + 10 s)" in p
               and "lower max_takeover_s, or run with --max-window 910" in p for p in problems), problems
    assert window_problems(load_pair(FIXTURES / "kea-hot-standby"), known_scenarios(), 600) == []


def test_readiness_waits_follow_the_heartbeat():
    from dhcpdrill.timers import ready_timeout
    assert ready_timeout("kea", {}) == 60 and ready_timeout("kea", {"heartbeat-delay": 30_000}) == 130
    assert ready_timeout("isc-dhcp", {"max-response-delay": 60}) == 120


def test_a_production_mclt_stretches_the_partner_down_window_and_is_refused_with_its_length(tmp_path):
    """A partner-down drill must see MCLT pass after the declaration: with an hour's MCLT it says
    so before anything starts, and how to run it in full."""
    import shutil
    from scenarios.partner_down import PARTNER_DOWN
    folder = tmp_path / "isc"
    shutil.copytree(FIXTURES / "isc-failover", folder)
    (folder / "primary.conf").write_text((folder / "primary.conf").read_text().replace("mclt 30;", "mclt 3600;"))
    toml = (folder / "pair.toml").read_text().replace("mclt_s = 30", "mclt_s = 3600")
    (folder / "pair.toml").write_text(toml)
    pair = load_pair(folder)
    _, window = drill_window(pair, PARTNER_DOWN)
    assert window.observe_s == 3620 and window.reason.startswith("the pair's MCLT (3600 s) after the partner-down")
    [problem] = [p for p in window_problems(pair, known_scenarios(), 600) if "drills.partner-down" in p]
    assert "would watch 3620 s (~60 min)" in problem and "run with --max-window 3620" in problem
    assert "lower max_takeover_s" not in problem
    assert drill_window(load_pair(FIXTURES / "isc-failover"), PARTNER_DOWN)[1].observe_s == 50  # bundled: unchanged


def test_long_leases_are_woken_after_the_heal_once_the_pair_should_be_normal_again():
    short = heal_watch(10, 40, 10)
    assert (short.seconds, short.wake_s) == (40, None)
    campus = heal_watch(21600, 40, 30)
    assert campus.wake_s == 30 and campus.seconds == 30 + 10 + 10
    assert "max_heal_to_normal_s" in campus.reason and "21600" in campus.reason
    unstated = heal_watch(21600, 40, None)
    assert unstated.wake_s == 10 and unstated.seconds == 40 and "default" in unstated.reason


def test_a_failback_of_a_campus_pair_wakes_its_clients_after_the_heal_and_only_a_failback():
    campus = load_pair(FIXTURES / "production" / "kea-campus")
    assert drill_heal_watch(campus, FAILBACK).wake_s == campus.drills["failback"].max_heal_to_normal_s
    assert drill_heal_watch(campus, FAILBACK).settles
    assert drill_heal_watch(campus, FREEZE_PRIMARY) == HealWatch(FREEZE_PRIMARY.after_heal_s)  # judges no client after its heal
    bundled = drill_heal_watch(load_pair(FIXTURES / "kea-hot-standby"), FAILBACK)
    assert bundled.wake_s is None and bundled.settles  # T1 10 s: no wake, but it still waits for every client
