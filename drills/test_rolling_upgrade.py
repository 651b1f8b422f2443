"""Drill: a rolling upgrade (or, on the pair's own version, a maintenance-window rehearsal).

Runbook
1. Start the pair on its own suite and wait until both servers report their normal HA state.
2. Lease steady clients; probes keep asking for new leases throughout.
3. Secondary: ha-maintenance-start on the primary, stop the secondary, reinstall it from
   [drills.rolling-upgrade] to_suite with its config and lease file, start it, wait until it
   answers, ha-maintenance-cancel, wait for the normal state. Then the primary the same way.
4. Keep clients leasing 20 s more.
5. Judge: the longest any client waited, addresses bound to two clients, clients keeping their
   address, lease updates the peers rejected or found in conflict (mixed versions), and the time
   each step took (timeline events upgrade-step).
"""
from scenarios.rolling_upgrade import ROLLING_UPGRADE


def test_rolling_upgrade(drill):
    drill.run(ROLLING_UPGRADE).assert_verdicts()
