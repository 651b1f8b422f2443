"""Every verdict, in full (status, reason, figure, unit, threshold), on a catalogue of timelines:
hand-built edge cases, the recorded drills and mutations of them, each under the pair's own
expectations, under strict ones and under none. The approved results are in
``verdict_snapshots.json``, which a reviewer reads as the verdicts' specification by example; a
change to any verdict's wording or logic shows up here as a diff to approve.

    DHCPDRILL_APPROVE=1 pytest tests/unit/test_verdict_snapshots.py   # rewrite after review
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from dhcpdrill.expectations import Thresholds
from dhcpdrill.timeline import Timeline
from dhcpdrill.timers import VANISHES, kea_takeover
from dhcpdrill.verdicts import JUDGES

from . import test_real_clients as rc
from . import test_real_evidence as real
from .test_storage_faults import cut_tail, nak
from .timelines import FAULT_T, PRIMARY, SECONDARY, base, bound, healthy, lease_files_read, mac, record

SNAPSHOTS = Path(__file__).with_name("verdict_snapshots.json")
STRICT = Thresholds(max_takeover_s=5, max_duplicates=0, min_continuity=1.0,
                    expect_states={"primary": (), "secondary": ("partner-down",)}, max_outage_s=3.0,
                    expect_warnings=("HA_HIGH_CLOCK_SKEW",), max_heal_to_normal_s=2.0, max_new_lease_s=30,
                    mclt_s=30, max_expired_leases=0, max_dropped_queries=0, max_lease_sync_gap_s=2.0)
NOTHING = Thresholds(max_takeover_s=15)
LENIENT = Thresholds(max_takeover_s=60, max_duplicates=3, min_continuity=0.5,
                     expect_states={"secondary": ("partner-down", "hot-standby")}, max_outage_s=60,
                     expect_warnings=("HA_", "time offset"), max_heal_to_normal_s=60, max_new_lease_s=120,
                     mclt_s=60, max_expired_leases=1000, max_dropped_queries=1000, max_lease_sync_gap_s=60)


def _isc(tl: Timeline) -> Timeline:
    tl.first("lab").data.update(normal_state="normal", interrupted_states=["communications-interrupted"],
                                solo_states=["partner-down"])
    tl.add(5.0, "harness", "pair-ready", states={"primary": "normal", "secondary": "normal"})
    return tl


def _hand_built() -> dict[str, Timeline]:
    cases = {"empty": Timeline(), "no-fault": base(fault=False), "not-verified": base(verified=False),
             "base": base(), "healthy": healthy()}
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09", role="probe")
    tl.add(FAULT_T + 20, "clients", "lease-lost", client="steady-01", mac=mac(1), ip="198.18.0.101", why="nak")
    bound(tl, FAULT_T + 22, 1, "198.18.0.150", SECONDARY)
    tl.add(FAULT_T + 2, "secondary", "ha-warning", line="WARN HA_HIGH_CLOCK_SKEW 35 s")
    tl.add(FAULT_T + 3, "primary", "ha-warning", line="WARN HA_LEASE_UPDATE_CONFLICT primary: lease update "
           "to secondary (http://198.18.0.12:8001/) returned conflict status code: lease state released")
    cases["duplicate-and-move"] = tl
    tl = _isc(lease_files_read(base()))
    for role in ("primary", "secondary"):
        tl.add(FAULT_T + 1, role, "ha-state", **{"from": "normal", "to": "communications-interrupted", "partner": ""})
    tl.add(FAULT_T + 8, "secondary", "pool-owners", own=["198.18.0.150"], partner=["198.18.0.180"])
    tl.add(FAULT_T + 9, "secondary", "ha-state", **{"from": "communications-interrupted", "to": "partner-down"})
    for i in range(3):
        tl.add(10.0 + i, "primary", "lease-grant", ip=f"198.18.0.{100 + i}", mac=mac(i), cltt=10.0 + i,
               ends=130.0 + i, tsfp=115.0 + i)
        record(tl, "primary", f"198.18.0.{100 + i}", mac(i), 10.0 + i, 130.0 + i)
        bound(tl, FAULT_T + 4 + i, i, f"198.18.0.{100 + i}", SECONDARY, lease=40.0, asked=FAULT_T + 2)
        tl.add(FAULT_T + 4 + i, "secondary", "lease-grant", ip=f"198.18.0.{100 + i}", mac=mac(i),
               cltt=FAULT_T + 4 + i, ends=FAULT_T + 44 + i, tsfp=130.0 + i)
    for k, (t, ip) in enumerate(((FAULT_T + 20, "198.18.0.150"), (FAULT_T + 25, "198.18.0.180"))):
        bound(tl, t, 40 + k, ip, SECONDARY, lease=30.0, client=f"fresh-00{k}", role="fresh")
        tl.add(t, "secondary", "lease-grant", ip=ip, mac=mac(40 + k), cltt=t, ends=t + 30, tsfp=None)
    tl.add(FAULT_T + 20, "harness", "heal-started", fault="kill", target="primary")
    tl.add(FAULT_T + 21, "harness", "fault-healed", fault="kill", target="primary", restored=True)
    for role in ("primary", "secondary"):
        tl.add(FAULT_T + 24, role, "ha-state", **{"from": "x", "to": "normal", "partner": ""})
    cases["isc-interrupted-healed"] = tl
    bad = Timeline(list(tl.events))
    bound(bad, 50.0, 20, "198.18.0.120", SECONDARY, lease=30.0, client="probe-20", role="probe")  # serving early
    bad.add(50.0, "secondary", "lease-grant", ip="198.18.0.120", mac=mac(20), cltt=50.0, ends=80.0, tsfp=None)
    bound(bad, FAULT_T + 26, 42, "198.18.0.181", SECONDARY, lease=90.0, client="fresh-002", role="fresh")
    bad.add(FAULT_T + 26, "secondary", "lease-grant", ip="198.18.0.181", mac=mac(42), cltt=FAULT_T + 26,
            ends=FAULT_T + 116, tsfp=None)
    bad.add(FAULT_T + 27, "clients", "recv", client="fresh-002", mac=mac(42), msg="ACK", expected=False,
            udp_checksum_ok=False)
    record(bad, "secondary", "198.18.0.150", mac(40), FAULT_T + 20, FAULT_T + 50)  # the primary never learns it
    bad.add(FAULT_T + 28, "clients", "lease-lost", client="steady-02", mac=mac(2), ip="198.18.0.102", why="expired")
    cases["isc-misbehaving"] = bad
    unsteady = Timeline([e for e in base(fault=False).events if e.kind != "steady"])
    unsteady.add(40.0, "clients", "steady-failed", unbound=["steady-02"])
    cases["never-steady"] = unsteady
    contradicted = healthy()
    bound(contradicted, FAULT_T + 8, 1, "198.18.9.101", PRIMARY, client="steady-01")  # the dead primary, off-subnet
    contradicted.add(FAULT_T + 9, "harness", "fault-verified", fault="kill", target="secondary", evidence="exited")
    cases["contradicted"] = contradicted
    refused = healthy()  # storage full: the primary refuses a renewal, a probe is refused twice
    nak(refused, FAULT_T + 3, 1, "RENEWING")
    nak(refused, FAULT_T + 8, 9, "REQUESTING", client="probe-09")
    nak(refused, FAULT_T + 9, 9, "REQUESTING", client="probe-09")
    cases["naks-refused"] = refused
    cases["tail-cut-relearned"] = cut_tail(known=True)
    cases["tail-cut-forgotten"] = cut_tail(known=False)
    # real client daemons (test_real_clients): dhclient lost its address 3.5 s, dhcpcd was NAKed,
    # udhcpc came back with another address and its samples stop 10 s early, systemd-networkd was NAKed
    networkd_naked = rc.with_real("systemd-networkd", tl=healthy(), log=[(FAULT_T + 9.9, "eth0: DHCPv4 client: NAK: n/a")])
    cases["real-clients"] = rc.with_real("dhclient", addrs=lambda t: [] if FAULT_T + 10 <= t < FAULT_T + 13.5 else [rc.ADDR],
                                         tl=rc.with_real("dhcpcd", log=[(FAULT_T + 9.9, "eth0: NAK: address in use from 198.18.0.12")],
                                                         tl=rc.with_real("udhcpc", tl=networkd_naked, end=FAULT_T + 20,
                                                                         addrs=lambda t: ["198.18.0.160/24"] if t > FAULT_T + 15 else [rc.ADDR])))
    cases["real-clients-kept"] = rc.with_real("dhclient", tl=rc.with_real("dhcpcd", tl=rc.with_real("udhcpc", tl=rc.with_real(
        "systemd-networkd", tl=healthy()))))
    return cases


def pair_folder(name: str) -> Path:
    """A recorded drill's pair: bundled, else one of fixtures/production/, fixtures/versions/ or fixtures/sql/."""
    return next((folder for folder in (real.ROOT / "fixtures" / name, real.ROOT / "fixtures" / "versions" / name,
                                       real.ROOT / "fixtures" / "sql" / name)
                 if folder.is_dir()), real.ROOT / "fixtures" / "production" / name)


def _recorded() -> dict[str, tuple[Timeline, str]]:
    drills = {"kea-hs-kill-primary": "kill-primary", "kea-lb-client-partition": "client-partition",
              "kea-hs-peer-partition": "peer-partition", "kea-hs-failback": "failback",
              "isc-partner-down": "partner-down", "isc-skew-at-boot": "clock-skew-65s-at-boot",
              "isc-kill-primary-new-clients": "kill-primary-new-clients",
              "kea-hs-maintenance-handoff": "maintenance-handoff",
              "kea-relayed-kill-primary": "kill-primary", "isc-relayed-kill-primary": "kill-primary",
              "kea-hs-narrow-peer-link": "narrow-peer-link", "kea-hsb-kill-backup": "kill-backup",
              "kea-lb-heal-under-load": "heal-under-load",
              "kea-lb-heal-under-load-default-timers": "heal-under-load-long"}
    out = {}
    for name, drill in drills.items():
        tl = real.load(name)
        pair = real.load_pair(pair_folder(tl.first("lab").get("pair")))
        tl = real.with_prediction(tl, pair, real.SCENARIOS[drill])
        out[name] = (tl, drill)
        standby = next(ip for ip, role in tl.first("lab").get("roles").items() if role == "secondary")
        out[f"{name}/no-survivor-acks"] = (real.without(tl, lambda e: e.source == "clients" and e.kind in ("recv", "bound")
                                                          and e.get("server_id") == standby), drill)
        out[f"{name}/no-lease-files"] = (real.without(tl, lambda e: e.kind == "lease-file"), drill)
        out[f"{name}/no-window-end"] = (real.without(tl, lambda e: e.kind == "observe-end"), drill)
    # server2 of the load-balancing client partition silent to new clients from +2 s (its renewals
    # still answered): the hole partner-share-held closes (tests/unit/test_partner_share.py).
    tl, drill = out["kea-lb-client-partition"]
    gone = real.fault_t(tl) + 2.0
    out["kea-lb-client-partition/partner-silent-to-new-clients"] = (real.without(tl, lambda e: (
        e.source == "clients" and e.t >= gone and str(e.get("client")).startswith("probe")
        and e.kind in ("recv", "bound") and e.get("server_id") == "198.18.1.12")), drill)
    # The backup never heard of one steady client's lease (backup-updated FAILs).
    tl, drill = out["kea-hsb-kill-backup"]
    mac = next(e.get("mac") for e in tl.of("bound") if e.get("client") == "steady-00")
    out["kea-hsb-kill-backup/backup-missed-a-lease"] = (real.without(
        tl, lambda e: e.kind == "backup-lease" and e.get("mac") == mac), drill)
    # The recorded heal under load as if its second lease sync had held the service off 9 s longer:
    # lease-sync-gap fails (tests/unit/test_lease_sync_gap.py).
    from .test_lease_sync_gap import longer_sync
    tl, drill = out["kea-lb-heal-under-load"]
    out["kea-lb-heal-under-load/sync-off-9s-longer"] = (longer_sync(tl, 9.0), drill)
    # The recorded tight-timer takeover (~12 s) set against what a default-timer config predicts.
    kill = real.load("kea-hs-kill-primary")
    default = kea_takeover({}, VANISHES, 5.0)
    out["kea-hs-kill-primary/default-timers-predicted"] = (Timeline([
        real.Event(kill.events[0].t, "harness", "prediction", {"of": "takeover", "low_s": default.low_s,
                                                                "high_s": default.high_s, "basis": default.basis}),
        *kill.events]), "kill-primary")
    return out


def _cases() -> dict[str, tuple[Timeline, Thresholds]]:
    cases = {}
    for name, tl in _hand_built().items():
        for label, limits in (("strict", STRICT), ("nothing", NOTHING), ("lenient", LENIENT)):
            cases[f"{name}@{label}"] = (tl, limits)
    for name, (tl, drill) in _recorded().items():
        pair = real.load_pair(pair_folder(tl.first("lab").get("pair")))
        cases[f"{name}@pair"] = (tl, pair.drills[drill])
        cases[f"{name}@strict"] = (tl, STRICT)
        cases[f"{name}@nothing"] = (tl, NOTHING)
    return cases


def _shown(v) -> dict:
    """A verdict in full; ``outside`` only where it is not 0 (the part of a failure no hazard
    excuses), so the snapshots show it where it says something."""
    return {k: x for k, x in dataclasses.asdict(v).items() if k != "outside" or x}


def judged_all() -> dict[str, dict[str, dict]]:
    return {case: {name: _shown(judge(tl, limits)) for name, judge in JUDGES.items()}
            for case, (tl, limits) in _cases().items()}


def approving() -> bool:
    """Only a deliberate yes (1, true, yes) rewrites the approved snapshots: DHCPDRILL_APPROVE=0
    once rewrote them all."""
    return os.environ.get("DHCPDRILL_APPROVE", "").strip().lower() in ("1", "true", "yes")


def test_every_verdict_on_every_catalogued_timeline_is_as_approved():
    got = judged_all()
    if approving():
        SNAPSHOTS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        pytest.skip("snapshots rewritten: review the diff before committing")
    approved = json.loads(SNAPSHOTS.read_text())
    assert sorted(got) == sorted(approved), "the catalogue of cases changed: approve anew"
    diffs = [f"{case} / {name}:\n  approved {approved[case][name]}\n  now      {got[case][name]}"
             for case in sorted(got) for name in sorted(got[case]) if got[case][name] != approved[case].get(name)]
    assert not diffs, f"{len(diffs)} verdict(s) differ from the approved ones:\n" + "\n".join(diffs[:10])


def test_the_catalogue_reaches_every_status_of_every_verdict_that_has_it():
    seen: dict[str, set[str]] = {}
    for verdicts in judged_all().values():
        for name, v in verdicts.items():
            seen.setdefault(name, set()).add(v["status"])
    assert all({"pass", "unknown"} <= statuses for statuses in seen.values()), seen
    assert sum("fail" in statuses for statuses in seen.values()) >= len(seen) - 1, seen


@pytest.mark.parametrize("value", ["0", "", "no", "false", "off"])
def test_a_no_to_approve_compares_and_rewrites_nothing(tmp_path, monkeypatch, value):
    stale = tmp_path / "verdict_snapshots.json"
    stale.write_text("{}\n")
    monkeypatch.setitem(globals(), "SNAPSHOTS", stale)
    monkeypatch.setenv("DHCPDRILL_APPROVE", value)
    with pytest.raises(AssertionError, match="the catalogue of cases changed"):
        test_every_verdict_on_every_catalogued_timeline_is_as_approved()
    assert stale.read_text() == "{}\n"


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_a_yes_to_approve_rewrites_the_snapshots(tmp_path, monkeypatch, value):
    stale = tmp_path / "verdict_snapshots.json"
    stale.write_text("{}\n")
    monkeypatch.setitem(globals(), "SNAPSHOTS", stale)
    monkeypatch.setenv("DHCPDRILL_APPROVE", value)
    with pytest.raises(pytest.skip.Exception):
        test_every_verdict_on_every_catalogued_timeline_is_as_approved()
    assert json.loads(stale.read_text()) == json.loads(Path(__file__).with_name("verdict_snapshots.json").read_text())
