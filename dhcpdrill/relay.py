"""The relay agent of a pair's relayed subnets: ISC ``dhcrelay`` in a container of its own, the
router between each relayed subnet's lab network and the servers' network.

As a router in production does, it forwards the clients' broadcasts to both servers with its own
address on the client's subnet as giaddr and option 82 (circuit id: the interface) added
(``dhcrelay -a``), hands the servers' replies back, and routes the clients' unicast renewals to
their server (IP forwarding on). The servers route each relayed subnet to its address on their
network. It runs from the bookworm lab image whatever the servers' suite (Debian forky ships no
ISC relay): it stands for the network, not for the pair under test.
"""
from __future__ import annotations

from docker.models.networks import Network

from .lab import Lab
from .servers import LabPlan

ROLE = "relay"
SUITE = "bookworm"
# Arguments: the relay's address on the servers' network, its addresses on the relayed networks
# (space-separated), the other subnets of each relayed shared network (space-separated
# address=subnet pairs: reached on the link where the relay has that address), then the servers.
# Interfaces are found by address: Docker does not promise which network becomes eth0, eth1...
SCRIPT = r"""
up="$1"; downs="$2"; onlink="$3"; shift 3
iface() { ip -o -4 addr show | awk -v a="$1" '{split($4, x, "/"); if (x[1] == a) print $2}'; }
for i in $(ls /sys/class/net); do ethtool -K "$i" tx off >/dev/null 2>&1 || true; done
for pair in $onlink; do ip route replace "${pair#*=}" dev "$(iface "${pair%%=*}")"; done
args="-iu $(iface "$up")"
for d in $downs; do args="$args -id $(iface "$d")"; done
echo "dhcrelay $args $*"
exec dhcrelay -d -4 -a $args "$@"
"""


def command(plan: LabPlan) -> list[str]:
    servers = [plan.ids[r] for r in sorted(plan.ids)]
    onlink = " ".join(f"{r.relay}={net}" for r in plan.relayed for net in r.subnets[1:])
    return ["sh", "-c", SCRIPT, "relay", str(plan.relay_upstream), " ".join(r.relay for r in plan.relayed), onlink,
            *servers]


def routes(plan: LabPlan) -> dict[str, str]:
    """What a server needs to answer relayed clients: each relayed subnet, and every other subnet
    of a relayed shared network, via the relay."""
    return {str(net): str(plan.relay_upstream) for r in plan.relayed for net in r.subnets}


def start(lab: Lab, plan: LabPlan, servers_net: Network, relayed_nets: list[Network], image: str) -> None:
    lab.container(ROLE, servers_net, str(plan.relay_upstream), command(plan),
                  also_on=[(net, r.relay) for r, net in zip(plan.relayed, relayed_nets)],
                  sysctls={"net.ipv4.ip_forward": "1"}, image=image)
