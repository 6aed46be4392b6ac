"""SIGTERM/SIGINT during a harvest: stop at the next safe point instead of dying mid-write.

A service manager stops a job with SIGTERM (then SIGKILL after a grace period, 90 s for systemd);
a person presses Ctrl-C. Either way the harvest should abandon the HTTP request in flight, let a
batch that is already being committed finish, checkpoint, mark the run interrupted and exit 0.
The handler therefore only sets a flag: the E-utilities client polls it (``should_stop``) while
waiting for the rate limiter, for backoff and for a response, and the harvest loop checks it
between batches. A second signal means "really stop now" and raises KeyboardInterrupt; even then
SQLite's transaction and the lock (flock) keep the state consistent.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class StopFlag:
    """Set by a signal (or by code that wants the harvest to stop); read by everything else."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    def set(self, reason: str = "stop requested") -> None:
        if self.signal_name is None:
            self.signal_name = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    __call__ = is_set  # usable directly as the client's should_stop callable

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


@contextmanager
def stop_on_signals(flag: StopFlag,
                    signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[StopFlag]:
    """Route SIGTERM/SIGINT to ``flag`` for the duration of the block; restore handlers after.

    Signal handlers can only be installed from the main thread; elsewhere (a harvest run inside a
    scheduler thread) the block runs without them and the caller's own handling applies.
    """
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set(signal.Signals(signum).name)

    previous: dict[int, Any] = {}
    for s in signums:
        previous[s] = signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
