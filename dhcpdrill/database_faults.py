"""Database faults: a live Kea server whose SQL lease database goes away (``databases``).

``StopDatabase``: the target server's PostgreSQL is shut down (``pg_ctl stop -m fast``), or its
MariaDB (``mariadb-admin shutdown``): every session is ended, so Kea's next query fails at once;
the database is started again at the heal. Proof: the database container is down, and the
target's daemon logs the loss itself in its backend's words (``LOST``: Kea's
``DATABASE_PGSQL_FATAL_ERROR`` or ``DATABASE_MYSQL_FATAL_ERROR``, ``DHCP4_DB_RECONNECT_*``,
``DHCPSRV_<backend>_LEASE_DB_RECONNECT_*``).
What Kea then does is the config's ``max-reconnect-tries``, ``reconnect-wait-time`` and
``on-fail``: the verdicts see it (the daemon exits, or stops serving, or serves again).

``BlackholeDatabase``: packets from the target server to its database are dropped in the
database's own namespace (no reset, no refusal: a dead switch port or a firewall that drops),
removed at the heal. Proof: the rule's counter shows the daemon's own packets dropped, and a new
TCP connection from the target to the database's port times out rather than being refused.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .faults import PROBE, Fault, FaultContext, _state, rule_packets
from .waiting import NotReady, until

if TYPE_CHECKING:
    from .databases import LeaseDatabase

# Kea 2.2's own words for a lease database it lost, per backend (read from its message catalogue
# in bookworm's build; the live runs logged DATABASE_PGSQL_FATAL_ERROR and DATABASE_MYSQL_FATAL_ERROR).
LOST = {kind: re.compile(rf"DATABASE_{tag}_FATAL_ERROR|DHCP4_DB_RECONNECT_\S+|DHCPSRV_{tag}_\S*(?:FAIL|ERROR|RECONNECT)\S*")
        for kind, tag in (("postgresql", "PGSQL"), ("mysql", "MYSQL"))}
DB_BACK = re.compile(r"DHCP4_DB_RECONNECT_SUCCEEDED")
# Each kind's shutdown (the container ends with its server) and its readiness from inside its container.
STOP = {"postgresql": ('V=$(ls /usr/lib/postgresql | sort -n | tail -n 1); su postgres -s /bin/sh -c '
                       '"/usr/lib/postgresql/$V/bin/pg_ctl -D /var/lib/postgresql/$V/main stop -m fast -w"'),
        "mysql": "mariadb-admin -u root shutdown"}  # root: the unix socket
# mariadb-admin ping exits 0 for a server that answers, even one that denies the anonymous login
READY = {"postgresql": lambda port: ["pg_isready", "-h", "127.0.0.1", "-p", str(port)],
         "mysql": lambda port: ["mariadb-admin", "ping", "-h", "127.0.0.1", "-P", str(port), "--connect-timeout=3"]}
BLACKHOLE_TAG = "dhcpdrill-db-blackhole"


def _db(ctx: FaultContext, target: str) -> "LeaseDatabase":
    db = ctx.plan.lease_databases.get(target)
    if db is None:
        raise RuntimeError(f"{target} keeps no SQL lease database: database faults are for pairs whose "
                           "lease-database is postgresql or mysql")
    if db.kind not in STOP:
        raise RuntimeError(f"{target}'s lease database is {db.kind}: database faults are made for postgresql and mysql")
    return db


def _ready(ctx: FaultContext, db: "LeaseDatabase") -> tuple[bool, str]:
    container = ctx.container(db.server_role)
    if not _state(ctx, db.server_role).get("Running"):
        return False, f"{db.server_role} is not running"
    code, out = container.exec_run(READY[db.kind](db.port))
    return code == 0, out.decode(errors="replace").strip()


def _daemon_said(ctx: FaultContext, role: str, since: float, pattern: re.Pattern, wait_s: float) -> tuple[float, str] | None:
    """The first line of ``role``'s daemon log after ``since`` that matches, waiting up to ``wait_s``."""
    def found() -> tuple[float, str] | None:
        return next(((t, s.strip()) for t, s in ctx.lab.log_lines(ctx.container(role))
                     if t >= since and pattern.search(s)), None)

    try:
        return until(found, timeout=wait_s, every=1.0, what=f"{role}'s daemon to log {pattern.pattern}")
    except NotReady:
        return None


def _applied_at(ctx: FaultContext, name: str) -> float:
    if ctx.timeline is None:
        return time.time() - 2.0
    return next((e.t for e in reversed(ctx.timeline.of("fault-applied")) if e.get("fault") == name), time.time() - 2.0)


@dataclass(frozen=True)
class StopDatabase(Fault):
    """The target server's lease database shut down while the daemon serves; started at the heal.
    ``log_wait_s`` bounds the wait for the daemon's own complaint: it notices at its next query."""

    target: str = "primary"
    name: str = "database-stopped"
    log_wait_s: float = 20.0
    ready_wait_s: float = 30.0

    def apply(self, ctx: FaultContext) -> None:
        db = _db(ctx, self.target)
        code, out = ctx.container(db.server_role).exec_run(["sh", "-c", STOP[db.kind]])
        ctx.record(db.server_role, "database", state="stopped", server=self.target, exit=code,
                   said=out.decode(errors="replace").strip()[-200:])

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        db = _db(ctx, self.target)
        try:  # the container ends with its database server
            until(lambda: not _state(ctx, db.server_role).get("Running"), timeout=5.0, every=0.25,
                  what=f"{db.server_role} to stop")
        except NotReady:
            pass
        up, said = _ready(ctx, db)
        if up:
            return False, f"{db.where()} still accepts connections: {said}"
        complaint = _daemon_said(ctx, self.target, _applied_at(ctx, self.name), LOST[db.kind], self.log_wait_s)
        if complaint is None:
            return False, (f"{db.server_role} is down ({said}), but {self.target}'s daemon logged no lost database "
                           f"in {self.log_wait_s:g} s")
        ctx.record(self.target, "database", state="lost", line=complaint[1][:300])
        return True, f"{db.server_role} down ({said}); {self.target}'s daemon logged: {complaint[1][:200]}"

    def heal(self, ctx: FaultContext) -> None:
        db = _db(ctx, self.target)
        if not _state(ctx, db.server_role).get("Running"):
            ctx.container(db.server_role).start()

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        db = _db(ctx, self.target)
        try:  # readiness of the restart only
            ready = until(lambda: _ready(ctx, db), done=lambda r: r[0], timeout=self.ready_wait_s, every=0.5,
                          what=f"{db.where()} to accept connections")
        except NotReady as exc:
            ready = exc.last
        ctx.record(db.server_role, "database", state="started" if ready[0] else "not-started", said=ready[1])
        return ready[0], f"{db.where()}: {ready[1]}"


@dataclass(frozen=True)
class BlackholeDatabase(Fault):
    """Packets from the target server to its lease database dropped (no reset) while the daemon
    serves; the rule removed at the heal."""

    target: str = "primary"
    name: str = "database-blackholed"
    packet_wait_s: float = 20.0

    def _rule(self, ctx: FaultContext) -> list[str]:
        db = _db(ctx, self.target)
        return ["INPUT", "-s", ctx.plan.ids[self.target], "-p", "tcp", "--dport", str(db.port),
                "-m", "comment", "--comment", BLACKHOLE_TAG, "-j", "DROP"]

    def _dropped(self, ctx: FaultContext) -> int | None:
        db = _db(ctx, self.target)
        _, out = ctx.container(db.server_role).exec_run(["iptables", "-w", "-S", "INPUT", "-v"])
        return rule_packets(out.decode(errors="replace"), BLACKHOLE_TAG)

    def _connect(self, ctx: FaultContext) -> tuple[bool, str]:
        db = _db(ctx, self.target)
        code, out = ctx.container(self.target).exec_run(["python3", "-c", PROBE, db.address, str(db.port), "3"])
        return code == 0, f"{self.target} -> {db.address}:{db.port}: {out.decode(errors='replace').strip()}"

    def apply(self, ctx: FaultContext) -> None:
        db = _db(ctx, self.target)
        code, out = ctx.container(db.server_role).exec_run(["iptables", "-w", "-I", *self._rule(ctx)])
        if code != 0:
            raise RuntimeError(f"iptables in {db.server_role} failed: {out.decode(errors='replace').strip()}")
        ctx.record(db.server_role, "database", state="blackholed", server=self.target, from_address=ctx.plan.ids[self.target])

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Bitten: the daemon's own packets to the database were dropped (the counter moved), and a
        new connection times out (a drop), not refused (a reset)."""
        try:  # the daemon sends only when it next queries: a client's lease
            dropped = until(lambda: self._dropped(ctx), done=lambda d: d != 0, timeout=self.packet_wait_s,
                            every=1.0, what=f"{self.target}'s packets to its database dropped")
        except NotReady as exc:
            dropped = exc.last
        connected, said = self._connect(ctx)  # after the count: its own SYNs are not the daemon's
        ctx.record(self.target, "database", state="blackhole-proof", dropped=dropped, connect=said)
        ok = bool(dropped) and not connected and "timed out" in said.lower()
        return ok, f"{dropped} packet(s) from {self.target}'s daemon to its database dropped; a new connection: {said}"

    def heal(self, ctx: FaultContext) -> None:
        db = _db(ctx, self.target)
        if _state(ctx, db.server_role).get("Running"):
            ctx.container(db.server_role).exec_run(["iptables", "-w", "-D", *self._rule(ctx)])

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        connected, said = self._connect(ctx)
        back = _daemon_said(ctx, self.target, _applied_at(ctx, self.name), DB_BACK, 0.0)
        return connected and self._dropped(ctx) is None, said + (f"; the daemon logged {back[1][:120]}" if back else "")
