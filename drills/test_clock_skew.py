"""Drills: one server's clock drifts away from its partner's.

Runbook (each drill)
1. Start the pair with each daemon's clock under control (libfaketime, offset +0), wait for its
   normal HA state, lease steady clients; probes keep leasing.
2. Move the primary daemon's clock ahead (35 s, or 65 s) while it runs; prove it from the
   daemon's own timestamps (Kea: its heartbeat date-time; dhcpd: the cltt it writes for a
   lease, against the moment the client received the ACK).
3. Observe 30 s, put the clock back (prove it), observe a little more.
4. Judge against the pair's expectations: the warnings its servers must log, the HA states
   they must reach (Kea: both terminated beyond 60 s), client outage, duplicates.
"At boot": the primary crashes and boots with its clock 65 s ahead (an RTC that is off, NTP not
yet synced), for a pair whose protection acts when peers connect and lifts once the clocks agree
(dhcpd refuses the peer connection while they differ by more than 60 s): the pair must stay out
of its normal state while skewed and be back in it soon after the clock is corrected.
The compound drill then kills the primary of a pair whose clocks were once 65 s apart: a Kea
pair that went to terminated stays there after the clock is fixed, so nobody takes over.
"""
from scenarios.clock_skew import LARGE_SKEW, SKEW_AT_BOOT, SKEW_THEN_KILL, SMALL_SKEW


def test_clock_skew_35s(drill):
    drill.run(SMALL_SKEW).assert_verdicts()


def test_clock_skew_65s(drill):
    drill.run(LARGE_SKEW).assert_verdicts()


def test_clock_skew_65s_at_boot(drill):
    drill.run(SKEW_AT_BOOT).assert_verdicts()


def test_clock_skew_then_kill(drill):
    drill.run(SKEW_THEN_KILL).assert_verdicts()
