"""Knobs of the local SoundCharts-compatible server (catalog, credentials, quota, faults)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

FAULT_KINDS = ("5xx", "timeout", "reset", "malformed", "ratelimit")
UNLIMITED_QUOTA_HEADER = 1_000_000_000
MAX_INT64 = 2 ** 63 - 1
RANGES = {  # field: (lowest, highest); a number out of its range is a ValueError naming it
    "port": (0, 65535), "seed": (0, MAX_INT64), "fault_seed": (0, MAX_INT64), "history_days": (1, 36_500),
    "quota": (0, MAX_INT64), "rate_limit_per_minute": (1, MAX_INT64), "latency_ms": (0, 3_600_000),
    "timeout_seconds": (0, 3600), "fault_rate": (0, 1),
}


@dataclass
class LocalApiConfig:
    """Everything the local server can be told; the defaults give a healthy, unlimited sandbox.

    ``today`` fixes the catalog's "now" (default: the real UTC date); the same ``seed`` and ``today``
    give byte-identical responses. ``quota=None`` means unlimited (``x-quota-remaining`` then always
    reads ``1000000000``). ``fault_rate`` is the share of requests (outside ``/__localapi`` and
    ``/oauth/token``) that get one of ``fault_kinds``, drawn from a RNG seeded with ``fault_seed``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    today: dt.date | None = None
    history_days: int = 400
    tidy: bool = False
    app_id: str = "soundcharts"
    api_key: str = field(default="soundcharts", repr=False)
    client_id: str = "soundcharts"
    client_secret: str = field(default="soundcharts", repr=False)
    token_ttl: float = 3600
    quota: int | None = None
    rate_limit_per_minute: int | None = None
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    fault_seed: int = 0
    timeout_seconds: float = 5.0
    latency_ms: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fault_kinds) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; choose from {list(FAULT_KINDS)}")
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"{name} must be from {low} to {high}, got {value}")
        if not (math.isfinite(self.token_ttl) and 0 < self.token_ttl <= 365 * 86400):
            raise ValueError(f"token_ttl must be more than 0 and at most {365 * 86400} seconds, got {self.token_ttl}")
        if self.fault_rate and not self.fault_kinds:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        self.fault_kinds = tuple(self.fault_kinds)

    def effective_today(self) -> dt.date:
        """The catalog's current date: ``today`` or the real UTC date."""
        return self.today or dt.datetime.now(dt.UTC).date()
