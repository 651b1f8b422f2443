"""The drill catalogue names each drill with a -k expression that selects it alone, its window
for this pair and what it judges: read from the drills and the pair, nothing started."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from dhcpdrill.catalogue import drills_in, lines, selector
from dhcpdrill.pair import load_pair

ROOT = Path(__file__).resolve().parents[2]


def drill_module(name: str):
    spec = importlib.util.spec_from_file_location(f"catalogue_{name}", ROOT / "drills" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_test_function_is_paired_with_the_scenario_it_runs():
    entries = drills_in(drill_module("test_kill_primary"))
    assert [(e.test, e.scenario.name) for e in entries] == [
        ("test_kill_primary", "kill-primary"), ("test_kill_primary_with_new_clients", "kill-primary-new-clients"),
        ("test_boot_storm", "boot-storm")]


def test_the_selector_excludes_names_that_merely_contain_the_wanted_one():
    tests = ["test_kill_primary", "test_kill_primary_with_new_clients"]
    assert selector("test_kill_primary", "site", tests, ["site", "site-b"]) == \
        "test_kill_primary and not test_kill_primary_with_new_clients and site and not site-b"
    assert selector("test_kill_primary_with_new_clients", "site-b", tests, ["site", "site-b"]) == \
        "test_kill_primary_with_new_clients and site-b"


def test_the_catalogue_shows_the_window_the_prediction_and_the_unjudged_keys():
    entries = drills_in(drill_module("test_kill_primary")) + drills_in(drill_module("test_failback_and_maintenance"))
    default = load_pair(ROOT / "fixtures" / "production" / "kea-default-timers")
    text = "\n".join(lines([load_pair(ROOT / "fixtures" / "kea-hot-standby"), default], entries))
    assert "watches 100 s (max_takeover_s (90 s) + 10 s); takeover predicted 50–88 s" in text
    assert "kill-primary-new-clients   not drilled: pair.toml has no [drills.kill-primary-new-clients] table" in text
    assert "judges: steady-state, fault-effective, evidence-consistent, takeover (max_takeover_s), service-held, " \
           "takeover-predicted" in text
    assert "service held: every client answered within 5 s, 16 s after a REQUEST given up (a serving server " \
           "answers at the client's next retransmission (at most 4 s) within 1 s" in text
    assert "service held: every client answered within 5 s, 24 s across a hand-back, 16 s after a REQUEST given up" \
           in text  # Kea's default timers: their 20 s hand-back silence only from a heal until both are normal
    assert "from a heal until both servers are normal again 24 s: after a hand-back's silence of 20 s (two " \
           "heartbeat-delays)" in text
