"""Drills: the network splits while both servers keep running.

Peer link cut — runbook
1. Start the pair, wait for its normal HA state, lease steady clients; probes keep leasing.
2. Silently drop all traffic between the two servers (no resets); clients still reach both.
   Prove that neither server can open a connection to the other.
3. Observe 30 s, heal the link (prove both connect again), observe 25 s more.
4. Judge against [drills.peer-partition]: did both servers serve alone at once (split brain),
   how long clients went unanswered, state transitions through the heal, addresses bound to two
   clients, clients keeping their address.

One-way peer link cut: the same, dropping only what the primary sends to its partner (the
secondary's requests still arrive; the primary's answers do not).

Client link cut — runbook
1. As above, then drop every DHCP frame to and from the primary on the lab bridge while its
   peer link stays up. Prove frames are being dropped and the peer link still connects.
2. Observe 30 s, heal, observe 10 s more.
3. Judge against [drills.client-partition]: takeover by the secondary, client outage, state
   transitions, duplicates, continuity.
"""
from scenarios.partitions import CLIENT_PARTITION, ONE_WAY_PEER_PARTITION, PEER_PARTITION


def test_peer_partition(drill):
    drill.run(PEER_PARTITION).assert_verdicts()


def test_one_way_peer_partition(drill):
    """As the peer link cut, but only what the primary sends to its partner is dropped."""
    drill.run(ONE_WAY_PEER_PARTITION).assert_verdicts()


def test_client_partition(drill):
    drill.run(CLIENT_PARTITION).assert_verdicts()
