"""Drills: a server or the peer link is slow, not dead (gray failures).

Slow primary — runbook
1. Start the pair, wait for its normal HA state, lease steady clients; probes keep leasing.
2. Time the status request the secondary sends the primary (Kea: ha-heartbeat to its peer URL;
   dhcpd: OMAPI), then limit the primary's container to 0.002 of a core (CFS quota 2 ms per 1 s;
   dhcpd, which needs less, shares 1 ms per 100 ms with a nice-19 busy loop beside it). Prove it
   bites: the same request, timed again, is answered (the primary is alive, its heartbeats
   succeed), and the clients' exchanges it answers are several times slower.
3. Observe 30 s, lift the limit (prove the round trip is back near its baseline), observe 15 s.
4. Judge against [drills.slow-primary]: state transitions (does the partner take over, or
   not), how long clients waited, queries no server answered (dropped-queries), leases lost
   (load: the clients' exchange latency before, during and after), duplicates, continuity.

Narrow peer link — runbook
1. As above, then in each server's own namespace police what it sends its partner to 1,000
   bytes a second (nftables `limit rate over ... drop`; TCP retransmits what is dropped).
   Prove it bites from the policer's counters (packets dropped) while the peers still connect.
2. Observe 30 s, remove the policers (prove they are gone), observe 20 s.
3. Judge against [drills.narrow-peer-link]: state transitions, split brain, client waits,
   dropped queries, duplicates, continuity, back to normal after the heal.

Slow peer link — runbook (Kea: the proof times ha-heartbeat over the peer path; dhcpd: the relay's own record)
1. As above, then in each server's namespace redirect the connections it opens to its partner's
   peer port (iptables nat REDIRECT) to a relay that forwards every chunk 500 ms later, and
   close the peers' open connections so the daemons reconnect through it. Prove it from the HA
   exchange: ha-heartbeat timed from each server to its partner, before and during (>= 900 ms
   added per round trip), and the relay's count of bytes it carried (dhcpd: the relay that
   carried the failover connection both ways, each chunk held >= 450 ms).
2. Observe 30 s, remove the redirect and the relays (prove the round trip is back), observe 20 s.
3. Judge as the narrow link.
"""
import pytest

from scenarios.slow_components import NARROW_PEER_LINK, SLOW_PEER_LINK, SLOW_PRIMARY

# The longer run (docs/drills.md "The longer run"): three runs and more on kea-hot-standby, several UNKNOWN on a
# saturated host; on dhcpd slow-primary and narrow-peer-link do not prove their fault yet.
pytestmark = pytest.mark.longer


def test_slow_primary(drill):
    drill.run(SLOW_PRIMARY).assert_verdicts()


def test_narrow_peer_link(drill):
    drill.run(NARROW_PEER_LINK).assert_verdicts()


def test_slow_peer_link(drill):
    drill.run(SLOW_PEER_LINK).assert_verdicts()
