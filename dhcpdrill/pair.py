"""A pair is a folder: the primary's and the secondary's own config files plus ``pair.toml``.

The manifest names the server kind, the mode, which file plays which role, and per drill the
thresholds the verdicts judge against. Loading checks everything that can be checked without
Docker and reports every problem at once (``PairError``).
"""
from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import PairError, Problem
from .verdicts import Thresholds

MANIFEST = "pair.toml"
SERVERS = ("kea", "isc-dhcp")
SUITES = ("bookworm", "trixie")
SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "pair": {"name": str, "server": str, "suite": str, "mode": str},
    "files": {"primary": str, "secondary": str},
}
THRESHOLD_KEYS: dict[str, type | tuple[type, ...]] = {
    "max_takeover_s": (int, float), "max_duplicates": int, "min_continuity": (int, float),
    "expect_states": dict, "known_hazard": str, "max_outage_s": (int, float),
    "expect_warnings": list, "max_heal_to_normal_s": (int, float),
    "max_new_lease_s": (int, float), "mclt_s": (int, float),
}
ROLES = ("primary", "secondary")


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

    def thresholds(self, drill: str) -> Thresholds:
        if drill not in self.drills:
            raise PairError([Problem(str(self.folder / MANIFEST), f"drills.{drill}", "missing",
                                     f"add a [drills.{drill}] table with max_takeover_s, "
                                     "max_duplicates and min_continuity")])
        return self.drills[drill]

    @property
    def config_hash(self) -> str:
        """SHA-256 over the manifest and both config files, so a report names exactly what ran."""
        h = hashlib.sha256()
        for path in [self.folder / MANIFEST, *self.files.values()]:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()


def _check_table(where: str, table: Any, schema: dict, section: str, problems: list[Problem]) -> None:
    if not isinstance(table, dict):
        problems.append(Problem(where, section, "missing or not a table", f"add a [{section}] table"))
        return
    for key in table.keys() - schema.keys():
        problems.append(Problem(where, f"{section}.{key}", "unknown key",
                                f"remove it; known keys: {', '.join(schema)}"))
    for key, kind in schema.items():
        if key not in table:
            problems.append(Problem(where, f"{section}.{key}", "missing", f"add {key} = ..."))
        elif not isinstance(table[key], kind) or isinstance(table[key], bool):
            problems.append(Problem(where, f"{section}.{key}", f"has the wrong type ({type(table[key]).__name__})",
                                    f"give a {kind.__name__ if isinstance(kind, type) else 'number'}"))


def _thresholds(where: str, drills: Any, problems: list[Problem]) -> dict[str, Thresholds]:
    if drills is None:
        return {}
    if not isinstance(drills, dict):
        problems.append(Problem(where, "drills", "not a table", "use [drills.<drill-name>] tables"))
        return {}
    out = {}
    for drill, table in drills.items():
        before = len(problems)
        schema = dict(THRESHOLD_KEYS)
        if isinstance(table, dict):  # only max_takeover_s is required; the rest default to strict
            schema = {k: v for k, v in schema.items() if k in table or k == "max_takeover_s"}
            for key in table.keys() - THRESHOLD_KEYS.keys():
                problems.append(Problem(where, f"drills.{drill}.{key}", "unknown key",
                                        f"remove it; known keys: {', '.join(THRESHOLD_KEYS)}"))
        known = {k: v for k, v in table.items() if k in THRESHOLD_KEYS} if isinstance(table, dict) else table
        _check_table(where, known, schema, f"drills.{drill}", problems)
        if len(problems) > before:
            continue
        states = {}
        for role, wanted in (table.get("expect_states") or {}).items():
            if role not in ROLES or not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
                problems.append(Problem(where, f"drills.{drill}.expect_states.{role}",
                                        "must map primary/secondary to a list of state names",
                                        'e.g. expect_states = { secondary = ["partner-down"] }'))
            else:
                states[role] = tuple(w.lower() for w in wanted)
        warnings = table.get("expect_warnings", [])
        if not all(isinstance(w, str) for w in warnings):
            problems.append(Problem(where, f"drills.{drill}.expect_warnings", "must be a list of strings",
                                    'e.g. expect_warnings = ["HA_HIGH_CLOCK_SKEW"]'))
            continue
        limits = Thresholds(**{k: table[k] for k in THRESHOLD_KEYS if k in table
                               and k not in ("expect_states", "expect_warnings")},
                            expect_states=states, expect_warnings=tuple(warnings))
        if limits.max_takeover_s <= 0:
            problems.append(Problem(where, f"drills.{drill}.max_takeover_s", "must be positive",
                                    "give the seconds a takeover may take, e.g. 15"))
        if not 0 <= limits.min_continuity <= 1:
            problems.append(Problem(where, f"drills.{drill}.min_continuity", "must be between 0 and 1",
                                    "give a fraction, e.g. 1.0 for every client"))
        if limits.max_duplicates < 0:
            problems.append(Problem(where, f"drills.{drill}.max_duplicates", "must not be negative",
                                    "give 0 unless a known hazard allows more"))
        out[drill] = limits
    return out


def _sysctls(where: str, lab: object, problems: list[Problem]) -> dict[str, str]:
    """``[lab] sysctls``: kernel settings the pair's owners use in production on the servers'
    hosts (e.g. net.ipv4.tcp_syn_retries), limited to the network namespace's own."""
    if not isinstance(lab, dict) or lab.keys() - {"sysctls"}:
        problems.append(Problem(where, "lab", "only a sysctls table is known there",
                                'e.g. [lab] sysctls = { "net.ipv4.tcp_syn_retries" = 2 }'))
        return {}
    out = {}
    for key, value in (lab.get("sysctls") or {}).items():
        if not key.startswith("net.") or isinstance(value, (bool, dict, list)):
            problems.append(Problem(where, f"lab.sysctls.{key}", "is not a per-namespace net.* setting with a value",
                                    "give net.* keys with a number or string value"))
        else:
            out[key] = str(value)
    return out


def load_pair(folder: Path | str) -> Pair:
    """Read and check a pair folder; raise ``PairError`` listing every problem found."""
    folder = Path(folder)
    where = str(folder / MANIFEST)
    try:
        raw = tomllib.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise PairError([Problem(where, "-", "no manifest in the pair folder",
                                 f"create {MANIFEST} (see fixtures/kea-hot-standby/{MANIFEST})")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PairError([Problem(where, "-", f"cannot be read ({exc})", "make it a readable UTF-8 file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PairError([Problem(where, "-", f"is not valid TOML ({exc})", "fix the syntax at that line")]) from None
    problems: list[Problem] = []
    for key in raw.keys() - {*SCHEMA, "drills", "lab"}:
        problems.append(Problem(where, key, "unknown table", "remove it; known: pair, files, lab, drills"))
    sysctls = _sysctls(where, raw.get("lab", {}), problems)
    for section, schema in SCHEMA.items():
        _check_table(where, raw.get(section), schema, section, problems)
    drills = _thresholds(where, raw.get("drills"), problems)
    meta = raw.get("pair") if isinstance(raw.get("pair"), dict) else {}
    files = raw.get("files") if isinstance(raw.get("files"), dict) else {}
    if isinstance(meta.get("server"), str) and meta["server"] not in SERVERS:
        problems.append(Problem(where, "pair.server", f"unknown server kind {meta['server']!r}",
                                f"use one of: {', '.join(SERVERS)}"))
    if isinstance(meta.get("suite"), str) and meta["suite"] not in SUITES:
        problems.append(Problem(where, "pair.suite", f"unknown Debian suite {meta['suite']!r}",
                                f"use one of: {', '.join(SUITES)}"))
    paths = {role: folder / name for role, name in files.items() if role in ROLES and isinstance(name, str)}
    for role, path in paths.items():
        if not path.is_file():
            problems.append(Problem(where, f"files.{role}", f"{path} does not exist",
                                    "name the config file, relative to the pair folder"))
    usable = len(paths) == 2 and all(p.is_file() for p in paths.values()) and meta.get("server") in SERVERS \
        and all(isinstance(meta.get(k), str) for k in SCHEMA["pair"])
    pair = Pair(folder, meta.get("name", ""), meta.get("server", ""), meta.get("suite", ""),
                meta.get("mode", ""), paths, drills, sysctls)
    if usable:  # the configs are checked even when the manifest has problems: report all at once
        from .servers import adapter_for
        try:
            adapter_for(pair).lab_plan(pair)
        except PairError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PairError(problems)
    return pair


def pair_folders(paths: list[str], default_root: Path) -> list[Path]:
    """Expand the requested paths: a pair folder as is, a folder of pair folders into its children."""
    if not paths:
        env = os.environ.get("DHCPDRILL_PAIRS", "")
        paths = [p for p in env.split(os.pathsep) if p] or [str(default_root)]
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / MANIFEST).is_file() or not path.is_dir():
            found.append(path)
        else:  # a folder of pairs; one with none is reported by load_pair as missing its manifest
            found.extend(sorted(p.parent for p in path.glob(f"*/{MANIFEST}")) or [path])
    return found
