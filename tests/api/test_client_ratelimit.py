"""The client-side rate limiter with an injected clock, and under real threads."""

from __future__ import annotations

import threading
import time
from collections import deque

import pytest

from soundcharts_lib.api.ratelimit import RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_slots_are_evenly_spaced():
    t = FakeTime()
    limiter = RateLimiter(600, clock=t.clock, sleep=t.sleep)  # one slot every 0.1 s
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(t.now)
    assert starts == pytest.approx([1000.0, 1000.1, 1000.2, 1000.3, 1000.4])


def test_idle_time_is_not_saved_up_as_a_burst():
    t = FakeTime()
    limiter = RateLimiter(60, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    t.now += 3600
    limiter.acquire()
    assert t.sleeps == []
    limiter.acquire()
    assert t.sleeps == pytest.approx([1.0])


def test_no_60_second_window_holds_more_than_the_limit():
    t = FakeTime()
    limit = 120
    limiter = RateLimiter(limit, clock=t.clock, sleep=t.sleep)
    window: deque[float] = deque()
    for _ in range(3 * limit):
        limiter.acquire()
        window.append(t.now)
        while window[0] <= t.now - 60:
            window.popleft()
        assert len(window) <= limit
    assert t.now - 1000.0 == pytest.approx((3 * limit - 1) * 0.5)


def test_defer_holds_every_slot_back():
    t = FakeTime()
    limiter = RateLimiter(600, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    limiter.defer(5)
    limiter.acquire()
    assert t.now == pytest.approx(1005.0)
    limiter.defer(1)  # already-reserved slots are never moved earlier
    assert limiter.reserve() == pytest.approx(1.0)


def test_reservations_from_threads_never_share_a_slot():
    t = FakeTime()
    limiter = RateLimiter(6000, clock=t.clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            w = limiter.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(round(w / 0.01) for w in waits) == list(range(800))


def test_real_threads_are_paced():
    limiter = RateLimiter(1200)  # 20 per second
    started = time.monotonic()
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stamps.sort()
    assert len(stamps) == 20
    assert all(stamp >= i * 0.05 - 0.005 for i, stamp in enumerate(stamps))  # the i-th call waits i slots


def test_rejects_a_non_positive_rate():
    with pytest.raises(ValueError):
        RateLimiter(0)
