"""The timeline as a picture (SVG, no dependencies): server states as coloured bands, every ACK
as a tick in the lane of the server that sent it, the fault as a shaded span. Time runs left to
right in seconds from the fault.

With thousands of clients one tick per packet would be an unreadable (and many-megabyte) smear,
so above ``AGGREGATE_ABOVE`` ACKs the lanes become aggregates: ACKs per second per server and
leases lost per second as bars, plus a lane of clients waiting for an answer."""
from __future__ import annotations

from html import escape

from .timeline import Timeline
from .verdicts import client_waits

WIDTH, LEFT, LANE, GAP = 1100, 150, 26, 8
AGGREGATE_ABOVE = 500  # ACKs; above this the picture draws rates instead of ticks
BINS = 235  # aggregate bars: one per 4 px
COLOURS = {"hot-standby": "#9ecae1", "load-balancing": "#9ecae1", "partner-down": "#fd8d3c",
           "terminated": "#de2d26", "waiting": "#d9d9d9", "syncing": "#c7e9c0", "ready": "#a1d99b",
           "in-maintenance": "#bcbddc", "partner-in-maintenance": "#9e9ac8",
           "communication-recovery": "#fdd0a2", "unknown": "#f0f0f0"}


def svg(tl: Timeline) -> str:
    events = tl.events
    if not events:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>"
    applied = tl.of("fault-applied")
    zero = applied[0].t if applied else events[0].t
    ready = tl.first("pair-ready")
    start = ready.t if ready else events[0].t
    end = max(e.t for e in events)
    span = max(end - start, 1.0)

    def x(t: float) -> float:
        return LEFT + (WIDTH - LEFT - 10) * (t - start) / span

    lab = tl.first("lab")
    roles = dict(lab.get("roles", {})) if lab else {}
    names = sorted(set(roles.values()))
    acks = [e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.t >= start]
    aggregate = len(acks) > AGGREGATE_ABOVE
    lanes = [f"{r} state" for r in names] + [f"ACKs{'/s' if aggregate else ''} from {r}" for r in names] \
        + ["NAKs / leases lost" + ("/s" if aggregate else "")] + (["clients waiting"] if aggregate else [])
    height = 40 + len(lanes) * (LANE + GAP) + 30
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
           "font-family='sans-serif' font-size='11'>"]
    for i, lane in enumerate(lanes):
        out.append(f"<text x='4' y='{40 + i * (LANE + GAP) + 17}'>{escape(lane)}</text>")
    healed = tl.of("fault-healed", "heal-failed")
    for k, fault in enumerate(applied):
        stop = next((h.t for h in healed if h.t >= fault.t), end)
        out.append(f"<rect x='{x(fault.t):.1f}' y='30' width='{max(x(stop) - x(fault.t), 2):.1f}' "
                   f"height='{height - 60}' fill='#fee0d2' opacity='0.6'/>")
        out.append(f"<text x='{x(fault.t) + 2:.1f}' y='{24 - 12 * (k % 2)}'>{escape(str(fault.get('fault')))} "
                   f"{escape(str(fault.get('target')))}</text>")
    for i, role in enumerate(names):
        y = 40 + i * (LANE + GAP)
        state = str(ready.get("states", {}).get(role, "unknown")) if ready else "unknown"
        t = start
        for e in tl.of("ha-state", source=role) + [None]:
            t2 = e.t if e is not None else end
            if t2 > t:
                out.append(f"<rect x='{x(t):.1f}' y='{y}' width='{max(x(t2) - x(t), 1):.1f}' height='{LANE}' "
                           f"fill='{COLOURS.get(state, '#bdbdbd')}'><title>{escape(state)}</title></rect>")
                if x(t2) - x(t) > 60:
                    out.append(f"<text x='{x(t) + 3:.1f}' y='{y + 17}'>{escape(state)}</text>")
            if e is not None:
                t, state = e.t, str(e.get("to"))
    by_role = {ip: names.index(r) for ip, r in roles.items()}
    losses = [e for e in tl.of("recv", "lease-lost", source="clients")
              if (e.kind == "recv" and e.get("msg") == "NAK") or (e.kind == "lease-lost" and e.get("why") != "released")]
    y = 40 + 2 * len(names) * (LANE + GAP)
    if aggregate:
        width = span / BINS
        for role, i in sorted(set((r, by_role[ip]) for ip, r in roles.items())):
            mine = [e.t for e in acks if by_role.get(e.get("server_id")) == i]
            out += _bars(_rate_counts(mine, start, width), start, width, x, 40 + (len(names) + i) * (LANE + GAP),
                         "#3182bd", f"ACKs/s from {role}", zero)
        out += _bars(_rate_counts([e.t for e in losses], start, width), start, width, x, y, "#de2d26",
                     "NAKs and leases lost /s", zero)
        out += _bars(_waiting_counts(tl, start, width), start, width, x, y + LANE + GAP, "#fd8d3c",
                     "clients waiting", zero)
    else:
        for e in acks:
            if e.get("server_id") in by_role:
                ya = 40 + (len(names) + by_role[e.get("server_id")]) * (LANE + GAP)
                out.append(f"<line x1='{x(e.t):.1f}' x2='{x(e.t):.1f}' y1='{ya}' y2='{ya + LANE}' stroke='#3182bd'>"
                           f"<title>{escape(str(e.get('client')))} {escape(str(e.get('yiaddr')))}</title></line>")
        for e in losses:
            out.append(f"<circle cx='{x(e.t):.1f}' cy='{y + LANE / 2}' r='4' fill='#de2d26'>"
                       f"<title>{escape(str(e.get('client')))} {escape(e.kind)} {escape(str(e.get('why', '')))}</title></circle>")
    axis = height - 22
    out.append(f"<line x1='{LEFT}' x2='{WIDTH - 10}' y1='{axis}' y2='{axis}' stroke='black'/>")
    step = 5 if span <= 120 else 15
    tick = int((start - zero) // step) * step
    while zero + tick <= end:
        if zero + tick >= start:
            out.append(f"<line x1='{x(zero + tick):.1f}' x2='{x(zero + tick):.1f}' y1='{axis}' y2='{axis + 4}' stroke='black'/>"
                       f"<text x='{x(zero + tick) - 8:.1f}' y='{axis + 16}'>{tick:+d}s</text>")
        tick += step
    out.append("</svg>")
    return "\n".join(out)


def _rate_counts(times: list[float], start: float, width: float) -> list[float]:
    """Events per second in each bin."""
    counts = [0] * BINS
    for t in times:
        counts[min(BINS - 1, max(0, int((t - start) / width)))] += 1
    return [n / width for n in counts]


def _waiting_counts(tl: Timeline, start: float, width: float) -> list[float]:
    """Clients waiting for an answer (an exchange begun, not yet ACKed) in the middle of each bin."""
    waits = client_waits(tl)
    steps = sorted([(w.since, 1) for w in waits] + [(w.until, -1) for w in waits if w.until is not None])
    counts, level, i = [], 0, 0
    for k in range(BINS):
        mid = start + (k + 0.5) * width
        while i < len(steps) and steps[i][0] <= mid:
            level += steps[i][1]
            i += 1
        counts.append(level)
    return counts


def _bars(values: list[float], start: float, width: float, x, y: float, colour: str, what: str,
          zero: float) -> list[str]:
    """One bar per bin, its height the bin's value relative to the lane's largest."""
    top = max(values) or 1
    out = []
    for k, n in enumerate(values):
        if n:
            h = max(1.0, LANE * n / top)
            t = start + k * width
            out.append(f"<rect x='{x(t):.1f}' y='{y + LANE - h:.1f}' width='{max(x(t + width) - x(t), 1):.1f}' "
                       f"height='{h:.1f}' fill='{colour}'><title>{n:.0f} {escape(what)} at {t - zero:+.1f} s"
                       "</title></rect>")
    return out
