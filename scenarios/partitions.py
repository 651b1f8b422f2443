"""Network partitions: the servers lose each other, or the primary loses its clients.

Peer link cut (both servers up, clients reach both): the pair must not end up with both servers
serving alone (split brain), must not hand an address to two clients, and must resynchronise
after the link heals. Client link cut (the primary is up and reaches its partner, but no client
reaches it): clients must still be served, by the secondary.

Heal under load (load-balancing): the peer link refused while every client starts over, so each
server leases its own half of a building alone and queues the lease updates it cannot send; past
``delayed-updates-limit`` Kea gives the queue up and, at the heal, resyncs the whole lease
database, with both servers' service off while it does. Judged per client (``lease-sync-gap``).
"""
from dataclasses import replace

from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import PartitionClients, PartitionPeers, RefusePeers

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

HEAL_UNDER_LOAD = Scenario(
    name="heal-under-load",
    title="Peer link refused (TCP resets) for 30 s while every client starts over (a boot storm), then healed: "
          "the lease sync the heal costs",
    fault=RefusePeers(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=30.0,
    workload=Workload(storm_s=5.0),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "split-brain", "state-transitions",
              "heal-to-normal", "lease-sync-gap", "dropped-queries", "naks", "duplicates", "reply-checksums"),
)

HEAL_UNDER_LOAD_LONG = replace(
    HEAL_UNDER_LOAD,
    name="heal-under-load-long",
    title="As heal-under-load, with the peer link refused for 75 s: past Kea's default max-response-delay (60 s), "
          "so each server calls its partner interrupted before the heal",
    observe_s=75.0,
)
