"""The quiet-hours model (dhcpdrill/quiet.py): when a Kea standby's unacked-clients count is
reached from a site's own traffic, with numbers worked out by hand in each test, and the
``[workload.<period>]`` tables that state that traffic, refused with file, field and fix."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dhcpdrill.drill import quiet_plan
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.quiet import Period, counted_after_s, counted_times, duration, quiet_takeover
from dhcpdrill.servers import adapter_for
from dhcpdrill.timers import REFUSES, VANISHES
from scenarios.quiet_hours import KILL_PRIMARY_QUIET_HOURS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEFAULTS: dict[str, float] = {}  # Kea's: heartbeat 10 s, max-response-delay 60 s, max-ack-delay 10 s, U = 10
TIGHT = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000, "max-unacked-clients": 2}
NIGHT = Period("night", active_clients=40, new_per_hour=4)
T1, T2 = 6 * 3600.0, 10.5 * 3600.0  # 12 h leases: RFC 2131 T1 = 0.5, T2 = 0.875 of the lease


@pytest.mark.parametrize("ack_ms, counted", [
    (10_000, 12.0),  # sends at 0, 4, 12 s: secs 12 is the first with 12000 > 10000
    (12_000, 28.0),  # secs 12 is not above 12 s: the next send, 12 + 16
    (1_000, 4.0),    # secs 4 > 1
    (0, 4.0),        # secs 0 never counts, even with max-ack-delay 0: 0 > 0 is false
])
def test_a_new_client_is_counted_at_its_first_send_with_secs_past_max_ack_delay(ack_ms, counted):
    assert counted_after_s(ack_ms) == counted


def test_issue_example_default_timers_four_new_clients_an_hour():
    """U = 10: the 11th new client arrives at 11 x 15 min = 2 h 45 min and counts 12 s later; the
    first of 40 active clients rebinds only at T2 - T1 + T1/40 = 4.5 h + 9 min, after that."""
    p = quiet_takeover(DEFAULTS, VANISHES, NIGHT, T1, T2, client_retry_s=8.0)
    assert p.counted_at_s == 11 * 900 + 12
    assert [who for _, who in p.before] == ["new"] * 10
    assert p.takeover.low_s == 9912 and p.takeover.high_s == 9912 + 10 + 10 + 8
    assert p.with_zero.low_s == 50 and p.with_zero.high_s == 60 + 10 + 10 + 8  # timers alone: kea_takeover
    words = p.words()
    assert "not expected to take over for ~2 h 45 min" in words
    assert "with max-unacked-clients: 0 it would take over in ~50–88 s" in words


def test_rebinding_clients_decide_when_they_come_first():
    """No new clients, 40 active: rebinds from T2 - T1 = 4.5 h on, one per T1/40 = 540 s, each
    counted at once (secs = T2 - T1 from the renewal's start); the 11th at 16200 + 11 x 540."""
    p = quiet_takeover(DEFAULTS, VANISHES, Period("night", 40, 0), T1, T2, client_retry_s=8.0)
    assert p.counted_at_s == 16200 + 11 * 540
    assert duration(p.counted_at_s) == "6 h 9 min"


def test_too_few_broadcasters_never_take_over():
    """3 active clients and no new ones: 3 counted clients, never more than U = 10."""
    p = quiet_takeover(DEFAULTS, VANISHES, Period("night", 3, 0), T1, T2, client_retry_s=8.0)
    assert p.takeover is None and p.counted_at_s is None and len(p.before) == 3
    assert "not expected to take over within 7 d" in p.words()


def test_max_unacked_zero_needs_no_client():
    p = quiet_takeover({**TIGHT, "max-unacked-clients": 0}, VANISHES, Period("night", 0, 0), 10, 20, 8.0)
    assert p.takeover == p.with_zero and p.with_zero.low_s == 10 and p.with_zero.high_s == 10 + 1 + 10 + 8
    assert p.before == ()


def test_bundled_lab_night():
    """kea-hot-standby (U = 2, max-ack-delay 1 s, T1 10 s, T2 20 s), 1 active, 4 new an hour: the
    active client's rebind counts at 10 + 10/1 = 20 s, new clients at 900 + 4 and 1800 + 4 s."""
    p = quiet_takeover(TIGHT, VANISHES, Period("night", 1, 4), 10, 20, client_retry_s=8.0)
    assert p.before == ((20.0, "rebinding"), (904.0, "new"))
    assert p.counted_at_s == 1804.0
    assert (p.takeover.low_s, p.takeover.high_s) == (1804.0, 1804 + 1 + 10 + 8)


def test_a_refused_connection_needs_no_http_timeout():
    p = quiet_takeover({**TIGHT, "max-unacked-clients": 0}, REFUSES, Period("night", 0, 0), 10, 20, 5.0)
    assert p.with_zero.low_s == 2  # max-response-delay 3 s - heartbeat 1 s


def test_counted_times_are_sorted_and_cut_at_most():
    got = counted_times(Period("n", 2, 3600), 10, 20, 1000, most=3)
    assert got == [(5.0, "new"), (6.0, "new"), (7.0, "new")]  # one a second, counted 4 s after arrival


def test_quiet_plan_replays_only_the_clients_before_the_takeover():
    pair = load_pair(FIXTURES / "kea-hot-standby")
    predicted, w = quiet_plan(pair, KILL_PRIMARY_QUIET_HOURS, adapter_for(pair).lab_plan(pair), 60.0)
    assert (w.steady_clients, w.new_clients, w.passive_probes) == (1, 1, True)
    assert w.new_after_s == KILL_PRIMARY_QUIET_HOURS.dwell_s + 2
    assert predicted.max_unacked == 2


def copy_pair(tmp_path: Path, night: str) -> Path:
    dst = tmp_path / "pair"
    shutil.copytree(FIXTURES / "kea-hot-standby", dst)
    toml = (dst / "pair.toml").read_text()
    start = toml.index("[workload.night]")
    end = toml.index("\n\n", start)
    (dst / "pair.toml").write_text(toml[:start] + night + toml[end:])
    return dst


@pytest.mark.parametrize("night, field, fix", [
    ("[workload.night]\nnew_per_hour = 4", "workload.night.active_clients", "clients holding leases"),
    ("[workload.night]\nactive_clients = 1\nnew_per_hour = -1", "workload.night.new_per_hour", "never-seen"),
    ("[workload.night]\nactive_clients = 1\nnew_per_hour = 4\nrate = 3", "workload.night.rate", "known keys"),
    ("[workload.night]\nactive_clients = 1\nnew_per_hour = 4\nt1_s = 20\nt2_s = 10", "workload.night.t2_s", "later"),
    ("[workload.noon]\nactive_clients = 1\nnew_per_hour = 4", "workload.noon", "night, day"),
])
def test_bad_period_is_refused_naming_file_field_and_fix(tmp_path, night, field, fix):
    with pytest.raises(PairError) as err:
        load_pair(copy_pair(tmp_path, night))
    text = str(err.value)
    assert "pair.toml" in text and field in text and fix in text, text


def test_a_drill_needing_a_period_the_pair_does_not_state_is_refused(tmp_path):
    import dataclasses
    pair = load_pair(FIXTURES / "kea-hot-standby")
    pair = dataclasses.replace(pair, periods={})
    with pytest.raises(PairError, match="workload.night"):
        quiet_plan(pair, KILL_PRIMARY_QUIET_HOURS, adapter_for(pair).lab_plan(pair))


def test_periods_leave_the_flat_population_alone():
    pair = load_pair(FIXTURES / "kea-hot-standby")
    assert pair.population is None and pair.periods["night"] == Period("night", 1, 4.0)


def test_the_quiet_hours_drill_without_a_night_is_refused_when_the_pair_is_read(tmp_path):
    folder = copy_pair(tmp_path, "[workload.day]\nactive_clients = 1\nnew_per_hour = 4")
    with pytest.raises(PairError, match=r"pair.toml: workload.night: missing: \[drills.kill-primary-quiet-hours\]"):
        load_pair(folder)
