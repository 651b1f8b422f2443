"""Trim a drill's timeline.jsonl into a test fixture: the clients' packets after the window's end
are dropped (no verdict reads them), OFFERs too unless ``--keep-offers`` (dropped-queries reads
them: a DISCOVER is answered by an OFFER), the servers' lease-file events are parsed
afresh from the lease files saved beside the timeline (so they follow the current parsers), the
rest is kept as recorded, and the result is gzipped.

    python tests/evidence/trim.py reports/<run>/timeline.jsonl tests/evidence/<name>.jsonl.gz [--keep-offers]
"""
import gzip
import json
import sys
from pathlib import Path


def reparsed(run: Path, events: list[dict]) -> list[dict]:
    from dhcpdrill.servers.isc import IscAdapter
    from dhcpdrill.servers.kea import KeaAdapter
    out = [e for e in events if e["kind"] not in ("lease-record", "lease-grant", "backup-lease")]
    for adapter in (KeaAdapter(), IscAdapter()):
        for role in ("primary", "secondary", "backup"):  # a Kea HA backup's rows are backup-lease events
            saved = run / f"leases-{role}.{adapter.lease_suffix}"
            if saved.is_file():
                out += [{"t": t, "source": role, "kind": adapter.RECORD_KIND.get(role, kind) if kind == "lease-record"
                         else kind, "data": data} for t, kind, data in adapter.lease_events(saved.read_text())]
    return sorted(out, key=lambda e: e["t"])


def main(src: str, dst: str, keep_offers: bool = False) -> None:
    events = reparsed(Path(src).parent, [json.loads(line) for line in open(src) if line.strip()])
    end = next((e["t"] for e in events if e["kind"] == "observe-end"), float("inf"))
    kept = [e for e in events if not (e["source"] == "clients" and e["t"] > end + 1.0)
            and (keep_offers or not (e["kind"] == "recv" and e["data"].get("msg") == "OFFER"))]
    with gzip.open(dst, "wt") as out:
        for e in kept:
            out.write(json.dumps(e, sort_keys=True) + "\n")
    print(f"{dst}: {len(kept)} of {len(events)} events")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--keep-offers"]
    main(*args, keep_offers="--keep-offers" in sys.argv[1:])
