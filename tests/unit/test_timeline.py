"""The timeline's own reading aids (the verdicts over it are tested elsewhere)."""
from dhcpdrill.timeline import Event, Timeline
def test_kinds_read_names_what_a_reading_asked_for_even_through_a_cached_derivation():
    tl = Timeline([Event(1.0, "primary", "ha-state", {"to": "hot-standby"}), Event(2.0, "clients", "recv", {})])
    def acks(t: Timeline) -> int:
        return len(t.of("recv"))
    with tl.kinds_read() as first:
        tl.first("ha-state")
        tl.derived(acks)
    with tl.kinds_read() as second:
        tl.derived(acks)  # cached now: still reported
    with tl.kinds_read() as outer:
        with tl.kinds_read() as inner:
            tl.of("fault-applied", "fault-healed")
            with tl.aside():
                tl.of("server-dropped")
    assert first == {"ha-state", "recv"} and second == {"recv"}
    assert inner == outer == {"fault-applied", "fault-healed"}
