"""Real client daemons (dhcpdrill/realclients.py): the samples and logs they leave are read the
way the machine had them, and each kind's verdict fails on the timeline that shows the failure,
is UNKNOWN where the samples have a hole, and never passes without evidence."""
from __future__ import annotations

from pathlib import Path

import pytest

from dhcpdrill import realclients
from dhcpdrill.drill import verdicts_for
from dhcpdrill.expectations import Thresholds
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.timeline import Timeline
from dhcpdrill.verdicts import FAIL, JUDGES, PASS, UNKNOWN, judge

from .timelines import FAULT_T, base, healthy

ROOT = Path(__file__).resolve().parents[2]
LIMITS = Thresholds(max_takeover_s=15.0)
ADDR = "198.18.0.150/24"


def with_real(kind: str = "dhclient", every: float = 0.2, start: float = 20.0, end: float = FAULT_T + 30.5,
              addrs=lambda t: [ADDR], log: list[tuple[float, str]] = (), tl: Timeline | None = None) -> Timeline:
    """``base()`` with one real client sampled every ``every`` s from ``start`` to ``end``, its
    interface holding ``addrs(t)``."""
    tl = tl or base()
    source = realclients.SOURCE + kind
    tl.add(start - 1, source, "real-client", client=kind, role=f"real-{kind}", every_s=every,
           subnets=["198.18.0.0/24"])
    t = start
    while t <= end:
        tl.add(t, source, "address-sample", addrs=list(addrs(t)))
        t = round(t + every, 3)
    for t, line in log:
        tl.add(t, source, "client-log", line=line)
    return tl


def verdict(tl: Timeline, kind: str = "dhclient", limits: Thresholds = LIMITS):
    return judge(tl, limits, [f"real-{kind}"])[0]


def test_a_client_that_kept_its_address_through_the_window_passes_with_no_time_without_one():
    v = verdict(with_real())
    assert v.status == PASS and v.figure == 0.0
    assert "kept 198.18.0.150/24" in v.reason and "0 NAK" in v.reason


def test_losing_the_address_for_a_while_fails_with_the_longest_stretch_without_one():
    v = verdict(with_real(addrs=lambda t: [] if FAULT_T + 10 <= t < FAULT_T + 13.5 else [ADDR]))
    assert v.status == FAIL
    assert v.figure == pytest.approx(3.4, abs=0.25)
    assert "lost 198.18.0.150/24 at +10.0 s" in v.reason and "without a usable address for 3." in v.reason


def test_a_new_address_after_the_fault_is_not_continuity():
    v = verdict(with_real(addrs=lambda t: ["198.18.0.151/24"] if t >= FAULT_T + 20 else [ADDR]))
    assert v.status == FAIL and v.figure == 0.0
    assert "lost 198.18.0.150/24 at +20.0 s" in v.reason and "not that one" in v.reason


def test_a_link_local_fallback_is_no_usable_address():
    """dhcpcd falls back to 169.254/16 when nobody answers: on the interface, but outside the link's subnet."""
    v = verdict(with_real("dhcpcd", addrs=lambda t: ["169.254.7.7/16"] if t >= FAULT_T + 25 else [ADDR]), "dhcpcd")
    assert v.status == FAIL and v.figure == pytest.approx(5.0, abs=0.25)  # to the window's end


def test_a_nak_in_the_clients_log_after_the_fault_fails_it_unless_the_pair_allows_it():
    log = [(FAULT_T + 12, "DHCPNAK from 198.18.0.12"), (FAULT_T - 50, "DHCPNAK from 198.18.0.11")]
    tl = with_real(log=log)
    v = verdict(tl)
    assert v.status == FAIL and "1 NAK(s) in its log after the fault" in v.reason and "+12.0 s" in v.reason
    assert verdict(tl, limits=Thresholds(max_takeover_s=15.0, max_naks=1)).status == PASS


@pytest.mark.parametrize("kind, line", [("dhclient", "DHCPNAK from 198.18.0.12"),
                                        ("dhcpcd", "eth0: NAK: address not available from 198.18.0.12"),
                                        ("udhcpc", "udhcpc: received DHCP NAK"),
                                        # sd-dhcp-client.c: log_dhcp_client(client, "NAK: %s", strna(error_message))
                                        ("systemd-networkd", "eth0: DHCPv4 client: NAK: n/a")])
def test_each_daemons_own_nak_line_is_counted(kind, line):
    assert verdict(with_real(kind, log=[(FAULT_T + 5, line)]), kind).status == FAIL


def test_lines_that_only_mention_a_request_are_no_nak():
    log = [(FAULT_T + 5, "DHCPREQUEST for 198.18.0.150 on eth0 to 255.255.255.255 port 67"),
           (FAULT_T + 5, "udhcpc: broadcasting renew"), (FAULT_T + 6, "eth0: acknowledged 198.18.0.150 from 198.18.0.12")]
    assert verdict(with_real(log=log)).status == PASS


def test_a_hole_in_the_samples_leaves_a_pass_unknown():
    def addrs(t):
        return [ADDR]
    tl = base()
    source = realclients.SOURCE + "dhclient"
    tl.add(19.0, source, "real-client", client="dhclient", role="real-dhclient", every_s=0.2, subnets=["198.18.0.0/24"])
    for t in [x / 5 for x in range(100, 600)] + [x / 5 for x in range(605, 700)]:  # 119.8 s to 121.0 s: no sample
        tl.add(t, source, "address-sample", addrs=addrs(t))
    v = verdict(tl)
    assert v.status == UNKNOWN and "address samples missing +19.8 s to +21.0 s" in v.reason
    assert "what the interface had then is unknown" in v.reason


def test_samples_that_stop_before_the_window_ends_are_unknown():
    v = verdict(with_real(end=FAULT_T + 20))
    assert v.status == UNKNOWN and "samples missing" in v.reason


def test_a_loss_the_samples_prove_stays_a_failure_despite_a_hole_elsewhere():
    tl = with_real(end=FAULT_T + 20, addrs=lambda t: [] if t >= FAULT_T + 5 else [ADDR])
    assert verdict(tl).status == FAIL


def test_no_samples_at_all_is_unknown_never_pass():
    tl = base()
    tl.add(19.0, realclients.SOURCE + "dhclient", "real-client", client="dhclient", subnets=["198.18.0.0/24"])
    tl.add(FAULT_T + 31, realclients.SOURCE + "dhclient", "samples-read", count=0, error="no such file")
    v = verdict(tl)
    assert v.status == UNKNOWN and "no such file" in v.reason


def test_a_client_that_held_no_address_at_the_fault_is_unknown_and_says_what_its_log_said():
    tl = with_real("dhcpcd", addrs=lambda t: [], log=[(21.0, "eth0: if_init: Read-only file system"),
                                                      (21.1, "dhcpcd exited")])
    v = verdict(tl, "dhcpcd")
    assert v.status == UNKNOWN and "held no usable address" in v.reason and "dhcpcd exited" in v.reason


def test_without_an_effective_fault_or_a_real_client_nothing_is_judged():
    assert verdict(with_real(tl=base(verified=False))).status == UNKNOWN
    v = verdict(base())
    assert v.status == UNKNOWN and "no real dhclient ran" in v.reason


def test_a_real_client_that_disagrees_with_the_simulated_clients_is_named():
    v = verdict(with_real(addrs=lambda t: [] if t >= FAULT_T + 5 else [ADDR], tl=healthy()))
    assert v.status == FAIL and "continuity: pass (100 %) — dhclient DISAGREES with them" in v.reason
    kept = verdict(with_real(tl=healthy()))
    assert kept.status == PASS and "continuity: pass (100 %)" in kept.reason and "DISAGREES" not in kept.reason
    assert "continuity: fail (0 %) — dhclient DISAGREES" in verdict(with_real()).reason  # base(): none renewed


def test_the_sampler_lines_are_parsed_and_torn_ones_skipped():
    text = ("1796656680.123456789|3: eth0    inet 198.18.0.100/24 brd 198.18.0.255 scope global eth0\\ "
            "      valid_lft forever preferred_lft forever;\n"
            "1796656680.33|\n"
            "1796656680.5|3: eth0    inet 169.254.1.2/16 scope link eth0;3: eth0    inet 198.18.0.100/24 scope global;\n"
            "17966566")
    assert realclients.parse_samples(text) == [(1796656680.123456789, ["198.18.0.100/24"]), (1796656680.33, []),
                                               (1796656680.5, ["169.254.1.2/16", "198.18.0.100/24"])]


def test_the_option_names_known_kinds_only():
    assert realclients.parse_kinds("udhcpc, dhclient") == ("dhclient", "udhcpc")
    with pytest.raises(ValueError, match="unknown real client 'dhcpd'.*dhclient, dhcpcd, udhcpc"):
        realclients.parse_kinds("dhclient,dhcpd")


def test_every_kind_has_a_verdict_and_drills_judge_only_the_kinds_they_run():
    assert {f"real-{k}" for k in realclients.KINDS} <= JUDGES.keys()
    from scenarios.kill_primary import KILL_PRIMARY
    pair = load_pair(ROOT / "fixtures" / "kea-hot-standby")
    plan = adapter_for(pair).lab_plan(pair)
    assert not any(v.startswith("real-") for v in verdicts_for(KILL_PRIMARY, plan, pair))
    assert verdicts_for(KILL_PRIMARY, plan, pair, ("dhclient", "udhcpc"))[-2:] == ("real-dhclient", "real-udhcpc")


def _pair_with(tmp_path, lab: str, suite: str = "bookworm"):
    import shutil
    folder = tmp_path / "pair"
    shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", folder)
    text = (folder / "pair.toml").read_text().replace('suite = "bookworm"', f'suite = "{suite}"')
    (folder / "pair.toml").write_text(text.replace("[files]", f"[lab]\n{lab}\n\n[files]"))
    return folder


def test_a_pair_can_ask_for_real_clients_itself(tmp_path):
    pair = load_pair(_pair_with(tmp_path, 'real_clients = ["udhcpc", "dhclient"]'))
    assert pair.real_clients == ("dhclient", "udhcpc")
    assert load_pair(ROOT / "fixtures" / "kea-hot-standby").real_clients == ()


@pytest.mark.parametrize("lab, said", [
    ('real_clients = "dhclient"', "lab.real_clients: must be a list of client names"),
    ('real_clients = ["dhclinet"]', "lab.real_clients: unknown real client 'dhclinet'"),
    ('real_clients = ["dhclient", "dhclient"]', "lab.real_clients: names a client twice"),
    ('real_client = ["dhclient"]', "lab: only sysctls and real_clients are known there"),
])
def test_a_bad_real_clients_key_names_file_field_and_fix(tmp_path, lab, said):
    with pytest.raises(PairError) as exc:
        load_pair(_pair_with(tmp_path, lab))
    text = str(exc.value)
    assert "pair.toml" in text and said in text


def test_dhclient_is_refused_on_a_suite_that_does_not_ship_it(tmp_path):
    with pytest.raises(PairError) as exc:
        load_pair(_pair_with(tmp_path, 'real_clients = ["dhclient"]', suite="forky"))
    assert "lab.real_clients: dhclient (isc-dhcp-client) is not packaged for Debian forky" in str(exc.value)


def test_the_real_clients_image_is_apart_from_the_servers_image():
    from dhcpdrill.images import REAL_CLIENTS, image_tag, packages
    assert image_tag("bookworm", REAL_CLIENTS).startswith("dhcpdrill/lab:bookworm-real-clients-")
    assert image_tag("bookworm", REAL_CLIENTS) != image_tag("bookworm")
    assert not {"isc-dhcp-client", "dhcpcd-base", "udhcpc"} & set(packages("bookworm"))
    assert {realclients.PACKAGES[k] for k in realclients.KINDS} <= set(packages("bookworm", REAL_CLIENTS))


def test_each_run_has_new_devices_with_locally_administered_unicast_macs():
    a, b = realclients.mac_for("0123456789ab", "dhclient"), realclients.mac_for("0123456789ac", "dhclient")
    assert a != b and a != realclients.mac_for("0123456789ab", "udhcpc")
    assert a == realclients.mac_for("0123456789ab", "dhclient")  # the run's record names it
    first = int(a.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01 and len(a.split(":")) == 6


# -- on a real recording: kea-hot-standby / kill-primary with the three daemons ------------------
from dhcpdrill.timeline import Event  # noqa: E402

from .test_real_evidence import load  # noqa: E402

RECORDED = "kea-hs-kill-primary-real-clients"
KEA = load_pair(ROOT / "fixtures" / "kea-hot-standby").drills["kill-primary"]


def _recorded_fault(tl: Timeline) -> tuple[float, float]:
    return tl.first("fault-applied").t, tl.first("observe-end").t


def ran(tl: Timeline) -> list[str]:
    return [k for k in realclients.KINDS if tl.of("real-client", source=realclients.SOURCE + k)]


def test_on_the_recording_every_real_client_kept_its_address_and_agrees_with_the_simulated_ones():
    tl = load(RECORDED)
    assert ran(tl) == ["dhclient", "dhcpcd", "udhcpc"]
    for kind in ran(tl):
        v = judge(tl, KEA, [f"real-{kind}"])[0]
        assert v.status == PASS and v.figure == 0.0, v
        assert "continuity: pass (100 %)" in v.reason and "DISAGREES" not in v.reason


def test_on_the_recording_the_samples_are_never_further_apart_than_allowed():
    tl = load(RECORDED)
    zero, end = _recorded_fault(tl)
    for kind in ran(tl):
        r = realclients.read(tl, kind, zero, end)
        assert r.gaps == [] and r.max_gap_s is not None and r.max_gap_s <= realclients.MAX_SAMPLE_GAP_S


def _mutated(drop=lambda e: False, change=lambda e: e, extra: list[Event] = ()) -> Timeline:
    tl = load(RECORDED)
    return Timeline([*(change(e) for e in tl.events if not drop(e)), *extra])


def test_the_recording_with_dhcpcds_address_gone_for_two_seconds_after_its_rebind_fails_dhcpcd_only():
    tl = load(RECORDED)
    zero, _ = _recorded_fault(tl)
    source = realclients.SOURCE + "dhcpcd"

    def gone(e: Event) -> Event:
        if e.source == source and e.kind == "address-sample" and zero + 15 <= e.t <= zero + 17:
            return Event(e.t, e.source, e.kind, {"addrs": []})
        return e
    bad = _mutated(change=gone)
    v = judge(bad, KEA, ["real-dhcpcd"])[0]
    assert v.status == FAIL and 1.8 <= v.figure <= 2.4 and "DISAGREES" in v.reason
    assert judge(bad, KEA, ["real-dhclient"])[0].status == PASS


def test_the_recording_with_a_hole_in_udhcpcs_samples_is_unknown():
    tl = load(RECORDED)
    zero, _ = _recorded_fault(tl)
    source = realclients.SOURCE + "udhcpc"
    holed = _mutated(drop=lambda e: e.source == source and e.kind == "address-sample" and zero + 20 <= e.t <= zero + 21)
    v = judge(holed, KEA, ["real-udhcpc"])[0]
    assert v.status == UNKNOWN and "address samples missing" in v.reason


def test_the_recording_with_a_nak_in_dhclients_log_fails_it():
    tl = load(RECORDED)
    zero, _ = _recorded_fault(tl)
    naked = _mutated(extra=[Event(zero + 21.0, realclients.SOURCE + "dhclient", "client-log",
                                  {"line": "DHCPNAK from 198.18.0.12"})])
    v = judge(naked, KEA, ["real-dhclient"])[0]
    assert v.status == FAIL and "1 NAK(s)" in v.reason and v.figure == 0.0


def test_the_reports_rows_of_the_recording_name_each_clients_address_and_server():
    tl = load(RECORDED)
    zero, end = _recorded_fault(tl)
    rows = {r["client"]: r for r in realclients.rows(tl, zero, end)}
    assert set(rows) == set(ran(tl))
    assert all(r["kept"] is True and r["longest_without_s"] == 0.0 and r["naks"] == 0 for r in rows.values())
    assert rows["dhclient"]["server_at_end"] == "198.18.0.12"  # the standby, after the rebind


def _with_simulated(kind: str) -> Timeline:
    """``healthy()`` (every simulated client renewed by the standby) with its clients stated as ``kind``."""
    from .timelines import mac
    tl = healthy()
    for i in range(3):
        tl.add(0.5, "clients", "client", client=f"steady-{i:02d}", mac=mac(i), role="steady", client_kind=kind)
    return tl


def test_a_real_client_is_compared_with_the_simulated_clients_of_its_own_kind():
    lost = lambda t: [] if t >= FAULT_T + 10 else [ADDR]  # noqa: E731
    v = verdict(with_real("systemd-networkd", addrs=lost, tl=_with_simulated("systemd-networkd")), "systemd-networkd")
    assert v.status == FAIL
    assert "the simulated systemd-networkd clients: 3 kept, 0 lost — the real systemd-networkd DISAGREES" in v.reason
    kept = verdict(with_real("systemd-networkd", tl=_with_simulated("systemd-networkd")), "systemd-networkd")
    assert kept.status == PASS and "3 kept, 0 lost" in kept.reason and "DISAGREES" not in kept.reason
    # no simulated client of its kind in the mix, or no mix at all: nothing to compare it with
    assert "simulated systemd-networkd" not in verdict(with_real("systemd-networkd", tl=_with_simulated("dhcpcd")),
                                                       "systemd-networkd").reason
    assert "simulated systemd-networkd" not in verdict(with_real("systemd-networkd", tl=healthy()), "systemd-networkd").reason


# systemd-networkd's lease file as it wrote it (isc-failover / kill-primary, 2026-12-07, systemd 252.39:
# /run/systemd/netif/leases/467 of real-systemd-networkd), and lines of its debug log from that run.
NETWORKD_LEASE = """# This is private data. Do not parse.
ADDRESS=198.18.2.148
NETMASK=255.255.255.0
ROUTER=198.18.2.1
SERVER_ADDRESS=198.18.2.12
T1=10
T2=20
LIFETIME=51
CLIENTID=ff513765de00020000ab113857fbd6d315265f
"""
NETWORKD_LOG = ["eth0: DHCPv4 client: DISCOVER", "eth0: DHCPv4 client: OFFER", "eth0: DHCPv4 client: REQUEST (requesting)",
                "eth0: DHCPv4 client: ACK", "eth0: DHCPv4 address 198.18.2.148/24, gateway 198.18.2.1 acquired from 198.18.2.12",
                "eth0: DHCPv4 client: REQUEST (renewing)", "eth0: DHCPv4 client: Received message from UDP socket, processing."]


def test_systemd_networkds_own_lease_file_names_the_server_it_came_from():
    tl = with_real("systemd-networkd")
    tl.add(FAULT_T + 31, realclients.SOURCE + "systemd-networkd", "client-lease-file",
           path="/run/systemd/netif/leases/467", read=True, text=NETWORKD_LEASE)
    assert realclients.lease_server(tl, "systemd-networkd") == "198.18.2.12"
    row = realclients.rows(tl, FAULT_T, FAULT_T + 30)[0]
    assert (row["client"], row["package"], row["server_at_end"], row["kept"]) == ("systemd-networkd", "systemd", "198.18.2.12", True)


def test_systemd_networkds_ordinary_exchange_is_no_nak():
    log = [(FAULT_T + 1 + i, line) for i, line in enumerate(NETWORKD_LOG)]
    assert verdict(with_real("systemd-networkd", log=log), "systemd-networkd").status == PASS


def test_systemd_networkd_gets_a_new_machine_id_each_run_as_it_gets_a_new_mac():
    a, b = realclients.machine_id("run-a", "systemd-networkd"), realclients.machine_id("run-b", "systemd-networkd")
    assert a != b and len(a.strip()) == 32 and int(a, 16) >= 0 and a.endswith("\n")
    assert realclients.machine_id("run-a", "systemd-networkd") == a


# -- a real recording where systemd-networkd lost its address: kea-hot-standby / failback ----------
NETWORKD_LOST = "kea-hs-failback-real-networkd-lost"
FAILBACK = load_pair(ROOT / "fixtures" / "kea-hot-standby").drills["failback"]


def _networkd_exchanges(tl: Timeline, zero: float) -> list[tuple[float, str]]:
    wanted = ("DHCPv4 client: REQUEST", "DHCPv4 client: DISCOVER", "DHCP lease lost")
    return [(round(e.t - zero, 1), e.get("line").split(": ", 1)[1]) for e in
            tl.of("client-log", source=realclients.SOURCE + "systemd-networkd")
            if e.t >= zero and any(w in e.get("line") for w in wanted)]


def test_on_the_failback_recording_the_real_networkd_lost_its_address_and_disagrees_with_the_simulated_fleet():
    tl = load(NETWORKD_LOST)
    zero = tl.first("fault-applied").t
    v = judge(tl, FAILBACK, ["real-systemd-networkd"])[0]
    assert v.status == FAIL and 0.05 <= v.figure <= 0.3, v
    assert "lost 198.18.0.103/24 at +51.3 s" in v.reason and "0 NAK(s)" in v.reason
    assert "continuity: pass (100 %) — systemd-networkd DISAGREES with them" in v.reason
    assert all(judge(tl, FAILBACK, [f"real-{k}"])[0].status == PASS for k in ("dhclient", "dhcpcd", "udhcpc"))
    # one renewal (to the dead primary), one rebind 2.4 s before the standby took over, then
    # nothing until the lease ran out; a DISCOVER got the same address back from the restarted primary
    assert _networkd_exchanges(tl, zero)[:4] == [(1.0, "DHCPv4 client: REQUEST (renewing)"),
                                                (11.5, "DHCPv4 client: REQUEST (rebinding)"),
                                                (51.2, "DHCP lease lost"), (51.4, "DHCPv4 client: DISCOVER")]
    assert realclients.lease_server(tl, "systemd-networkd") == "198.18.0.11"


def test_the_simulated_systemd_networkd_kind_loses_its_address_where_the_real_one_did():
    """The same timing played on ``clientkinds``' systemd-networkd: bound 8.77 s before the kill
    (the recording's ACK), the standby answering broadcasts 13.89 s after it (its takeover)."""
    from dhcpdrill import clientkinds as ck

    from .test_client_kinds import Fixed

    took_over = 8.77 + 13.89
    rows = ck.simulate("systemd-networkd", 60.0, 10.0, 20.0,
                       lambda t, state, msg, unicast: "ACK" if t >= took_over and not unicast else None, 62.0, Fixed())
    assert rows[:3] == [(10.0, "RENEWING", "REQUEST", 40, True), (20.0, "REBINDING", "REQUEST", 50, False),
                        ("lose", "expired")]  # at 60 s: 51.2 s after the kill, as the real daemon
