"""Drill: the pair's backup server dies without warning (Kea HA pairs with a peer in role backup).

Runbook
1. Start the pair and its backup (files.backup) and wait until both servers report their normal
   HA state and the backup reports ``backup``.
2. Lease steady clients through the pair; probes keep asking for new leases throughout.
3. SIGKILL the backup's container and prove it is down.
4. Keep clients renewing, rebinding and probing for 30 s.
5. Judge against [drills.kill-backup]: no client waited past max_outage_s, the servers kept
   serving from the kill on, neither changed HA state, and the backup's lease file holds every
   lease granted up to the kill (backup-updated).
"""
from scenarios.kill_backup import KILL_BACKUP


def test_kill_backup(drill):
    drill.run(KILL_BACKUP).assert_verdicts()
