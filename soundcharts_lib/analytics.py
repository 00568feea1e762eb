"""Read-only queries behind dashboards, notebooks, endpoints and exports (SQL -> DataFrame or dict).

Dates are the charts' own ranking dates; "today" defaults to the current UTC date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from .db.models import Chart, ChartRanking, ChartRankingEntry, Platform, Track
from .sync import today_utc

R = ChartRanking.__table__
E = ChartRankingEntry.__table__
C = Chart.__table__
P = Platform.__table__
T = Track.__table__


def _window(days: int, today: date | None) -> tuple[date, date]:
    end = today or today_utc()
    return end - timedelta(days=days - 1), end


def rankings_per_day(engine: Engine, days: int = 7, today: date | None = None) -> pd.DataFrame:
    """Successful rankings per ranking date over the last ``days`` days, zero-filled: columns date, rankings."""
    start, end = _window(days, today)
    q = (select(R.c.ranking_date.label("date"), func.count().label("rankings"))
         .where(R.c.status == "success", R.c.ranking_date.between(start, end))
         .group_by(R.c.ranking_date))
    with engine.connect() as conn:
        counts = {d: n for d, n in conn.execute(q)}
    dates = [start + timedelta(days=i) for i in range(days)]
    return pd.DataFrame({"date": dates, "rankings": [int(counts.get(d, 0)) for d in dates]})


def week_comparison(engine: Engine, today: date | None = None) -> dict:
    """Rankings of the last 7 days vs the 7 before, with the % change (None when the earlier week is 0)."""
    series = rankings_per_day(engine, days=14, today=today)["rankings"]
    previous, this = int(series.iloc[:7].sum()), int(series.iloc[7:].sum())
    change = round((this - previous) / previous * 100, 1) if previous else None
    return {"this_week": this, "previous_week": previous, "change_pct": change}


def top_platforms(engine: Engine, days: int = 30, today: date | None = None, limit: int = 10) -> pd.DataFrame:
    """Platforms by successful rankings in the last ``days`` days: slug, name, rankings."""
    start, end = _window(days, today)
    n = func.count(R.c.id).label("rankings")
    q = (select(P.c.slug, P.c.name, n)
         .select_from(R.join(C, C.c.id == R.c.chart_id).join(P, P.c.id == C.c.platform_id))
         .where(R.c.status == "success", R.c.ranking_date.between(start, end))
         .group_by(P.c.slug, P.c.name).order_by(n.desc(), P.c.slug).limit(limit))
    return _frame(engine, q)


def top_tracks(engine: Engine, days: int = 30, today: date | None = None, limit: int = 10) -> pd.DataFrame:
    """Tracks by chart appearances (entries) in the last ``days`` days: uuid, name, artist, appearances."""
    start, end = _window(days, today)
    recent = (select(R.c.id).where(R.c.status == "success", R.c.ranking_date.between(start, end))
              .scalar_subquery())
    counts = (select(E.c.track_id, func.count().label("appearances"))
              .where(E.c.ranking_id.in_(recent)).group_by(E.c.track_id).subquery())
    q = (select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"), counts.c.appearances)
         .join_from(counts, T, T.c.id == counts.c.track_id)
         .order_by(counts.c.appearances.desc(), T.c.name, T.c.uuid).limit(limit))
    return _frame(engine, q)


def chart_health_summary(engine: Engine) -> dict:
    """Active charts, all charts and the % active."""
    q = select(func.count().label("total"),
               func.count().filter(C.c.is_active.is_(True)).label("active"))
    with engine.connect() as conn:
        total, active = conn.execute(q).one()
    pct = round(active / total * 100, 1) if total else None
    return {"active": int(active), "total": int(total), "pct_active": pct}


def warehouse_summary(engine: Engine) -> dict:
    """How much is stored: platforms, charts, rankings, entries, tracks, and the ranking date range."""
    q = select(
        select(func.count()).select_from(P).scalar_subquery().label("platforms"),
        select(func.count()).select_from(C).scalar_subquery().label("charts"),
        select(func.count()).select_from(R).where(R.c.status == "success").scalar_subquery().label("rankings"),
        select(func.count()).select_from(E).scalar_subquery().label("entries"),
        select(func.count()).select_from(T).scalar_subquery().label("tracks"),
        select(func.min(R.c.ranking_date)).scalar_subquery().label("first_date"),
        select(func.max(R.c.ranking_date)).scalar_subquery().label("last_date"),
    )
    with engine.connect() as conn:
        return dict(conn.execute(q).one()._mapping)


def chart_list(engine: Engine, platform: str | None = None) -> pd.DataFrame:
    """Charts with their platform, country, frequency, activity and last ranking date."""
    q = (select(C.c.slug, C.c.name, P.c.slug.label("platform"), C.c.country_code, C.c.frequency, C.c.is_active,
                C.c.last_ranking_date)
         .join_from(C, P, P.c.id == C.c.platform_id).order_by(P.c.slug, C.c.slug))
    if platform:
        q = q.where(P.c.slug == platform)
    return _frame(engine, q)


def chart_ranking(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """One stored ranking of a chart (the latest stored unless ``on``) as the API gave it, by position."""
    chart_id = select(C.c.id).where(C.c.slug == slug).scalar_subquery()
    when = on or select(func.max(R.c.ranking_date)).where(R.c.chart_id == chart_id,
                                                          R.c.status == "success").scalar_subquery()
    q = (select(R.c.ranking_date.label("date"), E.c.position, T.c.uuid, T.c.name,
                func.coalesce(T.c.credit_name, "").label("artist"), E.c.old_position, E.c.position_evolution,
                E.c.entry_state, E.c.time_on_chart, E.c.metric)
         .select_from(E.join(R, R.c.id == E.c.ranking_id).join(T, T.c.id == E.c.track_id))
         .where(R.c.chart_id == chart_id, R.c.ranking_date == when, R.c.status == "success")
         .order_by(E.c.position))
    return _frame(engine, q)


def has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(R.c.id).limit(1)).first() is not None


def overview(engine: Engine, today: date | None = None) -> dict:
    """Everything the overview page shows, in one call."""
    return {
        "has_data": has_data(engine),
        "per_day": rankings_per_day(engine, 7, today),
        "weeks": week_comparison(engine, today),
        "platforms": top_platforms(engine, 30, today),
        "tracks": top_tracks(engine, 30, today),
        "health": chart_health_summary(engine),
    }


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
