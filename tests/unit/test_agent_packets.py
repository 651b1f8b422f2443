"""The client agent's packets, built without sending: RFC 2131 fields the servers depend on."""
from scapy.all import BOOTP, DHCP, IP, UDP, Ether

from dhcpdrill.agent import Agent, Client, checksum_ok


def agent() -> Agent:
    a = Agent.__new__(Agent)  # no sockets: only the packet builders are exercised
    a.plan = {}
    return a


def test_secs_rises_with_the_time_since_the_exchange_began(monkeypatch):
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="SELECTING", xid=7, exchange_start=100.0)
    monkeypatch.setattr("dhcpdrill.agent.time.time", lambda: 109.6)
    frame = agent()._frame(c, "DISCOVER", unicast=False)
    assert frame[BOOTP].secs == 9 and frame[Ether].dst == "ff:ff:ff:ff:ff:ff"
    assert frame[IP].src == "0.0.0.0" and frame[UDP].dport == 67


def test_renew_is_unicast_to_the_granting_server_with_ciaddr():
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="RENEWING", xid=7, ip="198.18.0.100",
               server_id="198.18.0.11", server_mac="02:42:c6:12:00:0b", exchange_start=0)
    frame = agent()._frame(c, "REQUEST", unicast=True)
    assert (frame[Ether].dst, frame[IP].dst, frame[BOOTP].ciaddr) == ("02:42:c6:12:00:0b", "198.18.0.11", "198.18.0.100")
    opts = dict(o for o in frame[DHCP].options if isinstance(o, tuple))
    assert "requested_addr" not in opts and "server_id" not in opts  # RFC 2131 4.3.2: RENEWING


def test_rebind_is_broadcast_from_the_leased_address():
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, state="REBINDING", xid=7, ip="198.18.0.100",
               server_id="198.18.0.11", exchange_start=0)
    frame = agent()._frame(c, "REQUEST", unicast=False)
    assert (frame[IP].src, frame[IP].dst, frame[BOOTP].ciaddr) == ("198.18.0.100", "255.255.255.255", "198.18.0.100")


def test_selecting_request_names_the_offer_and_server():
    c = Client("probe-00", "02:d4:20:00:00:00", probe=True, state="REQUESTING", xid=7,
               offer_ip="198.18.0.120", offer_server="198.18.0.12", exchange_start=0)
    opts = dict(o for o in agent()._frame(c, "REQUEST", unicast=False)[DHCP].options if isinstance(o, tuple))
    assert opts["requested_addr"] == "198.18.0.120" and opts["server_id"] == "198.18.0.12"


def test_udp_checksums_are_verified():
    pkt = Ether(bytes(Ether() / IP(src="198.18.0.11", dst="198.18.0.100") / UDP(sport=67, dport=68) / (b"x" * 20)))
    assert checksum_ok(pkt)
    raw = bytearray(bytes(pkt))
    raw[40] ^= 0xFF  # corrupt the UDP checksum
    assert not checksum_ok(Ether(bytes(raw)))


def test_a_lost_lease_is_stamped_when_it_was_lost_and_names_its_address(capsys, monkeypatch):
    """The capture time of the ACK that moved the client, not the moment the agent got round to
    writing it (which once closed the *new* binding milliseconds after it opened)."""
    import json
    monkeypatch.setattr("dhcpdrill.agent.time.time", lambda: 999.0)
    c = Client("steady-00", "02:d4:10:00:00:00", probe=False, ip="198.18.0.100")
    agent().lose(c, "changed", 123.456)
    event = json.loads(capsys.readouterr().out)
    assert (event["t"], event["ip"], event["why"]) == (123.456, "198.18.0.100", "changed") and c.ip == ""


def test_every_client_is_announced_with_what_it_is_for(capsys):
    import json
    Agent.announce(Client("fresh-000", "02:d4:30:00:00:00", probe=True, fresh=True))
    Agent.announce(Client("steady-00", "02:d4:10:00:00:00", probe=False))
    roles = [json.loads(line)["role"] for line in capsys.readouterr().out.splitlines()]
    assert roles == ["fresh", "steady"]


def test_client_macs_stay_well_formed_and_distinct_past_255_clients():
    from types import SimpleNamespace
    fake = SimpleNamespace(plan={"mac_seed": 0xABCD})
    macs = [Agent._mac(fake, kind, i) for kind in (0x10, 0x20, 0x30) for i in (0, 1, 255, 256, 257, 4095, 65535)]
    assert len(set(macs)) == len(macs)
    for mac in macs:
        parts = mac.split(":")
        assert len(parts) == 6 and all(len(p) == 2 for p in parts), mac
        assert int(parts[0], 16) & 0x02 and not int(parts[0], 16) & 0x01  # locally administered, unicast


def test_a_woken_client_with_a_long_lease_renews_by_unicast_now_and_rebinds_by_broadcast_after_the_grace(capsys):
    """Production leases (hours): nothing would renew inside a drill; a woken client renews at once."""
    a = agent()
    a.plan, a.retransmit, a.wake = {"wake_rebind_after_s": 10}, [1.0, 2.0, 4.0], True
    sent = []
    a.send = lambda c, msg, unicast=False: sent.append((msg, unicast, c.state))
    steady = Client("steady-00", "02:10:00:00:00:00", probe=False, state="BOUND", ip="198.18.0.100",
                    server_id="198.18.0.11", lease=43200.0, t1=21600.0, t2=37800.0, bound_at=1000.0)
    probe = Client("probe-00", "02:20:00:00:00:00", probe=True, state="BOUND", ip="198.18.0.120",
                   lease=43200.0, t1=21600.0, t2=37800.0, bound_at=1000.0)
    a.clients = [steady, probe]
    a.wake_steady(1500.0)
    a.tick(steady, 1500.0)
    assert sent == [("REQUEST", True, "RENEWING")]  # T1 is now: unicast to its server
    a.tick(steady, 1509.0)
    assert steady.state == "RENEWING"
    a.tick(steady, 1510.0)
    assert steady.state == "REBINDING" and sent[-1] == ("REQUEST", False, "REBINDING")  # T2: broadcast
    assert probe.t1 == 21600.0  # probes keep their own rhythm
    woken = [line for line in capsys.readouterr().out.splitlines() if '"woken"' in line]
    assert woken and '"steady-00"' in woken[0] and "probe-00" not in woken[0]


def test_clients_are_woken_only_when_their_own_renewal_falls_outside_the_window():
    from dhcpdrill.timers import wake_after
    assert wake_after(10.0, 30.0) is None and wake_after(60.0, 100.0) is None
    assert wake_after(3600.0, 100.0) == 1.0 and wake_after(None, 30.0) is None
