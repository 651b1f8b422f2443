"""A rolling upgrade, as a team runs it in a maintenance window: one server at a time, secondary
first, handed over with ha-maintenance-start, stopped, reinstalled from the new Debian suite (same
config, same lease file), started, handed back with ha-maintenance-cancel, back to normal; then
the primary the same way. Clients keep leasing throughout. The suite comes from the pair's
[drills.rolling-upgrade] to_suite; without it the pair's own suite is reinstalled, which makes
this the maintenance-window rehearsal (each server in turn through maintenance and back).
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import RollingUpgrade

ROLLING_UPGRADE = Scenario(
    name="rolling-upgrade",
    title="Rolling upgrade: each server in turn handed over, reinstalled, handed back",
    fault=RollingUpgrade(),
    dwell_s=5.0,
    observe_s=20.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "client-outage", "duplicates",
              "continuity", "lease-conflicts", "reply-checksums"),
)
