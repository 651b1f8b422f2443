"""Load figures: percentiles, per-phase rates and the outage distribution, on hand-made waits."""
from dataclasses import dataclass

import pytest

from dhcpdrill.load import outage_counts, percentile, phase


@dataclass
class W:
    client: str
    since: float
    until: float | None
    exchange: str = "new lease"


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0 and percentile([], 50) is None


def test_a_phase_counts_what_began_in_it_and_how_fast_it_was_answered():
    waits = [W("a", 0.5, 0.6), W("b", 1.0, 3.0, "renewal"), W("c", 9.0, None), W("d", 10.0, 10.1)]
    p = phase("during", waits, 0.0, 10.0)
    assert (p.offered_per_s, p.answered_per_s) == (0.3, 0.2)  # d began after the phase; c never answered
    assert round(p.new_p50, 3) == 0.1 and p.renew_p99 == 2.0
    assert "during (10 s): new leases p50 0.100 s" in p.describe()


def test_outages_count_each_client_once_by_its_longest_wait_and_against_its_own_t2():
    waits = [W("a", 9.0, 11.5), W("a", 12.0, 24.0), W("b", 10.0, None), W("c", 1.0, 2.0)]
    counts = outage_counts(waits, fault=10.0, end=40.0, t2={"a": 20.0, "b": 20.0})
    # a: longest 12 s (over 10 s, under its T2); b: still waiting at the end, 30 s (over its T2);
    # c: answered before the fault, not counted
    assert counts == {"> 1 s": 2, "> 10 s": 2, "> T2": 1, "clients": 2}


def test_servers_refusing_a_client_for_lack_of_addresses_are_recorded_as_pool_exhaustion():
    from dhcpdrill.servers.isc import IscAdapter
    from dhcpdrill.servers.kea import KeaAdapter
    kea = ("2026-12-01 02:18:48.970 WARN  [kea-dhcp4.alloc-engine/13.1] ALLOC_ENGINE_V4_ALLOC_FAIL_SUBNET "
           "[hwtype=1 02:10:72:d4:00:00], cid=[no info], tid=0xeaa70974: failed to allocate an IPv4 address in the "
           "subnet 198.18.4.0/24, subnet-id 1, shared network (none)")
    assert KeaAdapter().log_event(kea) == ("pool-exhausted", {"line": kea})
    for line in ("DHCPDISCOVER from 02:30:12:00:00:07 via eth0: network 198.18.2.0/24: no free leases",
                 "DHCPDISCOVER from 02:30:12:00:00:07 via eth0: peer holds all free leases"):
        assert IscAdapter().log_event(line) == ("pool-exhausted", {"line": line})
    assert KeaAdapter().log_event("INFO DHCP4_LEASE_ALLOC lease 198.18.0.100 has been allocated") is None


def test_the_load_verdict_counts_a_populations_new_clients_and_fails_on_a_newcomers_expired_lease():
    from dhcpdrill.expectations import Thresholds
    from dhcpdrill.timeline import Timeline
    from dhcpdrill.verdicts import FAIL, PASS, load
    tl = Timeline()
    tl.add(0.0, "harness", "lab", roles={"198.18.0.11": "primary", "198.18.0.12": "secondary"})
    for name, mac, role in [("steady-0", "m0", "steady"), ("new-0", "n0", "new"), ("new-1", "n1", "new")]:
        tl.add(0.5, "clients", "client", client=name, mac=mac, role=role)
    tl.add(1.0, "clients", "steady", leases={"steady-0": "198.18.0.100"})
    tl.add(2.0, "clients", "send", client="new-0", mac="n0", msg="DISCOVER", xid=1, state="SELECTING")
    tl.add(2.1, "clients", "recv", client="new-0", mac="n0", msg="ACK", xid=1, expected=True, server_id="198.18.0.11")
    tl.add(2.1, "clients", "bound", client="new-0", mac="n0", ip="198.18.0.101", server_id="198.18.0.11")
    tl.add(5.0, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
    tl.add(8.0, "clients", "send", client="new-1", mac="n1", msg="DISCOVER", xid=2, state="SELECTING")
    tl.add(30.0, "harness", "observe-end")
    verdict = load(tl, Thresholds(max_takeover_s=30, max_expired_leases=0))
    assert verdict.status == PASS and "2 new client(s) arrived during the drill, 1 of them leased" in verdict.reason
    tl.add(20.0, "clients", "lease-lost", client="new-0", mac="n0", ip="198.18.0.101", why="expired")
    verdict = load(tl, Thresholds(max_takeover_s=30, max_expired_leases=0))
    assert verdict.status == FAIL and verdict.figure == 1 and "steady or new lease(s) expired unrenewed: new-0" in verdict.reason


def test_waits_are_not_evidence_when_the_clients_sockets_dropped_frames():
    """A reply the kernel dropped before the agent read it looks like a server that never
    answered: the load and client-outage verdicts then say UNKNOWN and why, never PASS or FAIL."""
    from dhcpdrill.expectations import Thresholds
    from dhcpdrill.timeline import Timeline
    from dhcpdrill.verdicts import PASS, UNKNOWN, client_outage, load
    tl = Timeline()
    tl.add(0.0, "harness", "lab", roles={"198.18.0.11": "primary", "198.18.0.12": "secondary"})
    tl.add(0.5, "clients", "client", client="steady-0", mac="m0", role="steady")
    tl.add(1.0, "clients", "steady", leases={"steady-0": "198.18.0.100"})
    tl.add(5.0, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
    tl.add(8.0, "clients", "send", client="steady-0", mac="m0", msg="REQUEST", xid=2, state="REBINDING")
    tl.add(8.1, "clients", "recv", client="steady-0", mac="m0", msg="ACK", xid=2, expected=True, server_id="198.18.0.12")
    tl.add(8.1, "clients", "bound", client="steady-0", mac="m0", ip="198.18.0.100", server_id="198.18.0.12")
    tl.add(30.0, "harness", "observe-end")
    tl.add(31.0, "clients", "agent-stop", rx_dropped=0)
    limits = Thresholds(max_takeover_s=30, max_expired_leases=0, max_outage_s=5)
    assert load(tl, limits).status == PASS and client_outage(tl, limits).status == PASS
    tl = Timeline([e for e in tl.events if e.kind != "agent-stop"])
    tl.add(31.0, "clients", "agent-stop", rx_dropped=1234)
    for verdict in (load(tl, limits), client_outage(tl, limits)):
        assert verdict.status == UNKNOWN and "dropped 1,234 frame(s)" in verdict.reason


def test_the_kernels_neighbour_table_statistics_are_read_summed_over_cpus():
    from dhcpdrill import neighbours
    text = ("entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast "
            "periodic_gc_runs forced_gc_runs unresolved_discards table_fulls\n"
            "00000001 00001343 000006d2 00000002   0000b852 00004118 00000036   00000000         00000000         "
            "00000000         0000074f       00000000            00000742\n"
            "00000001 00001e8a 00002afa 00000006   0000dff0 00003f2c 00000050   00000000         00000000         "
            "0000015d         0000099a       00000000            0000097c\n==\n1024\n")
    assert neighbours.parse(text) == (0x742 + 0x97c, 1024)
    assert neighbours.parse(text.replace("1024\n", "")) == (0x742 + 0x97c, None)
    with pytest.raises(ValueError):
        neighbours.parse("nothing here\n==\n1024")


def test_a_neighbour_table_too_small_for_the_population_is_said_before_the_drills():
    from dhcpdrill import neighbours
    line = neighbours.shortfall(1024, 1000, "isc-failover-1k")
    assert "holds 1,024 entries" in line and "isc-failover-1k drills 1,000 clients" in line
    assert "gc_thresh3=4096" in line
    assert neighbours.shortfall(16384, 1000, "x") == "" and neighbours.shortfall(None, 1000, "x") == ""
    assert "gc_thresh3=40000" in neighbours.shortfall(16384, 10000, "kea-hot-standby-10k")
