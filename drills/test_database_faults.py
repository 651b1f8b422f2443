"""Drills: the primary's SQL lease database stopped, or blackholed, while the primary serves.

Runbook (both)
1. Start the pair and its lease databases (PostgreSQL containers, schema by kea-admin db-init);
   wait for the normal HA state; lease steady clients; probes keep leasing.
2. Stop the primary's database (pg_ctl stop -m fast), or drop the primary's packets to it in the
   database's namespace. Prove it: the database is down and the primary's daemon logs the loss;
   or the rule counted the daemon's own packets and a new connection times out.
3. Observe 30 s; start the database again or remove the rule; observe 30 s more.
4. Judge against [drills.database-stopped] / [drills.database-blackholed]: NAKs, the longest any
   client waited, state transitions, heal to normal, duplicates.
Only pairs with a SQL lease database state these drills (fixtures/sql/); every other pair skips them.
"""
from scenarios.database_faults import DATABASE_BLACKHOLED, DATABASE_STOPPED


def test_database_stopped(drill):
    drill.run(DATABASE_STOPPED).assert_verdicts()


def test_database_blackholed(drill):
    drill.run(DATABASE_BLACKHOLED).assert_verdicts()
