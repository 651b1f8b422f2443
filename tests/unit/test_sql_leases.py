"""SQL lease databases (``databases``): what the check refuses, where the lab puts the databases,
and the verdicts on the evidence read back from the lease4 tables of a real drill
(tests/evidence/kea-hs-pgsql-kill-primary: fixtures/sql/kea-hot-standby-pgsql, Kea 2.2.0 and
PostgreSQL 15 from Debian bookworm), and on mutations of it."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from dhcpdrill import databases
from dhcpdrill.drill import DrillResult, verdicts_for
from dhcpdrill.outcome import decide
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import LabError, PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import KeaAdapter, kea_json, server_problems
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, judge

from .test_real_evidence import SCENARIOS, load, with_prediction, without

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "fixtures" / "sql" / "kea-hot-standby-pgsql"
EVIDENCE = "kea-hs-pgsql-kill-primary"


def config(name: str = "primary.json") -> dict:
    return kea_json((BUNDLED / name).read_text())["Dhcp4"]


def with_db(**changes) -> dict:
    cfg = copy.deepcopy(config())
    db = cfg["lease-database"]
    for key, value in changes.items():
        if value is None:
            db.pop(key, None)
        else:
            db[key] = value
    return cfg


def fields(problems) -> dict[str, str]:
    return {p.field: f"{p.what} — {p.fix}" for p in problems}


# -- the check -------------------------------------------------------------------------------
def test_the_bundled_sql_configs_are_accepted():
    assert server_problems("primary.json", config()) == []
    assert server_problems("standby.json", config("standby.json")) == []


@pytest.mark.parametrize("changes, field, words", [
    ({"host": "/var/run/postgresql"}, "Dhcp4.lease-database.host", "unix socket"),
    ({"user": None}, "Dhcp4.lease-database.user", "credentials"),
    ({"password": None}, "Dhcp4.lease-database.password", "credentials"),
    ({"name": ""}, "Dhcp4.lease-database.name", "credentials"),
    ({"port": 70000}, "Dhcp4.lease-database.port", "not a TCP port"),
    ({"trust-anchor": "/etc/kea/ca.pem"}, "Dhcp4.lease-database.trust-anchor", "TLS to the database"),
    ({"type": "cql"}, "Dhcp4.lease-database.type", "does not know"),
])
def test_what_the_lab_cannot_reproduce_is_refused_naming_file_field_and_fix(changes, field, words):
    found = server_problems("kea-a.conf", with_db(**changes))
    assert field in fields(found) and words in fields(found)[field]
    assert all(p.file == "kea-a.conf" and p.fix for p in found)


def test_a_mysql_pair_is_placed_on_mariadb_at_its_port():
    pair = load_pair(ROOT / "fixtures" / "sql" / "kea-hot-standby-mysql")
    plan = adapter_for(pair).lab_plan(pair)
    assert [(s.kind, s.port) for s in plan.databases] == [("mysql", 3306), ("mysql", 3306)]
    assert adapter_for(pair).lease_path(pair, "secondary").startswith("mysql://kea@198.18.91.")


def test_mysql_rows_become_memfile_rows_and_its_init_quotes_what_the_config_holds():
    tsv = ("address\thwaddr\tclient_id\tvalid_lifetime\texpire\tsubnet_id\tstate\n"
           "198.18.91.100\t02106b000000\tNULL\t60\t1796668831\t1\t0")
    assert databases.memfile_rows(tsv).splitlines() == [HEADER, "198.18.91.100,02:10:6b:00:00:00,,60,1796668831,1,0"]
    odd = databases.LeaseDatabase("mysql", "h", 3306, "ke`a", "o'brien", "p\\w'", "198.18.91.252", "database")
    made = databases.mysql_init(odd)
    assert "'o\\'brien'@'%'" in made and "`ke``a`" in made and "'p\\\\w\\''" in made


def test_a_hosts_database_the_lab_does_not_run_is_refused():
    cfg = {**config(), "hosts-database": {"type": "postgresql", "name": "kea"}}
    assert "Dhcp4.hosts-database" in fields(server_problems("kea-a.conf", cfg))


def test_a_memfile_that_is_never_written_is_still_refused():
    cfg = {**config(), "lease-database": {"type": "memfile", "persist": False}}
    assert "Dhcp4.lease-database.persist" in fields(server_problems("kea-a.conf", cfg))


def test_a_sql_database_name_is_no_lease_file_for_the_version_checks():
    from dhcpdrill.servers.kea import named_files, version_refusals
    assert not [f for f in named_files(config()) if f[2] == "lease file"]
    assert version_refusals("bookworm", config(), "primary.json") == []


# -- placing the databases ----------------------------------------------------------------------
def test_each_servers_localhost_is_a_database_server_of_its_own_readdressed_and_listed():
    pair = load_pair(BUNDLED)
    plan = adapter_for(pair).lab_plan(pair)
    assert [s.role for s in plan.databases] == ["database", "database-2"]
    addresses = {plan.lease_databases[r].address for r in ("primary", "secondary")}
    assert len(addresses) == 2 and not addresses & set(plan.spare_addresses()) and not addresses & set(plan.ids.values())
    for role, file in (("primary", "primary.json"), ("secondary", "standby.json")):
        lab_copy = json.loads(plan.files_in_container[role]["/etc/kea/kea-dhcp4.conf"])["Dhcp4"]["lease-database"]
        assert lab_copy["host"] == plan.lease_databases[role].address
        assert lab_copy["user"] == "kea" and lab_copy["password"] == "lab-only-kea-password"
        assert any(r.startswith(f"{file}: Dhcp4.lease-database.host: \"localhost\" -> ") for r in plan.rewrites)
    assert adapter_for(pair).lease_path(pair, "primary") == "postgresql://kea@198.18.90.252:5432/kea table lease4"


def test_two_servers_naming_one_remote_host_and_name_share_one_database(tmp_path):
    pair_dir = tmp_path / "shared"
    shutil.copytree(BUNDLED, pair_dir)
    for name in ("primary.json", "standby.json"):
        text = (pair_dir / name).read_text().replace('"host": "localhost"', '"host": "kea-db.example.net"')
        (pair_dir / name).write_text(text)
    pair = load_pair(pair_dir)
    plan = adapter_for(pair).lab_plan(pair)
    assert len(plan.databases) == 1 and len(plan.databases[0].databases) == 1
    assert plan.lease_databases["primary"] == plan.lease_databases["secondary"]
    assert sum("one database shared with the other server" in r for r in plan.rewrites) == 2


def test_a_refused_database_stops_the_pair_before_any_container(tmp_path):
    pair_dir = tmp_path / "socket"
    shutil.copytree(BUNDLED, pair_dir)
    text = (pair_dir / "primary.json").read_text().replace('"host": "localhost"', '"host": "/run/postgresql"')
    (pair_dir / "primary.json").write_text(text)
    with pytest.raises(PairError) as caught:
        load_pair(pair_dir)
    assert "primary.json: Dhcp4.lease-database.host" in str(caught.value)


def test_lease_file_drills_and_rolling_upgrades_on_a_sql_pair_are_refused_naming_the_table(tmp_path):
    pair_dir = tmp_path / "with-storage"
    shutil.copytree(BUNDLED, pair_dir)
    with (pair_dir / "pair.toml").open("a") as toml:
        toml.write('\n[drills.storage-full]\nmax_takeover_s = 15\n'
                   '\n[drills.rolling-upgrade]\nto_suite = "trixie"\nmax_takeover_s = 15\n')
    with pytest.raises(PairError) as caught:
        load_pair(pair_dir)
    said = str(caught.value)
    assert "drills.storage-full: acts on a lease file" in said and "drills.rolling-upgrade: a rolling upgrade" in said


# -- reading the tables -------------------------------------------------------------------------
class FakeContainer:
    def __init__(self, code: int, out: str) -> None:
        self.code, self.out, self.ran = code, out, []

    def exec_run(self, cmd, environment=None):
        self.ran.append((cmd, environment))
        return self.code, self.out.encode()


class FakeLab:
    def __init__(self, containers) -> None:
        self.containers, self.run_id = containers, "fake"


DB = databases.LeaseDatabase("postgresql", "localhost", 5432, "kea", "kea", "pw", "198.18.90.252", "database")


def test_a_table_is_read_with_the_servers_own_credentials_and_parsed_as_a_memfile():
    dump = ("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,state\n"
            "198.18.90.100,02:10:6b:00:00:00,,60,1796668831,1,0")
    container = FakeContainer(0, dump)
    text = databases.read_leases(FakeLab({"database": container}), DB)
    cmd, env = container.ran[0]
    assert env == {"PGPASSWORD": "pw"} and cmd[cmd.index("-U") + 1] == "kea" and cmd[cmd.index("-d") + 1] == "kea"
    records = [r for _, kind, r in KeaAdapter().lease_events(text) if kind == "lease-record"]
    assert records == [{"ip": "198.18.90.100", "mac": "02:10:6b:00:00:00", "start": 1796668771, "end": 1796668831}]


@pytest.mark.parametrize("lab, words", [
    (FakeLab({}), "was never started"),
    (FakeLab({"database": FakeContainer(1, 'ERROR:  relation "lease4" does not exist')}), "relation \"lease4\""),
])
def test_a_table_that_cannot_be_read_is_an_error_naming_it_never_an_empty_table(lab, words):
    with pytest.raises(LabError) as caught:
        databases.read_leases(lab, DB)
    assert DB.where() in str(caught.value) and words in str(caught.value)


# -- verdicts on the tables of a real drill --------------------------------------------------------
def judged(tl: Timeline) -> dict:
    pair, scenario = load_pair(BUNDLED), SCENARIOS["kill-primary"]
    tl = with_prediction(tl, pair, scenario)
    verdicts = verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair)
    result = DrillResult(pair, scenario, "recorded", Path("."), 0.0, tl, judge(tl, pair.drills["kill-primary"], verdicts))
    return {"outcome": decide(result.verdicts, None, result.hazard), **{v.name: v for v in result.verdicts}}


def test_the_recorded_pgsql_kill_primary_passes_as_it_did_live():
    tl = load(EVIDENCE)
    assert {e.get("path") for e in tl.of("lease-file")} == {"postgresql://kea@198.18.90.252:5432/kea table lease4",
                                                             "postgresql://kea@198.18.90.251:5432/kea table lease4"}
    v = judged(tl)
    assert v["outcome"].status == "pass" and v["duplicates"].figure == 0 and v["continuity"].figure == 100.0


def test_a_table_that_binds_a_held_address_to_another_client_is_a_duplicate():
    tl = load(EVIDENCE)
    held = next(e for e in tl.of("lease-record") if e.source == "secondary")
    other = Event(held.t, "secondary", "lease-record", {**held.data, "mac": "02:d4:99:00:00:01"})
    mutated = Timeline([*tl.events, other])
    v = judged(mutated)
    assert v["duplicates"].status == FAIL and held.get("ip") in v["duplicates"].reason


def test_a_table_that_was_not_read_makes_duplicates_unknown():
    tl = load(EVIDENCE)
    lost = without(tl, lambda e: e.source == "secondary" and e.kind in ("lease-file", "lease-record"))
    unread = Event(tl.events[-1].t, "secondary", "lease-file",
                   {"path": "postgresql://kea@198.18.90.251:5432/kea table lease4", "read": False,
                    "error": "postgresql://kea@198.18.90.251:5432/kea table lease4 could not be read: connection refused"})
    v = judged(Timeline([*lost.events, unread]))
    assert v["duplicates"].status == UNKNOWN and v["outcome"].status == "fail"
    assert v["duplicates"].status != PASS


# -- a table's history, sampled ------------------------------------------------------------------
HEADER = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,state"


def test_a_watched_table_becomes_a_memfile_log_grants_renewals_and_releases_kept():
    watch = databases.TableWatch(FakeLab({}), {"primary": DB})
    watch.merge("primary", f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1060,1,0\n")
    watch.merge("primary", f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1060,1,0\n")  # unchanged: no row
    watch.merge("primary", f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1090,1,0\n")  # renewed at 1030
    watch.merge("primary", f"{HEADER}\n198.18.90.101,02:00:00:00:00:02,,60,1100,1,0\n")  # .100 released
    log = watch.log("primary")
    assert log.splitlines() == [HEADER, "198.18.90.100,02:00:00:00:00:01,,60,1060,1,0",
                                "198.18.90.100,02:00:00:00:00:01,,60,1090,1,0",
                                "198.18.90.100,02:00:00:00:00:01,,0,1030,1,0",
                                "198.18.90.101,02:00:00:00:00:02,,60,1100,1,0"]
    records = {(r["ip"], r["start"]): r for _, kind, r in KeaAdapter().lease_events(log) if kind == "lease-record"}
    assert records[("198.18.90.100", 1000)]["end"] == 1030  # ended by its renewal, as in a memfile
    assert records[("198.18.90.100", 1030)].get("deleted") is True
    assert records[("198.18.90.101", 1040)]["end"] == 1100


def test_a_watched_drill_reads_the_log_ended_by_the_table_now():
    table = f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1090,1,0"
    lab = FakeLab({"database": FakeContainer(0, table)})
    lab.run_id = "drill"
    watch = databases.TableWatch(lab, {"primary": DB, "secondary": DB})
    databases.WATCHES["drill"] = watch
    watch.merge("primary", f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1060,1,0\n")
    watch.merge("secondary", f"{HEADER}\n198.18.90.100,02:00:00:00:00:01,,60,1060,1,0\n")
    text = databases.read_leases(lab, DB, "primary")
    assert text.splitlines()[1:] == ["198.18.90.100,02:00:00:00:00:01,,60,1060,1,0",
                                     "198.18.90.100,02:00:00:00:00:01,,60,1090,1,0"]
    assert "drill" in databases.WATCHES  # the secondary's log is still to be read
    assert len(databases.read_leases(lab, DB, "secondary").splitlines()) == 3  # its own log, then the table now
    assert "drill" not in databases.WATCHES


def test_kea_30_without_the_pgsql_hook_is_refused_in_the_daemons_own_words():
    from dhcpdrill.servers.kea import version_refusals
    found = version_refusals("forky", config(), "primary.json")
    assert [p.field for p in found] == ["Dhcp4.hooks-libraries"]
    assert "did you forget" in found[0].what.lower() and "libdhcp_pgsql.so" in found[0].fix
    hooked = {**config(), "hooks-libraries": [*config()["hooks-libraries"], {"library": "libdhcp_pgsql.so"}]}
    assert version_refusals("forky", hooked, "primary.json") == []
    assert version_refusals("trixie", config(), "primary.json") == []  # 2.6.3: built in


def test_kea_30_without_the_mysql_hook_is_refused_in_the_daemons_own_words():
    """Measured on 3.0.4: kea-dhcp4 -t passes it, the daemon refuses it at start."""
    from dhcpdrill.servers.kea import version_refusals
    mysql = {**config(), "lease-database": {**config()["lease-database"], "type": "mysql", "port": 3306}}
    found = version_refusals("forky", mysql, "primary.json")
    assert [p.field for p in found] == ["Dhcp4.hooks-libraries"]
    assert ("Unable to open database: The Kea server has not been compiled with support for lease database type: "
            "mysql. Did you forget to use -D mysql=enabled during setup or to load libdhcp_mysql hook library?") in found[0].what
    assert 'add { "library": "libdhcp_mysql.so" }' in found[0].fix
    hooked = {**mysql, "hooks-libraries": [*mysql["hooks-libraries"], {"library": "libdhcp_mysql.so"}]}
    assert version_refusals("forky", hooked, "primary.json") == []


def test_a_sql_backend_hook_before_kea_30_is_refused_in_the_daemons_own_words():
    """2.2.0 and 2.6.3 have the backends built in and no such library (measured: kea-dhcp4 -t)."""
    from dhcpdrill.servers.kea import version_refusals
    hooked = {**config(), "hooks-libraries": [*config()["hooks-libraries"], {"library": "libdhcp_pgsql.so"}]}
    found = version_refusals("trixie", hooked, "primary.json")
    assert [p.field for p in found] == ["Dhcp4.hooks-libraries[2].library"]
    assert ("hooks libraries failed to validate - library or libraries in error are: "
            "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_pgsql.so") in found[0].what
    assert "remove libdhcp_pgsql.so" in found[0].fix
    full = {**config(), "hooks-libraries": [{"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_mysql.so"},
                                            *config()["hooks-libraries"]]}
    found = version_refusals("bookworm", full, "primary.json")
    assert [p.field for p in found] == ["Dhcp4.hooks-libraries[0].library"] and "Kea 2.2.0" in found[0].what
    bare_22 = [p.what for p in version_refusals("bookworm", hooked, "primary.json") if p.field.endswith("[2].library")]
    assert any('in error are: libdhcp_pgsql.so"' in what for what in bare_22)  # 2.2 names it as written
    assert version_refusals("forky", hooked, "primary.json") == []  # 3.0 needs it
