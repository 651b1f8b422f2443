"""The slow-component faults for a daemon that needs more than the Kea path (dhcpd): the busy
neighbour that makes a CPU quota bite, and the delaying relay's own record of what it held,
which proves a slow peer link where no status request travels it. Run locally, no Docker."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

from dhcpdrill import faults
from dhcpdrill.faults import DELAY_RELAY, DelayPeerLink, FaultContext, ThrottleCpu
from dhcpdrill.timeline import Timeline


class Local:
    """A stand-in container whose commands run on this host."""

    def __init__(self) -> None:
        self.updates: list[dict] = []
        self.attrs = {"State": {"Running": True, "Paused": False}, "HostConfig": {}}

    def exec_run(self, cmd):
        done = subprocess.run(cmd, capture_output=True)
        return done.returncode, done.stdout + done.stderr

    def update(self, **kw) -> None:
        self.updates.append(kw)

    def reload(self) -> None:
        pass


def test_a_daemon_the_quota_alone_does_not_slow_shares_it_with_a_busy_loop_until_the_heal(tmp_path, monkeypatch):
    monkeypatch.setattr(faults, "NEIGHBOUR_PID", str(tmp_path / "neighbour.pid"))
    box = Local()
    adapter = SimpleNamespace(slowed_by_quota_alone=False,
                              status_round_trips=lambda lab, pair, role, via, count: [{"ms": 1.0}])
    ctx = FaultContext(SimpleNamespace(containers={"primary": box}), None, adapter, None, Timeline())
    fault = ThrottleCpu(cpus=0.002, period_ms=1000)
    fault.apply(ctx)
    try:
        pid = fault._neighbour(ctx)
        assert pid and box.updates == [{"cpu_period": 100_000, "cpu_quota": 1000}]  # 1 ms per 100 ms, the loop beside it
        assert [(e.kind, e.get("running")) for e in ctx.timeline.of("cpu-neighbour")] == [("cpu-neighbour", True)]
        fault.heal(ctx)
        assert fault._neighbour(ctx) is None and box.updates[-1] == {"cpu_quota": -1}
        assert ctx.timeline.of("cpu-neighbour")[-1].get("running") is False
    finally:
        subprocess.run(["sh", "-c", f"kill $(cat {tmp_path / 'neighbour.pid'}) 2>/dev/null"])


def test_a_daemon_the_quota_slows_gets_no_neighbour():
    box = Local()
    adapter = SimpleNamespace(slowed_by_quota_alone=True, status_round_trips=lambda *a: [{"ms": 1.0}])
    ctx = FaultContext(SimpleNamespace(containers={"primary": box}), None, adapter, None, Timeline())
    ThrottleCpu(cpus=0.002, period_ms=1000).apply(ctx)
    assert not ctx.timeline.of("cpu-neighbour") and box.updates == [{"cpu_period": 1_000_000, "cpu_quota": 2000}]


def test_the_relay_records_how_long_it_held_each_way(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def echo():
        conn, _ = server.accept()
        while data := conn.recv(100):
            conn.sendall(data)
    threading.Thread(target=echo, daemon=True).start()
    (tmp_path / "delay").write_text("0.2")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        listen = s.getsockname()[1]
    relay = subprocess.Popen([sys.executable, "-c", DELAY_RELAY, "127.0.0.1", str(server.getsockname()[1]),
                              str(listen), str(tmp_path / "delay"), str(tmp_path / "stats.json")])
    try:
        for _ in range(50):
            try:
                client = socket.create_connection(("127.0.0.1", listen))
                break
            except OSError:
                time.sleep(0.1)
        began = time.monotonic()
        client.sendall(b"bndupd")
        assert client.recv(100) == b"bndupd" and time.monotonic() - began >= 0.4
        time.sleep(1.2)
        stats = json.loads((tmp_path / "stats.json").read_text())
    finally:
        relay.kill()
    assert stats["bytes_out"] == stats["bytes_in"] == 6
    for way in ("bytes_out", "bytes_in"):
        low, high, n = stats["held_ms"][way]
        assert 200 <= low <= high < 400 and n == 1


def relay_ctx(stats: dict[str, dict | None]) -> FaultContext:
    class Box:
        def __init__(self, role: str) -> None:
            self.role = role

        def exec_run(self, cmd):
            st = stats[self.role]
            return (0, json.dumps(st).encode()) if st is not None else (1, b"No such file")
    adapter = SimpleNamespace(status_on_peer_path=False)
    lab = SimpleNamespace(containers={r: Box(r) for r in stats})
    return FaultContext(lab, None, adapter, None, Timeline())


def test_a_slow_link_without_a_status_request_on_it_is_proven_by_the_relay_that_carried_the_peers():
    # dhcpd's failover connection is one TCP connection, opened by either peer: one relay carries it.
    carried = {"primary": {"bytes_out": 1200, "bytes_in": 900, "connections": 1,
                           "held_ms": {"bytes_out": [500.4, 503.1, 14], "bytes_in": [500.2, 502.0, 12]}},
               "secondary": {"bytes_out": 0, "bytes_in": 0, "connections": 0, "held_ms": {}}}
    ok, why = DelayPeerLink(delay_ms=500, max_apply_s=0)._verify_by_relays(relay_ctx(carried))
    assert ok and "primary -> secondary: its relay carried 1200 bytes out, 900 back" in why
    assert "bytes_out 14 chunk(s) held 500.4-503.1 ms" in why
    idle = {r: {"bytes_out": 0, "bytes_in": 0, "held_ms": {}} for r in ("primary", "secondary")}
    ok, why = DelayPeerLink(delay_ms=500, max_apply_s=0)._verify_by_relays(relay_ctx(idle))
    assert not ok and "no relay carried the daemons' peer connection" in why
    fast = {**carried, "primary": {**carried["primary"], "held_ms": {"bytes_out": [3.0, 503.1, 14]}}}
    ok, why = DelayPeerLink(delay_ms=500, max_apply_s=0)._verify_by_relays(relay_ctx(fast))
    assert not ok and "held less than 0.9 of it: primary bytes_out 3.0 ms" in why
    ok, _ = DelayPeerLink(delay_ms=500, max_apply_s=0)._verify_by_relays(relay_ctx({"primary": None, "secondary": None}))
    assert not ok
