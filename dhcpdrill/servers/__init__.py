"""Server adapters: everything that differs between DHCP server implementations lives here.

An adapter reads and checks a pair's native configs (``lab_plan``), says how to run a server in
the lab, reports when the pair is ready, and turns what the servers leave behind (logs, lease
databases) into timeline events. Drills, faults and verdicts stay server-agnostic.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker.models.containers import Container

    from ..lab import Lab
    from ..manifest import Pair
    from ..timeline import Timeline

from ..expectations import BACKUP, ROLES
from ..readdress import LAB_RANGE
from ..timeline import LOG_KINDS
from ..waiting import NotReady, until
from .placement import Declared, Placement, Pools, Relayed, free_addresses, peer_network, place_subnets

__all__ = ["LAB_RANGE", "ROLES", "BackupPeer", "Declared", "LabPlan", "Placement", "Relayed", "ServerAdapter", "adapter_for",
           "daemon_command", "peer_network", "place_subnets"]

# veth devices leave UDP checksums to an offload that never happens, so replies a daemon sends
# through its kernel socket (dhcpd's unicast ACKs) would carry bad checksums, which a real NIC
# would have filled in. The lab computes them in software, as production hardware does.
LAB_PREP = "(ethtool -K eth0 tx off >/dev/null 2>&1 || true)"


@dataclass(frozen=True)
class BackupPeer:
    """A Kea HA backup server the configs name (``files.backup`` is its own config): it runs as a
    third container at its peer address, receives the active servers' lease updates and answers
    no client (Kea's backup state). ``wait_ack`` is its ``wait-backup-ack``, always false here:
    Kea refuses true outside passive-backup, which the lab does not drill."""

    name: str
    address: str
    peer_port: int
    wait_ack: bool = False

    def describe(self) -> dict:
        return {"name": self.name, "address": self.address, "peer_port": self.peer_port, "wait_ack": self.wait_ack}


@dataclass(frozen=True)
class LabPlan:
    """How a pair sits in the lab: its subnet, each role's address, and what healthy looks like.

    ``rewrites`` lists every change made to the configs to fit them into the lab (an interface
    name, say); reports show it so the engineer sees exactly what was drilled."""

    subnet: ipaddress.IPv4Network
    addresses: dict[str, str]
    interface: str
    serving: tuple[str, ...]
    retrying_clients_needed: int = 1
    files_in_container: dict[str, dict[str, bytes]] = field(default_factory=dict)
    rewrites: tuple[str, ...] = ()
    pools: Pools = ()  # every pool on the servers' link: the subnet's and its shared network's
    shared: tuple[ipaddress.IPv4Network, ...] = ()  # the other subnets of the servers' shared network, on their link
    relayed: tuple[Relayed, ...] = ()  # subnets served through a relay, each on a lab network of its own
    peer_subnet: ipaddress.IPv4Network | None = None  # the peer link's own network, when the configs put it apart
    server_ids: dict[str, str] = field(default_factory=dict)  # client-facing addresses, when not ``addresses``
    peer_ports: dict[str, int] = field(default_factory=dict)  # TCP port each role's peer link listens on
    solo_states: tuple[str, ...] = ()  # states in which a server serves every client alone
    normal_state: str = ""  # the state both servers are in when the pair is healthy
    interrupted_states: tuple[str, ...] = ()  # serving, but unable to tell the partner (MCLT applies)
    mclt_s: float | None = None  # the failover protocol's maximum client lead time, if it has one
    ha_timers: dict[str, float] = field(default_factory=dict)  # failure-detection timers as configured
    # How the pair resyncs after a partition (Kea): delayed-updates-limit, sync-leases, sync-page-limit,
    # sync-timeout as configured or by Kea's defaults, and which of them the config states itself
    lease_sync: dict[str, object] = field(default_factory=dict)
    renew_s: float | None = None  # when a client renews (T1) with the configured lease times
    rebind_s: float | None = None  # when a client rebinds (T2) with the configured lease times
    warnings: tuple[str, ...] = ()  # fit to drill, but some verdicts would mislead unless the team knows this
    backup: BackupPeer | None = None  # a third server in role backup (Kea HA), when the pair has one
    databases: tuple = ()  # SQL database servers the lab runs for the servers' leases (``databases``)
    lease_databases: dict = field(default_factory=dict)  # role -> its placed ``databases.LeaseDatabase``

    def spare_addresses(self) -> list[str]:
        """Host addresses of the servers' subnet outside every pool and not a server's (nor the
        backup's), highest first: the lab's gateway, the clients' container and, when subnets
        are relayed, the relay."""
        used = set(self.ids.values()) | ({self.backup.address} if self.backup else set())
        return free_addresses(self.subnet, self.pools, used, 3 if self.relayed else 2)

    @property
    def ids(self) -> dict[str, str]:
        """Each role's address on the client side, its DHCP server identifier: its peer address,
        unless the peer link has a network of its own (``addresses`` are then on that network)."""
        return self.server_ids or self.addresses

    def peer_gateway(self) -> str | None:
        """The Docker gateway of the peer network: its highest host address that is no server's."""
        if self.peer_subnet is None:
            return None
        used = set(self.addresses.values()) | ({self.backup.address} if self.backup else set())
        return free_addresses(self.peer_subnet, (), used, 1)[0]

    @property
    def multi_subnet(self) -> bool:
        """Whether clients sit on more than one subnet or link (the ``subnets`` verdict then judges
        which subnet served them): relayed subnets, or a shared network."""
        return bool(self.relayed or self.shared)

    def onlink_routes(self) -> dict[str, str]:
        """Routes a server needs beside the relay's: the other subnets of its shared network, on
        its own link (a server on a multi-subnet link reaches them through its router, or on-link)."""
        return {str(net): "dev eth0" for net in self.shared}

    @property
    def networks(self) -> list[ipaddress.IPv4Network]:
        """Every lab network a drill of this pair creates: the servers', each relayed subnet's, the peer link's."""
        return [self.subnet, *(r.subnet for r in self.relayed), *([self.peer_subnet] if self.peer_subnet else [])]

    @property
    def relay_upstream(self) -> str | None:
        """The relay's address on the servers' network (the servers route relayed subnets to it)."""
        spare = self.spare_addresses()
        return spare[2] if self.relayed and len(spare) > 2 else None


DAEMON_PID = "/run/dhcpdrill-daemon.pid"
# Every kind of event an adapter's ``log_event`` records: evidence that lives only in a daemon's
# log, and is missing where the log lost lines.
DAEMON_EXITED = "server daemon exited with status"  # the line the container prints when its daemon ends
UNREAD_KEPT = 5  # rows not understood kept on the timeline per lease file (all are counted)


def daemon_command(prep: str, daemon: str) -> list[str]:
    """The server container's command. The daemon is not pid 1: stopping it (maintenance)
    leaves the container, its "host", up with its address, as stopping a service does, while
    killing the container loses the host."""
    run = (f"{daemon} & echo $! > {DAEMON_PID}; wait $!; "
           f'echo "{DAEMON_EXITED} $?"; exec sleep infinity')
    return ["sh", "-c", f"{LAB_PREP} && {prep} && {{ {run}; }}"]


class ServerAdapter:
    """One DHCP server implementation. Subclasses read and check a pair's configs
    (``lab_plan``), say how to run and check a server (``command``, ``check_in_image``), report
    its HA state (``ha_state``, ``normal_state``) and turn what it leaves behind into timeline
    events (``collect``). Shared here: stopping the daemon, waiting for the pair's normal state,
    and running a config checker in a network-less container."""

    environment: dict[str, str] = {}
    clock_environment: dict[str, str] = {}
    fields = {"address": "server address", "pools": "pools"}  # where the config states them, for problems
    # Whether the smallest CPU quota alone slows the daemon at a drill's load; where it does not,
    # slow-primary adds a busy process beside it in its container (a runaway neighbour).
    slowed_by_quota_alone = True
    # Whether ``status_round_trips`` travels the peer link (Kea: ha-heartbeat to the peer URL), so
    # timing it proves a delay on that link.
    status_on_peer_path = True

    def lab_plan(self, pair: "Pair") -> LabPlan:
        raise NotImplementedError

    def command(self, pair: "Pair", role: str) -> list[str]:
        raise NotImplementedError

    def check_in_image(self, engine, image: str, pair: "Pair") -> list:
        raise NotImplementedError

    def carried_files(self, pair: "Pair") -> list:
        """Files in the pair folder that the configs name and the lab copies into the servers
        (they are hashed with the configs); a file the pair lacks is a ``lab_plan`` problem."""
        return []

    def own_certificate(self, pair: "Pair", role: str) -> str | None:
        """The path of the certificate ``role`` presents on its peer link, if the peers talk TLS."""
        return None

    def peer_link_evidence(self, lab: "Lab", pair: "Pair", plan: LabPlan) -> list[tuple[str, str, dict]]:
        """(source, kind, data) events that show how the peers talk, read from the lab once the
        pair is ready (Kea over TLS: the handshake each server's partner makes with it)."""
        return []

    lease_suffix = "txt"  # the saved copy of a server's lease file: leases-<role>.<suffix>

    def lease_path(self, pair: "Pair", role: str) -> str:
        """Where ``role``'s daemon keeps its lease database inside its container."""
        raise NotImplementedError

    def read_leases(self, lab: "Lab", pair: "Pair", role: str, container: "Container", path: str) -> str:
        """The text of ``role``'s lease database at ``path`` (its lease file; a SQL table read back
        as rows of one); raises ``LabError`` when it cannot be read."""
        return lab.read_file(container, path)

    def log_event(self, line: str) -> tuple[str, dict] | None:
        """A timeline event (kind, data) for one line of the daemon's log, or None."""
        raise NotImplementedError

    def lease_events(self, text: str, report: dict | None = None) -> list[tuple[float, str, dict]]:
        """Timeline events (time, kind, data) from the text of one lease file; ``report``, when
        given, receives the rows read (``rows``) and each row not understood (``unread``)."""
        raise NotImplementedError

    def collect(self, lab: "Lab", pair: "Pair", timeline: "Timeline") -> None:
        """State changes and warnings from both servers' logs, bindings from both lease files.
        Each lease file's fate is recorded (``lease-file``: read or not, and why), so a verdict
        can tell a server that granted nothing from one whose evidence is missing."""
        import time

        from ..problems import LabError
        current = lab.containers_by_role((*ROLES, BACKUP))
        retired = [(r, c) for r, c in lab.retired if r in ROLES]  # replaced during the drill
        for role, container in [*retired, *current.items()]:
            lines, parsed = lab.log_lines(container), 0
            for t, line in lines:
                found = self.log_event(line)
                if found:
                    timeline.add(t, role, found[0], **found[1])
                    parsed += found[0] in LOG_KINDS
            timeline.add(time.time(), role, "server-log", container=container.name, lines=len(lines), parsed=parsed)
            if container.name in lab.log_gaps:
                timeline.add(time.time(), role, "log-incomplete", container=container.name, kinds=list(LOG_KINDS),
                             first_kept=lab.log_gaps[container.name])
        for role, container in current.items():
            path = self.lease_path(pair, role)
            try:
                text = self.read_leases(lab, pair, role, container, path)
            except LabError as exc:
                timeline.add(time.time(), role, "lease-file", path=path, read=False, error=str(exc))
                continue
            lab.save_artifact(f"leases-{role}.{self.lease_suffix}", text)
            self.record_lease_file(timeline, role, path, text, time.time())

    # A backup's rows are copies of the active servers' grants, never its own: kept apart from
    # ``lease-record`` so that duplicates and continuity judge the servers that answer clients.
    RECORD_KIND = {BACKUP: "backup-lease"}

    def record_lease_file(self, timeline: "Timeline", role: str, path: str, text: str, at: float) -> None:
        """One lease file read at ``at``: its ``lease-file`` event (records, rows read, rows not
        understood and the first few of them) and its records."""
        report: dict = {}
        events = self.lease_events(text, report)
        unread = report.get("unread", [])
        timeline.add(at, role, "lease-file", path=path, read=True, bytes=len(text),
                     records=sum(1 for _, kind, _ in events if kind == "lease-record"),
                     rows=report.get("rows"), not_understood=len(unread), unread=unread[:UNREAD_KEPT],
                     **({"torn": report["torn"][:UNREAD_KEPT], "torn_rows": len(report["torn"])}
                        if report.get("torn") else {}))
        for t, kind, data in events:
            timeline.add(t, role, self.RECORD_KIND.get(role, kind) if kind == "lease-record" else kind, **data)

    def last_error(self, lab: "Lab", role: str) -> str | None:
        """The last error the daemon itself logged (what a user needs when a server never got ready)."""
        container = lab.containers.get(role)
        if container is None:
            return None
        lines = [line.strip() for _, line in lab.log_lines(container)]
        exits = [line for line in lines if line.startswith(DAEMON_EXITED)]
        errors = [line for line in lines if not line.startswith(DAEMON_EXITED)
                  and any(word in line for word in ("ERROR", "FATAL", "Error", "error:"))]
        said = errors[-1] if errors else None
        if exits:
            said = f"{said} (then the {exits[-1][len('server '):]})" if said else exits[-1]
        return said

    def ask(self, lab: "Lab", pair: "Pair", role: str, command: str) -> dict:
        """Send an operator command to a server (e.g. Kea's ha-maintenance-start)."""
        raise NotImplementedError(f"{type(self).__name__} takes no control commands")

    def clock_offset(self, lab: "Lab", pair: "Pair", role: str, wait_s: float = 12.0) -> float | None:
        """The daemon's clock minus the host's, as the daemon itself reports it (waiting up to
        ``wait_s`` for the evidence, e.g. a server that is still starting)."""
        raise NotImplementedError(f"{type(self).__name__} cannot report its daemon's clock")

    def pool_owners(self, lab: "Lab", pair: "Pair", role: str) -> dict[str, list[str]]:
        """Free addresses ``role`` may allocate now (``own``) and those its partner owns
        (``partner``), for servers that split the free pool between the peers."""
        raise NotImplementedError(f"{type(self).__name__} does not split its free pool between peers")

    def logs_drops(self, pair: "Pair", role: str) -> bool:
        """Whether ``role``'s daemon, as configured, logs the queries it drops (``server-dropped``
        events): where it does not, silence in its log says nothing about drops."""
        return False

    def status_round_trips(self, lab: "Lab", pair: "Pair", role: str, via: str, count: int = 5) -> list[dict]:
        """``count`` status requests to ``role``'s daemon, sent from ``via``'s container over the
        network as its partner would (never from inside ``role``, whose own processes a CPU limit
        would slow too): each ``{"ms": round trip, "state": ...}`` or ``{"ms": ..., "error": ...}``."""
        raise NotImplementedError(f"{type(self).__name__} cannot time a status request to its daemon")

    def ha_state(self, lab: "Lab", pair: "Pair", role: str) -> str:
        raise NotImplementedError

    def normal_state(self, pair: "Pair") -> str:
        raise NotImplementedError

    def stop_daemon(self, lab: "Lab", role: str, signal: str = "TERM") -> tuple[bool, str]:
        """Stop the server daemon, leaving its host up; (stopped, evidence)."""
        script = (f"pid=$(cat {DAEMON_PID}) && kill -{signal} $pid && for i in $(seq 50); do "
                  "kill -0 $pid 2>/dev/null || { echo stopped pid $pid; exit 0; }; sleep 0.2; done; "
                  "echo still running; exit 1")
        code, out = lab.containers[role].exec_run(["sh", "-c", script])
        return code == 0, f"{role} daemon " + out.decode(errors="replace").strip()

    def agent(self, lab: "Lab", role: str, action: str) -> bool:
        """The control agent the peers talk through: ``stop`` it, ``start`` it, or ask if it
        ``runs``; True when it runs afterwards. Only Kea pairs without HA+MT have one."""
        from ..problems import LabError
        raise LabError(f"{self.__class__.__name__}: this pair's peers talk through no control agent")

    def daemon_running(self, lab: "Lab", role: str) -> bool:
        code, _ = lab.containers[role].exec_run(["sh", "-c", f"kill -0 $(cat {DAEMON_PID})"])
        return code == 0

    def wait_ready(self, lab: "Lab", pair: "Pair", timeout: float) -> dict[str, str]:
        """Wait until both servers report the pair's normal state; raise LabError otherwise."""
        from ..problems import LabError
        normal = self.normal_state(pair)

        def states() -> dict[str, str]:
            return {role: self.ha_state(lab, pair, role) for role in ROLES}

        try:
            return until(states, done=lambda s: set(s.values()) == {normal}, timeout=timeout, every=0.5,
                         what=f"both servers in {normal}")
        except NotReady as exc:
            last = exc.last
            raise LabError(f"the pair did not reach {normal} within {timeout:.0f} s: "
                           + ", ".join(f"{r} is {s}" for r, s in last.items())) from None

    def wait_backup(self, lab: "Lab", pair: "Pair", timeout: float) -> str:
        """Wait until the pair's backup server (``LabPlan.backup``) is ready; its state."""
        from ..problems import LabError
        raise LabError(f"{type(self).__name__}: this server has no backup servers")

    def run_checker(self, engine, image: str, files: dict[str, bytes], script: str) -> tuple[int, str]:
        """Run a config checker with ``files`` in place, in a container with no network
        (bounded in time, labelled with the session so its sentinel removes it if we die)."""
        code, out, err = engine.run_helper(["sh", "-c", script], image=image, run="check", files=files,
                                           network_mode="none", cap_add=["NET_ADMIN"],
                                           environment=self.environment, what="run the servers' config checker")
        return code, out + err


def adapter_for(pair: "Pair") -> ServerAdapter:
    from .isc import IscAdapter
    from .kea import KeaAdapter
    return {"kea": KeaAdapter, "isc-dhcp": IscAdapter}[pair.server]()
