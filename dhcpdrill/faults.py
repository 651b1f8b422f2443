"""Faults: each is an apply, a check that it really bit, and a heal, kept together.

``inject`` records the fault on the timeline, records the evidence that it took effect (or that
it did not: a fault that silently did nothing would make every verdict meaningless), and always
heals on the way out, even when the drill fails or is interrupted.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .lab import Lab
from .timeline import Timeline


class Fault(ABC):
    name: str
    target: str
    takes_down: bool = False

    @abstractmethod
    def apply(self, lab: Lab) -> None: ...

    @abstractmethod
    def verify(self, lab: Lab) -> tuple[bool, str]:
        """(took effect, evidence), read from the lab after ``apply``, not from its exit code."""

    def heal(self, lab: Lab) -> None:
        """Undo the fault; a no-op for faults that are meant to last (a killed server)."""


@dataclass(frozen=True)
class KillServer(Fault):
    """SIGKILL the server's container: the daemon and its network stack vanish at once, like a
    power loss. Peers see silence (no TCP reset), which is the hardest case for detection."""

    target: str = "primary"
    name: str = "kill"
    takes_down: bool = True

    def apply(self, lab: Lab) -> None:
        lab.containers[self.target].kill(signal="SIGKILL")

    def verify(self, lab: Lab) -> tuple[bool, str]:
        c = lab.containers[self.target]
        c.reload()
        state = c.attrs.get("State", {})
        if state.get("Running"):
            return False, f"{c.name} is still running (pid {state.get('Pid')})"
        return True, f"{self.target} container is {c.status}, exit code {state.get('ExitCode')}"


@contextmanager
def inject(fault: Fault, lab: Lab, timeline: Timeline) -> Iterator[None]:
    timeline.add(time.time(), "harness", "fault-applied", fault=fault.name, target=fault.target,
                 takes_down=fault.takes_down)
    try:
        fault.apply(lab)
        ok, evidence = fault.verify(lab)
        timeline.add(time.time(), "harness", "fault-verified" if ok else "fault-not-effective",
                     fault=fault.name, target=fault.target, evidence=evidence)
        yield
    finally:
        fault.heal(lab)
        timeline.add(time.time(), "harness", "fault-healed", fault=fault.name, target=fault.target)
