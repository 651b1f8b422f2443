"""ISC Kea (kea-dhcp4 with the High Availability hook): config checks, readiness, evidence."""
from __future__ import annotations

import csv
from hashlib import sha256
import ipaddress
import json
import re
import shlex
import time
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse


from ..problems import LabError, docker_errors, PairError, Problem
from ..expectations import BACKUP
from . import LAB_RANGE, ROLES, BackupPeer, Declared, LabPlan, ServerAdapter, daemon_command, peer_network, place_subnets
from .placement import free_addresses
from .. import readdress
from ..readdress import Readdressing
from ..timers import KEA_DEFAULTS
from ..waiting import NotReady, until
from .compare import ABSENT, differences, shown
from ..includes import KEA as KEA_INCLUDE, expanded
from .. import databases, tls
from .kea_paths import DEFAULT_DIRS, RESTRICTED, VERSIONS, is_log_file, place

if TYPE_CHECKING:
    from docker.models.containers import Container

    from ..lab import Lab
    from ..manifest import Pair

CONFIG_PATH = "/etc/kea/kea-dhcp4.conf"
# The lab's own agent config, present only when the peers talk through kea-ctrl-agent. Not Debian's
# /etc/kea/kea-ctrl-agent.conf: that file ships with the package, so testing for it would start the
# packaged agent beside every HA+MT server (on Kea 2.6 and later it dies for want of a password file).
AGENT_CONFIG_PATH = "/etc/kea/dhcpdrill-ctrl-agent.conf"
LAB_INTERFACE = "eth0"
DEFAULT_LEASE_FILE = "/var/lib/kea/kea-leases4.csv"
NORMAL_STATE = {"hot-standby": "hot-standby", "load-balancing": "load-balancing"}
SECOND_ROLE = {"hot-standby": "standby", "load-balancing": "secondary"}
BACKUP_STATE = "backup"  # the HA state of a server in role backup
SERVING = {"hot-standby": ("primary",), "load-balancing": ("primary", "secondary")}
PEER_DEFAULTS = {"auto-failover": True}
HA_DEFAULTS = {"heartbeat-delay": 10000, "max-response-delay": 60000, "max-ack-delay": 10000,
               "max-unacked-clients": 10}
# Kea's lease-sync settings and their defaults (ARM "Load-Balancing Configuration", "Timeouts";
# delayed-updates-limit is 100 in load-balancing since 1.9.4 and means nothing in hot-standby).
SYNC_DEFAULTS = {"sync-leases": True, "sync-page-limit": 10000, "sync-timeout": 60000}


def lease_sync(ha: dict, mode: str) -> dict[str, object]:
    """A server's lease-sync settings as it runs them (``stated``: those its config writes itself)."""
    defaults = {**SYNC_DEFAULTS, "delayed-updates-limit": 100 if mode == "load-balancing" else 0}
    return {**{k: ha.get(k, v) for k, v in defaults.items()}, "stated": sorted(k for k in defaults if k in ha)}


# Kea 3.0 puts the server's own name first ("server1: received ...") and the partner's URL after its name.
SYNC_PAGE = re.compile(r"HA_LEASES_SYNC_LEASE_PAGE_RECEIVED (?:\S+: )?received (\d+) leases from (\S+)")
SYNC_DONE = re.compile(r"HA_SYNC_SUCCESSFUL (?:\S+: )?lease database synchronization with (\S+)(?: \(\S+\))? completed "
                       r"successfully in (.+?)\.?$")
SYNC_START = re.compile(r"HA_SYNC_START (\S+): starting lease database synchronization with (\S+)|"
                        r"HA_SYNC_START starting lease database synchronization with (\S+)")
# The server's own DHCP service switched off or on by its HA state (waiting, syncing, ready: off).
LOCAL_SERVICE = re.compile(r"HA_LOCAL_DHCP_(DISABLE|ENABLE) local DHCP service is (?:disabled|enabled) while the "
                           r"(\S+) is in the (\S+) state")
# Commands a partner sends around a lease sync: dhcp-disable before each page it pulls, then
# ha-sync-complete-notify (or dhcp-enable) when done; ha-reset to send the partner to waiting.
SYNC_COMMANDS = ("dhcp-disable", "dhcp-enable", "ha-sync-complete-notify", "ha-reset")
COMMAND_LINE = re.compile(r"COMMAND_RECEIVED Received command '([a-z0-9-]+)'")
BACKLOG = re.compile(r"HA_LEASES_BACKLOG_(START|SUCCESS|NOTHING_TO_SEND)\b(?: starting to send (\d+) outstanding)?")
THREAD = re.compile(r"\[[\w.-]+/\d+\.(\d+)\]")  # the logging thread: Kea HA+MT can run two syncs at once
STATE_LINE = re.compile(r"HA_STATE_TRANSITION .*?from (\S+) to (\S+) state, partner state is (\S+)")
# Queries the daemon dropped unanswered, logged on kea-dhcp4.packets at debug level 15 only (a pair
# whose loggers include it at that level leaves them in its log): under load, chiefly HA's parking
# lot, where each reply waits for the partner's lease update and, past parked-packet-limit
# (default 256), a query is dropped after its lease was allocated.
DROPPED = re.compile(r"(DHCP4_HOOK_LEASES4_PARKING_LOT_FULL|DHCP4_PACKET_QUEUE_FULL|DHCP4_PACKET_DROP_\d{4})"
                     r"(?:.*?hwtype=\d+ ([0-9a-f:]{17}))?(?:.*?tid=(0x[0-9a-f]+))?")
TLS_REFUSED = re.compile(r"HTTP_CONNECTION_HANDSHAKE_FAILED TLS handshake with (\S+) failed with (.+)$")
# Run in a server's partner: a TLS connection to the server's peer port as the partner's daemon
# makes it, an ha-heartbeat over it, then the same request in cleartext.
TLS_PROBE = r"""
ca={trust_anchor}; if [ -d "$ca" ]; then trust="-CApath $ca"; else trust="-CAfile $ca"; fi
cert={cert_file}; key={key_file}
body='{{"command":"ha-heartbeat","service":["dhcp4"]}}'
request=$(printf 'POST / HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' ${{#body}} "$body")
(printf '%s' "$request"; sleep 2) | timeout 8 openssl s_client -connect {host}:{port} $trust \
  ${{cert:+-cert $cert}} ${{key:+-key $key}} -verify_return_error 2>&1
echo "cleartext: $(printf '%s' "$request" | timeout 3 python3 -c 'import socket,sys
s=socket.create_connection(("{host}",{port}),2); s.sendall(sys.stdin.buffer.read()); s.settimeout(2)
try:
    d=s.recv(200); print(repr(d[:60]) if d else "closed without a reply")
except OSError as e:
    print(type(e).__name__)' 2>&1)"
"""
TLS_FACTS = {"protocol": r"New, (TLSv[\d.]+|SSLv\d)", "cipher": r"Cipher is (\S+)",
             "verify": r"Verify return code: (\d+ \([^)]*\))", "server_cert": r"subject=(.+)",
             "server_cert_expires": r"NotAfter: (.+)", "http_status": r"HTTP/1\.\d (\d+)",
             "state": r'"state": "([^"]+)"', "refused": r"(alert [a-z ]+)",
             "error": r"error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):", "cleartext": r"cleartext: (.*)"}

DROP_LEVEL = 15
CONTROL = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
print(out.decode())
"""

# ha-heartbeat over HTTP, as a partner sends it: each round trip timed by the sender.
HEARTBEATS = """
import json, sys, time, urllib.request
url, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
body = json.dumps({"command": "ha-heartbeat", "service": ["dhcp4"]}).encode()
out = []
for _ in range(count):
    began = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}),
                                    timeout=timeout) as answer:
            reply = json.loads(answer.read())
        reply = reply[0] if isinstance(reply, list) else reply
        out.append({"ms": round((time.monotonic() - began) * 1000, 2),
                    "state": (reply.get("arguments") or {}).get("state") or f"error: {reply.get('text')}"})
    except Exception as exc:
        out.append({"ms": round((time.monotonic() - began) * 1000, 2), "error": f"{type(exc).__name__}: {exc}"})
    time.sleep(0.2)
print(json.dumps(out))
"""


SUBNET_SHAPE: dict = {"subnet": str, "pools": [{"pool": str}], "option-data": [{"name": str}],
                      "relay": {"ip-addresses": [str], "ip-address": str}}
SHAPE: dict = {
    "hooks-libraries": [{"library": str, "parameters": {"high-availability": [dict]}}],
    "interfaces-config": {"interfaces": [str]},
    "control-socket": {"socket-type": str, "socket-name": str},
    "control-sockets": [{"socket-type": str, "socket-name": str}],  # Kea 2.7+ / 3.0
    "multi-threading": {"enable-multi-threading": bool},
    "lease-database": {"type": str, "persist": bool, "name": str, "host": str, "port": int, "user": str,
                       "password": str},
    "subnet4": [SUBNET_SHAPE],
    "shared-networks": [{"name": str, "subnet4": [SUBNET_SHAPE], "option-data": [{"name": str}],
                         "relay": {"ip-addresses": [str], "ip-address": str}}],
    "loggers": [{"name": str, "severity": str, "output_options": [{"output": str, "pattern": str}],
                 "output-options": [{"output": str, "pattern": str}]}],  # Kea 2.5+ spelling (Debian's 2.6 file)
}
HA_SHAPE: dict = {
    "this-server-name": str, "mode": str, "heartbeat-delay": int, "max-response-delay": int,
    "max-ack-delay": int, "max-unacked-clients": int,
    "delayed-updates-limit": int, "sync-leases": bool, "sync-page-limit": int, "sync-timeout": int,
    "multi-threading": {"enable-multi-threading": bool, "http-dedicated-listener": bool},
    "trust-anchor": str, "cert-file": str, "key-file": str, "require-client-certs": bool,
    "peers": [{"name": str, "url": str, "role": str, "auto-failover": bool,
               "trust-anchor": str, "cert-file": str, "key-file": str}],
}
KIND = {str: "a string", int: "a whole number", bool: "true or false", dict: "a map", list: "a list"}


def check_shape(file: str, value: Any, shape: Any, field: str, problems: list[Problem]) -> None:
    """Check the types of the fields the drill reads (others are Kea's business, for ``kea-dhcp4 -t``)."""
    if isinstance(shape, type):
        if not isinstance(value, shape) or (shape is int and isinstance(value, bool)):
            problems.append(Problem(file, field, f"is {json.dumps(value)[:40]}, not {KIND[shape]}",
                                    f"give {KIND[shape]} as Kea expects"))
    elif isinstance(shape, list):
        if not isinstance(value, list):
            problems.append(Problem(file, field, f"is {json.dumps(value)[:40]}, not a list", "give a list"))
        else:
            for i, item in enumerate(value):
                check_shape(file, item, shape[0], f"{field}[{i}]", problems)
    elif not isinstance(value, dict):
        problems.append(Problem(file, field, f"is {json.dumps(value)[:40]}, not a map", "give a map"))
    else:
        for key, sub in shape.items():
            if key in value:
                check_shape(file, value[key], sub, f"{field}.{key}", problems)


def strip_comments(text: str) -> str:
    """Remove the comments Kea accepts in its JSON (``//``, ``#``, ``/* */``), leaving strings alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif ch == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(\s*[]}])')


def kea_json(text: str) -> Any:
    """Parse a config as Kea does: comments allowed, and a comma before a closing ``}`` or ``]``
    (Debian's packaged kea-dhcp4.conf has one in its loggers; Kea 2.2, 2.6 and 3.0 all start with it)."""
    return json.loads(TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), strip_comments(text)))


def _get(tree: Any, *keys: str | int) -> Any:
    for key in keys:
        try:
            tree = tree[key]
        except (KeyError, IndexError, TypeError):
            return None
    return tree


def unix_socket(cfg: Any) -> str | None:
    """The unix control socket's path: ``control-socket`` (Kea up to 2.6) or the first unix entry
    of ``control-sockets`` (Kea 2.7 and 3.0, where HTTP sockets may sit beside it)."""
    single = _get(cfg, "control-socket")
    entries = ([single] if isinstance(single, dict) else []) + list(_get(cfg, "control-sockets") or [])
    return next((str(e["socket-name"]) for e in entries
                 if isinstance(e, dict) and e.get("socket-type") == "unix" and e.get("socket-name")), None)


QUIET = ("WARN", "ERROR", "FATAL", "NONE")
KEA_VALID_LIFETIME_S = 7200


def kea_renew_s(cfg: dict, subnet: dict) -> float | None:
    """T1 as a client sees it: renew-timer (subnet, else global), else half the valid lifetime
    (Kea sends no T1 by default; clients then renew at half the lease, RFC 2131)."""
    def pick(key):
        for scope in (subnet, cfg):
            value = scope.get(key) if isinstance(scope, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return None
    renew = pick("renew-timer")
    return renew if renew is not None else (pick("valid-lifetime") or KEA_VALID_LIFETIME_S) * 0.5


def kea_rebind_s(cfg: dict, subnet: dict) -> float:
    """T2 as a client sees it: rebind-timer (subnet, else global), else 0.875 of the valid lifetime
    (RFC 2131 §4.4.5, when the server sends none)."""
    for key, share in (("rebind-timer", 1.0), ("valid-lifetime", 0.875)):
        for scope in (subnet, cfg):
            value = scope.get(key) if isinstance(scope, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value) * share
    return KEA_VALID_LIFETIME_S * 0.875


def peers_through_ctrl_agent(suite: str, cfg: dict, ha: dict) -> bool:
    """Whether HA traffic goes through kea-ctrl-agent: unless kea-dhcp4 runs multi-threaded and
    the HA hook has its own listener (HA+MT: enable-multi-threading and http-dedicated-listener),
    each on by default from Kea 2.4 (trixie, forky) and off in 2.2 (bookworm)."""
    default = suite != "bookworm"
    server_mt = (cfg.get("multi-threading") or {}).get("enable-multi-threading", default)
    ha_mt = ha.get("multi-threading") or {}
    return not (server_mt and ha_mt.get("enable-multi-threading", default)
                and ha_mt.get("http-dedicated-listener", default))


def ctrl_agent_config(suite: str, cfg: dict, ha: dict, address: str, port: int) -> dict | None:
    """The lab's kea-ctrl-agent config for a server whose peers talk through one: listening at the
    server's peer URL, forwarding to its kea-dhcp4 control socket, logging to stdout; with the
    server's own TLS settings from its HA config when the peers talk TLS (its partner then connects
    with https and, unless ``require-client-certs`` is false, must present a certificate)."""
    if not peers_through_ctrl_agent(suite, cfg, ha):
        return None
    own = tls.effective(ha, str(ha.get("this-server-name")))
    secured = {**own, "cert-required": bool(ha.get("require-client-certs", True))} if own else {}
    return {"Control-agent": {
        "http-host": address, "http-port": port, **secured,
        "control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": control_socket_path(suite, cfg)}},
        "loggers": [{"name": "kea-ctrl-agent", "output_options": [{"output": "stdout"}], "severity": "INFO"}]}}


def lab_loggers(cfg: dict) -> list[str]:
    """Make the daemon's loggers show HA state changes on its output, where the drill reads them
    (Docker keeps and timestamps it): a file or syslog output becomes stdout, and a severity that
    hides INFO (HA_STATE_TRANSITION is INFO) becomes INFO. Changes ``cfg``; returns each change."""
    changes = []
    for i, logger in enumerate(cfg.get("loggers") or []):
        if not isinstance(logger, dict) or not str(logger.get("name", "")).startswith("kea-dhcp4"):
            continue
        where = f"Dhcp4.loggers[{i}] ({logger.get('name')})"
        key = output_key(logger)
        outputs = [o for o in logger.get(key) or [] if isinstance(o, dict)]
        elsewhere = [str(o.get("output")) for o in outputs if o.get("output") not in ("stdout", "stderr")]
        if elsewhere:
            kept = [o for o in outputs if o.get("output") in ("stdout", "stderr")]
            pattern = next((o["pattern"] for o in outputs if "pattern" in o), None)
            logger[key] = kept or [{"output": "stdout", **({"pattern": pattern} if pattern else {})}]
            changes.append(f"{where}.{key}: {', '.join(elsewhere)} -> stdout (the drill reads HA states "
                           "from the daemon's output)")
        if str(logger.get("severity", "INFO")).upper() in QUIET:
            changes.append(f"{where}.severity: {logger['severity']} -> INFO (HA state changes are logged at INFO)")
            logger["severity"] = "INFO"
    return changes


def output_key(logger: dict) -> str:
    """The key a logger's outputs sit under: ``output-options`` (Kea 2.5 and later, as Debian's 2.6
    and 3.0 files write it) or ``output_options`` (every version)."""
    return "output-options" if "output-options" in logger else "output_options"


def named_files(cfg: dict) -> list[tuple[str, str, str]]:
    """(field, name as written, kind) of every file, socket and library the config names that the
    daemon places by its version's rules (``kea_paths``). Shapes were checked by ``load``."""
    found: list[tuple[str, str, str]] = []
    single = cfg.get("control-socket")
    if isinstance(single, dict) and single.get("socket-type") == "unix" and single.get("socket-name"):
        found.append(("Dhcp4.control-socket.socket-name", str(single["socket-name"]), "control socket"))
    for i, entry in enumerate(cfg.get("control-sockets") or []):
        if isinstance(entry, dict) and entry.get("socket-type") == "unix" and entry.get("socket-name"):
            found.append((f"Dhcp4.control-sockets[{i}].socket-name", str(entry["socket-name"]), "control socket"))
    db = cfg.get("lease-database") or {}
    if db.get("name") and not databases.is_sql(cfg):  # a SQL database's name is no file
        found.append(("Dhcp4.lease-database.name", str(db["name"]), "lease file"))
    for i, logger in enumerate(cfg.get("loggers") or []):
        key = output_key(logger)
        for j, out in enumerate(logger.get(key) or []):
            target = str(out.get("output", ""))
            if target and is_log_file(target):
                found.append((f"Dhcp4.loggers[{i}].{key}[{j}].output", target, "log file"))
    for i, hook in enumerate(cfg.get("hooks-libraries") or []):
        if hook.get("library"):
            found.append((f"Dhcp4.hooks-libraries[{i}].library", str(hook["library"]), "hooks library"))
    return found


def control_socket_path(suite: str, cfg: dict) -> str | None:
    """Where ``suite``'s daemon binds the unix control socket (a bare name goes to /run/kea on 2.6.3+)."""
    name = unix_socket(cfg)
    return None if name is None else place(suite, "control socket", name).path or name


def lease_file_path(suite: str, cfg: dict) -> str:
    """Where ``suite``'s daemon keeps its memfile: Kea's default file when the config names none."""
    name = _get(cfg, "lease-database", "name")
    if not name or databases.is_sql(cfg):
        return DEFAULT_LEASE_FILE
    return place(suite, "lease file", str(name)).path or str(name)


# Kea 2.2 knows loggers' outputs only as output_options (measured: "got unexpected keyword
# "output-options" in loggers map", under kea-dhcp4 -t too); 2.6.3 and 3.0.4 take both spellings.
OUTPUT_OPTIONS_22 = 'got unexpected keyword "output-options" in loggers map'


def version_refusals(suite: str, cfg: dict, file: str) -> list[Problem]:
    """What the suite's Kea would refuse to start with, in its own words (``kea_paths``), before any
    container starts: a team upgrading to 2.6.3 or later meets these at its first restart, some of
    them only then (``kea-dhcp4 -t`` passes a lease file or log file the daemon then refuses)."""
    version = VERSIONS.get(suite)
    if version is None:
        return []
    out = []
    for field_name, name, kind in named_files(cfg):
        placed = place(suite, kind, name)
        if not placed.refusal:
            continue
        filename = name.strip().rsplit("/", 1)[-1]
        where = DEFAULT_DIRS[kind]
        caught = ("kea-dhcp4 -t says so too" if placed.by_check
                  else "kea-dhcp4 -t passes it: the daemon refuses it only when it starts")
        if suite in RESTRICTED:
            why = "since 2.6.3, CVE-2025-32801: files, sockets and hooks only in the default directories"
            fix = (f"move the {kind} under {where}/ (as {where}/{filename}), or give its name alone "
                   f"({shown(filename)}), which Kea {version} puts in {where}/; then drill it again"
                   if filename else f"give the {kind} a file name in {where}/")
        elif kind == "hooks library":
            why = "Kea 2.2 does not look in its hooks directory for a library named without its path"
            fix = f"give the full path {where}/{filename} (Kea 2.6.3 and later take either)"
        else:
            why = ("Kea 2.2 opens a name without a directory in its working directory: / under Debian's "
                   "kea-dhcp4-server.service, where its user _kea may not write")
            fix = (f"give the full path {where}/{filename}, where Kea 2.6.3 and later put the bare name, so the "
                   "config works on every version")
        out.append(Problem(file, field_name, f"Kea {version} (suite {suite}) refuses to start with it: "
                           f"\"{placed.refusal}\" ({why}; {caught})", fix))
    out += databases.version_problems(version, suite, cfg, file)
    if suite == "bookworm":
        for i, logger in enumerate(cfg.get("loggers") or []):
            if "output-options" in logger:
                out.append(Problem(file, f"Dhcp4.loggers[{i}].output-options", f"Kea {version} (suite {suite}) "
                                   f"refuses to start with it: \"{OUTPUT_OPTIONS_22}\" (the spelling came with "
                                   "Kea 2.5; kea-dhcp4 -t says so too)",
                                   "write output_options, which every Kea version takes"))
    return out


def path_moves(suites: list[str], cfg: dict, file: str) -> list[Problem]:
    """A rolling upgrade whose versions put the control socket or the lease file in different
    places: the upgraded server would start without its leases, or be unreachable where it was."""
    out = []
    for what, field_name, where in (("lease file", "Dhcp4.lease-database.name", lambda s: lease_file_path(s, cfg)),
                                    ("control socket", "Dhcp4.control-socket.socket-name",
                                     lambda s: control_socket_path(s, cfg))):
        places = {s: where(s) for s in suites}
        if len(set(places.values())) > 1:
            first, *rest = suites
            moved = ", ".join(f"Kea {VERSIONS.get(s, s)} {shown(places[s])}" for s in rest)
            out.append(Problem(file, field_name, f"the {what} moves in the upgrade: Kea {VERSIONS.get(first, first)} "
                               f"uses {shown(places[first])}, {moved} (the upgraded server would start without "
                               "what the old one left there)",
                               f"give the full path {shown(places[rest[-1]])}, which every version takes"))
    return out


def all_subnets(cfg: dict) -> list[tuple[str, dict, dict | None]]:
    """Every subnet4 entry of a config with its field and, for one inside ``shared-networks``, the
    shared network's entry (its name, and the relay, routers and timers its subnets inherit)."""
    out: list[tuple[str, dict, dict | None]] = [(f"Dhcp4.subnet4[{i}]", e, None)
                                                for i, e in enumerate(cfg.get("subnet4") or [])]
    for i, shared in enumerate(cfg.get("shared-networks") or []):
        for j, entry in enumerate((shared or {}).get("subnet4") or []):
            out.append((f"Dhcp4.shared-networks[{i}].subnet4[{j}]", entry, shared))
    return out


def inherited(entry: dict, shared: dict | None) -> dict:
    """A subnet4 entry as Kea applies it: what its shared network says, unless the subnet says otherwise."""
    if not shared:
        return entry
    return {**{k: v for k, v in shared.items() if k not in ("subnet4", "name")}, **entry}


def server_problems(path: str, cfg: dict) -> list[Problem]:
    """What every server of the lab needs of its own config: a unix control socket (the drill asks
    it for HA state), one named interface, and a persistent memfile or a SQL database the lab runs."""
    out = []
    if unix_socket(cfg) is None:
        out.append(Problem(path, "Dhcp4.control-socket", "no unix control socket",
                           "add a control-socket (Kea 3.0: a control-sockets entry) of socket-type "
                           "unix with a socket-name; the drill asks it for HA state"))
    ifaces = _get(cfg, "interfaces-config", "interfaces")
    if not isinstance(ifaces, list) or len(ifaces) != 1 or not isinstance(ifaces[0], str) or ifaces[0] == "*":
        out.append(Problem(path, "Dhcp4.interfaces-config.interfaces",
                           f"is {shown(ifaces if ifaces is not None else ABSENT)}; the lab reproduces exactly one named interface",
                           "list the one interface that serves the drilled subnet"))
    db = cfg.get("lease-database") or {}
    out += databases.problems(path, cfg)
    if databases.is_sql(cfg):
        return out
    if db.get("persist") is False:
        out.append(Problem(path, "Dhcp4.lease-database.persist", "is false: the memfile is never written",
                           "use persist true (the drill reads the lease file), or a postgresql lease database"))
    if any(ch.isspace() for ch in str(db.get("name", ""))):
        out.append(Problem(path, "Dhcp4.lease-database.name",
                           f"{shown(db['name'])} holds whitespace, which Kea cannot open (it splits its "
                           "database access string at spaces; kea-dhcp4 -t does not notice)",
                           "use a lease file path without spaces"))
    return out


def read_config(path, problems: list[Problem]) -> Any:
    """A Kea config file's JSON (comments allowed, ``<?include?>`` expanded); None, with what is wrong
    added to ``problems``, when it is unreadable, not UTF-8, not JSON (line and column) or includes badly."""
    try:
        return kea_json(expanded(path, KEA_INCLUDE)[0])
    except PairError as exc:
        problems.extend(exc.problems)
    except OSError as exc:
        problems.append(Problem(str(path), "-", f"cannot be read ({exc.strerror})", "make the file readable"))
    except UnicodeDecodeError:
        problems.append(Problem(str(path), "-", "is not UTF-8 text", "give the Kea JSON config file"))
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), f"line {exc.lineno} column {exc.colno}",
                                f"is not valid JSON ({exc.msg})", "fix the syntax there"))
    return None


class KeaAdapter(ServerAdapter):
    """Knows Kea's config shape, its HA state machine and its memfile lease database."""

    def load(self, path, problems: list[Problem]) -> dict | None:
        said = len(problems)
        raw = read_config(path, problems)
        if len(problems) > said:
            return None
        if not isinstance(_get(raw, "Dhcp4"), dict):
            problems.append(Problem(str(path), "Dhcp4", "missing", "give a kea-dhcp4 config with a Dhcp4 map"))
            return None
        before = len(problems)
        check_shape(str(path), raw["Dhcp4"], SHAPE, "Dhcp4", problems)
        if len(problems) > before:
            return None
        for hook in raw["Dhcp4"].get("hooks-libraries") or []:
            for j, rel in enumerate(_get(hook, "parameters", "high-availability") or []):
                check_shape(str(path), rel, HA_SHAPE, f"high-availability[{j}]", problems)
        return raw["Dhcp4"] if len(problems) == before else None

    def _readdress(self, pair: "Pair", cfgs: dict[str, dict]) -> Readdressing:
        """Move the subnets, and a peer network of their own, outside the lab range into it, in both
        lab copies (see ``readdress``)."""
        subnets, wheres = [], {}
        for where, entry, _ in all_subnets(cfgs["primary"]):
            try:
                subnet = ipaddress.ip_network(str(_get(entry, "subnet")))
            except ValueError:
                continue  # the subnet checks below name the problem
            if subnet.version == 4:
                subnets.append(subnet)
                wheres.setdefault(subnet, f"{where}.subnet")
        peers = []
        for peer in (self.ha_relationship("", cfgs["primary"], []) or {}).get("peers") or []:
            try:
                peers.append(ipaddress.ip_address(urlparse(str(_get(peer, "url"))).hostname or ""))
            except ValueError:
                continue  # the peer checks name the problem
        own = peer_network(peers, subnets)
        try:
            moved = readdress.plan(subnets + ([own] if own else []), pair.name)
        except readdress.Unmovable as exc:
            where = wheres.get(exc.subnet)
            raise PairError([Problem(str(pair.files["primary"]), where or "high-availability[0].peers", str(exc),
                                     ("drill a /16 or smaller subnet" if where else "give the peers addresses in one "
                                      "/16 or smaller") + f", or readdress a copy into {LAB_RANGE} by hand")]) from None
        for role in cfgs:
            cfgs[role] = moved.tree(cfgs[role])
        return moved

    def ha_relationship(self, path, cfg: dict, problems: list[Problem]) -> dict | None:
        """The config's first HA relationship (with lease_cmds and HA hooks loaded), else problems."""
        hooks = cfg.get("hooks-libraries") or []
        libs = [str(h.get("library", "")) for h in hooks if isinstance(h, dict)]
        if not any(lib.endswith("libdhcp_lease_cmds.so") for lib in libs):
            problems.append(Problem(str(path), "Dhcp4.hooks-libraries", "the lease_cmds hook is missing",
                                    "load libdhcp_lease_cmds.so: HA needs it to send lease updates"))
        ha = [h for h in hooks if isinstance(h, dict) and str(h.get("library", "")).endswith("libdhcp_ha.so")]
        if not ha:
            problems.append(Problem(str(path), "Dhcp4.hooks-libraries", "the High Availability hook is missing",
                                    "load libdhcp_ha.so with a high-availability configuration"))
            return None
        rel = _get(ha[0], "parameters", "high-availability", 0)
        if not isinstance(rel, dict) or not rel.get("peers"):
            problems.append(Problem(str(path), "libdhcp_ha.so parameters.high-availability", "missing or empty",
                                    "give one relationship: this-server-name, mode, peers"))
            return None
        return rel

    def lab_plan(self, pair: "Pair") -> LabPlan:
        problems: list[Problem] = []
        files = {role: pair.files[role] for role in ROLES}
        servers = {**files, **({BACKUP: pair.files[BACKUP]} if BACKUP in pair.files else {})}  # with the backup's
        cfgs = {role: self.load(path, problems) for role, path in servers.items()}
        if problems:
            raise PairError(problems)
        upgrades = sorted({d.to_suite for d in pair.drills.values() if d.to_suite and d.to_suite != pair.suite})
        for role, path in servers.items():
            for suite in [pair.suite, *upgrades]:  # a rolling upgrade starts the same files on to_suite
                problems += version_refusals(suite, cfgs[role], str(path))
            if not problems and upgrades:
                problems += path_moves([pair.suite, *upgrades], cfgs[role], str(path))
        carried = {}
        for role, path in servers.items():
            carried[role], found = tls.carried(path, cfgs[role], pair.folder)
            problems += found
        if problems:
            raise PairError(problems)
        moved = self._readdress(pair, cfgs)
        has = {role: self.ha_relationship(servers[role], cfgs[role], problems) for role in servers}
        if problems:
            raise PairError(problems)
        manifest = str(pair.folder / "pair.toml")
        backup = self._backup_problems(pair, has, servers, problems)
        problems += self._expired_copies(pair, has, files)
        if pair.mode not in NORMAL_STATE:
            raise PairError([Problem(manifest, "pair.mode", f"mode {shown(pair.mode)} is not drilled",
                                     f"use one of: {', '.join(NORMAL_STATE)}")])
        second = SECOND_ROLE[pair.mode]
        peers_by_role: dict[str, dict] = {}
        modes = {role: has[role].get("mode", ABSENT) for role in files}
        if modes["primary"] != modes["secondary"]:
            problems.append(Problem(str(files["secondary"]), "high-availability[0].mode",
                                    f"is {shown(modes['secondary'])}, {files['primary'].name} has {shown(modes['primary'])}",
                                    "give both servers the same HA mode"))
        elif modes["primary"] != pair.mode:
            problems.append(Problem(manifest, "pair.mode", f"is {shown(pair.mode)}, both configs say {shown(modes['primary'])}",
                                    f"set mode = {shown(modes['primary'])} in pair.toml" if modes["primary"] in NORMAL_STATE
                                    else f"give both configs mode {shown(pair.mode)}"))
        for role, path in files.items():
            ha, where = has[role], "high-availability[0]"
            peers = {p.get("name"): p for p in ha.get("peers") or [] if isinstance(p, dict)}
            me = peers.get(ha.get("this-server-name"))
            want = "primary" if role == "primary" else second
            if me is None:
                problems.append(Problem(str(path), f"{where}.this-server-name",
                                        f"{shown(ha.get('this-server-name', ABSENT))} is not one of the peers "
                                        f"({', '.join(shown(n) for n in peers)})",
                                        "name this server's own entry in peers"))
            elif me.get("role") != want and modes["primary"] == modes["secondary"] == pair.mode:
                problems.append(Problem(str(path), f"{where}.peers[{me.get('name')}].role",
                                        f"is {shown(me.get('role', ABSENT))}, but this file plays {want} in the manifest",
                                        f"set role to {shown(want)} or swap files.primary/files.secondary"))
            for p in peers.values():
                peers_by_role.setdefault(p.get("role"), p)
            for key in ("heartbeat-delay", "max-response-delay"):
                if not isinstance(ha.get(key, 0), int) or isinstance(ha.get(key), bool):
                    problems.append(Problem(str(path), f"{where}.{key}", "is not a whole number of milliseconds",
                                            "give milliseconds, e.g. 1000"))
            timers = {k: ha.get(k, v) for k, v in HA_DEFAULTS.items()}
            if not problems and timers["max-response-delay"] <= timers["heartbeat-delay"]:
                problems.append(Problem(str(path), f"{where}.max-response-delay",
                                        f"{timers['max-response-delay']} ms is not above heartbeat-delay {timers['heartbeat-delay']} ms",
                                        "make max-response-delay a few heartbeats long"))
            problems += server_problems(str(path), cfgs[role])
        if backup is not None:
            problems += server_problems(str(servers[BACKUP]), cfgs[BACKUP])
        if problems:
            raise PairError(problems)
        peers = {role: [{**PEER_DEFAULTS, **p} for p in has[role].get("peers") or []] for role in files}
        for where, mine, theirs in differences(peers["secondary"], peers["primary"], "high-availability[0].peers")[:8]:
            problems.append(Problem(str(files["secondary"]), where, f"is {shown(mine)}, {files['primary'].name} has "
                                    f"{shown(theirs)}", "copy the same peers list to both servers"))
        for key, default in HA_DEFAULTS.items():
            mine, theirs = (has[r].get(key, default) for r in ("secondary", "primary"))
            if mine != theirs:
                said = {r: "" if key in has[r] else " (Kea's default: the key is absent)" for r in files}
                problems.append(Problem(str(files["secondary"]), f"high-availability[0].{key}",
                                        f"is {shown(mine)}{said['secondary']}, {files['primary'].name} has "
                                        f"{shown(theirs)}{said['primary']}", "give both servers the same HA timers"))
        subnets = [_get(cfgs[r], "subnet4") or [] for r in files]
        found = differences(subnets[1], subnets[0], "Dhcp4.subnet4")
        for where, mine, theirs in found[:8]:
            problems.append(Problem(str(files["secondary"]), where, f"is {shown(mine)}, {files['primary'].name} has "
                                    f"{shown(theirs)}", "give both servers the same subnets, pools and options"))
        if len(found) > 8:
            problems.append(Problem(str(files["secondary"]), "Dhcp4.subnet4", f"and {len(found) - 8} more differences "
                                    f"from {files['primary'].name}", "give both servers the same subnets"))
        networks = [_get(cfgs[r], "shared-networks") or [] for r in files]
        found = differences(networks[1], networks[0], "Dhcp4.shared-networks")
        for where, mine, theirs in found[:8]:
            problems.append(Problem(str(files["secondary"]), where, f"is {shown(mine)}, {files['primary'].name} has "
                                    f"{shown(theirs)}", "give both servers the same shared networks, subnets and pools"))
        entries = all_subnets(cfgs["primary"])
        if not entries:
            problems.append(Problem(str(files["primary"]), "Dhcp4.subnet4", "declares no subnet",
                                    "declare the subnets the pair serves in subnet4 or shared-networks"))
        if problems:
            raise PairError(problems)
        declared = [d for where, entry, shared in entries
                    if (d := self._declared(str(files["primary"]), where, entry, problems, shared)) is not None]
        addresses, peer_ports = {}, {}
        for role, want in (("primary", "primary"), ("secondary", second)):
            peer = peers_by_role.get(want)
            url = urlparse(str(peer.get("url", ""))) if peer else None
            try:
                addresses[role] = str(ipaddress.ip_address(url.hostname or "" if url else ""))
                peer_ports[role] = url.port or (443 if url.scheme == "https" else 80)
            except ValueError:
                problems.append(Problem(str(files["primary"]), f"high-availability[0].peers[{want}].url",
                                        f"{shown(peer.get('url', ABSENT)) if peer else 'absent'} has no IPv4 address", "use http://a.b.c.d:port/"))
        if problems:
            raise PairError(problems)
        stated = {role: cfgs[role]["interfaces-config"]["interfaces"][0].partition("/")[2] or None for role in files}
        placed = place_subnets(declared, addresses, str(files["primary"]), {
            "primary": "high-availability[0].peers[primary].url", "secondary": f"high-availability[0].peers[{second}].url"},
            stated)
        if placed.problems:
            raise PairError(list(placed.problems))
        subnet, relayed = placed.home.subnet, placed.relayed
        pools = [*placed.home.pools, *(p for d in placed.shared for p in d.pools)]
        backup_peer = self._backup_place(backup, str(files["primary"]), placed, addresses, pools)
        addressed, ports = dict(addresses), dict(peer_ports)  # with the backup's, for its own lab copy
        if backup_peer is not None:
            addressed[BACKUP], ports[BACKUP] = backup_peer.address, backup_peer.peer_port
        lease_dbs, db_servers = self._databases(cfgs, placed, addresses, pools, backup_peer, subnet, relayed)
        if lease_dbs and (found := databases.drill_problems(manifest, pair.drills)):
            raise PairError(found)
        files_in, rewrites = {}, []
        for role, path in servers.items():
            changes = [databases.rewrite(cfgs[role], lease_dbs[role], list(lease_dbs.values()).count(lease_dbs[role]) > 1)
                       ] if role in lease_dbs else []
            agent = ctrl_agent_config(pair.suite, cfgs[role], has[role], addressed[role], ports[role])
            if agent is not None:
                secured = tls.effective(has[role], str(has[role].get("this-server-name")))
                rewrites.append(f"{pair.file_name(role)}: the peers talk through kea-ctrl-agent (no HA+MT listener), so the lab "
                                f"runs one beside kea-dhcp4 with a config of its own: {'https' if secured else 'http'}://"
                                f"{addressed[role]}:{ports[role]}/ forwarding to {control_socket_path(pair.suite, cfgs[role])} (your "
                                "kea-ctrl-agent.conf is not used: "
                                + ("basic auth in it is not reproduced; TLS is, with this server's own trust-anchor, "
                                   "cert-file and key-file from its HA config)" if secured else
                                   "TLS or basic auth in it are not reproduced)"))
            name, _, addr = cfgs[role]["interfaces-config"]["interfaces"][0].partition("/")
            if name != LAB_INTERFACE:
                cfgs[role]["interfaces-config"]["interfaces"] = [LAB_INTERFACE + (f"/{addr}" if addr else "")]
                changes.append(f"Dhcp4.interfaces-config.interfaces: {shown(name)} -> {shown(LAB_INTERFACE)} (the lab's interface)")
            changes += lab_loggers(cfgs[role])
            inlined = [f.relative_to(pair.folder).as_posix() for f in expanded(path, KEA_INCLUDE)[1]]
            if inlined:
                changes.append(f"<?include?> of {', '.join(inlined)} replaced by the included text")
            extra = {AGENT_CONFIG_PATH: json.dumps(agent, indent=2).encode()} if agent is not None else {}
            for target, source in sorted(carried[role].items()):
                extra[target] = source.read_bytes()
                rewrites.append(f"{path.name}: {target} carried into the lab from "
                                f"{source.relative_to(pair.folder).as_posix()} (sha256 {sha256(extra[target]).hexdigest()[:16]})")
            if not changes and not moved.moves:
                files_in[role] = {CONFIG_PATH: path.read_bytes(), **extra}
                continue
            files_in[role] = {CONFIG_PATH: json.dumps({"Dhcp4": cfgs[role]}, indent=2).encode(), **extra}
            rewrites += [f"{pair.file_name(role)}: {c}" for c in changes]
            rewrites.append(f"{pair.file_name(role)}: comments dropped from the lab copy")
        named = (f"{pair.file_name('primary')}, {pair.file_name('secondary')} and {pair.file_name(BACKUP)}"
                 if backup_peer else f"{pair.file_name('primary')} and {pair.file_name('secondary')}")
        rewrites = [*(f"{named}: {m}" for m in moved.describe()), *rewrites]
        if backup_peer is not None:
            rewrites.append(f"{pair.file_name(BACKUP)}: the backup {shown(backup_peer.name)} runs as a third server at "
                            f"{backup_peer.address}:{backup_peer.peer_port} (its peer URL), the same image, its own config; "
                            "it receives the active servers' lease updates and answers no client (Kea's backup state)")
        return LabPlan(subnet=subnet, addresses=addresses, interface=LAB_INTERFACE, serving=SERVING[pair.mode],
                       relayed=relayed, shared=tuple(d.subnet for d in placed.shared),
                       peer_subnet=placed.peer_subnet, server_ids=placed.server_ids,
                       retrying_clients_needed=int(has["secondary"].get("max-unacked-clients", 10)) + 1,
                       files_in_container=files_in, rewrites=tuple(rewrites + placed.describe()), pools=tuple(pools),
                       peer_ports=peer_ports, solo_states=("partner-down",),
                       normal_state=NORMAL_STATE[pair.mode],
                       ha_timers={k: has["primary"][k] for k in KEA_DEFAULTS if has["primary"].get(k) is not None},
                       lease_sync=lease_sync(has["primary"], pair.mode),
                       warnings=tuple(self._warnings(pair, has["primary"])), backup=backup_peer,
                       databases=db_servers, lease_databases=lease_dbs,
                       renew_s=min(kea_renew_s(cfgs["primary"], inherited(entry, shared)) for _, entry, shared in entries),
                       rebind_s=min(kea_rebind_s(cfgs["primary"], inherited(entry, shared)) for _, entry, shared in entries))

    @staticmethod
    def _databases(cfgs: dict[str, dict], placed, addresses: dict[str, str], pools, backup_peer, subnet,
                   relayed) -> tuple[dict, tuple]:
        """Each role's SQL lease database placed on a lab database server, on the servers' subnet
        below the lab's gateway, clients' and relay's addresses (``LabPlan.spare_addresses``)."""
        wanted = {role: db for role, cfg in cfgs.items() if (db := databases.stated(cfg)) is not None}
        if not wanted:
            return {}, ()
        used = set((placed.server_ids or addresses).values()) | ({backup_peer.address} if backup_peer else set())
        taken = 3 if relayed else 2
        free = free_addresses(subnet, pools, used, taken + databases.hosts_needed(cfgs))[taken:]
        if len(free) < databases.hosts_needed(cfgs):
            raise PairError([Problem("-", "Dhcp4.lease-database.host", f"{subnet} has no address outside its pools "
                                     "left for the lab's database server", "leave a few addresses of the subnet outside "
                                     "every pool, as the servers' and the router's are")])
        return databases.place(wanted, free)

    def _backup_problems(self, pair: "Pair", has: dict[str, dict], servers: dict[str, Path],
                         problems: list[Problem]) -> dict | None:
        """The backup peer the configs name, when the lab can run it (``files.backup``), else None
        with every problem added: a backup the lab would not start (its lease updates would fail in
        the lab and not in production), a backup config for a pair without one, more than one, and
        ``wait-backup-ack`` true, which Kea itself refuses in hot-standby and load-balancing."""
        manifest, primary = str(pair.folder / "pair.toml"), servers["primary"]
        for role, ha in has.items():
            if ha.get("wait-backup-ack") is True and ha.get("mode") in NORMAL_STATE:
                words = ha["mode"].replace("-", " ")
                problems.append(Problem(str(servers[role]), "high-availability[0].wait-backup-ack",
                                        f"is true, which Kea refuses in {ha['mode']} mode: \"'wait-backup-ack' must be "
                                        f"set to false in the {words} configuration\" (HA_CONFIGURATION_FAILED, then the "
                                        "daemon exits; kea-dhcp4 -t passes it, measured on Kea 2.2.0, 2.6.3 and 3.0.4; only "
                                        "passive-backup, a lone primary and its backups, may hold each reply until the "
                                        "backups acknowledge its lease update, and the lab does not drill that mode)",
                                        "remove it (false is the default): active servers never wait for a backup"))
        backups = [p for p in has["primary"].get("peers") or [] if isinstance(p, dict) and p.get("role") == "backup"]
        given = servers.get(BACKUP)
        if len(backups) > 1:
            problems.append(Problem(str(primary), "high-availability[0].peers",
                                    f"lists {len(backups)} servers in role backup "
                                    f"({', '.join(shown(p.get('name')) for p in backups)}); the lab runs one",
                                    "drill a copy whose peers list one backup (each receives the same lease updates)"))
            return None
        if backups and given is None:
            b = backups[0]
            problems.append(Problem(manifest, "files.backup", f"missing: {primary.name}'s high-availability[0].peers "
                                    f"names {shown(b.get('name'))} ({b.get('url')}) in role backup, which the lab would "
                                    "not start: every lease update the active servers send it would fail in the lab "
                                    "and not in production",
                                    "copy that server's own kea-dhcp4 config into the pair folder and name it under "
                                    "[files] (backup = \"backup.json\"; dhcpdrill-import --backup FILE writes it), or remove the backup from every config's peers "
                                    "to drill the pair without it"))
            return None
        if given is not None and not backups:
            problems.append(Problem(manifest, "files.backup", f"names {pair.file_name(BACKUP)}, but {primary.name}'s "
                                    "high-availability[0].peers lists no server in role backup",
                                    "add the backup to every config's peers (role backup), or remove files.backup"))
            return None
        if not backups:
            if "kill-backup" in pair.drills:
                problems.append(Problem(manifest, "drills.kill-backup", f"the pair has no backup server to kill "
                                        f"({primary.name}'s peers list none in role backup)",
                                        "remove the table, or add the backup: role backup in every config's peers, "
                                        "its own config as files.backup"))
            return None
        b, ha, path = backups[0], has[BACKUP], str(given)
        if ha.get("this-server-name") != b.get("name"):
            problems.append(Problem(path, "high-availability[0].this-server-name",
                                    f"is {shown(ha.get('this-server-name', ABSENT))}, but the peers name the backup "
                                    f"{shown(b.get('name'))}", f"set this-server-name to {shown(b.get('name'))} in "
                                    "the backup's own config"))
        if ha.get("mode", ABSENT) != has["primary"].get("mode", ABSENT):
            problems.append(Problem(path, "high-availability[0].mode", f"is {shown(ha.get('mode', ABSENT))}, "
                                    f"{primary.name} has {shown(has['primary'].get('mode', ABSENT))}",
                                    "give every server of the relationship the same HA mode"))
        mine, theirs = ([{**PEER_DEFAULTS, **p} for p in h.get("peers") or []] for h in (ha, has["primary"]))
        for where, m, t in differences(mine, theirs, "high-availability[0].peers")[:8]:
            problems.append(Problem(path, where, f"is {shown(m)}, {primary.name} has {shown(t)}",
                                    "copy the same peers list to every server, the backup's too"))
        return b

    @staticmethod
    def _backup_place(backup: dict | None, file: str, placed, addresses: dict[str, str], pools) -> "BackupPeer | None":
        """Where the backup sits: at its peer address, on the network the lab puts the peers on
        (the servers' subnet, or the peer link's own network); refused anywhere else."""
        if backup is None:
            return None
        where = f"high-availability[0].peers[{backup.get('name')}].url"
        url = urlparse(str(backup.get("url", "")))
        try:
            ip = ipaddress.ip_address(url.hostname or "")
            port = url.port or (443 if url.scheme == "https" else 80)
        except ValueError:
            raise PairError([Problem(file, where, f"{shown(backup.get('url', ABSENT))} has no IPv4 address",
                                     "use http://a.b.c.d:port/")]) from None
        home = placed.peer_subnet or placed.home.subnet
        taken = {*addresses.values(), *placed.server_ids.values()}
        why = (f"{ip} is not in {home}, the network the lab puts the peers on" if ip not in home else
               f"{ip} is a partner's address" if str(ip) in taken else
               f"{ip} is the network or broadcast address of {home}" if home.prefixlen < 31
               and ip in (home.network_address, home.broadcast_address) else
               f"{ip} lies in a pool of {home}" if placed.peer_subnet is None and any(lo <= ip <= hi for lo, hi in pools)
               else None)
        if why:
            raise PairError([Problem(file, where, why, f"give the backup its own address in {home}, outside the pools, "
                                     "beside its partners")])
        return BackupPeer(str(backup.get("name")), str(ip), port)

    @staticmethod
    def _declared(file: str, where: str, entry: Any, problems: list[Problem], shared: dict | None = None) -> Declared | None:
        """One subnet4 entry (``where``; inside the ``shared`` network's entry, if given): its subnet,
        pools and the addresses it or its shared network states for a relay or router."""
        try:
            subnet = ipaddress.ip_network(str(entry["subnet"]))
            if subnet.version != 4:
                raise ValueError("not an IPv4 subnet")
        except KeyError:
            problems.append(Problem(file, where, "has no subnet", "give subnet: a.b.c.d/len"))
            return None
        except ValueError as exc:
            problems.append(Problem(file, f"{where}.subnet", str(exc), "give a.b.c.d/len"))
            return None
        pools = []
        for j, pool in enumerate(entry.get("pools") or []):
            text = str(pool.get("pool", ""))
            try:
                if "-" in text:
                    lo, hi = (ipaddress.ip_address(x.strip()) for x in text.split("-", 1))
                else:
                    net = ipaddress.ip_network(text.strip())
                    lo, hi = net[0], net[-1]
            except ValueError:
                problems.append(Problem(file, f"{where}.pools[{j}].pool", f"{shown(text)} is not a range",
                                        'give "first - last" or a prefix'))
                continue
            if lo not in subnet or hi not in subnet or lo > hi:
                problems.append(Problem(file, f"{where}.pools[{j}].pool", f"{shown(text)} is not inside {subnet}",
                                        "keep the pool inside its subnet"))
            pools.append((lo, hi))
        stated = []
        for scope in (entry, shared or {}):
            relay = scope.get("relay") if isinstance(scope.get("relay"), dict) else {}
            stated += [*(relay.get("ip-addresses") or []), *([relay["ip-address"]] if relay.get("ip-address") else [])]
            for option in scope.get("option-data") or []:
                if isinstance(option, dict) and option.get("name") == "routers":
                    stated += str(option.get("data", "")).split(",")
        network = str(shared.get("name") or where.split(".subnet4")[0]) if shared is not None else ""
        return Declared(subnet, tuple(pools), where, tuple(str(x) for x in stated), network)

    def _warnings(self, pair: "Pair", ha: dict) -> list[str]:
        """A server whose own peer entry says ``auto-failover: false`` never takes over by itself
        (Kea reads the flag from the server's own entry): every takeover verdict would fail."""
        out = []
        for peer in ha.get("peers") or []:
            if isinstance(peer, dict) and peer.get("auto-failover") is False and peer.get("role") not in ("primary", "backup"):
                out.append(f"{pair.files['primary']}: high-availability[0].peers[{peer.get('name')}].auto-failover: "
                           f"false — {peer.get('name')} ({peer.get('role')}) never takes over by itself, so every "
                           "drill that judges takeover will fail; if an operator failing over by hand is your "
                           "design, state a known_hazard for those drills")
        return out

    def carried_files(self, pair: "Pair") -> list:
        out = set()
        for role in ROLES:
            cfg = self.load(pair.files[role], []) if role in pair.files and pair.files[role].is_file() else None
            if cfg is not None:
                out |= set(tls.carried(pair.files[role], cfg, pair.folder)[0].values())
        if any(d.startswith("expired-certificate") for d in pair.drills):  # what those drills put in place
            cert = self.own_certificate(pair, "secondary") if pair.files.get("secondary", Path()).is_file() else None
            if cert and tls.expired_copy(pair.folder, cert).is_file():
                out.add(tls.expired_copy(pair.folder, cert))
        return sorted(out)

    @staticmethod
    def _expired_copies(pair: "Pair", has: dict, files: dict) -> list[Problem]:
        """The expired-certificate drills put an expired copy of the secondary's certificate in
        place of the live one: a pair with such a drill must hold it, under ``expired/``."""
        out = []
        for drill in sorted(d for d in pair.drills if d.startswith("expired-certificate")):
            cert = tls.effective(has["secondary"], str(has["secondary"].get("this-server-name"))).get("cert-file")
            where = str(pair.folder / "pair.toml")
            if cert is None:
                out.append(Problem(where, f"drills.{drill}", f"{files['secondary'].name} names no certificate for its "
                                   "peer link, so there is none to expire", "remove the table: the drill is for pairs "
                                   "whose peers talk TLS"))
            elif not tls.expired_copy(pair.folder, cert).is_file():
                out.append(Problem(where, f"drills.{drill}", f"needs an expired copy of the secondary's {cert} at "
                                   f"{tls.expired_copy(pair.folder, cert)}",
                                   f"make one (same key and subject, signed by the same CA, its validity over) under "
                                   f"{pair.folder / tls.EXPIRED_DIR}, e.g. with scripts/make_tls_certs.sh"))
        return out

    def own_certificate(self, pair: "Pair", role: str) -> str | None:
        rel = self.ha_relationship("", self.load(pair.files[role], []) or {}, []) or {}
        return tls.effective(rel, str(rel.get("this-server-name"))).get("cert-file")

    def peer_link_evidence(self, lab: "Lab", pair: "Pair", plan: LabPlan) -> list[tuple[str, str, dict]]:
        """For a pair whose peers talk TLS: each server's partner opens a TLS connection to the
        server's peer URL as its daemon does (its own trust anchor, certificate and key toward that
        peer) and asks ha-heartbeat; the negotiated protocol, the verification result, the
        server's certificate and the answer are recorded, with what a cleartext request to the
        same port gets."""
        out = []
        for role in ROLES:
            partner = "secondary" if role == "primary" else "primary"
            rel = self.ha_relationship("", self.load(pair.files[partner], []) or {}, []) or {}
            me = next((p for p in rel.get("peers") or [] if isinstance(p, dict)
                       and p.get("role") == ("primary" if role == "primary" else SECOND_ROLE[pair.mode])), None)
            settings = tls.effective(rel, str(me.get("name"))) if me else {}
            if not settings:
                continue
            host, port = plan.addresses[role], plan.peer_ports[role]
            script = TLS_PROBE.format(host=host, port=port, **{k.replace("-", "_"): shlex.quote(settings.get(k, ""))
                                                                for k in tls.TLS_KEYS})
            code, raw = lab.containers[partner].exec_run(["sh", "-c", script])
            text = raw.decode(errors="replace")
            found = {key: (m.group(1) if (m := re.search(rx, text)) else None) for key, rx in TLS_FACTS.items()}
            out.append((role, "peer-tls", {"from": partner, "url": f"https://{host}:{port}/", **found,
                                           "client_cert": settings.get("cert-file"), "probe_exit": code}))
        return out

    def _paths(self, pair: "Pair", role: str) -> tuple[str, str]:
        cfg = self.load(pair.files[role], [])
        return str(control_socket_path(pair.suite, cfg)), lease_file_path(pair.suite, cfg)

    def _directories(self, pair: "Pair", role: str) -> str:
        """Create the daemon's directories as Debian's packaging does: Kea 2.6.3 and later refuse
        a control-socket directory that is not mode 0750 (``mkdir -p`` alone makes 0755)."""
        sock, leases = self._paths(pair, role)
        sock_dir = str(PurePosixPath(sock).parent)
        dirs = " ".join(shlex.quote(d) for d in sorted({sock_dir, str(PurePosixPath(leases).parent), "/run/kea"}))
        # a socket in / (Kea 2.2 with a bare name, started in /) leaves / as it is
        return f"mkdir -p {dirs}" + (f" && chmod 0750 {shlex.quote(sock_dir)}" if sock_dir != "/" else "")

    def command(self, pair: "Pair", role: str) -> list[str]:
        # A pid file left by a killed server is removed, as systemd's RuntimeDirectory would be.
        # kea-ctrl-agent, when the peers need it, runs as its own service: it stays up while
        # kea-dhcp4 is stopped for maintenance, and goes with the host when the container is killed.
        agent = f"if [ -f {AGENT_CONFIG_PATH} ]; then kea-ctrl-agent -c {AGENT_CONFIG_PATH} & fi"
        return daemon_command(f"{self._directories(pair, role)} && rm -f /run/kea/*.pid && {{ {agent}; }}",
                              f"kea-dhcp4 -c {CONFIG_PATH}")

    def agent(self, lab: "Lab", role: str, action: str) -> bool:
        container = lab.containers[role]
        if container.exec_run(["test", "-f", AGENT_CONFIG_PATH])[0] != 0:
            raise LabError(f"{role} runs no kea-ctrl-agent: its peers talk HA+MT (this drill is for pairs whose "
                           "peers talk through the agent)")
        if action == "stop":
            container.exec_run(["pkill", "-KILL", "-x", "kea-ctrl-agent"])
        elif action == "start":  # its log joins the daemon's on the container's stdout, as at boot
            container.exec_run(["sh", "-c", f"kea-ctrl-agent -c {AGENT_CONFIG_PATH} >/proc/1/fd/1 2>&1 &"])
        try:
            return until(lambda: container.exec_run(["pgrep", "-x", "kea-ctrl-agent"])[0] == 0,
                         done=lambda runs: action == "runs" or runs == (action == "start"), timeout=5.0, every=0.2,
                         what=f"{role}'s kea-ctrl-agent to {action}")
        except NotReady as exc:
            return exc.last

    fields = {"address": "high-availability[0].peers[].url", "pools": "Dhcp4.subnet4[0].pools"}
    environment = {"KEA_PIDFILE_DIR": "/run/kea", "KEA_LOCKFILE_DIR": "/run/kea"}

    def check_in_image(self, engine, image: str, pair: "Pair") -> list[Problem]:
        """Kea's own checker (``kea-dhcp4 -t``) on each lab copy, in the lab image with no network.

        Kea checks that the configured interface exists, so one end of a veth pair named ``eth0``
        and carrying the server's address stands in for the lab's; nothing is sent anywhere."""
        plan = self.lab_plan(pair)
        problems = []
        for role, files in plan.files_in_container.items():
            if role == BACKUP:  # the backup sits on the peers' network alone, at its peer address
                addrs = [f"{plan.backup.address}/{(plan.peer_subnet or plan.subnet).prefixlen}"]
            else:
                addrs = [f"{plan.ids[role]}/{plan.subnet.prefixlen}",
                         *([f"{plan.addresses[role]}/{plan.peer_subnet.prefixlen}"] if plan.peer_subnet else [])]
            script = (f"ip link add {LAB_INTERFACE} type veth peer name peer0 && ip link set {LAB_INTERFACE} up && "
                      + "".join(f"ip addr add {a} dev {LAB_INTERFACE} && " for a in addrs) +
                      f"{self._directories(pair, role)} && kea-dhcp4 -t {CONFIG_PATH}"
                      + (f" && kea-ctrl-agent -t {AGENT_CONFIG_PATH}" if AGENT_CONFIG_PATH in files else ""))
            code, out = self.run_checker(engine, image, files, script)
            if code != 0:
                errors = [l for l in out.splitlines() if "ERROR" in l or "FATAL" in l or "error" in l] or out.splitlines()[-3:]
                problems.append(Problem(str(pair.files[role]), "kea-dhcp4 -t", " | ".join(errors)[-600:],
                                        "fix what Kea reports; the lab runs Kea from Debian " + pair.suite))
        return problems

    def control(self, container: "Container", socket_name: str, command: str) -> dict:
        code, out = container.exec_run(["python3", "-c", CONTROL, socket_name, json.dumps({"command": command})])
        if code != 0:
            raise LabError(f"{container.name}: {command} failed: {out.decode(errors='replace').strip()}")
        return json.loads(out)

    def ask(self, lab: "Lab", pair: "Pair", role: str, command: str) -> dict:
        """Send one control command to a server and return its answer."""
        return self.control(lab.containers[role], self._paths(pair, role)[0], command)

    def clock_offset(self, lab: "Lab", pair: "Pair", role: str, wait_s: float = 12.0) -> float | None:
        """The daemon's clock minus the host's, from its ha-heartbeat date-time (1 s resolution)."""
        def offset() -> float | None:
            try:
                before = time.time()
                stamp = _get(self.ask(lab, pair, role, "ha-heartbeat"), "arguments", "date-time")
                return parsedate_to_datetime(stamp).timestamp() - (before + time.time()) / 2
            except (LabError, ValueError, TypeError, docker_errors().DockerException):
                return None

        try:
            return until(offset, done=lambda o: o is not None, timeout=wait_s, every=0.5,
                         what=f"{role}'s heartbeat date-time")
        except NotReady:
            return None

    clock_environment = {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                         "FAKETIME_TIMESTAMP_FILE": "/run/dhcpdrill-faketime", "FAKETIME_NO_CACHE": "1",
                         "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def ha_state(self, lab: "Lab", pair: "Pair", role: str) -> str:
        try:
            answer = self.ask(lab, pair, role, "ha-heartbeat")
        except (LabError, ValueError, docker_errors().DockerException):
            return "unreachable"
        return str(_get(answer, "arguments", "state") or f"error: {answer.get('text')}")

    def normal_state(self, pair: "Pair") -> str:
        return NORMAL_STATE[pair.mode]

    def wait_backup(self, lab: "Lab", pair: "Pair", timeout: float) -> str:
        """Wait until the backup server reports Kea's ``backup`` state (it then takes lease updates
        and answers no client); raise LabError with the state it is in otherwise."""
        try:
            return until(lambda: self.ha_state(lab, pair, BACKUP), done=lambda s: s == BACKUP_STATE,
                         timeout=timeout, every=0.5, what=f"the backup server in the {BACKUP_STATE} state")
        except NotReady as exc:
            raise LabError(f"the backup server did not reach the {BACKUP_STATE} state within {timeout:.0f} s: it is "
                           f"{exc.last}") from None

    def logs_drops(self, pair: "Pair", role: str) -> bool:
        """Kea logs a dropped query (``DROPPED``) on kea-dhcp4.packets at debug level 15: true when
        that logger, or kea-dhcp4 whose settings it inherits when it has none, is set to DEBUG with
        debuglevel 15 or more."""
        cfg = self.load(pair.files[role], []) or {}
        loggers = {str(x.get("name")): x for x in cfg.get("loggers") or [] if isinstance(x, dict)}
        logger = loggers.get("kea-dhcp4.packets") or loggers.get("kea-dhcp4") or {}
        level = logger.get("debuglevel", 0)
        return str(logger.get("severity", "")).upper() == "DEBUG" and isinstance(level, int) and level >= DROP_LEVEL

    def status_round_trips(self, lab: "Lab", pair: "Pair", role: str, via: str, count: int = 5) -> list[dict]:
        """ha-heartbeat to ``role``'s peer URL from ``via``'s container: the request its partner
        sends every heartbeat-delay, timed as the partner sees it (Kea's own timeout is 10 s)."""
        plan = self.lab_plan(pair)
        url = f"http://{plan.addresses[role]}:{plan.peer_ports[role]}/"
        code, out = lab.containers[via].exec_run(["python3", "-c", HEARTBEATS, url, str(count), "10"])
        if code != 0:
            raise LabError(f"{via}: timing ha-heartbeat to {role} failed: {out.decode(errors='replace').strip()[-200:]}")
        return json.loads(out)


    lease_suffix = "csv"

    def lease_path(self, pair: "Pair", role: str) -> str:
        db = self.lab_plan(pair).lease_databases.get(role) if databases.is_sql(self.load(pair.files[role], []) or {}) else None
        return db.where() if db else self._paths(pair, role)[1]

    def read_leases(self, lab: "Lab", pair: "Pair", role: str, container: "Container", path: str) -> str:
        """A SQL pair's ``lease4`` table (memfile-shaped rows), else the lease file."""
        db = self.lab_plan(pair).lease_databases.get(role) if databases.is_sql(self.load(pair.files[role], []) or {}) else None
        return databases.read_leases(lab, db, role) if db else super().read_leases(lab, pair, role, container, path)

    def log_event(self, line: str) -> tuple[str, dict] | None:
        m = TLS_REFUSED.search(line)
        if m:  # the peer link's listener refused a TLS connection (an expired or unknown certificate)
            return "tls-refused", {"peer": m[1], "reason": m[2].strip()}
        m = STATE_LINE.search(line)
        if m:
            return "ha-state", {"from": m[1].lower(), "to": m[2].lower(), "partner": m[3].lower()}
        if "HA_" in line and ("WARN" in line or "ERROR" in line):
            return "ha-warning", {"line": line.strip()}
        thread = {"thread": t[1]} if (t := THREAD.search(line)) else {}
        m = SYNC_PAGE.search(line)  # a returning server pulling its partner's leases, a page at a time
        if m:
            return "lease-sync-page", {"leases": int(m[1]), "partner": m[2], **thread}
        m = SYNC_DONE.search(line)
        if m:
            return "lease-sync-done", {"partner": m[1], "took": m[2].strip(), **thread}
        m = SYNC_START.search(line)  # the sync's own start (its service and the partner's go off for it)
        if m:
            return "lease-sync-start", {"partner": m[2] or m[3], **thread}
        m = LOCAL_SERVICE.search(line)
        if m:
            return f"service-{m[1].lower()}d", {"by": "state", "state": m[3].lower()}
        m = COMMAND_LINE.search(line)
        if m and m[1] in SYNC_COMMANDS:
            return "ha-command", {"command": m[1]}
        m = BACKLOG.search(line)  # communication-recovery's queued lease updates sent at the heal
        if m:
            return "lease-backlog", {"phase": m[1].lower(), **({"updates": int(m[2])} if m[2] else {})}
        if "ALLOC_ENGINE_V4_ALLOC_FAIL" in line:  # no address left for a client (pool exhausted)
            return "pool-exhausted", {"line": line.strip()}
        m = DROPPED.search(line)
        if m:
            return "server-dropped", {"code": m[1], "mac": m[2], "xid": m[3]}
        return None

    def lease_events(self, text: str, report: dict | None = None) -> list[tuple[float, str, dict]]:
        return [(rec["start"], "lease-record", rec) for rec in parse_memfile(text, report)]


MEMFILE_NEEDS = ("address", "hwaddr", "valid_lifetime", "expire")


def _whole(row: dict, field: str) -> int:
    try:
        return int(row[field])
    except (TypeError, ValueError):
        raise ValueError(f"{field} {row[field]!r} is not a whole number") from None


def parse_memfile(text: str, report: dict | None = None) -> list[dict]:
    """Bindings from a Kea DHCPv4 memfile: an append-only log of lease changes, oldest first.

    Kea appends a row for every change. A grant or renewal (``state`` 0, ``valid_lifetime`` > 0)
    binds its address from ``expire - valid_lifetime`` (the cltt) to ``expire``; a later grant of
    the address replaces it. An expired-reclaimed row (state 2) ends the binding at its expiry. A
    deletion (``valid_lifetime`` 0, as a release writes it; its ``expire`` is the lease's cltt, so
    the row carries no time of its own) or a decline (state 1) ends it at an unknown moment
    between its start and its expiry: ``end`` is the start, ``end_late`` the expiry, and
    ``deleted`` marks it, so a verdict can pin the moment from other evidence (the client's own
    release). Rows cannot date it: a file also holds the partner's lease updates, stamped with the
    partner's clock. No row ever erases a binding. A grant whose cltt is older than an earlier grant of the same
    address in this file was written out of time order (a stale copy replayed into the file: a
    failback's lease sync does that with a lease its client had already released): it is kept,
    marked ``replayed``, since its start cannot be trusted.

    ``report``, when given, receives ``rows`` (data rows read) and ``unread`` (each row not
    understood: its line number, text and why), so a file that parses to nothing is told from
    one that holds nothing.
    """
    current: dict[str, dict] = {}
    done: list[dict] = []
    newest: dict[str, int] = {}  # the latest grant start seen per address, in file order
    rows, unread = 0, []
    lines = [line.replace("\0", "") for line in text.splitlines()]
    torn = _untear(lines)
    if len(lines) > 1 and not text.endswith("\n") and lines[-1].count(",") + 1 < len(next(csv.reader([lines[0]]))):
        # the last write stopped short and nothing followed (the daemon exited): no row to keep
        torn.append({"row": len(lines), "text": lines.pop()[:200],
                     "why": "a last row cut short (its write failed), nothing written after it"})
    reader = csv.DictReader(lines)
    missing = [c for c in MEMFILE_NEEDS if c not in (reader.fieldnames or MEMFILE_NEEDS)]
    for row in reader:
        rows += 1
        try:
            if missing:
                raise KeyError(f"the header has no {', '.join(missing)} column")
            ip, mac = row["address"], row["hwaddr"]
            if not ip:
                raise ValueError("no address")
            if row.get(None) is not None or row["expire"] is None:
                raise ValueError("too many fields" if row.get(None) is not None else "too few fields")
            life, expire, state = (_whole(row, "valid_lifetime"), _whole(row, "expire"),
                                   _whole(row, "state") if row.get("state") else 0)
        except (KeyError, ValueError) as exc:
            why = exc.args[0]
            unread.append({"row": reader.line_num, "text": lines[reader.line_num - 1][:200] if reader.line_num <= len(lines)
                           else "", "why": why})
            continue
        prev = current.pop(ip, None)
        if life > 0 and state == 0:
            start = expire - life
            if prev:
                prev["end"] = max(prev["start"], min(prev["end"], start))
                done.append(prev)
            current[ip] = {"ip": ip, "mac": mac, "start": start, "end": expire}
            if start < newest.get(ip, start):
                current[ip]["replayed"] = True
            newest[ip] = max(start, newest.get(ip, start))
        elif prev:
            if state == 2:
                prev["end"] = max(prev["start"], min(prev["end"], expire))
            elif prev["end"] > prev["start"]:
                prev.update(end=prev["start"], end_late=prev["end"], deleted=True)
            done.append(prev)
    if report is not None:
        report.update(rows=rows, unread=unread, **({"torn": torn} if torn else {}))
    return done + list(current.values())


ROW_START = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3},")


def _untear(lines: list[str]) -> list[dict]:
    """Mend rows a full disk tore, in place: Kea's write of a row stopped short (ENOSPC) and the
    next write that succeeded (once space returned) continued on the same line. Kea threw on that
    write and kept nothing of it (the client was refused), so the torn start binds nothing; the
    row glued after it is whole and is kept. Each torn start is returned (line, text, why)."""
    if not lines:
        return []
    width = len(next(csv.reader([lines[0]])))
    torn = []
    for i in range(1, len(lines)):
        line = lines[i]
        if line.count(",") + 1 <= width:
            continue
        for m in ROW_START.finditer(line, 1):
            head, tail = line[:m.start()], line[m.start():]
            if tail.count(",") + 1 == width and head.count(",") + 1 < width:
                torn.append({"row": i + 1, "text": head[:200],
                             "why": "a row cut short (its write failed), the next row written on after it"})
                lines[i] = tail
                break
    return torn
