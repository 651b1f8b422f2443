"""Clock skew between the peers (libfaketime moves one daemon's clock while it runs).

Small skew (35 s): the pair must keep serving and say so in its logs. Large skew (65 s): the
pair's own protection must fire (Kea: both servers go to terminated) without any address going to
two clients; the report says plainly that the pair now needs an operator. The compound drill
shows what that means: once terminated, a lost primary is never taken over. At boot: for pairs
whose protection acts when the peers connect and lifts once the clocks agree (dhcpd refuses the
peer connection while the offset exceeds 60 s), the primary reboots with the wrong clock: the
pair must stay out of its normal state for as long as the skew lasts and return to it once the
clock is corrected. (Skewing a running dhcpd that is already connected broke the connection in
4 of 5 runs here and not at all in the fifth: a race, so the drill does not rely on it.)
"""
from dataclasses import replace

from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import KillServer, Sequence, SkewClock

SKEW_VERDICTS = ("steady-state", "fault-effective", "evidence-consistent", "expected-warnings",
                 "state-transitions", "client-outage", "duplicates", "continuity", "reply-checksums")

SMALL_SKEW = Scenario(
    name="clock-skew-35s",
    title="Primary's clock 35 s ahead for 30 s",
    fault=SkewClock(seconds=35),
    observe_s=30.0,
    after_heal_s=5.0,
    verdicts=SKEW_VERDICTS,
)

LARGE_SKEW = Scenario(
    name="clock-skew-65s",
    title="Primary's clock 65 s ahead for 30 s",
    fault=SkewClock(seconds=65),
    observe_s=30.0,
    after_heal_s=10.0,
    verdicts=SKEW_VERDICTS,
)

SKEW_AT_BOOT = replace(
    LARGE_SKEW,
    name="clock-skew-65s-at-boot",
    title="Primary crashes and boots with its clock 65 s ahead; the clock is corrected 30 s later",
    fault=SkewClock(seconds=65, reboot=True),
    after_heal_s=15.0,
    verdicts=SKEW_VERDICTS + ("heal-to-normal",),
)

SKEW_THEN_KILL = Scenario(
    name="clock-skew-then-kill",
    title="Primary's clock 65 s ahead for 15 s, corrected, then the primary is killed",
    fault=Sequence(steps=(SkewClock(seconds=65), KillServer()), hold_s=15.0, pause_s=5.0),
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "state-transitions",
              "client-outage", "duplicates", "reply-checksums"),
)
