"""A fault's proofs read the daemon, not the container: checked with stand-ins, no Docker."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from dhcpdrill.faults import FaultContext, RestartServer, SkewClock, _await_hand_back, hand_back
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


def test_a_clock_offset_is_replaced_in_one_step_so_a_reader_never_sees_it_empty(tmp_path, monkeypatch):
    """libfaketime reads the file on every clock call: an empty read once aborted Kea 3.0.4.
    The real shell command runs here against a local file while a reader polls it."""
    import subprocess
    import threading
    from dhcpdrill import faults
    path = tmp_path / "faketime"
    path.write_text("+0\n")
    monkeypatch.setattr(faults, "CLOCK_FILE", str(path))

    class Local:
        def exec_run(self, cmd):
            done = subprocess.run(cmd, capture_output=True)
            return done.returncode, done.stdout + done.stderr
    context = SimpleNamespace(container=lambda role: Local())
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(path.read_text())
    reader = threading.Thread(target=read)
    reader.start()
    for k in range(150):
        SkewClock(seconds=65)._set(context, 65 if k % 2 else -65)
    stop.set()
    reader.join()
    assert "" not in seen and seen <= {"+0\n", "+65\n", "-65\n"}


def test_a_maintenance_window_hands_back_only_once_the_new_daemon_is_in_maintenance():
    # A CI run on 2026-12-01 sent ha-maintenance-cancel while the new primary was still "waiting":
    # Kea refused it ("not in the in-maintenance state"), the primary then went in-maintenance and
    # the pair stayed there. The harness waits for a state in which either step can begin.
    assert hand_back("waiting", "partner-in-maintenance") == "wait"
    assert hand_back("in-maintenance", "partner-in-maintenance") == "cancel"
    assert hand_back("waiting", "partner-down") == "resyncs"
    assert hand_back("syncing", "partner-down") == "resyncs"


def test_a_maintenance_window_waits_through_waiting_and_says_so_when_it_never_settles():
    order = iter([("waiting", "partner-in-maintenance"), ("waiting", "partner-in-maintenance"),
                  ("in-maintenance", "partner-in-maintenance")])
    answers = {}

    def state(lab, pair, role):
        if role == "primary":
            answers["now"] = next(order, ("in-maintenance", "partner-in-maintenance"))
            return answers["now"][0]
        return answers["now"][1]

    c = FaultContext(None, None, SimpleNamespace(ha_state=state), None, Timeline())
    assert _await_hand_back(c, "primary", "secondary", 5) == ("in-maintenance", "partner-in-maintenance")
    stuck = FaultContext(None, None, SimpleNamespace(
        ha_state=lambda lab, pair, role: "waiting" if role == "primary" else "partner-in-maintenance"),
        None, Timeline())
    with pytest.raises(RuntimeError, match="primary stayed waiting for 0.5 s while secondary held partner-in-maintenance"):
        _await_hand_back(stuck, "primary", "secondary", 0.5)


class Peer:
    """A server's container as RefusePeers reads it: the TCP probe's words, its OUTPUT chain's listing."""

    def __init__(self, probe: bytes, rejected: int | None) -> None:
        self.probe, self.rejected = probe, rejected
        self.attrs = {"State": {"Running": True}}

    def exec_run(self, cmd):
        if cmd[0] == "python3":
            return (0 if self.probe == b"connected" else 1), self.probe
        rule = (f"-A OUTPUT -d 198.18.40.12/32 -p tcp -m comment --comment dhcpdrill-peer-link-refused "
                f"-c {self.rejected} 240 -j REJECT --reject-with tcp-reset\n") if self.rejected is not None else ""
        return 0, ("-P OUTPUT ACCEPT -c 0 0\n" + rule).encode()


def refused_ctx(probe: bytes, rejected: int | None) -> FaultContext:
    peers = {role: Peer(probe, rejected) for role in ("primary", "secondary")}
    plan = SimpleNamespace(addresses={"primary": "198.18.40.11", "secondary": "198.18.40.12"},
                           peer_ports={"primary": 8001, "secondary": 8001})
    return FaultContext(SimpleNamespace(containers=peers), None, None, plan, Timeline())


def test_a_refused_peer_link_is_proven_by_refusals_each_way_and_the_reject_rules_counting():
    from dhcpdrill.faults import RefusePeers
    refused = b"ConnectionRefusedError [Errno 111] Connection refused"
    ok, why = RefusePeers().verify(refused_ctx(refused, 3))
    assert ok and "reset 3 segment(s) primary -> secondary, 3 segment(s) secondary -> primary" in why
    assert not RefusePeers().verify(refused_ctx(b"TimeoutError timed out", 3))[0]  # silent, not refused
    assert not RefusePeers().verify(refused_ctx(refused, 0))[0]  # refused by something else: the rules never bit
    assert not RefusePeers().verify(refused_ctx(refused, None))[0]  # no rule at all
    ok, why = RefusePeers().verify_healed(refused_ctx(b"connected", None))
    assert ok and why.startswith("rules removed")
    assert not RefusePeers().verify_healed(refused_ctx(b"connected", 5))[0]  # a rule left behind
