"""Drill: the primary's control agent dies while its DHCP daemon keeps running (Kea pairs whose
peers talk through kea-ctrl-agent; pairs with HA+MT have no agent and skip it).

Runbook
1. Start the pair, wait for its normal HA state, lease steady clients; probes keep leasing.
2. Kill the primary's kea-ctrl-agent (SIGKILL); prove it is gone and kea-dhcp4 still runs.
3. Observe 30 s, start the agent again (prove it runs), observe 25 s more.
4. Judge against [drills.ctrl-agent-down]: split brain, how long clients went unanswered, state
   transitions through the restart, addresses bound to two clients, clients keeping their address.
"""
from scenarios.ctrl_agent import CTRL_AGENT_DOWN


def test_ctrl_agent_down(drill):
    drill.run(CTRL_AGENT_DOWN).assert_verdicts()
