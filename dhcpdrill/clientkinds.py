"""Client kinds: how real DHCPv4 clients time their exchanges, as pure policy the client agent consults.

Every kind is written from its implementation's source or its vendor's documentation (cited per
class). What differs between them decides whether a client keeps its address through a failover:
when it renews (T1) and rebinds (T2), how it retransmits, whether ``secs`` rises (and how a server
reads it), how many renewal tries it makes before giving up, what it does on a NAK, whether it
falls back to a self-assigned address, and whether it asks for its old address after a restart
(INIT-REBOOT).

``rfc2131`` is the lab's own client (``agent.py``: the RFC 2131 state machine with the drill's
compressed retransmissions); it keeps the agent's original engine and is not played here. Every
other kind is played by the functions below on a client record (the agent's ``Client``, or
``Record`` in tests and ``simulate``): ``begin``, ``tick``, ``on_offer``, ``on_ack``, ``on_nak``,
``on_reboot`` change the record's timing fields and return the actions the agent carries out
(send a message with this ``secs``, lose the address, record a fallback). Nothing here reads a
clock, a socket or a global random source: the caller passes ``now`` and ``rnd``.

Lease times are the servers' own, so lease-relative rules (T1 at half the lease) scale with a
drill's short leases; absolute constants (udhcpc's 30 s rebind threshold, systemd-networkd's
60 s minimum between renewals, dhclient's 10 s reboot timeout) stay what the implementations
use, so against 60 s leases these clients behave as they would on a site with 60 s leases.

This file is copied beside ``agent.py`` into the client container: standard library only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

RFC2131 = "rfc2131"
INF = math.inf
HOLDING = ("BOUND", "RENEWING", "REBINDING")
SEEKING = ("SELECTING", "REQUESTING", "REBOOTING")

# What a client does when its timer (``next_tx``) comes due.
SEND, DISCOVER, RESTART, REBIND, BOUND, DROP, WAIT, RESUME = (
    "send", "discover", "restart", "rebind", "bound", "drop", "wait", "resume")
FELL_BACK = -1.0  # ``fallback_at`` once the client has fallen back in this stretch without a lease


class Kind:
    """One client implementation's timing policy. The defaults are RFC 2131's own (§4.1
    retransmission 4, 8, 16 … 64 s ± 1 s; §4.4.5 T1 = 0.5, T2 = 0.875 of the lease); each kind
    overrides what its implementation does differently."""

    name = ""
    source = ""
    summary = ""
    t2_timer = True  # a timer at T2 moves a renewing client to REBINDING at once (dhclient: at its next try)
    rebind_fresh_secs = False  # the rebind starts a new ``secs`` count instead of continuing the renewal's
    fallback_after: float | None = None  # seconds of seeking before a self-assigned address (no packets sent)
    fallback_name = ""
    reboot_timeout: float | None = None  # INIT-REBOOT after a restart, for this long; None: DISCOVER at once
    secs_from_start = False  # ``secs`` counts from the client's start, not from the exchange's
    request_restarts_clock = False  # the REQUEST after an OFFER times its give-up from itself
    restart_resets_start = False  # ... and that start is reset when it starts over (NAK, expiry)

    def lease_times(self, lease: float, t1: float | None, t2: float | None, rnd) -> tuple[float, float, float]:
        """(lease, T1, T2) in seconds after the ACK, from the ACK's lease time and options 58/59."""
        return lease, t1 or lease * 0.5, t2 or lease * 0.875

    def secs(self, c, msg: str, now: float) -> int:
        """The ``secs`` field as it goes on the wire (a 16-bit value in network byte order)."""
        began = c.started if self.secs_from_start else c.exchange_start
        return clamp16(now - began)

    def backoff(self, c, rnd) -> float:
        """RFC 2131 §4.1: 4 s, doubling to 64 s, each ± 1 s (``c.interval`` holds the base)."""
        c.interval = 4.0 if not c.interval else min(c.interval * 2, 64.0)
        return c.interval + rnd.uniform(-1.0, 1.0)

    def after_send(self, c, now: float, rnd) -> tuple[float, str, float]:
        """After the ``c.tries``-th transmission in ``c.state`` at ``now``: (when, what, then):
        send again, start over with DISCOVER (``secs`` afresh; ``restart``: still counting), go
        rebinding, back to BOUND renewing at ``then``, drop the address, wait for the next lease
        timer, or resume the remembered lease."""
        return now + self.backoff(c, rnd), SEND, 0.0

    def nak_accepted(self, c, server: str | None) -> bool:
        return True

    def nak_delay(self, naks: int) -> float:
        """Seconds from the ``naks``-th NAK in a row (0 = first) to the new DISCOVER."""
        return 0.0


def clamp16(seconds: float) -> int:
    return max(0, min(int(seconds), 0xFFFF))


class Dhclient(Kind):
    name = "dhclient"
    source = ("isc-dhcp-client 4.4 (isc-projects/dhcp client/dhclient.c: dhcpack() T1/T2, send_discover(), "
              "send_request(), dhcpnak(); client/clparse.c defaults initial_interval 3, backoff_cutoff 15, "
              "reboot_timeout 10, timeout 60, retry_interval 300)")
    summary = ("renews at a random moment from 0.75 × T1 to T1 + 1 s, unicast; retries every ~3–21 s (random "
               "backoff, cut off at 15); broadcasts only from its first try after T2; secs from the renewal's start; "
               "NAK from any server: DISCOVER at once; INIT-REBOOT for 10 s after a restart")
    t2_timer = False  # send_request(): "If the lease T2 time has elapsed ... broadcast" — decided per try
    reboot_timeout = 10.0
    request_restarts_clock = True  # state_selecting(): first_sending = cur_time before send_request()
    INITIAL, CUTOFF, TIMEOUT, RETRY = 3, 15, 60.0, 300

    def lease_times(self, lease, t1, t2, rnd):
        # dhcpack(): renewal = option 58 or expiry / 2 + 1, then "introduce some randomness":
        # (3 × renewal + 3) / 4 + (random() % renewal + 3) / 4; rebind = option 59 or 7/8 of expiry.
        renewal = int(t1) if t1 else int(lease) // 2 + 1
        renewal = (renewal * 3 + 3) // 4 + (rnd.randrange(max(1, renewal)) + 3) // 4
        rebind = int(t2) if t2 else int(lease) * 7 // 8
        if renewal > rebind:
            renewal = rebind * 3 // 4
        return lease, float(renewal), float(rebind)

    def secs(self, c, msg, now):
        # send_request(): in REQUESTING the DISCOVER's secs (client->secs); else cur_time - first_sending.
        if c.state == "REQUESTING":
            return c.discover_secs
        return clamp16(now - c.exchange_start)

    def backoff(self, c, rnd):
        # "Do the exponential backoff": interval += random % (2 × interval); past backoff_cutoff:
        # cutoff / 2 + random % cutoff.
        if not c.interval:
            c.interval = float(self.INITIAL)
        else:
            c.interval += rnd.randrange(2 * int(c.interval))
        if c.interval > self.CUTOFF:
            c.interval = float(self.CUTOFF // 2 + rnd.randrange(self.CUTOFF))
        return c.interval

    def after_send(self, c, now, rnd):
        wait = self.backoff(c, rnd)
        if c.state in HOLDING:  # "If the backoff would take us to the expiry time, just set the timeout to it"
            wait = min(wait, c.bound_at + c.lease - now + 1)
        at = now + wait
        if c.state == "SELECTING" and at - c.exchange_start > self.TIMEOUT:
            # send_discover(): past `timeout` (60 s) -> state_panic(): no recorded lease to fall back on
            # here, so it tries again after retry_interval ((300 + 1) / 2 + random % 300 s).
            return at + (self.RETRY + 1) // 2 + rnd.randrange(self.RETRY), DISCOVER, 0.0
        if c.state in ("REQUESTING", "REBOOTING") and at - c.exchange_start > self.reboot_timeout:
            return at, DISCOVER, 0.0  # "past the reboot timeout, go to INIT and see if we can DISCOVER"
        return at, SEND, 0.0


class Dhcpcd(Kind):
    name = "dhcpcd"
    source = ("dhcpcd 10 (NetworkConfiguration/dhcpcd src/dhcp.c: send_message() interval 4 s doubling to 64 s "
              "± 1 s, make_message() secs since the interface started, dhcp_startrenew()/dhcp_rebind(), NAK "
              "handling with nakoff; dhcpcd.conf(5): timeout 30 s before IPv4LL, reboot 5 s)")
    summary = ("renews at T1 unicast and rebinds at T2 broadcast, retransmitting 4, 8, 16 … 64 s ± 1 s; secs counts "
               "from the interface's start (so even a first renewal carries a large secs); NAK from any server: "
               "DISCOVER after 0, 1, 2 … 60 s; IPv4LL fallback after 30 s without a lease; INIT-REBOOT for 5 s")
    secs_from_start = True
    fallback_after, fallback_name = 30.0, "ipv4ll"
    reboot_timeout = 5.0

    def after_send(self, c, now, rnd):
        at = now + self.backoff(c, rnd)
        if c.state == "REBOOTING" and at > c.exchange_start + self.reboot_timeout:
            return c.exchange_start + self.reboot_timeout, DISCOVER, 0.0  # dhcp_reboot(): discover after `reboot`
        return at, SEND, 0.0

    def nak_delay(self, naks):
        return float(min(60, 0 if naks == 0 else 2 ** (naks - 1)))  # nakoff 0, 1, 2, 4 … NAKOFF_MAX 60


class Udhcpc(Kind):
    name = "udhcpc"
    source = ("busybox udhcpc 1.35 (busybox networking/udhcp/dhcpc.c udhcpc_main(): BOUND for lease_remaining / 2, "
              "one unicast renew per attempt, 'if (lease_remaining > 30) goto BOUND_for_half_lease', REBINDING "
              "'lease_remaining > 0 && packet_num < 3', discover_timeout 3 s, discover_retries 3, tryagain_timeout "
              "20 s, NAK checked against server_id then sleep(3); init_packet() secs from first_secs)")
    summary = ("ignores T1/T2 (options 58/59): renews at half the remaining lease, one unicast try per attempt "
               "(3 s), halving the wait until 30 s remain, then 3 broadcasts 3 s apart and drops the address 3 s after "
               "the last, lease left or not; secs restarts at each renewal try; ignores a NAK from another server")
    t2_timer = False
    TIMEOUT, RETRIES, TRYAGAIN, REBIND_BELOW = 3.0, 3, 20.0, 30.0

    def lease_times(self, lease, t1, t2, rnd):
        lease = max(lease, 30.0)  # "if (lease_remaining < 30) lease_remaining = 30"
        return lease, lease / 2, INF

    def after_send(self, c, now, rnd):
        at = now + self.TIMEOUT
        if c.state in ("SELECTING", "REQUESTING"):
            if c.tries < self.RETRIES:
                return at, SEND, 0.0
            return at + self.TRYAGAIN, RESTART, 0.0  # leasefail: wait tryagain_timeout, secs keep counting
        remaining = c.bound_at + c.lease - at
        if c.state == "RENEWING":
            if remaining > self.REBIND_BELOW:  # "Some lease time remains, try to renew later"
                return at, BOUND, at + remaining / 2
            return at, REBIND, 0.0
        if c.tries < self.RETRIES and remaining > 0:  # REBINDING
            return at, SEND, 0.0
        return at, DROP, 0.0  # "lease lost, entering init state"

    def nak_accepted(self, c, server):
        expected = c.offer_server if c.state == "REQUESTING" else c.server_id
        return server == expected  # "received DHCP NAK with wrong server ID, ignoring packet"

    def nak_delay(self, naks):
        return 3.0  # sleep(3): "avoid excessive network traffic"


class SystemdNetworkd(Kind):
    name = "systemd-networkd"
    source = ("systemd 247+ sd-dhcp-client (systemd/systemd src/libsystemd-network/sd-dhcp-client.c: "
              "client_compute_request_timeout() 4, 8 … 64 s ± 1 s, client_compute_reacquisition_timeout() "
              "max(half the time left, 60 s), client_message_init() secs since start_time and at least 1, "
              "RESTART_AFTER_NAK 1 s doubling to 30 min; MaxAttempts= infinite by default)")
    summary = ("renews at T1 and rebinds at T2 (± 1 s), but retries only after max(half the time left, 60 s): with "
               "leases under ~4 min one renewal and one rebind try in all; secs counts from the client's start (at "
               "least 1); NAK: DISCOVER after 1 s, doubling; a reboot loses the lease (kept under /run): DISCOVER")
    secs_from_start = True
    restart_resets_start = True

    def lease_times(self, lease, t1, t2, rnd):
        t1, t2 = t1 or lease / 2, t2 or lease * 7 / 8  # T1_DEFAULT, T2_DEFAULT, then RFC 2131 fuzz
        t1, t2 = t1 + rnd.uniform(-1.0, 1.0), t2 + rnd.uniform(-1.0, 1.0)
        return lease, max(0.0, min(t1, lease)), max(0.0, min(t2, lease))

    def secs(self, c, msg, now):
        return clamp16(now - c.started) or 1  # "must always be strictly positive to deal with broken servers"

    def after_send(self, c, now, rnd):
        if c.state == "RENEWING":
            return now + max((c.bound_at + c.t2 - now) / 2, 60.0), SEND, 0.0
        if c.state == "REBINDING":
            return now + max((c.bound_at + c.lease - now) / 2, 60.0), SEND, 0.0
        attempt = c.tries if c.state != "SELECTING" else max(1, c.tries - 1)  # INIT resets attempt after the 1st
        return now + 2 ** min(attempt + 1, 6) + rnd.uniform(-1.0, 1.0), SEND, 0.0

    def nak_delay(self, naks):
        return float(min(1800, 2 ** naks))  # RESTART_AFTER_NAK_MIN_USEC 1 s, doubling, at most 30 min


class Windows(Kind):
    name = "windows"
    source = ("Microsoft's documented client: KB 190552 (RFC 2131 backoff, the first request plus up to three "
              "retries), TechNet 'DHCP client behavior' and 'Renewing a lease' (T1 unicast, then T2 broadcast, NAK "
              "restarts at once), KB 931550 (APIPA after ~6 s since Vista), Windows IT Pro 47131 (after a restart "
              "INIT-REBOOT; unanswered: keeps the lease if the default gateway answers a ping); byte-swapped secs "
              "as Kea's HA code special-cases it (src/hooks/dhcp/high_availability/communication_state.cc: "
              "'some Windows clients may send swapped bytes in the secs field')")
    summary = ("renews at T1 unicast (4 tries), waits until T2, rebinds by broadcast (4 tries), DISCOVER at expiry; "
               "secs byte-swapped on the wire (1 s reads 256 s to a server that does not swap it back); APIPA after "
               "6 s without a lease; after a restart INIT-REBOOT and, unanswered, keeps its unexpired lease")
    rebind_fresh_secs = True  # not documented: taken, as TechNet describes it, as a new request at T2
    fallback_after, fallback_name = 6.0, "apipa"
    reboot_timeout = 30.0
    TRIES, APIPA_RETRY = 4, 300.0

    def secs(self, c, msg, now):
        v = clamp16(now - c.exchange_start)
        return ((v & 0xFF) << 8) | (v >> 8)  # little-endian in a big-endian field

    def after_send(self, c, now, rnd):
        if c.tries < self.TRIES:
            return now + self.backoff(c, rnd), SEND, 0.0
        if c.state == "SELECTING":
            return now + self.APIPA_RETRY, DISCOVER, 0.0  # APIPA checks for a server every 5 minutes
        if c.state == "REQUESTING":
            return now + self.backoff(c, rnd), DISCOVER, 0.0
        if c.state == "REBOOTING":
            return now + self.backoff(c, rnd), RESUME, 0.0
        return INF, WAIT, 0.0  # RENEWING waits for T2, REBINDING for the expiry


KINDS: dict[str, Kind] = {k.name: k for k in (Dhclient(), Dhcpcd(), Udhcpc(), SystemdNetworkd(), Windows())}
NAMES = (RFC2131, *KINDS)


def assign(count: int, mix: dict[str, float] | None) -> list[str]:
    """The kinds of ``count`` clients for a mix of shares (largest remainder, every stated kind at
    least one client when there are enough), interleaved so that each kind spreads evenly over the
    clients (a load-balancing pair hashes MACs: a block of one kind could land on one server)."""
    if not mix:
        return [RFC2131] * count
    kinds = [k for k in NAMES if mix.get(k, 0) > 0]
    total = sum(mix[k] for k in kinds)
    exact = {k: count * mix[k] / total for k in kinds}
    counts = {k: int(exact[k]) for k in kinds}
    for k in sorted(kinds, key=lambda k: (counts[k] - exact[k], NAMES.index(k)))[:count - sum(counts.values())]:
        counts[k] += 1
    for k in kinds:
        while counts[k] == 0 and count >= len(kinds):
            donor = max(kinds, key=lambda d: counts[d])
            counts[donor] -= 1
            counts[k] += 1
    out: list[str] = []
    placed = {k: 0 for k in kinds}
    for i in range(count):  # the kind furthest behind its share so far goes next
        k = max(kinds, key=lambda k: ((i + 1) * counts[k] / count - placed[k], -NAMES.index(k)))
        out.append(k)
        placed[k] += 1
    return out


# -- the state machine, played on a client record -------------------------------------------------
@dataclass
class Record:
    """The timing fields a kind's machine reads and writes (the agent's ``Client`` has the same)."""

    kind: str = "dhcpcd"
    state: str = "INIT"
    ip: str = ""
    server_id: str = ""
    offer_ip: str = ""
    offer_server: str = ""
    xid: int = 0
    exchange_start: float = 0.0
    started: float = 0.0
    next_tx: float = 0.0
    pending: str = SEND
    then_at: float = 0.0
    tries: int = 0
    interval: float = 0.0
    naks: int = 0
    bound_at: float = 0.0
    lease: float = 0.0
    t1: float = 0.0
    t2: float = 0.0
    fallback_at: float = INF
    discover_secs: int = 0


def begin(k: Kind, c, state: str, at: float, rnd, fresh: bool = True) -> None:
    """Start an exchange in ``state`` (its first transmission at ``at``): a new xid and backoff;
    ``fresh``: ``secs`` counts from here (and, for kinds counting from their start, a restart)."""
    c.state, c.xid, c.tries, c.interval = state, rnd.getrandbits(32), 0, 0.0
    c.next_tx, c.pending = at, SEND
    if fresh:
        c.exchange_start = at
    if state == "SELECTING":
        if not c.started or (fresh and k.restart_resets_start):
            c.started = at
        if k.fallback_after is not None and c.fallback_at == INF:
            c.fallback_at = at + k.fallback_after  # not re-armed after it fired (FELL_BACK) until bound


def due(k: Kind, c) -> float | None:
    """When the client next has something to do."""
    s = c.state
    if s in SEEKING:
        return min(c.next_tx, c.fallback_at if c.fallback_at >= 0 else INF)
    if s not in HOLDING:
        return None
    expiry = c.bound_at + c.lease
    if s == "BOUND":
        return min(c.bound_at + c.t1, c.bound_at + c.t2 if k.t2_timer else INF, expiry)
    if s == "RENEWING":
        return min(c.next_tx, c.bound_at + c.t2 if k.t2_timer else INF, expiry)
    return min(c.next_tx, expiry)


def tick(k: Kind, c, now: float, rnd) -> list[tuple]:
    """What the client does at ``now``: lease timers, a fallback, then its pending step. Actions:
    ("send", msg, secs, unicast), ("lose", why), ("fallback", name), ("resume", address)."""
    out: list[tuple] = []
    if c.state in HOLDING:
        if now >= c.bound_at + c.lease:
            out.append(("lose", "expired"))
            begin(k, c, "SELECTING", now, rnd)
        elif c.state == "BOUND":
            if k.t2_timer and now >= c.bound_at + c.t2:
                begin(k, c, "REBINDING", now, rnd)
            elif now >= c.bound_at + c.t1:
                begin(k, c, "RENEWING", now, rnd)
            else:
                return out
        elif c.state == "RENEWING" and k.t2_timer and now >= c.bound_at + c.t2:
            _rebind(k, c, now, rnd)
    if c.state in SEEKING and 0 <= c.fallback_at <= now:
        out.append(("fallback", k.fallback_name))
        c.fallback_at = FELL_BACK
    if now < c.next_tx:
        return out
    step = c.pending
    if step in (DISCOVER, RESTART):
        begin(k, c, "SELECTING", now, rnd, fresh=step == DISCOVER)
    elif step == REBIND:
        _rebind(k, c, now, rnd)
    elif step == BOUND:
        c.state, c.t1, c.next_tx, c.pending = "BOUND", c.then_at - c.bound_at, INF, SEND
        return out
    elif step == DROP:
        out.append(("lose", "gave-up"))
        begin(k, c, "SELECTING", now, rnd)
    elif step == WAIT:
        c.next_tx = INF
        return out
    elif step == RESUME:
        c.next_tx, c.pending = INF, SEND
        if now < c.bound_at + c.lease:
            c.state = "BOUND"
            out.append(("resume", c.offer_ip))
            return out
        begin(k, c, "SELECTING", now, rnd)
    if c.state == "RENEWING" and not k.t2_timer and now > c.bound_at + c.t2:
        c.state = "REBINDING"  # dhclient: broadcast from the first try after T2, secs keep counting
    msg = "DISCOVER" if c.state == "SELECTING" else "REQUEST"
    secs = k.secs(c, msg, now)
    if msg == "DISCOVER":
        c.discover_secs = secs
    out.append(("send", msg, secs, c.state == "RENEWING"))
    c.tries += 1
    c.next_tx, c.pending, c.then_at = k.after_send(c, now, rnd)
    return out


def _rebind(k: Kind, c, now: float, rnd) -> None:
    began = c.exchange_start
    begin(k, c, "REBINDING", now, rnd)
    if not k.rebind_fresh_secs:
        c.exchange_start = began  # secs keeps rising from the renewal's start


def on_offer(k: Kind, c, now: float, rnd) -> list[tuple]:
    """An OFFER for the current DISCOVER (the agent has noted ``offer_ip``/``offer_server``):
    REQUEST it now, ``secs`` still counting from the DISCOVER."""
    c.state, c.tries, c.interval, c.next_tx, c.pending = "REQUESTING", 0, 0.0, now, SEND
    if k.request_restarts_clock:
        c.exchange_start = now
    return tick(k, c, now, rnd)


def on_ack(k: Kind, c, lease: float, t1: float | None, t2: float | None, now: float, rnd) -> None:
    """Bound at ``now``: the kind's own T1/T2 for this lease."""
    c.lease, c.t1, c.t2 = k.lease_times(lease, t1, t2, rnd)
    c.bound_at, c.state, c.naks, c.next_tx, c.pending, c.fallback_at = now, "BOUND", 0, INF, SEND, INF


def on_nak(k: Kind, c, server: str | None, now: float, rnd) -> list[tuple] | None:
    """A NAK for the current exchange; None when the kind ignores it (udhcpc: not its server)."""
    if not k.nak_accepted(c, server):
        return None
    out = [("lose", "nak")] if c.ip else []
    delay = k.nak_delay(c.naks)
    c.naks += 1
    begin(k, c, "SELECTING", now + delay, rnd)
    return out


def on_reboot(k: Kind, c, now: float, at: float, rnd) -> list[tuple]:
    """The machine restarts at ``now`` and its client starts at ``at``: it loses its address while
    down, then asks for it again (INIT-REBOOT) if the kind remembers leases and it has not
    expired, else DISCOVERs."""
    remembered = c.ip if c.state in HOLDING and now < c.bound_at + c.lease else ""
    out = [("lose", "reboot")] if c.ip else []
    if k.reboot_timeout is not None and remembered:
        c.offer_ip = remembered
        begin(k, c, "REBOOTING", at, rnd)
    else:
        begin(k, c, "SELECTING", at, rnd)
    return out


def simulate(kind: str, lease: float, t1: float | None, t2: float | None, answers, until: float,
             rnd, start: float = 0.0) -> list[tuple]:
    """One client of ``kind`` played from an ACK at ``start``: every transmission until ``until``
    as (time, state, msg, secs, unicast), plus ("lose", why) and ("fallback", name) rows, against a
    server that ``answers(t, state, msg, unicast)`` with "ACK", "NAK" or None (silence)."""
    k = KINDS[kind]
    c = Record(kind=kind, started=start - 30.0, ip="198.18.0.100", server_id="198.18.0.11")
    on_ack(k, c, lease, t1, t2, start, rnd)
    rows: list[tuple] = []
    now = start
    while True:
        when = due(k, c)
        if when is None or when > until:
            return rows
        now = max(now, when)
        for action in tick(k, c, now, rnd):
            if action[0] == "send":
                _, msg, secs, unicast = action
                rows.append((round(now, 3), c.state, msg, secs, unicast))
                reply = answers(now, c.state, msg, unicast)
                if reply == "ACK" and msg == "REQUEST":
                    c.ip = c.offer_ip if c.state == "REBOOTING" else c.ip
                    on_ack(k, c, lease, t1, t2, now, rnd)
                elif reply == "NAK":
                    rows.extend(on_nak(k, c, c.server_id, now, rnd) or [])
                    c.ip = ""
            else:
                rows.append(action)
                if action[0] == "lose":
                    c.ip = ""
