"""The CI templates a team copies: valid YAML, scheduled twice a year and on demand, publishing
the JUnit and keeping the evidence archive, and running exactly the commands docs/ci.md gives."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "ci.md").read_text()
SECTION = PAGE.split("## Scheduled drills in CI", 1)[1].split("\n## ", 1)[0]
COMMANDS = {line.strip() for line in SECTION.splitlines() if line.startswith("    ")}


def commands(lines: list[str]) -> set[str]:
    """The harness commands a template runs (pip, pytest, dhcpdrill-*), however they are wrapped."""
    found = set()
    for line in lines:
        for cmd in re.findall(r"((?:pip install|pytest|dhcpdrill-\w+) [^;\n]*?)(?:;|$|\n)", line):
            found.add(cmd.strip())
    return found


def test_the_github_workflow_is_scheduled_twice_a_year_and_runs_the_readmes_commands():
    wf = yaml.safe_load((ROOT / "ci-templates" / "github-actions.yml").read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads a bare `on` as true
    assert [c["cron"] for c in triggers["schedule"]] == ["0 3 1 1,7 *"] and "workflow_dispatch" in triggers
    steps = wf["jobs"]["drills"]["steps"]
    ran = commands([s["run"] for s in steps if "run" in s])
    assert ran == COMMANDS, (ran, COMMANDS)
    junit = next(s for s in steps if "junit-report" in s.get("uses", ""))
    assert junit["with"]["report_paths"] == "reports/junit-drills.xml" and junit["if"] == "always()"
    keep = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert keep["with"]["path"] == "reports/evidence-*.tar.gz" and keep["if"] == "always()"


def test_the_gitlab_job_publishes_junit_keeps_the_archive_and_runs_the_readmes_commands():
    job = yaml.safe_load((ROOT / "ci-templates" / "gitlab-ci.yml").read_text())["dhcp-failover-drills"]
    assert commands(job["script"] + job["after_script"]) == COMMANDS
    assert {r["if"] for r in job["rules"]} == {'$CI_PIPELINE_SOURCE == "schedule"', '$CI_PIPELINE_SOURCE == "web"'}
    assert job["artifacts"]["reports"]["junit"] == "reports/junit-drills.xml"
    assert job["artifacts"]["paths"] == ["reports/evidence-*.tar.gz"] and job["artifacts"]["when"] == "always"
    assert "0 3 1 1,7 *" in (ROOT / "ci-templates" / "gitlab-ci.yml").read_text()


def test_the_readme_says_retention_is_shorter_than_an_audit_cycle():
    assert "shorter than an audit cycle" in SECTION and {"pytest drills/ --pair pairs/ --reports-dir reports/"} <= COMMANDS
