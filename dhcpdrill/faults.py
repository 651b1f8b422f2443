"""Faults: each is an apply, a check that it really bit, and a heal, kept together.

``inject`` records the fault on the timeline, records the evidence that it took effect (or that
it did not: a fault that silently did nothing would make every verdict meaningless), and always
heals on the way out, even when the drill fails or is interrupted, recording the heal's evidence
too. What a fault means lives here; how the lab applies it lives in ``lab`` and the server
adapters.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .timeline import Timeline

if TYPE_CHECKING:
    from .lab import Lab
    from .pair import Pair
    from .servers import LabPlan, ServerAdapter


@dataclass
class FaultContext:
    """What a fault may touch: the lab's containers and the pair's server adapter."""

    lab: "Lab"
    pair: "Pair"
    adapter: "ServerAdapter"
    plan: "LabPlan"

    def container(self, role: str):
        return self.lab.containers[role]


class Fault(ABC):
    name: str
    target: str
    takes_down: bool = False  # the target stops serving for good (its lease file stops counting)

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
    takes_down: bool = False

    def heal(self, ctx: FaultContext) -> None:
        if not _state(ctx, self.target).get("Running"):
            ctx.container(self.target).start()

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        state = _state(ctx, self.target)
        return bool(state.get("Running")), f"{self.target} container {state.get('Status')} since {state.get('StartedAt')}"


@dataclass(frozen=True)
class FreezeServer(Fault):
    """Freeze every process of the server (cgroup freezer, ``docker pause``) and thaw it on heal:
    a hung server whose TCP connections stay open, unlike a dead one."""

    target: str = "primary"
    name: str = "freeze"

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


@contextmanager
def inject(fault: Fault, ctx: FaultContext, timeline: Timeline) -> Iterator[None]:
    timeline.add(time.time(), "harness", "fault-applied", fault=fault.name, target=fault.target,
                 takes_down=fault.takes_down)
    try:
        fault.apply(ctx)
        ok, evidence = fault.verify(ctx)
        timeline.add(time.time(), "harness", "fault-verified" if ok else "fault-not-effective",
                     fault=fault.name, target=fault.target, evidence=evidence)
        yield
    finally:
        timeline.add(time.time(), "harness", "heal-started", fault=fault.name, target=fault.target)
        fault.heal(ctx)
        ok, evidence = fault.verify_healed(ctx)
        timeline.add(time.time(), "harness", "fault-healed" if ok else "heal-failed",
                     fault=fault.name, target=fault.target, evidence=evidence)
