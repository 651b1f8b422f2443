"""DHCP client agent: many simulated DHCPv4 clients in one process, run inside the client container.

It is copied into the client container and started there as ``python3 agent.py PLAN_JSON`` so the
harness itself never needs raw-socket privileges. It depends on the standard library and scapy
only (Debian's python3-scapy in the image). Every packet sent and received, and every client state
change, is written to stdout as one JSON line with a timestamp (received packets carry the
kernel's capture time); the harness reads the lines into the drill's timeline.

Clients behave as RFC 2131 describes, with timers compressed for drills: retransmissions back off
(``retransmit`` seconds) and ``secs`` counts the seconds since the exchange began, so a Kea HA
standby sees clients that its partner leaves unanswered. Steady clients lease once and then renew
(unicast to their server at T1) and rebind (broadcast at T2); probe clients keep doing
DISCOVER/OFFER/REQUEST/ACK, hold the lease briefly and release it, so new-client service is
sampled all the time without draining the pool.
"""
from __future__ import annotations

import json
import queue
import random
import signal
import sys
import time
from dataclasses import dataclass, field

from scapy.all import (  # type: ignore[import-untyped]
    ARP, BOOTP, DHCP, IP, UDP, AsyncSniffer, Ether, conf, get_if_addr, get_if_hwaddr, get_if_list,
)

MSG = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE"}
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


def emit(kind: str, t: float | None = None, **data: object) -> None:
    print(json.dumps({"t": time.time() if t is None else t, "kind": kind, **data}), flush=True)


@dataclass
class Client:
    name: str
    mac: str
    probe: bool
    fresh: bool = False
    keeps: bool = False  # holds its lease like a steady client instead of releasing it after probe_hold
    iface: str = "eth0"  # the link it lives on (a relayed subnet's clients sit on a network of their own)
    subnet: str = ""
    state: str = "INIT"
    xid: int = 0
    exchange_start: float = 0.0
    next_tx: float = 0.0
    tries: int = 0
    offer_ip: str = ""
    offer_server: str = ""
    ip: str = ""
    server_id: str = ""
    server_mac: str = ""
    bound_at: float = 0.0
    lease: float = 0.0
    t1: float = 0.0
    t2: float = 0.0
    idle_until: float = 0.0
    history: list = field(default_factory=list)

    @property
    def chaddr(self) -> bytes:
        return bytes.fromhex(self.mac.replace(":", "")) + b"\x00" * 10


class Agent:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.retransmit = [float(x) for x in plan.get("retransmit", [1, 2, 4])]
        links = plan.get("links") or [{"ip": "", "subnet": "", "label": ""}]
        self.links = [{**link, "iface": iface_with(link["ip"]) if link["ip"] else plan.get("iface", "eth0")}
                      for link in links]
        self.iface, self.subnet = self.links[0]["iface"], self.links[0]["subnet"]  # probes and fresh clients
        self.clients = [
            Client(f"{link['label']}steady-{i:02d}", self._mac(0x10 + k, i), probe=False, iface=link["iface"],
                   subnet=link["subnet"])
            for k, link in enumerate(self.links) for i in range(int(plan.get("steady_clients", 5)))
        ] + [
            Client(f"probe-{i:02d}", self._mac(0x20, i), probe=True, iface=self.iface, subnet=self.subnet)
            for i in range(int(plan.get("probe_clients", 4)))
        ]
        self.by_mac = {c.mac: c for c in self.clients}
        for c in self.clients:
            self.announce(c)
        self.inbox: queue.Queue = queue.Queue()
        self.stop = False
        self.steady_said = False
        self.wake = False
        self.socks = {link["iface"]: conf.L2socket(iface=link["iface"]) for link in self.links}

    @staticmethod
    def announce(c: Client) -> None:
        """Say what a client is for: verdicts select clients by this, never by their names."""
        emit("client", client=c.name, mac=c.mac, role="fresh" if c.fresh else "probe" if c.probe else "steady",
             **({"subnet": c.subnet} if c.subnet else {}))

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

    def add_probe(self, now: float) -> None:
        i = sum(1 for c in self.clients if c.probe)
        c = Client(f"probe-{i:02d}", self._mac(0x20, i), probe=True, iface=self.iface, subnet=self.subnet)
        self.clients.append(c)
        self.by_mac[c.mac] = c
        self.announce(c)
        self.start_exchange(c, "SELECTING", now)

    def add_fresh(self, now: float) -> None:
        """A client never seen before: what a server allocates for it shows its new-lease policy."""
        i = sum(1 for c in self.clients if c.fresh)
        c = Client(f"fresh-{i:03d}", self._mac(0x30, i), probe=True, fresh=True,
                   keeps=bool(self.plan.get("fresh_keep")), iface=self.iface, subnet=self.subnet)
        self.clients.append(c)
        self.by_mac[c.mac] = c
        self.announce(c)
        self.start_exchange(c, "SELECTING", now)

    def _mac(self, kind: int, i: int) -> str:
        """A locally administered MAC: kind of client, this run's seed, and the client's number
        (65,536 per kind, so no wrap into a malformed address past 255)."""
        if not 0 <= i <= 0xFFFF:
            raise ValueError(f"client number {i} does not fit a MAC")
        run = int(self.plan.get("mac_seed", 0)) & 0xFFFF
        return "02:%02x:%02x:%02x:%02x:%02x" % (kind, run >> 8, run & 0xFF, i >> 8, i & 0xFF)

    # -- sending -------------------------------------------------------------------------------
    def _frame(self, c: Client, msg: str, unicast: bool) -> Ether:
        secs = min(int(time.time() - c.exchange_start), 0xFFFF)
        opts: list = [("message-type", msg.lower())]
        ciaddr = "0.0.0.0"
        if msg == "DISCOVER":
            opts.append(("param_req_list", [1, 3, 51, 54, 58, 59]))
        elif msg == "REQUEST" and c.state == "REQUESTING":
            opts += [("requested_addr", c.offer_ip), ("server_id", c.offer_server)]
        elif msg in ("REQUEST", "RELEASE"):
            ciaddr = c.ip
            if msg == "RELEASE":
                opts.append(("server_id", c.server_id))
        opts.append("end")
        bootp = BOOTP(chaddr=c.chaddr, xid=c.xid, secs=secs, ciaddr=ciaddr)
        if unicast:
            l2 = Ether(src=c.mac, dst=c.server_mac) / IP(src=c.ip, dst=c.server_id)
        else:
            l2 = Ether(src=c.mac, dst=BROADCAST_MAC) / IP(src="0.0.0.0" if ciaddr == "0.0.0.0" else c.ip,
                                                        dst="255.255.255.255")
        return l2 / UDP(sport=68, dport=67) / bootp / DHCP(options=opts)

    def send(self, c: Client, msg: str, unicast: bool = False) -> None:
        """Send and record it, stamped before it leaves: a reply captured by the kernel a moment
        later must never sort before the request it answers."""
        frame = self._frame(c, msg, unicast)
        sent = time.time()
        self.socks[c.iface].send(frame)
        emit("send", t=sent, client=c.name, mac=c.mac, msg=msg, xid=c.xid, secs=frame[BOOTP].secs,
             state=c.state, dst=frame[IP].dst, ciaddr=frame[BOOTP].ciaddr)

    def _schedule_retry(self, c: Client, now: float) -> None:
        c.next_tx = now + self.retransmit[min(c.tries, len(self.retransmit) - 1)]
        c.tries += 1

    # -- state machine -------------------------------------------------------------------------
    def start_exchange(self, c: Client, state: str, now: float) -> None:
        c.state = state
        c.xid = random.getrandbits(32)
        c.exchange_start = now
        c.tries = 0
        c.next_tx = now

    def tick(self, c: Client, now: float) -> None:
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
            elif c.state == "BOUND" and c.probe and not c.keeps and now >= c.bound_at + float(self.plan.get("probe_hold", 2)):
                self.send(c, "RELEASE", unicast=True)
                self.lose(c, "released", now)
                c.state = "IDLE"
                c.idle_until = now + float(self.plan.get("probe_gap", 1))
                return
        if c.state == "BOUND" or now < c.next_tx:
            return
        if c.state == "REQUESTING" and c.tries >= 4:
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

    def lose(self, c: Client, why: str, now: float) -> None:
        """The client stops holding ``c.ip`` at ``now`` (the capture time of the packet that
        ended it, so the end is ordered correctly against a new binding stamped the same way)."""
        emit("lease-lost", t=now, client=c.name, mac=c.mac, ip=c.ip, why=why)
        c.ip = ""

    def handle(self, pkt) -> None:
        if ARP in pkt:
            self.answer_arp(pkt)
            return
        if BOOTP not in pkt or pkt[BOOTP].op != 2:
            return
        mac = ":".join("%02x" % b for b in bytes(pkt[BOOTP].chaddr)[:6])
        c = self.by_mac.get(mac)
        if c is None or getattr(pkt, "sniffed_on", c.iface) != c.iface:
            return
        opts = {o[0]: o[1] for o in pkt[DHCP].options if isinstance(o, tuple)}
        msg = MSG.get(int(opts.get("message-type", 0)), "?")
        lease = opts.get("lease_time")
        emit("recv", t=float(pkt.time), client=c.name, mac=c.mac, msg=msg, xid=pkt[BOOTP].xid,
             yiaddr=pkt[BOOTP].yiaddr, server_id=opts.get("server_id"), src_ip=pkt[IP].src,
             src_mac=pkt[Ether].src, lease_time=lease, renewal_time=opts.get("renewal_time"),
             rebinding_time=opts.get("rebinding_time"), udp_checksum_ok=checksum_ok(pkt),
             expected=pkt[BOOTP].xid == c.xid, state=c.state)
        if pkt[BOOTP].xid != c.xid:
            return
        now = float(pkt.time)
        if msg == "OFFER" and c.state == "SELECTING":
            c.offer_ip, c.offer_server = pkt[BOOTP].yiaddr, opts.get("server_id", pkt[IP].src)
            c.state, c.tries = "REQUESTING", 0
            self.send(c, "REQUEST")
            self._schedule_retry(c, time.time())
        elif msg == "ACK" and c.state in ("REQUESTING", "RENEWING", "REBINDING"):
            how = {"REQUESTING": "discover", "RENEWING": "renew", "REBINDING": "rebind"}[c.state]
            if c.ip and c.ip != pkt[BOOTP].yiaddr:
                self.lose(c, "changed", now)
            c.ip, c.server_id = pkt[BOOTP].yiaddr, opts.get("server_id", pkt[IP].src)
            c.server_mac = pkt[Ether].src
            c.lease = float(lease or 60)
            c.t1 = float(opts.get("renewal_time") or c.lease * 0.5)
            c.t2 = float(opts.get("rebinding_time") or c.lease * 0.875)
            c.bound_at, c.state = now, "BOUND"
            emit("bound", t=now, client=c.name, mac=c.mac, ip=c.ip, server_id=c.server_id,
                 lease_time=c.lease, how=how, secs_waited=round(now - c.exchange_start, 3))
        elif msg == "NAK" and c.state in ("REQUESTING", "RENEWING", "REBINDING"):
            if c.ip:
                self.lose(c, "nak", now)
            self.start_exchange(c, "SELECTING", time.time())

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
        emit("woken", t=now, clients=woken, rebind_after_s=grace)

    def answer_arp(self, pkt) -> None:
        if pkt[ARP].op != 1:
            return
        on = getattr(pkt, "sniffed_on", None)
        for c in self.clients:
            if c.ip and c.ip == pkt[ARP].pdst and on in (None, c.iface):
                self.socks[c.iface].send(Ether(src=c.mac, dst=pkt[ARP].hwsrc) / ARP(
                    op=2, hwsrc=c.mac, psrc=c.ip, hwdst=pkt[ARP].hwsrc, pdst=pkt[ARP].psrc))

    def run(self) -> int:
        ifaces = list(self.socks)
        sniffer = AsyncSniffer(iface=ifaces if len(ifaces) > 1 else ifaces[0], filter="udp src port 67 or arp", store=False,
                               prn=self.inbox.put, promisc=True)
        sniffer.start()
        time.sleep(0.5)  # the capture socket must be open before the first DISCOVER leaves
        deadline = time.time() + float(self.plan.get("max_seconds", 600))
        steady_deadline = time.time() + float(self.plan.get("steady_timeout", 30))
        emit("agent-start", iface=self.iface, links=self.links,
             mac=get_if_hwaddr(self.iface),
             clients={c.name: c.mac for c in self.clients})
        now = time.time()
        next_fresh = now
        for c in self.clients:
            self.start_exchange(c, "SELECTING", now)
        while not self.stop and time.time() < deadline:
            try:
                while True:
                    self.handle(self.inbox.get(timeout=0.02))
            except queue.Empty:
                pass
            now = time.time()
            if self.wake:
                self.wake_steady(now)
            for c in self.clients:
                self.tick(c, now)
            fresh_every = self.plan.get("fresh_every_s")
            if fresh_every and self.steady_said and now >= next_fresh:
                self.add_fresh(now)
                next_fresh = now + float(fresh_every)
            if not self.steady_said:
                steady = [c for c in self.clients if not c.probe]
                short = self.servers_short_of_probes()
                if all(c.state == "BOUND" for c in steady) and not short:
                    self.steady_said = True
                    emit("steady", leases={c.name: c.ip for c in steady},
                         probes={c.name: c.server_id for c in self.clients if c.probe})
                elif short and len(self.clients) < int(self.plan.get("max_clients", 40)) \
                        and all(c.server_id for c in self.clients if c.probe):
                    self.add_probe(now)
                elif now > steady_deadline:
                    self.steady_said = True
                    emit("steady-failed", unbound=[c.name for c in steady if c.state != "BOUND"])
        sniffer.stop()
        emit("agent-stop", reason="signal" if self.stop else "max_seconds")
        return 0


def iface_with(ip: str) -> str:
    """The interface holding ``ip``: Docker does not promise which network becomes eth0, eth1..."""
    found = [i for i in get_if_list() if get_if_addr(i) == ip]
    if not found:
        raise SystemExit(f"no interface holds {ip}")
    return found[0]


def checksum_ok(pkt) -> bool:
    """True when the UDP checksum is absent or right: real clients drop replies with bad ones."""
    got = pkt[UDP].chksum
    if not got:
        return True
    ip = IP(bytes(pkt[IP]))
    del ip[UDP].chksum
    return IP(bytes(ip))[UDP].chksum == got


def main() -> int:
    agent = Agent(json.loads(sys.argv[1]))

    def on_term(signum, frame):  # PID 1 in a container gets no default SIGTERM handling
        agent.stop = True

    def on_wake(signum, frame):
        agent.wake = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_wake)
    signal.signal(signal.SIGINT, on_term)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
