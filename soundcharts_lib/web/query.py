"""The endpoints' path and query parameters, checked; a bad one is a :class:`BadParameter` (HTTP 400)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.vocab import SLUG_RE, UUID_RE, parse_date

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000


class BadParameter(SoundchartsError, ValueError):
    """A parameter the endpoint cannot use (one-line message)."""


class NoRoute(SoundchartsError, LookupError):
    """A path under the endpoints' prefix that names no endpoint."""


@dataclass(frozen=True)
class ChartQuery:
    track_uuid: str
    platform: str | None
    start: date | None
    end: date | None
    limit: int


def _date(name: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a date as YYYY-MM-DD, got {raw[:40]!r}") from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise BadParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw[:40]!r}")
    value = int(raw)
    if not 1 <= value <= MAX_LIMIT:
        raise BadParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {value}")
    return value


def parse(rest: str, args: dict[str, str | None]) -> ChartQuery:
    """``rest`` = the path after ``/soundcharts/audience/chart/``; ``args`` = query values by name."""
    parts = rest.split("/")
    if parts and parts[-1] == "":
        parts.pop()
    if len(parts) not in (1, 2):
        raise NoRoute("no such endpoint: use /soundcharts/audience/chart/{track_uuid}/[{platform_slug}/]")
    if not UUID_RE.fullmatch(parts[0]):
        raise BadParameter(f"track_uuid is not a SoundCharts UUID: {parts[0][:60]!r}")
    platform = parts[1] if len(parts) == 2 else None
    if platform is not None and (len(platform) > 64 or not SLUG_RE.fullmatch(platform)):
        raise BadParameter(f"platform_slug is not a platform code: {platform[:60]!r}")
    start, end = _date("start_date", args.get("start_date")), _date("end_date", args.get("end_date"))
    if start and end and start > end:
        raise BadParameter(f"start_date {start} is after end_date {end}")
    return ChartQuery(parts[0].lower(), platform, start, end, _limit(args.get("limit")))
