"""The chart, song and usage routes: path patterns (version segments included) -> handlers returning a 200 body
(:mod:`.routes` adds the artist and song-reach ones and resolves a path).

Choices the contract leaves open, made here:
- ranking for a date with no ranking -> 404 naming the chart and the date (no nearest-date fallback);
- audience/popularity: ``endDate`` defaults to today, ``startDate`` to ``endDate - 30 days``; a window
  longer than 90 days (``endDate - startDate > 90``) is a 400, as is start after end or a bad date;
  a song with no id on the platform (or an unknown ``identifier``) gives an empty collection, not a 404;
- popularity items are ``{date, plots[{identifier, value}]}`` (the contract's shape A), except for songs with the
  quirk ``popularity-flat`` (see :mod:`.artists`): ``{date, value}`` (shape B, the first plot's value);
- ``/api/v2/team/usage`` (free: not billed, not rate-limited) answers
  ``{"type": "usage", "object": {"quota": {"total", "used", "remaining"}, "rateLimit": {"limitPerMinute",
  "usedThisMinute"}}, "errors": []}`` (``total``/``remaining``/``limitPerMinute`` null when unlimited).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .catalog import Catalog
from .envelope import HttpError, Query, paginate
from .referential import AUDIENCE_PLATFORMS, CHART_PLATFORMS, POPULARITY_PLATFORMS, platform_items
from .timefmt import atom_utc, paris_midnight, parse_ranking_date, parse_ymd
from .views import chart_json, entry_json, identifier_json, song_ref, song_v2, song_v225

MAX_WINDOW_DAYS = 90
DEFAULT_WINDOW_DAYS = 30


class Context(Protocol):
    catalog: Catalog

    def usage(self) -> dict: ...


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern
    handler: Callable[..., dict]
    billed: bool = True


def _platforms(kind: str) -> Callable[..., dict]:
    return lambda ctx, query: paginate(query, platform_items(kind))


def _chart(ctx: Context, slug: str):
    chart = ctx.catalog.charts.get(slug)
    if chart is None:
        raise HttpError(404, "Chart not found")
    return chart


def find_song(ctx: Context, uuid: str):
    song = ctx.catalog.songs.get(uuid)
    if song is None:
        raise HttpError(404, "Song not found")
    return song


def charts_by_platform(ctx: Context, query: Query, platform: str) -> dict:
    if platform not in CHART_PLATFORMS:
        raise HttpError(404, "Platform not found")
    country = (query.get("countryCode") or "").upper()
    charts = [chart for chart in ctx.catalog.charts.values() if chart.platform == platform
              and (not country or (chart.country_code or "") == country)]
    return paginate(query, charts, convert=chart_json)


def _ranking_body(ctx: Context, query: Query, slug: str, day: dt.date) -> dict:
    chart = _chart(ctx, slug)
    entries = ctx.catalog.ranking(slug, day)
    if entries is None:
        raise HttpError(404, f"No ranking for chart '{slug}' on {day.isoformat()}; "
                              f"see /api/v2/chart/song/{slug}/available-rankings")
    related = {"chart": chart_json(chart, with_metric=True), "date": atom_utc(day)}
    return paginate(query, entries, related, convert=lambda entry: entry_json(entry, chart))


def ranking_latest(ctx: Context, query: Query, slug: str) -> dict:
    chart = _chart(ctx, slug)
    if not chart.dates:
        raise HttpError(404, f"No ranking available yet for chart '{slug}'")
    return _ranking_body(ctx, query, slug, chart.dates[-1])


def ranking_for_date(ctx: Context, query: Query, slug: str, when: str) -> dict:
    _chart(ctx, slug)
    try:
        day = parse_ranking_date(when)
    except ValueError:
        raise HttpError(400, f"Invalid date '{when}': expected YYYY-MM-DDTHH:MM:SS+HH:MM") from None
    return _ranking_body(ctx, query, slug, day)


def available_rankings(ctx: Context, query: Query, slug: str) -> dict:
    chart = _chart(ctx, slug)
    return paginate(query, chart.dates[::-1], chart_json(chart), convert=atom_utc)


def song_current(ctx: Context, query: Query, uuid: str) -> dict:
    return {"type": "song", "object": song_v225(find_song(ctx, uuid)), "errors": []}


def song_legacy(ctx: Context, query: Query, uuid: str) -> dict:
    return {"type": "song", "object": song_v2(find_song(ctx, uuid)), "errors": []}


def _flag(query: Query, name: str) -> bool:
    raw = (query.get(name) or "false").lower()
    if raw not in ("true", "1", "false", "0"):
        raise HttpError(400, f"Query parameter '{name}' must be true or false")
    return raw in ("true", "1")


def identifiers(ctx: Context, query: Query, uuid: str) -> dict:
    song = find_song(ctx, uuid)
    platform, only_default = query.get("platform"), _flag(query, "onlyDefault")
    rows = [ident for ident in song.identifiers
            if (platform is None or ident.platform == platform) and (ident.default or not only_default)]
    with_default = "no-default" not in song.quirks
    return paginate(query, rows, song_ref(song), convert=lambda ident: identifier_json(ident, with_default))


def _date_param(query: Query, name: str) -> dt.date | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return parse_ymd(raw)
    except ValueError:
        raise HttpError(400, f"Invalid {name} '{raw}': expected YYYY-MM-DD") from None


def date_window(query: Query, today: dt.date) -> tuple[dt.date, dt.date]:
    end = _date_param(query, "endDate") or today
    start = _date_param(query, "startDate") or end - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
    if start > end:
        raise HttpError(400, "startDate must not be after endDate")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise HttpError(400, f"The period from startDate to endDate cannot exceed {MAX_WINDOW_DAYS} days")
    return start, end


def _plots(kind: str, platforms: tuple[str, ...]) -> Callable[..., dict]:
    def handler(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
        song = find_song(ctx, uuid)
        if platform not in platforms:
            choices = ", ".join(platforms)
            raise HttpError(400, f"Invalid platform '{platform}' for song {kind}; use one of {choices}")
        start, end = date_window(query, ctx.catalog.today)
        wanted = query.get("identifier")
        flat = kind == "popularity" and "popularity-flat" in song.quirks
        items = []
        for day, plots in ctx.catalog.series(uuid, platform, kind):
            kept = [{"identifier": ident, "value": value} for ident, value in plots
                    if wanted in (None, ident)]
            if start <= day <= end and kept:
                shape = {"value": kept[0]["value"]} if flat else {"plots": kept}
                items.append({"date": paris_midnight(day), **shape})
        return paginate(query, items, song_ref(song))
    return handler


def usage(ctx: Context, query: Query) -> dict:
    return {"type": "usage", "object": ctx.usage(), "errors": []}


SEG = r"([^/]+)"
ROUTES = [Route(re.compile(pattern), handler, billed) for pattern, handler, billed in (
    (r"/api/v2/referential/platforms", _platforms("all"), True),
    (r"/api/v2/referential/platforms/social", _platforms("social"), True),
    (r"/api/v2/referential/platforms/streaming", _platforms("streaming"), True),
    (r"/api/v2/chart/song/platforms", _platforms("chart"), True),
    (rf"/api/v2/chart/song/by-platform/{SEG}", charts_by_platform, True),
    (rf"/api/v2\.14/chart/song/{SEG}/ranking/latest", ranking_latest, True),
    (rf"/api/v2\.14/chart/song/{SEG}/ranking/{SEG}", ranking_for_date, True),
    (rf"/api/v2/chart/song/{SEG}/available-rankings", available_rankings, True),
    (rf"/api/v2\.25/song/{SEG}", song_current, True),
    (rf"/api/v2/song/{SEG}", song_legacy, True),
    (rf"/api/v2/song/{SEG}/identifiers", identifiers, True),
    (rf"/api/v2/song/{SEG}/audience/{SEG}", _plots("audience", AUDIENCE_PLATFORMS), True),
    (rf"/api/v2/song/{SEG}/popularity/{SEG}", _plots("popularity", POPULARITY_PLATFORMS), True),
    (r"/api/v2/team/usage", usage, False),
)]
