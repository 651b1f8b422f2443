#!/usr/bin/env python3
"""Every verdict of every recorded timeline in tests/evidence, as JSON, judged by the dhcpdrill on
PYTHONPATH: run it from two checkouts and diff the output to see what a change to the judging moves.

    cd CHECKOUT && PYTHONPATH=$PWD python3 scripts/judge_recorded_evidence.py > /tmp/verdicts.json
"""
import json, sys
from tests.unit import test_real_evidence as r
DRILL = {"isc-kill-primary-new-clients": "kill-primary-new-clients", "isc-partner-down": "partner-down",
         "isc-skew-at-boot": "clock-skew-65s-at-boot", "kea-hs-failback": "failback", "kea-hs-kill-primary": "kill-primary",
         "kea-hs-maintenance-handoff": "maintenance-handoff", "kea-hs-peer-partition": "peer-partition",
         "kea-lb-client-partition": "client-partition"}
out = {}
for p in sorted(r.EVIDENCE.glob("*.jsonl.gz")):
    name = p.name.split(".")[0]
    tl = r.load(name)
    drill = tl.first("lab").get("scenario") or DRILL.get(name)
    fixed = {"campus-default-timers-kill-primary": "production/kea-campus", "isc-relayed-kill-primary": "production/isc-relayed",
             "kea10k-steady-saturated": "scale/kea-hot-standby-10k"}.get(name)
    if fixed:
        tl = r.Timeline(r.Event(e.t, e.source, e.kind, {**e.data, "pair": fixed}) if e.kind == "lab" else e for e in tl.events)
    try:
        v = r.judged(tl, drill)
    except Exception as exc:
        out[name] = f"cannot judge: {type(exc).__name__}"
        continue
    out[name] = {"outcome": v["outcome"].status, **{k: x.status for k, x in v.items() if k != "outcome"}}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
