"""SQL lease databases: a Kea pair whose ``lease-database`` is PostgreSQL, drilled against a real one.

Each database host the configs name becomes a lab container of its own (PostgreSQL, or MariaDB
for ``mysql``, from the suite's Debian packages, ``image/databases.txt``) on the servers' network, at an address of the
servers' subnet outside every pool; the config's ``host`` is rewritten to it (listed as a
rewrite). One server per host, one database per (host, name): two configs naming the same host
and name share one database, as they would in production. The user and password are the
config's own; the schema is made by the suite's own ``kea-admin db-init`` (the same Kea release
as the daemon under test), before either server starts.

Each server's lease evidence is its ``lease4`` table read with the config's credentials, as
rows of a memfile (``parse_memfile`` reads both). A table holds one row per address, the
latest, where a memfile appends every change; so ``TableWatch`` reads each table every
``WATCH_EVERY_S`` during the drill and appends each row that changed, and for a row that
vanished (a release) the deletion row a memfile would hold: a memfile-shaped log whose
resolution is the sampling period, ended by the table as read after the drill.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .problems import LabError, Problem
from .servers.compare import shown
from .waiting import NotReady, until

if TYPE_CHECKING:
    from docker.models.containers import Container
    from docker.models.networks import Network

    from .lab import Lab

SQL_TYPES = {"postgresql": 5432, "mysql": 3306}  # the kinds the lab runs, with their default port
ADMIN = {"postgresql": "pgsql", "mysql": "mysql"}  # kea-admin's name for each
NOT_YET: dict[str, str] = {}
ROLE = "database"  # the first database server's lab role; the next ones are database-2, ...
LOCAL = ("localhost", "127.0.0.1", "::1", "")
TLS_KEYS = ("trust-anchor", "cert-file", "key-file", "key-password", "cipher-list")
READY_S = 60.0
WATCH_EVERY_S = 2.0
INIT_SQL_PATH = "/tmp/dhcpdrill-db-init.sql"
# The role and database a config names, made by the superuser (psql variables: names and
# password are quoted by psql itself, whatever they hold).
INIT_SQL = """\\set ON_ERROR_STOP 1
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') AS make_role \\gset
\\if :make_role
CREATE ROLE :"user" LOGIN PASSWORD :'password';
\\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') AS make_db \\gset
\\if :make_db
CREATE DATABASE :"name" OWNER :"user";
\\endif
"""
# The server listens on the lab network with password logins (scram), as a remote Kea needs.
SERVE = """V=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
[ -d /etc/postgresql/$V/main ] || pg_createcluster $V main >/dev/null
echo "host all all 0.0.0.0/0 scram-sha-256" >> /etc/postgresql/$V/main/pg_hba.conf
mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql
exec su postgres -s /bin/sh -c "exec /usr/lib/postgresql/$V/bin/postgres -D /var/lib/postgresql/$V/main \
-c config_file=/etc/postgresql/$V/main/postgresql.conf -c listen_addresses='*' -c port=$1"
"""
# MariaDB (Debian's mysql): listening on the lab network; its root logs in through the unix socket.
SERVE_MYSQL = """mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
exec mariadbd --user=mysql --bind-address=0.0.0.0 --port=$1 --skip-name-resolve
"""
MYSQL_LEASES_SQL = ("SELECT INET_NTOA(address) AS address, LOWER(HEX(hwaddr)) AS hwaddr, "
                    "LOWER(HEX(client_id)) AS client_id, valid_lifetime, UNIX_TIMESTAMP(expire) AS expire, "
                    "subnet_id, state FROM lease4 ORDER BY UNIX_TIMESTAMP(expire) - valid_lifetime, address")
# Every lease a server holds, memfile-shaped: dotted address, colon-separated MAC, epoch expiry,
# state as a number; oldest client-last-transmission first. Columns stable since Kea 1.x.
LEASES_SQL = ("SELECT '0.0.0.0'::inet + address AS address, "
              "regexp_replace(encode(hwaddr, 'hex'), '(..)(?!$)', '\\1:', 'g') AS hwaddr, "
              "encode(client_id, 'hex') AS client_id, valid_lifetime, "
              "extract(epoch FROM expire)::bigint AS expire, subnet_id, state "
              "FROM lease4 ORDER BY extract(epoch FROM expire)::bigint - valid_lifetime, address")


@dataclass(frozen=True)
class LeaseDatabase:
    """One server's SQL lease database as its config states it (``host`` as written) and where
    the lab puts it (``address``: its database server's container)."""

    kind: str
    host: str
    port: int
    name: str
    user: str
    password: str
    address: str = ""
    server_role: str = ""

    def key(self, role: str) -> tuple[str, str, int]:
        """Which database server holds it: the host and port, and for a local host (each server's
        own machine) the server's role too, since two servers' localhost are two machines."""
        return self.kind, f"{role}:{self.host}" if self.host in LOCAL else self.host, self.port

    def where(self) -> str:
        """What a ``lease-file`` event names as the evidence's place."""
        return f"{self.kind}://{self.user}@{self.address}:{self.port}/{self.name} table lease4"


@dataclass(frozen=True)
class DatabaseServer:
    """A lab container that runs one database server for every database the configs put on ``host``."""

    role: str
    kind: str
    host: str
    port: int
    address: str
    databases: tuple[LeaseDatabase, ...]


def is_sql(cfg: dict) -> bool:
    """Whether a Dhcp4 config keeps its leases in a SQL database (any type but memfile)."""
    db = cfg.get("lease-database") or {}
    return isinstance(db, dict) and db.get("type", "memfile") != "memfile"


def problems(path: str, cfg: dict) -> list[Problem]:
    """What the lab cannot reproduce of a SQL ``lease-database`` (and of the other databases a
    server would connect to at start), each naming the field and the fix. Empty for memfile."""
    out: list[Problem] = []
    where = "Dhcp4.lease-database"
    for other in ("hosts-database", "hosts-databases", "config-control"):
        if cfg.get(other):
            out.append(Problem(path, f"Dhcp4.{other}", "names a database the lab does not run (only the lease "
                               "database is reproduced), so the daemon would not start",
                               f"drill a copy without {other} (host reservations in the config itself)"))
    if not is_sql(cfg):
        return out
    db = cfg["lease-database"]
    kind = str(db.get("type"))
    if kind in NOT_YET:
        return out + [Problem(path, f"{where}.type", f"is {shown(kind)}: {NOT_YET[kind]}",
                              "drill a copy with type postgresql (the same schema through kea-admin), or memfile")]
    if kind not in SQL_TYPES:
        return out + [Problem(path, f"{where}.type", f"is {shown(kind)}, which Kea does not know as a lease database",
                              "use memfile, postgresql or mysql")]
    host = db.get("host", "localhost")
    if not isinstance(host, str) or host.startswith("/"):
        out.append(Problem(path, f"{where}.host", f"is {shown(host)}, a unix socket directory: the lab runs the "
                           "database in a container of its own, reached over TCP",
                           "give the database's address or name (the lab readdresses it); a socket is not reproduced"))
    for key in ("name", "user", "password"):
        if not isinstance(db.get(key), str) or not db.get(key):
            out.append(Problem(path, f"{where}.{key}", f"is {shown(db.get(key, 'absent'))}: the lab makes the "
                               "database with the config's own name and credentials",
                               f"give {key} as the server has it (a lab copy may use any value)"))
    port = db.get("port", SQL_TYPES[kind])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        out.append(Problem(path, f"{where}.port", f"is {shown(port)}, not a TCP port", "give a port number, e.g. 5432"))
    for key in TLS_KEYS:
        if key in db:
            out.append(Problem(path, f"{where}.{key}", "TLS to the database is not reproduced in the lab",
                               f"drill a copy without {key}"))
    return out


# Kea 3.0 moved the SQL lease backends into hooks (Debian forky ships libdhcp_pgsql.so and
# libdhcp_mysql.so). Measured with 3.0.4 and no such hook, for postgresql and for mysql:
# ``kea-dhcp4 -t`` passes (lease backends available: memfile), and the daemon refuses to start
# with these words (DHCP4_CONFIG_LOAD_FAIL).
HOOKED_FROM = (3, 0)
NO_BACKEND_30 = ("Unable to open database: The Kea server has not been compiled with support for lease database "
                 "type: {kind}. Did you forget to use -D {kind}=enabled during setup or to load "
                 "libdhcp_{admin} hook library?")


# Before 3.0 the SQL lease backends are built in (bookworm's 2.2.0 and trixie's 2.6.3: kea-dhcp4 -W
# lists "MySQL backend" and "PostgreSQL backend"; their hooks directory has no such library), so a
# config written for 3.0 that loads them is refused. Measured with both, kea-dhcp4 -t catches it too:
NO_HOOK_BEFORE_30 = "hooks libraries failed to validate - library or libraries in error are: {path}"
BACKEND_HOOKS = {"postgresql": "libdhcp_pgsql.so", "mysql": "libdhcp_mysql.so"}


def version_problems(version: str, suite: str, cfg: dict, path: str) -> list[Problem]:
    """What Kea ``version`` refuses of a SQL lease backend: from 3.0, a PostgreSQL or MySQL lease
    database without its ``libdhcp_pgsql.so`` / ``libdhcp_mysql.so`` hook (the daemon tests pass
    it); before 3.0, a ``libdhcp_pgsql.so`` or ``libdhcp_mysql.so`` hook at all (the backends are
    built in)."""
    from .servers.kea_paths import HOOKS_DIR
    try:
        major_minor = tuple(int(x) for x in version.split(".")[:2])
    except ValueError:
        return []
    hooks = [(i, str(h.get("library", ""))) for i, h in enumerate(cfg.get("hooks-libraries") or []) if isinstance(h, dict)]
    if major_minor < HOOKED_FROM:
        out = []
        for i, lib in hooks:
            name = lib.rsplit("/", 1)[-1]
            if name in BACKEND_HOOKS.values():
                placed = lib if "/" in lib or major_minor < (2, 6) else f"{HOOKS_DIR}/{lib}"  # 2.2 takes a name as given
                out.append(Problem(path, f"Dhcp4.hooks-libraries[{i}].library", f"is {shown(lib)}: Kea {version} "
                                   f"(suite {suite}) refuses to start with it: \"{NO_HOOK_BEFORE_30.format(path=placed)}\" "
                                   f"(Kea {version} has its SQL lease backends built in and ships no {name}; the hook "
                                   "came with Kea 3.0; kea-dhcp4 -t says so too)",
                                   f"remove {name} from hooks-libraries for Kea {version} (keep it in the Kea 3.0 config)"))
        return out
    kind = str((cfg.get("lease-database") or {}).get("type"))
    if not is_sql(cfg) or kind not in BACKEND_HOOKS:
        return []
    hook = BACKEND_HOOKS[kind]
    if not any(lib.endswith(hook) for _, lib in hooks):
        said = NO_BACKEND_30.format(kind=kind, admin=ADMIN[kind])
        return [Problem(path, "Dhcp4.hooks-libraries", f"Kea {version} (suite {suite}) refuses to start with a "
                        f"{kind} lease-database and no {hook}: \"{said}\" (kea-dhcp4 -t passes it: the daemon "
                        "refuses it only when it starts)",
                        f'add {{ "library": "{hook}" }} to hooks-libraries (Kea 3.0 loads its SQL lease '
                        "backends as hooks; 2.2 and 2.6 have them built in)")]
    return []


# Drills whose fault acts on a lease file (storage.py): a SQL database has none.
FILE_DRILLS = ("storage-full", "lease-tail-lost")


def drill_problems(manifest: str, drills: dict) -> list[Problem]:
    """Drills a pair with SQL lease databases states that the lab cannot run on it: the lease-file
    faults, and a rolling upgrade (it carries a lease file over; ``kea-admin db-upgrade`` is not run)."""
    out = []
    for name, limits in sorted(drills.items()):
        if name in FILE_DRILLS:
            out.append(Problem(manifest, f"drills.{name}", "acts on a lease file, and this pair keeps its leases "
                               "in SQL", f"remove [drills.{name}]; the database faults (database-stopped, "
                               "database-blackholed) are the SQL pair's storage drills"))
        elif getattr(limits, "to_suite", None):
            out.append(Problem(manifest, f"drills.{name}", "a rolling upgrade of a SQL pair needs kea-admin "
                               "db-upgrade at the right step, which the lab does not run yet",
                               f"remove [drills.{name}] (or drill a memfile copy of the pair)"))
    return out


def stated(cfg: dict) -> LeaseDatabase | None:
    """The SQL lease database a checked config names, not yet placed; None for memfile."""
    if not is_sql(cfg):
        return None
    db = cfg["lease-database"]
    kind = str(db["type"])
    return LeaseDatabase(kind, str(db.get("host", "localhost")), int(db.get("port", SQL_TYPES[kind])),
                         str(db["name"]), str(db["user"]), str(db["password"]))


def place(wanted: dict[str, LeaseDatabase], addresses: list[str]) -> tuple[dict[str, LeaseDatabase], tuple[DatabaseServer, ...]]:
    """Each role's database placed on a lab database server (one per distinct host and port, in
    role order), at ``addresses`` (as many as there are hosts)."""
    hosts: dict[tuple, str] = {}
    for role, db in wanted.items():
        if db.key(role) not in hosts:
            hosts[db.key(role)] = addresses[len(hosts)]
    roles = {key: ROLE if i == 0 else f"{ROLE}-{i + 1}" for i, key in enumerate(hosts)}
    placed = {role: LeaseDatabase(**{**db.__dict__, "address": hosts[db.key(role)], "server_role": roles[db.key(role)]})
              for role, db in wanted.items()}
    servers = []
    for key, address in hosts.items():
        mine = {(d.name, d.user): d for r, d in placed.items() if d.key(r) == key}
        servers.append(DatabaseServer(roles[key], key[0], key[1], key[2], address, tuple(mine.values())))
    return placed, tuple(servers)


def hosts_needed(cfgs: dict[str, dict]) -> int:
    """How many database servers the lab runs for these configs (role -> Dhcp4)."""
    return len({db.key(role) for role, cfg in cfgs.items() if (db := stated(cfg)) is not None})


def rewrite(cfg: dict, db: LeaseDatabase, shared: bool = False) -> str:
    """Point a lab copy's ``lease-database.host`` at its database container; the rewrite's words
    (``shared``: another server of the pair names the same database)."""
    before = cfg["lease-database"].get("host", "localhost")
    cfg["lease-database"]["host"] = db.address
    local = before in LOCAL
    return (f"Dhcp4.lease-database.host: {shown(before)} -> {shown(db.address)} (the lab container "
            f"{db.server_role}: {db.kind} from the suite's Debian packages; database {shown(db.name)}, user {shown(db.user)}, "
            "schema made by the suite's own kea-admin db-init"
            + ("; one database shared with the other server, as the configs say" if shared else "")
            + ("; on the server's own host in production, a container of its own in the lab, so a fault on the "
               "server's container leaves its database up" if local else "") + ")")


def _exec(container: "Container", cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    code, out = container.exec_run(cmd, environment=env or {})
    return code, out.decode(errors="replace").strip()


def _client(db: LeaseDatabase) -> tuple[list[str], dict[str, str]]:
    """The database's client as the server logs in: its user and password, over TCP to its database."""
    if db.kind == "mysql":
        return (["mysql", "-h", "127.0.0.1", "-P", str(db.port), "-u", db.user, "-D", db.name],
                {"MYSQL_PWD": db.password})
    return (["psql", "-h", "127.0.0.1", "-p", str(db.port), "-U", db.user, "-d", db.name, "-X", "-q"],
            {"PGPASSWORD": db.password})


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_name(text: str) -> str:
    return "`" + text.replace("`", "``") + "`"


def mysql_init(db: LeaseDatabase) -> str:
    """The user and database a config names, made by MariaDB's root (quoted here: no client variables)."""
    user = f"{_sql_string(db.user)}@'%'"
    return (f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY {_sql_string(db.password)};\n"
            f"CREATE DATABASE IF NOT EXISTS {_sql_name(db.name)};\n"
            f"GRANT ALL PRIVILEGES ON {_sql_name(db.name)}.* TO {user};\n")


def memfile_rows(tsv: str) -> str:
    """mysql's tab-separated rows as memfile rows: commas, colon-separated MAC, NULL as empty."""
    out = []
    for i, line in enumerate(tsv.splitlines()):
        cells = ["" if c == "NULL" else c for c in line.split("\t")]
        if i > 0 and len(cells) > 1 and cells[1]:
            cells[1] = ":".join(cells[1][j:j + 2] for j in range(0, len(cells[1]), 2))
        out.append(",".join(cells))
    return "\n".join(out)


def start(lab: "Lab", servers: tuple[DatabaseServer, ...], network: "Network", image: str) -> list[dict]:
    """Start each database server, make its roles and databases and the suite's schema in each;
    what was made (versions, schema version) per database, for the timeline. Raises ``LabError``
    naming the step that failed."""
    from .lab import put_files
    made = []
    for server in servers:
        mysql = server.kind == "mysql"
        container = lab.container(server.role, network, server.address,
                                  ["sh", "-c", SERVE_MYSQL if mysql else SERVE, "serve", str(server.port)], image=image)
        ready = (["mysql", "-u", "root", "-e", "SELECT 1"] if mysql else  # root: the unix socket
                 ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(server.port)])
        try:  # readiness only: the server either listens or the drill cannot run
            until(lambda: _exec(container, ready)[0] == 0, timeout=READY_S, every=0.5,
                  what=f"the {server.kind} server {server.role} to accept connections")
        except NotReady:
            raise LabError(f"the {server.kind} server {server.role} did not accept connections within "
                           f"{READY_S:g} s: {lab.log_lines(container)[-3:]}") from None
        put_files(container, {INIT_SQL_PATH: INIT_SQL.encode()})
        for db in server.databases:
            if mysql:
                put_files(container, {INIT_SQL_PATH: mysql_init(db).encode()})
                code, said = _exec(container, ["sh", "-c", 'mysql -u root < "$1"', "init", INIT_SQL_PATH])
            else:
                code, said = _exec(container, ["su", "postgres", "-s", "/bin/sh", "-c",
                                               "psql -X -q -p \"$1\" -v user=\"$2\" -v password=\"$3\" -v name=\"$4\" -f \"$5\"",
                                               "init", str(db.port), db.user, db.password, db.name, INIT_SQL_PATH])
            if code != 0:
                raise LabError(f"{server.role}: making user {db.user!r} and database {db.name!r} failed: {said[-300:]}")
            backend = ADMIN[db.kind]
            init = ["kea-admin", "db-init", backend, "-h", "127.0.0.1", "-P", str(db.port), "-u", db.user,
                    "-p", db.password, "-n", db.name]
            code, said = _exec(container, init)
            if code != 0 and "already" not in said.lower():
                raise LabError(f"{server.role}: kea-admin db-init {backend} for database {db.name!r} failed: {said[-300:]}")
            _, version = _exec(container, ["kea-admin", "db-version", backend, "-h", "127.0.0.1", "-P", str(db.port),
                                           "-u", db.user, "-p", db.password, "-n", db.name])
            _, admin = _exec(container, ["kea-admin", "--version"])
            _, server_version = _exec(container, ["sh", "-c", "mariadbd --version" if mysql else
                                                  "postgres --version 2>/dev/null || "
                                                  "$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/postgres --version"])
            made.append({"role": server.role, "database": server.kind, "address": server.address, "port": db.port,
                         "name": db.name, "user": db.user, "schema_version": version.splitlines()[-1] if version else None,
                         "kea_admin": admin, "server": server_version, "db_init": "made" if code == 0 else said[-200:]})
    return made


def read_leases(lab: "Lab", db: LeaseDatabase, role: str | None = None) -> str:
    """``role``'s lease evidence: with a ``TableWatch`` running on ``lab``, its log of the table
    ended by a read now (the watch stops); else the table now. A table that cannot be read now
    raises ``LabError`` naming it: absent evidence is never an empty table."""
    watch = WATCHES.get(lab.run_id) if role else None
    if watch is None:
        return read_table(lab, db)
    watch.stop()
    watch.merge(role, read_table(lab, db))
    watch.read_back.add(role)
    if watch.read_back >= set(watch.dbs):
        WATCHES.pop(lab.run_id, None)
    return watch.log(role)


def read_table(lab: "Lab", db: LeaseDatabase) -> str:
    """The ``lease4`` table as memfile rows (header first), read with the server's own credentials."""
    container = lab.containers.get(db.server_role)
    if container is None:
        raise LabError(f"{db.where()}: the database server {db.server_role} was never started")
    cmd, env = _client(db)
    query = ["-B", "-e", MYSQL_LEASES_SQL] if db.kind == "mysql" else ["-A", "-F", ",", "-P", "footer=off", "-c", LEASES_SQL]
    try:
        code, out = _exec(container, [*cmd, *query], env)
    except Exception as exc:  # noqa: BLE001 - a stopped container or a lost engine: the table was not read
        raise LabError(f"{db.where()} could not be read: {exc}") from None
    if code != 0:
        raise LabError(f"{db.where()} could not be read: {out[-300:]}")
    return (memfile_rows(out) if db.kind == "mysql" else out) + "\n"


def deletion(row: str) -> str:
    """The row a memfile appends when a lease is deleted (a release): no lifetime, expiry = its cltt."""
    cells = row.split(",")
    try:
        cells[4] = str(int(cells[4]) - int(cells[3]))
    except (IndexError, ValueError):
        return row
    cells[3] = "0"
    return ",".join(cells)


class TableWatch:
    """Reads each role's ``lease4`` table every ``every_s`` while a drill runs (a thread), keeping
    a memfile-shaped log per role: each row that changed since the last read, and a deletion row
    for each row that vanished. Registered in ``WATCHES`` by the lab's run id; it ends by itself
    once the lab is closed. A read that fails (a stopped database) adds nothing."""

    def __init__(self, lab: "Lab", dbs: dict[str, LeaseDatabase], every_s: float = WATCH_EVERY_S) -> None:
        self.lab, self.dbs, self.every_s = lab, dict(dbs), every_s
        self.header: str | None = None
        self.rows: dict[str, list[str]] = {role: [] for role in dbs}
        self.last: dict[str, dict[str, str]] = {role: {} for role in dbs}
        self.reads: dict[str, int] = {role: 0 for role in dbs}
        self.read_back: set[str] = set()  # roles whose log was taken after the drill
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"table-watch-{lab.run_id}", daemon=True)

    def start(self) -> "TableWatch":
        WATCHES[self.lab.run_id] = self
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s) and self.lab.containers:
            for role, db in self.dbs.items():
                try:
                    self.merge(role, read_table(self.lab, db))
                except Exception:  # noqa: BLE001 - a database that is down this time: nothing read
                    continue

    def merge(self, role: str, text: str) -> None:
        """One read of ``role``'s table into its log."""
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return
        with self._lock:
            self.header = self.header or lines[0]
            now = {line.split(",", 1)[0]: line for line in lines[1:]}
            for address, row in self.last[role].items():  # released before anything granted since
                if address not in now:
                    self.rows[role].append(deletion(row))
            for address, row in now.items():
                if self.last[role].get(address) != row:
                    self.rows[role].append(row)
            self.last[role] = now
            self.reads[role] += 1

    def log(self, role: str) -> str:
        with self._lock:
            return "\n".join([self.header or "", *self.rows[role]]) + "\n"


WATCHES: dict[str, TableWatch] = {}  # lab run id -> its running watch
