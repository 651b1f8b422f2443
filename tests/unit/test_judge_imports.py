"""Judging a recorded timeline needs neither the Docker engine's client nor the in-container
agent: an auditor re-judges an archive on a machine with no Docker, and older timelines (no
recorded rhythm) take the default workload's from ``timers.client_rhythm_s``, not from ``drill``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST_ONLY = ("docker", "requests", "dhcpdrill.lab", "dhcpdrill.drill", "dhcpdrill.agent")

JUDGE = """
import gzip, json, sys
from pathlib import Path
from dhcpdrill import coverage
from dhcpdrill.expectations import Thresholds
from dhcpdrill.outcome import decide
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import judge
with gzip.open(Path(sys.argv[1]), "rt") as src:
    tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
tl = Timeline(e for e in tl.events if e.kind != "rhythm")  # as every archive recorded before the rhythm was
assert tl.first("rhythm") is None
verdicts = judge(tl, Thresholds(max_takeover_s=60.0), ("steady-state", "fault-effective", "takeover", "duplicates", "continuity"))
decide(verdicts, None, None)
coverage.gaps(tl)
print(json.dumps(sorted(m for m in sys.modules if m in {hosts})))
"""


def loaded_by(script: str, *args: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_judging_a_recorded_timeline_without_its_rhythm_loads_no_docker_nor_agent():
    timeline = ROOT / "tests" / "evidence" / "kea-hs-kill-primary-engine-killed.jsonl.gz"
    assert loaded_by(JUDGE.replace("{hosts}", repr(set(HOST_ONLY))), str(timeline)) == []


def test_the_agent_takes_its_request_tries_from_the_plan_the_harness_gives_it():
    """The judge's REQUEST_TRIES and the agent's are one number: the agent has none of its own."""
    from dhcpdrill.agent import Agent
    from dhcpdrill.clients import REQUEST_TRIES
    assert "REQUEST_TRIES" not in vars(__import__("dhcpdrill.agent", fromlist=["x"]))
    agent = Agent({"steady_clients": 0, "probe_clients": 0, "request_tries": REQUEST_TRIES}, sockets=False)
    assert agent.request_tries == REQUEST_TRIES
