"""A failed drill's assertion message: what a CI log that keeps only the failures must show."""
import dataclasses
import gzip
import json
from pathlib import Path

import pytest

from dhcpdrill.catalogue import known_scenarios
from dhcpdrill.pair import load_pair
from dhcpdrill.runrecord import DrillResult
from dhcpdrill.scenario import verdicts_for
from dhcpdrill.servers import adapter_for
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import judge

ROOT = Path(__file__).resolve().parents[2]


def recorded_peer_partition(hazard: bool) -> DrillResult:
    with gzip.open(ROOT / "tests/evidence/kea-hs-peer-partition.jsonl.gz", "rt") as src:
        tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
    pair = load_pair(ROOT / "fixtures" / tl.first("lab").get("pair"))
    scenario = known_scenarios()["peer-partition"]
    limits = pair.drills[scenario.name]
    if not hazard:
        limits = dataclasses.replace(limits, known_hazard=None)
        pair = dataclasses.replace(pair, drills={**pair.drills, scenario.name: limits})
    verdicts = judge(tl, limits, verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair))
    return DrillResult(pair, scenario, "recorded", Path("reports/run"), 0.0, tl, verdicts)


def test_a_failed_drill_says_every_verdict_the_ha_states_and_where_its_evidence_is():
    with pytest.raises(AssertionError) as failed:
        recorded_peer_partition(hazard=False).assert_verdicts()
    message = str(failed.value)
    assert "split-brain: fail:" in message  # the reason, as before
    assert "verdicts: steady-state pass;" in message and "split-brain fail " in message
    assert "primary states (from the fault): " in message and "partner-down +" in message
    assert "secondary states (from the fault): " in message
    assert "faults: peer-partition heal began +" in message and "peer-partition healed +" in message and "evidence: reports/run" in message


def test_a_drill_failing_as_its_hazard_states_does_not_raise():
    recorded_peer_partition(hazard=True).assert_verdicts()


def test_a_partners_commands_after_the_fault_are_listed_a_silenced_server_shows():
    """Both CI-visible causes of a pair that is hot-standby yet answers no one: a partner's
    dhcp-disable with no enable or sync-complete after it."""
    from dhcpdrill.verdicts import anchor
    result = recorded_peer_partition(hazard=False)
    fault = anchor(result.timeline).t
    result.timeline.add(fault - 1, "primary", "ha-command", command="dhcp-disable")  # before the fault: not listed
    result.timeline.add(fault + 34.8, "primary", "ha-command", command="dhcp-disable")
    assert "primary received: dhcp-disable +34.8 s" in result.failure_context()
