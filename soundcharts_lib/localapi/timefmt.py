"""Date formats of the API: ATOM strings out, ``YYYY-MM-DD`` and ATOM-ish path segments in."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_TIME = r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\- ]\d{2}:?\d{2})?"
_RANKING_DATE = re.compile(rf"(\d{{4}}-\d{{2}}-\d{{2}})(?:{_TIME})?")


def atom_utc(day: dt.date) -> str:
    """Chart dates: ``2025-03-14T00:00:00+00:00``."""
    return f"{day.isoformat()}T00:00:00+00:00"


def atom_noon(day: dt.date) -> str:
    """Entry dates on some charts (the sandbox's spelling): ``2025-03-14T12:00:00+00:00``."""
    return f"{day.isoformat()}T12:00:00+00:00"


def paris_midnight(day: dt.date) -> str:
    """Audience and release dates: local midnight in Paris (``+01:00`` in winter, ``+02:00`` in summer)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=PARIS).isoformat()


def parse_ymd(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` query value; ``ValueError`` otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def parse_ranking_date(segment: str) -> dt.date:
    """The ``{datetime}`` path segment (already percent-decoded): ATOM with ``+``, a space or ``Z``
    for the offset, or a plain date. The calendar day is the first ten characters."""
    match = _RANKING_DATE.fullmatch(segment.strip())
    if not match:
        raise ValueError(segment)
    return dt.date.fromisoformat(match.group(1))
