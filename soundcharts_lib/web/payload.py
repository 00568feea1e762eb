"""JSON bodies of the audience endpoints, built from :mod:`soundcharts_lib.warehouse.audience_series` results, with the
track's stored popularity (:func:`soundcharts_lib.warehouse.reach_pages.popularity`) over the same range."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from soundcharts_lib.warehouse import audience_series as series
from soundcharts_lib.warehouse import reach_pages
from soundcharts_lib.web.query import ChartQuery


def iso(value) -> str | None:
    return None if value is None else value.isoformat()


def growth_rows(history: pd.DataFrame) -> list[dict]:
    """Growth over 7, 28 and 90 days up to the last day of ``history`` (date, value), its dates as text."""
    return [{**g, "from_date": iso(g["from_date"]), "to_date": iso(g["to_date"])}
            for g in series.growth(history).values()]


def points(frame: pd.DataFrame, limit: int) -> list[dict]:
    """The last ``limit`` rows as ``{"date", "value", "daily_change"}`` (integers; null for no change)."""
    tail = frame.tail(limit)
    changes = tail["daily_change"].astype(object)
    return [{"date": d.isoformat(), "value": v, "daily_change": c}
            for d, v, c in zip(tail["date"], tail["value"].tolist(),
                               changes.where(changes.notna(), None).tolist(), strict=True)]


def popularity(engine: Engine, q: ChartQuery, platform: str | None = None) -> dict[str, list[dict]]:
    """``{platform: [{"date", "value"}]}``: the stored popularity in range, the most recent ``limit`` days each."""
    found = reach_pages.popularity(engine, q.track_uuid, None if platform is None else [platform], start=q.start,
                                   end=q.end)
    return {slug: [{"date": d.isoformat(), "value": int(v)} for d, v in frame.tail(q.limit).itertuples(index=False)]
            for slug, frame in found.items()}


def _track(engine: Engine, uuid: str) -> dict:
    info = series.track_info(engine, uuid)
    return {"uuid": info["uuid"], "name": info["name"], "credit_name": info["credit_name"]}


def _head(engine: Engine, q: ChartQuery) -> dict:
    return {"track": _track(engine, q.track_uuid), "start_date": iso(q.start), "end_date": iso(q.end),
            "limit": q.limit}


def one_platform(engine: Engine, q: ChartQuery) -> dict:
    """One platform: the points in range (the most recent ``limit``) and growth up to ``end_date``."""
    head = _head(engine, q)
    history = series.audience_series(engine, q.track_uuid, q.platform, end=q.end)
    frame = history[history["date"] >= q.start] if q.start else history
    pts = points(frame, q.limit)
    return {**head, "platform": q.platform, "total": len(frame), "count": len(pts), "points": pts,
            "growth": growth_rows(history), "popularity": popularity(engine, q, q.platform).get(q.platform, [])}


def all_platforms(engine: Engine, q: ChartQuery) -> dict:
    """Every platform holding the track's audience: ``{"platforms": {slug: points}}``, and every platform holding its
    popularity: ``{"popularity": {slug: points}}``, ``limit`` each."""
    head = _head(engine, q)
    frames = series.audience_by_platform(engine, q.track_uuid, start=q.start, end=q.end)
    return {**head, "platforms": {slug: points(frame, q.limit) for slug, frame in frames.items()},
            "popularity": popularity(engine, q)}
