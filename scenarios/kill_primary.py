"""The primary dies without warning (SIGKILL of its container: process and network stack gone).

Expected of a healthy pair: the secondary takes over within the pair's threshold, no address is
handed to two clients, and every client keeps its address when it renews or rebinds.
At least 30 s are watched (a rebind of every steady client at T2 = 20 s with the bundled
leases); the drill watches longer when the pair's own timers allow a slower takeover, or its
threshold is larger (see dhcpdrill/timers.py): a default-timer Kea pair is watched ~100 s.
``takeover-predicted`` sets the measured takeover beside the interval the config predicts.
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import KillServer

KILL_PRIMARY = Scenario(
    name="kill-primary",
    title="Primary killed (SIGKILL), secondary must take over",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "partner-share-held", "takeover-predicted", "state-transitions", "duplicates", "continuity", "reply-checksums"),
)

KILL_PRIMARY_NEW_CLIENTS = Scenario(
    name="kill-primary-new-clients",
    title="Primary killed while brand-new clients keep arriving (one every 2 s)",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    workload=Workload(fresh_every_s=2.0),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "partner-share-held", "takeover-predicted", "new-lease-cap", "mclt-cap", "duplicates", "continuity",
              "reply-checksums"),
)
