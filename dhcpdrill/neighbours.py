"""The drill host's neighbour (ARP) table: a limit of the lab, not of the pair, that drops replies.

A server answering a renewing or rebinding client replies by unicast to the client's address, so
its kernel needs a neighbour entry for every client it answers. Network namespaces do not have
tables of their own: every lab, and the host, share one table, capped by the host's
``net.ipv4.neigh.default.gc_thresh3`` (1,024 by default). When it is full the kernel logs
"neighbor table overflow" and drops the reply, which to the client looks like a server that
never answered. Seen here: a 1,000-client dhcpd failback lost 139 leases while both servers
logged an ACK for every renewal. The drill records the kernel's overflow count before and after
(``neigh-table`` events); the verdicts that rest on replies reaching clients say UNKNOWN if it
rose, and name the fix.
"""
from __future__ import annotations

from typing import Protocol

from .timeline import Timeline

STAT = "/proc/net/stat/arp_cache"
LIMIT = "/proc/sys/net/ipv4/neigh/default/gc_thresh3"
SCRIPT = f"cat {STAT}; echo ==; cat {LIMIT}"
ENTRIES_PER_CLIENT = 4  # a client may need an entry in each server and the relay, plus headroom


class _Shell(Protocol):
    def shell(self, script: str, *args: str, what: str = "") -> str: ...


def parse(text: str) -> tuple[int, int | None]:
    """(table_fulls summed over CPUs, gc_thresh3 or None) from ``SCRIPT``'s output."""
    stat, _, limit = text.partition("==")
    lines = [line.split() for line in stat.strip().splitlines()]
    if not lines or lines[0][-1] != "table_fulls":
        raise ValueError(f"{STAT} has no table_fulls column")
    fulls = sum(int(row[-1], 16) for row in lines[1:] if row)
    return fulls, int(limit.strip()) if limit.strip().isdigit() else None


def needed(clients: int) -> int:
    """The ``gc_thresh3`` a drill of ``clients`` clients wants on its host."""
    return max(4096, ENTRIES_PER_CLIENT * clients)


def shortfall(limit: int | None, clients: int, who: str) -> str:
    """A warning when the host's table is smaller than ``who``'s ``clients`` want; empty otherwise."""
    if limit is None or limit >= ENTRIES_PER_CLIENT * clients:
        return ""
    return (f"the drill host's neighbour table holds {limit:,} entries (net.ipv4.neigh.default.gc_thresh3), shared by "
            f"every lab, and {who} drills {clients:,} clients: if it overflows, the kernel drops server replies and "
            f"those drills say UNKNOWN; on the drill host run sysctl -w net.ipv4.neigh.default.gc_thresh3="
            f"{needed(clients)} net.ipv4.neigh.default.gc_thresh2={needed(clients) // 2}")


def record(engine: _Shell, tl: Timeline, at: str, clients: int, now: float) -> None:
    """A ``neigh-table`` event: the kernel's overflow count now (read in the host's namespace)."""
    try:
        fulls, limit = parse(engine.shell(SCRIPT, what="read the host's neighbour table statistics"))
    except Exception as exc:  # noqa: BLE001 - the drill goes on; the event says why it has no figure
        tl.add(now, "harness", "neigh-table", at=at, clients=clients, error=str(exc))
        return
    tl.add(now, "harness", "neigh-table", at=at, clients=clients, table_fulls=fulls, gc_thresh3=limit)


def overflow_reason(tl: Timeline) -> str:
    """Why replies may have been lost in the lab: the neighbour table overflowed during the drill.
    Empty when it did not, or when the timeline predates this record."""
    marks = {e.get("at"): e for e in tl.of("neigh-table")}
    start, end = marks.get("start"), marks.get("end")
    if start is None or end is None or start.get("table_fulls") is None or end.get("table_fulls") is None:
        return ""
    rose = int(end.get("table_fulls")) - int(start.get("table_fulls"))
    if rose <= 0:
        return ""
    limit, clients = start.get("gc_thresh3"), int(start.get("clients") or 0)
    need = needed(clients)
    return (f"the drill host's neighbour table overflowed {rose:,} time(s) during the drill (net.ipv4.neigh.default."
            f"gc_thresh3 = {limit if limit is not None else '?'}, shared by every lab and the host): replies the "
            f"servers sent to clients' addresses may have been dropped by the kernel before they left, so the "
            f"clients' waits are not evidence; on the drill host run sysctl -w net.ipv4.neigh.default.gc_thresh3="
            f"{need} (and gc_thresh2 = {need // 2}) and drill again")
