"""Gray failures: a component that is slow, not dead.

Slow primary: the primary's CPU is limited to a few percent of a core while it runs (what a noisy
neighbour, a throttled VM or a runaway process beside the daemon does). It stays alive and answers
its partner's heartbeats, so its partner sees nothing to take over from; its clients wait. The
drill measures what they live through: per-client waits, queries no server answered, leases lost,
and whether the partner ever takes over.

Narrow peer link: what each server sends its partner is capped at 1,000 bytes a second (packets
over the rate dropped, as a saturated or shaped link does; TCP retransmits them) while clients
reach both servers at full speed. Kea holds each reply until the partner has the lease update,
so a narrow link reaches the clients.

Slow peer link: 500 ms added each way to everything the servers send each other (a relay on the
peer path in each server's namespace; this kernel has no netem), clients untouched.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import DelayPeerLink, NarrowPeerLink, ThrottleCpu

SLOW_VERDICTS = ("steady-state", "fault-effective", "evidence-consistent", "state-transitions", "client-outage",
                 "dropped-queries", "load", "duplicates", "continuity", "reply-checksums")

SLOW_PRIMARY = Scenario(
    name="slow-primary",
    title="Primary's CPU limited to 0.002 of a core (2 ms a second) for 30 s, then restored",
    fault=ThrottleCpu(cpus=0.002, period_ms=1000),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=15.0,
    verdicts=SLOW_VERDICTS,
)

NARROW_PEER_LINK = Scenario(
    name="narrow-peer-link",
    title="What each server sends its partner capped at 1,000 bytes/s for 30 s, then uncapped",
    fault=NarrowPeerLink(rate_bytes=1000),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=20.0,
    verdicts=SLOW_VERDICTS + ("split-brain", "heal-to-normal"),
)

SLOW_PEER_LINK = Scenario(
    name="slow-peer-link",
    title="500 ms added each way on the peer link for 30 s, then removed",
    fault=DelayPeerLink(delay_ms=500.0),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=20.0,
    verdicts=NARROW_PEER_LINK.verdicts,
)
