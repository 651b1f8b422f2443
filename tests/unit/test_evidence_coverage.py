"""Evidence covers the window (``coverage``): a source silent longer than its rhythm allows before
``observe-end`` makes the verdicts that read it UNKNOWN, naming the source and the stretch. Built
from real recorded drills (tests/evidence), mutated as the engine's death mutated them live."""
from __future__ import annotations

import gzip
import json

import pytest

from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import PASS, UNKNOWN

from .test_real_evidence import EVIDENCE, fault_t, judged, load, without


def cut_clients(tl: Timeline, after_s: float) -> Timeline:
    """The clients' record as an agent that stalled ``after_s`` into the window leaves it: nothing
    after, not even its stop (the engine's restart killed it)."""
    end = fault_t(tl) + after_s
    return Timeline(e for e in tl.events if not (e.source == "clients" and e.t > end))


def watched(tl: Timeline, away: tuple[float, float] | None = None, *extra: Event) -> Timeline:
    """The timeline with the harness's hold on the engine as ``lab.EngineWatch`` records it: a ping
    a second from the pair's readiness to past ``observe-end``, none while the engine was ``away``
    (seconds from the fault), which starts with the failed ask."""
    f, start, end = fault_t(tl), tl.first("pair-ready").t, tl.first("observe-end").t + 0.5
    events = [Event(start, "engine", "engine-watch", {"every_s": 1.0, "silence_s": 4.0})]
    t = start + 0.3
    while t < end:
        if away and f + away[0] <= t < f + away[1]:
            if not any(e.kind == "engine-unreachable" for e in events):
                events.append(Event(t, "engine", "engine-unreachable",
                                    {"error": "ConnectionError: ('Connection aborted.', FileNotFoundError(2, "
                                              "'No such file or directory'))"}))
        else:
            events.append(Event(t, "engine", "engine-ping", {}))
        t += 1.0
    return Timeline([*tl.events, *events, *extra])


def test_a_kill_primary_whose_clients_record_stops_at_18_s_is_unknown_naming_the_record_and_the_stretch():
    """The live run of issue 26 item 12: the engine went away 2.3 s after the fault, the agent
    stalled and its record ends at +18.3 s of the window; the drill PASSED ("5 of 5 clients kept
    their address"). Judged on what the clients did not see, every verdict resting on them is UNKNOWN."""
    tl = load("kea-hs-kill-primary")
    assert judged(tl, "kill-primary")["outcome"].status == "pass"
    cut = cut_clients(tl, 18.3)
    last = max(e.t for e in cut.of("send", "recv", source="clients")) - fault_t(tl)
    end = cut.first("observe-end").t - fault_t(tl)
    v = judged(cut, "kill-primary")
    assert v["outcome"].status != "pass"
    stretch = f"the clients' record is silent from {last:+.1f} s to {end:+.1f} s after the fault"
    for name in ("takeover", "duplicates", "continuity", "steady-state", "reply-checksums", "takeover-predicted"):
        assert v[name].status == UNKNOWN, (name, v[name])
        assert stretch in v[name].reason and "the workload allows 8 s between the clients' packets" in v[name].reason
    assert "5 of 5 clients kept their address" in v["continuity"].reason  # what it measured, still shown
    # Verdicts that read no client packet keep their outcome.
    assert v["fault-effective"].status == v["state-transitions"].status == PASS


def test_a_record_cut_short_of_its_rhythm_is_not_a_gap():
    """The last 6 s missing is within the 8 s the workload allows: no gap, the drill still passes."""
    tl = load("kea-hs-kill-primary")
    end = tl.first("observe-end").t - fault_t(tl)
    assert judged(cut_clients(tl, end - 6.0), "kill-primary")["outcome"].status == "pass"


def test_the_engine_away_mid_window_makes_every_verdict_unknown_and_names_it():
    """The engine killed 2.3 s after the fault and back 26 s later, as the harness's pings saw it;
    the clients' and the servers' records themselves left whole: the servers' logs (state-transitions)
    went through the engine that was away, so nothing judged on them stands."""
    tl = load("kea-hs-kill-primary")
    assert all(v.status == PASS for k, v in judged(watched(tl), "kill-primary").items() if k != "outcome")
    away = watched(tl, (2.3, 28.3))
    pings = [e.t - fault_t(tl) for e in away.of("engine-ping")]
    last, back = max(t for t in pings if t < 2.3), min(t for t in pings if t > 2.3)
    every_verdict_unknown_naming(judged(away, "kill-primary"),
                                 f"the Docker engine is silent from {last:+.1f} s to {back:+.1f} s after the fault",
                                 "the engine did not answer: ConnectionError",
                                 "Docker copies no container's output while it is away")


def every_verdict_unknown_naming(v: dict, *phrases: str) -> None:
    assert v["outcome"].status != "pass"
    for name, verdict in v.items():
        if name != "outcome":
            assert verdict.status == UNKNOWN, (name, verdict)
            assert all(p in verdict.reason for p in phrases), (name, verdict.reason)


def test_a_lab_container_that_died_with_no_fault_on_it_makes_the_drill_unknown():
    tl = load("kea-hs-kill-primary")
    f = fault_t(tl)
    killed = Event(f + 0.05, "engine", "container-event", {"action": "die", "role": "primary", "exit_code": "137"})
    assert judged(watched(tl, None, killed), "kill-primary")["outcome"].status == "pass"  # the fault's own kill
    died = Event(f + 10.0, "engine", "container-event", {"action": "die", "role": "secondary", "exit_code": "137"})
    v = judged(watched(tl, None, killed, died), "kill-primary")
    assert v["outcome"].status != "pass"
    assert v["state-transitions"].status == UNKNOWN
    assert "the secondary container is silent from +10.0 s to +30.1 s after the fault" in v["state-transitions"].reason
    assert "it died (exit code 137) and no fault targeted it" in v["state-transitions"].reason
    stopped = Event(f + 12.0, "engine", "container-state", {"role": "clients", "status": "exited", "exit_code": 137})
    v = judged(watched(tl, None, stopped), "kill-primary")
    assert v["continuity"].status == UNKNOWN and "the clients container is silent from +12.0 s" in v["continuity"].reason


ENGINE_KILLED = "kea-hs-kill-primary-engine-killed"


def test_the_recorded_drill_whose_engine_was_killed_no_longer_passes_and_says_why():
    """Recorded live (issue 26 item 12 reproduced): kill-primary on a second engine whose dockerd
    was SIGKILLed 2.3 s after the fault and started again 25 s later; the restarted engine stopped
    the clients and, 10 s later, killed the secondary before it answered again. c449a4a passed it:
    "5 of 5 clients kept their address from the fault to the end of the window"."""
    tl = load(ENGINE_KILLED)
    v = judged(tl, "kill-primary")
    every_verdict_unknown_naming(v, "the Docker engine is silent from +1.4 s to +38.0 s after the fault (36.7 s; "
                                    "the engine did not answer: ConnectionError",
                                 "the secondary container is silent from +37.7 s",
                                 "it died (exit code 137) and no fault targeted it",
                                 "the clients container is silent from +27.8 s")
    # the clients' own start, as the watch began, is no restart
    assert not any("started again" in verdict.reason for name, verdict in v.items() if name != "outcome")
    assert "the clients' record is silent from +26.8 s to +39.1 s after the fault" in v["continuity"].reason
    assert "5 of 5 clients kept their address" in v["continuity"].reason


def test_without_the_engine_watch_the_stalled_clients_record_alone_makes_it_unknown():
    """The same evidence as c449a4a recorded it (no engine events, no rhythm): the clients' silence
    from +26.8 s to the end of the window still stops the PASS."""
    tl = load(ENGINE_KILLED)
    bare = Timeline(e for e in tl.events if e.source != "engine" and e.kind != "rhythm")
    v = judged(bare, "kill-primary")
    assert v["outcome"].status != "pass"
    for name in ("takeover", "duplicates", "continuity"):
        assert v[name].status == UNKNOWN
        assert "the clients' record is silent from +26.8 s to +39.1 s after the fault (12.3 s" in v[name].reason
    assert v["state-transitions"].status == v["fault-effective"].status == PASS


@pytest.mark.parametrize("path", sorted(p for p in EVIDENCE.glob("*.jsonl.gz") if not p.name.startswith(ENGINE_KILLED)),
                         ids=lambda p: p.name.split(".")[0])
def test_no_recorded_drill_shows_a_false_gap(path):
    """Every real recorded drill covers its window: no source silent past its rhythm. The figures
    the rhythms rest on are in ``coverage``'s docstring."""
    from dhcpdrill import coverage
    with gzip.open(path, "rt") as src:
        tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
    assert [g for g in coverage.gaps(tl) if g.start is not None] == []


def edited(tl: Timeline, kind: str, **data) -> Timeline:
    return Timeline(Event(e.t, e.source, e.kind, {**e.data, **data}) if e.kind == kind else e for e in tl.events)


def test_limits_written_in_the_timeline_are_not_the_judges():
    """The engine-killed run with its rhythm edited to 60 s and the engine's events removed
    re-judged PASS on c0d8884 (the judge took the rhythm from the timeline, and no engine-watch
    looked like an older recording): the judge works its limits out again and names the edit."""
    tl = load(ENGINE_KILLED)
    forged = Timeline(e for e in edited(tl, "rhythm", max_silence_s=60.0).events if e.source != "engine")
    v = judged(forged, "kill-primary")
    assert v["outcome"].status != "pass"
    every_verdict_unknown_naming(v, "the harness's engine-watch record is missing, though the harness that recorded "
                                    "this timeline records it")
    for name in ("takeover", "duplicates", "continuity"):
        assert "the recorded clients' rhythm says 60.0 s, but the drill's workload allows 8 s" in v[name].reason
        assert "the clients' record is silent from +26.8 s to +39.1 s after the fault" in v[name].reason


def test_an_engine_watch_whose_allowance_was_widened_is_a_contradiction():
    """With every engine event kept but ``silence_s`` edited to 60 s, the engine's 36.7 s absence is
    still measured against the harness's own 4 s, and the edit is named."""
    v = judged(edited(load(ENGINE_KILLED), "engine-watch", silence_s=60.0), "kill-primary")
    every_verdict_unknown_naming(v, "the recorded engine-watch says a ping every 1.0 s and 60.0 s of silence allowed, "
                                    "but the harness pings every 1 s and allows 4 s",
                                 "the Docker engine is silent from +1.4 s to +38.0 s after the fault")


def test_a_timeline_whose_harness_records_the_engine_watch_but_holds_none_is_unknown():
    """A recording of today's harness (its lab event lists what it records) with the engine's events
    and the rhythm gone cannot pass as one recorded before the harness watched its engine."""
    tl = load("kea-hs-kill-primary")
    assert judged(tl, "kill-primary")["outcome"].status == "pass"
    flagged = edited(tl, "lab", records=["engine-watch", "rhythm"])
    every_verdict_unknown_naming(judged(flagged, "kill-primary"), "the harness's engine-watch record is missing")
    assert judged(watched(edited(flagged, "lab", records=["engine-watch"])), "kill-primary")["outcome"].status == "pass"


# -- each server's log must show what a live server logs before the fault --------------------------
def without_log(tl: Timeline, role: str) -> Timeline:
    from dhcpdrill.servers import LOG_KINDS
    return Timeline(e for e in tl.events if not (e.source == role and e.kind in LOG_KINDS))


@pytest.mark.parametrize("name, drill, role, normal", [("kea-hs-kill-primary", "kill-primary", "primary", "hot-standby"),
                                                       ("isc-partner-down", "partner-down", "secondary", "normal")])
def test_a_server_whose_whole_log_was_dropped_is_a_gap_not_a_pass(name, drill, role, normal):
    """kill-primary with the primary's whole log dropped passed on c0d8884 (a killed server may
    legitimately say nothing more, so its silence was never checked): but before the fault every
    live server logs its way to the pair's normal state."""
    tl = load(name)
    assert judged(tl, drill)["outcome"].status == "pass"
    v = judged(without_log(tl, role), drill)
    assert v["outcome"].status != "pass"
    st = v["state-transitions"]
    assert st.status == UNKNOWN and f"the {role}'s log holds no line saying it reached the pair's normal state " \
        f"({normal}) before the fault" in st.reason, st
    assert v["duplicates"].status == PASS  # read from the lease files and the clients, not the log


def counted(tl: Timeline, **per_role: dict) -> Timeline:
    """The timeline with the adapter's ``server-log`` count for each role (``lines``, ``parsed``)."""
    end = tl.first("observe-end").t + 1
    return Timeline([*tl.events, *(Event(end, role, "server-log", {"container": f"x-{role}", **data})
                                   for role, data in per_role.items())])


def test_log_events_removed_after_the_adapter_counted_them_are_a_gap():
    from dhcpdrill.servers import LOG_KINDS
    tl = load("kea-hs-kill-primary")
    n = len(tl.of(*LOG_KINDS, source="secondary"))
    whole = counted(tl, secondary={"lines": 80, "parsed": n}, primary={"lines": 40, "parsed": 3})
    assert judged(whole, "kill-primary")["outcome"].status == "pass"
    warning = next(e for e in tl.of("ha-warning", source="secondary"))
    cut = Timeline(e for e in whole.events if e is not warning)
    st = judged(cut, "kill-primary")["state-transitions"]
    assert st.status == UNKNOWN and f"the secondary's log gave {n} events when it was read, but the timeline " \
        f"holds {n - 1} of them" in st.reason, st
    empty = judged(counted(tl, primary={"lines": 0, "parsed": 0}), "kill-primary")["state-transitions"]
    assert empty.status == UNKNOWN and "the primary's log was copied with no line at all" in empty.reason


def test_the_adapter_counts_the_lines_it_copied_and_the_events_it_parsed():
    from types import SimpleNamespace

    from dhcpdrill.servers.kea import KeaAdapter
    log = [(1.0, "dhcpdrill: container start 1"),
           (2.0, "2026-11-30 12:06:50.100 INFO  [kea-dhcp4.ha-hooks/11.1] HA_STATE_TRANSITION server1: "
                 "server transitions from WAITING to SYNCING state, partner state is WAITING"),
           (3.0, "an unrelated line")]
    container = SimpleNamespace(name="dhcpdrill-x-primary")
    lab = SimpleNamespace(containers_by_role=lambda roles: {}, retired=[("primary", container)], log_gaps={},
                          log_lines=lambda c: log)
    tl = Timeline()
    KeaAdapter().collect(lab, None, tl)
    said = tl.first("server-log")
    assert said.source == "primary" and said.data == {"container": "dhcpdrill-x-primary", "lines": 3, "parsed": 1}
    assert len(tl.of("ha-state")) == 1


def test_a_rolling_upgrade_stopping_each_server_in_turn_is_no_gap():
    """CI-equivalent run 2026-12-07: the rolling upgrade targets the secondary but stops and
    reinstalls both servers (its ``stopped`` steps name them); the primary's container dying then
    is the fault's own step, not a gap. Before, every verdict read UNKNOWN and the drill failed."""
    v = judged(load("kea-hs-rolling-upgrade-both-stopped"), "rolling-upgrade")
    assert v["outcome"].status == "pass", v["outcome"].reasons
    tl = load("kea-hs-rolling-upgrade-both-stopped")
    unplanned = without(tl, lambda e: e.kind == "upgrade-step" and e.get("role") == "primary"
                        and e.get("step") == "stopped")
    assert judged(unplanned, "rolling-upgrade")["steady-state"].status == UNKNOWN
