"""Every drill ends judged and reported, whatever was raised: an engine that stops answering
mid-run gives one clear line in the summary and the JUnit, never an escaped traceback."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from dhcpdrill import report
from dhcpdrill.drill import run_drill
from dhcpdrill.lab import Engine
from dhcpdrill.pair import load_pair
from scenarios.kill_primary import KILL_PRIMARY

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"


class DeadClient:
    """A Docker client whose engine went away: every call is refused at the socket."""

    def __getattr__(self, name):
        raise requests.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))")


class DyingEngine(Engine):
    """Answers until the lab is built, then the engine dies (the client raises on every call)."""

    def __init__(self, failure: Exception) -> None:
        self.session, self.labels, self.image = "deadbeef", {}, "dhcpdrill/lab:test"
        self.client = DeadClient()
        self.failure = failure

    def alive(self) -> bool:
        return True

    def run_helper(self, command, **_):
        return 0, "kea-dhcp4 2.2.0\n", ""

    def shell(self, script, *args, what=""):
        raise self.failure


@pytest.mark.parametrize("failure", [requests.ConnectionError("Connection refused"),
                                     requests.ReadTimeout("Read timed out. (read timeout=60)"),
                                     RuntimeError("a fault that raised")])
def test_a_drill_whose_engine_dies_is_judged_and_reported(tmp_path, failure, monkeypatch):
    from dhcpdrill import images
    monkeypatch.setattr(images, "server_versions", lambda engine, tag: "kea-dhcp4 2.2.0; image sha256:test")
    monkeypatch.setattr("dhcpdrill.drill.server_versions", lambda engine, tag: "kea-dhcp4 2.2.0; image sha256:test")
    result = run_drill(DyingEngine(failure), load_pair(BUNDLED), KILL_PRIMARY, "dhcpdrill/lab:test", tmp_path)
    assert result.error, "the failure was swallowed"
    if isinstance(failure, requests.ConnectionError):
        assert result.error.startswith("the Docker engine stopped answering"), result.error
    assert result.verdicts and result.outcome.status == "fail"
    assert result.verdict("steady-state").status != "pass"
    assert (result.run_dir / "timeline.jsonl").is_file()
    junit = ET.fromstring(report.junit_xml([result]))
    errors = [e.get("message") for e in junit.iter("error")]
    assert any(result.error.split(" (")[0] in (m or "") for m in errors), errors
