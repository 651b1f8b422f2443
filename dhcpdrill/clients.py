"""The client fleet: the scapy agent (``agent.py``) running in its own container on the lab network.

Clients run inside the lab rather than on the host so that a user who can reach Docker needs no
raw-socket privileges, and so that their frames exist only on the drill's internal network.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .timeline import Event
from .timers import REQUEST_TRIES
from .waiting import NotReady, until

if TYPE_CHECKING:  # the judge reads Workload and REQUEST_TRIES: neither the engine's client nor the agent
    from docker.models.networks import Network

    from .lab import Lab

AGENT_SOURCE = Path(__file__).with_name("agent.py")
AGENT_IN_CONTAINER = "/opt/dhcpdrill/agent.py"
KINDS_SOURCE = Path(__file__).with_name("clientkinds.py")  # the client kinds' policy, imported by the agent
KINDS_IN_CONTAINER = "/opt/dhcpdrill/clientkinds.py"


def agent_files(agent_source: bytes | None = None) -> dict[str, bytes]:
    """The files the agent runs from in its container: itself and the client kinds beside it."""
    return {AGENT_IN_CONTAINER: agent_source if agent_source is not None else AGENT_SOURCE.read_bytes(),
            KINDS_IN_CONTAINER: KINDS_SOURCE.read_bytes()}
ROLE = "clients"
MAX_LINKS = 16  # the agent numbers steady clients 0x10 + link in a MAC byte, below the probes' 0x20


def parse_events(text: str) -> list[Event]:
    """The agent's JSON lines as timeline events; a line cut short (the agent killed mid-write)
    is skipped, never guessed at."""
    out = []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue
        t, kind = raw.pop("t"), raw.pop("kind")
        out.append(Event(float(t), ROLE, kind, raw))
    return out


def agent_events(lab: Lab) -> list[Event]:
    """What the client agent has recorded so far: its evidence file, copied out of its container
    (running or stopped). A missing file raises ``LabError``: no evidence is never no events."""
    from .agent import EVENTS_PATH
    return parse_events(lab.read_file(lab.containers[ROLE], EVENTS_PATH))


def control_events(lab: Lab) -> list[Event]:
    """The few events the agent also writes to stdout (``steady``, ``woken``...), cheap to poll."""
    return parse_events(lab.containers[ROLE].logs(stdout=True, stderr=False).decode(errors="replace"))


@dataclass(frozen=True)
class Workload:
    """What the simulated clients do; timers are compressed RFC 2131 behaviour (see agent.py)."""

    steady_clients: int = 5
    probe_clients: int = 4
    retransmit: tuple[float, ...] = (1.0, 2.0, 4.0)
    probe_hold: float = 2.0
    probe_gap: float = 1.0
    steady_timeout: float = 20.0
    fresh_every_s: float | None = None  # a never-seen client every so often, once steady
    fresh_keep: bool = False  # fresh clients keep their lease (renew, rebind) instead of releasing it at once
    arrival_per_s: float = 0.0  # steady clients first appear this many a second (0: all at once)
    storm_s: float | None = None  # boot storm: at the fault every steady client starts over, spread over this
    new_clients: int = 0  # per link: never-seen clients that arrive once steady, and keep their leases
    new_over_s: float = 0.0  # ... spread evenly over this many seconds
    new_after_s: float = 0.0  # ... beginning this long after steady state (after the fault, say)
    passive_probes: bool = False  # probes always send secs = 0, so Kea's HA never counts them (quiet.py)
    mix: tuple[tuple[str, float], ...] = ()  # (client kind, share) of the renewing and new clients (clientkinds)

    def populated(self, clients_per_link: int, arrival_per_s: float, new_per_link: int = 0,
                  new_over_s: float = 0.0) -> "Workload":
        """This workload with a pair's population: its renewing clients, arriving at its rate,
        with time to lease them all (a pair answers a few hundred new clients a second at least),
        and its new clients spread over ``new_over_s`` once those hold their leases."""
        return replace(self, steady_clients=clients_per_link, arrival_per_s=arrival_per_s,
                       steady_timeout=self.steady_timeout + clients_per_link / arrival_per_s + clients_per_link / 100,
                       new_clients=new_per_link, new_over_s=new_over_s)

    def probes_needed(self, servers: int, retrying_clients_needed: int) -> int:
        """Probes a takeover needs at least: each serving server must see more retrying clients
        than its partner's max-unacked-clients (``retrying_clients_needed`` + 1 each)."""
        if self.passive_probes:
            return self.probe_clients
        return max(self.probe_clients, servers * (retrying_clients_needed + 1))


@dataclass(frozen=True)
class Link:
    """A network the agent has steady clients on: the servers' own, or a relayed subnet's, behind
    ``relay`` (``label`` prefixes its clients' names). Probes and fresh clients live on the first."""

    network: Network
    address: str  # the agent container's address there
    subnet: str = ""  # stated on every client event when the pair has relayed subnets
    label: str = ""
    relay: str | None = None
    shared: tuple[str, ...] = ()  # the other subnets of its shared network: its clients may be served from any


class ClientFleet:
    def __init__(self, lab: Lab, links: list[Link], workload: Workload,
                 retrying_clients_needed: int, lifetime: float, serving_servers: list[str]) -> None:
        self.lab, self.links = lab, links
        plan = asdict(workload)
        # A Kea standby takes over only once more than max-unacked-clients clients retry unanswered.
        # Passive probes (secs always 0) never count toward it: the population's clients decide.
        needed = 0 if workload.passive_probes else retrying_clients_needed
        plan["probe_clients"] = max(workload.probe_clients, needed + 1)
        plan["min_probes_per_server"] = needed + 1
        # Probes are added until every serving server answers enough of them; load-balancing hashes
        # MACs, so allow three times the even split before giving up.
        plan["max_clients"] = max(40, workload.steady_clients * len(links)
                                  + 3 * workload.probes_needed(len(serving_servers), retrying_clients_needed))
        plan["serving_servers"] = serving_servers
        plan["request_tries"] = REQUEST_TRIES
        plan["links"] = [{"ip": link.address, "subnet": link.subnet, "label": link.label} for link in links]
        plan.update(max_seconds=lifetime, mac_seed=int(lab.run_id[:4], 16))
        self.plan = plan
        # Clients on all links; probes live on one link, at least as many as a takeover needs.
        self.clients = (workload.steady_clients + workload.new_clients) * len(links) \
            + workload.probes_needed(len(serving_servers), retrying_clients_needed)

    def start(self) -> None:
        first, *others = self.links
        self.lab.container(ROLE, first.network, first.address,
                           ["python3", "-u", AGENT_IN_CONTAINER, json.dumps(self.plan)],
                           files=agent_files(),
                           also_on=[(link.network, link.address) for link in others])

    @property
    def container(self):
        return self.lab.containers[ROLE]

    def events(self) -> list[Event]:
        return agent_events(self.lab)

    def wait_steady(self, timeout: float) -> Event | None:
        """The agent's ``steady`` or ``steady-failed`` event, or None if it said neither in time."""
        return self._wait_for(("steady", "steady-failed"), timeout)

    def _wait_for(self, kinds: tuple[str, ...], timeout: float) -> Event | None:
        """The agent's first control event of these kinds (a ``steady-failed`` saying so if the
        agent exited first), or None if none came in time."""

        def verdict() -> Event | None:
            self.container.reload()
            found = [e for e in control_events(self.lab) if e.kind in kinds]
            if found or self.container.status != "running":
                return found[0] if found else Event(0, ROLE, "steady-failed", {"unbound": ["agent exited"]})
            return None

        try:
            return until(verdict, timeout=timeout, every=0.2, what=f"the agent's {' or '.join(kinds)} event")
        except NotReady:
            return None

    def wake(self) -> None:
        """Make every bound steady client renew now (SIGUSR1 to the agent; it records ``woken``)."""
        self.container.kill(signal="SIGUSR1")

    def mark_settle(self) -> None:
        """From now on the agent says ``settled`` once every client holding a lease has been
        answered since (SIGHUP; it records ``settle-mark``)."""
        self.container.kill(signal="SIGHUP")

    def wait_settled(self, timeout: float) -> Event | None:
        """The agent's ``settled`` event, or None if it did not come in ``timeout`` seconds."""
        return self._wait_for(("settled",), timeout)

    def storm(self) -> None:
        """Every steady client starts over with DISCOVER (SIGUSR2; the agent records ``rebooted``)."""
        self.container.kill(signal="SIGUSR2")

    def stop(self) -> None:
        """Ask the agent to finish (it writes its last events), then save its output."""
        self.container.reload()
        if self.container.status == "running":
            self.container.kill(signal="SIGTERM")
            self.container.wait(timeout=15)
        self.lab.save_artifact("clients.stderr", self.container.logs(stdout=False, stderr=True).decode(errors="replace"))
