"""Drill: the primary server dies without warning.

Runbook
1. Start the pair and wait until both servers report their normal HA state.
2. Lease steady clients through the pair; probes keep asking for new leases throughout.
3. SIGKILL the primary's container (its daemon and network stack vanish, as in a power loss)
   and prove it is down.
4. Keep clients renewing (unicast), rebinding (broadcast) and probing for at least 30 s, longer
   when the pair's own timers allow a slower takeover (clients with leases of hours are made to
   renew now, as a client back from sleep does).
5. Judge the timeline against the pair's [drills.kill-primary] thresholds: takeover time (and
   whether it lies where the configs predict), addresses bound to two clients, clients keeping
   their address.

Boot storm: the same kill, and every client starts over with DISCOVER within 5 s of it, as a
building powering up after the outage would ([drills.boot-storm]).
"""
from scenarios.boot_storm import BOOT_STORM
from scenarios.kill_primary import KILL_PRIMARY, KILL_PRIMARY_NEW_CLIENTS


def test_kill_primary(drill):
    result = drill.run(KILL_PRIMARY)
    result.assert_verdicts()


def test_kill_primary_with_new_clients(drill):
    """As above, with a never-seen client arriving every 2 s: what the survivor grants a new
    client while it cannot reach its partner (ISC failover: at most MCLT)."""
    drill.run(KILL_PRIMARY_NEW_CLIENTS).assert_verdicts()


def test_boot_storm(drill):
    """The primary dies and every client starts over with DISCOVER within 5 s, as a building
    powering up after the outage would: the survivor must lease the whole population again."""
    drill.run(BOOT_STORM).assert_verdicts()
