"""The event table (dhcpdrill/events.py) against the code that writes and reads events, and against
every recorded timeline: a kind or field named differently on the two sides would judge as UNKNOWN."""
from __future__ import annotations

import ast
import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from dhcpdrill.events import KINDS, problems
from dhcpdrill.timeline import LOG_KINDS, Event, Timeline

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for d in ("dhcpdrill", "scenarios", "drills") for p in sorted((ROOT / d).rglob("*.py"))]
RECORDED = sorted((ROOT / "tests" / "evidence").rglob("*.jsonl.gz"))
NOT_A_FIELD = {"t"}  # the agent's emit(kind, t=..., ...) stamps the event; it is not a data field


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def written() -> list[tuple[str, str, int, set[str]]]:
    """(kind, file, line, fields) of every event the code writes with a literal kind:
    ``tl.add(t, source, KIND, **fields)``, ``ctx.record(source, KIND, ...)``, the agent's
    ``emit(KIND, ...)``, ``Event(t, source, KIND, ...)``, and the ``(KIND, {fields})`` pairs the adapters and the engine watch return."""
    out = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = str(path.relative_to(ROOT))
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                pos = {"add": 2, "record": 1, "emit": 0, "Event": 2}.get(called)
                if pos is None or len(node.args) <= pos:
                    continue
                kinds = [_text(node.args[pos])]
                if isinstance(node.args[pos], ast.IfExp):  # "fault-verified" if ok else "fault-not-effective"
                    kinds = [_text(node.args[pos].body), _text(node.args[pos].orelse)]
                fields = {k.arg for k in node.keywords if k.arg} - NOT_A_FIELD
                out += [(k, where, node.lineno, fields) for k in kinds if k]
            elif isinstance(node, ast.Tuple):
                for a, b in zip(node.elts, node.elts[1:]):
                    if _text(a) and isinstance(b, ast.Dict) and (a.value in KINDS or "-" in a.value):
                        out.append((a.value, where, node.lineno, {_text(k) for k in b.keys if k is not None and _text(k)}))
    return out


def read() -> list[tuple[str, str, int]]:
    """(kind, file, line) of every literal kind the code asks a timeline for (``of``, ``first``)."""
    out = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("of", "first"):
                out += [(_text(a), str(path.relative_to(ROOT)), node.lineno) for a in node.args if _text(a)]
    return out


def test_every_kind_the_code_writes_is_declared_with_its_fields() -> None:
    found = written()
    assert len({k for k, *_ in found}) > 40  # the scan sees the writers (a scan that finds nothing proves nothing)
    wrong = [f"{where}:{line}: {kind} is not in dhcpdrill/events.py" for kind, where, line, _ in found if kind not in KINDS]
    wrong += [f"{where}:{line}: {kind} writes {sorted(fields - KINDS[kind].fields)}, not declared"
              for kind, where, line, fields in found
              if kind in KINDS and "*" not in KINDS[kind].optional and fields - KINDS[kind].fields]
    assert not wrong, "\n".join(wrong)


def test_every_kind_the_code_reads_is_declared() -> None:
    found = read()
    assert len({k for k, *_ in found}) > 40
    wrong = [f"{where}:{line}: reads {kind!r}, which nothing declares" for kind, where, line in found if kind not in KINDS]
    assert not wrong, "\n".join(wrong)


def test_every_log_kind_is_declared() -> None:
    assert set(LOG_KINDS) <= set(KINDS)


def test_every_declared_kind_is_written_somewhere() -> None:
    """A kind nothing writes is a verdict waiting on evidence that never comes (an UNKNOWN forever)."""
    writes = {k for k, *_ in written()}
    indirect = {"lease-record", "lease-grant",  # the adapters' lease-file parsers return them as (t, kind, row)
                "backup-lease",  # a lease-record read from the backup's file (servers.ServerAdapter.RECORD_KIND)
                "service-disabled", "service-enabled"}  # Kea's HA_LOCAL_DHCP_(DIS|EN)ABLE, an f-string kind
    assert set(KINDS) - writes - indirect == set()


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name.split(".")[0])
def test_recorded_timelines_agree_with_the_table(path: Path) -> None:
    with gzip.open(path, "rt") as src:
        tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
    assert problems(tl) == []


def test_problems_names_each_departure() -> None:
    good = Event(1.0, "clients", "bound", {"client": "c1", "mac": "02:00:00:00:00:01", "ip": "198.18.1.10",
                                           "server_id": "198.18.1.2"})
    assert problems([good]) == []
    lacking = replace(good, data={k: v for k, v in good.data.items() if k != "server_id"})
    stray = replace(good, data={**good.data, "serverid": "198.18.1.2"})
    elsewhere = replace(good, source="primary")
    unknown = replace(good, kind="bund")
    assert problems([lacking, lacking]) == ["bound: lacks its field 'server_id' (2 events)"]
    assert problems([stray]) == ["bound: holds a field no code declares, 'serverid' (1 event)"]
    assert problems([elsewhere]) == ["bound: written by 'primary', not by clients (1 event)"]
    assert problems([unknown]) == ["bund: a kind no code declares (dhcpdrill/events.py) (1 event)"]
    assert problems([replace(good, kind="ha-state", source="backup", data={"from": "a", "to": "b"})]) == []
    assert problems([replace(good, kind="address-sample", source="real-client:udhcpc", data={"addrs": []})]) == []
