"""The current UTC date, in a module small enough for dashboard kernels to import without the sync stack."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today_utc() -> date:
    return datetime.now(UTC).date()
