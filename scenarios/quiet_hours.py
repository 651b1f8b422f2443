"""Quiet hours: the primary dies at night, and only the site's own night traffic can tell the
standby (Kea HA) that its partner is gone.

A Kea standby declares partner-down only once more than max-unacked-clients distinct clients
have broadcast with ``secs`` above max-ack-delay (see dhcpdrill/quiet.py for Kea's code). At
night that is a few new devices an hour and the active clients' rebinds at T2 (their renewals go
unicast to the dead primary): with 12 h leases, hours. Every other Kea drill keeps
max-unacked-clients + 1 probes retrying, which manufactures those clients.

Here the lab adds nothing the site would not send: the pair's ``[workload.night]`` active clients
lease before the fault and then follow the configs' own T1/T2 (never woken); the new clients that
arrive before the predicted takeover are replayed after the fault, their gaps compressed into the
window (equivalent for Kea's decision: ``drill.quiet_plan``); the harness's probes send
``secs = 0`` always, so Kea records them but never counts them unacked.
Expected of most pairs: no takeover in the window (the finding, bounded as the pair's known
hazard), with the fix the config allows (max-unacked-clients: 0) predicted beside it.
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import KillServer

KILL_PRIMARY_QUIET_HOURS = Scenario(
    name="kill-primary-quiet-hours",
    title="Primary killed at night: only the site's night traffic (and probes Kea never counts) reach the standby",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=60.0,
    workload=Workload(steady_clients=0, probe_clients=2, passive_probes=True),
    period="night",
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "client-outage",
              "state-transitions", "duplicates", "reply-checksums"),
)
