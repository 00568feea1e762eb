"""Client-side rate limiter: calls paced evenly, shared by the threads of one client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Hands out one call slot every ``60 / per_minute`` seconds (no bursts).

    Evenly spaced slots keep any 60-second window at or under ``per_minute`` calls, whichever way
    the server counts (sliding window, fixed minute or token bucket). Thread-safe: each caller
    reserves the next free slot under a lock, then sleeps outside it until its slot comes.
    """

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_minute = per_minute
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_slot = float("-inf")
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Claim the next slot; return how many seconds to wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            return slot - now

    def acquire(self) -> None:
        """Block until this caller's slot comes."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def defer(self, seconds: float) -> None:
        """Give out no slot for ``seconds`` from now (the server asked us to wait)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)
