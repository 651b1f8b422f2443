"""The primary hangs (every process frozen, TCP connections left open) and later thaws.

Expected of a healthy pair: the same as a kill (takeover in time, no duplicates, continuity),
and after the thaw the two servers agree again without handing any address out twice.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import FreezeServer

FREEZE_PRIMARY = Scenario(
    name="freeze-primary",
    title="Primary frozen for 30 s, then thawed",
    fault=FreezeServer(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=20.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "partner-share-held", "takeover-predicted", "state-transitions", "heal-to-normal", "split-brain", "duplicates",
              "continuity", "reply-checksums"),
)
