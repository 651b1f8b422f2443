"""Verdicts for DHCPv6 drills: pure functions over one recorded timeline.

The timeline holds the v6 client agent's events (``v6-send``, ``v6-recv``, ``v6-bound``,
``v6-lost``, ``v6-held``), the servers' HA states (``ha-state``), their DUIDs (``server-duid``),
their lease-file rows (``lease6-record``) and the fault (``fault-applied``). Nothing here looks at the lab.
Missing evidence is UNKNOWN, never PASS.
"""
from __future__ import annotations

from dataclasses import dataclass

from .timeline import Timeline
from .verdicts import FAIL, NOT_JUDGED, PASS, UNKNOWN, Verdict

SLACK_S = 1.0  # lease files keep whole seconds


@dataclass(frozen=True)
class Holding:
    """A lease (address or prefix) held by one client from ``start`` to ``end``."""

    lease: str
    holder: str
    start: float
    end: float


def fault_time(tl: Timeline) -> float | None:
    fault = tl.first("fault-applied")
    return fault.t if fault else None


def primary_duid(tl: Timeline) -> str | None:
    found = [e for e in tl.of("server-duid") if e.source == "primary"]
    return found[0].get("duid") if found else None


def client_holdings(tl: Timeline) -> list[Holding]:
    """What each client held and when, from its own bindings and losses (clients' view)."""
    events = tl.of("v6-bound", "v6-lost", "agent-stop")
    end = max((e.t for e in events), default=0.0)
    current: dict[str, dict[str, float]] = {}
    out: list[Holding] = []
    for e in events:
        if e.kind == "agent-stop":
            continue
        client = e.get("client")
        held = current.setdefault(client, {})
        items = set(e.get("addresses") or []) | set(e.get("prefixes") or [])
        if e.kind == "v6-bound":
            for lease in [x for x in held if x not in items]:
                out.append(Holding(lease, client, held.pop(lease), e.t))
            for lease in items:
                held.setdefault(lease, e.t)
        else:
            for lease in items:
                if lease in held:
                    out.append(Holding(lease, client, held.pop(lease), e.t))
    for client, held in current.items():
        out.extend(Holding(lease, client, start, end) for lease, start in held.items())
    return out


def file_holdings(tl: Timeline) -> list[Holding]:
    """What each server's lease file says was held: each row holds its lease from its start until
    its expiry, or until the file's next row for that lease (a renewal, a release, a reallocation)."""
    out: list[Holding] = []
    for server in ("primary", "secondary"):
        rows = [e for e in tl.of("lease6-record") if e.source == server and "lease" in e.data]
        by_lease: dict[str, list] = {}
        for e in rows:
            by_lease.setdefault(e.get("lease"), []).append(e)
        for lease, seq in by_lease.items():
            seq.sort(key=lambda e: e.get("row", 0))
            for i, e in enumerate(seq):
                if not e.get("valid") or e.get("state", 0) != 0:
                    continue
                end = e.get("expire")
                if i + 1 < len(seq):
                    following = seq[i + 1]
                    end = min(end, following.get("start") if following.get("valid") else following.get("expire"))
                out.append(Holding(lease, e.get("duid"), e.get("start"), end))
    return out


def doubles(holdings: list[Holding], slack: float = 0.0) -> dict[str, list[tuple[str, str]]]:
    """Leases held by two different holders at once (overlap longer than ``slack``)."""
    by_lease: dict[str, list[Holding]] = {}
    for h in holdings:
        by_lease.setdefault(h.lease, []).append(h)
    out: dict[str, list[tuple[str, str]]] = {}
    for lease, hs in by_lease.items():
        for i, a in enumerate(hs):
            for b in hs[i + 1:]:
                if a.holder != b.holder and min(a.end, b.end) - max(a.start, b.start) > slack:
                    out.setdefault(lease, []).append((a.holder, b.holder))
    return out


def takeover(tl: Timeline, max_s: float | None) -> Verdict:
    """Seconds from the fault to the first client served by a server other than the primary."""
    fault, primary = fault_time(tl), primary_duid(tl)
    if fault is None or primary is None:
        return Verdict("takeover", UNKNOWN, "no fault recorded" if fault is None else "the primary's DUID was not read")
    if primary in [e.get("duid") for e in tl.of("server-duid") if e.source != "primary"]:
        return Verdict("takeover", UNKNOWN, f"both servers have the DUID {primary}: clients cannot tell who served them "
                                            "(a copied kea-dhcp6-serverid file?)")
    if not [e for e in tl.of("v6-bound") if e.t < fault]:
        return Verdict("takeover", UNKNOWN, "no client was bound before the fault: nothing shows the pair served")
    served = [e for e in tl.of("v6-bound") if e.t > fault and e.get("server") != primary]
    states = [e for e in tl.of("ha-state") if e.source == "secondary" and e.get("to") == "partner-down" and e.t > fault]
    state = f"; the standby logged partner-down at +{states[0].t - fault:.2f} s" if states else "; the standby never logged partner-down"
    end = max((e.t for e in tl), default=fault)
    if not served:
        return Verdict("takeover", FAIL, f"no client was served by the survivor in the {end - fault:.0f} s after the fault{state}",
                       None, "s", f"<= {max_s:g} s" if max_s is not None else "")
    took = served[0].t - fault
    how = f"first client served by the survivor {took:.2f} s after the fault ({served[0].get('client')}, via {served[0].get('via')}){state}"
    if max_s is None:
        return Verdict("takeover", PASS if took >= 0 else FAIL, how, took, "s")
    return Verdict("takeover", PASS if took <= max_s else FAIL, how, took, "s", f"<= {max_s:g} s")


def duplicates(tl: Timeline, max_count: int) -> Verdict:
    """Addresses and delegated prefixes held by two clients at once, in the clients' view and in
    both lease files (a DUID per holder there)."""
    clients = client_holdings(tl)
    files = file_holdings(tl)
    if not clients:
        return Verdict("duplicates", UNKNOWN, "no client ever held a lease: nothing to compare")
    seen = doubles(clients)
    if not [e for e in tl.of("lease6-record") if "lease" in e.data]:
        return Verdict("duplicates", UNKNOWN, f"no lease-file rows were read; clients' view: {len(seen)} double")
    in_files = doubles(files, SLACK_S)
    count = len(set(seen) | set(in_files))
    prefixes = sum(1 for lease in set(seen) | set(in_files) if "/" in lease)
    reason = (f"{count} leases held twice at once ({prefixes} delegated prefixes): {len(seen)} in the clients' view, "
              f"{len(in_files)} in the lease files ({len(files)} file holdings, {len(clients)} client holdings)")
    if count:
        reason += "; e.g. " + ", ".join(f"{k} by {v[0][0]} and {v[0][1]}" for k, v in list({**in_files, **seen}.items())[:3])
    return Verdict("duplicates", PASS if count <= max_count else FAIL, reason, float(count), "", f"<= {max_count}")


def continuity(tl: Timeline, minimum: float) -> Verdict:
    """The share of clients bound at the fault that were served again after it with the same
    addresses and delegated prefixes."""
    fault = fault_time(tl)
    if fault is None:
        return Verdict("continuity", UNKNOWN, "no fault recorded")
    held: dict[str, set[str]] = {}
    for e in tl.of("v6-bound", "v6-lost"):
        if e.t >= fault:
            break
        if e.kind == "v6-bound":
            held[e.get("client")] = set(e.get("addresses") or []) | set(e.get("prefixes") or [])
        else:
            held.pop(e.get("client"), None)
    held = {c: s for c, s in held.items() if not c.startswith("probe-")}  # probes release by design
    if not held:
        return Verdict("continuity", UNKNOWN, "no steady client held a lease at the fault")
    kept, broke, silent = [], [], []
    for client, leases in held.items():
        after = [e for e in tl.of("v6-bound") if e.t > fault and e.get("client") == client]
        if not after:
            silent.append(client)
        elif leases <= set(after[0].get("addresses") or []) | set(after[0].get("prefixes") or []):
            kept.append(client)
        else:
            broke.append(client)
    share = len(kept) / len(held)
    reason = (f"{len(kept)} of {len(held)} clients kept their addresses and prefixes across the fault"
              + (f"; changed: {', '.join(sorted(broke))}" if broke else "")
              + (f"; never served again: {', '.join(sorted(silent))}" if silent else ""))
    return Verdict("continuity", PASS if share >= minimum else FAIL, reason, share, "", f">= {minimum:g}")


def client_outage(tl: Timeline, max_s: float | None) -> Verdict:
    """The longest any client waited across the fault: from its first message after the fault to
    the next binding it got (or the end of the timeline, if none came). Not judged unless the
    pair states ``max_outage_s``."""
    fault = fault_time(tl)
    if fault is None:
        return Verdict("client-outage", UNKNOWN, "no fault recorded")
    end = max((e.t for e in tl), default=fault)
    waits: dict[str, tuple[float, bool]] = {}
    for client in {e.get("client") for e in tl.of("v6-send") if e.t > fault}:
        first = next(e.t for e in tl.of("v6-send") if e.t > fault and e.get("client") == client)
        served = [e.t for e in tl.of("v6-bound") if e.t > first and e.get("client") == client]
        waits[client] = ((served[0] if served else end) - first, bool(served))
    if not waits:
        return Verdict("client-outage", UNKNOWN, "no client sent anything after the fault")
    worst = max(waits, key=lambda c: waits[c][0])
    wait, served = waits[worst]
    reason = (f"longest wait {wait:.2f} s ({worst}, {'then served' if served else 'never served before the end'}); "
              f"{sum(1 for w, _ in waits.values() if w > 10)} of {len(waits)} clients waited more than 10 s")
    if max_s is None:
        return Verdict("client-outage", NOT_JUDGED, f"not judged: the pair states no max_outage_s; measured: {reason}",
                       wait, "s")
    return Verdict("client-outage", PASS if wait <= max_s and served else FAIL, reason, wait, "s", f"<= {max_s:g} s")


def kill_primary(tl: Timeline, thresholds: dict) -> list[Verdict]:
    """Every verdict of the v6 kill-primary drill, in order."""
    return [takeover(tl, thresholds.get("max_takeover_s")),
            duplicates(tl, int(thresholds.get("max_duplicates", 0))),
            continuity(tl, float(thresholds.get("min_continuity", 1.0))),
            client_outage(tl, thresholds.get("max_outage_s"))]
