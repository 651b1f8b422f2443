"""The lab: Docker networks and containers that a drill creates, owns and always removes.

Everything created carries the labels ``dhcpdrill.run`` (this drill) and ``dhcpdrill.owner``
(host and process), so teardown is a label query and ``sweep`` removes what a crashed or
interrupted run left behind. Networks are Docker ``internal`` bridges (no NAT, no route out, no
physical interface) addressed from 198.18.0.0/15.

Docker's isolation rules for internal networks drop DHCP's broadcasts (source 0.0.0.0,
destination 255.255.255.255) when the host bridges IPv4 through iptables (br_netfilter). The lab
therefore adds one rule to Docker's DOCKER-USER chain that accepts frames entering *and* leaving
its own bridge (nothing else), and removes it at teardown. The rule is set from a short-lived
helper container on the host's network, so a user who can reach Docker needs no root.
"""
from __future__ import annotations

import io
import ipaddress
import os
import re
import socket
import tarfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Iterable

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from docker.models.networks import Network

from .problems import LabError

RUN_LABEL, OWNER_LABEL = "dhcpdrill.run", "dhcpdrill.owner"
RULE_TAG = "dhcpdrill:"
BRIDGE_TABLE = "dhcpdrill_"
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


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
        return client
    except DockerException as exc:
        raise LabError(f"cannot reach the Docker engine ({exc}); start it, or set DOCKER_HOST") from None


def docker_time(stamp: str) -> float:
    """Docker's RFC 3339 log timestamp (nanoseconds, Z) as epoch seconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float("0." + (frac or "0"))


def host_shell(client: docker.DockerClient, image: str, script: str, *args: str, what: str = "") -> str:
    """Run a shell script in the host's network namespace, from a short-lived helper container
    (so a user who can reach Docker needs no root); return its output."""
    try:
        out = client.containers.run(image, ["sh", "-c", script, "helper", *args], network_mode="host",
                                    cap_add=["NET_ADMIN", "NET_RAW"], remove=True, stderr=True,
                                    labels={OWNER_LABEL: owner(), RUN_LABEL: "helper"})
    except docker.errors.ContainerError as exc:
        raise LabError(f"could not {what or 'run the host helper'} ({' '.join(args)}): "
                       f"{exc.stderr.decode(errors='replace').strip() if exc.stderr else exc}") from None
    return out.decode(errors="replace")


def _firewall(client: docker.DockerClient, image: str, *args: str) -> str:
    return host_shell(client, image, FIREWALL, *args, what="change the DOCKER-USER chain")


class Lab:
    """One drill's networks and containers. Use as a context manager: leaving it removes all."""

    def __init__(self, client: docker.DockerClient, image: str, artifacts: Path) -> None:
        self.client = client
        self.image = image
        self.run_id = uuid.uuid4().hex[:12]
        self.labels = {RUN_LABEL: self.run_id, OWNER_LABEL: owner()}
        self.artifacts = artifacts
        self.networks: list[Network] = []
        self.containers: dict[str, Container] = {}
        self._rules: list[list[str]] = []
        self._tables: list[str] = []

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building ------------------------------------------------------------------------------
    def network(self, subnet: ipaddress.IPv4Network, gateway: str) -> Network:
        bridge = f"dd-{self.run_id[:10]}"
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)])
        try:
            net = self.client.networks.create(
                f"dhcpdrill-{self.run_id}", driver="bridge", internal=True, ipam=ipam, labels=self.labels,
                options={"com.docker.network.bridge.name": bridge,
                         "com.docker.network.bridge.enable_ip_masquerade": "false"})
        except APIError as exc:
            raise LabError(f"could not create the lab network {subnet}: {exc.explanation} "
                           "(another network may use that subnet: `docker network ls`)") from None
        self.networks.append(net)
        rule = ["-I", "DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment",
                "--comment", f"{RULE_TAG}{self.run_id}", "-j", "ACCEPT"]
        _firewall(self.client, self.image, "run", *rule)
        self._rules.append(["-D", *rule[1:]])
        return net

    def container(self, role: str, network: Network, ip: str, command: list[str],
                  files: dict[str, bytes] | None = None, environment: dict[str, str] | None = None,
                  sysctls: dict[str, str] | None = None) -> Container:
        """Create, fill with ``files`` and start one container with a fixed address."""
        try:
            c = self.client.containers.create(
                self.image, command, name=f"dhcpdrill-{self.run_id}-{role}", hostname=role,
                labels={**self.labels, "dhcpdrill.role": role}, environment=environment or {},
                cap_add=["NET_ADMIN", "NET_RAW"], detach=True, network=network.name, sysctls=sysctls or None,
                networking_config={network.name: self.client.api.create_endpoint_config(ipv4_address=ip)})
            self.containers[role] = c
            if files:
                put_files(c, files)
            c.start()
            return c
        except APIError as exc:
            raise LabError(f"could not start the {role} container: {exc.explanation}") from None

    # -- bridge-level cuts -------------------------------------------------------------------
    def host_port(self, role: str) -> str:
        """The host-side interface of a container's eth0 on the lab bridge."""
        code, out = self.containers[role].exec_run(["cat", "/sys/class/net/eth0/iflink"])
        index = out.decode().strip()
        if code != 0 or not index.isdigit():
            raise LabError(f"cannot find the {role} container's link on the bridge: {out.decode(errors='replace')}")
        for line in host_shell(self.client, self.image, "ip -o link show", what="list host links").splitlines():
            number, _, rest = line.partition(":")
            if number.strip() == index:
                return rest.split("@")[0].split(":")[0].strip()
        raise LabError(f"no host interface with index {index} for the {role} container")

    def cut_dhcp(self, role: str) -> str:
        """Drop DHCP (UDP 67/68) to and from one container at the bridge: senders succeed,
        the frames never arrive, whatever socket type either side uses. Returns the table name."""
        port, table = self.host_port(role), f"{BRIDGE_TABLE}{self.run_id}"
        script = (f"nft add table bridge {table} && "
                  f"nft add chain bridge {table} cut '{{ type filter hook forward priority -200; }}' && "
                  f"nft add rule bridge {table} cut iifname {port} udp sport 67-68 counter drop && "
                  f"nft add rule bridge {table} cut oifname {port} udp dport 67-68 counter drop")
        host_shell(self.client, self.image, script, what="add the bridge filter")
        self._tables.append(table)
        return table

    def cut_counters(self, table: str) -> int:
        """Frames the cut has dropped so far."""
        out = host_shell(self.client, self.image, f"nft list table bridge {table}", what="read the bridge filter")
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))

    def bridge_tables(self) -> list[str]:
        out = host_shell(self.client, self.image, "nft list tables bridge", what="list bridge tables")
        return re.findall(rf"table bridge ({BRIDGE_TABLE}\w+)", out)

    def heal_cut(self, table: str) -> None:
        drop_tables(self.client, self.image, [table])
        if table in self._tables:
            self._tables.remove(table)

    # -- evidence ------------------------------------------------------------------------------
    def containers_by_role(self, roles: Iterable[str]) -> dict[str, Container]:
        return {r: self.containers[r] for r in roles if r in self.containers}

    def log_lines(self, container: Container) -> list[tuple[float, str]]:
        """The container's output, each line stamped by Docker on arrival (the host's clock)."""
        raw = container.logs(timestamps=True).decode(errors="replace")
        self.save_artifact(f"{container.labels.get('dhcpdrill.role', container.name)}.log", raw)
        lines = []
        for line in raw.splitlines():
            stamp, _, text = line.partition(" ")
            try:
                lines.append((docker_time(stamp), text))
            except ValueError:
                continue
        return lines

    def read_file(self, container: Container, path: str) -> str:
        """A file from a container, running or not (Docker reads it from the container's layer).
        A file that is not there, or cannot be read, raises ``LabError``: absent evidence is
        never an empty file."""
        try:
            stream, _ = container.get_archive(path)
        except NotFound:
            raise LabError(f"{path} does not exist in {container.name}") from None
        except DockerException as exc:
            raise LabError(f"{path} could not be read from {container.name}: {exc}") from None
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            data = tar.extractfile(member) if member else None
            return data.read().decode(errors="replace") if data else ""

    def save_artifact(self, name: str, text: str) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        (self.artifacts / name).write_text(text)

    # -- teardown ------------------------------------------------------------------------------
    def close(self) -> None:
        """Remove every container, rule and network of this run; safe to call more than once."""
        errors = drop_tables(self.client, self.image, self._tables)
        errors += remove_run(self.client, self.run_id) + drop_rules(self.client, self.image, self._rules)
        self._rules.clear()
        self._tables.clear()
        self.containers.clear()
        self.networks.clear()
        if errors:
            raise LabError("teardown left something behind: " + "; ".join(errors))


def put_files(container: Container, files: dict[str, bytes]) -> None:
    """Copy files (absolute path -> content) into a container, started or not."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", buf.getvalue())


def drop_tables(client: docker.DockerClient, image: str, tables: list[str]) -> list[str]:
    errors = []
    for table in tables:
        try:
            host_shell(client, image, f"nft list table bridge {table} >/dev/null 2>&1 || exit 0; "
                                      f"nft delete table bridge {table}", what="remove the bridge filter")
        except LabError as exc:
            errors.append(str(exc))
    return errors


def drop_rules(client: docker.DockerClient, image: str, rules: list[list[str]]) -> list[str]:
    errors = []
    for rule in rules:
        try:
            _firewall(client, image, "run", *rule)
        except LabError as exc:
            errors.append(str(exc))
    return errors


def remove_run(client: docker.DockerClient, run_id: str) -> list[str]:
    """Remove the containers (first) and networks labelled with ``run_id``."""
    errors = []
    selector = f"{RUN_LABEL}={run_id}"
    for c in client.containers.list(all=True, filters={"label": selector}):
        try:
            c.remove(force=True, v=True)
        except NotFound:
            pass
        except APIError as exc:
            errors.append(f"container {c.name}: {exc.explanation}")
    for net in client.networks.list(filters={"label": selector}):
        try:
            net.remove()
        except NotFound:
            pass
        except APIError as exc:
            errors.append(f"network {net.name}: {exc.explanation}")
    return errors


def _alive(owner_label: str) -> bool:
    host, _, pid = owner_label.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's run: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(client: docker.DockerClient, image: str | None) -> list[str]:
    """Remove what earlier runs on this host left behind (their process is gone); return names.

    Runs of live processes (a drill running in another terminal) are left alone; so are runs
    started on other hosts of a shared Docker engine.
    """
    removed, runs = [], set()
    for obj in [*client.containers.list(all=True, filters={"label": OWNER_LABEL}),
                *client.networks.list(filters={"label": OWNER_LABEL})]:
        labels = obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}
        if not _alive(labels.get(OWNER_LABEL, "")):
            runs.add(labels.get(RUN_LABEL))
            removed.append(obj.name)
    for run in runs:
        remove_run(client, run)
    if image is None:
        return removed
    live = {n.attrs.get("Labels", {}).get(RUN_LABEL) for n in client.networks.list(filters={"label": RUN_LABEL})}
    stale = []
    for line in _firewall(client, image, "list").splitlines():
        parts = line.replace('"', "").split()
        tag = next((p for p in parts if p.startswith(RULE_TAG)), "")
        if parts[:2] == ["-A", "DOCKER-USER"] and tag and tag[len(RULE_TAG):] not in live:
            stale.append(["-D", *parts[1:]])
            removed.append(f"DOCKER-USER rule {tag}")
    drop_rules(client, image, stale)
    tables = re.findall(rf"table bridge ({BRIDGE_TABLE}\w+)", host_shell(client, image, "nft list tables bridge"))
    stale_tables = [t for t in tables if t[len(BRIDGE_TABLE):] not in live]
    drop_tables(client, image, stale_tables)
    return removed + [f"bridge table {t}" for t in stale_tables]
