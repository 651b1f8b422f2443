"""The reaper: what a drill session puts on a Docker engine goes away when the session ends,
however it ends.

Each session starts one *sentinel* container running this file and keeps the sentinel's stdin
attached. Docker closes a ``StdinOnce`` container's stdin when that attachment drops, and the
attachment drops when the process holding it exits for any reason (a normal end, Ctrl-C,
``kill -9``, an OOM kill, a CI runner torn down, an ``ssh://`` tunnel that dies). The sentinel then
reads end-of-file and removes everything labelled with its session: containers, networks, and the
DOCKER-USER rules and nftables bridge tables whose names carry the session. It runs on the host's
network with NET_ADMIN (rules and tables live there) and the engine's socket (containers and
networks), as testcontainers' Ryuk does.

A sweep removes only what belongs to a session whose sentinel is no longer running: liveness is
the engine's own word, never a guess from a hostname or a pid. Everything is listed *before* the
live sentinels are read, and a session starts its sentinel before it creates anything, so an
object of a session that starts meanwhile is always spared.

This file runs on the host (the sweep, through a helper container's shell) and inside the
sentinel, so it imports only the standard library and the Docker SDK.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import docker
from docker.errors import APIError, NotFound

SESSION_LABEL, RUN_LABEL, OWNER_LABEL, ROLE_LABEL = ("dhcpdrill.session", "dhcpdrill.run", "dhcpdrill.owner",
                                                     "dhcpdrill.role")
SENTINEL = "sentinel"  # the role label of a session's sentinel container
RULE_TAG = "dhcpdrill:"
BRIDGE_TABLE = "dhcpdrill_"
# The DOCKER-USER chain is in iptables-nft on current hosts and iptables-legacy on older ones.
FIREWALL = r"""
for ipt in iptables-nft iptables-legacy; do
  $ipt -w -n -L DOCKER-USER >/dev/null 2>&1 || continue
  case "$1" in
    list) $ipt -w -S DOCKER-USER 2>/dev/null | grep -e '--comment "\?dhcpdrill:' ; exit 0 ;;
    *) shift; exec $ipt -w "$@" ;;
  esac
done
echo "no DOCKER-USER chain in iptables-nft or iptables-legacy" >&2
exit 3
"""
NAME = re.compile(r"[0-9a-f]+")

Shell = Callable[..., str]
"""Runs ``sh -c script helper *args`` in the host's network namespace and returns its output;
raises on a non-zero exit."""


def rule_tag(session: str, run: str) -> str:
    return f"{RULE_TAG}{session}-{run}"


def table_name(session: str, run: str) -> str:
    return f"{BRIDGE_TABLE}{session}_{run}"


@dataclass(frozen=True)
class Leftover:
    """One object a session put on the engine or the host firewall."""

    session: str
    kind: str  # container, network, rule, table
    name: str
    handle: object = None  # the SDK object, or the iptables arguments that delete the rule

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def firewall_leftovers(shell: Shell) -> list[Leftover]:
    """The DOCKER-USER rules and bridge tables of any session."""
    found = []
    for line in shell(FIREWALL, "list").splitlines():
        parts = line.replace('"', "").split()
        tag = next((p for p in parts if p.startswith(RULE_TAG)), "")
        session = tag[len(RULE_TAG):].partition("-")[0]
        if parts[:2] == ["-A", "DOCKER-USER"] and NAME.fullmatch(session):
            found.append(Leftover(session, "rule", f"DOCKER-USER {tag}", ["-D", *parts[1:]]))
    for table in re.findall(rf"table bridge ({BRIDGE_TABLE}[0-9a-f]+_[0-9a-f]+)", shell("nft list tables bridge")):
        found.append(Leftover(table[len(BRIDGE_TABLE):].partition("_")[0], "table", table, table))
    return found


def engine_leftovers(client: docker.DockerClient) -> list[Leftover]:
    """The containers (sentinels included) and networks of any session."""
    found = []
    for c in client.containers.list(all=True, filters={"label": SESSION_LABEL}, ignore_removed=True):
        found.append(Leftover(c.labels.get(SESSION_LABEL, ""), "container", c.name, c))
    for n in client.networks.list(filters={"label": SESSION_LABEL}):
        found.append(Leftover((n.attrs.get("Labels") or {}).get(SESSION_LABEL, ""), "network", n.name, n))
    return found


def live_sessions(client: docker.DockerClient) -> set[str]:
    """Sessions whose sentinel is running: their process still holds its attachment."""
    running = client.containers.list(filters={"label": f"{ROLE_LABEL}={SENTINEL}", "status": "running"}, ignore_removed=True)
    return {c.labels.get(SESSION_LABEL, "") for c in running}


def remove(items: list[Leftover], shell: Shell) -> list[str]:
    """Remove containers first (a network with endpoints cannot go), then networks, rules and
    tables; return what could not be removed and why. Something already gone is not an error."""
    errors = []
    order = {"container": 0, "network": 1, "rule": 2, "table": 3}
    for item in sorted(items, key=lambda i: order[i.kind]):
        try:
            if item.kind == "container":
                item.handle.remove(force=True, v=True)
            elif item.kind == "network":
                item.handle.remove()
            elif item.kind == "rule":
                shell(FIREWALL, "run", *item.handle)
            else:
                shell('nft list table bridge "$1" >/dev/null 2>&1 || exit 0; nft delete table bridge "$1"', item.handle)
        except NotFound:
            pass
        except APIError as exc:
            errors.append(f"{item}: {exc.explanation}")
        except Exception as exc:  # noqa: BLE001 - the shell's own failure, reported with the object
            errors.append(f"{item}: {exc}")
    return errors


def engine_mark(client: docker.DockerClient) -> str:
    """Four hex digits naming the engine, the first of each session's name on it: a host's
    firewall is shared by every engine on that host, but only this engine's sentinels can be read
    here, so a sweep may judge only the rules and tables of this engine's sessions."""
    return hashlib.sha256(str(client.info().get("ID", "")).encode()).hexdigest()[:4]


def sweep(client: docker.DockerClient, shell: Shell) -> tuple[list[Leftover], list[str]]:
    """Remove everything of every session of this engine whose sentinel is not running:
    (removed, errors). Rules and tables of another engine's sessions on the same host are left to
    that engine's sweep (seen here: a second engine's sweep took a live lab's bridge rule)."""
    mark = engine_mark(client)
    items = [i for i in firewall_leftovers(shell) if i.session.startswith(mark)] + engine_leftovers(client)
    live = live_sessions(client)  # read after listing: a session starting meanwhile is live by now
    dead = [i for i in items if i.session not in live]
    return dead, remove(dead, shell)


def reap(client: docker.DockerClient, shell: Shell, session: str) -> list[str]:
    """Remove everything of ``session`` but its sentinel (the sentinel removes itself by exiting)."""
    items = [i for i in firewall_leftovers(shell) + engine_leftovers(client)
             if i.session == session and not (i.kind == "container" and i.handle.labels.get(ROLE_LABEL) == SENTINEL)]
    errors = remove(items, shell)
    print(f"reaped {len(items) - len(errors)} of {len(items)} objects of session {session}", flush=True)
    for error in errors:
        print(f"could not remove {error}", flush=True)
    return errors


def local_shell(script: str, *args: str) -> str:
    done = subprocess.run(["sh", "-c", script, "helper", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"exit status {done.returncode}")
    return done.stdout


def main(argv: list[str]) -> int:
    """The sentinel: say it is watching, wait for its session's process to let go, reap."""
    session = argv[1]
    client = docker.from_env(timeout=60)
    client.ping()
    local_shell("nft list tables bridge")
    print(f"watching session {session}", flush=True)
    sys.stdin.buffer.read()
    return 1 if reap(client, local_shell, session) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
