"""One limiter per process for every request to NCBI.

NCBI counts requests per IP over a sliding second (3/s, 10/s with an API key) and answers 429
beyond that. Two rules keep us under it with a margin, whatever the number of threads:

- request starts are spaced at least ``SPACING / rate`` apart (0.37 s at 3/s, the spacing
  Biopython found safe), so network jitter between us and NCBI cannot squeeze them together;
- of any ``floor(rate)`` + 1 consecutive starts, the last comes more than one second (plus a
  margin) after the first, so no sliding one-second window ever holds more than ``floor(rate)``,
  also for rates that are not whole numbers.

A start is recorded when it is granted (not when it was first asked for), so a caller that wakes
up late - the GIL, a busy machine - pushes the next start back instead of squeezing two requests
closer together than the spacing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from harvester.retry import STOP_SLICE_S, sleep_interruptibly

SPACING = 1.11  # 1/3 s * 1.11 = 0.37 s
WINDOW_MARGIN_S = 0.05


class RateLimiter:
    def __init__(self, rate_per_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be more than 0")
        self.rate = float(rate_per_s)
        self.burst = max(1, math.floor(self.rate))
        self.interval = SPACING / self.rate
        self._clock = clock
        self._lock = threading.Lock()
        self._starts: deque[float] = deque(maxlen=self.burst)

    def _earliest(self) -> float:
        t = -math.inf
        if self._starts:
            t = self._starts[-1] + self.interval
        if len(self._starts) == self.burst:
            t = max(t, self._starts[0] + 1.0 + WINDOW_MARGIN_S)
        return t

    def try_start(self) -> float:
        """Record a start now and return 0 if one is allowed now; else return how long to wait
        before asking again (nothing recorded)."""
        with self._lock:
            now = self._clock()
            earliest = self._earliest()
            if now >= earliest:
                self._starts.append(now)
                return 0.0
            return earliest - now

    def wait(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Block until this caller may start a request. With ``should_stop``, the wait is
        abandoned (harvester.retry.Interrupted) as soon as it returns True."""
        while True:
            sleep_interruptibly(0, should_stop, what="waiting for the rate limit")
            delay = self.try_start()
            if delay <= 0:
                return
            # Short sleeps: another thread may take the slot first, then we simply wait again.
            sleep_interruptibly(min(delay, STOP_SLICE_S), should_stop,
                                what="waiting for the rate limit")
