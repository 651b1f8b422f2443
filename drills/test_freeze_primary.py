"""Drill: the primary hangs (a stuck process, a frozen VM) and later comes back.

Runbook
1. Start the pair, wait for its normal HA state, lease steady clients; probes keep leasing.
2. Freeze every process of the primary (docker pause): its TCP connections stay open, so its
   partner sees requests time out rather than connections refused. Prove it no longer answers.
3. Keep clients renewing, rebinding and probing for at least 30 s (longer when the pair's
   timers allow a slower takeover); then thaw the primary.
4. Watch 20 s more while the pair resynchronises.
5. Judge against the pair's [drills.freeze-primary]: takeover, state transitions (through the
   thaw), addresses bound to two clients, clients keeping their address.
"""
from scenarios.freeze_primary import FREEZE_PRIMARY


def test_freeze_primary(drill):
    drill.run(FREEZE_PRIMARY).assert_verdicts()
