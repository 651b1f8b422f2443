"""Live progress: one line per drill phase with the time left; quiet in CI unless asked."""

from dhcpdrill.drill import Phases
from dhcpdrill.plugin import progress_wanted


def test_each_phase_says_elapsed_and_left():
    said = []
    phases = Phases("kea-hot-standby / kill-primary", 80.0, said.append)
    phases("starting servers")
    phases.start -= 90  # as if 90 s had passed
    phases("collecting evidence (logs, lease files)")
    assert said[0] == "kea-hot-standby / kill-primary: starting servers — 0 s in, about 80 s left"
    assert said[1].startswith("kea-hot-standby / kill-primary: collecting evidence (logs, lease files) — 90 s in, running over")


def test_progress_is_on_at_a_terminal_and_off_in_ci_unless_asked():
    assert progress_wanted("auto", True, {}) is True
    assert progress_wanted("auto", True, {"CI": "true"}) is False
    assert progress_wanted("auto", False, {}) is False
    assert progress_wanted("on", False, {"CI": "true"}) is True
    assert progress_wanted("off", True, {}) is False
