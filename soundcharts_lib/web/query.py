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


@dataclass(frozen=True)
class ArtistQuery:
    artist_uuid: str
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


def _parts(rest: str) -> list[str]:
    parts = rest.split("/")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _uuid(name: str, raw: str) -> str:
    if not UUID_RE.fullmatch(raw):
        raise BadParameter(f"{name} is not a SoundCharts UUID: {raw[:60]!r}")
    return raw.lower()


def _platform(raw: str | None) -> str | None:
    if raw is not None and (len(raw) > 64 or not SLUG_RE.fullmatch(raw)):
        raise BadParameter(f"platform_slug is not a platform code: {raw[:60]!r}")
    return raw


def _range(args: dict[str, str | None]) -> tuple[date | None, date | None, int]:
    start, end = _date("start_date", args.get("start_date")), _date("end_date", args.get("end_date"))
    if start and end and start > end:
        raise BadParameter(f"start_date {start} is after end_date {end}")
    return start, end, _limit(args.get("limit"))


def parse(rest: str, args: dict[str, str | None]) -> ChartQuery:
    """``rest`` = the path after ``/soundcharts/audience/chart/``; ``args`` = query values by name."""
    parts = _parts(rest)
    if len(parts) not in (1, 2):
        raise NoRoute("no such endpoint: use /soundcharts/audience/chart/{track_uuid}/[{platform_slug}/]")
    uuid = _uuid("track_uuid", parts[0])
    return ChartQuery(uuid, _platform(parts[1] if len(parts) == 2 else None), *_range(args))


def parse_artist(rest: str, args: dict[str, str | None]) -> ArtistQuery:
    """``rest`` = the path after ``/soundcharts/artist/``; ``args`` = query values by name."""
    parts = _parts(rest)
    if len(parts) not in (1, 3) or (len(parts) == 3 and parts[1] != "audience"):
        raise NoRoute("no such endpoint: use /soundcharts/artist/{artist_uuid}/[audience/{platform_slug}/]")
    uuid = _uuid("artist_uuid", parts[0])
    return ArtistQuery(uuid, _platform(parts[2] if len(parts) == 3 else None), *_range(args))
