"""Trim a drill's timeline.jsonl into a test fixture: OFFERs and the clients' packets after the
window's end are dropped (no verdict reads them), the rest is kept as recorded and gzipped.

    python tests/evidence/trim.py reports/<run>/timeline.jsonl tests/evidence/<name>.jsonl.gz
"""
import gzip
import json
import sys


def main(src: str, dst: str) -> None:
    events = [json.loads(line) for line in open(src) if line.strip()]
    end = next((e["t"] for e in events if e["kind"] == "observe-end"), float("inf"))
    kept = [e for e in events if not (e["source"] == "clients" and e["t"] > end + 1.0)
            and not (e["kind"] == "recv" and e["data"].get("msg") == "OFFER")]
    with gzip.open(dst, "wt") as out:
        for e in kept:
            out.write(json.dumps(e, sort_keys=True) + "\n")
    print(f"{dst}: {len(kept)} of {len(events)} events")


if __name__ == "__main__":
    main(*sys.argv[1:])
