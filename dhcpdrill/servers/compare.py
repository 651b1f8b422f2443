"""Where two servers' configs differ, field by field, so a message can name the field and both
values instead of "peers differ"."""
from __future__ import annotations

import json
from typing import Any

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "absent"})()
MATCH_BY = ("name", "subnet", "id")  # list items that name themselves are matched by that name


def shown(value: Any) -> str:
    """A config value as the user wrote it (JSON), or ``absent``; never a Python repr."""
    return "absent" if value is ABSENT else json.dumps(value)


def _key(*sides: list) -> str | None:
    """The field that names every item of both lists, uniquely within each list."""
    for key in MATCH_BY:
        if all(all(isinstance(i, dict) and key in i for i in side) and len({json.dumps(i[key]) for i in side}) == len(side)
               for side in sides):
            return key
    return None


def differences(mine: Any, theirs: Any, path: str) -> list[tuple[str, Any, Any]]:
    """(path, mine, theirs) for every leaf where the two JSON trees differ; ``ABSENT`` stands for a
    side that lacks the field. Lists of maps that name their items (``name``, ``subnet``, ``id``)
    are matched by that name, other lists by position."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out = []
        for k in list(mine) + [k for k in theirs if k not in mine]:
            out += differences(mine.get(k, ABSENT), theirs.get(k, ABSENT), f"{path}.{k}")
        return out
    if isinstance(mine, list) and isinstance(theirs, list):
        key = _key(mine, theirs) if mine and theirs else None
        if key:
            a = {json.dumps(i[key]): i for i in mine}
            b = {json.dumps(i[key]): i for i in theirs}
            out = []
            for k in list(a) + [k for k in b if k not in a]:
                out += differences(a.get(k, ABSENT), b.get(k, ABSENT), f"{path}[{json.loads(k)}]")
            return out
        if len(mine) == len(theirs):
            return [d for i, (x, y) in enumerate(zip(mine, theirs)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if mine == theirs else [(path, mine, theirs)]
