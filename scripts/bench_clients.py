#!/usr/bin/env python3
"""Benchmark: the harness's client engine against Kea's own load generator, perfdhcp.

Prints figures; it is not a test. Against the same targets, in one run, alternating the two
tools, ``--rounds`` times:

  * ``single``: one Kea server without HA on a /16 (memfile, as the bundled pairs);
  * ``ha``: the bundled hot-standby configs (fixtures/kea-hot-standby-1k: the bundled pair's
    configs on a /21) as the drills start them.

For each tool the highest offered rate (DORA exchanges begun per second) at which at most
``--max-unanswered`` of the exchanges (DISCOVER->OFFER, REQUEST->ACK) went unanswered within
1 s: the rate doubles from ``--start`` until it fails, then is bisected ``--steps`` times.
Both tools run in the same lab image, in a container of their own on the lab network, with
the same number of distinct clients, the same ones in every round (each tool's clients keep
their leases between trials, so each gets half the pool at most). perfdhcp acts as a relay (giaddr its own address), as it
does by default; the engine sends as clients do (broadcast DISCOVER, no retransmission here).

Also ``population``: how fast each agent leases a population of ``--population`` clients (leases
per second, from the agent's start to its ``steady`` event), today's engine (arrivals paced at
``--arrival`` a second) against the scapy agent it replaced (``--old-agent``, default: that file at
commit 323b0b2; it starts every client at once and sends as fast as scapy lets it).

    python3 scripts/bench_clients.py                 # everything, 3 rounds (about 15 minutes)
    python3 scripts/bench_clients.py --targets single --rounds 1
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dhcpdrill import relay  # noqa: E402
from dhcpdrill.clients import AGENT_IN_CONTAINER, AGENT_SOURCE, REQUEST_TRIES, agent_files  # noqa: E402
from dhcpdrill.images import ensure_image  # noqa: E402
from dhcpdrill.lab import Engine, Lab, docker_client  # noqa: E402
from dhcpdrill.pair import load_pair  # noqa: E402
from dhcpdrill.servers import adapter_for, daemon_command  # noqa: E402

EVENT_HEAD = re.compile(r'^\{"t":\s*([0-9.]+),\s*"kind":\s*"([a-z-]+)"', re.M)
SINGLE_NET = ipaddress.ip_network("198.19.0.0/16")
SINGLE_SERVER, SINGLE_CLIENT, SINGLE_GATEWAY = "198.19.0.2", "198.19.0.3", "198.19.255.254"
SINGLE_CONFIG = {
    "Dhcp4": {
        "interfaces-config": {"interfaces": ["eth0"], "dhcp-socket-type": "raw"},
        "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 3600},
        "valid-lifetime": 3600, "renew-timer": 900, "rebind-timer": 1800,
        "subnet4": [{"id": 1, "subnet": str(SINGLE_NET),
                     "pools": [{"pool": "198.19.1.0 - 198.19.254.255"}]}],
        "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "WARN"}],
    }
}


class Target:
    """Servers up on a lab network, and where a load generator sits beside them."""

    def __init__(self, name: str, lab: Lab, server: str, client_ip: str, network, clients: int) -> None:
        self.name, self.lab, self.server, self.client_ip, self.network, self.clients = \
            name, lab, server, client_ip, network, clients
        self.trials = 0

    def run(self, command: list[str], files: dict[str, bytes] | None = None, timeout: float = 120) -> str:
        """Run one load generator to its end in a fresh container; its stdout."""
        self.trials += 1
        role = f"load-{self.trials}"
        c = self.lab.container(role, self.network, self.client_ip, command, files)
        c.wait(timeout=timeout)
        out = c.logs(stdout=True, stderr=True).decode(errors="replace")
        c.remove(force=True)
        del self.lab.containers[role]
        return out


def start_single(lab: Lab) -> Target:
    net = lab.network(SINGLE_NET, SINGLE_GATEWAY)
    lab.container("primary", net, SINGLE_SERVER,
                  daemon_command("mkdir -p /run/kea /var/lib/kea && chmod 0750 /run/kea",
                                 "kea-dhcp4 -c /etc/kea/kea-dhcp4.conf"),
                  {"/etc/kea/kea-dhcp4.conf": json.dumps(SINGLE_CONFIG).encode()},
                  {"KEA_PIDFILE_DIR": "/run/kea", "KEA_LOCKFILE_DIR": "/run/kea"})
    time.sleep(3)
    return Target("single", lab, SINGLE_SERVER, SINGLE_CLIENT, net, 1000)


def start_ha(lab: Lab, pair_folder: Path) -> Target:
    pair = load_pair(pair_folder)
    adapter, plan = adapter_for(pair), adapter_for(pair).lab_plan(pair)
    gateway, client_ip = plan.spare_addresses()[:2]
    net = lab.network(plan.subnet, gateway)
    for role in ("primary", "secondary"):
        lab.container(role, net, plan.ids[role], adapter.command(pair, role), plan.files_in_container[role],
                      dict(adapter.environment), pair.sysctls, routes=relay.routes(plan))
    adapter.wait_ready(lab, pair, 60)
    capacity = sum(int(hi) - int(lo) + 1 for lo, hi in plan.pools)
    # Both tools' clients hold their leases between trials: half the pool each, less a margin.
    return Target("ha", lab, plan.ids["primary"], client_ip, net, max(1, capacity // 2 - 10))


def engine_trial(t: Target, rate: float, seconds: float, seed: int) -> tuple[float, dict]:
    plan = {"steady_clients": t.clients, "probe_clients": 0, "mac_seed": seed, "request_tries": REQUEST_TRIES,
            "links": [{"ip": t.client_ip, "subnet": "", "label": ""}],
            "bench": {"rate": rate, "seconds": seconds, "drop_time": 1.0}}
    out = t.run(["python3", "-u", AGENT_IN_CONTAINER, json.dumps(plan)], agent_files())
    found = [json.loads(line) for line in out.splitlines() if '"kind":"bench"' in line]
    if not found:
        raise RuntimeError(f"the engine said no result:\n{out[-2000:]}")
    return found[0]["unanswered_share"], {**found[0], "offered": found[0]["DISCOVER"] / seconds}


def perfdhcp_trial(t: Target, rate: float, seconds: float, seed: int) -> tuple[float, dict]:
    out = t.run(["perfdhcp", "-4", "-l", "eth0", "-r", str(int(rate)), "-R", str(t.clients), "-p", str(int(seconds)),
                 "-d", "1", "-s", str(seed), t.server])
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", out)]
    drops = [int(x) for x in re.findall(r"drops: (\d+)", out)]
    if len(sent) < 2 or len(drops) < 2:
        raise RuntimeError(f"perfdhcp printed no statistics:\n{out[-2000:]}")
    share = sum(drops[:2]) / max(1, sum(sent[:2]))
    return share, {"sent": sent[:2], "drops": drops[:2], "unanswered_share": share, "offered": sent[0] / seconds}


def highest_rate(trial, t: Target, args, seed: int) -> tuple[float, list[str]]:
    """The highest rate at which ``trial`` stays within the unanswered share, and the trials run.
    A trial counts only if the tool really offered the rate (97 % of the DISCOVERs it should have
    sent): a generator that falls behind would otherwise pass at a load it never made."""
    log, ok, bad, rate = [], 0.0, None, float(args.start)

    def passes(rate: float) -> bool:
        share, got = trial(t, rate, args.seconds, seed)
        kept_up = got["offered"] >= 0.97 * rate
        log.append(f"{rate:.0f}/s: {share:.2%}" + ("" if kept_up else f" (offered only {got['offered']:.0f}/s)"))
        return share <= args.max_unanswered and kept_up

    while bad is None and rate <= args.ceiling:
        if passes(rate):
            ok, rate = rate, rate * 2
        else:
            bad = rate
    for _ in range(args.steps if bad is not None and ok else 0):
        rate = (ok + bad) / 2
        if passes(rate):
            ok = rate
        else:
            bad = rate
    return ok, log


def population_rate(t: Target, source: bytes, clients: int, seed: int, arrival_per_s: float) -> tuple[float, float]:
    """Leases per second from the agent's start to its ``steady`` event, from its own events, and
    the CPU seconds its container had used by then (Docker's own count, the agent's start and
    scapy's import included): a figure of the agent itself, where the rate is bounded by the
    server on the same two cores. The
    engine paces its clients' arrival (``arrival_per_s``: a burst of thousands of DISCOVERs at once
    is partly dropped by the server, and the clients then wait out their retransmission timer);
    the scapy agent has no pacing: it starts every client at once and sends as fast as it can."""
    plan = {"steady_clients": clients, "probe_clients": 0, "mac_seed": seed, "steady_timeout": 300,
            "arrival_per_s": arrival_per_s,
            "max_seconds": 330, "links": [{"ip": t.client_ip, "subnet": "", "label": ""}]}
    role = f"pop-{seed}"
    c = t.lab.container(role, t.network, t.client_ip, ["python3", "-u", AGENT_IN_CONTAINER, json.dumps(plan)],
                        agent_files(source))
    deadline, events = time.time() + 330, []
    while time.time() < deadline:
        time.sleep(1)
        # The head of each line only: Docker splits a long line (the scapy agent's steady event
        # lists every lease), so whole lines do not always parse.
        text = c.logs(stdout=True, stderr=False).decode(errors="replace")
        events = [{"t": float(t), "kind": kind} for t, kind in EVENT_HEAD.findall(text)
                  if kind in ("agent-start", "steady", "steady-failed")]
        if any(e["kind"] != "agent-start" for e in events):
            break
    cpu_s = c.stats(stream=False)["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
    c.remove(force=True)
    del t.lab.containers[role]
    start = next((e["t"] for e in events if e["kind"] == "agent-start"), None)
    done = next((e for e in events if e["kind"] in ("steady", "steady-failed")), None)
    if start is None or done is None or done["kind"] != "steady":
        raise RuntimeError(f"{clients} clients never all leased ({done})")
    return clients / (done["t"] - start), cpu_s


def old_agent(commit: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:dhcpdrill/agent.py"], check=True,
                          capture_output=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="single,ha")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0, help="each trial's sending time")
    ap.add_argument("--start", type=float, default=250.0)
    ap.add_argument("--ceiling", type=float, default=64000.0)
    ap.add_argument("--steps", type=int, default=3, help="bisections after the first failing rate")
    ap.add_argument("--max-unanswered", type=float, default=0.01)
    ap.add_argument("--suite", default="bookworm")
    ap.add_argument("--pair", default=str(ROOT / "fixtures" / "kea-hot-standby-1k"),
                    help="the HA pair (default: the bundled hot-standby configs on a /21)")
    ap.add_argument("--population", type=int, default=1000, help="clients for the population lease rate (0: skip)")
    ap.add_argument("--arrival", type=float, default=4000.0, help="the engine's arrival rate for the population")
    ap.add_argument("--population-only", action="store_true", help="skip the rate search")
    ap.add_argument("--old-agent", default="323b0b2", help="commit holding the scapy agent to compare with")
    args = ap.parse_args()

    client = docker_client()
    image = ensure_image(client, args.suite)
    engine = Engine(client, image)
    engine.start()
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for name in args.targets.split(","):
            with Lab(engine, image, Path("/tmp/dhcpdrill-bench")) as lab:
                t = start_single(lab) if name == "single" else start_ha(lab, Path(args.pair))
                print(f"== {name}: server {t.server}, {t.clients} distinct clients, {args.seconds:g} s per trial",
                      flush=True)
                for r in range(args.rounds if not args.population_only else 0):
                    tools = [("engine", engine_trial), ("perfdhcp", perfdhcp_trial)]
                    for tool, trial in tools if r % 2 == 0 else tools[::-1]:
                        rate, log = highest_rate(trial, t, args, seed=1)  # the same clients every round
                        results.setdefault(name, {}).setdefault(tool, []).append(rate)
                        print(f"   round {r + 1} {tool:8s} {rate:7.0f} exchanges/s   ({'; '.join(log)})", flush=True)
                if name == "single" and args.population:
                    for label, source in (("engine", AGENT_SOURCE.read_bytes()), ("old agent", old_agent(args.old_agent))):
                        runs = [population_rate(t, source, args.population, 50 + r, args.arrival)
                                for r in range(args.rounds)]
                        results.setdefault("population", {})[label] = [rate for rate, _ in runs]
                        results.setdefault("cpu per lease", {})[label] = [cpu / args.population for _, cpu in runs]
                        print(f"   population of {args.population}, {label:9s}: "
                              + ", ".join(f"{rate:.0f} leases/s ({1000 * cpu / args.population:.2f} ms CPU per lease)"
                                          for rate, cpu in runs), flush=True)
    finally:
        engine.close()
    print("\n== summary (median of rounds)")
    med = {k: {tool: sorted(v)[len(v) // 2] for tool, v in d.items()} for k, d in results.items()}
    for name in ("single", "ha"):
        if name in med and "perfdhcp" in med[name] and med[name]["perfdhcp"]:
            e, p = med[name]["engine"], med[name]["perfdhcp"]
            print(f"   {name:6s}: engine {e:.0f}/s, perfdhcp {p:.0f}/s, ratio {e / p:.2f}x")
    if "population" in med and med["population"].get("old agent"):
        e, o = med["population"]["engine"], med["population"]["old agent"]
        print(f"   population: engine {e:.0f} leases/s, old agent {o:.0f} leases/s, ratio {e / o:.1f}x")
        if "single" in med:
            print(f"   engine's highest rate on one Kea / old agent's lease rate: {med['single']['engine'] / o:.1f}x")
        e, o = med["cpu per lease"]["engine"], med["cpu per lease"]["old agent"]
        print(f"   CPU per lease: engine {1000 * e:.2f} ms, old agent {1000 * o:.2f} ms, ratio {o / e:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
