"""Drill: a partition healed under load (load-balancing pairs).

Heal under load — runbook
1. Start the pair, wait for its normal HA state, lease the pair's population (its [workload]).
2. Refuse the peer link both ways (each server's TCP to its partner answered with a reset), so
   both know at once that the partner is unreachable; clients still reach both. Prove it: a
   connection refused each way and both reject rules counting segments.
3. At once every client starts over with DISCOVER, spread over 5 s (a boot storm): each server
   leases its own half alone and queues the updates it cannot send.
4. Observe 30 s, heal the link (prove both connect again), observe 30 s more, while the servers
   resync: past delayed-updates-limit, a full lease sync with both servers' service off.
5. Judge against [drills.heal-under-load] ([drills.heal-under-load-long]: the same with a 75 s cut): how long clients went unanswered because a server's
   service was off for the sync (lease-sync-gap), the states the pair passed through, queries no
   server answered, NAKs, addresses bound to two clients, split brain.
"""
import pytest

from scenarios.partitions import HEAL_UNDER_LOAD, HEAL_UNDER_LOAD_LONG

# In the default run: ~85 s a run (three runs on kea-load-balancing-storm agree with its pair.toml).


def test_heal_under_load(drill):
    drill.run(HEAL_UNDER_LOAD).assert_verdicts()


@pytest.mark.longer  # two runs so far (fixtures/kea-load-balancing-storm-default-timers), ~150 s
def test_heal_under_load_long(drill):
    """As above with a 75 s cut, longer than Kea's default max-response-delay (60 s)."""
    drill.run(HEAL_UNDER_LOAD_LONG).assert_verdicts()
