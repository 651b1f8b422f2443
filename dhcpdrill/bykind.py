"""Results per client kind: when a pair states a mix of clients (``[workload] mix``), how each kind
fared across the fault — continuity of the renewing clients, the longest wait for an answer, NAKs,
fallbacks to a self-assigned address, addresses given up before the lease ran out.

Pure functions of the timeline, like the verdicts they stand beside: they judge nothing, they
split what the verdicts judge by the ``client_kind`` every client event of a mixed drill carries.
Probes and fresh clients (the lab's own instruments) are left out: the figures are the
population's. A drill without a mix has no per-kind figures (``per_kind`` returns nothing).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .clientkinds import NAMES, RFC2131
from .timeline import Timeline
from .verdicts import anchor, client_waits, continuity_outcomes, refusals

POPULATION = ("steady", "new")  # client roles the figures cover


@dataclass(frozen=True)
class KindFigures:
    """One kind's figures from the fault (the anchor) to the end of the window."""

    kind: str
    clients: int  # renewing and new clients of this kind
    kept: int  # renewing clients that kept their address (confirmed by a server)
    lost: int
    unknown: int  # neither confirmed nor lost in the window
    longest_wait_s: float | None  # the longest any of them waited for an answer (open waits count to the end)
    longest_wait: str  # who, for what, answered or not
    naked: int  # clients refused (NAK) after the fault
    fell_back: int  # clients that fell back to a self-assigned address (IPv4LL, APIPA)
    gave_up: int  # clients that dropped their address before it expired (udhcpc after 3 rebinds)
    new: int = 0  # new clients of this kind (they arrive with DISCOVER during the drill)
    new_leased: int = 0  # ... of them leased by the window's end
    continuity_judged: bool = True  # the drill judges continuity (a boot storm, where every client restarts, does not)

    @property
    def continuity_pct(self) -> float | None:
        judged = self.kept + self.lost + self.unknown
        return round(100.0 * self.kept / judged, 1) if judged else None

    def words(self) -> str:
        cont = "continuity not judged by this drill" if not self.continuity_judged else \
            "no renewing client" if self.continuity_pct is None else (
            f"continuity {self.continuity_pct:g} % ({self.kept} of {self.kept + self.lost + self.unknown} kept"
            + (f", {self.lost} lost" if self.lost else "")
            + (f", {self.unknown} unknown" if self.unknown else "") + ")")
        wait = ("no client asked" if self.longest_wait_s is None
                else f"longest wait {self.longest_wait_s:g} s ({self.longest_wait})")
        extra = [f"{n} {what}" for n, what in ((self.naked, "NAKed"),
                                               (self.fell_back, "fell back to a self-assigned address"),
                                               (self.gave_up, "gave up an unexpired address")) if n]
        new = f", {self.new_leased} of {self.new} new client(s) leased" if self.new else ""
        tail = "; " + ", ".join(extra) if extra else ""
        return f"{self.kind}: {self.clients} client(s), {cont}{new}, {wait}{tail}"


def roles_of(tl: Timeline) -> dict[str, str]:
    """Client name -> its role (steady, new, probe, fresh)."""
    return {str(e.get("client")): str(e.get("role")) for e in tl.of("client", source="clients")}


def kinds_of(tl: Timeline) -> dict[str, str]:
    """Population client name -> its kind, as the agent declared it (``client`` events)."""
    return {str(e.get("client")): str(e.get("client_kind") or RFC2131) for e in tl.of("client", source="clients")
            if e.get("role") in POPULATION}


def mixed(tl: Timeline) -> bool:
    """Whether the drill ran a stated mix of client kinds."""
    return any(e.get("client_kind") for e in tl.of("client", source="clients"))


def per_kind(tl: Timeline) -> list[KindFigures]:
    """Each kind's figures, in ``clientkinds.NAMES`` order; empty without a mix, a fault or an end."""
    fault, end = anchor(tl), tl.first("observe-end")
    if not mixed(tl) or fault is None or end is None:
        return []
    kinds = kinds_of(tl)
    members: dict[str, list[str]] = defaultdict(list)
    for client, kind in kinds.items():
        members[kind].append(client)
    lab = tl.first("lab")
    judged = lab is None or not lab.get("verdicts") or \
        bool({"continuity", "continuity-after-heal"} & set(lab.get("verdicts") or ()))
    kept, lost, unknown = continuity_outcomes(tl, fault.t, end.t) if judged else ([], [], [])
    waits = [w for w in client_waits(tl) if w.client in kinds
             and (w.until if w.until is not None else float("inf")) >= fault.t and w.since < end.t]
    naked = {r.client for r in refusals(tl) if fault.t <= r.t <= end.t}
    fell = {str(e.get("client")) for e in tl.of("fallback", source="clients") if e.t <= end.t}
    gave = {str(e.get("client")) for e in tl.of("lease-lost", source="clients")
            if e.get("why") == "gave-up" and fault.t <= e.t <= end.t}
    roles = roles_of(tl)
    leased = {str(e.get("client")) for e in tl.of("bound", source="clients") if e.t <= end.t}
    out = []
    for kind in sorted(members, key=lambda k: NAMES.index(k) if k in NAMES else len(NAMES)):
        mine = set(members[kind])
        theirs = [w for w in waits if w.client in mine]
        worst = max(theirs, key=lambda w: w.length(end.t), default=None)
        longest = round(worst.length(end.t), 2) if worst else None
        how = "" if worst is None else (f"{worst.client}, a {worst.exchange} from {worst.since - fault.t:+.1f} s, "
                                        + (f"answered by {worst.answered_by}" if worst.until is not None
                                           else "unanswered when the window ended"))
        out.append(KindFigures(kind, len(mine), sum(c in mine for c in kept), sum(c in mine for c, _ in lost),
                               sum(c in mine for c, _ in unknown), longest, how, len(naked & mine),
                               len(fell & mine), len(gave & mine), sum(roles.get(c) == "new" for c in mine),
                               sum(roles.get(c) == "new" and c in leased for c in mine), judged))
    return out


def properties(figures: list[KindFigures]) -> list[tuple[str, str]]:
    """JUnit suite properties ``client_kind.<kind>.<figure>`` (figures measured only)."""
    out = []
    for f in figures:
        values = (("clients", f.clients), ("continuity_pct", f.continuity_pct), ("kept", f.kept), ("lost", f.lost),
                  ("unknown", f.unknown), ("longest_wait_s", f.longest_wait_s), ("naked", f.naked),
                  ("fell_back", f.fell_back), ("gave_up", f.gave_up), ("new", f.new), ("new_leased", f.new_leased))
        out += [(f"client_kind.{f.kind}.{key}", f"{value:g}" if isinstance(value, float) else str(value))
                for key, value in values if value is not None]
    return out
