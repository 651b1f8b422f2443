"""A DHCPv6 drill on a Kea pair: build the dual-stack lab, run the v6 clients, inject the fault,
record everything on one timeline, then judge it (``verdicts6``).

First slice of issue 30: one drill, kill-primary, on a pair from ``fixtures/v6/``. A v6 pair's
folder holds a ``pair.toml`` with ``family = 6`` and the two ``kea-dhcp6`` configs. The lab: one
internal Docker bridge carrying the HA peer link on IPv4 (198.18.0.0/15) and the clients' link on
IPv6 (a /64 of 2001:2::/48, RFC 5180), router advertisements ignored in every container.
"""
from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import agent6, v6timers, verdicts6
from .images import ensure_image
from .lab import Engine, Lab, docker_client
from .problems import LabError, PairError, Problem
from .servers import daemon_command
from .servers.kea6 import CONFIG_PATH, Plan6, log_event, parse_leases6, plan6
from .timeline import Event, Timeline
from .verdicts import Verdict
from .waiting import until

ROLES = ("primary", "secondary")
SERVER_DUID_FILE = "/var/lib/kea/kea-dhcp6-serverid"
NO_RA = {"net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.default.disable_ipv6": "0",
         "net.ipv6.conf.all.accept_ra": "0", "net.ipv6.conf.default.accept_ra": "0",
         "net.ipv6.conf.eth0.accept_ra": "0",
         "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"}
# Every container's command first waits for eth0's link-local address to be usable (Kea binds to
# it, and clients send from it).
LINK_READY = ("for i in $(seq 50); do ip -6 addr show dev eth0 scope link | grep -q inet6 && "
              "! ip -6 addr show dev eth0 | grep -q tentative && break; sleep 0.1; done")
RA_CHECK = "for i in all default eth0; do cat /proc/sys/net/ipv6/conf/$i/accept_ra; done"
KNOWN_DRILL_KEYS = {"max_takeover_s", "max_duplicates", "min_continuity", "max_outage_s"}


@dataclass(frozen=True)
class Pair6:
    """A DHCPv6 pair folder: its manifest's fields and the plan read from its configs."""

    folder: Path
    name: str
    suite: str
    mode: str
    files: dict[str, Path]
    drills: dict[str, dict]
    plan: Plan6


def load_pair6(folder: Path) -> Pair6:
    """Read and validate a v6 pair folder; every problem names the file, the field and the fix."""
    manifest = folder / "pair.toml"
    try:
        raw = tomllib.loads(manifest.read_text())
    except OSError as exc:
        raise PairError([Problem(str(manifest), "-", f"cannot be read ({exc.strerror})",
                                 "give a pair folder with a pair.toml")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PairError([Problem(str(manifest), "-", f"is not valid TOML ({exc})", "fix the syntax there")]) from None
    pair, files = raw.get("pair") or {}, raw.get("files") or {}
    problems = []
    if pair.get("family") != 6:
        problems.append(Problem(str(manifest), "pair.family", f"is {pair.get('family')!r}",
                                "set family = 6: this drill runs DHCPv6 pairs only"))
    if pair.get("server") != "kea":
        problems.append(Problem(str(manifest), "pair.server", f"is {pair.get('server')!r}",
                                "set server = \"kea\": ISC dhcpd has no DHCPv6 failover"))
    if pair.get("mode") != "hot-standby":
        problems.append(Problem(str(manifest), "pair.mode", f"is {pair.get('mode')!r}",
                                "set mode = \"hot-standby\": the first DHCPv6 slice drills hot-standby only"))
    for role in ROLES:
        if not isinstance(files.get(role), str) or not (folder / files[role]).is_file():
            problems.append(Problem(str(manifest), f"files.{role}", f"is {files.get(role)!r}, not a file in {folder}",
                                    f"name the {role}'s kea-dhcp6 config, relative to the pair folder"))
    drills = raw.get("drills") or {}
    for name, entry in drills.items():
        for key in set(entry) - KNOWN_DRILL_KEYS:
            problems.append(Problem(str(manifest), f"drills.{name}.{key}", "unknown key",
                                    f"remove it; known keys: {', '.join(sorted(KNOWN_DRILL_KEYS))}"))
    if problems:
        raise PairError(problems)
    paths = {role: folder / files[role] for role in ROLES}
    return Pair6(folder, str(pair.get("name") or folder.name), str(pair.get("suite", "bookworm")), pair["mode"],
                 paths, drills, plan6(paths, pair["mode"]))


@dataclass
class Result6:
    pair: str
    timeline: Timeline
    verdicts: list[Verdict]
    report: Path

    def assert_verdicts(self) -> None:
        bad = [v for v in self.verdicts if v.status not in (verdicts6.PASS, verdicts6.NOT_JUDGED)]
        assert not bad, "\n".join(f"{v.name}: {v.status.upper()}: {v.reason}" for v in bad) + f"\nevidence: {self.report}"


def kill_primary6(pair: Pair6, reports: Path, observe_s: float = 45.0, steady: int = 6, probes: int | None = None) -> Result6:
    """Kill the primary's container (SIGKILL) once the clients hold their leases; observe."""
    thresholds = pair.drills.get("kill-primary") or {}
    plan = pair.plan
    client = docker_client()
    image = ensure_image(client, pair.suite)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = reports / f"{pair.name}-kill-primary-v6-{stamp}"
    report.mkdir(parents=True, exist_ok=True)
    tl = Timeline()
    engine = Engine(client, image)
    engine.start()
    try:
        with Lab(engine, image, report) as lab:
            net = lab.network(plan.peer_net, str(plan.peer_net[1]), plan.subnet6)
            six = {role: str(plan.subnet6[0x11 + i]) for i, role in enumerate(ROLES)}
            for role in ROLES:
                config = pair.files[role].read_bytes()
                prep = f"{LINK_READY} && mkdir -p /run/kea /var/lib/kea && rm -f /run/kea/*.pid"
                lab.container(role, net, plan.addresses4[role], daemon_command(prep, f"kea-dhcp6 -c {CONFIG_PATH}"),
                              files={CONFIG_PATH: config}, ip6=six[role], sysctls=NO_RA,
                              environment={"KEA_PIDFILE_DIR": "/run/kea", "KEA_LOCKFILE_DIR": "/run/kea"})

            def normal() -> bool:
                return all(any("HA_STATE_TRANSITION" in text and "to HOT-STANDBY state" in text
                               for _, text in lab.log_lines(lab.containers[role])) for role in ROLES)
            until(normal, timeout=60, every=0.5, what="the pair in hot-standby on both servers")
            tl.add(time.time(), "harness", "pair-ready", states={role: "hot-standby" for role in ROLES})
            agent_plan = {"steady": steady, "probes": probes if probes is not None else plan.max_unacked + 2,
                          "probe_hold": 2.0, "probe_gap": 1.0, "pd": bool(plan.pd_pools), "seed": int(lab.run_id[:4], 16),
                          "max_seconds": 600, "steady_timeout": 30}
            files = {"/opt/dhcpdrill/agent6.py": Path(agent6.__file__).read_bytes(),
                     "/opt/dhcpdrill/v6timers.py": Path(v6timers.__file__).read_bytes()}
            client_ip4 = str(plan.peer_net[0x50])
            lab.container("clients", net, client_ip4,
                          ["sh", "-c", f'{LINK_READY} && mkdir -p /var/lib/dhcpdrill && exec "$@"', "agent",
                           "python3", "-u", "/opt/dhcpdrill/agent6.py", json.dumps(agent_plan)],
                          files=files, ip6=str(plan.subnet6[0x50]), sysctls=NO_RA)
            clients = lab.containers["clients"]
            for role in (*ROLES, "clients"):
                code, out = lab.containers[role].exec_run(["sh", "-c", RA_CHECK])
                values = out.decode(errors="replace").split()
                tl.add(time.time(), role, "v6-lab-check", check="accept_ra", values=values)
                if code != 0 or not values or any(v != "0" for v in values):
                    raise LabError(f"{role} would accept router advertisements (accept_ra {values or out[-200:]}); "
                                   "the lab keeps IPv6 to its own 2001:2::/48 addresses")

            def said(kind: str):
                clients.reload()
                lines = clients.logs(stdout=True, stderr=False).decode(errors="replace").splitlines()
                found = [line for line in lines if f'"kind": "{kind}"' in line]
                if not found and clients.status != "running":
                    raise LabError("the v6 client agent exited: " + clients.logs(stderr=True, stdout=False).decode()[-800:])
                return found
            until(lambda: said("steady") or said("steady-failed"), timeout=60, every=0.5,
                  what="the v6 clients' steady or steady-failed")
            if said("steady-failed"):
                raise LabError(f"the v6 clients could not all lease before the fault: {said('steady-failed')[0][:300]}")
            time.sleep(5)  # a few probes' exchanges on the healthy pair
            primary = lab.containers["primary"]
            tl.add(time.time(), "harness", "v6-lab", pair=pair.name, image=image, run_id=lab.run_id, plan=agent_plan,
                   subnet6=str(plan.subnet6), peer_subnet=str(plan.peer_net))
            tl.add(time.time(), "harness", "fault-applied", fault="kill-primary", target="primary", takes_down=["primary"])
            primary.kill(signal="SIGKILL")
            primary.reload()
            tl.add(time.time(), "harness", "fault-verified", fault="kill-primary", target="primary",
                   evidence=f"the primary's container is {primary.status}")
            if primary.status == "running":
                raise LabError("the primary container still runs after SIGKILL")
            time.sleep(observe_s)
            tl.add(time.time(), "harness", "observe-end")
            clients.kill(signal="SIGTERM")
            clients.wait(timeout=15)
            text = lab.read_file(clients, agent6.EVENTS_PATH)
            for line in text.splitlines():
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue
                t, kind = float(raw.pop("t")), raw.pop("kind")
                tl.extend([Event(t, "clients", kind, raw)])
            lab.save_artifact("clients.stderr", clients.logs(stdout=False, stderr=True).decode(errors="replace"))
            for role in ROLES:
                container = lab.containers[role]
                for t, text in lab.log_lines(container):
                    found = log_event(text)
                    if found:
                        tl.add(t, role, found[0], **found[1])
                duid = lab.read_file(container, SERVER_DUID_FILE).strip().replace(":", "").lower()
                tl.add(tl.events[0].t if len(tl) else time.time(), role, "server-duid", duid=duid)
                rows = parse_leases6(lab.read_file(container, plan.lease_file))
                for i, row in enumerate(rows):
                    tl.extend([Event(row.get("start", 0.0), role, "lease6-record", {"row": i, **row})])
    finally:
        engine.close()
    verdicts = verdicts6.kill_primary(tl, thresholds)
    tl.save(report / "timeline.jsonl")
    (report / "verdicts.json").write_text(json.dumps([v.__dict__ for v in verdicts], indent=1))
    return Result6(pair.name, tl, verdicts, report)
