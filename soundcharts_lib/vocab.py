"""The current UTC date and the one date format of the command line, the JSON endpoints and the pages' links, in a
module small enough for dashboard kernels to import without the sync stack."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from soundcharts_lib.errors import ConfigError

DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # ASCII digits only: not 20250101, not "２０２６-01-01"


def today_utc() -> date:
    return datetime.now(UTC).date()


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` (the whole string, a real day); ``ValueError`` otherwise."""
    if not isinstance(text, str) or not DATE_RE.match(text):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)


def check_not_after(day: date | None, today: date, what: str) -> None:
    """``ConfigError`` for a ``day`` after ``today``: the API has nothing for it yet."""
    if day is not None and day > today:
        raise ConfigError(f"{what} {day} is after today ({today}, UTC)")
