"""Kea pairs whose peers talk through kea-ctrl-agent (Kea 2.2's documented setup, or HA+MT
switched off) are drilled with a lab kea-ctrl-agent beside each kea-dhcp4, said as a rewrite."""
from __future__ import annotations

import json

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import AGENT_CONFIG_PATH, peers_through_ctrl_agent

from .test_pair_validation import both, copy_pair, edit_json, edit_text, ha, no_docker  # noqa: F401


def test_ha_without_multi_threading_gets_a_lab_ctrl_agent_at_its_peer_url(tmp_path):
    folder = copy_pair(tmp_path)
    both(lambda c: ha(c).pop("multi-threading"))(folder)
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    agent = json.loads(plan.files_in_container["secondary"][AGENT_CONFIG_PATH])["Control-agent"]
    assert (agent["http-host"], agent["http-port"]) == (plan.addresses["secondary"], plan.peer_ports["secondary"])
    assert agent["control-sockets"]["dhcp4"] == {"socket-type": "unix", "socket-name": "/run/kea/kea4-ctrl-socket"}
    assert any("the peers talk through kea-ctrl-agent" in r and "standby.json" in r for r in plan.rewrites)
    assert f"kea-ctrl-agent -c {AGENT_CONFIG_PATH} &" in adapter_for(pair).command(pair, "primary")[-1]


def test_ha_mt_pairs_run_no_ctrl_agent(tmp_path):
    pair = load_pair(copy_pair(tmp_path))
    plan = adapter_for(pair).lab_plan(pair)
    assert all(AGENT_CONFIG_PATH not in files for files in plan.files_in_container.values())
    assert not any("kea-ctrl-agent" in r for r in plan.rewrites)
    # The packaged /etc/kea/kea-ctrl-agent.conf exists in every lab image: the command must not
    # take its presence for the lab's agent (a CI run on 2026-12-01 found a packaged agent started
    # beside each HA+MT server, and on Kea 2.6 its FATAL shown as the server's last error).
    command = adapter_for(pair).command(pair, "primary")[-1]
    assert "/etc/kea/kea-ctrl-agent.conf" not in command


@pytest.mark.parametrize("suite, server_mt, ha_mt, via_agent", [
    ("bookworm", None, None, True),             # Kea 2.2: both off by default
    ("trixie", None, None, False),              # Kea 2.4+: HA+MT by default
    ("forky", False, None, True),               # the server single-threaded: HA falls back to the agent
    ("trixie", None, {"http-dedicated-listener": False}, True),
    ("bookworm", True, {"enable-multi-threading": True, "http-dedicated-listener": True}, False),
])
def test_which_pairs_talk_through_the_agent(suite, server_mt, ha_mt, via_agent):
    cfg = {} if server_mt is None else {"multi-threading": {"enable-multi-threading": server_mt}}
    relationship = {} if ha_mt is None else {"multi-threading": ha_mt}
    assert peers_through_ctrl_agent(suite, cfg, relationship) is via_agent
