"""RFC 8415's client timing for the DHCPv6 engine: retransmission backoff and Elapsed Time.

Pure functions, copied beside ``agent6.py`` into the client container (standard library only).
A Kea HA standby decides its partner is down only from clients whose Elapsed Time rises past
max-ack-delay, so these are what make a takeover happen the way it would in production.
"""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """One message's retransmission parameters (RFC 8415 section 7.6): initial and maximum
    retransmission time, maximum count (0: unlimited) and maximum duration (0: unlimited), seconds."""

    irt: float
    mrt: float
    mrc: int = 0
    mrd: float = 0.0


SOLICIT = Backoff(irt=1.0, mrt=3600.0)           # SOL_TIMEOUT, SOL_MAX_RT
REQUEST = Backoff(irt=1.0, mrt=30.0, mrc=10)     # REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC
RENEW = Backoff(irt=10.0, mrt=600.0)             # REN_TIMEOUT, REN_MAX_RT; MRD: until T2
REBIND = Backoff(irt=10.0, mrt=600.0)            # REB_TIMEOUT, REB_MAX_RT; MRD: until valid lifetimes end
RELEASE = Backoff(irt=1.0, mrt=0.0, mrc=4)       # REL_TIMEOUT, REL_MAX_RC
RAND_SPAN = 0.1                                  # RAND is uniform in [-0.1, +0.1]
ELAPSED_MAX = 0xFFFF                             # hundredths of a second; the option saturates there


def jitter(rng: random.Random, first_solicit: bool = False) -> float:
    """RAND: uniform in [-0.1, 0.1]; strictly positive for the first Solicit (section 18.2.1)."""
    if first_solicit:
        return rng.uniform(1e-6, RAND_SPAN)
    return rng.uniform(-RAND_SPAN, RAND_SPAN)


def next_rt(previous: float | None, backoff: Backoff, rand: float) -> float:
    """The next retransmission timeout: IRT + RAND*IRT first, then 2*RTprev + RAND*RTprev, and
    MRT + RAND*MRT once past a maximum (section 15)."""
    if previous is None:
        rt = backoff.irt + rand * backoff.irt
    else:
        rt = 2 * previous + rand * previous
    if backoff.mrt and rt > backoff.mrt:
        rt = backoff.mrt + rand * backoff.mrt
    return rt


def retransmission_times(backoff: Backoff, rands: list[float], duration: float | None = None) -> list[float]:
    """When each transmission happens, from the first (0.0), for the given RAND draws, cut at
    MRC transmissions and at the message's duration (``duration`` overrides MRD: Renew's ends at T2)."""
    limit = duration if duration is not None else (backoff.mrd or None)
    times, t, rt = [0.0], 0.0, None
    for rand in rands:
        rt = next_rt(rt, backoff, rand)
        t += rt
        if backoff.mrc and len(times) >= backoff.mrc:
            break
        if limit is not None and t >= limit:
            break
        times.append(t)
    return times


def elapsed_hundredths(began: float, now: float) -> int:
    """The Elapsed Time option's value: hundredths of a second since the exchange's first message
    (0 in that first message), saturating at 0xFFFF (section 21.9)."""
    return max(0, min(ELAPSED_MAX, int(round((now - began) * 100))))


def renew_times(t1: int, t2: int, preferred: int) -> tuple[float, float]:
    """When to Renew and Rebind for an IA: the server's T1 and T2, or, where it left them 0, 0.5
    and 0.8 of the shortest preferred lifetime (section 21.4's recommendation)."""
    renew = float(t1) if t1 else 0.5 * preferred
    rebind = float(t2) if t2 else 0.8 * preferred
    return renew, max(rebind, renew)


def choose_advertise(advertises: list[dict]) -> dict | None:
    """The Advertise a client takes among those collected in its first Solicit's timeout: the
    highest Preference, the first received among equals (section 18.2.9). Advertises without an
    address or prefix offered are not taken."""
    usable = [a for a in advertises if a.get("addresses") or a.get("prefixes")]
    if not usable:
        return None
    best = max(a.get("preference", 0) for a in usable)
    return next(a for a in usable if a.get("preference", 0) == best)
