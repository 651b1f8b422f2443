"""Faults: each is an apply, a check that it really bit, and a heal, kept together.

``inject`` records the fault on the timeline, records the evidence that it took effect (or that
it did not: a fault that silently did nothing would make every verdict meaningless), and always
heals on the way out, even when the drill fails or is interrupted, recording the heal's evidence
too. What a fault means lives here; how the lab applies it lives in ``lab`` and the server
adapters.
"""
from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from . import interrupts
from .expectations import ROLES
from .images import server_versions
from .problems import LabError
from .timers import HANGS, VANISHES
from .timeline import Timeline
from .tls import expired_copy
from .waiting import NotReady, until

if TYPE_CHECKING:
    from .lab import Lab
    from .manifest import Pair
    from .servers import LabPlan, ServerAdapter


@dataclass
class FaultContext:
    """What a fault may touch: the lab's containers and the pair's server adapter."""

    lab: "Lab"
    pair: "Pair"
    adapter: "ServerAdapter"
    plan: "LabPlan"
    timeline: Timeline | None = None
    image_for: "Callable[[str], str] | None" = None  # the lab image of a Debian suite, built if need be
    # What a fault keeps between its apply and its heal in this drill (a worker thread, its proofs),
    # per fault name: the fault objects themselves are shared by every drill of the catalogue.
    state: dict[str, dict] = field(default_factory=dict)

    def container(self, role: str):
        return self.lab.containers[role]

    def record(self, source: str, kind: str, **data) -> None:
        """Put evidence a fault gathered on the timeline (e.g. who owned which addresses)."""
        if self.timeline is not None:
            self.timeline.add(time.time(), source, kind, **data)


class Fault(ABC):
    name: str
    target: str
    # The target asserts nothing while the fault holds (killed, frozen, stopped): what its lease
    # file says for that time is stale belief, not a binding. ``restores``: healing brings it back.
    takes_down: bool = False
    restores: bool = True
    # How the partner's end of the peer link behaves while the fault holds (timers.VANISHES,
    # HANGS, REFUSES), for the takeover the config predicts; None: no takeover is predicted.
    link: str | None = None
    max_apply_s: float = 0.0  # how long applying it may take (a procedure, not a blow)

    @abstractmethod
    def apply(self, ctx: FaultContext) -> None: ...

    @abstractmethod
    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """(took effect, evidence), read from the lab after ``apply``, not from its exit code."""

    def heal(self, ctx: FaultContext) -> None:
        """Undo the fault; a no-op for faults that are meant to last (a killed server)."""

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        return True, "nothing to undo"


def _state(ctx: FaultContext, role: str) -> dict:
    c = ctx.container(role)
    c.reload()
    return c.attrs.get("State", {})


@dataclass(frozen=True)
class KillServer(Fault):
    """SIGKILL the server's container: the daemon and its network stack vanish at once, like a
    power loss. Peers see silence (no TCP reset), which is the hardest case for detection."""

    target: str = "primary"
    name: str = "kill"
    takes_down: bool = True
    restores: bool = False
    link: str | None = VANISHES

    def apply(self, ctx: FaultContext) -> None:
        ctx.container(self.target).kill(signal="SIGKILL")

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        state = _state(ctx, self.target)
        if state.get("Running"):
            return False, f"{self.target} is still running (pid {state.get('Pid')})"
        return True, f"{self.target} container is {state.get('Status')}, exit code {state.get('ExitCode')}"


@dataclass(frozen=True)
class RestartServer(KillServer):
    """Kill the server, then start it again on heal: the failback an operator performs after
    repairing it. Its lease file survives, as a server's disk would."""

    name: str = "kill-then-restart"
    restores: bool = True
    restart_wait_s: float = 30.0

    def heal(self, ctx: FaultContext) -> None:
        if not _state(ctx, self.target).get("Running"):
            ctx.container(self.target).start()

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        """The daemon answers its control channel again: a running container alone proves nothing."""
        state = _state(ctx, self.target)
        if not state.get("Running"):
            return False, f"{self.target} container {state.get('Status')}"
        answered = _await_daemon(ctx, self.target, self.restart_wait_s)
        return answered is not None, (f"{self.target} container up since {state.get('StartedAt')}; its daemon "
                                      + (f"answers ({answered})" if answered else
                                         f"did not answer within {self.restart_wait_s:g} s"))


def _await_daemon(ctx: FaultContext, role: str, wait_s: float) -> str | None:
    """The state the daemon reports once it answers its control channel, or None after ``wait_s``."""
    try:
        return until(lambda: ctx.adapter.ha_state(ctx.lab, ctx.pair, role), done=lambda s: s != "unreachable",
                     timeout=wait_s, every=0.5, what=f"{role}'s daemon to answer its control channel")
    except NotReady:
        return None


def hand_back(state: str, partner_state: str) -> str:
    """What a restarted server and its partner, by their HA states, need next in a maintenance
    window: ``resyncs`` (the partner saw the daemon stop and went partner-down: the new daemon
    syncs by itself), ``cancel`` (the partner still holds partner-in-maintenance and the new
    daemon has joined it in in-maintenance: ``ha-maintenance-cancel`` hands back) or ``wait``.
    A new daemon still ``waiting`` refuses the partner's cancel ("not in the in-maintenance
    state") and then goes in-maintenance itself, so a cancel sent then strands the pair."""
    if partner_state != "partner-in-maintenance":
        return "resyncs"
    return "cancel" if state == "in-maintenance" else "wait"


def _await_hand_back(ctx: FaultContext, role: str, partner: str, wait_s: float) -> tuple[str, str]:
    """The (server, partner) HA states once ``hand_back`` says anything but ``wait``."""
    def states() -> tuple[str, str]:
        return ctx.adapter.ha_state(ctx.lab, ctx.pair, role), ctx.adapter.ha_state(ctx.lab, ctx.pair, partner)

    try:
        return until(states, done=lambda s: hand_back(*s) != "wait", timeout=wait_s, every=0.2,
                     what=f"{role} and {partner} to resync or hand back")
    except NotReady as exc:
        state, partner_state = exc.last
        raise RuntimeError(f"after its restart {role} stayed {state} for {wait_s:g} s while {partner} held "
                           f"{partner_state}: neither a resync nor a hand-back could begin") from None


@dataclass(frozen=True)
class FreezeServer(Fault):
    """Freeze every process of the server (cgroup freezer, ``docker pause``) and thaw it on heal:
    a hung server whose TCP connections stay open, unlike a dead one."""

    target: str = "primary"
    name: str = "freeze"
    takes_down: bool = True
    link: str | None = HANGS  # its kernel still accepts the connection; nothing answers

    def apply(self, ctx: FaultContext) -> None:
        ctx.container(self.target).pause()

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        if not _state(ctx, self.target).get("Paused"):
            return False, f"{self.target} is not paused"
        state = ctx.adapter.ha_state(ctx.lab, ctx.pair, self.target)
        if state != "unreachable":
            return False, f"{self.target} still answers its control socket (state {state})"
        return True, f"{self.target} is paused and its control socket does not answer"

    def heal(self, ctx: FaultContext) -> None:
        if _state(ctx, self.target).get("Paused"):
            ctx.container(self.target).unpause()

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        paused = _state(ctx, self.target).get("Paused")
        return not paused, f"{self.target} is {'still paused' if paused else 'running again'}"


@dataclass(frozen=True)
class MaintenanceHandoff(Fault):
    """The planned way to take a server down for patching (Kea ``ha-maintenance-start``): the
    partner is told first and takes over, then the target's daemon is stopped cleanly (SIGTERM)
    while its host stays up, as an operator stopping the service would."""

    target: str = "primary"
    name: str = "maintenance-handoff"
    takes_down: bool = True
    restores: bool = False
    handed_to_states: tuple[str, ...] = ("partner-in-maintenance", "partner-down")

    def apply(self, ctx: FaultContext) -> None:
        answer = ctx.adapter.ask(ctx.lab, ctx.pair, _partner(self.target), "ha-maintenance-start")
        if answer.get("result") != 0:
            raise RuntimeError(f"ha-maintenance-start was refused: {answer.get('text')}")
        ctx.adapter.stop_daemon(ctx.lab, self.target)

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        running = ctx.adapter.daemon_running(ctx.lab, self.target)
        partner = ctx.adapter.ha_state(ctx.lab, ctx.pair, _partner(self.target))
        ok = not running and partner in self.handed_to_states
        return ok, (f"{self.target}'s daemon {'still runs' if running else 'has stopped'} (its host is up); "
                    f"{_partner(self.target)} is {partner}")


@dataclass(frozen=True)
class StopCtrlAgent(Fault):
    """Kill the server's kea-ctrl-agent alone, its kea-dhcp4 still serving: what a crashed agent
    does to a pair whose peers talk through it (its partner's requests are refused at once).
    Healed by starting the agent again."""

    target: str = "primary"
    name: str = "stop-ctrl-agent"

    def apply(self, ctx: FaultContext) -> None:
        ctx.adapter.agent(ctx.lab, self.target, "stop")

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        agent = ctx.adapter.agent(ctx.lab, self.target, "runs")
        daemon = ctx.adapter.daemon_running(ctx.lab, self.target)
        return not agent and daemon, (f"{self.target}'s kea-ctrl-agent {'still runs' if agent else 'is gone'}; "
                                      f"its kea-dhcp4 {'still serves' if daemon else 'has stopped too'}")

    def heal(self, ctx: FaultContext) -> None:
        ctx.adapter.agent(ctx.lab, self.target, "start")

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        runs = ctx.adapter.agent(ctx.lab, self.target, "runs")
        return runs, f"{self.target}'s kea-ctrl-agent {'runs again' if runs else 'did not start'}"


@dataclass(frozen=True)
class RollingUpgrade(Fault):
    """What a team does in a maintenance window, one server at a time (secondary first): the
    partner is told with ``ha-maintenance-start`` and takes over, the server's daemon stops, its
    host is reinstalled with the Debian suite ``to_suite`` (same config, same lease file), the new
    daemon starts and, once it answers, ``ha-maintenance-cancel`` hands back and the pair returns
    to its normal state. Clients lease the whole time. ``to_suite`` comes from the pair's
    ``[drills.rolling-upgrade]`` table; without it the pair's own suite is reinstalled, which makes
    the drill a maintenance-window rehearsal. Each step is recorded with its time (``upgrade-step``)."""

    order: tuple[str, ...] = ("secondary", "primary")
    step_wait_s: float = 90.0
    target: str = "secondary"
    name: str = "rolling-upgrade"
    takes_down: bool = True
    restores: bool = True

    @property
    def max_apply_s(self) -> float:  # type: ignore[override]
        return len(self.order) * 2 * self.step_wait_s

    def _image(self, ctx: FaultContext) -> tuple[str, str]:
        limits = ctx.pair.drills.get(self.name)
        suite = (limits.to_suite if limits else None) or ctx.pair.suite
        return suite, (ctx.image_for(suite) if ctx.image_for else ctx.lab.image)

    def apply(self, ctx: FaultContext) -> None:
        suite, image = self._image(ctx)
        for role in self.order:
            partner = _partner(role)
            began = time.time()
            answer = ctx.adapter.ask(ctx.lab, ctx.pair, partner, "ha-maintenance-start")
            if answer.get("result") != 0:
                raise RuntimeError(f"ha-maintenance-start on {partner} was refused: {answer.get('text')}")
            ctx.record("harness", "upgrade-step", role=role, step="handed-over", partner=partner,
                       partner_state=ctx.adapter.ha_state(ctx.lab, ctx.pair, partner))
            stopped, evidence = ctx.adapter.stop_daemon(ctx.lab, role)
            if not stopped:
                raise RuntimeError(f"{role}'s daemon did not stop: {evidence}")
            path = ctx.adapter.lease_path(ctx.pair, role)
            leases = ctx.lab.read_file(ctx.container(role), path)
            ctx.record("harness", "upgrade-step", role=role, step="stopped", lease_bytes=len(leases))
            ctx.lab.replace(role, image, {path: leases.encode()})
            ctx.record("harness", "upgrade-step", role=role, step="reinstalled", suite=suite, image=image,
                       versions=server_versions(ctx.lab.engine, image))
            answered = _await_daemon(ctx, role, self.step_wait_s)
            if answered is None:
                raise RuntimeError(f"{role}'s new daemon ({suite}) did not answer within {self.step_wait_s:g} s")
            states = _await_hand_back(ctx, role, partner, self.step_wait_s)
            if hand_back(*states) == "cancel":
                answer = ctx.adapter.ask(ctx.lab, ctx.pair, partner, "ha-maintenance-cancel")
                ctx.record("harness", "upgrade-step", role=role, step="maintenance-cancelled", answered=answered,
                           state=states[0], result=answer.get("result"), text=answer.get("text"))
                if answer.get("result") != 0:
                    raise RuntimeError(f"ha-maintenance-cancel on {partner} was refused: {answer.get('text')}")
            else:
                ctx.record("harness", "upgrade-step", role=role, step="started", answered=answered,
                           state=states[0], partner_state=states[1])
            states = ctx.adapter.wait_ready(ctx.lab, ctx.pair, self.step_wait_s)
            ctx.record("harness", "upgrade-step", role=role, step="normal-again", states=states,
                       took_s=round(time.time() - began, 2))

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Both servers now run the target suite's daemon and the pair is in its normal state."""
        suite, image = self._image(ctx)
        ran = {r: ctx.container(r).attrs["Config"]["Image"] for r in ROLES}
        states = {r: ctx.adapter.ha_state(ctx.lab, ctx.pair, r) for r in ROLES}
        ok = all(v == image for v in ran.values()) and set(states.values()) == {ctx.adapter.normal_state(ctx.pair)}
        return ok, (f"both servers reinstalled from {image} ({suite}: {server_versions(ctx.lab.engine, image)}); "
                    f"states {states}" if ok else f"servers run {ran}; states {states}")


@dataclass(frozen=True)
class DeclarePartnerDown(Fault):
    """The operator tells the target's partner that the target is down (ISC failover: OMAPI
    local-state := partner-down), as a runbook says to once the target is known dead. The
    partner's pool ownership at that moment is recorded: the partner may allocate the target's
    free addresses only MCLT later."""

    target: str = "primary"
    name: str = "declare-partner-down"
    restores: bool = False

    def apply(self, ctx: FaultContext) -> None:
        survivor = _partner(self.target)
        try:
            ctx.record(survivor, "pool-owners", **ctx.adapter.pool_owners(ctx.lab, ctx.pair, survivor))
        except NotImplementedError:  # one shared pool: partner-pool-after-mclt then says it has no record
            pass
        answer = ctx.adapter.ask(ctx.lab, ctx.pair, survivor, "partner-down")
        if answer.get("result") != 0:
            raise RuntimeError(f"partner-down was refused by {survivor}: {answer.get('text')}")

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        survivor = _partner(self.target)
        state = ctx.adapter.ha_state(ctx.lab, ctx.pair, survivor)
        return state == "partner-down", f"{survivor} reports {state} over its control channel"


PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()
except OSError as exc:
    print(type(exc).__name__, exc)
    sys.exit(1)
print("connected")
"""


def _partner(role: str) -> str:
    return "secondary" if role == "primary" else "primary"


def reach(ctx: FaultContext, src: str, dst: str, timeout: float = 2.0, port: int | None = None) -> tuple[bool, str]:
    """Can ``src`` open a TCP connection to ``dst``'s peer-link port (or ``port``)? (connected, what happened)"""
    addr, port = ctx.plan.addresses[dst], port or ctx.plan.peer_ports[dst]
    code, out = ctx.container(src).exec_run(["python3", "-c", PROBE, addr, str(port), str(timeout)])
    return code == 0, f"{src} -> {dst} {addr}:{port}: {out.decode(errors='replace').strip()}"


COUNTERS = re.compile(r"-c (\d+) (\d+)")


def rule_packets(listing: str, tag: str) -> int | None:
    """Packets the rule tagged ``tag`` has matched, from ``iptables -S <chain> -v`` (None: no such rule)."""
    for line in listing.splitlines():
        if re.search(rf"--comment {re.escape(tag)}(\s|$)", line) and (m := COUNTERS.search(line)):
            return int(m[1])
    return None


def counters(ctx: FaultContext, role: str, tag: str) -> int | None:
    """Packets the rule tagged ``tag`` in ``role``'s OUTPUT chain has matched (None: no such rule)."""
    _, out = ctx.container(role).exec_run(["iptables", "-w", "-S", "OUTPUT", "-v"])
    return rule_packets(out.decode(errors="replace"), tag)


@dataclass(frozen=True)
class PeerLinkRule(Fault):
    """A filter rule on the peer link, in each server's own namespace: what the target sends its
    partner (and, unless ``one_way``, what the partner sends back) meets ``match``. The peer link
    is ordinary TCP, so a rule in each server's OUTPUT chain acts on it while clients (who are
    never the partner's address) are untouched."""

    target: str = "primary"
    one_way: bool = False

    @property
    def match(self) -> list[str]:
        """The rule's matches and target after ``-d <partner>``."""
        return ["-j", "DROP"]

    def _rules(self, ctx: FaultContext) -> list[tuple[str, list[str]]]:
        other = _partner(self.target)
        rules = [(self.target, ["OUTPUT", "-d", ctx.plan.addresses[other], *self.match])]
        if not self.one_way:
            rules.append((other, ["OUTPUT", "-d", ctx.plan.addresses[self.target], *self.match]))
        return rules

    def _iptables(self, ctx: FaultContext, role: str, op: str, rule: list[str]) -> str:
        code, out = ctx.container(role).exec_run(["iptables", "-w", op, *rule])
        text = out.decode(errors="replace")
        if code != 0 and op != "-D":
            raise RuntimeError(f"iptables {op} in {role} failed: {text}")
        return text

    def _insert(self, ctx: FaultContext) -> None:
        for role, rule in self._rules(ctx):
            self._iptables(ctx, role, "-I", rule)

    def _remove(self, ctx: FaultContext) -> None:
        """Delete the rules from every server still running (a frozen one cannot be asked)."""
        for role, rule in self._rules(ctx):
            state = _state(ctx, role)
            if state.get("Running") and not state.get("Paused"):
                self._iptables(ctx, role, "-D", rule)

    def apply(self, ctx: FaultContext) -> None:
        self._insert(ctx)

    def heal(self, ctx: FaultContext) -> None:
        self._remove(ctx)


@dataclass(frozen=True)
class PartitionPeers(PeerLinkRule):
    """The servers cannot reach each other, silently (dropped, never reset), while clients still
    reach both. ``one_way`` drops only what the target sends to its partner."""

    name: str = "peer-partition"

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        checks = [reach(ctx, self.target, _partner(self.target))]
        if not self.one_way:
            checks.append(reach(ctx, _partner(self.target), self.target))
        silent = all(not ok and "timed out" in what for ok, what in checks)
        return silent, "; ".join(what for _, what in checks)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        checks = [reach(ctx, self.target, _partner(self.target)), reach(ctx, _partner(self.target), self.target)]
        return all(ok for ok, _ in checks), "; ".join(what for _, what in checks)


REFUSED_TAG = "dhcpdrill-peer-link-refused"


@dataclass(frozen=True)
class RefusePeers(PeerLinkRule):
    """The servers cannot reach each other and are told so at once: every TCP segment one sends
    its partner is answered with a reset (a firewall that rejects rather than drops), while
    clients still reach both. Kea's HA then sees each heartbeat and lease update fail at once,
    not after its fixed 10 s HTTP timeout, so no client's reply hangs on the partner: a
    load-balancing pair goes to communication-recovery, as Kea's manual says it does on a
    partition, and queues its lease updates (up to ``delayed-updates-limit``) for the heal.
    Proven by a connection refused each way and both rules' packet counters."""

    name: str = "peer-link-refused"

    @property
    def match(self) -> list[str]:
        return ["-p", "tcp", "-m", "comment", "--comment", REFUSED_TAG, "-j", "REJECT", "--reject-with", "tcp-reset"]

    def _rejected(self, ctx: FaultContext) -> dict[str, int | None]:
        return {role: counters(ctx, role, REFUSED_TAG) for role, _ in self._rules(ctx)}

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        checks = [reach(ctx, self.target, _partner(self.target))]
        if not self.one_way:
            checks.append(reach(ctx, _partner(self.target), self.target))
        rejected = self._rejected(ctx)
        refused = all(not ok and "ConnectionRefused" in what for ok, what in checks)
        ok = refused and all((n or 0) > 0 for n in rejected.values())
        return ok, "; ".join(what for _, what in checks) + "; reset " + ", ".join(
            f"{n if n is not None else 'no rule:'} segment(s) {role} -> {_partner(role)}" for role, n in rejected.items())

    def heal(self, ctx: FaultContext) -> None:
        try:
            ctx.record("harness", "peer-link-rejected", fault=self.name, **self._rejected(ctx))
        finally:
            self._remove(ctx)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        left = [role for role, n in self._rejected(ctx).items() if n is not None]
        checks = [reach(ctx, self.target, _partner(self.target)), reach(ctx, _partner(self.target), self.target)]
        ok = not left and all(c for c, _ in checks)
        return ok, (f"rules left in {', '.join(left)}; " if left else "rules removed; ") + \
            "; ".join(what for _, what in checks)


@dataclass(frozen=True)
class PartitionClients(Fault):
    """The target exchanges no DHCP with any client, yet still reaches its partner. Servers read
    clients through raw sockets that a firewall in their own namespace does not stop, so the cut
    is made on the lab bridge: UDP 67/68 to and from the target's port is dropped there."""

    target: str = "primary"
    name: str = "client-partition"
    evidence_wait_s: float = 8.0

    def apply(self, ctx: FaultContext) -> None:
        ctx.lab.cut_dhcp(self.target)

    def _table(self, ctx: FaultContext) -> str:
        return ctx.lab.cut_table

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Wait (bounded) for the filter to drop client traffic: clients retry every few seconds."""
        try:
            dropped = until(lambda: ctx.lab.cut_counters(self._table(ctx)), timeout=self.evidence_wait_s, every=0.5,
                            what=f"the bridge filter to drop {self.target}'s DHCP frames")
        except NotReady as exc:
            dropped = exc.last
        except LabError:
            return False, f"no bridge filter for {self.target} is in place"
        linked, what = reach(ctx, _partner(self.target), self.target)
        ok = dropped > 0 and linked
        return ok, f"bridge filter dropped {dropped} DHCP frame(s) of {self.target}; peer link: {what}"

    def heal(self, ctx: FaultContext) -> None:
        ctx.lab.heal_cut(self._table(ctx))

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        left = self._table(ctx) in ctx.lab.bridge_tables()
        return not left, f"bridge filter {'still present' if left else 'removed'}"


def round_trip_ms(samples: list[dict]) -> float | None:
    """The median round trip of the answered samples (None: none was answered)."""
    answered = sorted(float(s["ms"]) for s in samples if "error" not in s)
    return answered[len(answered) // 2] if answered else None


def slowed(before: list[dict], during: list[dict], factor: float, at_least_ms: float) -> tuple[bool, str]:
    """Whether status round trips measured ``during`` a fault are slower than ``before`` it by at
    least ``factor`` times and ``at_least_ms``, with every request still answered: a server that
    is slow, not gone. (slowed, the figures in words)."""
    a, b = round_trip_ms(before), round_trip_ms(during)
    lost = sum(1 for s in during if "error" in s)
    said = (f"median status round trip {'unknown' if a is None else f'{a:g} ms'} before, "
            f"{'unknown' if b is None else f'{b:g} ms'} during ({len(during) - lost} of {len(during)} answered"
            + (f"; {next(s['error'] for s in during if 'error' in s)}" if lost else "") + ")")
    ok = a is not None and b is not None and not lost and b >= a * factor and b - a >= at_least_ms
    return ok, said


def exchange_ms(events: list, since: float, until: float, server: str | None = None) -> list[float]:
    """How long each client exchange step answered between ``since`` and ``until`` took, in ms:
    from the first transmission of a DISCOVER or REQUEST to the first OFFER or ACK/NAK of the
    same exchange (client, xid), as the clients' own capture timed them; with ``server`` (its
    server identifier), only the steps that server answered (a load-balancing partner answers
    its own half at full speed)."""
    first: dict[tuple, float] = {}
    out = []
    answers = {"OFFER": "DISCOVER", "ACK": "REQUEST", "NAK": "REQUEST"}
    for e in sorted(events, key=lambda e: e.t):
        key = (e.get("mac"), e.get("xid"))
        if e.kind == "send" and e.get("msg") in ("DISCOVER", "REQUEST"):
            first.setdefault((*key, e.get("msg")), e.t)
        elif server is not None and e.kind == "recv" and e.get("server_id") != server:
            continue
        elif e.kind == "recv" and e.get("expected") and e.get("msg") in answers:
            asked = first.pop((*key, answers[e.get("msg")]), None)
            if asked is not None and since <= e.t <= until:
                out.append(round((e.t - asked) * 1000, 2))
    return out


def median_ms(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


NEIGHBOUR_PID = "/run/dhcpdrill-cpu-neighbour.pid"


@dataclass(frozen=True)
class ThrottleCpu(Fault):
    """Limit the target's container to ``cpus`` of one core (the CFS quota ``docker update
    --cpus`` sets; ``period_ms`` its accounting period): a server that is alive, answers its
    partner's heartbeats and clients, only slowly. Proven by the status request its partner
    sends (Kea: ha-heartbeat to its peer URL; dhcpd: OMAPI), timed from the partner's container
    before and after the limit and answered every time, and by the clients' own exchange times,
    at least ``factor`` times and ``at_least_ms`` slower than before; healed by lifting the limit,
    proven by the round trip again. A daemon the quota alone does not slow (dhcpd needs less than
    the smallest quota at a drill's load) shares it with a busy loop in its container, a runaway
    process beside it at nice 19, with ``neighbour_period_ms`` periods: the loop spends each period's
    quota while the daemon sleeps, so a query waits for the next period, and the daemon, weighted
    ~70 times the loop, then gets nearly all of it."""

    cpus: float = 0.05
    period_ms: int = 100
    target: str = "primary"
    name: str = "slow-primary"
    samples: int = 5
    factor: float = 3.0
    at_least_ms: float = 10.0
    before_s: float = 10.0
    min_wait_s: float = 5.0  # several of the quota's periods: a stalled daemon is seen, not a lucky moment
    exchange_wait_s: float = 15.0
    max_apply_s: float = 5.0  # the baseline's round trips are timed first
    # With a busy neighbour every step the daemon takes waits for the next period: OMAPI and the
    # failover handshake take several, and 1 s periods left dhcpd's OMAPI unanswered for 10 s and its
    # failover connection lost over and over (2 runs, 2026-12-07). 100 ms: 1 ms (the smallest quota) each.
    neighbour_period_ms: int = 100

    def _times(self, ctx: FaultContext, phase: str) -> list[dict]:
        samples = ctx.adapter.status_round_trips(ctx.lab, ctx.pair, self.target, _partner(self.target), self.samples)
        ctx.record("harness", "status-round-trips", sender=_partner(self.target), target=self.target, phase=phase, samples=samples,
                   median_ms=round_trip_ms(samples))
        return samples

    def _limit(self, ctx: FaultContext) -> tuple[int, int]:
        c = ctx.container(self.target)
        c.reload()
        host = c.attrs.get("HostConfig", {})
        return int(host.get("CpuQuota") or 0), int(host.get("CpuPeriod") or 0)

    def apply(self, ctx: FaultContext) -> None:
        self._times(ctx, "before")
        period = (self.period_ms if ctx.adapter.slowed_by_quota_alone else self.neighbour_period_ms) * 1000
        ctx.container(self.target).update(cpu_period=period, cpu_quota=max(1000, int(self.cpus * period)))
        if not ctx.adapter.slowed_by_quota_alone:
            code, out = ctx.container(self.target).exec_run(
                ["sh", "-c", f"nice -n 19 sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $! > {NEIGHBOUR_PID}; cat {NEIGHBOUR_PID}"])
            if code != 0:
                raise RuntimeError(f"the busy neighbour in {self.target} did not start: {out.decode(errors='replace')}")
            ctx.record("harness", "cpu-neighbour", target=self.target, pid=out.decode().strip(), running=True)

    def _neighbour(self, ctx: FaultContext) -> str | None:
        """The busy neighbour's pid if it runs in the target's container."""
        code, out = ctx.container(self.target).exec_run(["sh", "-c", f"kill -0 $(cat {NEIGHBOUR_PID}) && cat {NEIGHBOUR_PID}"])
        return out.decode().strip() if code == 0 else None

    def _exchanges(self, ctx: FaultContext, applied: float) -> tuple[list[float], list[float]]:
        """The clients' exchange times (ms) in ``before_s`` up to the limit and since it, waiting
        (bounded) until ``samples`` exchanges were answered under it."""
        from .clients import agent_events
        def exchanges() -> tuple[list[float], list[float]]:
            try:
                events = [e for e in agent_events(ctx.lab) if e.kind in ("send", "recv")]
            except (LabError, KeyError):
                events = []
            server = ctx.plan.ids[self.target]
            return (exchange_ms(events, applied - self.before_s, applied, server),
                    exchange_ms(events, applied, time.time(), server))

        try:
            return until(exchanges, done=lambda got: len(got[1]) >= self.samples and time.time() >= applied + self.min_wait_s,
                         timeout=self.exchange_wait_s, every=1.0, what=f"{self.samples} exchanges answered by the slowed {self.target}")
        except NotReady as exc:
            return exc.last

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Alive and slow: every status request its partner sends still answered (their round
        trips shown: a CFS quota stalls the daemon for the rest of each period once spent, so a
        request may land in the unspent part and come back fast), and the clients' own exchanges
        at least ``factor`` times and ``at_least_ms`` slower than just before the limit."""
        began = ctx.timeline.of("status-round-trips") if ctx.timeline else []
        before = next((e.get("samples") for e in reversed(began) if e.get("phase") == "before"), [])
        applied = next((e.t for e in reversed(began) if e.get("phase") == "before"), time.time())
        during = self._times(ctx, "during")
        _, said = slowed(before, during, self.factor, self.at_least_ms)
        ok = bool(during) and not any("error" in x for x in during)
        earlier, later = self._exchanges(ctx, applied)
        a, b = median_ms(earlier), median_ms(later)
        ctx.record("harness", "exchange-latency", target=self.target, before_ms=earlier, during_ms=later)
        clients_slowed = a is not None and b is not None and b >= a * self.factor and b - a >= self.at_least_ms
        quota, period = self._limit(ctx)
        neighbour = ""
        if not ctx.adapter.slowed_by_quota_alone:
            pid = self._neighbour(ctx)
            ok = ok and pid is not None
            neighbour = f", shared with a busy loop (pid {pid})" if pid else ", but its busy neighbour is not running"
        return ok and clients_slowed, (
            f"{self.target} limited to {quota / period if period else 0:g} CPU ({quota} us per {period} us){neighbour}; "
            f"{said}; clients' exchanges: median {'unknown' if a is None else f'{a:g} ms'} over {len(earlier)} in the "
            f"{self.before_s:g} s before, {'unknown' if b is None else f'{b:g} ms'} over {len(later)} since")

    def heal(self, ctx: FaultContext) -> None:
        state = _state(ctx, self.target)
        if not state.get("Running"):
            return
        if not ctx.adapter.slowed_by_quota_alone and not state.get("Paused"):
            ctx.container(self.target).exec_run(["sh", "-c", f"kill $(cat {NEIGHBOUR_PID}) && rm -f {NEIGHBOUR_PID}"])
            ctx.record("harness", "cpu-neighbour", target=self.target, running=self._neighbour(ctx) is not None)
        ctx.container(self.target).update(cpu_quota=-1)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        quota, _ = self._limit(ctx)
        before = next((e.get("samples") for e in reversed(ctx.timeline.of("status-round-trips"))
                       if e.get("phase") == "before"), []) if ctx.timeline else []
        after = self._times(ctx, "healed")
        a, b = round_trip_ms(before), round_trip_ms(after)
        back = quota <= 0 and a is not None and b is not None and b <= max(2 * a, a + self.at_least_ms)
        busy = not ctx.adapter.slowed_by_quota_alone and self._neighbour(ctx) is not None
        return back and not busy, (f"{self.target}'s CPU limit {'lifted' if quota <= 0 else f'still {quota} us'}"
                                   f"{'; its busy neighbour still runs' if busy else ''}; median status "
                      f"round trip {'unknown' if b is None else f'{b:g} ms'} (before the fault "
                      f"{'unknown' if a is None else f'{a:g} ms'})")

NARROW_TABLE = "dhcpdrill_narrow"


def policer_counts(listing: str) -> tuple[int, int]:
    """(packets, bytes) the policing rule dropped, from ``nft list table``'s counter."""
    m = re.search(r"limit rate over .*?counter packets (\d+) bytes (\d+)", listing)
    return (int(m[1]), int(m[2])) if m else (0, 0)


@dataclass(frozen=True)
class NarrowPeerLink(Fault):
    """Cap what each server sends its partner at ``rate_bytes`` per second (an nftables policer
    in each server's own namespace: traffic over the rate is dropped, as a congested or
    shaped WAN link would; TCP retransmits it). Clients still reach both servers at full speed.
    Proven by the policer's own counters (packets dropped) while both peers still connect."""

    rate_bytes: int = 1000
    burst_bytes: int = 1500
    target: str = "primary"
    name: str = "narrow-peer-link"
    evidence_wait_s: float = 10.0

    def _nft(self, ctx: FaultContext, role: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
        command = ["sh", "-c", 'printf "%s" "$1" | nft -f -', "nft", stdin] if stdin is not None else ["nft", *args]
        code, out = ctx.container(role).exec_run(command)
        return code, out.decode(errors="replace")

    def apply(self, ctx: FaultContext) -> None:
        for role in ROLES:
            partner = ctx.plan.addresses[_partner(role)]
            rules = (f"table inet {NARROW_TABLE} {{ chain out {{ type filter hook output priority 0; policy accept; "
                     f"ip daddr {partner} limit rate over {self.rate_bytes} bytes/second burst {self.burst_bytes} bytes "
                     "counter drop; }; }\n")
            code, out = self._nft(ctx, role, stdin=rules)
            if code != 0:
                raise RuntimeError(f"nft in {role} failed: {out.strip()}")

    def _dropped(self, ctx: FaultContext) -> dict[str, tuple[int, int] | None]:
        out = {}
        for role in ROLES:
            code, listing = self._nft(ctx, role, "list", "table", "inet", NARROW_TABLE)
            out[role] = policer_counts(listing) if code == 0 else None
        return out

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Wait (bounded) for the policer to drop something: heartbeats cross every heartbeat-delay."""
        try:
            dropped = until(lambda: self._dropped(ctx), done=lambda got: any(d and d[0] for d in got.values()),
                            timeout=self.evidence_wait_s, every=0.5, what="the policer to drop a packet")
        except NotReady as exc:
            dropped = exc.last
        ctx.record("harness", "policer-counters", dropped={r: list(d) if d else None for r, d in dropped.items()})
        linked, what = reach(ctx, _partner(self.target), self.target, timeout=10.0)
        ok = all(d is not None for d in dropped.values()) and any(d[0] for d in dropped.values() if d) and linked
        counts = "; ".join(f"{r} dropped {d[0]} packet(s), {d[1]} bytes over {self.rate_bytes} bytes/s to its partner"
                           if d else f"{r} has no policer" for r, d in dropped.items())
        return ok, f"{counts}; peer link: {what}"

    def heal(self, ctx: FaultContext) -> None:
        dropped = self._dropped(ctx)
        ctx.record("harness", "policer-counters", dropped={r: list(d) if d else None for r, d in dropped.items()},
                   at="heal")
        for role in ROLES:
            state = _state(ctx, role)
            if state.get("Running") and not state.get("Paused"):
                self._nft(ctx, role, "delete", "table", "inet", NARROW_TABLE)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        left = [r for r, d in self._dropped(ctx).items() if d is not None]
        return not left, f"policer {'still in ' + ', '.join(left) if left else 'removed from both servers'}"

RELAY_PORT = 18647
RELAY_STATS = "/tmp/dhcpdrill-delay-relay.json"  # the relay runs as nobody: /run is not its to write
RELAY_PID = "/run/dhcpdrill-delay-relay.pid"
RELAY_DELAY = "/tmp/dhcpdrill-delay-relay.delay"
RELAY_UID = 65534  # nobody: the relay's own connections to the partner are not redirected back to it
# A TCP relay that forwards every chunk, each way and in order, the seconds in RELAY_DELAY after it
# arrived (read per chunk: writing 0 there makes the link fast again without breaking the
# connections through it); it counts the connections and bytes it carried in RELAY_STATS, and each
# way the shortest and longest time a delayed chunk spent in it, and how many there were.
DELAY_RELAY = """
import asyncio, json, os, sys, time
target, port, listen, delay_path, stats_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
stats = {"connections": 0, "bytes_out": 0, "bytes_in": 0, "peers": [], "held_ms": {}}

def delay():
    try:
        with open(delay_path) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0

async def pump(reader, writer, key):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    async def later():
        while True:
            arrived, due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if data is None:
                break
            writer.write(data)
            await writer.drain()
            stats[key] += len(data)
            if due > arrived:
                held = round((loop.time() - arrived) * 1000, 1)
                low, high, n = stats["held_ms"].get(key, [held, held, 0])
                stats["held_ms"][key] = [min(low, held), max(high, held), n + 1]
        writer.close()
    sender = asyncio.ensure_future(later())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time(), loop.time() + delay(), data or None))
            if not data:
                break
    except OSError:
        queue.put_nowait((loop.time(), loop.time() + delay(), None))
    await sender

async def handle(reader, writer):
    stats["connections"] += 1
    stats["peers"] = (stats["peers"] + [str(writer.get_extra_info("peername"))])[-20:]
    try:
        up_reader, up_writer = await asyncio.open_connection(target, port)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pump(reader, up_writer, "bytes_out"), pump(up_reader, writer, "bytes_in"),
                         return_exceptions=True)

async def report():
    while True:
        with open(stats_path + ".new", "w") as f:
            json.dump({**stats, "delay_s": delay(), "at": time.time()}, f)
        os.replace(stats_path + ".new", stats_path)
        await asyncio.sleep(1.0)

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    asyncio.ensure_future(report())
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


@dataclass(frozen=True)
class DelayPeerLink(Fault):
    """Add ``delay_ms`` each way to what each server sends its partner on the peer link (no netem
    on this kernel): in each server's namespace, connections it opens to its partner's peer port
    are redirected (iptables nat OUTPUT REDIRECT) to a small relay that forwards every chunk
    ``delay_ms`` later; the peers' open connections are closed (``ss -K``) so the daemons
    reconnect through it. Clients are untouched. Proven from the HA exchange itself: the status
    request a partner sends (Kea: ha-heartbeat), timed from each server over the same path
    before and after, at least ``2 * delay_ms`` slower, and the relay's own count of the bytes
    it carried for the daemons."""

    delay_ms: float = 500.0
    target: str = "primary"
    name: str = "slow-peer-link"
    max_apply_s: float = 10.0

    def _rule(self, ctx: FaultContext, role: str) -> list[str]:
        partner = _partner(role)
        return ["OUTPUT", "-p", "tcp", "-d", ctx.plan.addresses[partner], "--dport", str(ctx.plan.peer_ports[partner]),
                "-m", "owner", "!", "--uid-owner", str(RELAY_UID), "-j", "REDIRECT", "--to-ports", str(RELAY_PORT)]

    def _stats(self, ctx: FaultContext, role: str) -> dict | None:
        import json
        code, out = ctx.container(role).exec_run(["cat", RELAY_STATS])
        try:
            return json.loads(out) if code == 0 else None
        except ValueError:
            return None

    def _trips(self, ctx: FaultContext, phase: str) -> dict[str, float | None]:
        out = {}
        for role in ROLES:
            samples = ctx.adapter.status_round_trips(ctx.lab, ctx.pair, _partner(role), role, 3)
            out[role] = round_trip_ms(samples)
            ctx.record("harness", "status-round-trips", sender=role, target=_partner(role), phase=phase, samples=samples,
                       median_ms=out[role])
        return out

    def apply(self, ctx: FaultContext) -> None:
        self._trips(ctx, "before")
        for role in ROLES:
            partner = _partner(role)
            c = ctx.container(role)
            code, out = c.exec_run(["sh", "-c", f'echo {self.delay_ms / 1000} > {RELAY_DELAY} && '
                                    f'setpriv --reuid={RELAY_UID} --regid={RELAY_UID} --clear-groups '
                                    f'python3 -c "$1" "$2" "$3" "$4" "$5" "$6" >/dev/null 2>&1 & echo $! > {RELAY_PID}',
                                    "relay", DELAY_RELAY, ctx.plan.addresses[partner], str(ctx.plan.peer_ports[partner]),
                                    str(RELAY_PORT), RELAY_DELAY, RELAY_STATS])
            if code != 0:
                raise RuntimeError(f"the delaying relay in {role} did not start: {out.decode(errors='replace')}")
        for role in ROLES:
            code, out = ctx.container(role).exec_run(["iptables", "-w", "-t", "nat", "-I", *self._rule(ctx, role)])
            if code != 0:
                raise RuntimeError(f"iptables nat in {role} failed: {out.decode(errors='replace')}")
            partner = _partner(role)
            ctx.container(role).exec_run(["ss", "-K", "dst", ctx.plan.addresses[partner], "dport", "=",
                                          f":{ctx.plan.peer_ports[partner]}"])

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        time.sleep(3.0)  # a heartbeat-delay or two for the daemons to reconnect through the relays
        if not ctx.adapter.status_on_peer_path:
            return self._verify_by_relays(ctx)
        before = {e.get("sender"): e.get("median_ms") for e in ctx.timeline.of("status-round-trips")
                  if e.get("phase") == "before"} if ctx.timeline else {}
        during = self._trips(ctx, "during")
        stats = {role: self._stats(ctx, role) for role in ROLES}
        ctx.record("harness", "relay-stats", stats=stats)
        added = {r: (during[r] - before[r]) if during.get(r) is not None and before.get(r) is not None else None
                 for r in ROLES}
        carried = {r: (s or {}).get("bytes_out", 0) for r, s in stats.items()}
        ok = all(a is not None and a >= 2 * self.delay_ms * 0.9 for a in added.values()) and all(carried.values())
        return ok, "; ".join(f"{r} -> {_partner(r)}: ha round trip {before.get(r)} ms before, {during.get(r)} ms during "
                             f"(+{'unknown' if added[r] is None else f'{added[r]:.0f}'} ms; {2 * self.delay_ms:g} ms "
                             f"added by design); its relay carried {carried[r]} bytes in "
                             f"{(stats[r] or {}).get('connections', 0)} connection(s)" for r in ROLES)

    def _verify_by_relays(self, ctx: FaultContext) -> tuple[bool, str]:
        """For daemons whose status request does not travel the peer path (dhcpd: OMAPI has its
        own port, and nothing else on the failover port can be asked without joining the failover
        connection): the daemons' own peer connection went through a relay (bytes carried both
        ways, waited for up to ``max_apply_s``) and every chunk of it was held ``delay_ms`` (the
        relay's own clock, 0.9 of it at least)."""
        def carried(stats: dict) -> list[str]:
            return [r for r, st in stats.items() if st and st.get("bytes_out") and st.get("bytes_in")]

        try:
            stats = until(lambda: {role: self._stats(ctx, role) for role in ROLES}, done=lambda got: bool(carried(got)),
                          timeout=self.max_apply_s, every=1.0, what="the peers' connection through a relay")
        except NotReady as exc:
            stats = exc.last
        through = carried(stats)
        ctx.record("harness", "relay-stats", stats=stats)
        held = {r: (st or {}).get("held_ms", {}) for r, st in stats.items()}
        short = [f"{r} {way} {v[0]} ms" for r, ways in held.items() for way, v in ways.items()
                 if v[0] < 0.9 * self.delay_ms]
        ok = bool(through) and not short
        said = "; ".join(
            f"{r} -> {_partner(r)}: its relay carried {(stats[r] or {}).get('bytes_out', 0)} bytes out, "
            f"{(stats[r] or {}).get('bytes_in', 0)} back in {(stats[r] or {}).get('connections', 0)} connection(s)"
            + "".join(f", {way} {v[2]} chunk(s) held {v[0]:g}-{v[1]:g} ms" for way, v in sorted(held[r].items()))
            for r in ROLES)
        return ok, (f"{said}; {self.delay_ms:g} ms each way by design"
                    + ("" if through else "; no relay carried the daemons' peer connection")
                    + (f"; held less than 0.9 of it: {', '.join(short)}" if short else ""))

    def heal(self, ctx: FaultContext) -> None:
        for role in ROLES:
            state = _state(ctx, role)
            if not state.get("Running") or state.get("Paused"):
                continue
            c = ctx.container(role)
            # The relay stays in the path of the connections it carries, adding nothing: closing them
            # (as the first recorded run did) failed the lease updates in flight and sent the primary
            # partner-down for 1.3 s, an effect of the heal, not of the slow link. New connections go direct.
            c.exec_run(["sh", "-c", f"echo 0 > {RELAY_DELAY}"])
            c.exec_run(["iptables", "-w", "-t", "nat", "-D", *self._rule(ctx, role)])

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        time.sleep(2.0)
        after = self._trips(ctx, "healed")
        left = [r for r in ROLES if ctx.container(r).exec_run(["iptables", "-w", "-t", "nat", "-C",
                                                               *self._rule(ctx, r)])[0] == 0]
        ok = not left and all(v is not None and v < self.delay_ms for v in after.values())
        return ok, (f"redirect {'still in ' + ', '.join(left) if left else 'removed'}; ha round trips "
                    + ", ".join(f"{r} -> {_partner(r)} {v} ms" for r, v in after.items()))

CLOCK_FILE = "/run/dhcpdrill-faketime"


@dataclass(frozen=True)
class SkewClock(Fault):
    """Move the target server's clock by ``seconds`` (libfaketime, read afresh on every clock
    call, so the offset changes while the daemon runs) and put it back on heal. Only the
    daemon's clock moves: the timeline keeps the host's time. ``reboot``: the server then
    crashes and boots with the wrong clock (its disk and clock offset kept), so it meets its
    partner afresh: checks made only when peers connect (dhcpd's) are sure to run."""

    seconds: int = 65
    target: str = "primary"
    name: str = "clock-skew"
    tolerance_s: float = 3.0
    reboot: bool = False

    needs_clock_control = True

    def _set(self, ctx: FaultContext, seconds: int) -> None:
        """Replace the offset file in one step (a rename): libfaketime reads it on every clock
        call, and a read between ``>``'s truncation and its write found it empty, failed to parse
        it and took Kea 3.0.4 down with it (abort in a thread pool, seen once in 30 runs)."""
        code, out = ctx.container(self.target).exec_run(
            ["sh", "-c", f"echo {seconds:+d} > {CLOCK_FILE}.new && mv -f {CLOCK_FILE}.new {CLOCK_FILE}"])
        if code != 0:
            raise RuntimeError(f"could not set {self.target}'s clock: {out.decode(errors='replace')}")

    def _offset(self, ctx: FaultContext) -> float | None:
        # a rebooted dhcpd sits in its startup state (~15 s here) before it answers anyone
        return ctx.adapter.clock_offset(ctx.lab, ctx.pair, self.target, wait_s=30.0 if self.reboot else 12.0)

    def apply(self, ctx: FaultContext) -> None:
        ctx.record(self.target, "clock-set", offset=self.seconds)
        self._set(ctx, self.seconds)
        if self.reboot:
            ctx.container(self.target).kill(signal="SIGKILL")
            ctx.container(self.target).start()

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        offset = self._offset(ctx)
        if offset is None:
            return False, f"{self.target} did not report its clock"
        ctx.record(self.target, "clock-offset", offset=round(offset, 2))
        return abs(offset - self.seconds) <= self.tolerance_s, f"{self.target}'s daemon clock reads {offset:+.0f} s"

    def heal(self, ctx: FaultContext) -> None:
        if _state(ctx, self.target).get("Running"):
            ctx.record(self.target, "clock-set", offset=0)
            self._set(ctx, 0)

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        offset = self._offset(ctx)
        if offset is not None:
            ctx.record(self.target, "clock-offset", offset=round(offset, 2))
        ok = offset is not None and abs(offset) <= self.tolerance_s
        return ok, f"{self.target}'s daemon clock reads {'unknown' if offset is None else f'{offset:+.0f} s'}"


@dataclass(frozen=True)
class ExpireCertificate(Fault):
    """The target's TLS certificate for its peer link is replaced by an expired copy (same key,
    subject and CA; made beforehand, kept under the pair folder's ``expired/``) and its server
    reboots with it: what a certificate nobody renewed does at the next restart, when the
    daemon loads it. Kea loads its own certificate without checking its dates; the partner refuses
    it in the handshake, in both directions (it is the target's server certificate and its client
    certificate). Proven by the partner's own TLS connection to the target failing verification.
    Nothing heals it: a certificate stays expired until someone renews it."""

    target: str = "secondary"
    name: str = "expired-certificate"
    restores: bool = False
    boot_wait_s: float = 30.0

    def _cert(self, ctx: FaultContext) -> str:
        path = ctx.adapter.own_certificate(ctx.pair, self.target)
        if path is None:
            raise LabError(f"{self.target}'s config names no certificate for its peer link: this drill is for pairs "
                           "whose peers talk TLS")
        return path

    def apply(self, ctx: FaultContext) -> None:
        from hashlib import sha256

        from .lab import put_files
        path = self._cert(ctx)
        data = expired_copy(ctx.pair.folder, path).read_bytes()
        container = ctx.container(self.target)
        put_files(container, {path: data})
        ctx.record(self.target, "certificate-replaced", path=path, sha256=sha256(data).hexdigest(),
                   copied_from=expired_copy(ctx.pair.folder, path).relative_to(ctx.pair.folder).as_posix())
        container.kill(signal="SIGKILL")
        container.start()

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        path = self._cert(ctx)
        code, out = ctx.container(self.target).exec_run(["openssl", "x509", "-in", path, "-noout", "-enddate",
                                                         "-checkend", "0"])
        dates = out.decode(errors="replace").strip().replace("\n", "; ")
        answered = _await_daemon(ctx, self.target, self.boot_wait_s)
        probes = [data for source, kind, data in ctx.adapter.peer_link_evidence(ctx.lab, ctx.pair, ctx.plan)
                  if source == self.target and kind == "peer-tls"]
        for data in probes:
            ctx.record(self.target, "peer-tls", **data)
        refused = [p for p in probes if not str(p.get("verify") or "").startswith("0 ")]
        ok = code != 0 and answered is not None and bool(refused)
        said = "; ".join(f"{p.get('from')}'s TLS connection: verify {p.get('verify')}, {p.get('refused') or 'no alert'}"
                         for p in probes) or "no TLS probe could be made"
        return ok, (f"{self.target} has {path} ({dates}); its daemon "
                    + (f"answers ({answered})" if answered else f"did not answer within {self.boot_wait_s:g} s")
                    + f"; {said}")


@dataclass(frozen=True)
class Sequence(Fault):
    """Faults one after another: each but the last is held ``hold_s`` and healed, then the next
    follows ``pause_s`` later. Verdicts about the failover measure from the last one."""

    steps: tuple[Fault, ...] = ()
    hold_s: float = 15.0
    pause_s: float = 5.0
    name: str = "sequence"

    @property
    def target(self) -> str:  # type: ignore[override]
        return self.steps[-1].target

    @property
    def link(self) -> str | None:  # type: ignore[override]
        """The peer link as the anchoring step leaves it (the first step that takes a server down)."""
        return next((s.link for s in self.steps if s.takes_down), None)

    def apply(self, ctx: FaultContext) -> None:
        raise NotImplementedError("a Sequence is applied step by step by inject()")

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        raise NotImplementedError


def needs_clock_control(fault: Fault) -> bool:
    steps = fault.steps if isinstance(fault, Sequence) else (fault,)
    return any(getattr(step, "needs_clock_control", False) for step in steps)


@contextmanager
def inject(fault: Fault, ctx: FaultContext, timeline: Timeline) -> Iterator[None]:
    if isinstance(fault, Sequence):
        for step in fault.steps[:-1]:
            with inject(step, ctx, timeline):
                time.sleep(fault.hold_s)
            time.sleep(fault.pause_s)
        with inject(fault.steps[-1], ctx, timeline):
            yield
        return
    # Recorded before the blow, so every figure timed from it includes how long the engine took
    # to deliver it (``apply_s``: over a remote engine, the round trips too).
    began = timeline.add(time.time(), "harness", "fault-applied", fault=fault.name, target=fault.target,
                         takes_down=fault.takes_down).t
    try:
        fault.apply(ctx)
        apply_s = round(time.time() - began, 3)
        ok, evidence = fault.verify(ctx)
        timeline.add(time.time(), "harness", "fault-verified" if ok else "fault-not-effective",
                     fault=fault.name, target=fault.target, evidence=evidence, apply_s=apply_s)
        yield
    except KeyboardInterrupt:
        _heal(fault, ctx, timeline, interrupted=True)
        raise
    except BaseException:
        _heal(fault, ctx, timeline)
        raise
    _heal(fault, ctx, timeline)


def _heal(fault: Fault, ctx: FaultContext, timeline: Timeline, interrupted: bool = False) -> None:
    """Lift the fault and prove it, however the drill got here. The lifting is never cut in half:
    an interrupt that arrives meanwhile waits for it (``interrupts.held``). On an interrupt
    (Ctrl-C, or the plugin's SIGTERM) the heal's own error is recorded, not raised over it: the
    interrupt goes on to the lab's teardown, which removes the containers either way."""
    timeline.add(time.time(), "harness", "heal-started", fault=fault.name, target=fault.target,
                 **({"interrupted": True} if interrupted else {}))
    try:
        with interrupts.held():
            fault.heal(ctx)
        ok, evidence = fault.verify_healed(ctx)
    except Exception as exc:  # noqa: BLE001 - only on an interrupt, which must not be replaced by it
        if not interrupted:
            raise
        ok, evidence = False, f"the heal after an interrupt failed: {type(exc).__name__}: {exc}"
    timeline.add(time.time(), "harness", "fault-healed" if ok else "heal-failed",
                 fault=fault.name, target=fault.target, evidence=evidence, restored=fault.restores)
