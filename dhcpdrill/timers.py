"""What a pair's own timers allow: the takeover interval its servers' rules predict for a fault,
and the observation window a drill needs to see it.

Pure functions of numbers read from the configs, so a drill can say before it starts how long it
will watch and why, and a verdict can set the measured takeover beside the predicted one.

Kea (HA hook; Kea ARM "hooks-ha", src/hooks/dhcp/high_availability): a server declares its
partner down once it has had no successful contact for ``max-response-delay`` (R) *and* more than
``max-unacked-clients`` (U) distinct clients retried with ``secs`` above ``max-ack-delay`` (A)
(U = 0: at once). It re-evaluates when a heartbeat completes: heartbeats leave every
``heartbeat-delay`` (H) after the previous one ended, and a request to a partner that vanished
or hangs ends only at Kea's fixed 10 s HTTP timeout. With φ in [0, H) the time since the last
good heartbeat: the decision falls at the first heartbeat completion later than R − φ, after at
least the 10 s timeout; then the next retry of a waiting client gets its ACK.

ISC dhcpd (failover, dhcpd.conf(5)): the secondary answers a client of its partner's half as soon
as that client's ``secs`` exceeds ``load balance max seconds`` (default 3 s), in any state, and
answers renewals and rebinds of any client it knows; so a takeover needs no failure detection,
only the clients' own rhythm: a client must start an exchange and retransmit until its ``secs``
passes the limit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Rhythm(Protocol):
    """What the timing models read of a client workload (``clients.Workload``)."""

    retransmit: tuple[float, ...]
    probe_hold: float
    probe_gap: float

REQUEST_TRIES = 4  # REQUESTs a client sends its chosen server before it starts over with DISCOVER (in the agent's plan)
ENGINE_PING_S = 1.0  # the harness asks its engine how it is this often while a drill runs (lab.EngineWatch)
# Silence allowed in that hold: one missed beat and 2 s for an answer (measured here: info() and an
# events reading together 16 ms median, 122 ms at most; 33 ms and 115 ms with 4 CPU burners on the 2 cores).
ENGINE_ANSWER_S = 2.0


def engine_silence_s(every_s: float = ENGINE_PING_S) -> float:
    """The longest the harness's hold on its engine may be silent: one missed ping and an answer."""
    return 2 * every_s + ENGINE_ANSWER_S

KEA_HTTP_TIMEOUT_S = 10.0  # fixed in every Kea up to 3.x for HA requests (src/lib/config/timeouts.h)
KEA_DEFAULTS = {"heartbeat-delay": 10_000, "max-response-delay": 60_000, "max-ack-delay": 10_000,
                "max-unacked-clients": 10}
ISC_DEFAULT_LBMS = 3.0

# How the partner's end of the peer link behaves after each fault.
VANISHES, HANGS, REFUSES = "vanishes", "hangs", "refuses"


def client_rhythm_s(w: Rhythm) -> float:
    """The longest a waiting client can go without a packet the survivor would answer: a probe
    holds its lease, releases, pauses, then retransmits with backoff (1 s to spare for the
    exchange). A model that left this out predicted dhcpd's freeze takeover at <= 8 s; measured 8.87 s."""
    return max(w.retransmit) + w.probe_hold + w.probe_gap + 1.0


@dataclass(frozen=True)
class Prediction:
    """The takeover interval a config allows for one fault, and how it was reached."""

    low_s: float
    high_s: float
    basis: str

    def covers(self, seconds: float) -> bool:
        return self.low_s <= seconds <= self.high_s

    def describe(self) -> str:
        return f"{self.low_s:g}–{self.high_s:g} s ({self.basis})"


def kea_takeover(timers: dict[str, float], link: str, client_retry_s: float) -> Prediction:
    """``timers``: the HA hook's values in milliseconds, as configured (defaults filled in)."""
    t = {**KEA_DEFAULTS, **{k: v for k, v in timers.items() if v is not None}}
    h, r, a = t["heartbeat-delay"] / 1000, t["max-response-delay"] / 1000, t["max-ack-delay"] / 1000
    u = int(t["max-unacked-clients"])
    fail = KEA_HTTP_TIMEOUT_S if link in (VANISHES, HANGS) else 0.0
    low = max(r - h, fail, 0.0 if u == 0 else a)
    high = max(r, fail) + h + fail + client_retry_s
    basis = (f"Kea: max-response-delay {r:g} s, heartbeat-delay {h:g} s"
             + (f", {fail:g} s HTTP timeout to a partner that {link}" if fail else "")
             + (f", more than {u} clients with secs > {a:g} s" if u else ", max-unacked-clients 0")
             + f", clients retry within {client_retry_s:g} s")
    return Prediction(round(low, 3), round(high, 3), basis)


def isc_takeover(lbms_s: float | None, client_retry_s: float) -> Prediction:
    lbms = ISC_DEFAULT_LBMS if lbms_s is None else lbms_s
    return Prediction(0.0, round(lbms + client_retry_s, 3),
                      f"dhcpd: the secondary answers once a client's secs exceeds load balance max seconds "
                      f"{lbms:g} s; clients retry within {client_retry_s:g} s")


def predict_takeover(server: str, ha_timers: dict[str, float], link: str | None,
                     client_retry_s: float) -> Prediction | None:
    """The takeover interval for a fault that leaves the peer link as ``link``; None when the
    fault takes no server down (nothing to predict) or the server kind has no model here."""
    if link is None:
        return None
    if server == "kea":
        return kea_takeover(ha_timers, link, client_retry_s)
    if server == "isc-dhcp":
        return isc_takeover(ha_timers.get("load balance max seconds"), client_retry_s)
    return None


ANSWER_S = 1.0  # a serving server's DISCOVER-OFFER-REQUEST-ACK, with room for a busy moment
# dhcpd pings an address before it offers it to a new client and waits ping-timeout (default 1 s,
# dhcpd.conf(5) ping-check) for no echo: a CI run on 2026-12-07 saw every such OFFER 1.000 s after its
# DISCOVER, and a limit without it failed a healthy freeze by 3 ms.
ISC_PING_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ServiceGap:
    """How long a client may wait for an answer while a server serves: ``answer_s`` for any
    exchange; ``hand_back_s`` for one that meets a heal before both servers are normal again (a
    Kea hand-back, during which neither server serves for a while); ``give_up_s`` more for one in
    which the client first retransmitted a REQUEST until it gave up (the server it named had
    stopped answering: an OFFER taken just before a fault or a hand-back)."""

    answer_s: float
    hand_back_s: float
    give_up_s: float
    basis: str

    def as_prediction(self) -> dict[str, object]:
        """The ``prediction`` event a drill records before it starts, so that re-judging it
        later reads the limit it was judged by."""
        return {"of": "service-gap", "high_s": self.answer_s, "hand_back_s": self.hand_back_s,
                "give_up_s": self.give_up_s, "basis": self.basis}


def _answered_after(silent: float, retransmit: tuple[float, ...], answer_s: float = ANSWER_S) -> float:
    """When a client that began asking as a silence began is answered: at its first
    retransmission after the silence, within ``answer_s``."""
    sent, k = 0.0, 0
    while sent <= silent:
        sent, k = sent + retransmit[min(k, len(retransmit) - 1)], k + 1
    return sent + answer_s


def service_gap(retransmit: tuple[float, ...], server: str, ha_timers: dict[str, float]) -> ServiceGap:
    """What a serving pair's own rules allow a waiting client. A client asking a server that
    serves it is answered at its next retransmission at the latest (the longest backoff step,
    then the exchange within ``ANSWER_S``). Some silences are the pair's rule, and the client is
    answered at its first retransmission after one: dhcpd answers a client of its partner's half
    only once its ``secs`` exceed ``load balance max seconds`` (at any time after a fault); Kea
    hands back after a heal one heartbeat per state, so for up to two ``heartbeat-delay`` neither
    server serves (only then: elsewhere a Kea server that serves answers at once). A client whose
    REQUEST names a server that stopped answering sends it ``REQUEST_TRIES`` times on its backoff
    before it starts over with DISCOVER."""
    within = ANSWER_S + (ISC_PING_TIMEOUT_S if server == "isc-dhcp" else 0.0)
    answer = max(retransmit) + within
    basis = f"a serving server answers at the client's next retransmission (at most {max(retransmit):g} s) " \
            f"within {within:g} s" + (f" (dhcpd's ping-check waits {ISC_PING_TIMEOUT_S:g} s before an OFFER)"
                                     if server == "isc-dhcp" else "")
    hand_back = answer
    if server == "isc-dhcp":
        lbms = ha_timers.get("load balance max seconds")
        silent = ISC_DEFAULT_LBMS if lbms is None else float(lbms)
        if _answered_after(silent, retransmit, within) > answer:
            answer = hand_back = _answered_after(silent, retransmit, within)
            basis = (f"after the pair's own silence of {silent:g} s (load balance max seconds) a client is answered "
                     f"at its retransmission {answer - within:g} s into its exchange, within {within:g} s (dhcpd's "
                     f"ping-check waits {ISC_PING_TIMEOUT_S:g} s before an OFFER)")
    elif server == "kea":
        silent = 2 * float({**KEA_DEFAULTS, **{k: v for k, v in ha_timers.items() if v is not None}}[
            "heartbeat-delay"]) / 1000
        if _answered_after(silent, retransmit) > answer:
            hand_back = _answered_after(silent, retransmit)
            basis += (f"; from a heal until both servers are normal again {hand_back:g} s: after a hand-back's "
                      f"silence of {silent:g} s (two heartbeat-delays) at the client's retransmission "
                      f"{hand_back - ANSWER_S:g} s into its exchange")
    tries = [retransmit[min(k, len(retransmit) - 1)] for k in range(REQUEST_TRIES)]
    basis += (f"; {sum(tries):g} s more after a REQUEST to a server that stopped answering ({REQUEST_TRIES} tries, "
              f"{' + '.join(f'{g:g}' for g in tries)} s, then DISCOVER)")
    return ServiceGap(round(answer, 3), round(hand_back, 3), round(sum(tries), 3), basis)


@dataclass(frozen=True)
class Window:
    """How long a drill watches after its fault, and why."""

    observe_s: float
    reason: str


def observation_window(base_s: float, prediction: Prediction | None, max_takeover_s: float | None,
                       margin_s: float) -> Window:
    """The scenario's own window, stretched to see the slowest takeover the config allows and
    the pair's own threshold, each plus ``margin_s`` for the clients to be served afterwards."""
    needs = [(base_s, "the scenario's window")]
    if prediction is not None:
        needs.append((prediction.high_s + margin_s, f"the slowest predicted takeover ({prediction.high_s:g} s) "
                                                    f"+ {margin_s:g} s"))
    if max_takeover_s is not None:
        needs.append((max_takeover_s + margin_s, f"max_takeover_s ({max_takeover_s:g} s) + {margin_s:g} s"))
    seconds, why = max(needs, key=lambda n: n[0])
    return Window(round(seconds, 1), why)


WAKE_AFTER_FAULT_S = 1.0


def wake_after(renew_s: float | None, observe_s: float) -> float | None:
    """When to make the steady clients renew on demand (seconds after the fault), or None when
    their own T1 comes round inside the window anyway. With production lease times (hours) no
    client would renew or rebind during a drill, and continuity could not be judged at all."""
    if renew_s is None or renew_s < observe_s - 5:
        return None
    return WAKE_AFTER_FAULT_S


WAKE_REBIND_AFTER_S = 10.0  # a woken client's T2, after its unicast renew (the agent's wake_rebind_after_s)
WAKE_AFTER_HEAL_S = 10.0  # when the pair states no max_heal_to_normal_s
ANSWER_MARGIN_S = 10.0  # after a woken client's rebind: time for it to be answered


@dataclass(frozen=True)
class HealWatch:
    """How long a drill watches after the heal, and when in it (seconds after the heal) the
    steady clients are woken; ``wake_s`` None: their own T1 comes round in the watch anyway.
    ``settles``: the drill judges the clients after the heal, so it then waits (``drill._settle``)
    until each has been answered since."""

    seconds: float
    wake_s: float | None = None
    reason: str = ""
    settles: bool = False


def heal_watch(renew_s: float | None, after_heal_s: float, heal_to_normal_s: float | None) -> HealWatch:
    """The watch after a heal for a drill that judges the clients' leases after it. With production
    lease times (T1 of hours) no client speaks to the returning server in a drill, so a failback's
    continuity could only ever be unknown: the clients are woken once the pair should be back in
    its normal state (its ``max_heal_to_normal_s``), and the watch lasts until a woken client's
    rebind, which any server may answer, has had time to be answered."""
    if renew_s is None or renew_s < after_heal_s - 5:
        return HealWatch(after_heal_s, settles=True)
    wake = heal_to_normal_s if heal_to_normal_s is not None else WAKE_AFTER_HEAL_S
    seconds = max(after_heal_s, wake + WAKE_REBIND_AFTER_S + ANSWER_MARGIN_S)
    return HealWatch(round(seconds, 1), round(float(wake), 1),
                     f"T1 ({renew_s:g} s) falls after the {after_heal_s:g} s watch: clients woken {wake:g} s after "
                     f"the heal ({'max_heal_to_normal_s' if heal_to_normal_s is not None else 'the default'}), "
                     f"rebinding {WAKE_REBIND_AFTER_S:g} s later", settles=True)


def ready_timeout(server: str, ha_timers: dict[str, float], floor_s: float = 60.0) -> float:
    """How long a fresh pair may take to reach its normal state: a Kea server passes waiting,
    syncing and ready one heartbeat at a time (a few heartbeat-delays), a dhcpd pair settles within
    max-response-delay; never less than ``floor_s``."""
    if server == "kea":
        h = float(ha_timers.get("heartbeat-delay", KEA_DEFAULTS["heartbeat-delay"])) / 1000
        return max(floor_s, 4 * h + KEA_HTTP_TIMEOUT_S)
    return max(floor_s, 2 * float(ha_timers.get("max-response-delay", 0)))
