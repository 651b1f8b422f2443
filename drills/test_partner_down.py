"""Drill: the primary is dead and the operator says so (partner-down).

Runbook
1. Start the pair, wait for its normal failover state, lease steady clients; a new client
   arrives every 0.5 s from then on.
2. SIGKILL the primary's container and prove it is down.
3. 12 s later, as an operator would, set the secondary's failover state to partner-down over
   OMAPI and prove it took it. Record which free addresses each server owned at that moment.
4. Observe 50 s: the secondary's own free addresses run out; the primary's become usable
   MCLT after the declaration.
5. Judge against [drills.partner-down]: the secondary granted none of the primary's free
   addresses before MCLT had passed, and did grant them after; leases to new clients stay within
   max_new_lease_s; no address bound to two clients; steady clients keep their address.
"""
from scenarios.partner_down import PARTNER_DOWN


def test_partner_down(drill):
    drill.run(PARTNER_DOWN).assert_verdicts()
