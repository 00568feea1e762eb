"""JSON bodies of the artist endpoints, built from :mod:`soundcharts_lib.warehouse.artist_series`: followers are
points with their daily change (running totals), monthly listeners plain values (they go up and down: a change
between two days says little)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from soundcharts_lib.warehouse import artist_series
from soundcharts_lib.warehouse.audience_series import NotStored
from soundcharts_lib.web.payload import growth_rows, iso, points
from soundcharts_lib.web.query import ArtistQuery

ARTIST_FIELDS = ("uuid", "name", "country_code", "career_stage", "growth_level")


def _shown(frame: pd.DataFrame, kind: str, limit: int) -> list[dict]:
    found = points(frame, limit)
    return found if kind == "followers" else [{"date": p["date"], "value": p["value"]} for p in found]


def _head(info: dict, q: ArtistQuery) -> dict:
    artist = {name: info[name] or None for name in ARTIST_FIELDS}  # the API's "" for unknown is null here
    return {"artist": artist, "start_date": iso(q.start), "end_date": iso(q.end), "limit": q.limit}


def artist(engine: Engine, q: ArtistQuery) -> dict:
    """The artist with ``{"followers": {platform: points}, "listeners": {platform: values}}``, the most recent
    ``limit`` of the range on every platform holding some."""
    info = artist_series.artist_info(engine, q.artist_uuid)
    return {**_head(info, q), **{kind: {slug: _shown(frame, kind, q.limit) for slug, frame in
                                        artist_series.series(engine, info["id"], kind, start=q.start,
                                                             end=q.end).items() if len(frame)}
                                 for kind in artist_series.KINDS}}


def one_platform(engine: Engine, q: ArtistQuery) -> dict:
    """One platform: per kind, the points in range (the most recent ``limit``), how many there are and the growth
    up to ``end_date``; ``NotStored`` when the platform holds neither series of the artist."""
    info = artist_series.artist_info(engine, q.artist_uuid)
    body = {**_head(info, q), "platform": q.platform}
    for kind in artist_series.KINDS:
        history = artist_series.series(engine, info["id"], kind, q.platform, end=q.end)[q.platform]
        frame = history[history["date"] >= q.start] if q.start else history
        shown = _shown(frame, kind, q.limit)
        body[kind] = {"total": len(frame), "count": len(shown), "points": shown, "growth": growth_rows(history)}
    if not body["followers"]["growth"][0]["to_date"] and not body["listeners"]["growth"][0]["to_date"]:
        raise NotStored(f"no followers or monthly listeners of artist {q.artist_uuid} are stored on {q.platform!r}"
                        f"{' up to ' + q.end.isoformat() if q.end else ''}")
    return body
