"""Drills: bringing a server back, and taking one down on purpose.

Failback — runbook
1. Start the pair, lease steady clients; probes keep leasing.
2. Kill the primary's container; prove it is down. Observe 25 s (the secondary takes over).
3. Restart the primary (its lease file survives, as a disk would); prove it runs.
4. Observe 40 s: the pair resynchronises and clients renew or rebind.
5. Judge against [drills.failback]: takeover, state transitions back to normal, the primary
   knowing every lease granted while it was down, clients keeping their address through both
   the fault and the failback.

Planned maintenance — runbook
1. Start the pair, lease steady clients; probes keep leasing.
2. Send ha-maintenance-start to the secondary (it takes over), then stop the primary's daemon
   cleanly while its host stays up; prove it stopped and the secondary took over.
3. Observe 30 s. Judge against [drills.maintenance-handoff]: client impact (longest stretch
   without any ACK), state transitions, duplicates, continuity.
"""
from scenarios.failback import FAILBACK, MAINTENANCE


def test_failback(drill):
    drill.run(FAILBACK).assert_verdicts()


def test_maintenance_handoff(drill):
    drill.run(MAINTENANCE).assert_verdicts()
