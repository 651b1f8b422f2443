"""DHCPv6 client agent: simulated RFC 8415 clients in one process, run inside the client container.

Copied into the client container with ``v6timers.py`` beside it and started as
``python3 agent6.py PLAN_JSON``; it needs the standard library and scapy (Debian's python3-scapy).
Every client has its own DUID-LL (from a MAC of its own) and asks for one IA_NA and, when the
plan says so, one IA_PD. All clients share one UDP socket on port 546: DHCPv6 clients send from
their link-local address to All_DHCP_Relay_Agents_and_Servers (ff02::1:2), and servers answer
by unicast to that address, so replies are told apart by transaction id.

Clients behave as RFC 8415 says, with the server's own short timers: Solicit (collecting
Advertises for the first timeout), Request, Renew at T1 naming the server's DUID (which only that
server answers), Rebind at T2 to any server, a fresh Solicit when the valid lifetimes run out;
every retransmission backs off (``v6timers``) with Elapsed Time rising. Steady clients keep their
lease; probe clients lease, hold briefly and Release, so new-client service is sampled all the time
(a probe sends its Release once and does not wait for the Reply, where RFC 8415 retransmits it up
to REL_MAX_RC times: a lost Release leaves a lease to expire, never a second holder).

Evidence: one JSON line per packet sent or received, per binding and per lost lease in
``EVENTS_PATH``; stdout carries only the control events the harness waits on (``steady``...).
"""
from __future__ import annotations

import heapq
import json
import random
import select
import signal
import socket
import struct
import sys
import time

if __package__:
    from . import v6timers as vt
else:  # run as a script in the client container, v6timers.py beside it
    import v6timers as vt  # type: ignore[no-redef]

EVENTS_PATH = "/var/lib/dhcpdrill/clients6.jsonl"
CLIENT_PORT, SERVER_PORT = 546, 547
ALL_SERVERS = "ff02::1:2"
CONTROL = {"agent-start", "steady", "steady-failed", "agent-stop"}
MSG = {1: "SOLICIT", 2: "ADVERTISE", 3: "REQUEST", 5: "RENEW", 6: "REBIND", 7: "REPLY", 8: "RELEASE"}
SUCCESS, NO_ADDRS_AVAIL, NO_BINDING, NO_PREFIX_AVAIL = 0, 2, 3, 6
IAID = 1


def client_mac(seed: int, kind: int, index: int) -> bytes:
    """A locally administered MAC: 02, seed (2 bytes), kind (0x10 steady, 0x20 probe), index."""
    return bytes([0x02, (seed >> 8) & 0xFF, seed & 0xFF, kind, (index >> 8) & 0xFF, index & 0xFF])


def duid_ll(mac: bytes) -> bytes:
    """DUID-LL (type 3) over Ethernet (hardware type 1): RFC 8415 section 11.4."""
    return b"\x00\x03\x00\x01" + mac


def build(msg: str, xid: int, duid: bytes, elapsed: int, pd: bool, server: bytes | None = None,
          addresses: list[str] = (), prefixes: list[str] = ()) -> bytes:
    """One client message as bytes: the header, then each option built by scapy (the Server
    Identifier is the server's DUID as received, copied byte for byte)."""
    from scapy.layers import dhcp6 as d  # type: ignore[import-untyped]
    code = {v: k for k, v in MSG.items()}[msg]
    options = [d.DHCP6OptClientId(duid=d.DUID_LL(lladdr=":".join(f"{b:02x}" for b in duid[4:])))]
    if server is not None:
        options.append(struct.pack("!HH", 2, len(server)) + server)
    options.append(d.DHCP6OptElapsedTime(elapsedtime=elapsed))
    if msg != "RELEASE":
        options.append(d.DHCP6OptOptReq(reqopts=[23, 24]))
    options.append(d.DHCP6OptIA_NA(iaid=IAID, T1=0, T2=0, ianaopts=[
        d.DHCP6OptIAAddress(addr=a, preflft=0, validlft=0) for a in addresses]))
    if pd:
        options.append(d.DHCP6OptIA_PD(iaid=IAID, T1=0, T2=0, iapdopt=[
            d.DHCP6OptIAPrefix(prefix=p.split("/")[0], plen=int(p.split("/")[1]), preflft=0, validlft=0)
            for p in prefixes]))
    return bytes([code]) + xid.to_bytes(3, "big") + b"".join(bytes(o) for o in options)


def _server_id_bytes(pkt) -> bytes | None:
    from scapy.layers import dhcp6 as d  # type: ignore[import-untyped]
    opt = pkt.getlayer(d.DHCP6OptServerId)
    if opt is None:
        return None
    raw = bytes(opt)
    return raw[4:4 + int.from_bytes(raw[2:4], "big")]


def parse(data: bytes) -> dict | None:
    """An Advertise or Reply's fields: type, xid, server DUID (hex), preference, status, the
    IA_NA's addresses and the IA_PD's prefixes with lifetimes, T1/T2. None for anything else."""
    from scapy.layers import dhcp6 as d  # type: ignore[import-untyped]
    if len(data) < 4 or data[0] not in (2, 7):
        return None
    pkt = (d.DHCP6_Advertise if data[0] == 2 else d.DHCP6_Reply)(data)
    server = _server_id_bytes(pkt)
    out: dict = {"msg": MSG[data[0]], "xid": int.from_bytes(data[1:4], "big"),
                 "server": server.hex() if server else None, "addresses": [], "prefixes": [],
                 "status": SUCCESS, "ia_status": [], "t1": 0, "t2": 0, "preferred": 0, "valid": 0}
    pref = pkt.getlayer(d.DHCP6OptPref)
    out["preference"] = int(pref.prefval) if pref is not None else 0
    top = pkt.getlayer(d.DHCP6OptStatusCode)
    ia_na, ia_pd = pkt.getlayer(d.DHCP6OptIA_NA), pkt.getlayer(d.DHCP6OptIA_PD)
    if top is not None and (ia_na is None or top not in list(ia_na.ianaopts)):
        out["status"] = int(top.statuscode)
    lifetimes: list[tuple[int, int]] = []
    for ia, opts, kind in ((ia_na, "ianaopts", "addresses"), (ia_pd, "iapdopt", "prefixes")):
        if ia is None:
            continue
        if ia.T1 or ia.T2:
            out["t1"], out["t2"] = int(ia.T1), int(ia.T2)
        for o in getattr(ia, opts):
            if isinstance(o, d.DHCP6OptStatusCode):
                out["ia_status"].append(int(o.statuscode))
            elif isinstance(o, d.DHCP6OptIAAddress) and o.validlft:
                out["addresses"].append(str(o.addr))
                lifetimes.append((int(o.preflft), int(o.validlft)))
            elif isinstance(o, d.DHCP6OptIAPrefix) and o.validlft:
                out["prefixes"].append(f"{o.prefix}/{o.plen}")
                lifetimes.append((int(o.preflft), int(o.validlft)))
    if lifetimes:
        out["preferred"] = min(p for p, _ in lifetimes)
        out["valid"] = min(v for _, v in lifetimes)
    return out


class Agent:
    """The clients, one socket, one timer heap; ``emit`` writes the evidence."""

    def __init__(self, plan: dict, sock: socket.socket | None = None, out=None) -> None:
        """``sock`` and ``out`` stand in for the client socket and the evidence file in tests."""
        self.plan = plan
        self.rng = random.Random(plan.get("seed", 0))
        self.pd = bool(plan.get("pd", True))
        self.out = out if out is not None else open(EVENTS_PATH, "a", buffering=1)
        if sock is None:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.ifindex = socket.if_nametoindex(plan.get("interface", "eth0"))
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex)
            sock.bind(("::", CLIENT_PORT))
        else:
            self.ifindex = 0
        self.sock = sock
        seed = plan.get("seed", 0)
        self.clients: dict[str, dict] = {}
        for kind, count, code in (("steady", plan.get("steady", 5), 0x10), ("probe", plan.get("probes", 4), 0x20)):
            for i in range(count):
                mac = client_mac(seed, code, i)
                name = f"{kind}-{i}"
                self.clients[name] = {"name": name, "kind": kind, "duid": duid_ll(mac), "state": "idle",
                                      "gen": 0, "lease": None}
        self.by_xid: dict[int, str] = {}
        self.heap: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.steady_said = False
        self.stopping = False

    # -- evidence --------------------------------------------------------------------------
    def emit(self, kind: str, **data) -> None:
        line = json.dumps({"t": round(time.time(), 6), "kind": kind, **data}, sort_keys=True)
        self.out.write(line + "\n")
        if kind in CONTROL:
            print(line, flush=True)

    # -- timers ----------------------------------------------------------------------------
    def at(self, when: float, name: str) -> None:
        c = self.clients[name]
        c["gen"] += 1
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, name, c["gen"]))

    # -- exchanges -------------------------------------------------------------------------
    def begin(self, name: str, msg: str, backoff: vt.Backoff, deadline: float | None = None,
              server: bytes | None = None) -> None:
        """Start an exchange: a new transaction id, Elapsed Time from now, the first RT."""
        c = self.clients[name]
        if c.get("xid") is not None:
            self.by_xid.pop(c["xid"], None)
        xid = self.rng.getrandbits(24)
        while xid in self.by_xid:
            xid = self.rng.getrandbits(24)
        self.by_xid[xid] = name
        now = time.time()
        c.update(state=msg, xid=xid, began=now, rt=None, sent=0, backoff=backoff, deadline=deadline,
                 server=server, advertises=[])
        self.transmit(name)

    def transmit(self, name: str) -> None:
        c = self.clients[name]
        now = time.time()
        if c["sent"] and c["backoff"].mrc and c["sent"] >= c["backoff"].mrc:
            return self.give_up(name, "max retransmissions")
        if c["deadline"] is not None and c["sent"] and now >= c["deadline"]:
            return self.give_up(name, "max duration")
        lease = c["lease"] or {}
        offer = c.get("offer") or {}
        addresses = lease.get("addresses") or offer.get("addresses") or []
        prefixes = lease.get("prefixes") or offer.get("prefixes") or []
        if c["state"] == "SOLICIT":
            addresses, prefixes = [], []
        elapsed = vt.elapsed_hundredths(c["began"], now)
        data = build(c["state"], c["xid"], c["duid"], elapsed, self.pd, c["server"], addresses, prefixes)
        try:
            self.sock.sendto(data, (ALL_SERVERS, SERVER_PORT, 0, self.ifindex))
            sent_ok = True
        except OSError as exc:
            sent_ok = False
            self.emit("v6-send-error", client=name, msg=c["state"], error=str(exc))
        if sent_ok:
            self.emit("v6-send", client=name, msg=c["state"], xid=c["xid"], elapsed=elapsed, **{"try": c["sent"] + 1},
                        server=c["server"].hex() if c["server"] else None, addresses=addresses, prefixes=prefixes)
        c["sent"] += 1
        first_solicit = c["state"] == "SOLICIT" and c["rt"] is None
        c["rt"] = vt.next_rt(c["rt"], c["backoff"], vt.jitter(self.rng, first_solicit))
        due = now + c["rt"]
        if c["deadline"] is not None:
            due = min(due, c["deadline"])
        self.at(due, name)

    def give_up(self, name: str, why: str) -> None:
        c = self.clients[name]
        state = c["state"]
        if state == "RENEW":  # T2 reached: Rebind to any server until the valid lifetimes end
            self.begin(name, "REBIND", vt.REBIND, deadline=c["lease"]["expires"])
        elif state == "REBIND":
            self.lose(name, "expired")
            self.begin(name, "SOLICIT", vt.SOLICIT)
        else:  # a Request unanswered: start over
            self.emit("v6-gave-up", client=name, msg=state, why=why)
            self.begin(name, "SOLICIT", vt.SOLICIT)

    def lose(self, name: str, why: str) -> None:
        c = self.clients[name]
        if c["lease"]:
            self.emit("v6-lost", client=name, why=why, addresses=c["lease"]["addresses"],
                        prefixes=c["lease"]["prefixes"], server=c["lease"]["server"])
        c["lease"] = None

    def timer(self, name: str) -> None:
        c = self.clients[name]
        state = c["state"]
        if state == "SOLICIT" and c["advertises"]:
            return self.request(name)
        if state == "BOUND":  # T1
            return self.begin(name, "RENEW", vt.RENEW, deadline=c["lease"]["rebind_at"],
                              server=bytes.fromhex(c["lease"]["server"]))
        if state == "HOLD":  # a probe lets its lease go and starts over after a gap
            lease = c["lease"]
            self.begin(name, "RELEASE", vt.RELEASE, server=bytes.fromhex(lease["server"]))
            self.lose(name, "released")
            c["state"] = "GAP"
            return self.at(time.time() + self.plan.get("probe_gap", 1.0), name)
        if state in ("GAP", "idle"):
            return self.begin(name, "SOLICIT", vt.SOLICIT)
        if state == "RELEASE":
            return
        self.transmit(name)

    def request(self, name: str) -> None:
        c = self.clients[name]
        chosen = vt.choose_advertise(c["advertises"])
        c["offer"] = chosen
        self.begin(name, "REQUEST", vt.REQUEST, server=bytes.fromhex(chosen["server"]))

    def receive(self, data: bytes, stamp: float, source: str) -> None:
        try:
            reply = parse(data)
        except Exception as exc:  # a malformed reply is evidence, never a crash
            self.emit("v6-unparsed", error=str(exc)[:200], sender=source)
            return
        if reply is None:
            return
        name = self.by_xid.get(reply["xid"])
        if name is None:
            return
        c = self.clients[name]
        self.emit("v6-recv", client=name, msg=reply["msg"], xid=reply["xid"], server=reply["server"],
                    status=reply["status"], ia_status=reply["ia_status"], addresses=reply["addresses"],
                    prefixes=reply["prefixes"], sender=source, answers=c["state"])
        state = c["state"]
        if state == "SOLICIT" and reply["msg"] == "ADVERTISE":
            if reply["status"] == SUCCESS and (reply["addresses"] or reply["prefixes"]):
                c["advertises"].append(reply)
                if c["sent"] > 1 or c["advertises"][0].get("preference") == 255:
                    self.request(name)  # past the first RT the first Advertise is taken at once
            return
        if reply["msg"] != "REPLY" or state not in ("REQUEST", "RENEW", "REBIND", "RELEASE"):
            return
        if state == "RELEASE":
            self.by_xid.pop(reply["xid"], None)
            return
        if reply["status"] != SUCCESS or not reply["addresses"] or \
                (self.pd and not reply["prefixes"]) or NO_BINDING in reply["ia_status"]:
            self.emit("v6-refused", client=name, msg=state, status=reply["status"], ia_status=reply["ia_status"])
            if state == "REQUEST":
                return self.begin(name, "SOLICIT", vt.SOLICIT)
            return  # Renew/Rebind: keep trying until T2 / expiry, as the exchange's timers say
        self.bind(name, reply, stamp, via=state)

    def bind(self, name: str, reply: dict, stamp: float, via: str) -> None:
        c = self.clients[name]
        before = c["lease"]
        if before and (set(before["addresses"]) - set(reply["addresses"]) or set(before["prefixes"]) - set(reply["prefixes"])):
            self.lose(name, "changed")
        renew, rebind = vt.renew_times(reply["t1"], reply["t2"], reply["preferred"])
        c["lease"] = {"addresses": reply["addresses"], "prefixes": reply["prefixes"], "server": reply["server"],
                      "rebind_at": stamp + rebind, "expires": stamp + reply["valid"]}
        self.by_xid.pop(c["xid"], None)
        c["xid"] = None
        self.emit("v6-bound", client=name, via=via, addresses=reply["addresses"], prefixes=reply["prefixes"],
                    server=reply["server"], t1=renew, t2=rebind, valid=reply["valid"], elapsed=round(stamp - c["began"], 3))
        if c["kind"] == "probe":
            c["state"] = "HOLD"
            self.at(stamp + self.plan.get("probe_hold", 2.0), name)
        else:
            c["state"] = "BOUND"
            self.at(stamp + renew, name)
        if not self.steady_said and all(x["lease"] for x in self.clients.values() if x["kind"] == "steady"):
            self.steady_said = True
            self.emit("steady", leases=sum(1 for x in self.clients.values() if x["kind"] == "steady"),
                        probes=sum(1 for x in self.clients.values() if x["kind"] == "probe"))

    # -- main loop -------------------------------------------------------------------------
    def run(self) -> None:
        self.emit("agent-start", clients=len(self.clients), iface=self.plan.get("interface", "eth0"))
        start = time.time()
        for i, name in enumerate(self.clients):  # spread the first Solicits over the first second
            self.clients[name]["state"] = "idle"
            self.at(start + self.rng.uniform(0, 1.0), name)
        stop_at = start + self.plan.get("max_seconds", 600)
        while not self.stopping and time.time() < stop_at:
            now = time.time()
            if not self.steady_said and now > start + self.plan.get("steady_timeout", 30):
                self.steady_said = True
                unbound = [n for n, c in self.clients.items() if c["kind"] == "steady" and not c["lease"]]
                self.emit("steady-failed", unbound_count=len(unbound), unbound=unbound)
            while self.heap and self.heap[0][0] <= now:
                _, _, name, gen = heapq.heappop(self.heap)
                if gen == self.clients[name]["gen"]:
                    self.timer(name)
            wait = max(0.0, min(0.2, (self.heap[0][0] - time.time()) if self.heap else 0.2))
            try:
                ready, _, _ = select.select([self.sock], [], [], wait)
            except InterruptedError:
                continue
            while ready:
                try:
                    data, addr = self.sock.recvfrom(4096, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                self.receive(data, time.time(), addr[0])
        for name, c in self.clients.items():
            if c["lease"]:
                self.emit("v6-held", client=name, addresses=c["lease"]["addresses"],
                            prefixes=c["lease"]["prefixes"], server=c["lease"]["server"])
        self.emit("agent-stop", reason="stopped" if self.stopping else "max_seconds", clients=len(self.clients))
        self.out.close()


def main() -> None:
    agent = Agent(json.loads(sys.argv[1]))

    def stop(*_):
        agent.stopping = True
    signal.signal(signal.SIGTERM, stop)
    agent.run()


if __name__ == "__main__":
    main()
