"""The harness installed from its wheel into a team's repository that holds only pair folders
(issue 31): the wheel carries every drill and scenario of this repository, its declared
dependencies cover what it imports, ``pytest --pyargs dhcpdrill.drills --pair PATH`` finds every
drill there, and the evidence names the harness's own commit apart from the team's repository.

Built offline from a copy of this checkout committed to a throwaway git repository (so the build
records a known commit), installed with ``pip --target`` into a folder inside the team's
repository, as a virtualenv inside it would be: before, the evidence took that repository's
commit for the harness's. No Docker: the drills are listed and collected, not run."""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]


def _commit(folder: Path) -> str:
    subprocess.run([*GIT, "init", "-q", str(folder)], check=True)
    subprocess.run([*GIT, "-C", str(folder), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(folder), "commit", "-q", "-m", "snapshot"], check=True)
    return subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """A wheel built from a committed copy of this checkout (its files as git sees them now,
    uncommitted ones too), and that copy's commit."""
    tmp = tmp_path_factory.mktemp("harness")
    source = tmp / "source"
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file() and not name.startswith(("tests/evidence/", "reports/")):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    commit = _commit(source)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp / "dist"), str(source)], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stdout + done.stderr
    return next((tmp / "dist").glob("dhcpdrill-*.whl")), commit


@pytest.fixture(scope="module")
def team(built, tmp_path_factory) -> tuple[Path, Path, str]:
    """A team's repository holding one pair folder (the bundled kea-hot-standby, renamed), with
    the wheel installed into ``site/`` inside it; the repository's own commit."""
    wheel, _ = built
    repo = tmp_path_factory.mktemp("team")
    shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", repo / "pairs" / "ourpair")
    toml = repo / "pairs" / "ourpair" / "pair.toml"
    toml.write_text(toml.read_text().replace('name = "kea-hot-standby"', 'name = "ourpair"'))
    commit = _commit(repo)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(repo / "site"), str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return repo, repo / "site", commit


def _in_team(team, *args: str) -> subprocess.CompletedProcess:
    repo, site, _ = team
    return subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(site)})


def test_the_wheel_carries_every_drill_and_scenario_and_the_commit_it_was_built_from(built):
    wheel, commit = built
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, package in (("scenarios", "dhcpdrill/scenarios"), ("drills", "dhcpdrill/drills")):
        for module in (ROOT / folder).glob("*.py"):
            assert f"{package}/{module.name}" in names, f"{folder}/{module.name} is not in the wheel"
    assert "dhcpdrill/image/Dockerfile" in names
    assert not {n for n in names if n.split("/")[0] in ("scenarios", "drills", "tests", "fixtures")}, \
        "the wheel installs no top-level package but dhcpdrill"
    record = json.loads(zipfile.ZipFile(wheel).read("dhcpdrill/_build.json"))
    assert record == {"git_commit": commit}


def test_every_third_party_import_is_a_declared_dependency():
    """Before: ``requests`` was imported by lab.py and drill.py and declared nowhere."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("[")[0].split("=")[0].strip().lower().replace("-", "_") for d in declared}
    provides = {"junit_xml": "junit_xml", "xdist": "pytest_xdist", "docker": "docker"}
    imported = set()
    for path in [*(ROOT / "dhcpdrill").rglob("*.py"), *(ROOT / "scenarios").glob("*.py"), *(ROOT / "drills").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    beside_the_agent = {p.stem for p in (ROOT / "dhcpdrill").glob("*.py")}  # copied next to it in the client container
    third_party = imported - set(sys.stdlib_module_names) - {"dhcpdrill", "scenarios", "drills"} - beside_the_agent
    assert third_party and "requests" in third_party
    missing = {m for m in third_party if provides.get(m, m) not in names}
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def test_a_team_repository_runs_every_drill_with_one_command(team):
    """``pytest --pyargs dhcpdrill.drills --pair pairs/ourpair``: every drill the pair states is
    known (before: each ``[drills.*]`` table "names no drill of this project")."""
    listed = _in_team(team, "-m", "pytest", "--pyargs", "dhcpdrill.drills", "--pair", "pairs/ourpair",
                      "--drill-catalogue", "-p", "no:cacheprovider")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "names no drill of this project" not in listed.stdout
    assert any(line.split()[:1] == ["kill-primary"] and "-k 'test_kill_primary" in line
               for line in listed.stdout.splitlines()), listed.stdout
    collected = _in_team(team, "-m", "pytest", "--pyargs", "dhcpdrill.drills", "--pair", "pairs/ourpair",
                         "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert ids and all("site/dhcpdrill/drills/test_" in i for i in ids), ids[:3]
    here = subprocess.run([sys.executable, "-m", "pytest", "drills/", "--pair", "fixtures/kea-hot-standby",
                           "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    want = [Path(line).name.replace("[kea-hot-standby", "[ourpair") for line in here.stdout.splitlines() if "::" in line]
    assert want and sorted(Path(i).name for i in ids) == sorted(want)


def test_the_evidence_names_the_harness_commit_and_the_team_repository_apart(team, built):
    """Before: the harness's commit was ``git rev-parse HEAD`` above the installed package, i.e.
    the team's repository when the virtualenv lies in it."""
    repo, _, team_commit = team
    _, harness_commit = built
    asked = _in_team(team, "-c", "import json; from pathlib import Path; from dhcpdrill import provenance as p; "
                                 "print(json.dumps([p.harness_identity(), p.pair_source(Path('pairs/ourpair'))]))")
    assert asked.returncode == 0, asked.stderr
    harness, pairs = json.loads(asked.stdout)
    assert harness["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert harness["git_commit"] == harness_commit != team_commit
    assert "wheel was built" in harness["commit_from"]
    assert pairs == {"folder": "pairs/ourpair", "repository": str(repo), "git_commit": team_commit}
