"""One timeline per drill: faults, client packets and server state changes, in time order.

Events are recorded during the drill and judged afterwards (see ``verdicts``); nothing on the
timeline is interpreted while the drill runs. Times are Unix epoch seconds from the host's clock,
which the containers share (a faked server clock only affects that server's daemon, never the
event times the harness records).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
# The kinds of event a server's log yields (the adapters parse them; coverage checks they came whole).
LOG_KINDS = ("ha-state", "ha-warning", "lease-sync-page", "lease-sync-done", "pool-exhausted", "server-dropped",
             "lease-sync-start", "service-disabled", "service-enabled", "ha-command", "lease-backlog")


@dataclass(frozen=True, order=True)
class Event:
    t: float
    source: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class Timeline:
    """An append-only list of events that always reads back sorted by time.

    Sorting and the index by kind are done once per change, not per query: a verdict over a
    10,000-client drill asks for ``of(...)`` many times over a million events."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events: list[Event] = list(events)
        self._sorted: list[Event] | None = None
        self._by_kind: dict[str, list[Event]] = {}
        self._derived: dict[Callable, tuple[Any, frozenset[str]]] = {}
        self._read: set[str] | None = None

    @contextmanager
    def kinds_read(self) -> Iterator[set[str]]:
        """The kinds of event asked for while the block runs (through ``of``, ``first`` or a
        ``derived`` reading): what a verdict rests on, so a gap in one kind's evidence can be
        traced to the verdicts it touches."""
        outer, self._read = self._read, set()
        read = self._read
        try:
            yield read
        finally:
            self._read = outer
            if outer is not None:
                outer |= read

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Readings that decide nothing (a reason's remark): left out of ``kinds_read``."""
        outer, self._read = self._read, None
        try:
            yield
        finally:
            self._read = outer

    def add(self, t: float, source: str, kind: str, **data: Any) -> Event:
        event = Event(t, source, kind, data)
        self._events.append(event)
        self._sorted = None
        self._derived.clear()
        return event

    def extend(self, events: Iterable[Event]) -> None:
        self._events.extend(events)
        self._sorted = None
        self._derived.clear()

    def derived(self, compute: "Callable[[Timeline], T]") -> T:
        """``compute(self)``, worked out once per change of the timeline: for a reading that
        several verdicts and the picture take (every client's waits), which at 10,000 clients is a
        pass over a million events each time. What it returns is shared: make it
        immutable (a tuple, frozen records)."""
        if compute not in self._derived:
            with self.kinds_read() as read:
                value = compute(self)
            self._derived[compute] = (value, frozenset(read))
        value, read = self._derived[compute]
        if self._read is not None:
            self._read |= read
        return value

    @property
    def events(self) -> list[Event]:
        return self._indexed()

    def _indexed(self) -> list[Event]:
        """The events sorted by time, and ``_by_kind`` built, once per change."""
        if self._sorted is None:
            self._sorted = sorted(self._events, key=lambda e: e.t)
            self._by_kind = {}
            for e in self._sorted:
                self._by_kind.setdefault(e.kind, []).append(e)
        return self._sorted

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self._events)

    def of(self, *kinds: str, source: str | None = None) -> list[Event]:
        if self._read is not None:
            self._read.update(kinds)
        ordered = self._indexed()
        if len(kinds) == 1:
            found = self._by_kind.get(kinds[0], [])
        else:  # in recorded order among equal times (a lost lease before the binding that ended it)
            wanted = set(kinds)
            found = [e for e in ordered if e.kind in wanted]
        return [e for e in found if source is None or e.source == source]

    def first(self, kind: str) -> Event | None:
        found = self.of(kind)
        return found[0] if found else None

    def save(self, path: Path) -> None:
        with path.open("w") as out:
            for e in self.events:
                out.write(json.dumps(asdict(e), sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Timeline":
        with path.open() as src:
            return cls(Event(**json.loads(line)) for line in src if line.strip())
