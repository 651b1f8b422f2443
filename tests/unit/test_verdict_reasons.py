"""Verdicts on real recorded timelines, mutated, with the reason each states in full: cases the
catalogue did not pin, found by scripts/mutation-score (mutants of verdicts.py that survived)."""
from __future__ import annotations

from dhcpdrill.timeline import Event
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN

from .test_real_evidence import fault_t, judged, load, with_events, without


def test_a_third_server_acking_a_load_balancing_pair_before_the_fault_fails_steady_state_naming_both_serving():
    """Kea load-balancing client-partition: both servers serve a healthy pair. An ACK from an
    address outside the pair before the fault fails steady-state; the reason lists the roles
    meant to serve, both of them."""
    tl = load("kea-lb-client-partition")
    assert judged(tl, "client-partition")["steady-state"].status == PASS
    ack = next(e for e in tl.of("recv") if e.get("msg") == "ACK" and e.t < fault_t(tl))
    stranger = Event(ack.t + 0.5, ack.source, ack.kind, {**ack.data, "server_id": "198.18.1.99", "src_ip": "198.18.1.99"})
    v = judged(with_events(tl, stranger), "client-partition")["steady-state"]
    assert v.status == FAIL
    assert v.reason == ("before the fault, ACKs came from 198.18.1.99, which should not serve a healthy pair "
                        "(serving: primary, secondary)")


def test_a_returning_server_still_syncing_when_the_window_ends_is_told_with_the_longest_wait():
    """Kea hot-standby failback with the primary's last syncing -> ready transition removed (its
    sync never finished): failback-sync's story says it synced until the window ended, and how
    long a client waited meanwhile."""
    tl = load("kea-hs-failback")
    done = [e for e in tl.of("ha-state", source="primary") if e.get("from") == "syncing"][-1]
    v = judged(without(tl, lambda e: e is done), "failback")["failback-sync"]
    assert v.status == PASS
    assert v.reason == ("primary knows 5 of 5 leases granted while it was down; sync: primary was syncing until "
                        "the window ended; longest client wait during it 10.02 s")


def test_a_failback_whose_ha_states_were_never_recorded_is_unknown_not_a_failure():
    """Kea hot-standby failback without its pair-ready event: nothing says what state either server
    was in, so heal-to-normal cannot be measured. It said FAIL ("primary was still unknown when
    the drill ended") on missing evidence before."""
    tl = load("kea-hs-failback")
    assert judged(tl, "failback")["heal-to-normal"].status == PASS
    v = judged(without(tl, lambda e: e.kind == "pair-ready"), "failback")["heal-to-normal"]
    assert v.status == UNKNOWN
    assert v.reason == "primary's HA states were never recorded (no pair-ready): its recovery cannot be measured"


def test_a_third_server_answering_a_relayed_subnet_is_named_by_its_address_in_the_subnets_reason():
    """Kea relayed kill-primary with one ACK to a client of 198.18.14.0/24 from an address outside
    the pair: the subnets verdict names who answered that subnet, that address among them."""
    from .test_relayed_subnets import KEA, judged as judged_relayed, load as load_relayed
    tl = load_relayed("kea-relayed-kill-primary")
    ack = next(e for e in tl.of("recv", source="clients") if e.get("msg") == "ACK" and e.get("expected")
               and str(e.get("client", "")).startswith("198.18.14.0-"))
    third = Event(ack.t, ack.source, ack.kind, {**ack.data, "server_id": "198.18.12.99"})
    told = judged_relayed(with_events(tl, third), KEA)["subnets"].reason
    assert "198.18.14.0/24 (relay " in told
    line = next(p for p in told.split("; ") if p.startswith("198.18.14.0/24"))
    assert line == ("198.18.14.0/24 (relay 198.18.14.1): 5 clients, 31 ACKs from 198.18.12.99, primary, secondary "
                    "(25 after the fault)")
