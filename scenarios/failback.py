"""The killed primary is repaired and restarted: the pair must resynchronise and hand back.

Expected of a healthy pair: takeover as in kill-primary; after the restart both return to their
normal states, the primary knows every lease the secondary granted while it was down, and every
client keeps its address at its next renewal.
The 40 s after the restart cover Kea's resync plus one renew/rebind cycle (T2 = 20 s).
A brand-new client arrives every 5 s and keeps its lease (renewing it): the leases the survivor
grants while the primary is down must outlive the primary's return, or there is nothing for the
failback to sync (a dhcpd pair's steady clients renew with the dead primary only at T1, and probes
release their leases at once).
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import MaintenanceHandoff, RestartServer

FAILBACK = Scenario(
    name="failback",
    title="Primary killed, restarted after 25 s, pair hands back",
    fault=RestartServer(target="primary"),
    dwell_s=5.0,
    observe_s=25.0,
    after_heal_s=40.0,
    workload=Workload(fresh_every_s=5.0, fresh_keep=True),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "partner-share-held", "takeover-predicted", "state-transitions", "heal-to-normal", "split-brain",
              "duplicates", "continuity", "failback-sync", "continuity-after-heal", "reply-checksums"),
)

MAINTENANCE = Scenario(
    name="maintenance-handoff",
    title="Planned maintenance: partner told first (ha-maintenance-start), primary shut down",
    fault=MaintenanceHandoff(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "client-outage", "state-transitions", "split-brain", "duplicates", "continuity", "reply-checksums"),
)
