"""The primary dies without warning (SIGKILL of its container: process and network stack gone).

Expected of a healthy pair: the secondary takes over within the pair's threshold, no address is
handed to two clients, and every client keeps its address when it renews or rebinds.
The 30 s window covers Kea's worst case with the bundled timers (partner-down after ~12 s) plus
a rebind of every steady client (T2 = 20 s).
"""
from dhcpdrill.clients import Workload
from dhcpdrill.drill import Scenario
from dhcpdrill.faults import KillServer

KILL_PRIMARY = Scenario(
    name="kill-primary",
    title="Primary killed (SIGKILL), secondary must take over",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
)

KILL_PRIMARY_NEW_CLIENTS = Scenario(
    name="kill-primary-new-clients",
    title="Primary killed while brand-new clients keep arriving (one every 2 s)",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    workload=Workload(fresh_every_s=2.0),
    verdicts=("steady-state", "fault-effective", "takeover", "new-lease-cap", "mclt-cap", "duplicates",
              "continuity", "reply-checksums"),
)
