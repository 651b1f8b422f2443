"""Client kinds (dhcpdrill/clientkinds.py): each kind's exchange sequence, played without Docker on
the same functions the client agent consults, against the behaviour its source documents; the
mix a pair states (validated), the agent's use of it, and the per-kind figures the reports give."""
from __future__ import annotations

import json
import textwrap

import pytest

from dhcpdrill import bykind, clientkinds as ck
from dhcpdrill.agent import Agent, Client, Evidence
from dhcpdrill.clients import REQUEST_TRIES, agent_files
from dhcpdrill.manifest import read_manifest
from dhcpdrill.timeline import Timeline
from tests.unit.timelines import FAULT_T, PRIMARY, SECONDARY, base, bound, mac


class Fixed:
    """No randomness: every fuzz is 0, every random() % n is 0."""

    def uniform(self, a, b):
        return 0.0

    def randrange(self, n):
        return 0

    def getrandbits(self, n):
        return 7


def dead(*_):
    return None


def play(kind, answers=dead, until=62.0, lease=60.0, t1=10.0, t2=20.0):
    """The bundled pairs' leases (60 s, T1 10 s, T2 20 s), the server gone from the ACK on: what
    the client sends (time, state, message, secs on the wire, unicast) and what it gives up."""
    return ck.simulate(kind, lease, t1, t2, answers, until, Fixed())


# -- each kind's sequence when its server dies (a failover's renewal and rebind) ------------------
def test_dhclient_renews_at_a_randomised_t1_backs_off_from_3_s_and_broadcasts_only_after_t2():
    rows = play("dhclient")
    assert rows[:7] == [(8.0, "RENEWING", "REQUEST", 0, True), (11.0, "RENEWING", "REQUEST", 3, True),
                        (14.0, "RENEWING", "REQUEST", 6, True), (17.0, "RENEWING", "REQUEST", 9, True),
                        (20.0, "RENEWING", "REQUEST", 12, True),  # at T2 exactly: still unicast ("cur_time > rebind")
                        (23.0, "REBINDING", "REQUEST", 15, False),  # secs keeps rising from the renewal's start
                        (26.0, "REBINDING", "REQUEST", 18, False)]
    assert rows[-2:] == [("lose", "expired"), (60.0, "SELECTING", "DISCOVER", 0, False)]


def test_dhclients_t1_lies_between_three_quarters_of_t1_and_a_little_past_it():
    import random
    t1s = {ck.KINDS["dhclient"].lease_times(60.0, 10.0, 20.0, random.Random(seed))[1] for seed in range(200)}
    assert min(t1s) == 8.0 and max(t1s) == 11.0  # (3 x 10 + 3) / 4 + (random % 10 + 3) / 4


def test_dhcpcd_retransmits_4_8_16_s_and_its_secs_count_from_the_interface_start():
    assert play("dhcpcd") == [
        (10.0, "RENEWING", "REQUEST", 40, True), (14.0, "RENEWING", "REQUEST", 44, True),
        (20.0, "REBINDING", "REQUEST", 50, False), (24.0, "REBINDING", "REQUEST", 54, False),
        (32.0, "REBINDING", "REQUEST", 62, False), (48.0, "REBINDING", "REQUEST", 78, False),
        ("lose", "expired"), (60.0, "SELECTING", "DISCOVER", 90, False)]  # started 30 s before the ACK


def test_udhcpc_ignores_t1_t2_renews_once_at_half_the_lease_and_drops_the_address_before_it_expires():
    assert play("udhcpc") == [
        (30.0, "RENEWING", "REQUEST", 0, True),  # lease_remaining / 2, option 58 ignored
        (33.0, "REBINDING", "REQUEST", 3, False),  # 27 s left: not > 30, so rebind at once
        (36.0, "REBINDING", "REQUEST", 6, False), (39.0, "REBINDING", "REQUEST", 9, False),
        ("lose", "gave-up"),  # "lease lost, entering init state" at 42 s, with 18 s of lease left
        (42.0, "SELECTING", "DISCOVER", 0, False), (45.0, "SELECTING", "DISCOVER", 3, False),
        (48.0, "SELECTING", "DISCOVER", 6, False)]


def test_udhcpc_with_a_long_lease_halves_the_wait_between_renewal_tries_until_30_s_remain():
    sent = [r for r in play("udhcpc", lease=600.0, t1=None, t2=None, until=600.0) if r[0] != "lose"]
    renewals = [t for t, state, *_ in sent if state == "RENEWING"]
    assert renewals == [300.0, 451.5, 527.25, 565.125, 584.062]  # each try waits 3 s, then half of what is left
    assert [t for t, state, *_ in sent if state == "REBINDING"] == [587.062, 590.062, 593.062]
    assert all(secs == 0 for _, state, _, secs, _ in sent if state == "RENEWING")  # each try starts secs afresh


def test_systemd_networkd_waits_at_least_60_s_between_tries_so_a_short_lease_gets_one_renew_and_one_rebind():
    assert play("systemd-networkd") == [
        (10.0, "RENEWING", "REQUEST", 40, True), (20.0, "REBINDING", "REQUEST", 50, False),
        ("lose", "expired"), (60.0, "SELECTING", "DISCOVER", 1, False)]  # restarted: secs from 0, at least 1


def test_windows_sends_secs_byte_swapped_tries_four_times_then_waits_for_t2():
    rows = play("windows")
    assert rows == [
        (10.0, "RENEWING", "REQUEST", 0, True), (14.0, "RENEWING", "REQUEST", 4 << 8, True),
        (20.0, "REBINDING", "REQUEST", 0, False), (24.0, "REBINDING", "REQUEST", 4 << 8, False),
        (32.0, "REBINDING", "REQUEST", 12 << 8, False), (48.0, "REBINDING", "REQUEST", 28 << 8, False),
        ("lose", "expired"), (60.0, "SELECTING", "DISCOVER", 0, False)]


def kea_reads(secs_on_wire: int) -> int:
    """Kea HA's own reading of secs (communication_state.cc: swapped back when > 255 and the low byte is 0)."""
    return ((secs_on_wire >> 8) | (secs_on_wire << 8)) & 0xFFFF if secs_on_wire > 255 and not secs_on_wire & 0xFF \
        else secs_on_wire


@pytest.mark.parametrize("true_secs,wire,kea", [(0, 0, 0), (1, 256, 1), (3, 768, 3), (255, 0xFF00, 255),
                                                (300, 0x2C01, 0x2C01)])
def test_windows_secs_as_kea_reads_them(true_secs, wire, kea):
    """Kea undoes the swap below 256 s; ISC dhcpd (built without --enable-secs-byteorder) reads 256 s
    for 1 s, past any `load balance max seconds`; at 256 s and more Kea reads the swapped value too."""
    c = ck.Record(kind="windows", state="SELECTING", exchange_start=0.0)
    assert ck.KINDS["windows"].secs(c, "DISCOVER", float(true_secs)) == wire
    assert kea_reads(wire) == kea


# -- a standby that takes over: who keeps the address ---------------------------------------------
def broadcasts_from(t0):
    """A hot standby that took over at ``t0``: it answers broadcasts; renewals unicast to the dead
    primary never reach it."""
    return lambda t, state, msg, unicast: "ACK" if t >= t0 and not unicast else None


@pytest.mark.parametrize("kind,confirmed", [("dhclient", 23.0), ("dhcpcd", 20.0), ("udhcpc", 33.0),
                                            ("systemd-networkd", 20.0), ("windows", 20.0)])
def test_after_a_quick_takeover_each_kind_is_answered_at_its_first_broadcast(kind, confirmed):
    rows = play(kind, broadcasts_from(15.0), until=40.0)
    first = next(r for r in rows if r[0] != "lose" and not r[4])
    assert first[0] == confirmed and not any(r[0] == "lose" for r in rows)


@pytest.mark.parametrize("kind,keeps", [("dhclient", True), ("dhcpcd", True), ("udhcpc", False),
                                        ("systemd-networkd", False), ("windows", True)])
def test_after_a_takeover_40_s_into_a_60_s_lease_only_kinds_still_trying_keep_their_address(kind, keeps):
    """udhcpc has dropped its address (42 s) after its third rebind at 39 s; systemd-networkd's one
    rebind was at 20 s and its next try is 60 s later, past the expiry."""
    rows = play(kind, broadcasts_from(40.0), until=62.0)
    assert (not any(r[0] == "lose" for r in rows)) == keeps


# -- NAKs, fallbacks, restarts ---------------------------------------------------------------------
@pytest.mark.parametrize("kind,delays", [("dhclient", [0, 0, 0]), ("dhcpcd", [0, 1, 2, 4]), ("udhcpc", [3, 3]),
                                         ("systemd-networkd", [1, 2, 4]), ("windows", [0, 0])])
def test_after_a_nak_each_kind_waits_as_its_source_says_before_discover(kind, delays):
    k = ck.KINDS[kind]
    assert [k.nak_delay(n) for n in range(len(delays))] == delays


def test_a_nak_loses_the_address_and_udhcpc_ignores_one_from_another_server():
    k = ck.KINDS["udhcpc"]
    c = ck.Record(kind="udhcpc", state="RENEWING", ip="198.18.0.100", server_id=PRIMARY)
    assert ck.on_nak(k, c, SECONDARY, 5.0, Fixed()) is None and c.state == "RENEWING"
    assert ck.on_nak(k, c, PRIMARY, 5.0, Fixed()) == [("lose", "nak")]
    assert (c.state, c.next_tx, c.exchange_start) == ("SELECTING", 8.0, 8.0)
    d = ck.Record(kind="dhclient", state="REBINDING", ip="198.18.0.100", server_id=PRIMARY)
    assert ck.on_nak(ck.KINDS["dhclient"], d, SECONDARY, 5.0, Fixed()) == [("lose", "nak")]  # any server's NAK


def seek(kind, until):
    k, c = ck.KINDS[kind], ck.Record(kind=kind)
    ck.begin(k, c, "SELECTING", 0.0, Fixed())
    out, now = [], 0.0
    while (when := ck.due(k, c)) is not None and when <= until:
        now = when
        out += [(round(now, 2), *a) for a in ck.tick(k, c, now, Fixed())]
    return out


def test_dhcpcd_falls_back_to_ipv4ll_after_30_s_without_a_lease_and_keeps_discovering():
    rows = seek("dhcpcd", 70.0)
    assert [r[0] for r in rows if r[1] == "send"] == [0.0, 4.0, 12.0, 28.0, 60.0]
    assert [r for r in rows if r[1] == "fallback"] == [(30.0, "fallback", "ipv4ll")]


def test_windows_takes_apipa_after_6_s_and_tries_again_5_minutes_after_four_discovers():
    rows = seek("windows", 400.0)
    assert [r[0] for r in rows if r[1] == "send"][:6] == [0.0, 4.0, 12.0, 28.0, 328.0, 332.0]
    assert [r for r in rows if r[1] == "fallback"] == [(6.0, "fallback", "apipa")]  # once per stretch


def test_udhcpc_sends_three_discovers_3_s_apart_then_waits_20_s_and_its_secs_keep_counting():
    rows = seek("udhcpc", 40.0)
    assert [(r[0], r[3]) for r in rows if r[1] == "send"] == [(0.0, 0), (3.0, 3), (6.0, 6), (29.0, 29), (32.0, 32),
                                                              (35.0, 35)]


def reboot(kind, until=60.0, lease=60.0):
    """Bound at 0, the machine restarts at 5 s; no server answers."""
    k, c = ck.KINDS[kind], ck.Record(kind=kind, ip="198.18.0.100", server_id=PRIMARY)
    ck.on_ack(k, c, lease, lease / 6, lease / 3, 0.0, Fixed())
    rows = [(5.0, *a) for a in ck.on_reboot(k, c, 5.0, 5.0, Fixed())]
    while (when := ck.due(k, c)) is not None and when <= until and c.state in ck.SEEKING:
        for a in ck.tick(k, c, when, Fixed()):
            rows.append((round(when, 2), *a))
    return rows, c


@pytest.mark.parametrize("kind,reboot_requests,discover_at", [
    ("dhclient", [5.0, 8.0, 11.0, 14.0], 17.0),  # INIT-REBOOT until reboot_timeout (10 s) has passed
    ("dhcpcd", [5.0, 9.0], 10.0),  # INIT-REBOOT for `reboot` (5 s)
    ("udhcpc", [], 5.0), ("systemd-networkd", [], 5.0)])  # no lease remembered across a reboot
def test_after_a_restart_kinds_that_remember_their_lease_ask_for_it_again(kind, reboot_requests, discover_at):
    rows, c = reboot(kind)
    assert rows[0] == (5.0, "lose", "reboot")
    assert [r[0] for r in rows if r[1:3] == ("send", "REQUEST")] == reboot_requests
    assert next(r[0] for r in rows if r[1:3] == ("send", "DISCOVER")) == discover_at
    assert c.offer_ip == ("198.18.0.100" if reboot_requests else "")


def test_windows_unanswered_after_a_restart_keeps_its_unexpired_lease_and_loses_an_expired_one():
    rows, c = reboot("windows", until=120.0, lease=600.0)
    assert [r[0] for r in rows if r[1:3] == ("send", "REQUEST")] == [5.0, 9.0, 17.0, 33.0]
    assert rows[-1] == (65.0, "resume", "198.18.0.100") and c.state == "BOUND"  # the gateway answered a ping
    rows, c = reboot("windows", until=120.0, lease=60.0)
    assert not any(r[1] == "resume" for r in rows) and (65.0, "send", "DISCOVER", 0, False) in rows


def test_an_init_reboot_request_names_the_old_address_and_no_server(tmp_path):
    from scapy.all import BOOTP, DHCP, Ether
    a = Agent({"steady_clients": 0, "probe_clients": 0, "request_tries": REQUEST_TRIES}, sockets=False)
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="REBOOTING", xid=7, offer_ip="198.18.0.100",
               kind="dhclient")
    pkt = Ether(a._frame(c, "REQUEST", unicast=False, secs=2))
    opts = dict(o for o in pkt[DHCP].options if isinstance(o, tuple))
    assert opts["requested_addr"] == "198.18.0.100" and "server_id" not in opts
    assert pkt[BOOTP].ciaddr == "0.0.0.0" and pkt[Ether].dst == "ff:ff:ff:ff:ff:ff" and pkt[BOOTP].secs == 2


# -- the mix ----------------------------------------------------------------------------------------
def test_a_mix_assigns_kinds_by_share_interleaved_and_every_stated_kind_gets_a_client():
    kinds = ck.assign(10, {"rfc2131": 0.5, "windows": 0.2, "udhcpc": 0.3})
    assert sorted(kinds) == sorted(["rfc2131"] * 5 + ["windows"] * 2 + ["udhcpc"] * 3)
    assert kinds[:3] != ["rfc2131"] * 3  # spread, not blocks
    assert set(ck.assign(6, {k: 1 / 6 for k in ck.NAMES})) == set(ck.NAMES)
    assert set(ck.assign(6, {"rfc2131": 0.98, "udhcpc": 0.02})) == {"rfc2131", "udhcpc"}
    assert ck.assign(4, None) == ["rfc2131"] * 4 == ck.assign(4, {})


def manifest(tmp_path, workload: str):
    (tmp_path / "pair.toml").write_text(textwrap.dedent(f"""\
        [pair]
        name = "p"
        server = "kea"
        suite = "bookworm"
        mode = "hot-standby"
        [files]
        primary = "a.json"
        secondary = "b.json"
        [workload]
        {workload}
        [drills.kill-primary]
        max_takeover_s = 15
        """))
    return read_manifest(tmp_path)


def test_a_stated_mix_is_read_in_the_kinds_order(tmp_path):
    pair, problems, _ = manifest(tmp_path, 'mix = { udhcpc = 0.3, rfc2131 = 0.5, windows = 0.2 }')
    assert not [p for p in problems if "workload" in p.field]
    assert pair.mix == (("rfc2131", 0.5), ("udhcpc", 0.3), ("windows", 0.2)) and pair.population is None


@pytest.mark.parametrize("line,field,says", [
    ('mix = { rfc2131 = 0.5, window = 0.5 }', "workload.mix.window", "did you mean windows?"),
    ('mix = { rfc2131 = 0.5, udhcpc = 0.4 }', "workload.mix", "add up to 0.9"),
    ('mix = { rfc2131 = 1.5, udhcpc = -0.5 }', "workload.mix.rfc2131", "not a share from 0 to 1"),
    ('mix = { rfc2131 = "half", udhcpc = 0.5 }', "workload.mix.rfc2131", "not a share"),
    ('mix = "windows"', "workload.mix", "is not a table"),
])
def test_a_wrong_mix_is_refused_naming_the_file_field_and_fix(tmp_path, line, field, says):
    pair, problems, _ = manifest(tmp_path, line)
    found = [p for p in problems if p.field == field]
    assert found and says in f"{found[0].what} {found[0].fix}" and found[0].file.endswith("pair.toml")
    assert pair.mix == ()


def test_no_mix_leaves_every_pair_as_it_was(tmp_path):
    pair, problems, _ = manifest(tmp_path, "clients = 20")
    assert pair.mix == () and not [p for p in problems if p.field.startswith("workload")]


# -- the agent consults the kinds ------------------------------------------------------------------
def wired(tmp_path, **plan) -> Agent:
    a = Agent({"steady_clients": 0, "probe_clients": 0, "request_tries": REQUEST_TRIES, **plan},
              Evidence(str(tmp_path / "events.jsonl")), sockets=False)
    a.wire = []
    a.socks = [type("Wire", (), {"send": lambda self, frame: a.wire.append(frame)})()]
    return a


def events(tmp_path):
    return [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]


def test_the_agent_gives_a_mixed_population_its_kinds_and_tags_every_client_event(tmp_path):
    a = wired(tmp_path, steady_clients=4, mix=[["rfc2131", 0.5], ["udhcpc", 0.5]])
    c = next(c for c in a.clients if c.kind == "udhcpc")
    c.ip, c.server_id, c.server_mac = "198.18.0.100", PRIMARY, "02:42:c6:12:00:0b"
    ck.on_ack(ck.KINDS["udhcpc"], c, 60.0, 10.0, 20.0, 1000.0, Fixed())
    assert c.t1 == 30.0 and c.due(2.0) == 1030.0  # udhcpc's own T1, not the option's 10 s
    a.tick(c, 1030.0)
    a.evidence.flush()
    sent = [e for e in events(tmp_path) if e["kind"] == "send"]
    assert sent[-1]["msg"] == "REQUEST" and sent[-1]["dst"] == PRIMARY and sent[-1]["secs"] == 0
    assert sent[-1]["client_kind"] == "udhcpc" and c.next_tx == 1033.0
    declared = [e for e in events(tmp_path) if e["kind"] == "client"]
    assert sorted(e["client_kind"] for e in declared) == ["rfc2131", "rfc2131", "udhcpc", "udhcpc"]


def test_without_a_mix_the_agent_and_its_evidence_are_as_they_always_were(tmp_path):
    a = wired(tmp_path, steady_clients=2)
    assert {c.kind for c in a.clients} == {"rfc2131"}
    a.evidence.flush()
    assert not any("client_kind" in e for e in events(tmp_path))


def test_the_agent_container_gets_the_kinds_beside_the_agent():
    files = agent_files()
    assert set(files) == {"/opt/dhcpdrill/agent.py", "/opt/dhcpdrill/clientkinds.py"}
    assert b"import clientkinds as ck" in files["/opt/dhcpdrill/agent.py"]


# -- per-kind figures --------------------------------------------------------------------------------
def mixed_timeline() -> Timeline:
    """Three renewing clients: steady-00 (rfc2131) and steady-01 (udhcpc) renewed by the standby,
    steady-02 (udhcpc) gave its address up at +20 s and waited unanswered to the end."""
    tl = base()
    for i, kind in enumerate(("rfc2131", "udhcpc", "udhcpc")):
        tl.add(0.5, "clients", "client", client=f"steady-{i:02d}", mac=mac(i), role="steady", client_kind=kind)
    tl.add(0.5, "clients", "client", client="probe-00", mac="02:d4:20:00:00:00", role="probe", client_kind="rfc2131")
    bound(tl, FAULT_T + 4, 0, "198.18.0.100", SECONDARY, asked=FAULT_T + 1)
    bound(tl, FAULT_T + 9, 1, "198.18.0.101", SECONDARY, asked=FAULT_T + 2)
    tl.add(FAULT_T + 20, "clients", "lease-lost", client="steady-02", mac=mac(2), ip="198.18.0.102", why="gave-up")
    tl.add(FAULT_T + 20, "clients", "send", client="steady-02", mac=mac(2), msg="DISCOVER", state="SELECTING", xid=9)
    for i, name in ((5, "new-00"), (6, "new-01")):  # udhcpc newcomers: one leased, one fell back to nothing yet
        tl.add(0.5, "clients", "client", client=name, mac=mac(i), role="new", client_kind="udhcpc")
    bound(tl, FAULT_T + 12, 5, "198.18.0.105", SECONDARY, client="new-00", asked=FAULT_T + 6, role="new")
    tl.add(FAULT_T + 8, "clients", "send", client="new-01", mac=mac(6), msg="DISCOVER", state="SELECTING", xid=11)
    return tl


def test_figures_per_kind_split_continuity_and_waits_by_the_clients_kind():
    figs = {f.kind: f for f in bykind.per_kind(mixed_timeline())}
    assert set(figs) == {"rfc2131", "udhcpc"}
    assert (figs["rfc2131"].clients, figs["rfc2131"].kept, figs["rfc2131"].continuity_pct) == (1, 1, 100.0)
    u = figs["udhcpc"]
    assert (u.clients, u.kept, u.lost, u.gave_up, u.continuity_pct, u.new, u.new_leased) == (4, 1, 1, 1, 50.0, 2, 1)
    assert u.longest_wait_s == 22.0 and "new-01" in u.longest_wait and "unanswered" in u.longest_wait
    assert "1 of 2 new client(s) leased" in u.words() and "1 gave up an unexpired address" in u.words()
    assert figs["rfc2131"].longest_wait_s == 3.0  # the probe's waits are the lab's, not the population's
    props = dict(bykind.properties(list(figs.values())))
    assert props["client_kind.udhcpc.continuity_pct"] == "50" and props["client_kind.udhcpc.gave_up"] == "1"


def test_a_drill_without_a_mix_has_no_per_kind_figures():
    from tests.unit.timelines import healthy
    assert bykind.per_kind(healthy()) == [] and not bykind.mixed(healthy())


def test_reports_give_each_kinds_figures_in_the_summary_the_html_and_junit_and_nothing_without_a_mix(tmp_path):
    import xml.etree.ElementTree as ET
    from dhcpdrill import report
    from tests.unit.test_report import result
    from tests.unit.timelines import healthy
    mixed = result(mixed_timeline(), tmp_path)
    text = report.summary(mixed)
    assert "per client kind, from the fault to the end of the window:" in text
    assert "    udhcpc: 4 client(s), continuity 50 % (1 of 2 kept, 1 lost), 1 of 2 new client(s) leased" in text
    page = report.html([mixed])
    assert "<table class='kinds'>" in page and "<td>udhcpc</td><td>4</td><td>50 %</td>" in page
    suite = ET.fromstring(report.junit_xml([mixed])).find("testsuite/properties")
    props = {p.get("name"): p.get("value") for p in suite}
    assert props["client_kind.udhcpc.continuity_pct"] == "50" and props["client_kind.rfc2131.longest_wait_s"] == "3"
    plain = result(healthy(), tmp_path)
    assert "per client kind" not in report.summary(plain) and "class='kinds'" not in report.html([plain])
    assert not any(p.get("name").startswith("client_kind.")
                   for p in ET.fromstring(report.junit_xml([plain])).find("testsuite/properties"))


def test_a_drill_that_does_not_judge_continuity_shows_none_per_kind():
    from dhcpdrill.timeline import Event
    storm = [Event(e.t, e.source, e.kind, {**e.data, "verdicts": ["takeover", "client-outage"]})
             if e.kind == "lab" else e for e in mixed_timeline()]  # a boot storm: every client restarts
    tl = Timeline(storm)
    figs = {f.kind: f for f in bykind.per_kind(tl)}
    u = figs["udhcpc"]
    assert not u.continuity_judged and (u.kept, u.lost, u.continuity_pct) == (0, 0, None)
    assert "continuity not judged by this drill" in u.words() and u.longest_wait_s == 22.0
