"""One way to wait for readiness: ask again until the answer is ready or the time is over.

Every wait in the harness for something to come up (a daemon answering its control channel, a
database accepting connections, the clients holding leases, a fault's evidence appearing) is
``until``: the condition is asked at once, then every ``every`` seconds until ``done`` says its
answer is ready or ``timeout`` seconds have passed since the first ask (tenacity's
``stop_after_delay``: the last ask may begin just before the time is over). An exception the
condition raises is not retried: it ends the wait as it is.

Only readiness is waited for this way, never a verdict or an assertion: a caller that times out
gets ``NotReady`` (a ``LabError``) naming what it waited for and for how long, with the last
answer, and records or raises what it means.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from tenacity import RetryError, retry, retry_if_result, stop_after_delay, wait_fixed

from .problems import LabError

T = TypeVar("T")


class NotReady(LabError):
    """A wait ran out: ``what`` was not ready within ``timeout`` s; ``last`` is the last answer."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"gave up waiting for {what} after {timeout:g} s")
        self.what, self.timeout, self.last = what, timeout, last


def until(condition: Callable[[], T], *, timeout: float, every: float, what: str,
          done: Callable[[T], bool] = bool) -> T:
    """The first answer of ``condition`` that ``done`` accepts (by default: a truthy one), asking
    every ``every`` s for up to ``timeout`` s; raises ``NotReady`` with the last answer after."""
    ask = retry(stop=stop_after_delay(timeout), wait=wait_fixed(every),
                retry=retry_if_result(lambda answer: not done(answer)))(condition)
    try:
        return ask()
    except RetryError as exc:
        raise NotReady(what, timeout, exc.last_attempt.result()) from None
