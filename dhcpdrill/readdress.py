"""Readdressing: a production pair's subnet (10.20.30.0/24, say) moves into the lab range
198.18.0.0/15 in the lab copy of its configs, never in the user's files.

Every IPv4 address inside the moved subnet (the subnet itself, pools, server and peer addresses,
routers, reservations, relay addresses) is translated by the same offset; addresses outside it
(a DNS server elsewhere, a netmask) are left as they are: they are option values the drill never
sends anything to. The lab subnet is chosen from 198.19.0.0/16 by a hash of the pair's name and
subnet, so a pair always lands on the same lab subnet. Each move is listed as a rewrite.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
TARGETS = ipaddress.ip_network("198.19.0.0/16")  # the bundled pairs and tests live in 198.18.0.0/16
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


@dataclass(frozen=True)
class Readdressing:
    """Moves from production subnets to lab subnets of the same size."""

    moves: tuple[tuple[ipaddress.IPv4Network, ipaddress.IPv4Network], ...] = ()

    def address(self, ip: str) -> str:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        for old, new in self.moves:
            if addr in old:
                return str(new.network_address + (int(addr) - int(old.network_address)))
        return ip

    def text(self, text: str) -> str:
        """Every IPv4 literal in ``text`` that lies in a moved subnet, translated."""
        return IPV4.sub(lambda m: self.address(m.group(1)), text) if self.moves else text

    def tree(self, value):
        """A parsed JSON config with every string translated."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        if isinstance(value, dict):
            return {k: self.tree(v) for k, v in value.items()}
        return value

    def describe(self) -> list[str]:
        return [f"readdressed {old} -> {new} (the lab never uses real ranges; subnets, pools, server and peer "
                "addresses, routers and every other address inside it moved by the same offset)"
                for old, new in self.moves]


class Unmovable(ValueError):
    """A subnet that cannot be moved into the lab range (``subnet`` names it)."""

    def __init__(self, subnet: ipaddress.IPv4Network, why: str) -> None:
        super().__init__(f"{subnet} {why}")
        self.subnet = subnet


def plan(subnets: list[ipaddress.IPv4Network], seed: str) -> Readdressing:
    """Moves for the subnets outside the lab range; raises ``Unmovable`` for one that cannot fit.
    Each lands where a hash of the pair's name and the subnet points, or the next free place of
    its size when an earlier subnet of the pair took that one (they must never overlap)."""
    moves: list[tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]] = []
    taken = [s for s in subnets if s.subnet_of(LAB_RANGE)]
    for subnet in subnets:
        if subnet.subnet_of(LAB_RANGE) or any(subnet == old for old, _ in moves):
            continue
        if subnet.prefixlen < TARGETS.prefixlen:
            raise Unmovable(subnet, f"is larger than the lab's {TARGETS} and cannot be moved into it")
        count = 2 ** (subnet.prefixlen - TARGETS.prefixlen)
        index = int.from_bytes(hashlib.sha256(f"{seed}\0{subnet}".encode()).digest()[:8], "big") % count
        size = subnet.num_addresses
        for step in range(count):
            target = ipaddress.ip_network(f"{TARGETS.network_address + ((index + step) % count) * size}/{subnet.prefixlen}")
            if not any(target.overlaps(t) for t in taken):
                break
        else:
            raise Unmovable(subnet, f"finds no free place in {TARGETS} beside the pair's other subnets")
        moves.append((subnet, target))
        taken.append(target)
    return Readdressing(tuple(moves))
