"""Where the code and the pairs of a run came from, for the evidence manifest.

Two separate questions, never answered from one another:

- **the harness**: its version (the installed distribution's metadata) and the commit of the
  harness's own source. From a git checkout of the harness (``dhcpdrill/`` at the top of a work
  tree, as in this repository or an editable install) that is the checkout's ``HEAD``; installed
  from a wheel it is the commit written into the wheel when it was built (``_build.json``, by
  ``setup.py``). A wheel installed in a virtualenv inside a team's repository lies inside *that*
  repository's work tree: its commit is the team's, not the harness's, and is never taken for it.
- **the pairs**: for each pair folder, the git repository it lies in and that repository's commit
  (a team's repository holding only pair folders), or that it lies in none.

This module imports nothing but the standard library: ``setup.py`` loads it by path at build time.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

BUILD_INFO = "_build.json"  # in the installed package: {"git_commit": ...} of the source the wheel was built from
UNCOMMITTED = " with uncommitted changes"
PACKAGE = Path(__file__).resolve().parent


def _git(folder: Path, *args: str) -> str:
    """``git -C folder ARGS``'s output, stripped; empty when git or the work tree is not there."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def checkout_commit(root: Path) -> str:
    """The commit of the git work tree whose top level is ``root`` (marked when its tracked files
    have uncommitted changes); empty when ``root`` is not the top of a work tree, e.g. the
    site-packages folder of a virtualenv that lies inside some other repository."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != root.resolve():
        return ""
    commit = _git(root, "rev-parse", "HEAD")
    if commit and _git(root, "status", "--porcelain", "--untracked-files=no"):
        commit += UNCOMMITTED
    return commit


def harness_identity(package: Path = PACKAGE) -> dict[str, str]:
    """The harness's version, the commit of its own source, and where that commit was read
    (``commit_from``): the checkout the package runs from, or the record made when its wheel was built."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        ident = {"version": version("dhcpdrill")}
    except PackageNotFoundError:
        ident = {"version": "unknown"}
    commit = checkout_commit(package.parent)
    if commit:
        return {**ident, "git_commit": commit, "commit_from": f"the harness's git checkout {package.parent}"}
    try:
        built = json.loads((package / BUILD_INFO).read_text())
    except (OSError, ValueError):
        built = {}
    if isinstance(built, dict) and isinstance(built.get("git_commit"), str) and built["git_commit"]:
        return {**ident, "git_commit": built["git_commit"],
                "commit_from": f"recorded when the installed wheel was built ({package / BUILD_INFO})"}
    return {**ident, "git_commit": "unknown (not a git checkout, and the installed package records no commit)",
            "commit_from": ""}


def pair_source(folder: Path) -> dict[str, str]:
    """The git repository a pair folder lies in, its commit, and whether the pair's own files
    differ from that commit (changed, or never committed); no repository when it lies in none."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if not top:
        return {"folder": str(folder), "repository": "", "git_commit": "unknown (the pair folder is in no git repository)"}
    commit = _git(folder, "rev-parse", "HEAD") or "unknown (no commit yet)"
    if _git(folder, "status", "--porcelain", "--untracked-files=all", "--", "."):
        commit += " with uncommitted changes in the pair folder"
    return {"folder": str(folder), "repository": top, "git_commit": commit}


def build_record(source: Path) -> dict[str, str] | None:
    """What ``setup.py`` writes into a wheel or sdist built from ``source``: the commit of the
    harness checkout it is (None when it is none, e.g. an unpacked sdist, which carries its own)."""
    commit = checkout_commit(source)
    return {"git_commit": commit} if commit else None
