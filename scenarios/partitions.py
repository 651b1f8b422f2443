"""Network partitions: the servers lose each other, or the primary loses its clients.

Peer link cut (both servers up, clients reach both): the pair must not end up with both servers
serving alone (split brain), must not hand an address to two clients, and must resynchronise
after the link heals. Client link cut (the primary is up and reaches its partner, but no client
reaches it): clients must still be served, by the secondary.
"""
from dhcpdrill.drill import Scenario
from dhcpdrill.faults import PartitionClients, PartitionPeers

PEER_PARTITION = Scenario(
    name="peer-partition",
    title="Peer link silently cut for 30 s, then healed",
    fault=PartitionPeers(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=25.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "split-brain", "client-outage",
              "partner-share-held",
              "state-transitions", "heal-to-normal", "duplicates", "continuity", "reply-checksums"),
)

CLIENT_PARTITION = Scenario(
    name="client-partition",
    title="Primary cut off from its clients (peer link up) for 30 s",
    fault=PartitionClients(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=10.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "client-outage",
              "partner-share-held",
              "state-transitions", "duplicates", "continuity", "reply-checksums"),
)

ONE_WAY_PEER_PARTITION = Scenario(
    name="one-way-peer-partition",
    title="Everything the primary sends its partner silently dropped for 30 s, then healed",
    fault=PartitionPeers(target="primary", one_way=True, name="one-way-peer-partition"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=25.0,
    verdicts=PEER_PARTITION.verdicts,
)
