"""DHCP client agent: thousands of simulated DHCPv4 clients in one process, run inside the client container.

It is copied into the client container and started there as ``python3 agent.py PLAN_JSON`` so the
harness itself never needs raw-socket privileges. It depends on the standard library and scapy
only (Debian's python3-scapy in the image).

Packets: scapy builds one template frame per kind of message at start (``Templates``); the hot
path copies a template, patches the client's fields and recomputes both checksums, and parses
replies at fixed BOOTP offsets. One raw socket per link with a kernel (BPF) filter passes only
DHCP replies and ARP. Timers sit in a heap (one live entry per client), so a tick costs what is
due, not a scan of every client. Evidence: every packet, state change and lost lease is one
compact JSON line in ``EVENTS_PATH`` (received packets carry the kernel's capture time), which
the harness copies out when the agent stops; stdout carries only the few control events the
harness waits on (``steady``, ``woken``...), never one line per packet.

Clients behave as RFC 2131 describes (kind ``rfc2131``, the default), with timers compressed for drills: retransmissions back off
(``retransmit`` seconds), ``secs`` counts the seconds since the exchange began (so a Kea HA
standby sees clients that its partner leaves unanswered), renewals are unicast to the granting
server at T1 and rebinds broadcast at T2, leases are released, ARP requests for a client's
address are answered. Steady clients lease once and then renew and rebind; probe clients keep
doing DISCOVER/OFFER/REQUEST/ACK, hold the lease briefly and release it, so new-client service is
sampled all the time without draining the pool.

A pair may state a mix of client kinds (``[workload] mix``): the renewing and new clients then
behave as dhclient, dhcpcd, udhcpc, systemd-networkd or Windows clients do, each kind's timing
decided by ``clientkinds`` (copied beside this file), and every client event says its
``client_kind``. Probes and fresh clients stay the lab's own ``rfc2131`` instruments.
"""
from __future__ import annotations

import ctypes
import heapq
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import sys
import time

if __package__:
    from . import clientkinds as ck
else:  # run as a script in the client container, clientkinds.py beside it
    import clientkinds as ck  # type: ignore[no-redef]

MSG = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE"}
CODE = {v: k for k, v in MSG.items()}
EVENTS_PATH = "/var/lib/dhcpdrill/clients.jsonl"
CONTROL = {"agent-start", "steady", "steady-failed", "woken", "rebooted", "settle-mark", "settled", "agent-stop", "bench"}
MAX_INDEX = 0xFFFFFF  # clients per kind: three MAC bytes

# Offsets in an Ethernet frame carrying IPv4 (no IP options) / UDP / BOOTP.
IP, UDP, BOOTP = 14, 34, 42
XID, SECS, CIADDR, YIADDR, CHADDR = BOOTP + 4, BOOTP + 8, BOOTP + 12, BOOTP + 16, BOOTP + 28
OPTIONS = BOOTP + 240  # after the 236-byte header and the magic cookie

ETH_P_ALL, SO_ATTACH_FILTER, SO_TIMESTAMPNS = 0x0003, 26, 35
SOL_PACKET, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC = 263, 1, 1
PACKET_STATISTICS = 6  # struct tpacket_stats: frames, drops (both reset when read)
# Classic BPF for "arp or (ip and udp and not a fragment and udp src port 67)".
FILTER = [
    (0x28, 0, 0, 12),         # ldh [12]            ethertype
    (0x15, 8, 0, 0x0806),     # jeq ARP -> accept
    (0x15, 0, 8, 0x0800),     # jeq IPv4, else drop
    (0x30, 0, 0, 23),         # ldb [23]            IP protocol
    (0x15, 0, 6, 17),         # jeq UDP, else drop
    (0x28, 0, 0, 20),         # ldh [20]            flags + fragment offset
    (0x45, 4, 0, 0x1FFF),     # jset fragment -> drop
    (0xB1, 0, 0, 14),         # ldxb 4*([14]&0xf)   IP header length
    (0x48, 0, 0, 14),         # ldh [x+14]          UDP source port
    (0x15, 0, 1, 67),         # jeq 67 -> accept, else drop
    (0x06, 0, 0, 0x40000),    # accept
    (0x06, 0, 0, 0),          # drop
]


def ones_complement(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data: bytes) -> int:
    return ~ones_complement(data) & 0xFFFF


def udp_checksum_ok(frame: bytes) -> bool:
    """True when the UDP checksum is absent or right: real clients drop replies with bad ones."""
    ihl = (frame[IP] & 0x0F) * 4
    udp = IP + ihl
    length = struct.unpack_from("!H", frame, udp + 4)[0]
    if struct.unpack_from("!H", frame, udp + 6)[0] == 0:
        return True
    pseudo = frame[IP + 12:IP + 20] + struct.pack("!BBH", 0, 17, length)
    return ones_complement(pseudo + frame[udp:udp + length]) == 0xFFFF


def finish(frame: bytearray) -> bytes:
    """Fill in the IPv4 header checksum and the UDP checksum (with its pseudo-header)."""
    frame[IP + 10:IP + 12] = b"\x00\x00"
    frame[IP + 10:IP + 12] = struct.pack("!H", checksum(bytes(frame[IP:IP + 20])))
    length = len(frame) - UDP
    frame[UDP + 6:UDP + 8] = b"\x00\x00"
    pseudo = bytes(frame[IP + 12:IP + 20]) + struct.pack("!BBH", 0, 17, length)
    value = checksum(pseudo + bytes(frame[UDP:]))
    frame[UDP + 6:UDP + 8] = struct.pack("!H", value or 0xFFFF)
    return bytes(frame)


class Templates:
    """One frame per kind of client message, built by scapy once; ``frame`` patches a copy.

    Kinds: DISCOVER, REQUEST-selecting (requested address and server id), REQUEST-renew (unicast,
    ciaddr), REQUEST-rebind (broadcast, ciaddr), REQUEST-init-reboot (broadcast, requested address,
    no server id), RELEASE (unicast, ciaddr, server id)."""

    def __init__(self) -> None:
        from scapy.all import BOOTP as SBOOTP, DHCP as SDHCP, IP as SIP, UDP as SUDP, Ether  # type: ignore[import-untyped]

        def build(msg: str, opts: list, unicast: bool) -> tuple[bytes, dict[int, int]]:
            frame = bytes(Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00" if unicast else "ff:ff:ff:ff:ff:ff")
                          / SIP(src="0.0.0.0", dst="0.0.0.0" if unicast else "255.255.255.255", ttl=64)
                          / SUDP(sport=68, dport=67) / SBOOTP(chaddr=b"\x00" * 16)
                          / SDHCP(options=[("message-type", msg.lower()), *opts, "end"]))
            return frame, option_offsets(frame)

        zero = "0.0.0.0"
        self.kinds = {
            "DISCOVER": build("discover", [("param_req_list", [1, 3, 51, 54, 58, 59])], False),
            "SELECTING": build("request", [("requested_addr", zero), ("server_id", zero)], False),
            "RENEWING": build("request", [], True),
            "REBINDING": build("request", [], False),
            "REBOOTING": build("request", [("requested_addr", zero)], False),
            "RELEASE": build("release", [("server_id", zero)], True),
        }

    def frame(self, kind: str, mac: bytes, xid: int, secs: int, ciaddr: bytes = b"\0\0\0\0",
              src: bytes | None = None, dst: bytes | None = None, dst_mac: bytes | None = None,
              requested: bytes | None = None, server_id: bytes | None = None) -> bytes:
        template, offsets = self.kinds[kind]
        f = bytearray(template)
        f[6:12] = mac
        if dst_mac is not None:
            f[0:6] = dst_mac
        if src is not None:
            f[IP + 12:IP + 16] = src
        if dst is not None:
            f[IP + 16:IP + 20] = dst
        struct.pack_into("!IH", f, XID, xid, min(secs, 0xFFFF))
        f[CIADDR:CIADDR + 4] = ciaddr
        f[CHADDR:CHADDR + 6] = mac
        if requested is not None:
            f[offsets[50]:offsets[50] + 4] = requested
        if server_id is not None:
            f[offsets[54]:offsets[54] + 4] = server_id
        return finish(f)


def option_offsets(frame: bytes) -> dict[int, int]:
    """Where each DHCP option's value starts in ``frame``."""
    found, i = {}, OPTIONS
    while i < len(frame) and frame[i] != 255:
        if frame[i] == 0:
            i += 1
            continue
        found[frame[i]] = i + 2
        i += 2 + frame[i + 1]
    return found


def parse_reply(frame: bytes) -> dict | None:
    """A BOOTREPLY's fields, or None for anything else (ARP is handled apart)."""
    if len(frame) < OPTIONS or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[IP] & 0x0F) * 4
    bootp = IP + ihl + 8
    if frame[bootp] != 2 or frame[bootp + 236:bootp + 240] != b"\x63\x82\x53\x63":
        return None
    opts: dict[int, bytes] = {}
    i, end = bootp + 240, len(frame)
    while i < end and frame[i] != 255:
        if frame[i] == 0:
            i += 1
            continue
        if i + 1 >= end:
            break
        opts[frame[i]] = frame[i + 2:i + 2 + frame[i + 1]]
        i += 2 + frame[i + 1]

    def ip(value: bytes | None) -> str | None:
        return socket.inet_ntoa(value) if value and len(value) == 4 else None

    def seconds(code: int) -> int | None:
        value = opts.get(code)
        return struct.unpack("!I", value)[0] if value and len(value) == 4 else None

    return {
        "chaddr": bytes(frame[bootp + 28:bootp + 34]), "xid": struct.unpack_from("!I", frame, bootp + 4)[0],
        "msg": MSG.get(opts.get(53, b"\0")[0], "?"), "yiaddr": socket.inet_ntoa(frame[bootp + 16:bootp + 20]),
        "server_id": ip(opts.get(54)), "src_ip": socket.inet_ntoa(frame[IP + 12:IP + 16]),
        "src_mac": mac_text(frame[6:12]), "lease_time": seconds(51), "renewal_time": seconds(58),
        "rebinding_time": seconds(59),
    }


def mac_text(raw: bytes) -> str:
    return ":".join("%02x" % b for b in raw)


def mac_for(kind: int, seed: int, i: int) -> str:
    """A locally administered unicast MAC: kind of client, this run's seed (one byte) and the
    client's number (three bytes: 16.7 million per kind, never wrapping into another's)."""
    if not 0 <= i <= MAX_INDEX:
        raise ValueError(f"client number {i} does not fit a MAC (at most {MAX_INDEX})")
    return "02:%02x:%02x:%02x:%02x:%02x" % (kind, seed & 0xFF, i >> 16, (i >> 8) & 0xFF, i & 0xFF)


class Evidence:
    """Events as JSON lines in a file (buffered, flushed often so the harness can read it while
    the drill runs); control events also go to stdout, where the harness waits for them."""

    def __init__(self, path: str | None) -> None:
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self.out = open(path, "w", buffering=1 << 20) if path else None
        self.dumps = json.JSONEncoder(separators=(",", ":")).encode

    def emit(self, kind: str, t: float | None = None, **data: object) -> None:
        stamp = time.time() if t is None else t
        line = self.dumps({"t": stamp, "kind": kind, **data})
        if self.out is None:
            print(line, flush=True)
            return
        self.out.write(line + "\n")
        if kind in CONTROL:  # Docker splits long log lines: stdout gets the gist, the file all of it
            print(line if len(line) < 4000 else self.dumps({"t": stamp, "kind": kind}), flush=True)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()


class Client:
    __slots__ = ("name", "mac", "raw_mac", "probe", "fresh", "keeps", "late", "link", "subnet", "state", "xid",
                 "exchange_start", "next_tx", "tries", "offer_ip", "offer_server", "ip", "server_id",
                 "server_mac", "bound_at", "lease", "t1", "t2", "idle_until", "gen", "index",
                 # a client kind's own timing (clientkinds.Record has the same fields)
                 "kind", "started", "pending", "then_at", "interval", "naks", "fallback_at", "discover_secs")

    def __init__(self, name: str, mac: str, probe: bool, fresh: bool = False, keeps: bool = False,
                 link: int = 0, subnet: str = "", state: str = "INIT", xid: int = 0, exchange_start: float = 0.0,
                 ip: str = "", server_id: str = "", server_mac: str = "", offer_ip: str = "",
                 offer_server: str = "", bound_at: float = 0.0, lease: float = 0.0, t1: float = 0.0,
                 t2: float = 0.0, late: bool = False, kind: str = ck.RFC2131) -> None:
        self.name, self.mac, self.raw_mac = name, mac, bytes.fromhex(mac.replace(":", ""))
        self.late = late  # one of the population's new clients: arrives once the rest are steady
        self.probe, self.fresh, self.keeps, self.link, self.subnet = probe, fresh, keeps, link, subnet
        self.state, self.xid, self.exchange_start, self.next_tx, self.tries = state, xid, exchange_start, 0.0, 0
        self.offer_ip, self.offer_server, self.ip, self.server_id = offer_ip, offer_server, ip, server_id
        self.server_mac, self.bound_at, self.lease, self.t1, self.t2 = server_mac, bound_at, lease, t1, t2
        self.idle_until, self.gen, self.index = 0.0, 0, 0
        self.kind, self.started, self.pending, self.then_at, self.interval = kind, 0.0, ck.SEND, 0.0, 0.0
        self.naks, self.fallback_at, self.discover_secs = 0, ck.INF, 0

    @property
    def holds_lease(self) -> bool:
        """Bound, or renewing or rebinding a lease not yet expired: with thousands of clients on
        short timers some are always mid-renewal, and they still hold their addresses."""
        return bool(self.ip) and self.state in ("BOUND", "RENEWING", "REBINDING")

    @property
    def role(self) -> str:
        return "fresh" if self.fresh else "probe" if self.probe else "new" if self.late else "steady"

    def due(self, probe_hold: float) -> float | None:
        """When this client next has something to do (a retransmission, T1, T2, expiry, release)."""
        if self.kind != ck.RFC2131:
            when = ck.due(ck.KINDS[self.kind], self)
            return None if when is None or when == ck.INF else when
        s = self.state
        if s == "DONE":
            return None
        if s == "IDLE":
            return self.idle_until
        if s in ("SELECTING", "REQUESTING", "INIT"):
            return self.next_tx
        expiry = self.bound_at + self.lease
        if s == "REBINDING":
            return min(self.next_tx, expiry)
        if s == "RENEWING":
            return min(self.next_tx, self.bound_at + self.t2, expiry)
        times = [self.bound_at + self.t1, self.bound_at + self.t2, expiry]
        if self.probe and not self.keeps:
            times.append(self.bound_at + probe_hold)
        return min(times)


class Agent:
    def __init__(self, plan: dict, evidence: Evidence | None = None, sockets: bool = True) -> None:
        self.plan = plan
        self.evidence = evidence or Evidence(None)
        self.retransmit = [float(x) for x in plan.get("retransmit", [1, 2, 4])]
        self.probe_hold = float(plan.get("probe_hold", 2))
        self.request_tries = int(plan["request_tries"])  # the harness's clients.REQUEST_TRIES: the judge reads it too
        self.seed = int(plan.get("mac_seed", 0))
        random.seed(self.seed)  # xids too: a run can be repeated from its seed
        links = plan.get("links") or [{"ip": "", "subnet": "", "label": ""}]
        self.links = [{**link, "iface": iface_with(link["ip"]) if link["ip"] and sockets else plan.get("iface", "eth0")}
                      for link in links]
        self.clients: list[Client] = []
        self.by_mac: dict[bytes, Client] = {}
        self.by_ip: dict[tuple[int, str], Client] = {}
        self.heap: list[tuple[float, int, int]] = []
        self.counts = {"probe": 0, "fresh": 0}
        self.mix = dict(plan.get("mix") or {})  # kind -> share; empty: every client is rfc2131, events untagged
        steady = int(plan.get("steady_clients", 5))
        kinds = ck.assign(steady, self.mix)
        for k, link in enumerate(self.links):
            for i in range(steady):
                self.add(Client(f"{link['label']}steady-{i:0{max(2, len(str(steady - 1)))}d}",
                                mac_for(0x10 + k, self.seed, i), probe=False, link=k, subnet=link["subnet"],
                                kind=kinds[i]))
        for _ in range(int(plan.get("probe_clients", 4))):
            self.add(self.new_probe())
        self.templates = Templates()
        self.stop = False
        self.steady_said = False
        self.wake = False
        self.storm = False
        self.mark = False
        self.settle_since: float | None = None
        self.socks = [raw_socket(link["iface"]) for link in self.links] if sockets else []
        self.sent = 0
        self.exchange_counts = {"DISCOVER": 0, "OFFER": 0, "REQUEST": 0, "ACK": 0}

    # -- the population ------------------------------------------------------------------------
    def add(self, c: Client) -> Client:
        c.index = len(self.clients)
        self.clients.append(c)
        self.by_mac[c.raw_mac] = c
        self.evidence.emit("client", client=c.name, mac=c.mac, role=c.role,
                           **({"subnet": c.subnet} if c.subnet else {}), **self.tag(c))
        return c

    def tag(self, c: Client) -> dict:
        """``client_kind`` for the client's events when the pair states a mix (else nothing: the
        evidence of a drill without a mix is what it always was)."""
        return {"client_kind": c.kind} if self.mix else {}

    def new_probe(self) -> Client:
        i = self.counts["probe"]
        self.counts["probe"] += 1
        return Client(f"probe-{i:02d}", mac_for(0x20, self.seed, i), probe=True, subnet=self.links[0]["subnet"])

    def add_probe(self, now: float) -> None:
        self.start_exchange(self.add(self.new_probe()), "SELECTING", now)

    def add_fresh(self, now: float) -> None:
        """A client never seen before: what a server allocates for it shows its new-lease policy."""
        i = self.counts["fresh"]
        self.counts["fresh"] += 1
        c = self.add(Client(f"fresh-{i:03d}", mac_for(0x30, self.seed, i), probe=True, fresh=True,
                            keeps=bool(self.plan.get("fresh_keep")), subnet=self.links[0]["subnet"]))
        self.start_exchange(c, "SELECTING", now)

    def add_newcomers(self, now: float) -> None:
        """The population's new clients (``new_clients`` per link, never seen before): they begin
        with DISCOVER one after another, evenly over ``new_over_s``, and then keep their leases
        like the renewing clients (they renew, rebind, are woken and rebooted as those are)."""
        per_link = int(self.plan.get("new_clients", 0) or 0)
        total = per_link * len(self.links)
        if not total:
            return
        step = float(self.plan.get("new_over_s", 0) or 0) / total
        now += float(self.plan.get("new_after_s", 0) or 0)
        width = max(2, len(str(per_link - 1)))
        kinds = ck.assign(per_link, self.mix)
        for j in range(total):
            k, i = j % len(self.links), j // len(self.links)
            link = self.links[k]
            c = self.add(Client(f"{link['label']}new-{i:0{width}d}", mac_for(0x40 + k, self.seed, i), probe=False,
                                late=True, link=k, subnet=link["subnet"], kind=kinds[i]))
            self.start_exchange(c, "SELECTING", now + j * step)

    def servers_short_of_probes(self) -> list[str]:
        """Servers that answer fewer probes than a takeover needs. In load-balancing each server
        answers its own share of MACs, so probes are added until every server that serves a
        healthy pair (``serving_servers``, even one no probe has reached yet) has enough."""
        need = int(self.plan.get("min_probes_per_server", 1))
        counts: dict[str, int] = {s: 0 for s in self.plan.get("serving_servers", [])}
        for c in self.clients:
            if c.probe and c.server_id:
                counts[c.server_id] = counts.get(c.server_id, 0) + 1
        return [s for s, n in counts.items() if n < need]

    # -- timers --------------------------------------------------------------------------------
    def schedule(self, c: Client) -> None:
        """Replace the client's pending timer (older heap entries are skipped by generation)."""
        c.gen += 1
        due = c.due(self.probe_hold)
        if due is not None:
            heapq.heappush(self.heap, (due, c.gen, c.index))

    def run_due(self, now: float) -> None:
        """Tick every client that is due, each once: a client still due afterwards waits for the
        next pass rather than spinning this one."""
        heap, ticked = self.heap, []
        while heap and heap[0][0] <= now:
            _, gen, index = heapq.heappop(heap)
            c = self.clients[index]
            if gen == c.gen:
                c.gen += 1  # taken: whatever tick schedules replaces it
                self.tick(c, now)
                ticked.append(c)
        for c in ticked:
            self.schedule(c)

    # -- sending -------------------------------------------------------------------------------
    def _frame(self, c: Client, msg: str, unicast: bool, now: float | None = None, secs: int | None = None) -> bytes:
        if secs is None:
            secs = max(0, int((time.time() if now is None else now) - c.exchange_start))
        if c.probe and self.plan.get("passive_probes"):
            secs = 0  # Kea's HA counts a client unacked only when secs * 1000 > max-ack-delay (quiet.py)
        aton = socket.inet_aton
        if msg == "DISCOVER":
            return self.templates.frame("DISCOVER", c.raw_mac, c.xid, secs)
        if msg == "REQUEST" and c.state == "REQUESTING":
            return self.templates.frame("SELECTING", c.raw_mac, c.xid, secs, requested=aton(c.offer_ip),
                                        server_id=aton(c.offer_server))
        if msg == "REQUEST" and c.state == "REBOOTING":
            return self.templates.frame("REBOOTING", c.raw_mac, c.xid, secs, requested=aton(c.offer_ip))
        ip = aton(c.ip)
        if msg == "RELEASE":
            return self.templates.frame("RELEASE", c.raw_mac, c.xid, secs, ciaddr=ip, src=ip, dst=aton(c.server_id),
                                        dst_mac=bytes.fromhex(c.server_mac.replace(":", "")),
                                        server_id=aton(c.server_id))
        if unicast:
            return self.templates.frame("RENEWING", c.raw_mac, c.xid, secs, ciaddr=ip, src=ip, dst=aton(c.server_id),
                                        dst_mac=bytes.fromhex(c.server_mac.replace(":", "")))
        return self.templates.frame("REBINDING", c.raw_mac, c.xid, secs, ciaddr=ip, src=ip)

    def send(self, c: Client, msg: str, unicast: bool = False, secs: int | None = None) -> None:
        """Send and record it, stamped before it leaves: a reply captured by the kernel a moment
        later must never sort before the request it answers (``secs``: the client kind's own)."""
        sent = time.time()
        frame = self._frame(c, msg, unicast, sent, secs)
        self.socks[c.link].send(frame)
        self.sent += 1
        self.exchange_counts[msg] = self.exchange_counts.get(msg, 0) + 1
        self.evidence.emit("send", t=sent, client=c.name, mac=c.mac, msg=msg, xid=c.xid,
                           secs=struct.unpack_from("!H", frame, SECS)[0], state=c.state,
                           dst=socket.inet_ntoa(frame[IP + 16:IP + 20]),
                           ciaddr=socket.inet_ntoa(frame[CIADDR:CIADDR + 4]), **self.tag(c))

    def _schedule_retry(self, c: Client, now: float) -> None:
        c.next_tx = now + self.retransmit[min(c.tries, len(self.retransmit) - 1)]
        c.tries += 1

    # -- state machine -------------------------------------------------------------------------
    def start_exchange(self, c: Client, state: str, now: float) -> None:
        if c.kind != ck.RFC2131:
            ck.begin(ck.KINDS[c.kind], c, state, now, random)
            if self.clients and self.clients[c.index] is c:
                self.schedule(c)
            return
        c.state = state
        c.xid = random.getrandbits(32)
        c.exchange_start = now
        c.tries = 0
        c.next_tx = now
        if self.clients and self.clients[c.index] is c:
            self.schedule(c)

    def tick(self, c: Client, now: float) -> None:
        if c.kind != ck.RFC2131:
            self.carry_out(c, ck.tick(ck.KINDS[c.kind], c, now, random), now)
            return
        if c.state == "DONE":
            return
        if c.state == "IDLE":
            if c.fresh:
                c.state = "DONE"  # a fresh client leases once and leaves
                return
            if now >= c.idle_until:
                self.start_exchange(c, "SELECTING", now)
            return
        if c.state == "INIT":
            self.start_exchange(c, "SELECTING", now)
        if c.state in ("BOUND", "RENEWING", "REBINDING"):
            if now >= c.bound_at + c.lease:
                self.lose(c, "expired", now)
                self.start_exchange(c, "SELECTING", now)
            elif c.state in ("BOUND", "RENEWING") and now >= c.bound_at + c.t2:
                self.start_exchange(c, "REBINDING", now) if c.state == "BOUND" else self._to(c, "REBINDING", now)
            elif c.state == "BOUND" and now >= c.bound_at + c.t1:
                self.start_exchange(c, "RENEWING", now)
            elif c.state == "BOUND" and c.probe and not c.keeps and now >= c.bound_at + self.probe_hold:
                self.send(c, "RELEASE", unicast=True)
                self.lose(c, "released", now)
                c.state = "IDLE"
                c.idle_until = now + float(self.plan.get("probe_gap", 1))
                return
        if c.state == "BOUND" or now < c.next_tx:
            return
        if c.state == "REQUESTING" and c.tries >= self.request_tries:
            began = c.exchange_start
            self.start_exchange(c, "SELECTING", now)
            c.exchange_start = began  # secs keeps counting from the first DISCOVER
        msg = "DISCOVER" if c.state == "SELECTING" else "REQUEST"
        self.send(c, msg, unicast=c.state == "RENEWING")
        self._schedule_retry(c, now)

    def _to(self, c: Client, state: str, now: float) -> None:
        """Move to REBINDING keeping the exchange (secs keeps rising from the renewal's start)."""
        c.state = state
        c.tries = 0
        c.next_tx = now

    def carry_out(self, c: Client, actions: list[tuple], now: float) -> None:
        """Do what a client kind's machine decided (``clientkinds.tick``): send with its ``secs``,
        lose the address, record a fallback to a self-assigned address (nothing is sent for it),
        or take up a remembered lease again."""
        for action in actions:
            what = action[0]
            if what == "send":
                _, msg, secs, unicast = action
                self.send(c, msg, unicast=unicast, secs=secs)
            elif what == "lose":
                if c.ip:
                    self.lose(c, action[1], now)
            elif what == "fallback":
                self.evidence.emit("fallback", t=now, client=c.name, mac=c.mac, to=action[1], state=c.state,
                                   **self.tag(c))
            elif what == "resume":
                c.ip = action[1]
                self.by_ip[(c.link, c.ip)] = c
                self.evidence.emit("lease-resumed", t=now, client=c.name, mac=c.mac, ip=c.ip,
                                   why="no answer to INIT-REBOOT, lease unexpired", **self.tag(c))

    def lose(self, c: Client, why: str, now: float) -> None:
        """The client stops holding ``c.ip`` at ``now`` (the capture time of the packet that
        ended it, so the end is ordered correctly against a new binding stamped the same way)."""
        self.evidence.emit("lease-lost", t=now, client=c.name, mac=c.mac, ip=c.ip, why=why, **self.tag(c))
        self.by_ip.pop((c.link, c.ip), None)
        c.ip = ""

    def handle(self, frame: bytes, link: int, t: float) -> None:
        if frame[12:14] == b"\x08\x06":
            self.answer_arp(frame, link)
            return
        reply = parse_reply(frame)
        if reply is None:
            return
        c = self.by_mac.get(reply["chaddr"])
        if c is None or c.link != link:
            return
        self.evidence.emit("recv", t=t, client=c.name, mac=c.mac, msg=reply["msg"], xid=reply["xid"],
                           yiaddr=reply["yiaddr"], server_id=reply["server_id"], src_ip=reply["src_ip"],
                           src_mac=reply["src_mac"], lease_time=reply["lease_time"],
                           renewal_time=reply["renewal_time"], rebinding_time=reply["rebinding_time"],
                           udp_checksum_ok=udp_checksum_ok(frame), expected=reply["xid"] == c.xid, state=c.state,
                           **self.tag(c))
        if reply["xid"] != c.xid:
            return
        if (reply["msg"], c.state) in (("OFFER", "SELECTING"), ("ACK", "REQUESTING")):
            self.exchange_counts[reply["msg"]] += 1
        self.react(c, reply, t)
        self.schedule(c)

    def react(self, c: Client, reply: dict, now: float) -> None:
        if c.kind != ck.RFC2131:
            self.react_kind(c, reply, now)
            return
        msg = reply["msg"]
        server = reply["server_id"] or reply["src_ip"]
        if msg == "OFFER" and c.state == "SELECTING":
            c.offer_ip, c.offer_server = reply["yiaddr"], server
            c.state, c.tries = "REQUESTING", 0
            self.send(c, "REQUEST")
            self._schedule_retry(c, time.time())
        elif msg == "ACK" and c.state in ("REQUESTING", "RENEWING", "REBINDING"):
            how = {"REQUESTING": "discover", "RENEWING": "renew", "REBINDING": "rebind"}[c.state]
            if c.ip and c.ip != reply["yiaddr"]:
                self.lose(c, "changed", now)
            c.ip, c.server_id, c.server_mac = reply["yiaddr"], server, reply["src_mac"]
            self.by_ip[(c.link, c.ip)] = c
            c.lease = float(reply["lease_time"] or 60)
            c.t1 = float(reply["renewal_time"] or c.lease * 0.5)
            c.t2 = float(reply["rebinding_time"] or c.lease * 0.875)
            c.bound_at, c.state = now, "BOUND"
            self.evidence.emit("bound", t=now, client=c.name, mac=c.mac, ip=c.ip, server_id=c.server_id,
                               lease_time=c.lease, how=how, secs_waited=round(now - c.exchange_start, 3),
                               **self.tag(c))
        elif msg == "NAK" and c.state in ("REQUESTING", "RENEWING", "REBINDING"):
            if c.ip:
                self.lose(c, "nak", now)
            self.start_exchange(c, "SELECTING", time.time())

    def react_kind(self, c: Client, reply: dict, now: float) -> None:
        """A reply to a client of another kind: the bookkeeping is the engine's, every timing
        decision its kind's (``clientkinds``)."""
        k, msg = ck.KINDS[c.kind], reply["msg"]
        server = reply["server_id"] or reply["src_ip"]
        if msg == "OFFER" and c.state == "SELECTING":
            c.offer_ip, c.offer_server = reply["yiaddr"], server
            self.carry_out(c, ck.on_offer(k, c, time.time(), random), now)
        elif msg == "ACK" and c.state in ("REQUESTING", "RENEWING", "REBINDING", "REBOOTING"):
            how = {"REQUESTING": "discover", "RENEWING": "renew", "REBINDING": "rebind", "REBOOTING": "reboot"}[c.state]
            if c.ip and c.ip != reply["yiaddr"]:
                self.lose(c, "changed", now)
            c.ip, c.server_id, c.server_mac = reply["yiaddr"], server, reply["src_mac"]
            self.by_ip[(c.link, c.ip)] = c
            ck.on_ack(k, c, float(reply["lease_time"] or 60), reply["renewal_time"], reply["rebinding_time"], now,
                      random)
            self.evidence.emit("bound", t=now, client=c.name, mac=c.mac, ip=c.ip, server_id=c.server_id,
                               lease_time=c.lease, how=how, secs_waited=round(now - c.exchange_start, 3),
                               **self.tag(c))
        elif msg == "NAK" and c.state in ("REQUESTING", "RENEWING", "REBINDING", "REBOOTING"):
            actions = ck.on_nak(k, c, server, now, random)
            if actions is None:
                self.evidence.emit("nak-ignored", t=now, client=c.name, mac=c.mac, server_id=server,
                                   state=c.state, **self.tag(c))
            else:
                self.carry_out(c, actions, now)

    def wake_steady(self, now: float) -> None:
        """Every bound steady client renews now, as one woken from sleep or told to by an operator
        would when its lease is long: its T1 is now (a unicast renew to its server) and its T2
        ``wake_rebind_after_s`` later (a broadcast rebind to any server); the lease keeps its length."""
        self.wake = False
        grace = float(self.plan.get("wake_rebind_after_s", 10))
        woken = []
        for c in self.clients:
            if not c.probe and c.state == "BOUND":
                c.t1 = now - c.bound_at
                c.t2 = min(c.t1 + grace, c.lease - 1)
                woken.append(c.name)
                self.schedule(c)
        self.evidence.emit("woken", t=now, clients=woken, rebind_after_s=grace)

    def mark_settle(self, now: float) -> None:
        """From now on, say once (``settled``) when every client of the population that holds a
        lease has been answered since: after a heal the harness waits for it, so that each
        client's continuity is decided by an answer or by its lease running out, not left unknown
        by a window that closed while the pair worked through a rebind storm."""
        self.mark = False
        self.settle_since = now
        self.evidence.emit("settle-mark", t=now)

    def check_settled(self, now: float) -> None:
        since = self.settle_since
        population = [c for c in self.clients if not c.probe]
        if any(c.holds_lease and c.bound_at < since for c in population):
            return
        self.settle_since = None
        self.evidence.emit("settled", t=now, since=since, holding=sum(c.holds_lease for c in population))

    def reboot_all(self, now: float) -> None:
        """A building powering up after an outage: every client of the population that has
        arrived forgets its lease and starts over with DISCOVER, spread evenly over ``storm_s``
        seconds (``reboot`` in the evidence, then a new exchange as any client's). New clients
        yet to arrive keep their own arrival time: they were not on the network to reboot."""
        self.storm = False
        spread = float(self.plan.get("storm_s") or 5)
        population = [c for c in self.clients if not c.probe]
        arrived = [c for c in population if not (c.late and c.tries == 0 and c.next_tx > now)]
        for i, c in enumerate(arrived):
            at = now + spread * i / max(1, len(arrived))
            if c.kind != ck.RFC2131:  # kinds that remember leases ask for theirs again (INIT-REBOOT)
                self.carry_out(c, ck.on_reboot(ck.KINDS[c.kind], c, now, at, random), now)
                self.schedule(c)
                continue
            if c.ip:
                self.lose(c, "reboot", now)
            self.start_exchange(c, "SELECTING", at)
        self.evidence.emit("rebooted", t=now, clients=len(arrived), over_s=spread,
                           yet_to_arrive=len(population) - len(arrived))

    def answer_arp(self, frame: bytes, link: int) -> None:
        if len(frame) < 42 or frame[20:22] != b"\x00\x01":
            return
        target = socket.inet_ntoa(frame[38:42])
        c = self.by_ip.get((link, target))
        if c is None or c.ip != target:
            return
        asker_mac, asker_ip = frame[22:28], frame[28:32]
        self.socks[link].send(asker_mac + c.raw_mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
                              + c.raw_mac + socket.inet_aton(target) + asker_mac + asker_ip)

    # -- the loop ------------------------------------------------------------------------------
    def receive(self, budget: int = 512) -> int:
        """Read what the sockets hold (at most ``budget`` frames), each with its kernel capture time."""
        got = 0
        for link, sock in enumerate(self.socks):
            while got < budget:
                try:
                    frame, ancillary, _, _ = sock.recvmsg(2048, 64)
                except BlockingIOError:
                    break
                got += 1
                t = time.time()
                for level, kind, data in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                        sec, nsec = struct.unpack("qq", data[:16])
                        t = sec + nsec / 1e9
                self.handle(frame, link, t)
        return got

    def arrivals(self, now: float) -> None:
        """Start the population: steady clients arrive at ``arrival_per_s`` (a building powering
        up), probes at once."""
        rate = float(self.plan.get("arrival_per_s", 0) or 0)
        steady = [c for c in self.clients if not c.probe]
        for i, c in enumerate(steady):
            self.start_exchange(c, "SELECTING", now + (i / rate if rate > 0 else 0.0))
        for c in self.clients:
            if c.probe:
                self.start_exchange(c, "SELECTING", now)

    def run_bench(self, rate: float, seconds: float, drop_time: float = 1.0) -> dict:
        """The engine at a fixed offered load, as perfdhcp measures a server: a DORA begins every
        1/``rate`` s with the next steady client in turn (no retransmissions); an exchange not
        answered within ``drop_time`` is unanswered. Returns the counts (also a ``bench`` event)."""
        poller = select.poll()
        for sock in self.socks:
            poller.register(sock, select.POLLIN)
        self.retransmit = [seconds + drop_time + 60.0]
        steady = [c for c in self.clients if not c.probe]
        start = time.time()
        begun = 0
        now = start
        while not self.stop and now < start + seconds + drop_time:
            if now < start + seconds:
                due = min(int((now - start) * rate) + 1, int(seconds * rate))
                while begun < due:
                    c = steady[begun % len(steady)]
                    self.start_exchange(c, "SELECTING", now)
                    self.tick(c, now)
                    self.schedule(c)
                    begun += 1
            if poller.poll(1):
                self.receive()
            now = time.time()
        counts = {"rate": rate, "seconds": seconds, "clients": len(steady), "begun": begun,
                  **self.exchange_counts}
        counts["unanswered"] = (counts["DISCOVER"] - counts["OFFER"]) + (counts["REQUEST"] - counts["ACK"])
        counts["unanswered_share"] = counts["unanswered"] / max(1, counts["DISCOVER"] + counts["REQUEST"])
        self.evidence.emit("bench", **counts)
        self.evidence.flush()
        return counts

    def run(self) -> int:
        if self.plan.get("bench"):
            bench = self.plan["bench"]
            self.run_bench(float(bench["rate"]), float(bench["seconds"]), float(bench.get("drop_time", 1.0)))
            return 0
        poller = select.poll()
        for sock in self.socks:
            poller.register(sock, select.POLLIN)
        deadline = time.time() + float(self.plan.get("max_seconds", 600))
        steady_deadline = time.time() + float(self.plan.get("steady_timeout", 30))
        self.evidence.emit("agent-start", iface=self.links[0]["iface"], links=self.links,
                           clients=len(self.clients), engine="raw-socket+bpf+heap")
        now = time.time()
        next_fresh, next_chores = now, now
        self.arrivals(now)
        fresh_every = self.plan.get("fresh_every_s")
        max_clients = int(self.plan.get("max_clients", 40))
        while not self.stop and now < deadline:
            wait = min(0.05, max(0.0, self.heap[0][0] - now)) if self.heap else 0.05
            if poller.poll(wait * 1000):
                self.receive()
            now = time.time()
            self.run_due(now)
            if self.wake:
                self.wake_steady(now)
            if self.storm:
                self.reboot_all(now)
            if self.mark:
                self.mark_settle(now)
            if now < next_chores:
                continue
            next_chores = now + 0.1
            if self.settle_since is not None:
                self.check_settled(now)
            self.evidence.flush()
            if fresh_every and self.steady_said and now >= next_fresh:
                self.add_fresh(now)
                next_fresh = now + float(fresh_every)
            if not self.steady_said:
                steady = [c for c in self.clients if not c.probe]
                short = self.servers_short_of_probes()
                if all(c.holds_lease for c in steady) and not short:
                    self.steady_said = True
                    self.evidence.emit("steady", leases={c.name: c.ip for c in steady},
                                       probes={c.name: c.server_id for c in self.clients if c.probe})
                    self.add_newcomers(now)
                elif short and len(self.clients) < max_clients and all(c.server_id for c in self.clients if c.probe):
                    self.add_probe(now)
                elif now > steady_deadline:
                    self.steady_said = True
                    self.evidence.emit("steady-failed", unbound=[c.name for c in steady if not c.holds_lease][:50],
                                       unbound_count=sum(not c.holds_lease for c in steady))
        self.evidence.emit("agent-stop", reason="signal" if self.stop else "max_seconds", sent=self.sent,
                           clients=len(self.clients), max_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                           rx_dropped=sum(dropped(sock) for sock in self.socks))
        self.evidence.flush()
        return 0


def dropped(sock: socket.socket) -> int:
    """Frames the kernel dropped for this packet socket since the last call (its receive buffer
    was full): replies the servers sent that the clients never saw."""
    _, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    return drops


def raw_socket(iface: str) -> socket.socket:
    """A packet socket on ``iface`` that sees only DHCP replies and ARP (filtered in the kernel),
    in promiscuous mode (replies go to the simulated clients' MACs), stamping each frame."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    program = b"".join(struct.pack("HBBI", *insn) for insn in FILTER)
    buf = ctypes.create_string_buffer(program)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(FILTER), ctypes.addressof(buf)))
    sock.bind((iface, ETH_P_ALL))
    index = socket.if_nametoindex(iface)
    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b""))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.setblocking(False)
    while True:  # frames that arrived before the filter was attached
        try:
            sock.recv(2048)
        except BlockingIOError:
            dropped(sock)  # counted from here
            return sock


def iface_with(ip: str) -> str:
    """The interface holding ``ip``: Docker does not promise which network becomes eth0, eth1..."""
    from scapy.all import get_if_addr, get_if_list  # type: ignore[import-untyped]
    found = [i for i in get_if_list() if get_if_addr(i) == ip]
    if not found:
        raise SystemExit(f"no interface holds {ip}")
    return found[0]


def main() -> int:
    plan = json.loads(sys.argv[1])
    agent = Agent(plan, Evidence(plan.get("events_path", EVENTS_PATH)))

    def on_term(signum, frame):  # PID 1 in a container gets no default SIGTERM handling
        agent.stop = True

    def on_wake(signum, frame):
        agent.wake = True

    def on_storm(signum, frame):
        agent.storm = True

    def on_mark(signum, frame):
        agent.mark = True
    signal.signal(signal.SIGHUP, on_mark)
    signal.signal(signal.SIGUSR2, on_storm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_wake)
    signal.signal(signal.SIGINT, on_term)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
