"""The control agent alone fails: for Kea pairs whose peers talk through kea-ctrl-agent.

The primary's kea-dhcp4 keeps serving; only the agent its partner sends heartbeats and lease
updates to is gone, so the partner's requests are refused at once. A healthy pair must keep
every client served, must not end up with both servers serving alone, and must return to its
normal state once the agent is back.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import StopCtrlAgent

CTRL_AGENT_DOWN = Scenario(
    name="ctrl-agent-down",
    title="The primary's kea-ctrl-agent killed for 30 s (kea-dhcp4 keeps serving), then started again",
    fault=StopCtrlAgent(target="primary"),
    dwell_s=5.0,
    observe_s=30.0,
    after_heal_s=25.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "split-brain", "client-outage",
              "state-transitions", "heal-to-normal", "duplicates", "continuity", "reply-checksums"),
)
