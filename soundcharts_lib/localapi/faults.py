"""Seeded fault injection: which request fails, and how.

Kinds: ``5xx`` (500/502/503/504 with the error envelope), ``timeout`` (sleep ``timeout_seconds`` then answer
normally), ``reset`` (close the socket without a response), ``malformed`` (200 with truncated JSON),
``ratelimit`` (the rate-limit 429 with ``x-ratelimit-reset: 1``). One RNG seeded with ``fault_seed`` decides,
so the same request sequence meets the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .config import LocalApiConfig

SERVER_ERRORS = (500, 502, 503, 504)
MALFORMED_BODY = b'{"related": {"chart": {"name": "Top 200", "slug": "glo'


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 0


class FaultInjector:
    def __init__(self, config: LocalApiConfig):
        self._config = config
        self._rng = random.Random(config.fault_seed)
        self._lock = threading.Lock()

    def draw(self) -> Fault | None:
        """The fault for the next request, if any."""
        if not self._config.fault_rate:
            return None
        with self._lock:
            if self._rng.random() >= self._config.fault_rate:
                return None
            kind = self._rng.choice(self._config.fault_kinds)
            return Fault(kind, self._rng.choice(SERVER_ERRORS) if kind == "5xx" else 0)
