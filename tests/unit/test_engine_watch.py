"""The harness's hold on its engine (``lab.EngineWatch``), against a stand-in for the Docker SDK:
what it records when the engine goes away and comes back, what Docker says of the lab's
containers, and what their state says when Docker itself has forgotten (a restarted engine)."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from types import SimpleNamespace

import requests

from dhcpdrill import coverage
from dhcpdrill.lab import EngineWatch
from dhcpdrill.timeline import Event, Timeline


class FakeEngine:
    """info() and events() as the SDK gives them; ``away`` makes every ask fail as a killed dockerd's socket does."""

    def __init__(self) -> None:
        self.away = False
        self.pending: list[dict] = []
        self.states = {"c-secondary": {"Status": "running", "StartedAt": "2026-12-07T08:00:00.000000000Z"}}
        self.api = SimpleNamespace(inspect_container=lambda cid: {"State": self.states[cid]})

    def info(self) -> dict:
        if self.away:
            raise requests.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))")
        return {"ID": "engine-1", "SystemTime": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}

    def events(self, **_) -> list[dict]:
        out, self.pending = self.pending, []
        return out


def test_an_engine_that_goes_away_and_a_container_that_died_are_on_the_record_and_make_the_drill_unknown():
    engine = FakeEngine()
    secondary = SimpleNamespace(id="c-secondary", attrs={"State": dict(engine.states["c-secondary"])},
                                reload=lambda: None)
    lab = SimpleNamespace(client=engine, containers={"secondary": secondary}, run_id="r1")
    watch = EngineWatch(lab, every_s=0.1)
    watch.start()
    time.sleep(0.35)
    engine.pending = [{"Type": "container", "Action": "die", "id": "c-secondary", "timeNano": time.time_ns(),
                       "Actor": {"Attributes": {"dhcpdrill.role": "secondary", "exitCode": "137"}}}]
    time.sleep(0.25)
    engine.away = True
    time.sleep(0.6)
    engine.away = False
    engine.states["c-secondary"] = {"Status": "exited", "StartedAt": "2026-12-07T08:00:00.000000000Z",
                                    "FinishedAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                                    "ExitCode": 137}
    time.sleep(0.3)
    events = watch.stop()
    kinds = [e.kind for e in events]
    assert kinds[0] == "engine-watch" and kinds.count("engine-unreachable") == 1 and kinds.count("engine-back") == 1
    assert "FileNotFoundError" in next(e for e in events if e.kind == "engine-unreachable").get("error")
    died = next(e for e in events if e.kind == "container-event")
    assert died.data == {"action": "die", "role": "secondary", "name": None, "exit_code": "137", "signal": None}
    state = next(e for e in events if e.kind == "container-state")
    assert state.get("role") == "secondary" and state.get("status") == "exited" and state.get("exit_code") == 137

    start = events[0].t
    tl = Timeline([Event(start - 1, "harness", "fault-applied", {"target": "primary"}), *events,
                   Event(time.time(), "harness", "observe-end")])
    gaps = {g.source: g for g in coverage.gaps(tl)}
    # pinged every 0.1 s here, not the harness's 1 s: the judge says its limits are not these
    assert set(gaps) == {"the Docker engine", "the secondary container", "the recorded engine-watch"}
    assert gaps["the Docker engine"].kinds is None and "the engine did not answer" in gaps["the Docker engine"].why
    assert 0.5 < gaps["the Docker engine"].end - gaps["the Docker engine"].start < 1.2
    assert gaps["the secondary container"].why == "it died (exit code 137) and no fault targeted it"
