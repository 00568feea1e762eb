"""An artist's series: followers per platform (``artist_audience``: running totals), monthly listeners per platform
(``artist_listeners``: they go up and down) and the chart positions of their stored tracks.

Series are ``frame(date, value, daily_change)`` like a track's audience (:mod:`.audience_series`): ascending, gaps
kept as gaps (a change only where the day before is stored).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.db.frames import day_number, raw_frame
from soundcharts_lib.db.tables import AFOL, ALIS, SUCCESS, TA, UNSUCCESSFUL, A, C, E, P, R, T
from soundcharts_lib.warehouse import audience_series
from soundcharts_lib.warehouse.audience_series import NotStored

KINDS = ("followers", "listeners")
TRACK_COLUMNS = ["uuid", "name", "credit_name", "release_date", "charts", "entries", "best_position", "last_date"]
_VALUES = {"followers": (AFOL, AFOL.c.followers), "listeners": (ALIS, ALIS.c.value)}
HISTORY_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "position", "entries"]


def artist_info(engine: Engine, uuid: str) -> dict:
    """A stored artist: id, uuid, name, image_url, app_url, country_code, genres, career_stage, growth_level,
    artist_type, metadata_fetched_at, metadata_error; ``NotStored`` otherwise."""
    q = select(A.c.id, A.c.uuid, A.c.name, A.c.image_url, A.c.app_url, A.c.country_code, A.c.genres,
               A.c.career_stage, A.c.growth_level, A.c.artist_type, A.c.metadata_fetched_at,
               A.c.metadata_error).where(A.c.uuid == uuid)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise NotStored(f"no artist {uuid}")
    return dict(row._mapping)


def platforms(engine: Engine, artist_id: int) -> dict[str, list[str]]:
    """``{kind: [platform slugs holding some of that series of the artist]}`` for followers and listeners."""
    out = {}
    with engine.connect() as conn:
        for kind, (table, _) in _VALUES.items():
            held = select(table.c.platform_id).where(table.c.artist_id == artist_id).distinct()
            out[kind] = sorted(conn.execute(select(P.c.slug).where(P.c.id.in_(held))).scalars())
    return out


def series(engine: Engine, artist_id: int, kind: str, platform: str | None = None, *, start: date | None = None,
           end: date | None = None) -> dict[str, pd.DataFrame]:
    """``{platform: frame(date, value, daily_change)}`` of one kind (followers or listeners) from ``start`` to
    ``end`` (each optional), on every platform holding some (or only ``platform``, which may then be empty)."""
    table, value = _VALUES[kind]
    q = select(table.c.platform_id, day_number(engine, table.c.date), value).where(table.c.artist_id == artist_id)
    if platform is not None:
        q = q.where(table.c.platform_id.in_(select(P.c.id).where(P.c.slug == platform)))
    if end is not None:
        q = q.where(table.c.date <= end)
    with engine.connect() as conn:
        # the driver's own tuples, split per platform in one pass (years of daily points on several platforms)
        rows = conn.execute(q).cursor.fetchall()
        held = sorted({pid for pid, _, _ in rows})
        slugs = dict(conn.execute(select(P.c.id, P.c.slug).where(P.c.id.in_(held))).all()) if held else {}
    if platform is not None and not slugs:
        slugs = {0: platform}  # a platform not stored: listed, empty
    found = audience_series.split(rows, slugs)
    out = {slug: found[slug] for slug in sorted(found)}
    if start is not None:  # read from the first day: the start's own change is known
        out = {slug: frame[frame["date"] >= start].reset_index(drop=True) for slug, frame in out.items()}
    return out


def chart_history(engine: Engine, artist_id: int) -> pd.DataFrame:
    """The best position of the artist's stored tracks per chart and ranking date (successful rankings only) and how
    many entries they had there: date, chart, chart_name, platform, country_code, position, entries; by chart and
    date."""
    tracks = select(TA.c.track_id).where(TA.c.artist_id == artist_id)
    failed = select(R.c.id).where(UNSUCCESSFUL)
    q = (select(E.c.ranking_date, E.c.chart_id, func.min(E.c.position), func.count())
         .where(E.c.track_id.in_(tracks), E.c.ranking_id.not_in(failed)).group_by(E.c.ranking_date, E.c.chart_id))
    with engine.connect() as conn:
        found = raw_frame(conn, q, ["date", "chart_id", "position", "entries"], dates=["date"])
        if found.empty:
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        names = raw_frame(conn, select(C.c.id, C.c.slug, C.c.name, P.c.slug, C.c.country_code)
                          .join_from(C, P, P.c.id == C.c.platform_id)
                          .where(C.c.id.in_(found["chart_id"].unique().tolist())),
                          ["chart_id", "chart", "chart_name", "platform", "country_code"])
    history = found.merge(names, on="chart_id").sort_values(["chart", "date"], kind="stable")
    return history[HISTORY_COLUMNS].reset_index(drop=True)


def tracks(engine: Engine, artist_id: int) -> pd.DataFrame:
    """The artist's stored tracks with their chart presence (successful rankings): uuid, name, credit_name,
    release_date, charts, entries, best_position and last_date (None without entries); most entries first."""
    failed = select(R.c.id).where(UNSUCCESSFUL)
    counted = (select(E.c.track_id, func.count(func.distinct(E.c.chart_id)).label("charts"),
                      func.count().label("entries"), func.min(E.c.position).label("best_position"),
                      func.max(E.c.ranking_date).label("last_date"))
               .where(E.c.track_id.in_(select(TA.c.track_id).where(TA.c.artist_id == artist_id)),
                      E.c.ranking_id.not_in(failed)).group_by(E.c.track_id).subquery())
    q = (select(T.c.uuid, T.c.name, T.c.credit_name, T.c.release_date,
                func.coalesce(counted.c.charts, 0), func.coalesce(counted.c.entries, 0), counted.c.best_position,
                counted.c.last_date)
         .select_from(TA.join(T, T.c.id == TA.c.track_id).outerjoin(counted, counted.c.track_id == T.c.id))
         .where(TA.c.artist_id == artist_id)
         .order_by(func.coalesce(counted.c.entries, 0).desc(), T.c.name, T.c.uuid))
    with engine.connect() as conn:
        found = pd.DataFrame(conn.execute(q).all(), columns=TRACK_COLUMNS)
    return found.astype({"best_position": "Int64"})


def top_artists(engine: Engine, days: int = 30, limit: int = 10) -> pd.DataFrame:
    """Artists by the chart entries of their stored tracks in the last ``days`` ranking dates up to the latest
    stored ranking: uuid, name, entries, tracks (that charted); most entries first."""
    with engine.connect() as conn:
        end = conn.execute(select(func.max(R.c.ranking_date)).where(SUCCESS)).scalar()
        if end is None:
            return pd.DataFrame(columns=["uuid", "name", "entries", "tracks"])
        start = end - timedelta(days=days - 1)
        rankings = select(R.c.id).where(SUCCESS, R.c.ranking_date.between(start, end))
        n = func.count().label("entries")
        q = (select(A.c.uuid, A.c.name, n, func.count(func.distinct(E.c.track_id)).label("tracks"))
             .select_from(E.join(TA, TA.c.track_id == E.c.track_id).join(A, A.c.id == TA.c.artist_id))
             .where(E.c.ranking_id.in_(rankings), E.c.ranking_date.between(start, end))
             .group_by(A.c.uuid, A.c.name).order_by(n.desc(), A.c.name, A.c.uuid).limit(limit))
        return pd.DataFrame(conn.execute(q).all(), columns=["uuid", "name", "entries", "tracks"])
