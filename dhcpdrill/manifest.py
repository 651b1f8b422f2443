"""A pair's manifest, ``pair.toml``: the server kind, the mode, which file plays which role,
and per drill the thresholds the verdicts judge against (their schema is ``expectations``).
Reading it checks everything the manifest alone can tell; ``pair.load_pair`` checks the
configs it names too."""
from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass, field
import re
from pathlib import Path, PurePath
from typing import Any, Iterable, Mapping

from .clientkinds import NAMES as CLIENT_KINDS
from .images import REAL_CLIENTS, SUITES, packages
from .includes import included_files
from .problems import PairError, Problem
from .quiet import Period
from .realclients import KINDS, PACKAGES as CLIENT_PACKAGES
from .expectations import (BACKUP, KEY_TYPES, NEEDS, PRECONDITIONS, ROLES, KnownHazard, Thresholds, hazard_problems,
                           problems_of)

MANIFEST = "pair.toml"
SERVERS = ("kea", "isc-dhcp")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "pair": {"name": str, "server": str, "suite": str, "mode": str},
    "files": {"primary": str, "secondary": str},
}


MAX_CLIENTS = 100_000


@dataclass(frozen=True)
class Population:
    """``[workload]``: the clients a drill runs (spread evenly over the pair's client subnets),
    how fast they first appear (a building powering up), and the share of them that are new: those
    arrive with DISCOVER while the drill runs, spread from steady state to the window's end, and
    keep their leases; the rest lease before the fault and renew (Monday 08:00: most renewing,
    some walking in)."""

    clients: int
    arrival_per_s: float = 500.0
    new_share: float = 0.0

    def per_link(self, links: int) -> int:
        return -(-self.clients // max(1, links))

    def new_per_link(self, links: int) -> int:
        return round(self.per_link(links) * self.new_share)

    def renewing_per_link(self, links: int) -> int:
        return self.per_link(links) - self.new_per_link(links)


PERIODS = ("night", "day")  # [workload.<period>]: the site at that time of day (quiet.Period)
PERIOD_OF_DRILL = {"kill-primary-quiet-hours": "night"}  # drills that run a period's population (Scenario.period)
PERIOD_KEYS = {"active_clients": "clients holding leases then (they renew unicast at T1), e.g. 40",
               "new_per_hour": "never-seen clients arriving an hour then (broadcast), e.g. 4",
               "t1_s": "seconds to the clients' renewal, when not the configs' renew-timer",
               "t2_s": "seconds to the clients' rebind, when not the configs' rebind-timer"}


def _periods(where: str, table: Any, problems: list[Problem]) -> dict[str, Period]:
    """``[workload.night]``, ``[workload.day]``: the population the site has at that hour."""
    if not isinstance(table, dict):
        return {}
    out = {}
    for name in PERIODS:
        raw = table.get(name)
        if raw is None:
            continue
        field_ = f"workload.{name}"
        if not isinstance(raw, dict):
            problems.append(Problem(where, field_, "is not a table",
                                    f"write [{field_}] with active_clients = 40 and new_per_hour = 4"))
            continue
        bad = [Problem(where, f"{field_}.{key}", "unknown key", f"remove it; known keys: {', '.join(PERIOD_KEYS)}")
               for key in raw.keys() - PERIOD_KEYS.keys()]
        values: dict[str, float] = {}
        for key, what in PERIOD_KEYS.items():
            value = raw.get(key)
            if value is None and key in ("t1_s", "t2_s"):
                continue
            whole = key == "active_clients"
            ok = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool) and (
                0 <= value <= MAX_CLIENTS if whole else (value >= 0 if key == "new_per_hour" else value > 0))
            if not ok:
                kind = f"a whole number from 0 to {MAX_CLIENTS}" if whole else \
                    "a number, 0 or more" if key == "new_per_hour" else "a positive number of seconds"
                bad.append(Problem(where, f"{field_}.{key}", "missing" if value is None else f"must be {kind}",
                                   f"give {what}"))
            else:
                values[key] = value
        if not bad and "t1_s" in values and "t2_s" in values and values["t2_s"] <= values["t1_s"]:
            bad.append(Problem(where, f"{field_}.t2_s", f"is {values['t2_s']:g}, not after t1_s ({values['t1_s']:g})",
                               "give a rebind time later than the renewal, e.g. 0.875 of the lease"))
        problems.extend(bad)
        if not bad:
            out[name] = Period(name, int(values["active_clients"]), float(values["new_per_hour"]),
                               values.get("t1_s"), values.get("t2_s"))
    for key in table.keys() - set(PERIODS) - {"mix"}:
        if isinstance(table.get(key), dict):
            problems.append(Problem(where, f"workload.{key}", "unknown time of day",
                                    f"name it one of: {', '.join(PERIODS)}"))
    return out


MIX_EXAMPLE = "mix = { rfc2131 = 0.5, windows = 0.2, udhcpc = 0.3 }"


def _mix(where: str, table: Any, problems: list[Problem]) -> tuple[tuple[str, float], ...]:
    """``[workload] mix``: the share of each client kind (``clientkinds``) among the renewing and
    new clients, adding up to 1. Unstated: every client is the lab's RFC 2131 client, as always."""
    if not isinstance(table, dict) or "mix" not in table:
        return ()
    raw = table["mix"]
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(where, "workload.mix", "is not a table of client kinds and their shares",
                                f"write it as {MIX_EXAMPLE} (kinds: {', '.join(CLIENT_KINDS)})"))
        return ()
    bad: list[Problem] = []
    for kind, share in raw.items():
        if kind not in CLIENT_KINDS:
            near = difflib.get_close_matches(kind, CLIENT_KINDS, n=1)
            bad.append(Problem(where, f"workload.mix.{kind}", "unknown client kind",
                               (f"did you mean {near[0]}? " if near else "") + f"kinds: {', '.join(CLIENT_KINDS)}"))
        elif not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
            bad.append(Problem(where, f"workload.mix.{kind}", f"{share!r} is not a share from 0 to 1",
                               "give the fraction of clients of that kind, e.g. 0.2 for 20 %"))
    if not bad:
        total = sum(float(v) for v in raw.values())
        if abs(total - 1.0) > 0.001:
            bad.append(Problem(where, "workload.mix", f"the shares add up to {total:g}, not 1",
                               f"make them add up to 1, e.g. {MIX_EXAMPLE}"))
    problems.extend(bad)
    if bad:
        return ()
    return tuple((kind, float(raw[kind])) for kind in CLIENT_KINDS if raw.get(kind, 0) > 0)


def _population(where: str, table: Any, problems: list[Problem]) -> Population | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        problems.append(Problem(where, "workload", "is not a table", "write [workload] with clients = 2000"))
        return None
    table = {k: v for k, v in table.items() if not isinstance(v, dict) and k != "mix"}
    if not table:
        return None
    for key in table.keys() - {"clients", "arrival_per_s", "new_share"}:
        problems.append(Problem(where, f"workload.{key}", "unknown key",
                                "remove it; known keys: clients, arrival_per_s, new_share, mix"))
    clients, rate, share = table.get("clients"), table.get("arrival_per_s", 500.0), table.get("new_share", 0.0)
    if not isinstance(clients, int) or isinstance(clients, bool) or not 1 <= clients <= MAX_CLIENTS:
        problems.append(Problem(where, "workload.clients", f"must be a whole number from 1 to {MAX_CLIENTS}",
                                "give the steady clients a drill leases, e.g. clients = 2000"))
        return None
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
        problems.append(Problem(where, "workload.arrival_per_s", "must be a positive number",
                                "give how many clients appear per second at the start, e.g. 500"))
        return None
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share < 1:
        problems.append(Problem(where, "workload.new_share", "must be a number from 0 up to (not including) 1",
                                "give the share of clients that arrive new during the drill, e.g. 0.1 for 10 %"))
        return None
    return Population(clients, float(rate), float(share))


@dataclass(frozen=True)
class Pair:
    folder: Path
    name: str
    server: str
    suite: str
    mode: str
    files: dict[str, Path]
    drills: dict[str, Thresholds] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)  # applied to both server containers
    production_version: str = ""  # what the team runs in production, when pair.toml says
    population: Population | None = None  # [workload]: how many clients, arriving how fast
    periods: dict[str, Period] = field(default_factory=dict)  # [workload.night] ...: the site by time of day
    real_clients: tuple[str, ...] = ()  # [lab] real_clients: real DHCP client daemons beside the simulated ones
    mix: tuple[tuple[str, float], ...] = ()  # [workload] mix: (client kind, share); () = all rfc2131

    def thresholds(self, drill: str) -> Thresholds:
        if drill not in self.drills:
            raise PairError([Problem(str(self.folder / MANIFEST), f"drills.{drill}", "missing",
                                     f"add a [drills.{drill}] table with max_takeover_s, "
                                     "max_duplicates and min_continuity")])
        return self.drills[drill]

    @property
    def config_hash(self) -> str:
        """SHA-256 over the manifest, both config files and every file they include, so a report
        names exactly what ran."""
        h = hashlib.sha256()
        for path in [self.folder / MANIFEST, *self.files.values(), *self.included]:
            name = path.relative_to(self.folder).as_posix() if path.is_relative_to(self.folder) else path.name
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()

    def file_name(self, role: str) -> str:
        """A role's config as the manifest names it (``primary/dhcpd.conf`` when each server has a folder)."""
        return self.files[role].relative_to(self.folder).as_posix()

    @property
    def included(self) -> list[Path]:
        """Files the configs include (``includes``: each config's absolute includes are mirrored under
        its own folder, the pair folder or ``primary/``/``secondary/`` when each server brought its own)
        and files they name that the lab carries into the servers (a Kea pair's TLS certificates and
        keys), inside the pair folder."""
        return sorted({p for path in self.files.values() for p in included_files(path, path.parent)}
                      | set(self.carried))

    @property
    def carried(self) -> list[Path]:
        """Files the configs name by path that the lab puts into the servers' containers."""
        from .servers import adapter_for
        return adapter_for(self).carried_files(self) if self.server in SERVERS else []


OPTIONAL: dict[str, dict[str, type]] = {
    "pair": {"production_version": str},  # the server version the team runs, e.g. "2.4.1": warned when the lab's differs
    "files": {BACKUP: str},  # a Kea HA backup server's own config, when the peers list one: it runs as a third server
}


OPTIONAL_EXAMPLES = {BACKUP: "backup.json"}


def _check_table(where: str, table: Any, schema: dict, section: str, problems: list[Problem]) -> None:
    if not isinstance(table, dict):
        problems.append(Problem(where, section, "missing or not a table", f"add a [{section}] table"))
        return
    optional = OPTIONAL.get(section, {})
    for key in table.keys() - schema.keys() - optional.keys():
        problems.append(Problem(where, f"{section}.{key}", "unknown key",
                                f"remove it; known keys: {', '.join([*schema, *optional])}"))
    for key, kind in optional.items():
        if key in table and not isinstance(table[key], kind):
            problems.append(Problem(where, f"{section}.{key}", f"has the wrong type ({type(table[key]).__name__})",
                                    f"give a {kind.__name__}, e.g. \"{OPTIONAL_EXAMPLES.get(key, '2.4.1')}\""))
    for key, kind in schema.items():
        if key not in table:
            problems.append(Problem(where, f"{section}.{key}", "missing", f"add {key} = ..."))
        elif not isinstance(table[key], kind) or isinstance(table[key], bool):
            problems.append(Problem(where, f"{section}.{key}", f"has the wrong type ({type(table[key]).__name__})",
                                    f"give a {kind.__name__ if isinstance(kind, type) else 'number'}"))


def _thresholds(where: str, drills: Any, problems: list[Problem], meta_server: str = "",
                population: Population | None = None) -> dict[str, Thresholds]:
    if drills is None:
        return {}
    if not isinstance(drills, dict):
        problems.append(Problem(where, "drills", "not a table", "use [drills.<drill-name>] tables"))
        return {}
    out = {}
    for drill, table in drills.items():
        if not isinstance(table, dict):
            problems.append(Problem(where, f"drills.{drill}", "is not a table", f"write a [drills.{drill}] table"))
            continue
        found = [Problem(where, f"drills.{drill}.{key}", what, fix) for key, what, fix in problems_of(table)]
        states = {}
        for role, wanted in (table.get("expect_states") or {}).items() if isinstance(table.get("expect_states"), dict) else ():
            if role not in ROLES or not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
                found.append(Problem(where, f"drills.{drill}.expect_states.{role}",
                                     "must map primary/secondary to a list of state names",
                                     'e.g. expect_states = { secondary = ["partner-down"] }'))
            else:
                states[role] = tuple(w.lower() for w in wanted)
        warnings = table.get("expect_warnings", [])
        if isinstance(warnings, list) and not all(isinstance(w, str) for w in warnings):
            found.append(Problem(where, f"drills.{drill}.expect_warnings", "must be a list of strings",
                                 'e.g. expect_warnings = ["HA_HIGH_CLOCK_SKEW"]'))
        hazard = table.get("known_hazard")
        if isinstance(hazard, dict):
            stated = {k for k, v in table.items() if v not in (None, [], {})}
            found += [Problem(where, f"drills.{drill}.{key}", what, fix)
                      for key, what, fix in hazard_problems(hazard, stated, table=table)]
        problems.extend(found)
        if found:
            continue
        plain = {k: table[k] for k in KEY_TYPES if k in table
                 and k not in ("expect_states", "expect_warnings", "known_hazard")}
        limits = Thresholds(**plain, expect_states=states, expect_warnings=tuple(warnings),
                            known_hazard=KnownHazard.from_table(hazard) if hazard else None)
        if limits.to_suite is not None and limits.to_suite not in SUITES:
            problems.append(Problem(where, f"drills.{drill}.to_suite", f"unknown Debian suite {limits.to_suite!r}",
                                    f"use one of: {', '.join(SUITES)} (Kea 2.2, 2.6, 3.0)"))
        elif limits.to_suite is not None and meta_server == "isc-dhcp":
            problems.append(Problem(where, f"drills.{drill}.to_suite", "a rolling upgrade drills Kea pairs only "
                                    "(it hands each server over with ha-maintenance-start/-cancel)",
                                    "remove to_suite, or the table"))
        if limits.max_takeover_s <= 0:
            problems.append(Problem(where, f"drills.{drill}.max_takeover_s", "must be positive",
                                    "give the seconds a takeover may take, e.g. 15"))
        if not 0 <= limits.min_continuity <= 1:
            problems.append(Problem(where, f"drills.{drill}.min_continuity", "must be between 0 and 1",
                                    "give a fraction, e.g. 1.0 for every client"))
        elif limits.min_continuity == 0:
            problems.append(Problem(where, f"drills.{drill}.min_continuity", "is 0, so continuity could never fail "
                                    "(every client may lose its address)",
                                    "give the share of clients that must keep their address, e.g. 1.0; bound what a "
                                    "known hazard loses in its may_fail instead"))
        if limits.max_duplicates < 0:
            problems.append(Problem(where, f"drills.{drill}.max_duplicates", "must not be negative",
                                    "give 0 unless a known hazard allows more"))
        problems += _limit_problems(where, drill, limits, population)
        out[drill] = limits
    return out


SECONDS = ("max_outage_s", "max_heal_to_normal_s", "max_new_lease_s", "mclt_s")


def _limit_problems(where: str, drill: str, limits: Thresholds, population: Population | None) -> list[Problem]:
    """Limits that leave their verdict unable to judge: a negative time (fails every run for no
    reason of the pair's) or a count of expired leases no population can reach (never fails)."""
    out = [Problem(where, f"drills.{drill}.{key}", f"is {getattr(limits, key):g}: a time must be positive",
                   "give the seconds the pair promises, e.g. 15")
           for key in SECONDS if getattr(limits, key) is not None and getattr(limits, key) <= 0]
    most = limits.max_expired_leases
    if most is not None and most < 0:
        out.append(Problem(where, f"drills.{drill}.max_expired_leases", "must not be negative",
                           "give 0 unless a known hazard allows more"))
    elif most is not None and population is not None and most >= population.clients:
        out.append(Problem(where, f"drills.{drill}.max_expired_leases",
                           f"is {most}, as many as the {population.clients} clients: load could never fail",
                           "give how many leases may expire at most, e.g. 0"))
    return out


def _sysctls(where: str, lab: object, problems: list[Problem]) -> dict[str, str]:
    """``[lab] sysctls``: kernel settings the pair's owners use in production on the servers'
    hosts (e.g. net.ipv4.tcp_syn_retries), limited to the network namespace's own."""
    if not isinstance(lab, dict) or lab.keys() - {"sysctls", "real_clients"}:
        problems.append(Problem(where, "lab", "only sysctls and real_clients are known there",
                                'e.g. [lab] sysctls = { "net.ipv4.tcp_syn_retries" = 2 }, '
                                'real_clients = ["dhclient", "dhcpcd", "udhcpc"]'))
        return {}
    out = {}
    for key, value in (lab.get("sysctls") or {}).items():
        if not key.startswith("net.") or isinstance(value, (bool, dict, list)):
            problems.append(Problem(where, f"lab.sysctls.{key}", "is not a per-namespace net.* setting with a value",
                                    "give net.* keys with a number or string value"))
        else:
            out[key] = str(value)
    return out


def _real_clients(where: str, lab: object, suite: object, problems: list[Problem]) -> tuple[str, ...]:
    """``[lab] real_clients``: the real DHCP client daemons (``realclients.KINDS``) every drill of
    the pair runs beside the simulated clients, each from the pair's suite's Debian packages."""
    raw = lab.get("real_clients") if isinstance(lab, dict) else None
    if raw is None:
        return ()
    field_ = "lab.real_clients"
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        problems.append(Problem(where, field_, "must be a list of client names",
                                f'e.g. real_clients = ["dhclient", "dhcpcd", "udhcpc"] (known: {", ".join(KINDS)})'))
        return ()
    bad = False
    for k in raw:
        if k not in KINDS:
            near = difflib.get_close_matches(k, KINDS, n=1)
            problems.append(Problem(where, field_, f"unknown real client {k!r}",
                                    (f"did you mean {near[0]!r}? " if near else "") + f"known: {', '.join(KINDS)}"))
            bad = True
        elif isinstance(suite, str) and suite in SUITES and CLIENT_PACKAGES[k] not in packages(suite, REAL_CLIENTS):
            problems.append(Problem(where, field_, f"{k} ({CLIENT_PACKAGES[k]}) is not packaged for Debian {suite}",
                                    f"remove {k!r}, or drill the pair on a suite that has it"))
            bad = True
    if len(set(raw)) != len(raw):
        problems.append(Problem(where, field_, "names a client twice", "name each client once"))
        bad = True
    return () if bad else tuple(k for k in KINDS if k in raw)


def read_manifest(folder: Path) -> tuple[Pair, list[Problem], bool]:
    """Read and check ``pair.toml``: the pair, every problem found in it, and whether its configs
    can be checked too (their files exist and the server kind is known). A manifest that cannot
    be read at all raises ``PairError``."""
    where = str(folder / MANIFEST)
    if not folder.exists():
        raise PairError([Problem(str(folder), "-", "no such folder",
                                 f"give a pair folder (one holding {MANIFEST}), e.g. fixtures/kea-hot-standby, "
                                 "or a folder of pair folders")])
    if folder.is_file():
        raise PairError([Problem(str(folder), "-", "is a file, not a pair folder",
                                 f"give the folder that holds {MANIFEST} and the two config files")])
    try:
        raw = tomllib.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise PairError([Problem(where, "-", "no manifest in the pair folder",
                                 f"create {MANIFEST} (see fixtures/kea-hot-standby/{MANIFEST})")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PairError([Problem(where, "-", f"cannot be read ({exc})", "make it a readable UTF-8 file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PairError([Problem(where, "-", f"is not valid TOML ({exc})", "fix the syntax at that line")]) from None
    if isinstance(raw.get("pair"), dict) and raw["pair"].get("family") == 6:
        raise PairError([Problem(where, "pair.family", "is 6: a DHCPv6 pair, which the DHCPv4 drills cannot run",
                                 "drill it with `pytest drills/test_v6_kill_primary.py --longer --v6-pair "
                                 f"{folder}` (docs/dhcpv6.md \"DHCPv6 (first slice)\"), or give a DHCPv4 pair here")])
    problems: list[Problem] = []
    for key in raw.keys() - {*SCHEMA, "drills", "lab", "workload"}:
        problems.append(Problem(where, key, "unknown table", "remove it; known: pair, files, lab, workload, drills"))
    population = _population(where, raw.get("workload"), problems)
    periods = _periods(where, raw.get("workload"), problems)
    mix = _mix(where, raw.get("workload"), problems)
    sysctls = _sysctls(where, raw.get("lab", {}), problems)
    real = _real_clients(where, raw.get("lab", {}), (raw.get("pair") or {}).get("suite") if isinstance(raw.get("pair"), dict)
                         else None, problems)
    for section, schema in SCHEMA.items():
        _check_table(where, raw.get(section), schema, section, problems)
    drills = _thresholds(where, raw.get("drills"), problems, str((raw.get("pair") or {}).get("server", ""))
                         if isinstance(raw.get("pair"), dict) else "", population)
    for drill, period in PERIOD_OF_DRILL.items():
        if drill in drills and period not in periods and not any(p.field.startswith(f"workload.{period}") for p in problems):
            problems.append(Problem(where, f"workload.{period}", f"missing: [drills.{drill}] runs the site's own "
                                    f"population at that hour", f"add [workload.{period}] with active_clients and "
                                    "new_per_hour as the site has them then, e.g. active_clients = 40, new_per_hour = 4"))
    meta = raw.get("pair") if isinstance(raw.get("pair"), dict) else {}
    files = raw.get("files") if isinstance(raw.get("files"), dict) else {}
    if isinstance(meta.get("server"), str) and meta["server"] not in SERVERS:
        problems.append(Problem(where, "pair.server", f"unknown server kind {meta['server']!r}",
                                f"use one of: {', '.join(SERVERS)}"))
    if isinstance(meta.get("suite"), str) and meta["suite"] not in SUITES:
        problems.append(Problem(where, "pair.suite", f"unknown Debian suite {meta['suite']!r}",
                                f"use one of: {', '.join(SUITES)} (Kea 2.2, 2.6, 3.0)"))
    elif meta.get("server") == "isc-dhcp" and "isc-dhcp-server" not in packages(meta.get("suite", "")):
        have = [s for s in SUITES if "isc-dhcp-server" in packages(s)]
        problems.append(Problem(where, "pair.suite", f"Debian {meta['suite']} ships no ISC DHCP server "
                                f"(ISC DHCP is end-of-life)", f"use suite {' or '.join(have)} for a dhcpd pair"))
    if isinstance(meta.get("name"), str) and not NAME.fullmatch(meta["name"]):
        problems.append(Problem(where, "pair.name", f"{meta['name'][:40]!r} is not a plain name",
                                "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit "
                                "(it names the report folders)"))
    paths = {role: folder / name for role, name in files.items() if role in (*ROLES, BACKUP) and isinstance(name, str)}
    for role, name in files.items():
        if isinstance(name, str) and (PurePath(name).is_absolute() or ".." in PurePath(name).parts):
            problems.append(Problem(where, f"files.{role}", f"{name!r} points outside the pair folder",
                                    "copy the config into the pair folder and name it relative to it"))
            paths.pop(role, None)
    for role, path in paths.items():
        if not path.is_file():
            problems.append(Problem(where, f"files.{role}", f"{path} does not exist",
                                    "name the config file, relative to the pair folder"))
    usable = all(role in paths for role in ROLES) and all(p.is_file() for p in paths.values()) and meta.get("server") in SERVERS \
        and all(isinstance(meta.get(k), str) for k in SCHEMA["pair"])
    pair = Pair(folder, meta.get("name", ""), meta.get("server", ""), meta.get("suite", ""),
                meta.get("mode", ""), paths, drills, sysctls,
                meta["production_version"] if isinstance(meta.get("production_version"), str) else "", population,
                periods, real, mix)
    return pair, problems, usable


def drill_name_problems(pair: Pair, known: set[str]) -> list[Problem]:
    """A ``[drills.<name>]`` table for a drill that does not exist would be silently skipped:
    name it, with the nearest real drill."""
    out = []
    for drill in sorted(pair.drills.keys() - known):
        near = difflib.get_close_matches(drill.replace("_", "-"), sorted(known), n=1)
        out.append(Problem(str(pair.folder / MANIFEST), f"drills.{drill}", "no drill has this name",
                           f"did you mean [drills.{near[0]}]?" if near else f"drills are: {', '.join(sorted(known))}"))
    return out


def drill_problems(pair: Pair, verdicts_of: Mapping[str, Iterable[str]]) -> list[Problem]:
    """What the drills refuse before anything starts, checked the same way by ``dhcpdrill-check``:
    a pair with no ``[drills.<name>]`` table (every drill would be skipped and the run go green
    having judged nothing), a table for a drill that does not exist, and a table under which
    every verdict the drill judges is either unstated or excused by the pair's known hazard.
    ``verdicts_of`` maps each drill of the project to the verdicts it judges (empty when the
    drills could not be found: then names are not checked)."""
    where = str(pair.folder / MANIFEST)
    if not pair.drills:
        return [Problem(where, "drills", "states no [drills.<name>] table, so no drill would judge anything",
                        "add a table per drill the pair must pass, e.g. [drills.kill-primary] with "
                        "max_takeover_s = 15 (see fixtures/kea-hot-standby/pair.toml)")]
    if not verdicts_of:
        return []
    out = drill_name_problems(pair, set(verdicts_of))
    for drill in sorted(pair.drills.keys() & verdicts_of.keys()):
        limits = pair.drills[drill]
        hazard = limits.known_hazard
        excused = set(hazard.fails) if hazard else set()
        can_fail = [v for v in verdicts_of[drill] if v not in PRECONDITIONS and v not in excused
                    and (NEEDS.get(v) is None or limits.states(NEEDS[v]))]
        if not can_fail:
            out.append(Problem(where, f"drills.{drill}", "judges nothing that can fail: every verdict of the "
                               "drill is unstated or named in the known hazard's fails",
                               "state the limits the pair must keep, and let the hazard name only what it breaks"))
    return out


def name_clashes(pairs: Iterable[Pair]) -> list[Problem]:
    """Pairs drilled together that share a ``[pair] name``: the reports, run folders, test ids,
    ``--accept-hazard`` and the go/no-go line all name a pair by it, so two pairs under one name
    would read as one (a GO for a pair that was never drilled). Refused before anything starts."""
    first: dict[str, Pair] = {}
    out = []
    for pair in pairs:
        other = first.setdefault(pair.name, pair)
        if other is pair:
            continue
        where = str(pair.folder / MANIFEST)
        if pair.folder.resolve() == other.folder.resolve():
            out.append(Problem(where, "pair.name", f"this pair folder is given twice ({other.folder}, {pair.folder})",
                               "give each pair folder once"))
        else:
            out.append(Problem(where, "pair.name", f"{pair.name!r} is also the name of {other.folder / MANIFEST}: "
                               "reports, --accept-hazard and the go/no-go name a pair by it, so two pairs under one "
                               "name would read as one", f"give one of them another name (e.g. name = \"{_other_name(pair, first)}\" "
                               "in its [pair] table), or drill them in separate runs"))
    return out


def _other_name(pair: Pair, taken: Mapping[str, Pair]) -> str:
    """A name to suggest for a pair whose name is taken: its folder's, else the name numbered."""
    if pair.folder.name not in taken:
        return pair.folder.name
    return next(f"{pair.name}-{n}" for n in range(2, len(taken) + 3) if f"{pair.name}-{n}" not in taken)
