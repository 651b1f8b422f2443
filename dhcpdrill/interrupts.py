"""Steps a Ctrl-C (or the plugin's SIGTERM, which it turns into one) must not cut in half.

An interrupt unwinds a drill through its heal and its teardown. A second interrupt that lands
inside one of them would leave a fault half lifted (a CPU quota, a firewall rule, a stopped
database) or a lab half removed. ``held`` keeps SIGINT and SIGTERM waiting while such a step runs
and raises the interrupt once it is done, so every step that began finishes.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def held() -> Iterator[None]:
    """SIGINT and SIGTERM (where they raise ``KeyboardInterrupt``) wait until the block ends, then
    raise it. Outside the main thread, or with handlers of someone else's, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    before = {sig: signal.getsignal(sig) for sig in HELD}
    ours = [sig for sig, handler in before.items() if handler is signal.default_int_handler]
    for sig in ours:
        signal.signal(sig, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        for sig in ours:
            signal.signal(sig, before[sig])
        if arrived:  # raised even over the step's own error: an interrupt is never lost
            raise KeyboardInterrupt(f"{signal.Signals(arrived[0]).name} while a heal or teardown ran (held until it ended)")
