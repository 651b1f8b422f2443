"""Drill (DHCPv6, issue 30's first slice): the primary of a Kea hot-standby DHCPv6 pair dies.

Runbook
1. Validate the v6 pair (``--v6-pair``, default fixtures/v6/kea-hot-standby-v6) before anything starts.
2. Start the pair on a dual-stack internal network (HA peer link IPv4, clients IPv6 in
   2001:2::/48) and wait until both servers log hot-standby.
3. Start the v6 clients (``agent6``: DUID-LL, IA_NA + IA_PD, RFC 8415 timers and backoff, Elapsed
   Time rising): steady clients lease and renew; probes keep soliciting, hold briefly, release.
4. SIGKILL the primary's container once every steady client holds its lease; prove it is down.
5. Observe 45 s (longer than T2 = 20 s, so every steady client must Renew, then Rebind).
6. Judge the timeline against [drills.kill-primary]: takeover, duplicates (addresses and
   delegated prefixes; clients' view and both lease files), continuity.

In the longer run only (``--longer``): the default run does not grow.
"""
from pathlib import Path

import pytest

from dhcpdrill.drill6 import kill_primary6, load_pair6
from dhcpdrill.problems import PairError

DEFAULT_PAIR = Path(__file__).resolve().parent.parent / "fixtures" / "v6" / "kea-hot-standby-v6"


@pytest.fixture
def v6_pair(request):
    folder = Path(request.config.getoption("--v6-pair") or DEFAULT_PAIR)
    try:
        return load_pair6(folder)
    except PairError as exc:
        pytest.fail(f"pair check failed, nothing was started:\n{exc}", pytrace=False)


@pytest.mark.longer
def test_v6_kill_primary(v6_pair, request):
    reports = Path(request.config.getoption("--reports-dir", default=None) or "reports")
    result = kill_primary6(v6_pair, reports)
    for v in result.verdicts:
        print(f"{v.name}: {v.status.upper()}: {v.reason}")
    result.assert_verdicts()
