"""Drills: the peer link's TLS certificate of one server has expired.

Runbook (each drill)
1. Start the pair (peers on mutual TLS), wait for its normal HA state, record each server's TLS
   handshake with its partner, lease steady clients; probes keep leasing.
2. Put the expired copy of the secondary's certificate (pair folder, expired/) in place of its
   live one and reboot the secondary's container; prove it: the certificate in the container is
   past its notAfter, the daemon answers, and the primary's own TLS connection to it fails
   verification.
3. Observe 30 s (and, in the second drill, kill the primary 25 s after the expiry and observe 30 s).
4. Judge: split brain, duplicates, client outage, continuity, HA states; takeover in the second.
"""
import pytest

from scenarios.expired_certificate import EXPIRED_CERTIFICATE, EXPIRED_CERTIFICATE_THEN_KILL

# The longer run (docs/drills.md "The longer run"): each drill measured once so far.
pytestmark = pytest.mark.longer


def test_expired_certificate(drill):
    drill.run(EXPIRED_CERTIFICATE).assert_verdicts()


def test_expired_certificate_then_kill(drill):
    drill.run(EXPIRED_CERTIFICATE_THEN_KILL).assert_verdicts()
