"""A pair is a folder: the primary's and the secondary's own config files plus ``pair.toml``.

Loading reads the manifest (``manifest``) and checks the configs it names with the server
adapter, everything that can be checked without Docker, and reports every problem at once
(``PairError``).
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from .clientkinds import assign
from .clients import MAX_LINKS, Workload
from .images import SERVER_VERSIONS
from .manifest import MANIFEST, Pair, read_manifest
from .problems import PairError, Problem
from .servers import LabPlan, adapter_for

__all__ = ["Pair", "load_pair", "pair_folders", "pair_warnings"]

SERVER_NAMES = {"kea": "Kea", "isc-dhcp": "ISC dhcpd"}


def pair_warnings(pair: Pair) -> list[str]:
    """What makes a fit pair's verdicts mislead unless the team knows it: the configs' own
    (``LabPlan.warnings``) and a lab version other than the one the team says it runs."""
    out = list(adapter_for(pair).lab_plan(pair).warnings) + mix_warnings(pair)
    ours = SERVER_VERSIONS.get(pair.suite, {}).get(pair.server, "")
    theirs = pair.production_version.strip().lower().removeprefix("kea").removeprefix("isc-dhcpd-").strip()
    if not (theirs and ours) or theirs.split(".")[:2] == ours.split(".")[:2]:
        return out
    name = SERVER_NAMES[pair.server]
    offered = {suite: v[pair.server] for suite, v in SERVER_VERSIONS.items() if pair.server in v}
    same = [suite for suite, v in offered.items() if v.split(".")[:2] == theirs.split(".")[:2]]
    fix = (f'set suite = "{same[0]}" in [pair] to drill {name} {offered[same[0]]}' if same else
           f"no suite here ships {name} {'.'.join(theirs.split('.')[:2])}; the lab offers "
           + ", ".join(f"{suite} ({v})" for suite, v in offered.items()))
    out.append(f"{pair.folder / MANIFEST}: pair.production_version: your servers run {name} {theirs}, the lab's "
               f"{pair.suite} image runs {name} {ours}, and what the drills find may not hold for {theirs} (see "
               f"docs/versions.md 'What changed between versions') — {fix}")
    return out


def mix_warnings(pair: Pair) -> list[str]:
    """A mix stating more kinds than a drill has renewing clients per link: some kinds would go
    undrilled (the rest of the drill stands, so this warns rather than refuses)."""
    if not pair.mix:
        return []
    per_link = pair.population.renewing_per_link(1) if pair.population else Workload.steady_clients
    drilled = set(assign(per_link, dict(pair.mix)))
    missing = [kind for kind, _ in pair.mix if kind not in drilled]
    if not missing:
        return []
    return [f"{pair.folder / MANIFEST}: workload.mix: a drill leases {per_link} renewing client(s) per link, too few "
            f"for {len(pair.mix)} kinds, so {', '.join(missing)} get none — state [workload] clients = "
            f"{max(10, 2 * len(pair.mix))} or more to drill every kind"]


def load_pair(folder: Path | str) -> Pair:
    """Read and check a pair folder; raise ``PairError`` listing every problem found."""
    folder = Path(folder)
    pair, problems, usable = read_manifest(folder)
    if usable:  # the configs are checked even when the manifest has problems: report all at once
        try:
            plan = adapter_for(pair).lab_plan(pair)
        except PairError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_mclt_problems(str(folder / MANIFEST), pair, plan.mclt_s))
            problems.extend(_room_problems(pair, plan, adapter_for(pair).fields))
    if problems:
        raise PairError(problems)
    return pair


def _mclt_problems(where: str, pair: Pair, config_mclt: float | None) -> list[Problem]:
    """A declared ``mclt_s`` must be the one the servers run with: the MCLT verdicts judge the
    servers against it, so a different number would judge them against a rule they do not have."""
    out = []
    for drill, limits in pair.drills.items():
        if limits.mclt_s is None or limits.mclt_s == config_mclt:
            continue
        if config_mclt is None:
            out.append(Problem(where, f"drills.{drill}.mclt_s", f"is {limits.mclt_s:g}, but {pair.server} has no MCLT",
                               "remove mclt_s: only ISC failover pairs have one"))
        else:
            out.append(Problem(where, f"drills.{drill}.mclt_s",
                               f"is {limits.mclt_s:g}, but {pair.files['primary'].name} says mclt {config_mclt:g}",
                               f"give mclt_s = {config_mclt:g}, the primary's mclt"))
    return out


def _room_problems(pair: Pair, plan: LabPlan, fields: dict[str, str]) -> list[Problem]:
    """The lab must fit in the pair's own subnet: two servers on distinct host addresses, two
    spare addresses (the lab's gateway and its client container), and pools that can hold every
    client a drill starts. A pair that cannot fit is refused here, not by a traceback mid-drill."""
    out, file = [], str(pair.files["primary"])
    hosts = [ipaddress.ip_address(ip) for ip in plan.addresses.values()]
    if len(set(hosts)) < len(hosts):
        out.append(Problem(file, fields["address"], f"both servers are at {hosts[0]}",
                           "give each server its own address"))
    for role, ip in plan.addresses.items():
        ip = ipaddress.ip_address(ip)
        if plan.subnet.prefixlen < 31 and ip in (plan.subnet.network_address, plan.subnet.broadcast_address):
            out.append(Problem(str(pair.files[role]), fields["address"],
                               f"{ip} is the {'network' if ip == plan.subnet.network_address else 'broadcast'} "
                               f"address of {plan.subnet}", "give the server a host address of the subnet"))
    need = 3 if plan.relayed else 2
    if len(plan.spare_addresses()) < need:
        out.append(Problem(file, fields["pools"],
                           f"leave no {'three' if plan.relayed else 'two'} addresses of {plan.subnet} outside the pools "
                           "and the servers' addresses; the lab needs them for its gateway and its client container"
                           + (", and the relay agent of the relayed subnets" if plan.relayed else ""),
                           f"end a pool {need} addresses earlier, or give the subnet a shorter prefix"))
    for r in plan.relayed:
        if len(r.spare_addresses()) < 2:
            out.append(Problem(file, r.where, f"leaves no two addresses of {r.subnet} outside the pools and the relay's "
                               f"{r.relay}; the lab needs them for that network's gateway and its client container",
                               "end a pool two addresses earlier"))
    links = len(plan.relayed) + (1 if plan.pools else 0)
    if links > MAX_LINKS:
        out.append(Problem(file, fields["pools"], f"the configs serve clients on {links} subnets; the lab drills at "
                           f"most {MAX_LINKS} at once (one client network each)",
                           f"drill a copy with at most {MAX_LINKS} subnets that have pools"))
    pools = plan.pools or (plan.relayed[0].all_pools if plan.relayed else ())  # where the probing clients live
    capacity = sum(int(hi) - int(lo) + 1 for lo, hi in pools)
    w = Workload(steady_clients=pair.population.per_link(links) if pair.population else Workload.steady_clients)
    needed = w.steady_clients + w.probes_needed(len(plan.serving), plan.retrying_clients_needed)
    # With a stated population the fix may be a smaller population, not wider pools: say both.
    where, field, fix = ((str(pair.folder / MANIFEST), "workload.clients", " or state fewer clients")
                         if pair.population else (file, fields["pools"], ""))
    if capacity < needed:
        out.append(Problem(where, field,
                           f"{'the pools ' if pair.population else ''}hold {capacity} address(es), but a drill starts at least {needed} clients "
                           f"({w.steady_clients} steady and {needed - w.steady_clients} that retry unanswered, "
                           f"enough for {len(plan.serving)} server(s) to see {plan.retrying_clients_needed + 1} each)",
                           f"widen the pools to at least {needed} addresses{fix}"))
    for r in plan.relayed[1:] if not plan.pools else plan.relayed:
        held = sum(int(hi) - int(lo) + 1 for lo, hi in r.all_pools)
        if held < w.steady_clients:
            out.append(Problem(where, field if pair.population else r.where,
                               f"{r.subnet}'s pools hold {held} address(es), fewer than the {w.steady_clients} steady "
                               "clients a drill puts on each subnet", f"widen the pools to at least {w.steady_clients}{fix}"))
    return out


def pair_folders(paths: list[str], default_root: Path) -> list[Path]:
    """Expand the requested paths: a pair folder as is, a folder of pair folders into its children."""
    if not paths:
        env = os.environ.get("DHCPDRILL_PAIRS", "")
        paths = [p for p in env.split(os.pathsep) if p] or [str(default_root)]
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.name == MANIFEST and path.is_file():  # the manifest itself names its pair folder
            path = path.parent
        if (path / MANIFEST).is_file() or not path.is_dir():
            found.append(path)
        else:  # a folder of pairs; one with none is reported by load_pair as missing its manifest
            found.extend(sorted(p.parent for p in path.glob(f"*/{MANIFEST}")) or [path])
    return found
