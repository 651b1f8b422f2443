"""Database faults prove they bit from what the lab reads back, not from a command's exit code:
checked with stand-ins, no Docker."""
from __future__ import annotations

from types import SimpleNamespace

from dhcpdrill import databases
from dhcpdrill.database_faults import BLACKHOLE_TAG, BlackholeDatabase, StopDatabase
from dhcpdrill.faults import FaultContext
from dhcpdrill.timeline import Timeline

DB = databases.LeaseDatabase("postgresql", "localhost", 5432, "kea", "kea", "pw", "198.18.90.252", "database")


class Container:
    """A container whose exec answers by the command's first word."""

    def __init__(self, running: bool = True, answers: dict | None = None) -> None:
        self.attrs = {"State": {"Running": running}}
        self.answers, self.ran = answers or {}, []

    def reload(self) -> None:
        pass

    def exec_run(self, cmd, environment=None):
        self.ran.append(cmd)
        code, out = self.answers.get(cmd[0], (0, ""))
        return code, out.encode()


def ctx(db_container: Container, primary: Container, log: list[tuple[float, str]]) -> FaultContext:
    lab = SimpleNamespace(containers={"database": db_container, "primary": primary},
                          log_lines=lambda container: log)
    plan = SimpleNamespace(lease_databases={"primary": DB}, ids={"primary": "198.18.90.11"})
    return FaultContext(lab, None, None, plan, Timeline())


def test_a_stopped_database_is_proven_only_by_the_daemons_own_complaint():
    down = Container(running=False, answers={"pg_isready": (2, "no response")})
    lost = [(9e9, "ERROR DATABASE_PGSQL_FATAL_ERROR Unrecoverable PostgreSQL error occurred")]
    ok, why = StopDatabase(log_wait_s=0).verify(ctx(down, Container(), lost))
    assert ok and "DATABASE_PGSQL_FATAL_ERROR" in why
    ok, why = StopDatabase(log_wait_s=0).verify(ctx(down, Container(), []))
    assert not ok and "logged no lost database" in why
    up = Container(running=True, answers={"pg_isready": (0, "accepting connections")})
    ok, why = StopDatabase(log_wait_s=0).verify(ctx(up, Container(), lost))
    assert not ok and "still accepts connections" in why


MYSQL = databases.LeaseDatabase("mysql", "localhost", 3306, "kea", "kea", "pw", "198.18.91.252", "database")


def test_a_stopped_mysql_database_is_proven_by_the_mysql_backends_words_and_asked_as_mysql():
    down = Container(running=False, answers={"mariadb-admin": (1, "connect to server at '127.0.0.1' failed")})
    c = ctx(down, Container(), [(9e9, "ERROR DATABASE_PGSQL_FATAL_ERROR Unrecoverable PostgreSQL error occurred")])
    c.plan.lease_databases = {"primary": MYSQL}
    ok, why = StopDatabase(log_wait_s=0).verify(c)
    assert not ok and "logged no lost database" in why  # another backend's words prove nothing here
    lost = ("2026-12-07 22:04:51.327 ERROR [kea-dhcp4.database/14.139811573270208] DATABASE_MYSQL_FATAL_ERROR "
            "Unrecoverable MySQL error occurred: unable to execute for <SELECT address, hwaddr")  # a live run's line
    c = ctx(down, Container(), [(9e9, lost)])
    c.plan.lease_databases = {"primary": MYSQL}
    ok, why = StopDatabase(log_wait_s=0).verify(c)
    assert ok and "DATABASE_MYSQL_FATAL_ERROR" in why
    up = Container(running=True, answers={"mariadb-admin": (0, "mysqld is alive")})
    c = ctx(up, Container(), [(9e9, lost)])
    c.plan.lease_databases = {"primary": MYSQL}
    ok, why = StopDatabase(log_wait_s=0).verify(c)
    assert not ok and "still accepts connections" in why and up.ran[-1][0] == "mariadb-admin"
    StopDatabase().apply(c)
    assert "mariadb-admin -u root shutdown" in up.ran[-1][-1]


def listing(packets: int) -> str:
    return f"-A INPUT -s 198.18.90.11/32 -p tcp -m tcp --dport 5432 -m comment --comment {BLACKHOLE_TAG} -c {packets} 600 -j DROP"


def test_a_blackhole_is_proven_by_the_daemons_dropped_packets_and_a_connection_that_times_out():
    fault = BlackholeDatabase(packet_wait_s=0)
    timed_out = Container(answers={"python3": (1, "TimeoutError timed out")})
    ok, why = fault.verify(ctx(Container(answers={"iptables": (0, listing(7))}), timed_out, []))
    assert ok and "7 packet(s)" in why
    ok, _ = fault.verify(ctx(Container(answers={"iptables": (0, listing(0))}), timed_out, []))
    assert not ok  # the daemon sent nothing: the fault never met it
    refused = Container(answers={"python3": (1, "ConnectionRefusedError [Errno 111] Connection refused")})
    ok, _ = fault.verify(ctx(Container(answers={"iptables": (0, listing(7))}), refused, []))
    assert not ok  # a reset is not a blackhole
    ok, _ = fault.verify(ctx(Container(answers={"iptables": (0, "")}), timed_out, []))
    assert not ok  # no rule at all


def test_a_database_fault_on_a_memfile_server_says_what_it_is_for():
    c = ctx(Container(), Container(), [])
    c.plan.lease_databases = {}
    try:
        StopDatabase().apply(c)
    except RuntimeError as exc:
        assert "keeps no SQL lease database" in str(exc)
    else:
        raise AssertionError("a database fault ran on a pair without a SQL database")


def test_a_database_container_its_fault_stopped_is_no_gap_in_the_evidence_but_one_that_died_alone_is():
    from dhcpdrill.coverage import ENGINE, _container_gaps
    from dhcpdrill.timeline import Event

    def timeline(*extra: Event) -> Timeline:
        return Timeline([Event(100.0, "harness", "engine-watch", {}),
                         Event(110.0, "harness", "fault-applied", {"fault": "database-stopped", "target": "primary"}),
                         *extra,
                         Event(111.0, ENGINE, "container-event", {"action": "die", "role": "database", "exit_code": "0"})])
    assert [g.source for g in _container_gaps(timeline(), 200.0)] == ["the database container"]
    stopped = Event(110.5, "database", "database", {"state": "stopped", "server": "primary"})
    assert _container_gaps(timeline(stopped), 200.0) == []
