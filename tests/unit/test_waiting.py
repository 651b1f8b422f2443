"""The one readiness wait (``waiting.until``): first ready answer, the last answer and a message
naming what was awaited and for how long when the time is over, exceptions not retried."""
import time

import pytest

from dhcpdrill.problems import LabError
from dhcpdrill.waiting import NotReady, until


def answers(*values):
    it = iter(values)
    asked = []

    def condition():
        asked.append(time.monotonic())
        return next(it)
    return condition, asked


def test_the_first_truthy_answer_is_returned_and_nothing_is_asked_after_it():
    condition, asked = answers(None, 0, "", "ready", "never asked")
    assert until(condition, timeout=5, every=0.01, what="x") == "ready"
    assert len(asked) == 4


def test_done_decides_what_counts_as_ready_and_its_answer_is_returned_whole():
    condition, _ = answers((False, "starting"), (True, "accepting connections"))
    assert until(condition, done=lambda r: r[0], timeout=5, every=0.01, what="x") == (True, "accepting connections")
    condition, _ = answers(0, 0, 7)  # a falsy answer can be the ready one
    assert until(condition, done=lambda n: n is not None, timeout=5, every=0.01, what="x") == 0


def test_a_wait_that_runs_out_names_what_and_how_long_and_keeps_the_last_answer():
    states = iter(["unreachable", "waiting", "syncing"] + ["syncing"] * 1000)
    began = time.monotonic()
    with pytest.raises(NotReady) as caught:
        until(lambda: next(states), done=lambda s: s == "hot-standby", timeout=0.15, every=0.02,
              what="both servers in hot-standby")
    took = time.monotonic() - began
    assert str(caught.value) == "gave up waiting for both servers in hot-standby after 0.15 s"
    assert caught.value.last == "syncing" and caught.value.timeout == 0.15
    assert isinstance(caught.value, LabError)  # callers that stop a drill on a lab that never came up keep doing so
    assert 0.15 <= took < 1.0


def test_it_asks_every_so_often_not_in_a_busy_loop():
    asked = []
    with pytest.raises(NotReady):
        until(lambda: asked.append(time.monotonic()), timeout=0.2, every=0.05, what="x")
    assert 3 <= len(asked) <= 6
    assert all(b - a >= 0.045 for a, b in zip(asked, asked[1:]))


def test_a_zero_timeout_asks_once():
    condition, asked = answers(None, "late")
    with pytest.raises(NotReady):
        until(condition, timeout=0, every=0.01, what="x")
    assert len(asked) == 1


def test_an_exception_in_the_condition_ends_the_wait_as_it_is():
    calls = []

    def condition():
        calls.append(1)
        raise KeyError("no clients container")
    with pytest.raises(KeyError):
        until(condition, timeout=5, every=0.01, what="x")
    assert len(calls) == 1
