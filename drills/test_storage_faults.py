"""Drills: the primary's lease storage fails while it lives, or loses its tail in a crash.

Storage full — runbook
1. Start the pair with the primary's lease directory on a small (2 MiB) tmpfs; wait for its
   normal HA state; lease steady clients; probes keep leasing.
2. Fill that filesystem while the daemon runs. Prove it: df shows 0 KiB free, a 4 KiB write is
   refused ("No space left on device"), and the primary's daemon itself logs a failed lease write.
3. Observe 40 s; free the space (prove a write succeeds again); observe 30 s more.
4. Judge against [drills.storage-full]: clients refused with a NAK, takeover by the partner (or
   none), the longest any client waited, state transitions, duplicates, continuity.

Lost lease-file tail — runbook
1. As for failback: pair ready, steady clients, fresh clients arriving every 5 s.
2. Kill the primary's container; prove it is down; observe 25 s (the partner takes over).
3. Cut the last 30 s of writes (at least 40 records, all if fewer) off the primary's lease file, read it back and prove the cut (records
   before and after, the addresses removed); start the primary.
4. Observe 40 s. Judge against [drills.lease-tail-lost]: whether the returning primary knows
   the leases granted while it was down, hands any address to a second client (duplicates),
   refuses clients (NAKs), and whether clients keep their addresses through the failback.
"""
import pytest

from scenarios.storage_faults import LEASE_TAIL_LOST, STORAGE_FULL


@pytest.mark.longer  # Kea's NAK storm (~78,000 in 40 s) loads both cores: not beside other labs
def test_storage_full(drill):
    drill.run(STORAGE_FULL).assert_verdicts()


def test_lease_tail_lost(drill):
    drill.run(LEASE_TAIL_LOST).assert_verdicts()
