"""Database faults: the primary's SQL lease database goes away while the primary itself lives.

Kea's heartbeat reports the HA state, not whether the server can still write leases, so the
standby sees a healthy partner. What clients live through depends on the primary's lease-database
settings (``max-reconnect-tries``, ``reconnect-wait-time``, ``on-fail``): does the primary exit
(and the standby take over), stop serving (clients unanswered), or NAK? Judged against
[drills.database-stopped] and [drills.database-blackholed]; only pairs with a SQL lease database
state them (every other pair skips these drills).
"""
from dataclasses import replace

from dhcpdrill.database_faults import BlackholeDatabase, StopDatabase
from dhcpdrill.scenario import Scenario

VERDICTS = ("steady-state", "fault-effective", "evidence-consistent", "naks", "client-outage",
            "state-transitions", "heal-to-normal", "split-brain", "duplicates", "reply-checksums")

DATABASE_STOPPED = Scenario(
    name="database-stopped",
    title="The primary's lease database shut down for 30 s while the primary runs, then started",
    fault=StopDatabase(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=30.0,
    verdicts=VERDICTS,
)

DATABASE_BLACKHOLED = replace(
    DATABASE_STOPPED,
    name="database-blackholed",
    title="Packets from the primary to its lease database dropped for 30 s (no reset), then let through",
    fault=BlackholeDatabase(target="primary"),
)
