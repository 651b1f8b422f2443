"""Server adapters: everything that differs between DHCP server implementations lives here.

An adapter reads and checks a pair's native configs (``lab_plan``), says how to run a server in
the lab, reports when the pair is ready, and turns what the servers leave behind (logs, lease
databases) into timeline events. Drills, faults and verdicts stay server-agnostic.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..lab import Lab
    from ..pair import Pair
    from ..timeline import Timeline

LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
# veth devices leave UDP checksums to an offload that never happens, so replies a daemon sends
# through its kernel socket (dhcpd's unicast ACKs) would carry bad checksums, which a real NIC
# would have filled in. The lab computes them in software, as production hardware does.
LAB_PREP = "(ethtool -K eth0 tx off >/dev/null 2>&1 || true)"


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
    pools: tuple[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address], ...] = ()
    peer_ports: dict[str, int] = field(default_factory=dict)  # TCP port each role's peer link listens on
    solo_states: tuple[str, ...] = ()  # states in which a server serves every client alone
    normal_state: str = ""  # the state both servers are in when the pair is healthy

    def spare_addresses(self) -> list[str]:
        """Two host addresses of the subnet outside every pool and not a server's, highest first
        (the lab's gateway and the clients' container)."""
        used = set(self.addresses.values())
        free = []
        for host in reversed(list(self.subnet.hosts())):
            if str(host) not in used and not any(lo <= host <= hi for lo, hi in self.pools):
                free.append(str(host))
            if len(free) == 2:
                break
        return free


class ServerAdapter(Protocol):
    def lab_plan(self, pair: "Pair") -> LabPlan: ...
    def command(self) -> list[str]: ...
    def wait_ready(self, lab: "Lab", pair: "Pair", timeout: float) -> dict[str, str]: ...
    def collect(self, lab: "Lab", pair: "Pair", timeline: "Timeline") -> None: ...


def adapter_for(pair: "Pair") -> ServerAdapter:
    from .isc import IscAdapter
    from .kea import KeaAdapter
    return {"kea": KeaAdapter, "isc-dhcp": IscAdapter}[pair.server]()
