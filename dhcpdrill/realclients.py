"""Real DHCP client daemons in the lab: dhclient, dhcpcd, busybox udhcpc and systemd-networkd as
Debian ships them.

Each runs in its own container of the real-clients image (``images.REAL_CLIENTS``) on the lab's
client network (the first relayed network when the pair serves only relayed subnets), beside the
simulated fleet, through the drill. The daemon is the image's, started with its packaged script
and configuration, in the foreground so that its log is the container's output; nothing about its
timers or retries is changed. The container has NET_ADMIN in its own network namespace only (as
every lab container), so the daemon's script can set the address it leased; it is attached to the
drill's internal networks only.

Its evidence is what the machine itself had:

- ``address-sample`` (``addrs``: every IPv4 address on eth0, ``ip/len``): read every
  ``SAMPLE_EVERY_S`` seconds by a shell loop inside the container, stamped with ``date +%s.%N``
  there (containers share the host's kernel clock, so these are host-clock times like every
  other event);
- ``client-log`` (``line``): the daemon's own output, stamped by Docker on arrival (host clock);
- ``client-lease-file`` (``path``, ``read``, ``text`` or ``error``): its lease database at the end
  (udhcpc keeps none: its script's last ``bound``/``renew`` is written out instead; systemd-networkd's
  is ``/run/systemd/netif/leases/<ifindex>``);
- ``real-client`` (``client``, ``role``, ``every_s``, ``subnets``): the client's start.

All under the source ``real-client:<kind>``. The verdict per kind (``real-dhclient`` ...) is a pure
function of them: whether the address held at the fault stayed on the interface until the end of
the window, the longest time without a usable address (one in the link's subnets: dhcpcd's
169.254/16 fallback is none), and the NAKs its log says it received. A sampling gap longer than
``MAX_SAMPLE_GAP_S`` makes it UNKNOWN, never PASS.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .problems import LabError
from .timeline import Event, Timeline
from .waiting import NotReady, until

if TYPE_CHECKING:
    from docker.models.networks import Network

    from .lab import Lab

KINDS = ("dhclient", "dhcpcd", "udhcpc", "systemd-networkd")
PACKAGES = {"dhclient": "isc-dhcp-client", "dhcpcd": "dhcpcd-base", "udhcpc": "udhcpc", "systemd-networkd": "systemd"}
SAMPLE_EVERY_S = 0.1  # the sampler's pause between two readings of eth0's addresses (a reading itself takes ~0.02 s)
# The longest stretch between two samples the judge accepts (the issue asks for a reading at least
# every 0.5 s): the pause, the forks of a reading and a busy 2-core host's scheduling fit in it. A
# longer one is a hole in the evidence: what the interface had then is unknown.
MAX_SAMPLE_GAP_S = 0.5  # see docs/clients.md "Real clients" for the stretches measured
SAMPLES = "/var/log/dhcpdrill/address-samples"
SCRIPT = "/opt/dhcpdrill/real-client.sh"
UDHCPC_LEASE = "/var/lib/udhcpc/eth0.lease"
NETIF = "/run/systemd/netif"  # systemd-networkd's runtime state: links/<ifindex>, leases/<ifindex>
LEASE_FILES = {"dhclient": "/var/lib/dhcp/dhclient.eth0.leases", "dhcpcd": "/var/lib/dhcpcd/eth0.lease",
               "udhcpc": UDHCPC_LEASE, "systemd-networkd": NETIF + "/leases/<ifindex>"}
# What each daemon logs when a server refuses it (dhclient: "DHCPNAK from 198.18.0.2";
# dhcpcd: "eth0: NAK: ... from 198.18.0.2"; busybox udhcpc: "received DHCP NAK";
# systemd-networkd: "eth0: DHCPv4 client: NAK: <the server's message>", sd-dhcp-client.c).
NAK = re.compile(r"\bDHCPNAK\b|\bNAK\b|DHCP NAK", re.I)
SOURCE = "real-client:"
# dhcpcd sets net.ipv4.conf.<if>.promote_secondaries to 1 at start (if-linux.c, if_init) and gives up
# on the interface when it cannot ("if_init: Read-only file system": Docker mounts /proc/sys read
# only). The container is created with the setting dhcpcd would have made, in its own namespace
# (eth0's own: Docker moves eth0 in before it writes the sysctls, so ``default`` would come too late).
SYSCTLS = {"dhcpcd": {"net.ipv4.conf.eth0.promote_secondaries": "1"}}
VERDICTS = {f"real-{kind}": kind for kind in KINDS}
# systemd-networkd runs as its packaged unit runs it (systemd-networkd.service: User=systemd-network,
# AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW), without
# systemd as PID 1 and without D-Bus (it waits for the bus socket and works meanwhile). Started as
# root it would drop to that user keeping CAP_NET_BROADCAST, which Docker does not grant ("Failed
# to increase capabilities: Operation not permitted"), so setpriv starts it as the unit would, with
# the capabilities the container has (CAP_NET_BROADCAST guards nothing a DHCP client does).
# Its one configuration: DHCPv4 on eth0, every other setting networkd's own default.
NETWORKD_NETWORK = "/etc/systemd/network/50-dhcpdrill-eth0.network"
NETWORKD_CONFIG = "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"

# The container's command: Docker's address on eth0 is taken away (the daemon must lease its own),
# the sampler runs in the background, and the daemon in the foreground. udhcpc's packaged script
# is wrapped only to keep what it was given (udhcpc has no lease file of its own).
RUN = r"""#!/bin/sh
kind=$1 every=$2 samples=$3
ip -4 addr flush dev eth0
ip -4 route flush dev eth0 2>/dev/null
mkdir -p "$(dirname "$samples")" /var/lib/udhcpc
chmod +x /opt/dhcpdrill/udhcpc.script
( while :; do
    t=$(date +%s.%N)
    echo "$t|$(ip -4 -o addr show dev eth0 | tr '\n' ';')" >> "$samples"
    sleep "$every"
  done ) &
echo "dhcpdrill: sampling eth0 every $every s; eth0 promote_secondaries=$(cat /proc/sys/net/ipv4/conf/eth0/promote_secondaries); starting $kind"
case $kind in
  dhclient) exec dhclient -d -v -4 -lf /var/lib/dhcp/dhclient.eth0.leases -pf /run/dhclient.eth0.pid eth0 ;;
  dhcpcd) exec dhcpcd --nobackground --ipv4only --debug eth0 ;;
  udhcpc) exec udhcpc -f -i eth0 -s /opt/dhcpdrill/udhcpc.script ;;
  systemd-networkd)
    mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp
    chown -R systemd-network:systemd-network /run/systemd/netif
    export SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console
    caps=+net_admin,+net_bind_service,+net_raw
    exec setpriv --reuid=systemd-network --regid=systemd-network --init-groups --inh-caps=-all,$caps \
      --ambient-caps=-all,$caps --bounding-set=-all,$caps /usr/lib/systemd/systemd-networkd ;;
esac
echo "dhcpdrill: unknown client $kind" >&2
exit 2
"""
UDHCPC_SCRIPT = r"""#!/bin/sh
# Debian's own udhcpc script does the work; what udhcpc handed it is kept as its lease file.
/etc/udhcpc/default.script "$@"
rc=$?
case $1 in bound|renew) (echo "event=$1 at=$(date +%s.%N)"; env | grep -E '^(ip|subnet|router|serverid|lease|dns|domain)=') > /var/lib/udhcpc/eth0.lease ;; esac
exit $rc
"""


def verdict_names(kinds: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"real-{k}" for k in KINDS if k in set(kinds))


def parse_kinds(text: str) -> tuple[str, ...]:
    """``--real-clients dhclient,dhcpcd,udhcpc,systemd-networkd``: the kinds named, in ``KINDS`` order; ValueError
    naming the unknown one and what is known."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise ValueError(f"unknown real client {unknown[0]!r}: give a comma-separated list of {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in names)


# -- the lab ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where the real clients go: a lab network, the addresses Docker gives their containers (taken
    off eth0 before the daemon starts: outside every pool), and the subnets a lease there is in."""

    network: "Network"
    addresses: tuple[str, ...]
    subnets: tuple[str, ...]


def role(kind: str) -> str:
    return f"real-{kind}"


def mac_for(run_id: str, kind: str) -> str:
    """A locally administered unicast MAC for ``kind``'s container, new each run (from the lab's run
    id): Docker derives a MAC from the container's address, which is the same every run, so a pair
    that splits clients by a hash of it (dhcpd's load balancing, Kea's) would put each real client on
    the same server every time; a new device each run lands on either."""
    digest = hashlib.sha256(f"{run_id}:{kind}".encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])


def machine_id(run_id: str, kind: str) -> str:
    """``/etc/machine-id`` for ``kind``'s container, new each run like its MAC: systemd-networkd's
    DHCP client identifier is a DUID made from it (its default ``ClientIdentifier=duid``), and without
    one it does not start the client at all ("Failed to set DUID-EN/Vendor: No medium found")."""
    return hashlib.sha256(f"machine-id:{run_id}:{kind}".encode()).hexdigest()[:32] + "\n"


def start(lab: "Lab", kinds: Iterable[str], where: Placement, image: str, tl: Timeline) -> list[str]:
    """Start one container per kind on ``where.network``; returns their roles."""
    roles = []
    for kind, address in zip(kinds, where.addresses):
        r = role(kind)
        mac = mac_for(lab.run_id, kind)
        files = {SCRIPT: RUN.encode(), "/opt/dhcpdrill/udhcpc.script": UDHCPC_SCRIPT.encode()}
        if kind == "systemd-networkd":
            files |= {NETWORKD_NETWORK: NETWORKD_CONFIG.encode(), "/etc/machine-id": machine_id(lab.run_id, kind).encode()}
        lab.container(r, where.network, address, ["sh", SCRIPT, kind, f"{SAMPLE_EVERY_S:g}", SAMPLES], files=files,
                      image=image, sysctls=SYSCTLS.get(kind), mac=mac)
        tl.add(time.time(), SOURCE + kind, "real-client", client=kind, role=r, package=PACKAGES[kind],
               every_s=SAMPLE_EVERY_S, docker_address=address, mac=mac, subnets=list(where.subnets), image=image)
        roles.append(r)
    return roles


def wait_bound(lab: "Lab", kinds: Iterable[str], subnets: Iterable[str], timeout: float) -> dict[str, str | None]:
    """Each client's usable address once all have one, or after ``timeout`` (None: none yet).
    Readiness only: the verdicts read the samples, not this."""
    kinds = list(kinds)
    nets = [ipaddress.ip_network(s) for s in subnets]
    found: dict[str, str | None] = {k: None for k in kinds}

    gone: set[str] = set()

    def look() -> bool:
        for kind in kinds:
            if found[kind] is None and kind not in gone:
                try:
                    code, out = lab.containers[role(kind)].exec_run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
                except Exception:  # noqa: BLE001 - its daemon exited and took the container along: never bound
                    gone.add(kind)
                    continue
                usable = [a for a in parse_addrs(out.decode(errors="replace")) if _in(a, nets)]
                found[kind] = usable[0] if code == 0 and usable else None
        return all(found[k] or k in gone for k in kinds)

    try:
        until(look, timeout=timeout, every=0.5, what="the real clients' addresses")
    except NotReady:
        pass
    return found


def collect(lab: "Lab", kinds: Iterable[str], tl: Timeline) -> list[str]:
    """Put each real client's samples, log and lease file on the timeline (and its files in the
    run folder); returns what could not be read, in words (each is also an event)."""
    errors = []
    for kind in kinds:
        c = lab.containers.get(role(kind))
        source = SOURCE + kind
        if c is None:
            continue
        try:
            text = lab.read_file(c, SAMPLES)
            lab.save_artifact(f"{role(kind)}.address-samples", text)
            samples = parse_samples(text)
            tl.extend(Event(t, source, "address-sample", {"addrs": addrs}) for t, addrs in samples)
            tl.add(time.time(), source, "samples-read", count=len(samples))
        except LabError as exc:
            errors.append(f"{kind}'s address samples: {exc}")
            tl.add(time.time(), source, "samples-read", count=0, error=str(exc))
        try:
            for t, line in lab.log_lines(c):
                if not line.startswith("dhcpdrill: container start"):
                    tl.add(t, source, "client-log", line=line[:500])
        except Exception as exc:  # noqa: BLE001 - the engine's errors and ours alike: said, not fatal
            errors.append(f"{kind}'s log: {exc}")
        path = LEASE_FILES[kind]
        try:
            if kind == "dhcpcd":  # a binary DHCP message: dhcpcd dumps it as variables
                code, out = c.exec_run(["dhcpcd", "--dumplease", "--ipv4only", "eth0"])
                text = out.decode(errors="replace")
                if code != 0:
                    raise LabError(f"dhcpcd --dumplease said ({code}): {text.strip()[:300]}")
            elif kind == "systemd-networkd":  # named by eth0's ifindex, known only inside the container
                code, out = c.exec_run(["cat", "/sys/class/net/eth0/ifindex"])
                if code != 0:
                    raise LabError(f"eth0's ifindex: {out.decode(errors='replace').strip()[:300]}")
                index = out.decode().strip()
                path = f"{NETIF}/leases/{index}"
                try:
                    lab.save_artifact(f"{role(kind)}.link-state", lab.read_file(c, f"{NETIF}/links/{index}"))
                except LabError:
                    pass  # its state, kept for the reader: the lease file is the evidence
                text = lab.read_file(c, path)
            else:
                text = lab.read_file(c, path)
            lab.save_artifact(f"{role(kind)}.lease", text)
            tl.add(time.time(), source, "client-lease-file", path=path, read=True, text=text[:4000])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{kind}'s lease file: {exc}")
            tl.add(time.time(), source, "client-lease-file", path=path, read=False, error=str(exc)[:300])
        try:
            lab.save_artifact(f"{role(kind)}.resolv.conf", lab.read_file(c, "/etc/resolv.conf"))
        except LabError:
            pass  # not evidence; kept only to show what the daemon's script wrote there
    return errors


# -- pure: reading the evidence ------------------------------------------------------------------
INET = re.compile(r"\binet (\d+\.\d+\.\d+\.\d+/\d+)")


def parse_addrs(text: str) -> list[str]:
    """The ``ip/len`` of every ``inet`` in ``ip -4 -o addr`` output."""
    return INET.findall(text)


def parse_samples(text: str) -> list[tuple[float, list[str]]]:
    """The sampler's lines (``<epoch>|<ip -o output, lines joined by ;>``); a line cut short (the
    container stopped mid-write) or with no time is skipped, never guessed at."""
    out = []
    for line in text.splitlines():
        stamp, sep, rest = line.partition("|")
        try:
            t = float(stamp)
        except ValueError:
            continue
        if sep:
            out.append((t, parse_addrs(rest)))
    return out


def _in(addr: str, nets: list) -> bool:
    ip = ipaddress.ip_address(addr.split("/")[0])
    return any(ip in n for n in nets)


@dataclass(frozen=True)
class Reading:
    """What one real client's interface had, judged over the fault's window."""

    kind: str
    held: str | None  # the usable address at the fault
    lost_at: float | None  # the first sample after the fault without it
    without_s: float  # the longest stretch without any usable address
    without_from: float | None
    naks: list[Event]
    gaps: list[tuple[float, float]]  # stretches between samples longer than MAX_SAMPLE_GAP_S
    problem: str = ""  # why it cannot be judged, when it cannot
    max_gap_s: float | None = None  # the longest stretch between two samples in the window


def read(tl: Timeline, kind: str, zero: float, end: float) -> Reading:
    """The client's interface from the last sample at or before ``zero`` to ``end``."""
    source = SOURCE + kind
    started = next(iter(tl.of("real-client", source=source)), None)
    samples = [(e.t, e.get("addrs") or []) for e in tl.of("address-sample", source=source)]
    naks = [e for e in tl.of("client-log", source=source) if zero <= e.t <= end and NAK.search(e.get("line", ""))]
    if started is None:
        return Reading(kind, None, None, 0.0, None, naks, [], f"no real {kind} ran in this drill")
    nets = [ipaddress.ip_network(s) for s in started.get("subnets") or []]
    before = [s for s in samples if s[0] <= zero]
    if not samples:
        read_ = next(iter(tl.of("samples-read", source=source)), None)
        why = read_.get("error") if read_ is not None and read_.get("error") else "none recorded"
        return Reading(kind, None, None, 0.0, None, naks, [], f"no address samples ({why})")
    if not before:
        return Reading(kind, None, None, 0.0, None, naks, [], "no address sample before the fault")
    window = [before[-1], *[s for s in samples if zero < s[0] <= end]]
    gaps = [(a[0], b[0]) for a, b in zip(window, window[1:]) if b[0] - a[0] > MAX_SAMPLE_GAP_S]
    if end - window[-1][0] > MAX_SAMPLE_GAP_S:
        gaps.append((window[-1][0], end))
    if zero - before[-1][0] > MAX_SAMPLE_GAP_S:
        gaps.insert(0, (before[-1][0], zero))
    usable = [(t, [a for a in addrs if _in(a, nets)]) for t, addrs in window]
    held = usable[0][1][0] if usable[0][1] else None
    lost_at = next((t for t, addrs in usable[1:] if held not in addrs), None) if held else None
    longest, longest_from, since = 0.0, None, None
    for t, addrs in usable:
        if not addrs and since is None:
            since = t
        elif addrs and since is not None:
            if t - since > longest:
                longest, longest_from = t - since, since
            since = None
    if since is not None and end - since > longest:
        longest, longest_from = end - since, since
    spans = [b[0] - a[0] for a, b in zip(window, window[1:])]
    return Reading(kind, held, lost_at, longest, longest_from, naks, gaps,
                   max_gap_s=round(max(spans), 3) if spans else None)


SERVER_ID = re.compile(r"(?:dhcp-server-identifier|dhcp_server_identifier=|serverid=|SERVER_ADDRESS=)\s*(\d+\.\d+\.\d+\.\d+)")


def lease_server(tl: Timeline, kind: str) -> str | None:
    """The server that granted the lease the client held at the end, from its own lease file."""
    files = [e for e in tl.of("client-lease-file", source=SOURCE + kind) if e.get("read")]
    found = SERVER_ID.findall(files[-1].get("text", "")) if files else []
    return found[-1] if found else None


def rows(tl: Timeline, zero: float | None, end: float | None) -> list[dict]:
    """One row per real client that ran, for the reports: the address it held at ``zero`` (the
    anchor), whether it kept it to ``end``, its longest time without a usable address, its NAKs,
    the longest stretch between two samples and the server its last lease came from."""
    out = []
    for kind in KINDS:
        if not tl.of("real-client", source=SOURCE + kind):
            continue
        r = read(tl, kind, zero, end) if zero is not None and end is not None else None
        ok = r is not None and not r.problem and r.held is not None
        out.append({"client": kind, "package": PACKAGES[kind], "address": r.held if ok else None,
                    "kept": (r.lost_at is None) if ok else None,
                    "longest_without_s": round(r.without_s, 2) if ok else None,
                    "naks": len(r.naks) if r is not None else None,
                    "max_sample_gap_s": r.max_gap_s if r is not None else None,
                    "server_at_end": lease_server(tl, kind)})
    return out
