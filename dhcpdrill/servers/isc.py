"""ISC DHCP 4.4 (dhcpd with its failover protocol): config checks, readiness, evidence.

The config is parsed into statements (``words ;`` or ``words { ... }``) rather than matched with
regular expressions, so comments, quoting and layout do not matter. The failover state is read
from dhcpd itself over OMAPI (omshell) and its state changes from its log; bindings come from
``dhcpd.leases``, an append-only log in which the last stanza for an address wins.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import re
import time
from calendar import timegm
from dataclasses import dataclass, field
from typing import TYPE_CHECKING


from ..problems import LabError, docker_errors, PairError, Problem
from ..expectations import BACKUP
from . import LAB_RANGE, ROLES, Declared, LabPlan, ServerAdapter, daemon_command, peer_network, place_subnets
from .. import readdress
from ..readdress import Readdressing
from ..includes import ISC as ISC_INCLUDE, expanded
from ..waiting import NotReady, until

if TYPE_CHECKING:
    from ..lab import Lab
    from ..manifest import Pair

CONFIG_PATH = "/etc/dhcp/dhcpd.conf"
LEASES_PATH = "/var/lib/dhcp/dhcpd.leases"
LAB_INTERFACE = "eth0"
# dhcpd's enum failover_state (server/failover.h)
STATES = {1: "startup", 2: "normal", 3: "communications-interrupted", 4: "partner-down",
          5: "potential-conflict", 6: "recover", 7: "paused", 8: "shutdown", 9: "recover-done",
          10: "resolution-interrupted", 11: "conflict-done", 254: "recover-wait"}
STATE_LINE = re.compile(r"failover peer (\S+): I move from (\S+) to (\S+)")
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"#]+|#[^\n]*')


@dataclass
class Statement:
    words: list[str]
    line: int
    block: list["Statement"] | None = None

    def find(self, *head: str) -> list["Statement"]:
        return [s for s in self.block or [] if s.words[:len(head)] == list(head)]

    def value(self, *head: str) -> str | None:
        found = self.find(*head)
        return found[0].words[len(head)] if found and len(found[0].words) > len(head) else None


def parse(text: str, file: str, problems: list[Problem]) -> Statement | None:
    """dhcpd.conf as a tree of statements; syntax problems are reported with their line."""
    root = Statement(["<file>"], 0, [])
    stack, words, line_of = [root], [], 1
    pos = 0
    for m in TOKEN.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if text[pos:m.start()].strip():
            problems.append(Problem(file, f"line {line}", f"unexpected {text[pos:m.start()].strip()[:20]!r}",
                                    "check the quoting there"))
            return None
        pos = m.end()
        tok = m.group()
        if tok.startswith("#"):
            continue
        if not words:
            line_of = line
        if tok == ";":
            if words:
                stack[-1].block.append(Statement(words, line_of))
            words = []
        elif tok == "{":
            block = Statement(words or ["<anonymous>"], line_of, [])
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif tok == "}":
            if words or len(stack) == 1:
                what = f"'{' '.join(words)}' lacks its ';'" if words else "unbalanced '}'"
                problems.append(Problem(file, f"line {line}", what, "end each statement with ';' and balance braces"))
                return None
            stack.pop()
        else:
            words.append(tok[1:-1] if tok.startswith('"') else tok)
    if len(stack) > 1 or words:
        problems.append(Problem(file, f"line {stack[-1].line}", f"'{' '.join(stack[-1].words)}' is never closed"
                                if len(stack) > 1 else f"'{' '.join(words)}' lacks its ';'",
                                "balance the braces and end statements with ';'"))
        return None
    return root


@dataclass
class Half:
    """What the drill needs from one server's config."""

    file: str
    peer: Statement | None = None
    subnets: list[tuple[str, str, list[tuple[str, str, str | None]]]] = field(default_factory=list)
    routers: list[list[str]] = field(default_factory=list)  # each subnet's option routers
    networks: list[str] = field(default_factory=list)  # each subnet's shared-network name ("" outside one)
    omapi_port: str | None = None
    key: tuple[str, str] | None = None
    root: "Statement | None" = None


def subnet_statements(root: Statement) -> list[tuple[Statement, Statement | None]]:
    """Every subnet declaration with a block, top-level or inside a ``shared-network`` (given beside it)."""
    out: list[tuple[Statement, Statement | None]] = []
    for s in root.block or []:
        if s.words[:1] == ["subnet"] and s.block is not None and len(s.words) >= 4:
            out.append((s, None))
        elif s.words[:1] == ["shared-network"] and s.block is not None:
            out += [(sub, s) for sub in s.block if sub.words[:1] == ["subnet"] and sub.block is not None
                    and len(sub.words) >= 4]
    return out


def _ranges(scope: Statement, own: bool = True) -> list[tuple[str, str, str | None]]:
    """The ranges of a subnet (or, ``own`` false, of a shared network's own pools): (first, last,
    the failover peer its pool names or None)."""
    pools = []
    for p in scope.find("pool"):
        if p.block is None:
            continue
        ref = p.value("failover", "peer")
        pools += [(r.words[1], r.words[2], ref) for r in p.find("range") if len(r.words) >= 3]
    if own:
        pools += [(r.words[1], r.words[2], None) for r in scope.find("range") if len(r.words) >= 3]
    return pools


def _holder(address: str, subnets: list[Statement]) -> Statement:
    """The subnet declaration (``subnet N netmask M``) that holds ``address``, else the first."""
    for sub in subnets:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(f"{sub.words[1]}/{sub.words[3]}"):
                return sub
        except ValueError:
            continue
    return subnets[0]


def _half(path, problems: list[Problem], text: str | None = None) -> Half | None:
    """What one config says; ``text`` stands in for the file's content (a readdressed lab copy)."""
    file = str(path)
    try:
        text = expanded(path, ISC_INCLUDE)[0] if text is None else text
    except PairError as exc:
        problems.extend(exc.problems)
        return None
    except OSError as exc:
        problems.append(Problem(file, "-", f"cannot be read ({exc.strerror})", "make the file readable"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(file, "-", "is not UTF-8 text", "give the dhcpd.conf file"))
        return None
    root = parse(text, file, problems)
    if root is None:
        return None
    half = Half(file, root=root)
    peers = [s for s in root.block if s.words[:2] == ["failover", "peer"] and s.block is not None]
    if not peers:
        problems.append(Problem(file, "failover peer", "missing", 'declare failover peer "name" { ... } for the pair'))
    else:
        half.peer = peers[0]
    for s, shared in subnet_statements(root):
        pools = _ranges(s)
        if shared is not None:  # pools of the shared network itself: dhcpd places each by its range
            mine = [x for x in shared.block if x.words[:1] == ["subnet"] and len(x.words) >= 4]
            pools += [r for r in _ranges(shared, own=False) if _holder(r[0], mine) is s]
        half.subnets.append((s.words[1], s.words[3], pools))
        half.routers.append([w for scope in (s, shared) if scope is not None for r in scope.find("option", "routers")
                             if r.block is None for w in " ".join(r.words[2:]).split(",") if w.strip()])
        half.networks.append(shared.words[1] if shared is not None and len(shared.words) > 1 else
                             ("<shared-network>" if shared is not None else ""))
    ports = [s for s in root.block if s.words[:1] == ["omapi-port"] and len(s.words) > 1]
    half.omapi_port = ports[0].words[1] if ports else None
    keyname = next((s.words[1] for s in root.block if s.words[:1] == ["omapi-key"] and len(s.words) > 1), None)
    for s in root.block:
        if s.words[:2] == ["key", keyname] and s.block is not None and s.value("secret"):
            half.key = (keyname, s.value("secret"))
    return half


LAB_OMAPI_PORT = "7911"
ISC_DEFAULT_LEASE_S = 43200


def isc_renew_s(root: "Statement") -> float | None:
    """T1 as a client sees it: ``option dhcp-renewal-time`` (in the subnet, else global), else half
    of ``default-lease-time`` (dhcpd's default 12 h)."""
    scopes = [s for s, _ in subnet_statements(root)][:1] + [root]
    for scope in scopes:
        value = scope.value("option", "dhcp-renewal-time")
        if value and value.isdigit():
            return float(value)
    for scope in scopes:
        value = scope.value("default-lease-time")
        if value and value.isdigit():
            return float(value) * 0.5
    return ISC_DEFAULT_LEASE_S * 0.5


def _port(text: str | None, default: int = 647) -> int:
    """A port as dhcpd reads it: a decimal number (dhcpd refuses ``0x287``), 1-65535."""
    if text is None:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a decimal port number (1-65535)")
    return int(text)


def lab_key(config: bytes) -> tuple[str, str]:
    """A lab-only OMAPI key, the same for every reading of one config (derived from it)."""
    return "dhcpdrill-lab-omapi", base64.b64encode(hashlib.sha256(b"dhcpdrill-omapi\0" + config).digest()).decode()


def lab_omapi(half: Half, config: bytes) -> str:
    """What the lab copy of a dhcpd.conf needs appended so the drill can read the failover state:
    a key, if OMAPI has none, and a port, if it has none (nothing if both are there)."""
    if half.omapi_port and half.key:
        return ""
    name, secret = lab_key(config)
    lines = ["", "# Added by dhcpdrill to the lab copy only: OMAPI for reading the failover state.",
             f'key {name} {{ algorithm hmac-md5; secret "{secret}"; }}']
    if not half.omapi_port:
        lines.append(f"omapi-port {LAB_OMAPI_PORT};")
    lines.append(f"omapi-key {name};")
    return "\n".join(lines) + "\n"


class IscAdapter(ServerAdapter):
    """Knows dhcpd.conf, the failover state machine (read over OMAPI) and dhcpd.leases."""

    fields = {"address": "failover peer address", "pools": "subnet pool range"}
    # dhcpd served the drill's load under 2 ms of CPU a second with 0.9 ms exchanges (2026-12-07)
    slowed_by_quota_alone = False
    status_on_peer_path = False  # OMAPI has its own port
    clock_environment = {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                         "FAKETIME_TIMESTAMP_FILE": "/run/dhcpdrill-faketime", "FAKETIME_NO_CACHE": "1",
                         "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def lab_plan(self, pair: "Pair") -> LabPlan:
        problems: list[Problem] = []
        if BACKUP in pair.files or "kill-backup" in pair.drills:
            problems.append(Problem(str(pair.folder / "pair.toml"), "files.backup" if BACKUP in pair.files
                                    else "drills.kill-backup", "ISC dhcpd failover has no backup server (a failover "
                                    "pair is exactly two peers); files.backup and kill-backup are for Kea HA pairs "
                                    "whose peers list a server in role backup", "remove it"))
        halves = {role: _half(pair.files[role], problems) for role in ROLES}
        if problems:
            raise PairError(problems)
        moved = self._readdress(pair, halves["primary"])
        originals = {role: expanded(pair.files[role], ISC_INCLUDE) for role in ROLES}  # (text, included files)
        texts = {role: moved.text(originals[role][0]) for role in ROLES}
        if moved.moves:
            halves = {role: _half(pair.files[role], problems, texts[role]) for role in ROLES}
        manifest = str(pair.folder / "pair.toml")
        if pair.mode != "failover":
            problems.append(Problem(manifest, "pair.mode", f"is {pair.mode!r}; ISC DHCP pairs drill 'failover'",
                                    'set mode = "failover"'))
        peers = {}
        for role, h in halves.items():
            if h.peer is None:
                continue
            p = h.peer
            where = f'failover peer "{p.words[2] if len(p.words) > 2 else ""}"'
            roles = [w for w in ("primary", "secondary") if p.find(w)]
            if roles != [role]:
                problems.append(Problem(h.file, f"{where} (line {p.line})", f"declares {roles or 'no role'}, "
                                        f"but this file plays {role} in the manifest",
                                        f"say '{role};' in the peer block, or swap files.primary/files.secondary"))
            values = {k: p.value(*k.split()) for k in ("address", "port", "peer address", "peer port", "mclt",
                                                       "split", "hba", "max-response-delay", "max-unacked-updates")}
            if role == "primary" and not values["mclt"]:
                problems.append(Problem(h.file, f"{where}.mclt", "missing on the primary", "give mclt (seconds), e.g. 30"))
            if role == "primary" and not (values["split"] or values["hba"]):
                problems.append(Problem(h.file, f"{where}.split", "missing on the primary", "give split 128 (or hba)"))
            if role == "secondary" and (values["mclt"] or values["split"] or values["hba"]):
                problems.append(Problem(h.file, f"{where}", "mclt/split/hba set on the secondary",
                                        "remove them: dhcpd refuses them on the secondary"))
            for key in ("address", "peer address"):
                if not values[key]:
                    problems.append(Problem(h.file, f"{where}.{key}", "missing", f"give {key} a.b.c.d"))
            for key in ("max-response-delay", "max-unacked-updates"):
                if not values[key]:
                    problems.append(Problem(h.file, f"{where}.{key}", "missing", f"give {key} (dhcpd requires it)"))
            peers[role] = (p.words[2] if len(p.words) > 2 else "", values)
        for role, h in halves.items():
            for key in ("port", "peer port"):
                try:
                    _port(peers[role][1][key] if role in peers else None)
                except ValueError as exc:
                    problems.append(Problem(h.file, f'failover peer "{peers[role][0]}".{key}', str(exc),
                                            "write the port in decimal, e.g. 647 (dhcpd reads no other form)"))
            if role in peers:
                numbers = {**peers[role][1], "load balance max seconds": h.peer.value("load", "balance", "max", "seconds")}
                for key in ("mclt", "max-response-delay", "max-unacked-updates", "load balance max seconds"):
                    if numbers.get(key) is not None and not numbers[key].isdigit():
                        problems.append(Problem(h.file, f'failover peer "{peers[role][0]}".{key}',
                                                f"is {numbers[key]!r}, not a whole number",
                                                f"give {key} as a decimal number (dhcpd reads no other form)"))
            try:
                _port(h.omapi_port, int(LAB_OMAPI_PORT))
            except ValueError as exc:
                problems.append(Problem(h.file, "omapi-port", str(exc), "write the port in decimal, e.g. 7911"))
        if problems:
            raise PairError(problems)
        (pname, prim), (sname, sec) = peers["primary"], peers["secondary"]
        sfile = halves["secondary"].file
        if pname != sname:
            problems.append(Problem(sfile, "failover peer", f'is named "{sname}", the primary\'s is "{pname}"',
                                    "give both the same peer name"))
        if prim["address"] != sec["peer address"] or prim["peer address"] != sec["address"]:
            problems.append(Problem(sfile, f'failover peer "{sname}".address/peer address',
                                    f"do not mirror the primary's ({prim['address']} / {prim['peer address']})",
                                    "the secondary's address is the primary's peer address and vice versa"))
        if (prim["port"] or "647") != (sec["peer port"] or "647") or (prim["peer port"] or "647") != (sec["port"] or "647"):
            problems.append(Problem(sfile, f'failover peer "{sname}".port/peer port',
                                    "do not mirror the primary's", "each side's port is the other's peer port"))
        subs = {r: h.subnets for r, h in halves.items()}
        if subs["primary"] != subs["secondary"] or halves["primary"].networks != halves["secondary"].networks:
            problems.append(Problem(sfile, "subnet", f"differs from {pair.files['primary'].name} (subnets, shared networks or pool ranges)",
                                    "give both servers the same subnets and ranges"))
        if not subs["primary"]:
            problems.append(Problem(halves["primary"].file, "subnet", "no subnet is declared",
                                    "declare the subnets the pair serves"))
        for role, h in halves.items():
            for lo, hi, ref in (pool for sub in h.subnets for pool in sub[2]):
                if ref != peers[role][0]:
                    problems.append(Problem(h.file, f"subnet pool range {lo} {hi}",
                                            "is not in a pool that names the failover peer",
                                            f'put it in pool {{ failover peer "{peers[role][0]}"; range ...; }}'))
        if problems:
            raise PairError(problems)
        declared = []
        try:
            for (net, mask, pools_raw), routers, shared in zip(subs["primary"], halves["primary"].routers,
                                                               halves["primary"].networks):
                declared.append(Declared(ipaddress.ip_network(f"{net}/{mask}"),
                                         tuple((ipaddress.ip_address(lo), ipaddress.ip_address(hi)) for lo, hi, _ in pools_raw),
                                         f"shared-network {shared}: subnet {net} netmask {mask}" if shared
                                         else f"subnet {net} netmask {mask}", tuple(routers), shared))
            mclt = float(int(prim["mclt"]))
            ports = {role: _port(v["port"]) for role, v in (("primary", prim), ("secondary", sec))}
            lbms = halves["primary"].peer.value("load", "balance", "max", "seconds")
            timers = {"max-response-delay": float(int(prim["max-response-delay"]))}
            if lbms is not None:
                timers["load balance max seconds"] = float(int(lbms))
            addresses = {"primary": str(ipaddress.ip_address(prim["address"])),
                         "secondary": str(ipaddress.ip_address(sec["address"]))}
        except ValueError as exc:
            raise PairError([Problem(halves["primary"].file, "subnet/range/address", str(exc),
                                     "give dotted-quad addresses and a netmask")]) from None
        for d in declared:
            for lo, hi in d.pools:
                if lo not in d.subnet or hi not in d.subnet or lo > hi:
                    problems.append(Problem(halves["primary"].file, f"{d.where}: range {lo} {hi}",
                                            f"is not inside {d.subnet}", "keep the range inside its subnet"))
        placed = place_subnets(declared, addresses, halves["primary"].file,
                               {role: "failover peer address" for role in ROLES})
        problems += placed.problems
        if problems:
            raise PairError(problems)
        subnet, relayed = placed.home.subnet, placed.relayed
        pools = (*placed.home.pools, *(p for d in placed.shared for p in d.pools))
        files = {}
        rewrites = [f"{pair.file_name('primary')} and {pair.file_name('secondary')}: {m}" for m in moved.describe()]
        for role in ROLES:
            inlined = [f.relative_to(pair.folder).as_posix() for f in originals[role][1]]
            if inlined:
                rewrites.append(f"{pair.file_name(role)}: include of {', '.join(inlined)} replaced by the included text")
        for role, h in halves.items():
            text, added = texts[role].encode(), lab_omapi(h, originals[role][0].encode())
            files[role] = {CONFIG_PATH: text + added.encode() if added else text}
            if added:
                rewrites.append(f"{pair.file_name(role)}: " + (
                    f"omapi-port {h.omapi_port} has no omapi-key, so it is open to anyone who can reach it: a "
                    "lab-only key was added to the lab copy" if h.omapi_port else
                    f"no OMAPI: a lab-only omapi-port {LAB_OMAPI_PORT} and key were added to the lab copy "
                    "(the drill reads the failover state over OMAPI)"))
        rewrites += placed.describe()
        return LabPlan(subnet=subnet, addresses=addresses, interface=LAB_INTERFACE, relayed=relayed,
                       shared=tuple(d.subnet for d in placed.shared),
                       peer_subnet=placed.peer_subnet, server_ids=placed.server_ids,
                       serving=("primary", "secondary"), retrying_clients_needed=1,
                       files_in_container=files, pools=pools, rewrites=tuple(rewrites),
                       peer_ports=ports,
                       solo_states=("partner-down",), normal_state="normal",
                       interrupted_states=("communications-interrupted",), mclt_s=mclt,
                       ha_timers=timers, renew_s=isc_renew_s(halves["primary"].root))

    def _readdress(self, pair: "Pair", half: Half) -> Readdressing:
        """Move the subnets, and a failover network of their own, outside the lab range into it, in
        both lab copies (see ``readdress``)."""
        subnets, wheres = [], {}
        for net, mask, _ in half.subnets:
            try:
                subnet = ipaddress.ip_network(f"{net}/{mask}")
            except ValueError:
                continue  # the subnet checks name the problem
            subnets.append(subnet)
            wheres.setdefault(subnet, f"subnet {net} netmask {mask}")
        peers = []
        for key in ("address", "peer address") if half.peer else ():
            try:
                peers.append(ipaddress.ip_address(half.peer.value(*key.split()) or ""))
            except ValueError:
                continue  # the peer checks name the problem
        own = peer_network(peers, subnets)
        try:
            return readdress.plan(subnets + ([own] if own else []), pair.name)
        except readdress.Unmovable as exc:
            where = wheres.get(exc.subnet)
            raise PairError([Problem(half.file, where or "failover peer address", str(exc),
                                     ("drill a /16 or smaller subnet" if where else "give the peers addresses in one "
                                      "/16 or smaller") + f", or readdress a copy into {LAB_RANGE} by hand")]) from None

    def command(self, pair: "Pair", role: str) -> list[str]:
        return daemon_command(f"mkdir -p /var/lib/dhcp && touch {LEASES_PATH} && rm -f /run/dhcpd.pid",
                              f"dhcpd -f -d -4 -cf {CONFIG_PATH} -lf {LEASES_PATH} -pf /run/dhcpd.pid {LAB_INTERFACE}")

    def check_in_image(self, engine, image: str, pair: "Pair") -> list[Problem]:
        """dhcpd's own checker (``dhcpd -t``) on each config, in the lab image with no network."""
        problems = []
        for role, files in self.lab_plan(pair).files_in_container.items():
            code, out = self.run_checker(engine, image, files, f"dhcpd -t -4 -cf {CONFIG_PATH}")
            if code != 0:
                noise = ("Internet Systems", "Copyright", "All rights", "For info", "Config file", "Database file",
                         "PID file")
                lines = [l for l in out.splitlines() if l.strip() and not l.startswith(noise)]
                problems.append(Problem(str(pair.files[role]), "dhcpd -t", " | ".join(lines)[-600:],
                                        "fix what dhcpd reports; the lab runs ISC DHCP from Debian " + pair.suite))
        return problems

    def _omapi(self, lab: "Lab", pair: "Pair", role: str, change: str = "") -> dict[str, str]:
        """The failover-state object of ``role``'s dhcpd, after applying ``change`` (omshell lines).
        The script reaches omshell as an argument, never through a shell's quoting."""
        half = _half(pair.files[role], [])
        name = half.peer.words[2]
        port, (keyname, secret) = half.omapi_port or LAB_OMAPI_PORT, half.key or lab_key(expanded(pair.files[role], ISC_INCLUDE)[0].encode())
        script = (f"server 127.0.0.1\nport {port}\nkey {keyname} {secret}\nconnect\n"
                  f"new failover-state\nset name = \"{name}\"\nopen\n{change}")
        code, out = lab.containers[role].exec_run(["sh", "-c", 'printf "%s" "$1" | timeout 3 omshell', "omapi", script])
        text = out.decode(errors="replace")
        if code != 0 or "local-state" not in text:
            raise LabError(f"{role}: OMAPI gave no failover state: {text.strip()[-200:]}")
        return dict(re.findall(r"^(\S+) = (\S+)$", text, re.M))

    def status_round_trips(self, lab: "Lab", pair: "Pair", role: str, via: str, count: int = 5) -> list[dict]:
        """The failover state read over OMAPI from ``via``'s container at ``role``'s address: dhcpd
        answers OMAPI in the same single-threaded loop that serves clients and its peer. Each round
        trip includes starting omshell in ``via`` (the same before and during a fault)."""
        half = _half(pair.files[role], [])
        name = half.peer.words[2]
        port, (keyname, secret) = half.omapi_port or LAB_OMAPI_PORT, half.key or lab_key(expanded(pair.files[role], ISC_INCLUDE)[0].encode())
        script = (f"server {self.lab_plan(pair).addresses[role]}\nport {port}\nkey {keyname} {secret}\nconnect\n"
                  f"new failover-state\nset name = \"{name}\"\nopen\n")
        code, out = lab.containers[via].exec_run(["python3", "-c", OMAPI_TIMED, script, str(count), "10"])
        if code != 0:
            raise LabError(f"{via}: timing OMAPI to {role} failed: {out.decode(errors='replace').strip()[-200:]}")
        return [{**r, "state": STATES.get(int(r["state"].replace(":", ""), 16), r["state"])} if "state" in r else r
                for r in json.loads(out)]

    def ha_state(self, lab: "Lab", pair: "Pair", role: str) -> str:
        try:
            state = self._omapi(lab, pair, role)["local-state"]
        except (LabError, KeyError, docker_errors().DockerException, AttributeError, TypeError):
            return "unreachable"
        return STATES.get(int(state.replace(":", ""), 16), f"state {state}")

    def normal_state(self, pair: "Pair") -> str:
        return "normal"

    def ask(self, lab: "Lab", pair: "Pair", role: str, command: str) -> dict:
        """``partner-down``: what an operator does over OMAPI once sure the partner is dead
        (failover-state local-state := partner-down)."""
        if command != "partner-down":
            raise NotImplementedError(f"ISC DHCP adapter knows only the partner-down command, not {command!r}")
        code = next(k for k, v in STATES.items() if v == "partner-down")
        try:
            answer = self._omapi(lab, pair, role, f"set local-state = {code}\nupdate\n")
        except (LabError, docker_errors().DockerException) as exc:
            return {"result": 1, "text": str(exc)}
        return {"result": 0, "text": f"local-state is now {answer.get('local-state')}"}

    def clock_offset(self, lab: "Lab", pair: "Pair", role: str, wait_s: float = 12.0) -> float | None:
        """The daemon's clock minus the host's, from its own lease records: the next ACK it sends
        a client (timed by the client's capture) against the ``cltt`` it wrote for that grant
        (1 s resolution). None if it granted nothing in ``wait_s``."""
        from ..clients import agent_events
        since, address = time.time(), self.lab_plan(pair).ids[role]

        def offset() -> float | None:
            acks = [e for e in agent_events(lab) if e.kind == "recv" and e.get("msg") == "ACK"
                    and e.get("expected") and e.get("server_id") == address and e.t >= since]
            if not acks:
                return None
            ack = acks[-1]
            try:
                text = lab.read_file(lab.containers[role], LEASES_PATH)
            except LabError:
                return None
            grants = [g for g in parse_grants(text)
                      if g["ip"] == ack.get("yiaddr") and g["mac"] == ack.get("mac")
                      and abs(g["ends"] - g["cltt"] - float(ack.get("lease_time") or 0)) <= 1]
            return grants[-1]["cltt"] - ack.t if grants else None

        try:
            return until(offset, done=lambda o: o is not None, timeout=wait_s, every=0.5,
                         what=f"an ACK of {role}'s and its lease record")
        except NotReady:
            return None
        except (KeyError, docker_errors().DockerException, LabError):  # no clients container, or its evidence file unreadable
            return None

    def pool_owners(self, lab: "Lab", pair: "Pair", role: str) -> dict[str, list[str]]:
        return pool_owners(lab.read_file(lab.containers[role], LEASES_PATH), role)

    lease_suffix = "leases"

    def lease_path(self, pair: "Pair", role: str) -> str:
        return LEASES_PATH

    def log_event(self, line: str) -> tuple[str, dict] | None:
        m = STATE_LINE.search(line)
        if m:
            return "ha-state", {"from": m[2], "to": m[3], "partner": ""}
        if "failover" in line.lower() and "I move" not in line:
            return "ha-warning", {"line": line.strip()}
        if "no free leases" in line or "peer holds all free leases" in line:  # a client refused: no address left
            return "pool-exhausted", {"line": line.strip()}
        return None

    def lease_events(self, text: str, report: dict | None = None) -> list[tuple[float, str, dict]]:
        text, torn = untear(text)
        events = ([(rec["start"], "lease-record", _infinite_as_never(rec)) for rec in parse_leases(text, report)]
                  + [(g["cltt"], "lease-grant", g) for g in parse_grants(text)])
        if report is not None and torn:
            report["torn"] = torn
        return events


def _infinite_as_never(rec: dict) -> dict:
    """A lease record as the timeline holds it: an infinite end is written ``"end": null, "ends":
    "never"`` (JSON has no infinity), which ``verdicts.server_bindings`` reads back as one."""
    return {**rec, "end": None, "ends": "never"} if rec["end"] == math.inf else rec


GLUED = re.compile(r"(?<=[^\n])lease\s+\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\s*\{")


def untear(text: str) -> tuple[str, list[dict]]:
    """dhcpd.leases without the stanzas a full disk tore, and those stanzas (line, text, why).
    A write that stopped short (ENOSPC) left a stanza unfinished and the next write that succeeded
    went on on the same line, so the torn stanza would swallow the next one (its address, state
    and client) up to that one's closing brace. The torn start is cut out and reported; the stanza
    glued after it is kept whole. What the torn one said is in the server's memory, not its file."""
    torn, out, pos = [], [], 0
    for m in GLUED.finditer(text):
        begin = text.rfind("\nlease ", pos, m.start())
        begin = begin + 1 if begin >= 0 else (0 if text.startswith("lease ", pos) else -1)
        if begin < pos:
            continue
        torn.append({"row": text.count("\n", 0, begin) + 1, "text": " ".join(text[begin:m.start()].split())[:200],
                     "why": "a stanza cut short (its write failed), the next stanza written on after it"})
        out.append(text[pos:begin])
        pos = m.start()
    out.append(text[pos:])
    return "".join(out), torn


OMAPI_TIMED = """
import json, re, subprocess, sys, time
script, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
out = []
for _ in range(count):
    began = time.monotonic()
    try:
        text = subprocess.run(["omshell"], input=script, capture_output=True, text=True, timeout=timeout).stdout
        state = re.search(r"^local-state = (\\S+)$", text, re.M)
        out.append({"ms": round((time.monotonic() - began) * 1000, 2),
                    **({"state": state[1]} if state else {"error": text.strip()[-120:] or "no answer"})})
    except subprocess.TimeoutExpired:
        out.append({"ms": round((time.monotonic() - began) * 1000, 2), "error": f"no answer in {timeout:g} s"})
    time.sleep(0.2)
print(json.dumps(out))
"""

LEASE = re.compile(r"^lease\s+(\S+)\s*\{(.*?)^\}", re.M | re.S)
# dhcpd's two time formats: "w yyyy/mm/dd hh:mm:ss" in UTC (the default), and with
# "db-time-format local;" "epoch <seconds>; # <local time>" (as dhcpd 4.4.3 writes it in the lab)
WHEN = r"(?:\d\s+(\d{4})/(\d\d)/(\d\d)\s+(\d\d):(\d\d):(\d\d)|epoch\s+(\d+))"
TIMES = ("starts", "ends", "cltt", "tstp", "tsfp", "atsfp")


def _when(body: str, key: str) -> float | None:
    m = re.search(rf"^\s*{key}\s+{WHEN};", body, re.M)
    if not m:
        return None
    if m[7] is not None:
        return float(m[7])
    return float(timegm(tuple(int(x) for x in m.groups()[:6]) + (0, 0, 0)))


def _never(body: str) -> bool:
    """``ends never;``: an infinite lease (a dynamic BOOTP client's, or ``infinite`` lease times)."""
    return re.search(r"^\s*ends\s+never;", body, re.M) is not None


def _not_understood(state: str | None, mac: str | None, body: str) -> str | None:
    """Why a lease stanza cannot be read as a binding (None when it can)."""
    for key in TIMES:
        m = re.search(rf"^\s*{key}\s+([^;\n]*);", body, re.M)
        if m and _when(body, key) is None and not (key != "starts" and m[1].strip() == "never"):
            return f"{key} {m[1].strip()!r} is neither 'w yyyy/mm/dd hh:mm:ss' nor 'epoch <seconds>'"
    if state is None:
        return "no binding state"
    if state == "active":
        if not mac:
            return "an active lease with no hardware ethernet"
        if _when(body, "starts") is None or _when(body, "ends") is None and not _never(body):
            return "an active lease without starts, or without ends (a time, or never)"
    return None


def _stanzas(text: str):
    """(ip, binding state, MAC, body) of each lease stanza, in file order (state/MAC may be None)."""
    for ip, body in LEASE.findall(text):
        state = re.search(r"^\s*binding state (\S+);", body, re.M)
        mac = re.search(r"^\s*hardware ethernet (\S+);", body, re.M)
        yield ip, state.group(1) if state else None, mac.group(1) if mac else None, body


def parse_leases(text: str, report: dict | None = None) -> list[dict]:
    """Bindings from dhcpd.leases: an ``active`` stanza binds its address from ``starts`` to
    ``ends`` (``math.inf`` for ``ends never;``); any later stanza for that address (released,
    free, expired, ...) ends it.

    ``report``, when given, receives ``rows`` (lease stanzas read) and ``unread`` (each one not
    understood: its line, text and why), so a file that parses to nothing is told from one that
    holds nothing."""
    current: dict[str, dict] = {}
    done: list[dict] = []
    unread: list[dict] = []
    found = {m.start() for m in LEASE.finditer(text)}
    for m in re.finditer(r"^lease\s", text, re.M):  # a lease stanza the parser cannot even delimit
        if m.start() not in found:
            unread.append({"row": text.count("\n", 0, m.start()) + 1,
                           "text": text[m.start():m.start() + 200].split("\n", 1)[0], "why": "no closing brace"})
    for at, (ip, state, mac, body) in zip(sorted(found), _stanzas(text)):
        why = _not_understood(state, mac, body)
        if why is not None:
            unread.append({"row": text.count("\n", 0, at) + 1, "text": " ".join(text[at:at + 400].split())[:200],
                           "why": why})
            continue
        starts, ends = _when(body, "starts"), _when(body, "ends")
        if ends is None and state == "active" and _never(body):
            ends = math.inf
        prev = current.pop(ip, None)
        if state == "active" and mac and starts is not None and ends is not None:
            if prev and prev["mac"] == mac and prev["start"] <= starts <= prev["end"]:
                starts = prev["start"]  # a renewal continues the binding
            elif prev:
                prev["end"] = max(prev["start"], min(prev["end"], starts))
                done.append(prev)
            current[ip] = {"ip": ip, "mac": mac, "start": starts, "end": ends}
        elif prev:
            stop = ends if ends is not None else starts
            prev["end"] = max(prev["start"], min(prev["end"], stop if stop is not None else prev["end"]))
            done.append(prev)
    if report is not None:
        report.update(rows=len(found), unread=sorted(unread, key=lambda u: u["row"]))
    return done + list(current.values())


def parse_grants(text: str) -> list[dict]:
    """Each distinct active stanza: when the server last dealt with the client (``cltt``), the
    end it granted, and ``tsfp``, the expiry its failover partner has acknowledged for that
    address (what the partner can be assumed to know)."""
    seen, out = set(), []
    for ip, state, mac, body in _stanzas(text):
        cltt, ends, tsfp = _when(body, "cltt"), _when(body, "ends"), _when(body, "tsfp")
        if not (state == "active" and mac and cltt is not None and ends is not None):
            continue
        key = (ip, mac, cltt, ends, tsfp)
        if key not in seen:
            seen.add(key)
            out.append({"ip": ip, "mac": mac, "cltt": cltt, "ends": ends, "tsfp": tsfp})
    return out


def pool_owners(text: str, role: str) -> dict[str, list[str]]:
    """Which free addresses ``role`` may allocate (``own``) and which its partner may
    (``partner``), from the last stanza per address in its dhcpd.leases: ``free`` addresses
    belong to the primary, ``backup`` ones to the secondary."""
    last = {ip: state for ip, state, _, _ in _stanzas(text) if state}
    mine, theirs = ("free", "backup") if role == "primary" else ("backup", "free")
    return {"own": sorted(ip for ip, s in last.items() if s == mine),
            "partner": sorted(ip for ip, s in last.items() if s == theirs)}
