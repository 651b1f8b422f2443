"""The timeline as a picture (SVG, no dependencies): server states as coloured bands, every ACK
as a tick in the lane of the server that sent it, the fault as a shaded span. Time runs left to
right in seconds from the fault."""
from __future__ import annotations

from html import escape

from .timeline import Timeline

WIDTH, LEFT, LANE, GAP = 1100, 150, 26, 8
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
    lanes = [f"{r} state" for r in names] + [f"ACKs from {r}" for r in names] + ["NAKs / leases lost"]
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
    for e in tl.of("recv", source="clients"):
        if e.get("msg") == "ACK" and e.get("server_id") in by_role and e.t >= start:
            y = 40 + (len(names) + by_role[e.get("server_id")]) * (LANE + GAP)
            out.append(f"<line x1='{x(e.t):.1f}' x2='{x(e.t):.1f}' y1='{y}' y2='{y + LANE}' stroke='#3182bd'>"
                       f"<title>{escape(str(e.get('client')))} {escape(str(e.get('yiaddr')))}</title></line>")
    y = 40 + 2 * len(names) * (LANE + GAP)
    for e in tl.of("recv", "lease-lost", source="clients"):
        if (e.kind == "recv" and e.get("msg") == "NAK") or (e.kind == "lease-lost" and e.get("why") != "released"):
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
