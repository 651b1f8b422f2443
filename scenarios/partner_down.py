"""The operator declares the dead primary down (ISC failover's partner-down, set over OMAPI).

What a runbook prescribes once the primary is known to be dead: the secondary is told so, and
may then take over the whole pool, but only MCLT after the declaration (its partner might have
promised those addresses to clients just before it died). New clients keep arriving, so the
secondary's own half of the free pool runs dry and it has to reach for its partner's.
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import DeclarePartnerDown, KillServer, Sequence

PARTNER_DOWN = Scenario(
    name="partner-down",
    title="Primary killed; 12 s later the operator declares it down on the secondary",
    fault=Sequence(steps=(KillServer(), DeclarePartnerDown()), hold_s=12.0, pause_s=0.0),
    dwell_s=5.0,
    observe_s=50.0,  # MCLT (30 s in the bundled pair) and time to grant from the partner's pool
    workload=Workload(fresh_every_s=0.5),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "state-transitions",
              "partner-pool-after-mclt", "mclt-cap", "new-lease-cap", "duplicates", "continuity",
              "reply-checksums"),
)
