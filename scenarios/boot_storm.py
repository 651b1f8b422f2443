"""A boot storm: the primary dies and, within the next seconds, every client starts over.

What a building does when it powers up after the outage that took the primary with it: every
steady client forgets its lease and sends DISCOVER, spread evenly over 5 s from the kill. The
survivor must take over and lease the whole population again, without giving an address to two
clients. Judged per client (``client-outage``: how long each waited for its new lease) and, for
a pair that states a population, the load figures (latency p50/p99, exchanges per second).
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import KillServer

BOOT_STORM = Scenario(
    name="boot-storm",
    title="Primary killed and every client starts over with DISCOVER within 5 s (a building powering up)",
    fault=KillServer(target="primary"),
    dwell_s=5.0,
    observe_s=40.0,
    workload=Workload(storm_s=5.0),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "state-transitions", "duplicates", "client-outage", "reply-checksums"),
)
