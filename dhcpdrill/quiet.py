"""When a Kea standby takes over from the site's own traffic: a pure model of Kea's unacked-clients
count, fed by the population a pair states for a time of day (``[workload.night]``).

What Kea counts (src/hooks/dhcp/high_availability, isc-projects/kea):
- ``HAService::inScopeInternal`` (ha_service.cc) hands a query to
  ``CommunicationState::analyzeMessage`` only when it is *not* in this server's scope and the
  communication is interrupted (``isCommunicationInterrupted``: no contact for more than
  max-response-delay). Only what reaches the standby is seen: broadcasts (a new client's
  DISCOVER/REQUEST, a client rebinding at T2). Renewals are unicast to the dead primary.
- ``CommunicationState4::analyzeMessageInternal`` (communication_state.cc) reads ``secs``
  (``msg->getSecs()``), byte-swaps it when ``secs > 255`` and its low byte is 0 (Windows clients),
  and marks the client unacked when ``secs * 1000 > max-ack-delay`` (milliseconds). Clients are
  keyed by hardware address and client identifier, so a client counts once however often it
  retries. A client whose ``secs`` is 0 is recorded but never unacked: ``0 > max-ack-delay`` is
  false for every configurable delay, and 0 is never byte-swapped.
- ``failureDetectedInternal``: true when max-unacked-clients is 0, else when more than
  max-unacked-clients clients are unacked. The record is cleared only by ``pokeInternal``
  (``clearConnectingClients``), i.e. when contact with the partner returns: with a dead partner
  nothing ages it, so the count only grows, one distinct client at a time.

So the takeover waits for the (U+1)-th distinct broadcast client whose ``secs`` passed
max-ack-delay (U = max-unacked-clients), and then for the heartbeat rules of ``timers.kea_takeover``.
Arrivals are taken at the stated average rate, evenly spaced (the k-th new client at k/rate);
real arrivals scatter around that.
"""
from __future__ import annotations

from dataclasses import dataclass

from .timers import KEA_DEFAULTS, KEA_HTTP_TIMEOUT_S, Prediction, kea_takeover

# RFC 2131 §4.1: a client retransmits after 4, 8, 16, 32, 64 s (±1 s), then every 64 s.
RFC_RETRANSMIT_S = (4.0, 8.0, 16.0, 32.0, 64.0)
REBIND_RETRY_S = 60.0  # RFC 2131 §4.4.5: in REBINDING, retransmit after half the time left, at least 60 s
HORIZON_S = 7 * 24 * 3600.0  # a prediction beyond a week says "not within a week"


@dataclass(frozen=True)
class Period:
    """``[workload.<period>]``: the site at one time of day. ``active_clients`` hold leases and renew
    (unicast) at T1; ``new_per_hour`` never-seen clients arrive with DISCOVER (broadcast).
    ``t1_s``/``t2_s``: the clients' renew and rebind times when the pair states them, else the
    configs' (renew-timer, rebind-timer; RFC 2131 defaults 0.5 and 0.875 of the lease)."""

    name: str
    active_clients: int
    new_per_hour: float
    t1_s: float | None = None
    t2_s: float | None = None

    def rebinding_per_hour(self, t1_s: float) -> float:
        """After the primary dies every active client's renewal goes unanswered, so each rebinds
        (broadcast) at its T2: one per T1/active_clients seconds, from T2 − T1 to T2 after the loss."""
        return self.active_clients * 3600.0 / t1_s if t1_s > 0 else 0.0


def counted_after_s(max_ack_delay_ms: float, retransmit: tuple[float, ...] = RFC_RETRANSMIT_S) -> float:
    """Seconds after a new client's first DISCOVER until it sends one Kea counts as unacked: the
    first transmission whose whole-second ``secs`` times 1000 exceeds max-ack-delay."""
    sent, k = 0.0, 0
    while int(sent) * 1000 <= max_ack_delay_ms:
        sent, k = sent + retransmit[min(k, len(retransmit) - 1)], k + 1
    return sent


def counted_times(period: Period, t1_s: float, t2_s: float, max_ack_delay_ms: float, most: int,
                  retransmit: tuple[float, ...] = RFC_RETRANSMIT_S) -> list[tuple[float, str]]:
    """The first ``most`` moments (seconds after the loss) at which another distinct broadcast
    client becomes unacked, and who it is ("new" or "rebinding"). A rebinding client's ``secs``
    runs from the start of its renewal (RFC 2131 §4.4.5; dhclient and this lab's agent alike), so
    it is counted at its first rebind when T2 − T1 exceeds max-ack-delay, else at its next try."""
    out: list[tuple[float, str]] = []
    if period.new_per_hour > 0:
        step, wait = 3600.0 / period.new_per_hour, counted_after_s(max_ack_delay_ms, retransmit)
        out += [(k * step + wait, "new") for k in range(1, most + 1) if k * step <= HORIZON_S]
    if period.active_clients > 0 and t1_s > 0:
        late = 0.0 if int(t2_s - t1_s) * 1000 > max_ack_delay_ms else REBIND_RETRY_S
        out += [(t2_s - t1_s + j * t1_s / period.active_clients + late, "rebinding")
                for j in range(1, min(most, period.active_clients) + 1)]
    return sorted(out)[:most]


@dataclass(frozen=True)
class QuietPrediction:
    """The takeover a period's own traffic brings (``takeover`` None: not within the horizon),
    the moment the deciding client is counted, the same pair with max-unacked-clients 0, and the
    broadcast clients counted before the deciding one (they go unserved meanwhile)."""

    period: Period
    max_unacked: int
    counted_at_s: float | None
    takeover: Prediction | None
    with_zero: Prediction
    before: tuple[tuple[float, str], ...]
    t1_s: float
    t2_s: float

    def words(self) -> str:
        p = self.period
        site = (f"with {p.new_per_hour:g} new clients an hour and {p.active_clients} active clients "
                f"(T1 {duration(self.t1_s)}, T2 {duration(self.t2_s)})")
        zero = f"with max-unacked-clients: 0 it would take over in ~{self.with_zero.low_s:g}–{self.with_zero.high_s:g} s"
        if self.max_unacked == 0:
            return f"{site}, this standby takes over in ~{self.with_zero.low_s:g}–{self.with_zero.high_s:g} s " \
                   f"(max-unacked-clients: 0 needs no client)"
        if self.takeover is None:
            return (f"{site}, this standby is not expected to take over within {duration(HORIZON_S)}: fewer than "
                    f"{self.max_unacked + 1} distinct clients ever broadcast; {zero}")
        return (f"{site}, this standby is not expected to take over for ~{duration(self.counted_at_s)} "
                f"(until the {ordinal(self.max_unacked + 1)} distinct broadcast client has waited past "
                f"max-ack-delay; {len(self.before)} before it go unserved); {zero}")


def quiet_takeover(ha_timers: dict[str, float], link: str, period: Period, t1_s: float, t2_s: float,
                   client_retry_s: float, max_unacked: int | None = None,
                   retransmit: tuple[float, ...] = RFC_RETRANSMIT_S) -> QuietPrediction:
    """``ha_timers`` in milliseconds as configured (Kea's defaults fill the rest); ``link`` how the
    partner's end of the peer link behaves (``timers.VANISHES`` for a killed primary);
    ``max_unacked`` the standby's own max-unacked-clients when it differs from ``ha_timers``'."""
    t = {**KEA_DEFAULTS, **{k: v for k, v in ha_timers.items() if v is not None}}
    u = int(t["max-unacked-clients"] if max_unacked is None else max_unacked)
    zero = kea_takeover({**t, "max-unacked-clients": 0}, link, client_retry_s)
    base = kea_takeover({**t, "max-unacked-clients": u}, link, client_retry_s)
    if u == 0:
        return QuietPrediction(period, 0, 0.0, zero, zero, (), t1_s, t2_s)
    counted = counted_times(period, t1_s, t2_s, float(t["max-ack-delay"]), u + 1, retransmit)
    if len(counted) <= u:
        return QuietPrediction(period, u, None, None, zero, tuple(counted), t1_s, t2_s)
    at = counted[u][0]
    h = t["heartbeat-delay"] / 1000
    fail = KEA_HTTP_TIMEOUT_S if link != "refuses" else 0.0
    takeover = Prediction(round(max(base.low_s, at), 3), round(max(base.high_s, at + h + fail + client_retry_s), 3),
                          f"{base.basis}; the {ordinal(u + 1)} distinct broadcast client is counted "
                          f"~{duration(at)} after the loss at the stated rates")
    return QuietPrediction(period, u, at, takeover, zero, tuple(counted[:u]), t1_s, t2_s)


def duration(seconds: float | None) -> str:
    """``2 h 45 min``, ``15 min 3 s``, ``12 s``: as a person says it."""
    if seconds is None:
        return "never"
    s = int(round(seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min {s} s" if s else f"{m} min"
    return f"{s} s"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
