"""The lab: Docker networks and containers that a drill creates, owns and always removes.

Everything created carries the labels of its session (``dhcpdrill.session``) and run
(``dhcpdrill.run``): teardown is a label query, and the session's sentinel (``reaper.py``)
removes whatever is left if the process dies. Networks are Docker ``internal`` bridges (no NAT,
no route out, no physical interface) addressed from 198.18.0.0/15.

Docker's isolation rules for internal networks drop DHCP's broadcasts (source 0.0.0.0,
destination 255.255.255.255) when the host bridges IPv4 through iptables (br_netfilter). The lab
therefore adds one rule to Docker's DOCKER-USER chain that accepts frames entering *and* leaving
its own bridge (nothing else), and removes it at teardown. The rule is set from a short-lived
helper container on the host's network, so a user who can reach Docker needs no root.

The harness never pulls an image: helpers, checkers and servers run the locally built lab image
(a pulled image of that predictable name would run with NET_ADMIN on the host's network).
Every wait on the engine is bounded.
"""
from __future__ import annotations

import io
import ipaddress
import os
import re
import socket
import tarfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Iterable

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.models.networks import Network
from docker.types import LogConfig

from . import interrupts, reaper
from .timers import ENGINE_PING_S, engine_silence_s
from .problems import LabError
from .timeline import Event
from .waiting import NotReady, until
from .reaper import (FIREWALL, OWNER_LABEL, ROLE_LABEL, RUN_LABEL, SENTINEL, SESSION_LABEL, rule_tag,
                     table_name)

HELPER_TIMEOUT_S = 60.0  # a host helper or a config checker that runs longer is stopped
SENTINEL_READY_S = 30.0
SENTINEL_SCRIPT = "/opt/dhcpdrill/reaper.py"

# A lab container's output is evidence (HA states, syncs, a refused client), read back through
# Docker's log driver. The engine's defaults must not decide whether it survives: a daemon.json
# with "max-size": "10m" (this machine's, and a common production setting) rotated the first
# 30 MB of a 10,000-client server's log away, its start and HA states with them. Room for ~1 GB.
LOG_CONFIG = LogConfig(type=LogConfig.types.JSON, config={"max-size": "256m", "max-file": "4"})
# The first line every lab container prints, numbered per start: a log read back without start 1
# has lost its beginning, and says so instead of looking complete.
START_LINE = "dhcpdrill: container start"
STARTS_FILE = "/tmp/.dhcpdrill-starts"
STARTED = (f'n=$(( $(cat {STARTS_FILE} 2>/dev/null || echo 0) + 1 )); echo $n > {STARTS_FILE}; '
           f'echo "{START_LINE} $n"; exec "$@"')


def holds_first_start(lines: list[tuple[float, str]]) -> bool:
    """Whether a container's output still holds its first start line, which rotation drops with
    the oldest lines. Not necessarily as the first line: Docker copies stdout and stderr apart,
    and a daemon's first stderr lines can come before it, stamped even earlier (dhcpd, in CI)."""
    first = f"{START_LINE} 1"
    return any(text.strip() == first for _, text in lines)


def owner() -> str:
    """Who started a session (shown to people; liveness is the sentinel's, never this)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _EngineAPI(docker.APIClient):
    """The SDK's API client, with the engine's own CA kept for TLS (``DOCKER_CERT_PATH/ca.pem``).

    requests lets ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` replace a session's CA for every
    request (docker-py issue #2433, open), so on a host where either is set (common behind a
    company proxy) every TLS engine fails with "unable to get local issuer certificate" although
    the docker CLI works. The engine's CA is a different trust than the web's: it wins here."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and isinstance(self.verify, str):
            merged["verify"] = self.verify
        return merged


class _EngineClient(docker.DockerClient):
    """``docker.DockerClient`` over ``_EngineAPI`` (the client's only state is its ``api``)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.api = _EngineAPI(*args, **kwargs)


def docker_client() -> docker.DockerClient:
    """The engine named by the environment, as the docker CLI reads it (``DOCKER_HOST``,
    ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``)."""
    try:
        client = _EngineClient.from_env(timeout=60)
        client.ping()
        return client
    except (DockerException, requests.RequestException) as exc:
        raise LabError(f"cannot reach the Docker engine ({exc}); start it, or set DOCKER_HOST") from None


def docker_time(stamp: str) -> float:
    """Docker's RFC 3339 log timestamp (nanoseconds, Z) as epoch seconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float("0." + (frac or "0"))


def engine_socket() -> str:
    """The engine's own socket path on its host, which the sentinel mounts: ``$DHCPDRILL_ENGINE_SOCKET``,
    else the path of a ``unix://`` DOCKER_HOST, else Docker's default."""
    if os.environ.get("DHCPDRILL_ENGINE_SOCKET"):
        return os.environ["DHCPDRILL_ENGINE_SOCKET"]
    host = os.environ.get("DOCKER_HOST", "")
    return host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"


def missing_image(image: str) -> str:
    return (f"the lab image {image} is not on this Docker engine (removed during the run?); the harness "
            "never pulls it from a registry: run the drills again, or `dhcpdrill-check PAIR`, to build it locally")


class Engine:
    """A Docker engine as one drill session uses it: the client, the session's labels, and the
    session's sentinel, which removes everything of the session once this process lets go of it
    (see ``reaper.py``). Use ``start()`` before anything else and ``close()`` at the end."""

    def __init__(self, client: docker.DockerClient, image: str) -> None:
        self.client = client
        self.image = image  # the image the sentinel and the host helpers run
        self.session = reaper.engine_mark(client) + uuid.uuid4().hex[:8]
        self.labels = {SESSION_LABEL: self.session, OWNER_LABEL: owner()}
        self.sentinel: Container | None = None
        self._attachment = None

    def start(self) -> list[str]:
        """Start the sentinel, then sweep sessions whose sentinel is gone; return what was removed."""
        try:
            c = self.client.containers.create(
                self.image, ["python3", SENTINEL_SCRIPT, self.session], name=f"dhcpdrill-{self.session}-sentinel",
                stdin_open=True, auto_remove=True, network_mode="host", cap_add=["NET_ADMIN", "NET_RAW"],
                labels={**self.labels, RUN_LABEL: SENTINEL, ROLE_LABEL: SENTINEL},
                volumes={engine_socket(): {"bind": "/var/run/docker.sock", "mode": "rw"}})
        except ImageNotFound:
            raise LabError(missing_image(self.image)) from None
        except (DockerException, requests.RequestException) as exc:
            raise LabError(f"could not create the session's sentinel: {exc}") from None
        self.sentinel = c
        put_files(c, {SENTINEL_SCRIPT: Path(reaper.__file__).read_bytes()})
        self._attachment = c.attach_socket(params={"stdin": 1, "stream": 1})
        c.start()
        self._wait_watching()
        removed, errors = reaper.sweep(self.client, self.shell)
        if errors:
            raise LabError("could not remove what dead sessions left: " + "; ".join(errors))
        return [str(item) for item in removed]

    def _wait_watching(self) -> None:
        said = ""

        def watching() -> bool | None:
            nonlocal said
            try:
                said = self.sentinel.logs().decode(errors="replace")
            except NotFound:
                return None  # it exited, and auto-remove took it
            return "watching session" in said

        try:
            if until(watching, done=lambda w: w is not False, timeout=SENTINEL_READY_S, every=0.2,
                     what="the session's sentinel to watch"):
                return
        except NotReady:
            pass
        self.close()
        raise LabError(f"the session's sentinel did not start watching within {SENTINEL_READY_S:.0f} s"
                       f"{': ' + said.strip()[-400:] if said.strip() else ''}; it mounts the engine socket "
                       f"{engine_socket()} (set DHCPDRILL_ENGINE_SOCKET to the engine host's socket path)")

    def alive(self) -> bool:
        """Whether the sentinel still runs (a sweep spares the session only while it does)."""
        try:
            self.sentinel.reload()
            return self.sentinel.status == "running"
        except (DockerException, requests.RequestException, AttributeError):
            return False

    def close(self, wait_s: float = 30.0) -> None:
        """Let go of the sentinel: it removes whatever of the session is left, then itself."""
        if self._attachment is not None:
            raw = getattr(self._attachment, "_sock", self._attachment)  # the SDK hands out a SocketIO over it
            for let_go in (lambda: raw.shutdown(socket.SHUT_RDWR), raw.close, self._attachment.close):
                try:
                    let_go()
                except OSError:
                    pass
            self._attachment = None
        if self.sentinel is not None:
            try:
                self.sentinel.wait(timeout=wait_s)
            except (DockerException, requests.RequestException):
                pass  # already gone (auto-removed), or still reaping: it finishes on its own
            self.sentinel = None

    def run_helper(self, command: list[str], *, what: str, image: str | None = None, run: str = "helper",
                   files: dict[str, bytes] | None = None, timeout: float = HELPER_TIMEOUT_S,
                   **options) -> tuple[int, str, str]:
        """Run a short-lived container of the lab image to its end: (exit code, stdout, stderr).
        Never pulls; stopped and removed after ``timeout`` seconds with a clear error."""
        image = image or self.image
        try:
            c = self.client.containers.create(image, command, labels={**self.labels, RUN_LABEL: run}, **options)
        except ImageNotFound:
            raise LabError(missing_image(image)) from None
        except (DockerException, requests.RequestException) as exc:
            raise LabError(f"could not {what}: {exc}") from None
        try:
            if files:
                put_files(c, files)
            c.start()
            try:
                code = c.wait(timeout=timeout).get("StatusCode", -1)
            except requests.RequestException:
                raise LabError(f"could not {what}: the helper container did not finish within {timeout:.0f} s "
                               "(is the Docker engine overloaded or stuck?)") from None
            return code, c.logs(stdout=True, stderr=False).decode(errors="replace"), \
                c.logs(stdout=False, stderr=True).decode(errors="replace")
        except (DockerException, requests.RequestException) as exc:
            raise LabError(f"could not {what}: {exc}") from None
        finally:
            try:
                c.remove(force=True)
            except (DockerException, requests.RequestException):
                pass  # the sentinel removes it at the latest

    def shell(self, script: str, *args: str, what: str = "") -> str:
        """Run a shell script in the host's network namespace, from a short-lived helper container
        (so a user who can reach Docker needs no root); return its output. ``args`` reach the
        script as ``$1``…, never through its text."""
        what = what or "run the host helper"
        code, out, err = self.run_helper(["sh", "-c", script, "helper", *args], what=what, network_mode="host",
                                         cap_add=["NET_ADMIN", "NET_RAW"])
        if code != 0:
            raise LabError(f"could not {what} ({' '.join(args)}): {err.strip() or out.strip() or f'exit {code}'}")
        return out


class Lab:
    """One drill's networks and containers. Use as a context manager: leaving it removes all."""

    def __init__(self, engine: Engine, image: str, artifacts: Path) -> None:
        self.engine = engine
        self.client = engine.client
        self.image = image
        self.run_id = uuid.uuid4().hex[:12]
        self.labels = {**engine.labels, RUN_LABEL: self.run_id}
        self.bridge = f"dd-{self.run_id[:10]}"
        self.artifacts = artifacts
        self.networks: list[Network] = []
        self.containers: dict[str, Container] = {}
        self._rules: list[list[str]] = []
        self._tables: list[str] = []
        self._specs: dict[str, dict] = {}
        self.retired: list[tuple[str, Container]] = []  # (role, container) replaced during the drill
        self.log_gaps: dict[str, float | None] = {}  # container name -> first line kept, when the start was lost

    def __enter__(self) -> "Lab":
        if not self.engine.alive():
            raise LabError("the session's sentinel is not running (removed by hand, or the engine restarted): "
                           "a sweep would treat this run as dead; start the drills again")
        return self

    def __exit__(self, *exc: object) -> None:
        with interrupts.held():  # a second Ctrl-C waits: the lab goes whole, not half
            self.close()

    # -- building ------------------------------------------------------------------------------
    def network(self, subnet: ipaddress.IPv4Network, gateway: str,
                subnet6: ipaddress.IPv6Network | None = None) -> Network:
        """An internal bridge for ``subnet``: the servers' network first, then one per relayed subnet.
        With ``subnet6`` (a DHCPv6 pair's link, inside 2001:2::/48) the bridge is dual-stack."""
        k = len(self.networks)
        bridge = self.bridge if k == 0 else f"dd{k}-{self.run_id[:10]}"
        pools = [docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)]
        if subnet6 is not None:
            if not subnet6.subnet_of(ipaddress.ip_network("2001:2::/48")):
                raise LabError(f"the lab's IPv6 subnet {subnet6} is outside 2001:2::/48 (RFC 5180); refused")
            pools.append(docker.types.IPAMPool(subnet=str(subnet6)))
        ipam = docker.types.IPAMConfig(pool_configs=pools)
        try:
            net = self.client.networks.create(
                f"dhcpdrill-{self.run_id}" + (f"-{k}" if k else ""), driver="bridge", internal=True, ipam=ipam,
                enable_ipv6=subnet6 is not None,
                labels=self.labels, options={"com.docker.network.bridge.name": bridge,
                                             "com.docker.network.bridge.enable_ip_masquerade": "false"})
        except APIError as exc:
            raise LabError(f"could not create the lab network {subnet}: {exc.explanation} "
                           "(another network may use that subnet: `docker network ls`)") from None
        self.networks.append(net)
        rule = ["-I", "DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment",
                "--comment", rule_tag(self.engine.session, self.run_id), "-j", "ACCEPT"]
        self.engine.shell(FIREWALL, "run", *rule, what="change the DOCKER-USER chain")
        self._rules.append(["-D", *rule[1:]])
        return net

    def container(self, role: str, network: Network, ip: str, command: list[str],
                  files: dict[str, bytes] | None = None, environment: dict[str, str] | None = None,
                  sysctls: dict[str, str] | None = None, also_on: list[tuple[Network, str]] | None = None,
                  routes: dict[str, str] | None = None, image: str | None = None,
                  tmpfs: dict[str, str] | None = None, mac: str | None = None,
                  ip6: str | None = None) -> Container:
        """Create, fill with ``files`` and start one container with a fixed address on ``network``
        (its eth0), and on each of ``also_on`` (network, address). ``routes`` (subnet -> next hop,
        or ``dev IFACE`` for a subnet on the link) are set before the command runs, and again whenever
        the container starts. ``tmpfs`` (path -> mount options such as ``size=2m``): a size-limited
        filesystem there, only for a drill whose fault fills it; files put under it before the start
        are hidden by the mount. ``mac``: eth0's MAC address, when not the one Docker derives from the
        address (a real client daemon is a different device each run: ``realclients``)."""
        if routes:
            hops = " && ".join(f"ip route replace {net} {hop if hop.startswith('dev ') else 'via ' + hop}"
                               for net, hop in routes.items())
            command = ["sh", "-c", f'{hops} && exec "$@"', "routes", *command]
        self._specs[role] = dict(network=network, ip=ip, command=command, files=files, environment=environment,
                                 sysctls=sysctls, also_on=also_on or [], tmpfs=tmpfs, mac=mac,
                                 ip6=ip6)
        return self._create(role, image or self.image, f"dhcpdrill-{self.run_id}-{role}", **self._specs[role])

    def replace(self, role: str, image: str, extra_files: dict[str, bytes]) -> Container:
        """Put a new container in ``role``'s place (same address, command, config and settings, the
        given image, ``extra_files`` such as its predecessor's lease file), as an operator who
        reinstalls a server host would. The old container is stopped and taken off the network
        but kept, so its logs stay evidence."""
        old = self.containers[role]
        spec = self._specs[role]
        try:
            old.stop(timeout=1)  # its daemon is already stopped: what remains is the host
            for net in [spec["network"], *(n for n, _ in spec["also_on"])]:
                net.disconnect(old, force=True)
        except (DockerException, requests.RequestException) as exc:
            raise LabError(f"could not retire the {role} container: {exc}") from None
        self.retired.append((role, old))
        files = {**(spec["files"] or {}), **extra_files}
        name = f"dhcpdrill-{self.run_id}-{role}-{len([r for r, _ in self.retired if r == role]) + 1}"
        return self._create(role, image, name, **{**spec, "files": files})

    def _create(self, role: str, image: str, name: str, network: Network, ip: str, command: list[str],
                files: dict[str, bytes] | None, environment: dict[str, str] | None,
                sysctls: dict[str, str] | None, also_on: list[tuple[Network, str]],
                tmpfs: dict[str, str] | None = None, mac: str | None = None, ip6: str | None = None) -> Container:
        try:
            c = self.client.containers.create(
                image, ["sh", "-c", STARTED, "start", *command], name=name, hostname=role, log_config=LOG_CONFIG,
                labels={**self.labels, ROLE_LABEL: role}, environment=environment or {},
                cap_add=["NET_ADMIN", "NET_RAW"], detach=True, network=network.name, sysctls=sysctls or None, tmpfs=tmpfs or None,
                mac_address=mac,
                networking_config={network.name: self.client.api.create_endpoint_config(
                    ipv4_address=ip, **({"ipv6_address": ip6} if ip6 else {}))})
            self.containers[role] = c
            for other, address in also_on:
                other.connect(c, ipv4_address=address)
            if files:
                put_files(c, files)
            c.start()
            return c
        except ImageNotFound:
            raise LabError(missing_image(image)) from None
        except APIError as exc:
            raise LabError(f"could not start the {role} container: {exc.explanation}") from None

    # -- bridge-level cuts -------------------------------------------------------------------
    def host_port(self, role: str) -> str:
        """The host-side interface of a container's eth0, which must be a port of this lab's own
        bridge. The link index is read by a helper of the lab image in the container's network
        namespace (not by a program inside the container, which the pair controls), and the port
        is looked up among the bridge's ports on the host: whatever a daemon does in its
        container, the privileged helper only ever touches this lab's bridge."""
        container = self.containers[role]
        code, out, err = self.engine.run_helper(["cat", "/sys/class/net/eth0/iflink"], image=self.image, run=self.run_id,
                                                network_mode=f"container:{container.id}", what=f"read {role}'s link")
        index = out.strip()
        if code != 0 or not index.isdigit():
            raise LabError(f"cannot find the {role} container's link on the bridge: {(err or out).strip()[:200]}")
        ports = self.engine.shell('ip -o link show master "$1"', self.bridge, what=f"list the ports of {self.bridge}")
        for line in ports.splitlines():
            number, _, rest = line.partition(":")
            if number.strip() == index:
                return rest.split("@")[0].split(":")[0].strip()
        raise LabError(f"the {role} container's link (host index {index}) is not a port of the lab bridge "
                       f"{self.bridge}; nothing was filtered")

    @property
    def cut_table(self) -> str:
        """The name of this lab's bridge table (one per lab: one client cut at a time)."""
        return table_name(self.engine.session, self.run_id)

    def cut_dhcp(self, role: str) -> str:
        """Drop DHCP (UDP 67/68) to and from one container at the bridge: senders succeed,
        the frames never arrive, whatever socket type either side uses. Returns the table name."""
        port, table = self.host_port(role), self.cut_table
        script = ('nft add table bridge "$1" && '
                  'nft add chain bridge "$1" cut "{ type filter hook forward priority -200; }" && '
                  'nft add rule bridge "$1" cut iifname "$2" udp sport 67-68 counter drop && '
                  'nft add rule bridge "$1" cut oifname "$2" udp dport 67-68 counter drop')
        self._tables.append(table)
        self.engine.shell(script, table, port, what="add the bridge filter")
        return table

    def cut_counters(self, table: str) -> int:
        """Frames the cut has dropped so far."""
        out = self.engine.shell('nft list table bridge "$1"', table, what="read the bridge filter")
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))

    def bridge_tables(self) -> list[str]:
        """This session's bridge tables on the host."""
        return [i.name for i in reaper.firewall_leftovers(self.engine.shell)
                if i.kind == "table" and i.session == self.engine.session]

    def heal_cut(self, table: str) -> None:
        errors = reaper.remove([reaper.Leftover(self.engine.session, "table", table, table)], self.engine.shell)
        if errors:
            raise LabError("; ".join(errors))
        if table in self._tables:
            self._tables.remove(table)

    # -- evidence ------------------------------------------------------------------------------
    def containers_by_role(self, roles: Iterable[str]) -> dict[str, Container]:
        return {r: self.containers[r] for r in roles if r in self.containers}

    def log_lines(self, container: Container) -> list[tuple[float, str]]:
        """The container's output, each line stamped by Docker on arrival (the host's clock).
        A log that no longer holds the container's first start line has lost its beginning
        (rotated away, or a log driver that keeps only the latest): ``log_gaps`` says so."""
        raw = container.logs(timestamps=True).decode(errors="replace")
        prefix = f"dhcpdrill-{self.run_id}-"  # primary, primary-2 for its replacement, clients ...
        name = container.name[len(prefix):] if container.name.startswith(prefix) else container.name
        self.save_artifact(f"{name}.log", raw)
        lines = []
        for line in raw.splitlines():
            stamp, _, text = line.partition(" ")
            try:
                lines.append((docker_time(stamp), text))
            except ValueError:
                continue
        if holds_first_start(lines):
            self.log_gaps.pop(container.name, None)
        else:
            self.log_gaps[container.name] = lines[0][0] if lines else None
        return lines

    def read_file(self, container: Container, path: str) -> str:
        """A file from a container, running or not (Docker reads it from the container's layer).
        A file that is not there, or cannot be read, raises ``LabError``: absent evidence is
        never an empty file. Under a tmpfs the lab mounted (a storage drill's) Docker's archive
        reads the directory the mount hides, so the file is read through the running container."""
        mounted = [m for m in (container.attrs.get("HostConfig") or {}).get("Tmpfs") or {}
                   if path == m or path.startswith(m.rstrip("/") + "/")]
        if mounted:
            return self._read_in_tmpfs(container, path, mounted[0])
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

    @staticmethod
    def _read_in_tmpfs(container: Container, path: str, mount: str) -> str:
        try:
            container.reload()
            if container.status != "running":
                raise LabError(f"{path} lived on a tmpfs ({mount}) of {container.name}, which is {container.status}: "
                               "the file went with it")
            code, out = container.exec_run(["cat", path])
        except DockerException as exc:
            raise LabError(f"{path} could not be read from {container.name}: {exc}") from None
        if code != 0:
            raise LabError(f"{path} could not be read from {container.name}: {out.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    def save_artifact(self, name: str, text: str) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        (self.artifacts / name).write_text(text)

    # -- teardown ------------------------------------------------------------------------------
    def close(self) -> None:
        """Remove every container, rule and network of this run; safe to call more than once."""
        session, selector = self.engine.session, {"label": f"{RUN_LABEL}={self.run_id}"}
        try:
            items = [reaper.Leftover(session, "table", t, t) for t in self._tables]
            items += [reaper.Leftover(session, "container", c.name, c)
                      for c in self.client.containers.list(all=True, filters=selector, ignore_removed=True)]
            items += [reaper.Leftover(session, "network", n.name, n) for n in self.client.networks.list(filters=selector)]
            items += [reaper.Leftover(session, "rule", r[-3], r) for r in self._rules]
            errors = reaper.remove(items, self.engine.shell)
        except (DockerException, requests.RequestException) as exc:
            errors = [f"the engine did not answer ({exc}); the session's sentinel removes the rest when it ends"]
        self._rules.clear()
        self._tables.clear()
        self.containers.clear()
        self.networks.clear()
        if errors:
            raise LabError("teardown left something behind: " + "; ".join(errors))


WATCHED_ACTIONS = ("die", "oom", "start", "restart", "kill", "stop", "pause", "unpause")


class EngineWatch:
    """The harness's hold on its engine while a drill runs, as timeline events (source ``engine``):

    - ``engine-watch`` once (``every_s``, ``silence_s``: what ``coverage`` allows), then one
      ``engine-ping`` per answered ``info()``: their silence is the engine's (or the host's) absence;
    - ``engine-unreachable`` (``error``) when an ask fails, ``engine-back`` (``down_s``) when one
      answers again, ``engine-changed`` when the engine answering has another ID than at the start;
    - ``container-event``: what the engine says happened to the lab's containers (died, started,
      killed, paused), read back from Docker's events API after each answered ping, between the
      previous reading and the engine's own time (its ``SystemTime``: a remote engine's clock may
      differ), stamped on the host's clock;
    - ``container-state`` at ``stop`` for each container that was running at ``start`` and no
      longer is, or runs since another start: Docker keeps events in memory only, so a restarted
      engine has forgotten what it did to the containers before it went away; their state has not.

    Events are kept here and handed over at ``stop`` (the timeline is not shared with a thread)."""

    def __init__(self, lab: "Lab", every_s: float = ENGINE_PING_S) -> None:
        self.lab, self.every_s = lab, every_s
        self.events: list[Event] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-watch", daemon=True)
        self._started: dict[str, tuple[str, str | None]] = {}  # container id -> (role, StartedAt)

    def start(self) -> None:
        self._note((time.time(), "engine-watch", {"every_s": self.every_s,
                                                               "silence_s": engine_silence_s(self.every_s)}))
        for role, c in list(self.lab.containers.items()):
            self._started[c.id] = (role, c.attrs.get("State", {}).get("StartedAt") if self._reload(c) else None)
        self._thread.start()

    def stop(self) -> list[Event]:
        """Stop watching; the watch's events, in order."""
        self._stop.set()
        self._thread.join(timeout=self.every_s + 5)
        for cid, (role, started) in self._started.items():
            try:
                state = self.client.api.inspect_container(cid)["State"]
            except NotFound:
                state = {"Status": "removed"}
            except (DockerException, requests.RequestException):
                continue  # the engine is away: engine-unreachable says so
            if state.get("Status") != "running" or state.get("StartedAt") != started:
                finished = state.get("FinishedAt") or ""
                t = docker_time(finished) if finished and not finished.startswith("0001") else time.time()
                self._note((t, "container-state", {"role": role, "status": state.get("Status"),
                                                           "started_at": state.get("StartedAt"), "finished_at": finished,
                                                           "exit_code": state.get("ExitCode")}))
        return sorted(self.events)

    @property
    def client(self) -> docker.DockerClient:
        return self.lab.client

    def _known_start(self, e: dict) -> bool:
        """The start of a container that was already running when the watch began (read back in
        the watch's first second): no restart."""
        role_started = self._started.get(e.get("id"))
        if e.get("Action") != "start" or role_started is None or not role_started[1]:
            return False
        return abs(e.get("timeNano", 0) / 1e9 - docker_time(role_started[1])) < 1.0

    def _note(self, event: tuple[float, str, dict]) -> None:
        self.events.append(Event(event[0], "engine", event[1], event[2]))

    @staticmethod
    def _reload(c: Container) -> bool:
        try:
            c.reload()
            return True
        except (DockerException, requests.RequestException):
            return False

    def _run(self) -> None:
        since: int | None = None
        engine_id, down_since = None, None
        seen: set[tuple] = set()  # a second's events can be read twice, at either end of a reading
        filters = {"type": "container", "label": [f"{RUN_LABEL}={self.lab.run_id}", ROLE_LABEL]}
        while not self._stop.is_set():
            asked = time.time()
            try:
                info = self.client.info()
                now = time.time()
                engine_now = docker_time(info["SystemTime"]) if info.get("SystemTime") else now
                until = int(engine_now)
                events = list(self.client.events(since=since if since is not None else until - 1, until=until,
                                                 filters=filters, decode=True))
            except (DockerException, requests.RequestException, ValueError, KeyError) as exc:
                if down_since is None:
                    down_since = asked
                    self._note((asked, "engine-unreachable", {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}))
                self._stop.wait(self.every_s)
                continue
            if down_since is not None:
                self._note((now, "engine-back", {"down_s": round(now - down_since, 2)}))
                down_since = None
            if engine_id is not None and info.get("ID") != engine_id:
                self._note((now, "engine-changed", {"was": engine_id, "now": info.get("ID")}))
            engine_id = info.get("ID")
            self._note((now, "engine-ping", {}))
            offset = now - engine_now
            for e in events:
                key = (e.get("timeNano"), e.get("id"), e.get("Action"))
                if e.get("Action", "").split(":")[0] not in WATCHED_ACTIONS or key in seen or self._known_start(e):
                    continue
                seen.add(key)
                attrs = e.get("Actor", {}).get("Attributes", {})
                self._note((e["timeNano"] / 1e9 + offset, "container-event",
                                    {"action": e["Action"].split(":")[0], "role": attrs.get(ROLE_LABEL),
                                     "name": attrs.get("name"), "exit_code": attrs.get("exitCode"),
                                     "signal": attrs.get("signal")}))
            since = until
            self._stop.wait(max(0.0, self.every_s - (time.time() - asked)))


def put_files(container: Container, files: dict[str, bytes]) -> None:
    """Copy files (absolute path -> content) into a container, started or not."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", buf.getvalue())
