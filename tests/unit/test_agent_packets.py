"""The client engine's packets, built and parsed without sending: its bytes are checked against
scapy's dissection (fields RFC 2131 servers depend on, and both checksums recomputed by scapy)."""
import json

import pytest
from scapy.all import ARP, BOOTP, DHCP, IP, UDP, Ether

from dhcpdrill.agent import (
    FILTER, Agent, Client, Evidence, mac_for, parse_reply, udp_checksum_ok,
)
from dhcpdrill.clients import REQUEST_TRIES

SERVER_MAC = "02:42:c6:12:00:0b"


def agent(tmp_path=None, **plan) -> Agent:
    """An agent without sockets (nothing is sent): packets are captured in ``a.wire``."""
    a = Agent({"steady_clients": 0, "probe_clients": 0, "request_tries": REQUEST_TRIES, **plan},
              Evidence(str(tmp_path / "events.jsonl")) if tmp_path else None, sockets=False)
    a.wire = []
    a.socks = [type("Wire", (), {"send": lambda self, frame: a.wire.append(frame)})()]
    return a


def scapy_rebuilt(frame: bytes) -> bytes:
    """The frame as scapy would write it with both checksums computed by scapy itself."""
    pkt = Ether(frame)
    del pkt[IP].chksum
    del pkt[UDP].chksum
    return bytes(pkt)


def options(frame: bytes) -> dict:
    return dict(o for o in Ether(frame)[DHCP].options if isinstance(o, tuple))


def test_secs_rises_with_the_time_since_the_exchange_began():
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="SELECTING", xid=7, exchange_start=100.0)
    frame = agent()._frame(c, "DISCOVER", unicast=False, now=109.6)
    pkt = Ether(frame)
    assert pkt[BOOTP].secs == 9 and pkt[Ether].dst == "ff:ff:ff:ff:ff:ff" and pkt[BOOTP].xid == 7
    assert pkt[IP].src == "0.0.0.0" and pkt[IP].dst == "255.255.255.255" and pkt[UDP].dport == 67
    assert pkt[Ether].src == "02:d4:10:00:00:00" and bytes(pkt[BOOTP].chaddr)[:6] == bytes.fromhex("02d410000000")
    assert options(frame)["message-type"] == 1


@pytest.mark.parametrize("state,msg,unicast", [
    ("SELECTING", "DISCOVER", False), ("REQUESTING", "REQUEST", False), ("RENEWING", "REQUEST", True),
    ("REBINDING", "REQUEST", False), ("BOUND", "RELEASE", True)])
def test_every_frame_the_engine_patches_has_the_checksums_scapy_computes(state, msg, unicast):
    c = Client("probe-07", "02:20:d4:00:01:07", probe=True, state=state, xid=0xDEADBEEF, exchange_start=0.0,
               ip="198.18.3.200", server_id="198.18.0.11", server_mac=SERVER_MAC,
               offer_ip="198.18.3.201", offer_server="198.18.0.12")
    frame = agent()._frame(c, msg, unicast, now=70000.0)  # secs saturates at 65535
    assert frame == scapy_rebuilt(frame)
    assert Ether(frame)[BOOTP].secs == 0xFFFF and Ether(frame)[BOOTP].xid == 0xDEADBEEF


def test_renew_is_unicast_to_the_granting_server_with_ciaddr():
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="RENEWING", xid=7, ip="198.18.0.100",
               server_id="198.18.0.11", server_mac=SERVER_MAC, exchange_start=0)
    frame = agent()._frame(c, "REQUEST", unicast=True)
    pkt = Ether(frame)
    assert (pkt[Ether].dst, pkt[IP].src, pkt[IP].dst, pkt[BOOTP].ciaddr) == (
        SERVER_MAC, "198.18.0.100", "198.18.0.11", "198.18.0.100")
    assert "requested_addr" not in options(frame) and "server_id" not in options(frame)  # RFC 2131 4.3.2


def test_rebind_is_broadcast_from_the_leased_address():
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="REBINDING", xid=7, ip="198.18.0.100",
               server_id="198.18.0.11", exchange_start=0)
    pkt = Ether(agent()._frame(c, "REQUEST", unicast=False))
    assert (pkt[Ether].dst, pkt[IP].src, pkt[IP].dst, pkt[BOOTP].ciaddr) == (
        "ff:ff:ff:ff:ff:ff", "198.18.0.100", "255.255.255.255", "198.18.0.100")


def test_selecting_request_names_the_offer_and_server():
    c = Client("probe-00", "02:d4:20:00:00:00", probe=True, state="REQUESTING", xid=7,
               offer_ip="198.18.0.120", offer_server="198.18.0.12", exchange_start=0)
    opts = options(agent()._frame(c, "REQUEST", unicast=False))
    assert opts["requested_addr"] == "198.18.0.120" and opts["server_id"] == "198.18.0.12"


def test_release_is_unicast_and_names_the_server():
    c = Client("probe-00", "02:d4:20:00:00:00", probe=True, state="BOUND", xid=7, ip="198.18.0.120",
               server_id="198.18.0.12", server_mac=SERVER_MAC, exchange_start=0)
    frame = agent()._frame(c, "RELEASE", unicast=True)
    assert options(frame)["message-type"] == 7 and options(frame)["server_id"] == "198.18.0.12"
    assert Ether(frame)[IP].dst == "198.18.0.12" and Ether(frame)[BOOTP].ciaddr == "198.18.0.120"


def reply(msg: str, chksum: int | None = None, **bootp) -> bytes:
    udp = UDP(sport=67, dport=68) if chksum is None else UDP(sport=67, dport=68, chksum=chksum)
    return bytes(Ether(src=SERVER_MAC, dst="02:d4:10:00:00:05") / IP(src="198.18.0.11", dst="198.18.0.105") / udp
                 / BOOTP(op=2, xid=99, yiaddr="198.18.0.105", chaddr=bytes.fromhex("02d410000005") + b"\0" * 10, **bootp)
                 / DHCP(options=[("message-type", msg), ("server_id", "198.18.0.11"), ("lease_time", 60),
                                 ("renewal_time", 10), ("rebinding_time", 20), "end"]))


def test_replies_are_read_as_scapy_reads_them():
    got = parse_reply(reply("ack"))
    assert got == {"chaddr": bytes.fromhex("02d410000005"), "xid": 99, "msg": "ACK", "yiaddr": "198.18.0.105",
                   "server_id": "198.18.0.11", "src_ip": "198.18.0.11", "src_mac": SERVER_MAC,
                   "lease_time": 60, "renewal_time": 10, "rebinding_time": 20}
    assert parse_reply(reply("offer"))["msg"] == "OFFER" and parse_reply(reply("nak"))["msg"] == "NAK"
    request = bytearray(reply("ack"))
    request[42] = 1  # a BOOTREQUEST (another client's) is not a reply
    assert parse_reply(bytes(request)) is None


def test_udp_checksums_are_verified():
    good = reply("ack")
    assert udp_checksum_ok(good) and udp_checksum_ok(reply("ack", chksum=0))  # absent is allowed
    bad = bytearray(good)
    bad[40] ^= 0xFF
    assert not udp_checksum_ok(bytes(bad))


def test_a_client_bound_by_an_ack_records_it_and_answers_arp_for_its_address(tmp_path):
    a = agent(tmp_path)
    c = a.add(Client("steady-05", "02:d4:10:00:00:05", probe=False))
    a.start_exchange(c, "SELECTING", 10.0)
    c.state, c.xid = "REQUESTING", 99
    a.handle(reply("ack"), 0, 10.25)
    assert (c.state, c.ip, c.t1, c.t2, c.lease) == ("BOUND", "198.18.0.105", 10.0, 20.0, 60.0)
    who_has = bytes(Ether(src=SERVER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=SERVER_MAC, psrc="198.18.0.11", pdst="198.18.0.105"))
    a.handle(who_has, 0, 11.0)
    answer = Ether(a.wire[-1])
    assert answer[ARP].op == 2 and answer[ARP].psrc == "198.18.0.105" and answer[ARP].hwsrc == c.mac
    assert answer[ARP].hwdst == SERVER_MAC and answer[ARP].pdst == "198.18.0.11"
    a.evidence.flush()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert kinds == ["client", "recv", "bound"]


def test_a_lost_lease_is_stamped_when_it_was_lost_and_names_its_address(tmp_path):
    """The capture time of the ACK that moved the client, not the moment the agent got round to
    writing it (which once closed the *new* binding milliseconds after it opened)."""
    a = agent(tmp_path)
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, ip="198.18.0.100")
    a.lose(c, "changed", 123.456)
    a.evidence.flush()
    event = json.loads((tmp_path / "events.jsonl").read_text())
    assert (event["t"], event["ip"], event["why"]) == (123.456, "198.18.0.100", "changed") and c.ip == ""


def test_every_client_is_announced_with_what_it_is_for(tmp_path):
    a = agent(tmp_path, steady_clients=1, probe_clients=1)
    a.add_fresh(0.0)
    a.evidence.flush()
    roles = [json.loads(line)["role"] for line in (tmp_path / "events.jsonl").read_text().splitlines()
             if '"client"' in line]
    assert roles == ["steady", "probe", "fresh"]


def test_only_control_events_reach_stdout_and_never_as_a_line_docker_would_split(tmp_path, capsys):
    a = agent(tmp_path)
    a.evidence.emit("send", msg="DISCOVER")
    a.evidence.emit("steady", leases={f"steady-{i:05d}": "198.18.0.1" for i in range(10000)})
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and json.loads(out[0])["kind"] == "steady" and len(out[0]) < 4000
    a.evidence.flush()
    assert len((tmp_path / "events.jsonl").read_text().splitlines()[1]) > 100000  # the file has all of it


def test_client_macs_stay_well_formed_and_distinct_past_65535_clients():
    macs = [mac_for(kind, 0xCD, i) for kind in (0x10, 0x20, 0x30) for i in (0, 1, 255, 256, 65535, 65536, 10**6, 0xFFFFFF)]
    assert len(set(macs)) == len(macs)
    for mac in macs:
        parts = mac.split(":")
        assert len(parts) == 6 and all(len(p) == 2 for p in parts), mac
        assert int(parts[0], 16) & 0x02 and not int(parts[0], 16) & 0x01  # locally administered, unicast
    with pytest.raises(ValueError, match="does not fit"):
        mac_for(0x10, 0, 0x1000000)


def test_ten_thousand_clients_have_distinct_identities_and_the_same_ones_for_the_same_seed():
    one = agent(steady_clients=10000, mac_seed=0x1234)
    again = agent(steady_clients=10000, mac_seed=0x1234)
    other = agent(steady_clients=10000, mac_seed=0x1235)
    macs = [c.mac for c in one.clients]
    assert len(set(macs)) == 10000 and macs == [c.mac for c in again.clients]
    assert not set(macs) & {c.mac for c in other.clients}


def test_timers_fire_only_for_clients_that_are_due():
    a = agent(steady_clients=3, arrival_per_s=1.0)
    ticked = []

    def tick(c, now):
        ticked.append(c.name)
        c.next_tx = now + 10  # as a sent DISCOVER would
    a.tick = tick
    a.arrivals(100.0)  # one new client a second
    a.run_due(101.5)
    assert ticked == ["steady-00", "steady-01"]
    a.run_due(101.9)
    assert ticked == ["steady-00", "steady-01"]


def test_a_newer_timer_replaces_the_older_one():
    a = agent(steady_clients=1)
    c = a.clients[0]
    c.state, c.bound_at, c.lease, c.t1, c.t2 = "BOUND", 0.0, 60.0, 30.0, 50.0
    a.schedule(c)
    c.t1 = 5.0  # woken: renews now
    a.schedule(c)
    fired = []

    def tick(c, now):
        fired.append(now)
        c.bound_at = now  # as a renewal would
    a.tick = tick
    a.run_due(40.0)
    assert fired == [40.0]  # once, not once per entry pushed


def test_a_woken_client_with_a_long_lease_renews_by_unicast_now_and_rebinds_by_broadcast_after_the_grace(tmp_path):
    """Production leases (hours): nothing would renew inside a drill; a woken client renews at once."""
    a = agent(tmp_path, wake_rebind_after_s=10)
    sent = []
    a.send = lambda c, msg, unicast=False: sent.append((msg, unicast, c.state))
    steady = a.add(Client("steady-00", "02:10:00:00:00:00", probe=False, state="BOUND", ip="198.18.0.100",
                          server_id="198.18.0.11", lease=43200.0, t1=21600.0, t2=37800.0, bound_at=1000.0))
    probe = a.add(Client("probe-00", "02:20:00:00:00:00", probe=True, state="BOUND", ip="198.18.0.120",
                         lease=43200.0, t1=21600.0, t2=37800.0, bound_at=1000.0))
    a.wake_steady(1500.0)
    a.run_due(1500.0)
    assert sent == [("REQUEST", True, "RENEWING")]  # T1 is now: unicast to its server
    a.run_due(1509.0)
    assert steady.state == "RENEWING"
    a.run_due(1510.0)
    assert steady.state == "REBINDING" and sent[-1] == ("REQUEST", False, "REBINDING")  # T2: broadcast
    assert probe.t1 == 21600.0  # probes keep their own rhythm
    a.evidence.flush()
    woken = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines() if '"woken"' in line]
    assert woken[0]["clients"] == ["steady-00"]


def test_settled_waits_for_every_client_holding_a_lease_to_be_answered_since_the_mark(tmp_path):
    """After a heal the harness waits for ``settled``: each client either answered since the heal
    or without its lease. Probes do not count; a client still rebinding keeps it waiting."""
    a = agent(tmp_path)
    answered = a.add(Client("steady-00", "02:10:00:00:00:00", probe=False, state="BOUND", ip="198.18.0.100",
                            lease=60.0, t1=10.0, t2=20.0, bound_at=990.0))
    rebinding = a.add(Client("steady-01", "02:10:00:00:00:01", probe=False, state="REBINDING", ip="198.18.0.101",
                             lease=60.0, t1=10.0, t2=20.0, bound_at=985.0))
    a.add(Client("probe-00", "02:20:00:00:00:00", probe=True, state="REBINDING", ip="198.18.0.120",
                 lease=60.0, bound_at=980.0))

    def settled() -> list[dict]:
        a.evidence.flush()
        return [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()
                if '"settled"' in line]
    a.mark_settle(1000.0)
    answered.bound_at = 1003.0  # its renewal answered after the mark
    a.check_settled(1004.0)
    assert settled() == []  # steady-01 still rebinds, unanswered since the heal
    a.lose(rebinding, "expired", 1045.0)  # its lease ran out: decided, as lost
    a.check_settled(1045.1)
    [done] = settled()
    assert done["since"] == 1000.0 and done["holding"] == 1
    assert a.settle_since is None  # said once: the loop checks no more until the next mark


def run_filter(frame: bytes) -> bool:
    """The agent's classic BPF program, interpreted (the opcodes it uses), on one frame."""
    a = x = pc = 0
    while True:
        code, jt, jf, k = FILTER[pc]
        pc += 1
        if code == 0x28:
            a = int.from_bytes(frame[k:k + 2], "big")
        elif code == 0x30:
            a = frame[k]
        elif code == 0x48:
            a = int.from_bytes(frame[x + k:x + k + 2], "big")
        elif code == 0xB1:
            x = 4 * (frame[k] & 0x0F)
        elif code == 0x15:
            pc += jt if a == k else jf
        elif code == 0x45:
            pc += jt if a & k else jf
        elif code == 0x06:
            return k > 0
        else:
            raise AssertionError(f"opcode {code:#x} not interpreted")


def test_the_kernel_filter_passes_dhcp_replies_and_arp_only():
    assert run_filter(reply("ack"))
    assert run_filter(bytes(Ether() / ARP(op=1, pdst="198.18.0.105")))
    with_options = Ether(src=SERVER_MAC) / IP(src="198.18.0.11", dst="198.18.0.105", options=b"\x01\x01\x01\x00") \
        / UDP(sport=67, dport=68) / BOOTP(op=2)
    assert run_filter(bytes(with_options))  # the UDP port is found past IP options
    request = Ether() / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / BOOTP(op=1)
    assert not run_filter(bytes(request))  # another client's broadcast, or our own
    fragment = Ether() / IP(src="198.18.0.11", dst="198.18.0.105", frag=10) / UDP(sport=67, dport=68)
    assert not run_filter(bytes(fragment))
    assert not run_filter(bytes(Ether() / IP(src="198.18.0.11", dst="198.18.0.105", proto=6) / (b"\0" * 20)))


def test_clients_are_woken_only_when_their_own_renewal_falls_outside_the_window():
    from dhcpdrill.timers import wake_after
    assert wake_after(10.0, 30.0) is None and wake_after(60.0, 100.0) is None
    assert wake_after(3600.0, 100.0) == 1.0 and wake_after(None, 30.0) is None


def test_a_boot_storm_makes_every_steady_client_forget_its_lease_and_discover_within_the_spread(tmp_path):
    a = agent(tmp_path, steady_clients=4, probe_clients=1, storm_s=2.0)
    for i, c in enumerate(a.clients):
        c.state, c.ip, c.bound_at, c.lease, c.t1, c.t2 = "BOUND", f"198.18.0.{100 + i}", 0.0, 60.0, 30.0, 50.0
    a.reboot_all(10.0)
    steady = [c for c in a.clients if not c.probe]
    assert all(c.state == "SELECTING" and c.ip == "" for c in steady)
    assert [c.next_tx for c in steady] == [10.0, 10.5, 11.0, 11.5]  # spread over storm_s
    probe = next(c for c in a.clients if c.probe)
    assert probe.state == "BOUND" and probe.ip  # probes keep their own rhythm
    a.evidence.flush()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["why"] for e in lines if e["kind"] == "lease-lost"] == ["reboot"] * 4
    assert lines[-1]["kind"] == "rebooted" and lines[-1]["clients"] == 4


def test_a_populations_new_clients_arrive_one_after_another_over_the_drill_and_keep_their_leases(tmp_path):
    a = agent(tmp_path, steady_clients=2, new_clients=3, new_over_s=30.0,
              links=[{"ip": "", "subnet": "198.18.32.0/21", "label": ""}, {"ip": "", "subnet": "198.18.40.0/24", "label": "b-"}])
    assert all(c.role == "steady" for c in a.clients)  # none of them before steady state
    a.add_newcomers(100.0)
    new = [c for c in a.clients if c.role == "new"]
    assert [c.name for c in new] == ["new-00", "b-new-00", "new-01", "b-new-01", "new-02", "b-new-02"]
    assert [c.next_tx for c in new] == [100.0, 105.0, 110.0, 115.0, 120.0, 125.0]  # 6 clients evenly over 30 s
    assert [c.subnet for c in new[:2]] == ["198.18.32.0/21", "198.18.40.0/24"]
    assert len({c.mac for c in a.clients}) == len(a.clients) == 10
    c = new[0]
    c.state, c.ip, c.bound_at, c.lease, c.t1, c.t2 = "BOUND", "198.18.32.9", 100.0, 60.0, 30.0, 50.0
    c.server_id, c.server_mac = "198.18.32.2", SERVER_MAC
    a.tick(c, 103.0)  # long past a probe's hold: a newcomer keeps its lease
    assert c.state == "BOUND" and not a.wire
    a.tick(c, 131.0)
    assert c.state == "RENEWING" and Ether(a.wire[0])[IP].dst == "198.18.32.2"  # its T1: a unicast renew
    a.evidence.flush()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "client" and e["role"] == "new" for e in lines) == 6


def test_a_client_mid_renewal_still_holds_its_lease_for_steady_state():
    """10,000 clients renewing every 10 s are never all in BOUND at one instant; steady state
    asks that each holds a lease (bound, or renewing or rebinding one not yet expired)."""
    c = Client("steady-0", mac_for(0x10, 1, 0), probe=False)
    assert not c.holds_lease
    for state, ip, holds in [("BOUND", "198.18.0.100", True), ("RENEWING", "198.18.0.100", True),
                             ("REBINDING", "198.18.0.100", True), ("SELECTING", "", False), ("REQUESTING", "", False)]:
        c.state, c.ip = state, ip
        assert c.holds_lease is holds, state


def test_a_boot_storm_reboots_the_new_clients_that_arrived_and_leaves_the_rest_to_arrive_on_time(tmp_path):
    a = agent(tmp_path, steady_clients=2, probe_clients=0, new_clients=4, new_over_s=40.0, storm_s=2.0)
    a.add_newcomers(100.0)  # arrivals at 100, 110, 120, 130
    new = [c for c in a.clients if c.role == "new"]
    new[0].state, new[0].ip, new[0].tries = "BOUND", "198.18.0.150", 1
    new[1].tries = 2  # mid-DISCOVER at the storm: it arrived
    a.reboot_all(115.0)
    assert [c.next_tx for c in new[2:]] == [120.0, 130.0]  # not pulled into the storm
    storm = [c for c in a.clients if c.role == "steady"] + new[:2]
    assert all(c.state == "SELECTING" and not c.ip and 115.0 <= c.next_tx < 117.0 for c in storm)
    a.evidence.flush()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert lines[-1]["kind"] == "rebooted" and (lines[-1]["clients"], lines[-1]["yet_to_arrive"]) == (4, 2)


@pytest.mark.parametrize("passive, probe_secs", [(True, 0), (False, 9)])
def test_passive_probes_always_send_secs_zero_and_the_population_keeps_its_own(passive, probe_secs):
    """Kea's HA counts a client unacked only when secs * 1000 > max-ack-delay (dhcpdrill/quiet.py):
    passive probes stay at 0 however long they wait; a population client's secs still rises."""
    a = agent(passive_probes=passive)
    probe = Client("probe-00", "02:d4:20:00:00:00", probe=True, state="SELECTING", xid=7, exchange_start=100.0)
    new = Client("new-00", "02:d4:40:00:00:00", probe=False, late=True, state="SELECTING", xid=8, exchange_start=100.0)
    assert Ether(a._frame(probe, "DISCOVER", unicast=False, now=109.6))[BOOTP].secs == probe_secs
    assert Ether(a._frame(new, "DISCOVER", unicast=False, now=109.6))[BOOTP].secs == 9
