"""Gray peer-link faults: the link between the servers is bad, not cut.

A lossy link drops a share of the peer packets each way at random; a flapping link is cut and
healed every few seconds, each cut shorter than the pair's ``max-response-delay``, so neither
server should ever see its partner down. Both are rules in each server's own namespace on the
partner's address (``faults.PeerLinkRule``: clients are untouched), and both prove they bit from
what they read back: the rules' packet counters, the kernel's TCP retransmission counter, and
for every cut and heal of a flap, whether a probe reached the partner.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .expectations import ROLES
from .faults import FaultContext, PeerLinkRule, _partner, counters, reach, rule_packets  # noqa: F401 (rule_packets: re-exported)
from .timers import KEA_DEFAULTS
from .waiting import NotReady, until

# A port nothing listens on: a probe there is refused (the link carries both ways) or times out
# (it does not), and no daemon sees a connection from its partner's address that is not its peer.
UNUSED_PORT = 9


def _comment(tag: str) -> list[str]:
    return ["-m", "comment", "--comment", tag]


def tcp_retransmissions(snmp: str) -> int | None:
    """``RetransSegs`` from a namespace's ``/proc/net/snmp`` (None: not found)."""
    rows = [line.split() for line in snmp.splitlines() if line.startswith("Tcp:")]
    if len(rows) < 2 or "RetransSegs" not in rows[0]:
        return None
    return int(rows[1][rows[0].index("RetransSegs")])


def retransmissions(ctx: FaultContext, role: str) -> int | None:
    """TCP segments the kernel of ``role``'s namespace has retransmitted: the peer link is the
    only TCP a server's namespace carries in the lab (besides the harness's own probes)."""
    code, out = ctx.container(role).exec_run(["cat", "/proc/net/snmp"])
    return tcp_retransmissions(out.decode(errors="replace")) if code == 0 else None


def carries(ctx: FaultContext, src: str, dst: str, timeout: float) -> tuple[bool | None, str]:
    """Whether a TCP SYN from ``src`` reaches ``dst`` and its answer comes back, on a port nobody
    listens on: refused = it does (True), timed out = it does not (False), else unknown (None)."""
    ok, what = reach(ctx, src, dst, timeout, port=UNUSED_PORT)
    if ok or "ConnectionRefused" in what:
        return True, what
    return (False if "timed out" in what else None), what


def both_ways(ctx: FaultContext, timeout: float) -> list[tuple[bool | None, str]]:
    """``carries`` from each server to the other, at once."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda role: carries(ctx, role, _partner(role), timeout), ROLES))


def flap_cut_s(cut_s: float, response_delay_s: float) -> float:
    """How long each cut of a flap lasts: ``cut_s``, or half the pair's ``max-response-delay``
    when that is not longer than ``cut_s`` (a cut as long as it would be an outage, not a flap)."""
    return cut_s if cut_s < response_delay_s else response_delay_s / 2


def response_delay_s(ctx: FaultContext) -> float:
    """The pair's ``max-response-delay`` in seconds (Kea states it in ms, dhcpd in s)."""
    if ctx.pair.server == "kea":
        return float(ctx.plan.ha_timers.get("max-response-delay", KEA_DEFAULTS["max-response-delay"])) / 1000
    return float(ctx.plan.ha_timers["max-response-delay"])


@dataclass(frozen=True)
class LossyPeerLink(PeerLinkRule):
    """``percent`` % of the packets each server sends its partner dropped at random (iptables
    ``statistic``: no netem on this kernel), clients untouched. A counting rule after the drop
    (appended: the lab's chains hold no other rule) counts what passed, so the proof says how
    many of how many were lost each way, and the namespaces' TCP retransmission counters say the
    peer connection felt it. The whole-window figures are recorded as ``peer-link-loss`` just before the heal removes the rules."""

    percent: int = 20
    name: str = "lossy-peer-link"
    evidence_wait_s: float = 15.0

    def __post_init__(self) -> None:
        if not 0 < self.percent < 100:
            raise ValueError(f"{self.name}: percent = {self.percent}: a loss must lie between 1 and 99 % "
                             "(0 is no fault, 100 is a partition: use PartitionPeers)")

    @property
    def tag(self) -> str:
        return f"dhcpdrill-{self.name}"

    @property
    def match(self) -> list[str]:
        return ["-m", "statistic", "--mode", "random", "--probability", f"{self.percent / 100:g}",
                *_comment(self.tag), "-j", "DROP"]

    def _count_rules(self, ctx: FaultContext) -> list[tuple[str, list[str]]]:
        return [(role, [*rule[:3], *_comment(f"{self.tag}-passed")]) for role, rule in self._rules(ctx)]

    def _baseline(self, ctx: FaultContext) -> dict[str, int | None]:
        return {role: retransmissions(ctx, role) for role in ROLES}

    def apply(self, ctx: FaultContext) -> None:
        ctx.record("harness", "peer-link-retransmissions", when="before", **self._baseline(ctx))
        for role, rule in self._count_rules(ctx):  # below the drop: it sees what the drop let through
            self._iptables(ctx, role, "-A", rule)
        self._insert(ctx)

    def _loss(self, ctx: FaultContext) -> dict[str, dict[str, int | None]]:
        """Per sending role: packets sent to the partner, dropped, TCP retransmissions so far."""
        out = {}
        for role, _ in self._rules(ctx):
            dropped, passed = counters(ctx, role, self.tag), counters(ctx, role, f"{self.tag}-passed")
            out[role] = {"sent": None if dropped is None or passed is None else dropped + passed, "dropped": dropped,
                         "retransmitted": retransmissions(ctx, role)}
        return out

    @staticmethod
    def _say(loss: dict[str, dict[str, int | None]], before: dict[str, int | None]) -> str:
        def retrans(role: str, now: int | None) -> str:
            was = before.get(role)
            return "?" if now is None or was is None else str(now - was)
        return "; ".join(f"{role} -> {_partner(role)}: {f['dropped']} of {f['sent']} packets dropped, "
                         f"{retrans(role, f['retransmitted'])} TCP segment(s) retransmitted by {role}"
                         for role, f in loss.items())

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Wait (bounded) until each direction has lost a packet: the peers talk every heartbeat."""
        before = self._baseline_recorded(ctx)
        def bit(loss: dict) -> bool:
            return all((f["dropped"] or 0) > 0 for f in loss.values())

        try:
            loss = until(lambda: self._loss(ctx), done=bit, timeout=self.evidence_wait_s, every=0.5,
                         what="a packet lost each way")
        except NotReady as exc:
            loss = exc.last
        return bit(loss), f"{self.percent} % random loss: " + self._say(loss, before)

    def _baseline_recorded(self, ctx: FaultContext) -> dict[str, int | None]:
        if ctx.timeline is not None:
            got = [e for e in ctx.timeline.of("peer-link-retransmissions") if e.get("when") == "before"]
            if got:
                return {role: got[-1].get(role) for role in ROLES}
        return {role: None for role in ROLES}

    def heal(self, ctx: FaultContext) -> None:
        try:
            loss = self._loss(ctx)
            ctx.record("harness", "peer-link-loss", fault=self.name, percent=self.percent, **loss)
        finally:
            self._remove(ctx)
            for role, rule in self._count_rules(ctx):
                if ctx.container(role).attrs.get("State", {}).get("Running"):
                    self._iptables(ctx, role, "-D", rule)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        left = [role for role in ROLES if counters(ctx, role, self.tag) is not None
                or counters(ctx, role, f"{self.tag}-passed") is not None]
        checks = both_ways(ctx, 2.0)
        ok = not left and all(c is True for c, _ in checks)
        return ok, (f"rules left in {', '.join(left)}; " if left else "rules removed; ") + \
            "; ".join(what for _, what in checks)


@dataclass(frozen=True)
class FlappingPeerLink(PeerLinkRule):
    """The peer link cut (silently, both ways) for ``cut_s`` and restored for ``up_s``, over and
    over from the fault until its heal: each cut shorter than the pair's ``max-response-delay``
    (``flap_cut_s``), so by its own rules neither server should see its partner down. Every cut and every restore
    is put on the timeline when made (``peer-link-flap``) and its proof once read
    (``fault-step``): a cut bit when a probe each way timed out and each rule dropped packets, a
    restore when a probe each way was answered. The first cut is the fault's own proof."""

    cut_s: float = 2.0
    up_s: float = 2.0
    probe_s: float = 0.5
    name: str = "flapping-peer-link"

    @property
    def tag(self) -> str:
        return f"dhcpdrill-{self.name}"

    @property
    def match(self) -> list[str]:
        return [*_comment(self.tag), "-j", "DROP"]

    def apply(self, ctx: FaultContext) -> None:
        stop, first = threading.Event(), threading.Event()
        proofs: list[tuple[bool, str]] = []
        cut_s = flap_cut_s(self.cut_s, response_delay_s(ctx))
        worker = threading.Thread(target=self._flap, args=(ctx, cut_s, stop, first, proofs), name="peer-link-flap",
                                  daemon=True)
        ctx.state[self.name] = dict(stop=stop, first=first, proofs=proofs, worker=worker, cut_s=cut_s)
        worker.start()

    def _step(self, ctx: FaultContext, n: int, phase: str, ok: bool, evidence: str, proofs: list) -> None:
        ctx.record("harness", "fault-step", fault=self.name, target=self.target, step=f"{phase} {n}", ok=ok,
                   evidence=evidence)
        proofs.append((ok, f"{phase} {n}: {evidence}"))

    def _flap(self, ctx: FaultContext, cut_s: float, stop: threading.Event, first: threading.Event,
              proofs: list) -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                began = time.time()
                self._insert(ctx)
                ctx.record("harness", "peer-link-flap", n=n, phase="cut", cut_s=cut_s)
                checks = both_ways(ctx, self.probe_s)
                stop.wait(max(0.0, began + cut_s - time.time()))
                dropped = {role: counters(ctx, role, self.tag) for role, _ in self._rules(ctx)}
                self._remove(ctx)
                restored = time.time()
                ctx.record("harness", "peer-link-flap", n=n, phase="restore", held_s=round(restored - began, 3))
                ok = all(c is False for c, _ in checks) and all((d or 0) > 0 for d in dropped.values())
                self._step(ctx, n, "cut", ok, f"held {restored - began:.2f} s; " + "; ".join(w for _, w in checks)
                           + "; dropped " + ", ".join(f"{d} packet(s) {r} -> {_partner(r)}" for r, d in dropped.items())
                           + " (one of each the probe's SYN)", proofs)
                first.set()
                checks = both_ways(ctx, self.probe_s)
                self._step(ctx, n, "restore", all(c is True for c, _ in checks), "; ".join(w for _, w in checks), proofs)
                stop.wait(max(0.0, restored + self.up_s - time.time()))
        except Exception as exc:  # noqa: BLE001 - the flap's failure is evidence, recorded as a step not proven
            self._step(ctx, n, "flap", False, f"{type(exc).__name__}: {exc}", proofs)
        finally:
            first.set()

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """The first cut's proof (later cuts and restores are ``fault-step`` events)."""
        run = ctx.state.get(self.name, {})
        if "first" not in run:
            return False, "the flapping was never started"
        run["first"].wait(run["cut_s"] + 30.0)
        proofs = run["proofs"]
        if not proofs:
            return False, "the first cut was not proven within its time"
        ok, what = proofs[0]
        return ok, f"flapping {run['cut_s']:g} s cut / {self.up_s:g} s up (max-response-delay " \
                   f"{response_delay_s(ctx):g} s); first {what}"

    def heal(self, ctx: FaultContext) -> None:
        run = ctx.state.get(self.name, {})
        if run:
            run["stop"].set()
            run["worker"].join(self.cut_s + 30.0)
        self._remove(ctx)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        run = ctx.state.get(self.name, {})
        proofs = run.get("proofs", [])
        cuts = [ok for ok, what in proofs if what.startswith("cut ")]
        restores = [ok for ok, what in proofs if what.startswith("restore ")]
        left = [role for role in ROLES if counters(ctx, role, self.tag) is not None]
        checks = both_ways(ctx, 2.0)
        ok = not left and all(c is True for c, _ in checks) and not run.get("worker", threading.Thread()).is_alive()
        return ok, (f"{len(cuts)} cut(s) ({sum(cuts)} proven), {len(restores)} restore(s) ({sum(restores)} proven); "
                    + (f"rules left in {', '.join(left)}; " if left else "rules removed; ")
                    + "; ".join(what for _, what in checks))
