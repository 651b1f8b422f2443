"""A known hazard's ``fails`` carries bounds as its ``may_fail`` does (issue 26, item 4): a verdict
with a figure of harm is excused only within a stated bound, whether the hazard breaks it in
every run or in some; a hazard whose statement is "never taken over" says exactly that
(``takeover = "none"``, ``client-outage = "no-takeover"``). Judged on real recorded timelines,
mutated: each test failed on c0d8884, where ``fails = ["split-brain"]`` excused a split brain of
any length and ``fails = ["service-held"]`` a survivor that went silent."""
from __future__ import annotations

import pytest

from dhcpdrill.expectations import BOUNDS, NEEDS, PRECONDITIONS, UNBOUNDED, KnownHazard
from dhcpdrill.outcome import decide
from dhcpdrill.pair import load_pair
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, Verdict
from tests.unit.test_hazard_bounds import _judged_with, _pair_with, assert_refused
from tests.unit.test_real_evidence import ROOT, fault_t, judged, load, with_events, without

WHY = "a hazard that breaks it in every run"


def _longer_split_brain(name: str) -> Timeline:
    """The recorded peer partition with both servers' state changes from the heal on removed (they
    stay partner-down): the same run, a split brain that outlasts the cut (the pairs' bound is the cut's 30 s)."""
    tl = load(name)
    healed = tl.first("heal-started").t
    return without(tl, lambda e: e.kind == "ha-state" and e.t >= healed)


# -- split brain ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, recorded", [("kea-hs-peer-partition", 23.5), ("kea-lb-peer-partition", 24.1)])
def test_the_recorded_split_brain_is_within_the_pairs_bound_and_a_longer_one_is_not(name, recorded):
    v = judged(load(name), "peer-partition")
    assert v["split-brain"].figure == recorded and v["outcome"].status == "expected-failure"
    longer = judged(_longer_split_brain(name), "peer-partition")
    assert longer["split-brain"].status == FAIL and longer["split-brain"].figure > 30
    assert longer["outcome"].status == "fail"
    [reason] = [r for r in longer["outcome"].reasons if r.startswith("split-brain")]
    assert reason.endswith(f"({longer['split-brain'].figure:g} is beyond the known hazard's bound <= 30 s)")
    others = {r.split(":")[0] for r in longer["outcome"].reasons if not r.startswith("split-brain")}
    assert others <= {"state-transitions", "heal-to-normal"}  # still partner-down when the window ends


# -- a survivor that goes silent --------------------------------------------------------------------
def _silent_from_16s() -> Timeline:
    """The recorded Kea hot-standby kill-primary with every reply from the survivor after +16 s of
    the window removed (the clients kept asking)."""
    tl = load("kea-hs-kill-primary")
    fault = fault_t(tl)
    standby = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "secondary")
    return without(tl, lambda e: e.source == "clients" and e.kind in ("recv", "bound")
                   and e.get("server_id") == standby and e.t > fault + 16)


def test_a_hazard_naming_service_held_without_a_bound_excuses_no_silent_survivor(monkeypatch):
    """On c0d8884 ``fails = ["service-held"]`` made this run FAIL, AS EXPECTED (exit 0)."""
    unbounded = _judged_with(_silent_from_16s(), "kill-primary", KnownHazard(WHY, ("service-held",)), monkeypatch)
    assert unbounded["service-held"].status == FAIL and unbounded["outcome"].status == "fail"
    assert unbounded["outcome"].reasons[0].endswith("(the known hazard states no bound for it)")
    gap = unbounded["service-held"].figure
    short = KnownHazard(WHY, ("service-held",), bounds={"service-held": 5})
    v = _judged_with(_silent_from_16s(), "kill-primary", short, monkeypatch)
    assert v["outcome"].status == "fail"
    assert v["outcome"].reasons[0].endswith(f"({gap:g} is beyond the known hazard's bound <= 5 s)")
    wide = KnownHazard(WHY, ("service-held",), bounds={"service-held": gap + 1})
    assert _judged_with(_silent_from_16s(), "kill-primary", wide, monkeypatch)["outcome"].status == "expected-failure"


# -- never taken over -------------------------------------------------------------------------------
def _late_takeover() -> Timeline:
    """The recorded Kea load-balancing client partition (server1 cut from its clients, never
    taken over), with server2 answering one of server1's clients 20 s after the fault: a takeover
    that came, later than max_takeover_s (15 s)."""
    tl = load("kea-lb-client-partition")
    at = fault_t(tl) + 20
    ack, bound = [e for e in tl.events if e.source == "clients" and e.get("client") == "probe-00"
                  and e.kind in ("recv", "bound") and e.t < fault_t(tl)][-2:]
    server2 = {"server_id": "198.18.1.12", "src_ip": "198.18.1.12"}
    return with_events(tl, Event(at, ack.source, ack.kind, {**ack.data, **server2, "xid": 1}),
                       Event(at, bound.source, bound.kind, {**bound.data, "server_id": "198.18.1.12"}))


def test_the_recorded_client_partition_is_the_hazard_it_states():
    v = judged(load("kea-lb-client-partition"), "client-partition")
    assert v["takeover"].status == FAIL and v["takeover"].figure is None
    assert v["outcome"].status == "expected-failure"
    assert set(v["outcome"].as_expected) == {"takeover", "client-outage", "state-transitions"}


def test_a_late_takeover_is_not_the_never_taken_over_hazard():
    """On c0d8884 ``fails = ["takeover", "client-outage", …]`` excused this late takeover too."""
    v = judged(_late_takeover(), "client-partition")
    assert v["takeover"].status == FAIL and v["takeover"].figure == pytest.approx(20, abs=0.01)
    assert v["client-outage"].status == FAIL
    assert v["outcome"].status == "fail"
    text = "\n".join(v["outcome"].reasons)
    assert "(a survivor took over 20 s after the fault; the known hazard says none does, and a late takeover " \
           "is not what it excuses)" in text
    assert "client-outage: fail:" in text and "(a survivor took over, so this is not the outage the known " \
                                              "hazard states (no takeover at all))" in text


def test_an_outage_excused_for_want_of_a_takeover_needs_a_takeover_verdict_that_shows_none():
    hazard = KnownHazard(WHY, ("client-outage",), bounds={"client-outage": "no-takeover"})
    outage = Verdict("client-outage", FAIL, "probe-00 waited 31.11 s", figure=31.11, unit="s")
    assert decide([outage], None, hazard).reasons[0].endswith(
        "(no takeover verdict shows that nobody took over, as the known hazard states)")
    none = Verdict("takeover", FAIL, "no takeover", unit="s")
    both = KnownHazard(WHY, ("takeover", "client-outage"), bounds={"takeover": "none", "client-outage": "no-takeover"})
    assert decide([none, outage], None, both).status == "expected-failure"


# -- rounding -----------------------------------------------------------------------------------------
def test_a_rounded_figure_that_may_stand_for_a_value_beyond_the_bound_is_not_within_it():
    """Continuity is a percentage rounded to 0.1: 79.96 % reads 80.0 %, which on c0d8884 passed a
    bound of 0.8."""
    hazard = KnownHazard(WHY, (), ("continuity",), {"continuity": 0.8})
    kept = Verdict("continuity", FAIL, "7,996 of 10,000 clients kept their address", figure=80.0, unit="%")
    outcome = decide([kept], None, hazard)
    assert outcome.status == "fail"
    assert outcome.reasons[0].endswith("(80 is rounded to 0.1 and may stand for 79.95, beyond the known hazard's "
                                       "bound >= 80 %)")
    assert hazard.breach("continuity", 80.1) is None
    assert KnownHazard(WHY, (), ("continuity",), {"continuity": 0.7995}).breach("continuity", 80.0) is None
    assert KnownHazard(WHY, ("split-brain",), (), {"split-brain": 25}).breach("split-brain", 25.0) is not None


# -- every verdict has its place ----------------------------------------------------------------------
def test_every_verdict_is_bounded_unbounded_or_a_precondition():
    """service-held, mclt-cap, failback-sync, partner-pool-after-mclt and subnets were in none of
    them on c0d8884, so a hazard could name them without a bound."""
    places = [set(BOUNDS), set(UNBOUNDED), set(PRECONDITIONS)]
    assert set().union(*places) == set(NEEDS)
    assert sum(len(p) for p in places) == len(NEEDS)


def test_every_bundled_hazard_bounds_every_verdict_with_a_figure():
    hazards = [(f, d, lim.known_hazard) for f in sorted(p.parent for p in (ROOT / "fixtures").rglob("pair.toml"))
               if "broken" not in f.parts and "v6" not in f.relative_to(ROOT).parts for d, lim in load_pair(f).drills.items() if lim.known_hazard]
    assert len(hazards) >= 20
    for folder, drill, hazard in hazards:
        for name in (*hazard.fails, *hazard.may_fail):
            assert name in UNBOUNDED or name in hazard.bounds, (folder, drill, name)


# -- what the check refuses ---------------------------------------------------------------------------
HS_PEER = "fails = { split-brain = 30 }, may_fail = { duplicates = 28 }"


@pytest.mark.parametrize("fails, said", [
    ('["split-brain"], may_fail = { duplicates = 2 }',
     "known_hazard.fails: excuses split-brain without a bound — say how badly the hazard may break it: "
     "fails = { split-brain = N } (seconds both servers may serve alone at worst), no less than the worst run recorded"),
    ('["service-held"]', "known_hazard.fails: excuses service-held without a bound"),
    ('["duplicates", "continuity", "takeover"]', "known_hazard.fails: excuses takeover without a bound — say how "
     'badly the hazard may break it: fails = { takeover = N } (seconds the takeover may take at worst), no less '
     'than the worst run recorded, or takeover = "none" when the hazard is that no survivor ever takes over'),
    ('["split-brain", "state-transitions"]', "fails = { split-brain = N, state-transitions = true }"),
    ('{ split-brain = 0 }', "known_hazard.fails.split-brain: 0 excuses nothing beyond 0"),
    ('{ takeover = "slow" }', "known_hazard.fails.takeover: 'slow' is no bound"),
    ('{ split-brain = "none" }', "known_hazard.fails.split-brain: must be a number"),
    ('{ client-outage = "no-takeover" }', 'excuses client-outage = "no-takeover" but not takeover = "none"'),
    ('{ takeover = 12 }', "known_hazard.fails.takeover: 12 excuses nothing beyond max_takeover_s 15"),
    ('{ evidence-consistent = 1 }', "names evidence-consistent, which no hazard may excuse"),
])
def test_the_check_refuses_fails_without_a_sound_bound(tmp_path, capsys, fails, said):
    assert_refused(_pair_with(tmp_path, HS_PEER, f"fails = {fails}", "kea-hot-standby"), said,
                   "drills.peer-partition.known_hazard", capsys)


def test_a_fails_table_reads_back_and_describes_itself(tmp_path):
    hazard = load_pair(ROOT / "fixtures" / "kea-hot-standby").drills["client-partition"].known_hazard
    assert hazard.fails == ("takeover", "client-outage", "state-transitions")
    assert hazard.bounds == {"takeover": "none", "client-outage": "no-takeover"}
    assert hazard.describe().endswith("(fails: takeover (none at all), client-outage (up to the whole window, "
                                      "with no takeover), state-transitions)")
    peer = load_pair(ROOT / "fixtures" / "kea-hot-standby").drills["peer-partition"].known_hazard
    assert peer.describe().endswith("(fails: split-brain <= 30 s; may fail: duplicates <= 28 inside the split brain)")


@pytest.mark.parametrize("name", ["kea-hs-peer-partition", "kea-lb-peer-partition"])
def test_the_reports_mark_a_split_brain_beyond_its_bound_fail_and_one_within_it_xfail(name):
    """The summary, HTML and GO line mark a hazard's verdict XFAIL only when it failed within the
    hazard's bound; the recorded split brain is within it, the one that outlasts the cut is not."""
    from pathlib import Path

    from dhcpdrill.drill import DrillResult
    from dhcpdrill.report import mark
    from tests.unit.test_real_evidence import SCENARIOS

    pair = load_pair(ROOT / "fixtures" / ("kea-hot-standby" if "-hs-" in name else "kea-load-balancing"))
    for tl, want in ((load(name), "XFAIL"), (_longer_split_brain(name), "FAIL")):
        v = judged(tl, "peer-partition")
        verdicts = [x for k, x in v.items() if k != "outcome"]
        result = DrillResult(pair, SCENARIOS["peer-partition"], "recorded", Path("."), 0.0, tl, verdicts)
        assert mark(result, v["split-brain"]) == want
