"""Kea's DHCPv6 server (kea-dhcp6) with the HA hook: its config, its log and its lease file.

Beside ``kea.py`` (DHCPv4) and sharing its parsers: Kea's JSON with comments, the type checks of
the fields the drill reads, and the HA hook's log lines, which are the same for both families.
What differs: the ``Dhcp6`` map, ``subnet6`` with ``pools`` and ``pd-pools``, and the memfile
``kea-leases6.csv`` whose rows carry a DUID, an IAID and a lease type (address or prefix).
"""
from __future__ import annotations

import csv
import io
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..problems import PairError, Problem
from .kea import HA_SHAPE, STATE_LINE, _get, check_shape, read_config, unix_socket

CONFIG_PATH = "/etc/kea/kea-dhcp6.conf"
LAB_INTERFACE = "eth0"
V6_RANGE = ipaddress.ip_network("2001:2::/48")  # RFC 5180 benchmarking range: the only v6 addresses a lab uses
V4_RANGE = ipaddress.ip_network("198.18.0.0/15")
SHAPE6: dict = {
    "interfaces-config": {"interfaces": [str]},
    "lease-database": {"type": str, "name": str, "persist": bool},
    "valid-lifetime": int, "preferred-lifetime": int, "renew-timer": int, "rebind-timer": int,
    "hooks-libraries": [{"library": str}],
    "subnet6": [{"id": int, "subnet": str, "pools": [{"pool": str}],
                 "pd-pools": [{"prefix": str, "prefix-len": int, "delegated-len": int}]}],
}
LEASE_TYPES = {0: "address", 1: "temporary", 2: "prefix"}


def load6(path: Path, problems: list[Problem]) -> dict | None:
    """The ``Dhcp6`` map of a kea-dhcp6 config, or None with the problems named."""
    said = len(problems)
    raw = read_config(path, problems)
    if len(problems) > said:
        return None
    if not isinstance(_get(raw, "Dhcp6"), dict):
        got = ", ".join(sorted(raw)) if isinstance(raw, dict) else type(raw).__name__
        problems.append(Problem(str(path), "Dhcp6", f"missing (the file holds: {got})",
                                "give a kea-dhcp6 config with a Dhcp6 map (a Dhcp4 config belongs to a DHCPv4 pair)"))
        return None
    before = len(problems)
    check_shape(str(path), raw["Dhcp6"], SHAPE6, "Dhcp6", problems)
    return raw["Dhcp6"] if len(problems) == before else None


def ha_relationship(path: str, cfg: dict, problems: list[Problem]) -> dict | None:
    """The first HA relationship of a Dhcp6 config (lease_cmds and HA hooks loaded), else problems."""
    hooks = cfg.get("hooks-libraries") or []
    libs = [str(h.get("library", "")) for h in hooks if isinstance(h, dict)]
    if not any(lib.endswith("libdhcp_lease_cmds.so") for lib in libs):
        problems.append(Problem(path, "Dhcp6.hooks-libraries", "the lease_cmds hook is missing",
                                "load libdhcp_lease_cmds.so: HA needs it to send lease updates"))
    ha = [h for h in hooks if isinstance(h, dict) and str(h.get("library", "")).endswith("libdhcp_ha.so")]
    if not ha:
        problems.append(Problem(path, "Dhcp6.hooks-libraries", "the High Availability hook is missing",
                                "load libdhcp_ha.so with a high-availability configuration"))
        return None
    rel = _get(ha[0], "parameters", "high-availability", 0)
    if not isinstance(rel, dict) or not rel.get("peers"):
        problems.append(Problem(path, "libdhcp_ha.so parameters.high-availability", "missing or empty",
                                "give one relationship: this-server-name, mode, peers"))
        return None
    check_shape(path, rel, HA_SHAPE, "high-availability[0]", problems)
    return rel


@dataclass(frozen=True)
class Plan6:
    """What the lab needs of a v6 pair, read from its two configs."""

    subnet6: ipaddress.IPv6Network       # the clients' link
    peer_net: ipaddress.IPv4Network      # the HA peer link (the servers' IPv4 addresses)
    addresses4: dict[str, str]           # role -> IPv4 address (from its peer URL)
    mode: str
    max_unacked: int
    lease_file: str
    pools: tuple[str, ...]
    pd_pools: tuple[str, ...]


def plan6(files: dict[str, Path], mode: str) -> Plan6:
    """Validate both configs of a v6 pair; raise ``PairError`` naming every problem, before any
    container starts."""
    problems: list[Problem] = []
    cfgs = {role: load6(path, problems) for role, path in files.items()}
    if problems:
        raise PairError(problems)
    rels = {role: ha_relationship(str(files[role]), cfg, problems) for role, cfg in cfgs.items()}
    if problems:
        raise PairError(problems)
    subnets = {}
    for role, cfg in cfgs.items():
        path = str(files[role])
        ifaces = _get(cfg, "interfaces-config", "interfaces")
        if not isinstance(ifaces, list) or len(ifaces) != 1 or str(ifaces[0]).split("/")[0] in ("", "*"):
            problems.append(Problem(path, "Dhcp6.interfaces-config.interfaces", f"is {json.dumps(ifaces)}; the lab "
                                    "reproduces exactly one named interface", "list the one interface that serves the drilled subnet"))
        if unix_socket(cfg) is None:
            problems.append(Problem(path, "Dhcp6.control-socket", "no unix control socket",
                                    "add a control-socket of socket-type unix with a socket-name"))
        db = cfg.get("lease-database") or {}
        if db.get("type") != "memfile" or db.get("persist") is False:
            problems.append(Problem(path, "Dhcp6.lease-database", "is not a persistent memfile",
                                    "use type memfile with persist true; the drill reads its lease file"))
        rel = rels[role] or {}
        if rel.get("mode") != mode:
            problems.append(Problem(path, "high-availability[0].mode", f"is {json.dumps(rel.get('mode'))}, the "
                                    f"manifest says {mode!r}", "make pair.toml's mode and both configs' agree"))
        entries = cfg.get("subnet6") or []
        if len(entries) != 1:
            problems.append(Problem(path, "Dhcp6.subnet6", f"has {len(entries)} subnets; this first DHCPv6 slice drills one",
                                    "give exactly one subnet6 entry"))
            continue
        where = "Dhcp6.subnet6[0]"
        try:
            net = ipaddress.ip_network(str(entries[0].get("subnet")))
        except ValueError as exc:
            problems.append(Problem(path, f"{where}.subnet", f"is not a network ({exc})", "give an IPv6 prefix such as 2001:2:0:60::/64"))
            continue
        if net.version != 6 or not net.subnet_of(V6_RANGE) or net.prefixlen != 64:
            problems.append(Problem(path, f"{where}.subnet", f"is {net}; the lab serves clients only on a /64 inside "
                                    f"{V6_RANGE} (RFC 5180's benchmarking range)", f"readdress the copy into {V6_RANGE}"))
        for j, pool in enumerate(entries[0].get("pools") or []):
            lo, _, hi = str(pool.get("pool", "")).partition("-")
            try:
                bounds = [ipaddress.ip_address(lo.strip()), ipaddress.ip_address((hi or lo).strip())] \
                    if "/" not in lo else list(ipaddress.ip_network(lo.strip())[[0, -1]])
            except ValueError:
                problems.append(Problem(path, f"{where}.pools[{j}].pool", f"is {json.dumps(pool.get('pool'))}",
                                        "give FIRST - LAST or a prefix"))
                continue
            if any(b not in net for b in bounds):
                problems.append(Problem(path, f"{where}.pools[{j}].pool", f"lies outside the subnet {net}",
                                        "give a pool inside the subnet"))
        for j, pd in enumerate(entries[0].get("pd-pools") or []):
            try:
                prefix = ipaddress.ip_network(f"{pd.get('prefix')}/{pd.get('prefix-len')}")
            except ValueError as exc:
                problems.append(Problem(path, f"{where}.pd-pools[{j}]", f"prefix/prefix-len is not a network ({exc})",
                                        "give the prefix's first address and its length"))
                continue
            if not prefix.subnet_of(V6_RANGE):
                problems.append(Problem(path, f"{where}.pd-pools[{j}].prefix", f"is {prefix}, outside {V6_RANGE}",
                                        f"delegate prefixes from inside {V6_RANGE} only"))
            if not (prefix.prefixlen <= int(pd.get("delegated-len", 0)) <= 128):
                problems.append(Problem(path, f"{where}.pd-pools[{j}].delegated-len", f"is {pd.get('delegated-len')}, "
                                        f"not between prefix-len {prefix.prefixlen} and 128", "give a delegated-len "
                                        "at least the prefix-len"))
        subnets[role] = net
    if problems:
        raise PairError(problems)
    if subnets["primary"] != subnets["secondary"]:
        problems.append(Problem(str(files["secondary"]), "Dhcp6.subnet6[0].subnet", f"is {subnets['secondary']}, "
                                f"the primary's is {subnets['primary']}", "serve the same subnet from both"))
    addresses4: dict[str, str] = {}
    rel = rels["primary"] or {}
    for j, peer in enumerate(rel.get("peers") or []):
        host = urlparse(str(peer.get("url", ""))).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            problems.append(Problem(str(files["primary"]), f"high-availability[0].peers[{j}].url",
                                    f"has host {host!r}, not an address", "give the peer's IPv4 address in its URL"))
            continue
        if address.version != 4 or address not in V4_RANGE:
            problems.append(Problem(str(files["primary"]), f"high-availability[0].peers[{j}].url",
                                    f"has {address}; the lab's peer link is IPv4 in {V4_RANGE}",
                                    f"give the peers addresses inside {V4_RANGE}"))
            continue
        role = "primary" if peer.get("role") == "primary" else "secondary"
        addresses4[role] = str(address)
    if problems:
        raise PairError(problems)
    if set(addresses4) != {"primary", "secondary"}:
        raise PairError([Problem(str(files["primary"]), "high-availability[0].peers", "does not name a primary "
                                 "and a standby/secondary peer", "give both peers with their roles")])
    peer_net = ipaddress.ip_network(f"{addresses4['primary']}/24", strict=False)
    if ipaddress.ip_address(addresses4["secondary"]) not in peer_net:
        raise PairError([Problem(str(files["primary"]), "high-availability[0].peers",
                                 "the peers' addresses are not in one /24", "give both peers addresses in one /24")])
    cfg = cfgs["primary"]
    entry = cfg["subnet6"][0]
    return Plan6(subnets["primary"], peer_net, addresses4, mode, int(rel.get("max-unacked-clients", 10)),
                 str((cfg.get("lease-database") or {}).get("name") or "/var/lib/kea/kea-leases6.csv"),
                 tuple(str(p.get("pool")) for p in entry.get("pools") or []),
                 tuple(f"{p.get('prefix')}/{p.get('prefix-len')}->{p.get('delegated-len')}" for p in entry.get("pd-pools") or []))


def log_event(line: str) -> tuple[str, dict] | None:
    """An HA state change from a kea-dhcp6 log line (the hook logs the same lines for both families)."""
    m = STATE_LINE.search(line)
    if m:
        return "ha-state", {"from": m[1].lower(), "to": m[2].lower(), "partner": m[3].lower()}
    if "HA_" in line and ("WARN" in line or "ERROR" in line):
        return "ha-warning", {"line": line.strip()}
    return None


def parse_leases6(text: str) -> list[dict]:
    """The rows of a ``kea-leases6.csv``: address (or prefix/len), DUID, IAID, lease type, start,
    expire, state. Rows that do not parse are returned with ``unread`` set, never guessed at."""
    rows = []
    reader = csv.DictReader(io.StringIO(text))
    needs = ("address", "duid", "valid_lifetime", "expire", "lease_type", "prefix_len")
    if reader.fieldnames is None or any(n not in reader.fieldnames for n in needs):
        return [{"unread": f"header lacks {[n for n in needs if n not in (reader.fieldnames or [])]}"}] if text.strip() else []
    for row in reader:
        try:
            kind = LEASE_TYPES.get(int(row["lease_type"]), row["lease_type"])
            valid, expire = int(row["valid_lifetime"]), int(row["expire"])
            key = row["address"] if kind != "prefix" else f"{row['address']}/{int(row['prefix_len'])}"
            rows.append({"lease": key, "type": kind, "duid": row["duid"].replace(":", "").lower(),
                         "iaid": int(row.get("iaid") or 0), "start": float(expire - valid), "expire": float(expire),
                         "valid": valid, "state": int(row.get("state") or 0)})
        except (ValueError, TypeError, KeyError) as exc:
            rows.append({"unread": f"{exc}", "row": dict(row)})
    return rows
