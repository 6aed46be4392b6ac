"""The shared rate limiter never lets more than floor(rate) requests start in any second."""

from __future__ import annotations

import bisect
import threading
import time

import pytest

from harvester.ratelimit import RateLimiter
from harvester.retry import Interrupted


def most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def starts_with(lim: RateLimiter, clock: FakeClock, n: int, lateness: float = 0.0) -> list[float]:
    """n callers in a row, each waking ``lateness`` seconds after it was told to."""
    out = []
    for _ in range(n):
        while (delay := lim.try_start()) > 0:
            clock.now += delay + lateness
        out.append(clock.now)
    return out


@pytest.mark.parametrize("rate,most", [(3, 3), (10, 10), (2.5, 2), (0.5, 1), (1, 1)])
def test_starts_respect_the_window(rate, most):
    clock = FakeClock()
    lim = RateLimiter(rate, clock=clock)
    starts = starts_with(lim, clock, 60)
    assert most_in_any_second(starts) == most
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 1.0 / rate
    # a caller that comes after a pause starts at once
    clock.now = starts[-1] + 10
    assert lim.try_start() == 0


def test_a_late_caller_pushes_the_next_start_back():
    clock = FakeClock()
    lim = RateLimiter(3, clock=clock)
    starts = starts_with(lim, clock, 30, lateness=0.2)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.37 - 1e-9
    assert most_in_any_second(starts) <= 3


def test_spacing_is_biopythons_at_three_per_second():
    clock = FakeClock()
    a, b = starts_with(RateLimiter(3, clock=clock), clock, 2)
    assert b - a == pytest.approx(0.37)


def test_threads_share_one_budget():
    lim = RateLimiter(20)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            lim.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 30
    assert most_in_any_second(starts) <= 20


def test_wait_is_interruptible():
    lim = RateLimiter(0.1)  # one request every 11 s
    lim.wait()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(Interrupted):
        lim.wait(stop.is_set)
    assert time.monotonic() - t0 < 1.0


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(0)
