"""Where a pair's servers and clients sit in the lab, read from the subnets its configs declare:
the subnet the servers face their clients from, the subnets reached through a relay (each on a lab
network of its own), and the peer link's own network when the configs put the peers apart.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..problems import Problem
from ..readdress import LAB_RANGE

Pools = tuple[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address], ...]


@dataclass(frozen=True)
class Relayed:
    """A subnet whose clients reach the servers through a relay agent, as most production subnets
    do: the lab gives it a network of its own, with a real ``dhcrelay`` between it and the servers'
    network, forwarding to both servers with ``relay`` as giaddr (the router's address on that
    subnet in production) and option 82 added."""

    subnet: ipaddress.IPv4Network
    pools: Pools
    relay: str
    where: str  # the config field that declares it, for messages
    shared: tuple["Declared", ...] = ()  # the other subnets of its shared network, on the same link

    def spare_addresses(self) -> list[str]:
        """The lab's gateway and the clients' container on this network."""
        return free_addresses(self.subnet, self.pools, {self.relay}, 2)

    @property
    def subnets(self) -> tuple[ipaddress.IPv4Network, ...]:
        """Every subnet a client on this link may be served from: its own and its shared network's."""
        return (self.subnet, *(d.subnet for d in self.shared))

    @property
    def all_pools(self) -> Pools:
        return (*self.pools, *(p for d in self.shared for p in d.pools))


def free_addresses(subnet: ipaddress.IPv4Network, pools: Pools, used: set[str], count: int) -> list[str]:
    """Up to ``count`` host addresses of ``subnet`` outside every pool and not in ``used``, highest first."""
    free = []
    for host in reversed(list(subnet.hosts())):
        if str(host) not in used and not any(lo <= host <= hi for lo, hi in pools):
            free.append(str(host))
        if len(free) == count:
            break
    return free


def relay_address(subnet: ipaddress.IPv4Network, pools: Pools, stated: list[str]) -> str | None:
    """Where the relay sits on a relayed subnet: the first address the config states for it (a
    Kea ``relay`` entry, the ``routers`` option) that is a host of the subnet outside the pools,
    else the subnet's lowest free host address (where routers usually are)."""
    for text in stated:
        try:
            ip = ipaddress.ip_address(str(text).strip())
        except ValueError:
            continue
        if ip in subnet and ip not in (subnet.network_address, subnet.broadcast_address) \
                and not any(lo <= ip <= hi for lo, hi in pools):
            return str(ip)
    return next((str(h) for h in subnet.hosts() if not any(lo <= h <= hi for lo, hi in pools)), None)


@dataclass(frozen=True)
class Declared:
    """One subnet as a config declares it (``where`` names its field), with the addresses the
    config states for its router or relay."""

    subnet: ipaddress.IPv4Network
    pools: Pools
    where: str
    relays: tuple[str, ...] = ()
    network: str = ""  # the shared network it belongs to (Kea shared-networks, dhcpd shared-network), if any


@dataclass(frozen=True)
class Placement:
    """Where a pair's servers and clients sit in the lab (see ``place_subnets``)."""

    home: Declared | None
    relayed: tuple[Relayed, ...] = ()
    peer_subnet: ipaddress.IPv4Network | None = None
    server_ids: dict[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    shared: tuple[Declared, ...] = ()  # the other subnets of the servers' shared network, on their link

    def describe(self) -> list[str]:
        """How the lab is laid out beyond one network, for the rewrites every report lists."""
        out = [f"{r.subnet} ({r.where}): clients behind a relay agent (dhcrelay, giaddr {r.relay}, option 82), on "
               "a lab network of its own" + (f", shared with {', '.join(f'{d.subnet} ({d.where})' for d in r.shared)} "
                                             f"(shared network {r.shared[0].network}: served from any of them; the "
                                             "servers route them to the relay, the relay reaches them on that link)"
                                             if r.shared else "") for r in self.relayed]
        if self.shared and self.home is not None:
            out.append(f"{', '.join(f'{d.subnet} ({d.where})' for d in self.shared)}: on the servers' own link, "
                       f"shared with {self.home.subnet} (shared network {self.home.network}): its clients may be "
                       f"served from any of them; each server has its address in {self.home.subnet} and a route to "
                       "the others on that link (eth0), as a server on a multi-subnet link has through its router")
        if self.peer_subnet is not None and self.home is not None:
            out.append(f"the peer link on a lab network of its own, {self.peer_subnet} (the peer addresses); the "
                       f"servers face their clients from {self.home.subnet} at "
                       + ", ".join(f"{ip} ({role})" for role, ip in self.server_ids.items()))
        return out


def enclosing(ips: list[str], longest: int = 24) -> ipaddress.IPv4Network:
    """The smallest network of prefix ``longest`` or shorter that holds every address."""
    for prefix in range(longest, 0, -1):
        net = ipaddress.ip_network(f"{ips[0]}/{prefix}", strict=False)
        if all(ipaddress.ip_address(ip) in net for ip in ips):
            return net
    return ipaddress.ip_network("0.0.0.0/0")


def peer_network(peers: list[ipaddress.IPv4Address],
                 subnets: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    """The peer link's own network when no peer address lies in a declared subnet, else None."""
    if not peers or any(ip in net for ip in peers for net in subnets):
        return None
    return enclosing([str(ip) for ip in peers])


def _address(text: str | None) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None


def place_subnets(declared: list[Declared], servers: dict[str, str], file: str, address_fields: dict[str, str],
                  stated_ids: dict[str, str | None] | None = None) -> Placement:
    """Which declared subnet the servers sit on (their clients are on the servers' own network),
    which are relayed (each on a lab network of its own, behind a relay), and, when the peer
    addresses lie in none of the declared subnets, the peer link's own network: a management
    network, as many production pairs have. The servers then face their clients from the
    poolless subnet (a server VLAN) or the first one, at the address the config states for its
    interface (``stated_ids``) or the subnet's lowest free ones. Every problem is returned."""
    problems: list[Problem] = []
    for i, a in enumerate(declared):
        if not a.subnet.subnet_of(LAB_RANGE):
            problems.append(Problem(file, a.where, f"{a.subnet} is outside the lab range {LAB_RANGE}",
                                    f"readdress the pair into {LAB_RANGE} (RFC 2544 test range): the lab never uses "
                                    "real ranges"))
        for b in declared[:i]:
            if a.subnet.overlaps(b.subnet):
                problems.append(Problem(file, a.where, f"{a.subnet} overlaps {b.subnet} ({b.where})",
                                        "give each subnet its own range"))
    peer_ips = {role: ipaddress.ip_address(ip) for role, ip in servers.items()}
    homes = [d for d in declared if all(ip in d.subnet for ip in peer_ips.values())]
    partial = next((d for d in declared if any(ip in d.subnet for ip in peer_ips.values())), None)
    peer_subnet, server_ids = None, {}
    fix = ("put both peer addresses in one subnet: the clients' subnet that holds both servers, or a peer network "
           "of their own that no subnet of the config covers")
    if not homes and partial is not None:
        for role, ip in peer_ips.items():
            if ip not in partial.subnet:
                sibling = next((d for d in declared if partial.network and d.network == partial.network
                                and ip in d.subnet), None)
                said = (f"; it is in {sibling.subnet} of the same shared network {partial.network}, but the lab "
                        "gives both servers an address in one subnet of it (a copy with both peers in "
                        f"{partial.subnet} drills the same link)") if sibling else ""
                problems.append(Problem(file, address_fields[role], f"{ip} is not in the drilled subnet "
                                        f"{partial.subnet}, which holds its partner's address{said}", fix))
    elif not homes and declared:
        peer_subnet = peer_network(list(peer_ips.values()), [])
        if peer_subnet.prefixlen < 16 or not peer_subnet.subnet_of(LAB_RANGE):
            where = "outside the lab range" if peer_subnet.prefixlen >= 16 else "too far apart for one lab network"
            problems.append(Problem(file, next(iter(address_fields.values())),
                                    f"the peer addresses ({', '.join(map(str, peer_ips.values()))}) are {where}",
                                    f"give the peers addresses in one /16 or smaller inside {LAB_RANGE}"))
        home = next((d for d in declared if not d.pools), declared[0])
        homes = [home]
        for d in declared:
            if d.subnet.overlaps(peer_subnet):
                problems.append(Problem(file, d.where, f"{d.subnet} overlaps the peer network {peer_subnet} the lab "
                                        "derives from the peer addresses", "keep the peer addresses apart from the subnets"))
        taken = {str(ip) for ip in home.relays}
        for role in servers:
            stated = _address((stated_ids or {}).get(role))
            if stated is not None and stated in home.subnet:
                server_ids[role] = str(stated)
                taken.add(str(stated))
        free = (str(h) for h in home.subnet.hosts()
                if str(h) not in taken and not any(lo <= h <= hi for lo, hi in home.pools))
        for role in servers:
            server_ids.setdefault(role, next(free, ""))
        if not all(server_ids.values()):
            problems.append(Problem(file, home.where, f"{home.subnet} has no free address for the servers' client side",
                                    "leave two addresses outside the pools"))
    elif not declared:
        problems.append(Problem(file, next(iter(address_fields.values())), "no subnet is declared", fix))
    home = homes[0] if homes else None
    shared = tuple(d for d in declared if home is not None and d is not home and d.network
                   and d.network == home.network)
    relayed = []
    grouped: set[str] = set()
    for d in declared:
        if d is home or d in shared or d.network in grouped:
            continue
        link = [d, *(o for o in declared if o is not d and d.network and o.network == d.network)]
        if d.network:
            grouped.add(d.network)
        if not any(x.pools for x in link):
            continue  # no client lives on a poolless link: nothing to drill behind a relay
        # The relay's giaddr sits in the first subnet of the link that has room for it (a shared
        # network is reached through the router's address in one of its subnets).
        placed = next(((x, r) for x in link if (r := relay_address(x.subnet, x.pools, list(x.relays)))), None)
        if placed is None:
            problems.append(Problem(file, d.where, f"{d.subnet} has no host address outside its pools for the relay",
                                    "end a pool earlier: the relay agent (a router in production) needs an address"))
            continue
        first, relay = placed
        relayed.append(Relayed(first.subnet, first.pools, relay, first.where, tuple(x for x in link if x is not first)))
    return Placement(home, tuple(relayed), peer_subnet, server_ids, tuple(problems), shared)
