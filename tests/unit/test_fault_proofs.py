"""A fault's proofs read the daemon, not the container: checked with stand-ins, no Docker."""
from __future__ import annotations

from types import SimpleNamespace

from dhcpdrill.faults import FaultContext, RestartServer, SkewClock
from dhcpdrill.timeline import Timeline


class Container:
    def __init__(self, running: bool = True) -> None:
        self.attrs = {"State": {"Running": running, "Status": "running" if running else "exited",
                                "StartedAt": "2026-11-30T12:00:00Z"}}

    def reload(self) -> None:
        pass


def ctx(states: list[str], offset: float | None = None, running: bool = True) -> FaultContext:
    answers = iter(states)
    adapter = SimpleNamespace(ha_state=lambda lab, pair, role: next(answers, states[-1]),
                              clock_offset=lambda lab, pair, role, wait_s=12.0: offset)
    lab = SimpleNamespace(containers={"primary": Container(running)})
    return FaultContext(lab, None, adapter, None, Timeline())


def test_a_restart_is_healed_only_once_the_daemon_answers():
    ok, why = RestartServer(restart_wait_s=0.3).verify_healed(ctx(["unreachable"]))
    assert not ok and "its daemon did not answer within 0.3 s" in why  # the container alone runs
    ok, why = RestartServer(restart_wait_s=5).verify_healed(ctx(["unreachable", "unreachable", "waiting"]))
    assert ok and "answers (waiting)" in why
    assert not RestartServer().verify_healed(ctx(["hot-standby"], running=False))[0]


def test_a_clock_skew_records_the_offset_its_daemon_reported():
    c = ctx(["hot-standby"], offset=64.6)
    ok, _ = SkewClock(seconds=65).verify(c)
    assert ok and [(e.source, e.kind, e.get("offset")) for e in c.timeline] == [("primary", "clock-offset", 64.6)]
    assert not SkewClock(seconds=65).verify(ctx(["hot-standby"], offset=30.0))[0]
