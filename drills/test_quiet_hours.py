"""Drill: the primary dies during quiet hours, and the standby must notice from the site's own traffic.

Runbook
1. Start the pair and wait until both servers report their normal HA state.
2. Predict the takeover from the pair's [workload.night] population and its HA timers: when more
   than max-unacked-clients distinct broadcast clients (new devices, clients rebinding at T2) have
   waited past max-ack-delay (dhcpdrill/quiet.py); and the takeover with max-unacked-clients: 0.
3. Lease the night's active clients; two probes lease and release throughout, always with
   secs = 0, so the standby never counts them.
4. SIGKILL the primary's container and prove it is down.
5. Replay the night's new clients that arrive before the predicted takeover (at most 10, their
   gaps compressed into the window); the active clients renew and rebind on their own timers.
6. Judge against [drills.kill-primary-quiet-hours]: whether the standby took over (most pairs:
   not in the window, the finding their known hazard bounds), how long clients went unserved,
   and that the standby stayed out of partner-down. The standby's own log counts the clients
   (HA_COMMUNICATION_INTERRUPTED_CLIENT4_UNACKED: "... unacked clients: N, unacked clients left: M").
"""
from scenarios.quiet_hours import KILL_PRIMARY_QUIET_HOURS


def test_quiet_hours_kill_primary(drill):
    drill.run(KILL_PRIMARY_QUIET_HOURS).assert_verdicts()
