"""The seed's way of reading a page, timed beside ours by ``bench_dashboard.py``: one query per day, per platform,
per track and per chart, each answer combined in Python. Same data as ``analytics.overview`` and
``analytics.track_page`` read (rankings per day this week and last, rankings per platform and top tracks over 30 days,
chart health; a track's positions on each chart and its audience on each platform)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.db.models import TrackAudience
from soundcharts_lib.db.tables import TA, A, C, E, P, R, T

AUDIENCE = TrackAudience.__table__


def overview(engine: Engine, today: date) -> dict:
    ok = R.c.status == "success"
    since = today - timedelta(days=29)
    with engine.connect() as conn:
        per_day = {today - timedelta(days=i): conn.execute(
            select(func.count()).select_from(R).where(R.c.ranking_date == today - timedelta(days=i), ok)).scalar()
            for i in range(14)}
        per_platform = {slug: conn.execute(
            select(func.count()).select_from(R).join(C, C.c.id == R.c.chart_id)
            .where(C.c.platform_id == pid, R.c.ranking_date >= since, ok)).scalar()
            for pid, slug in conn.execute(select(P.c.id, P.c.slug))}
        tracks = conn.execute(select(E.c.track_id).distinct().join(R, R.c.id == E.c.ranking_id)
                              .where(R.c.ranking_date >= since, ok)).scalars().all()
        appearances = Counter({t: conn.execute(
            select(func.count()).select_from(E).join(R, R.c.id == E.c.ranking_id)
            .where(E.c.track_id == t, R.c.ranking_date >= since, ok)).scalar() for t in tracks})
        top = [(conn.execute(select(T.c.name, T.c.credit_name).where(T.c.id == t)).first(), n)
               for t, n in appearances.most_common(10)]
        active = conn.execute(select(func.count()).select_from(C).where(C.c.is_active.is_(True))).scalar()
        total = conn.execute(select(func.count()).select_from(C)).scalar()
    return {"per_day": per_day, "per_platform": per_platform, "top": top, "active": active, "total": total}


def track_page(engine: Engine, uuid: str) -> dict:
    with engine.connect() as conn:
        track = conn.execute(select(T).where(T.c.uuid == uuid)).first()
        artists = conn.execute(select(A.c.name).join(TA, TA.c.artist_id == A.c.id)
                               .where(TA.c.track_id == track.id)).scalars().all()
        charts = conn.execute(select(R.c.chart_id).distinct().join(E, E.c.ranking_id == R.c.id)
                              .where(E.c.track_id == track.id)).scalars().all()
        history = {chart: conn.execute(
            select(R.c.ranking_date, E.c.position).join(E, E.c.ranking_id == R.c.id)
            .where(E.c.track_id == track.id, R.c.chart_id == chart, R.c.status == "success")
            .order_by(R.c.ranking_date)).all() for chart in charts}
        platforms = conn.execute(select(AUDIENCE.c.platform_id).distinct()
                                 .where(AUDIENCE.c.track_id == track.id)).scalars().all()
        audience = {p: conn.execute(select(AUDIENCE.c.date, func.sum(AUDIENCE.c.audience_value))
                                    .where(AUDIENCE.c.track_id == track.id, AUDIENCE.c.platform_id == p)
                                    .group_by(AUDIENCE.c.date).order_by(AUDIENCE.c.date)).all()
                    for p in platforms}
    return {"track": track, "artists": artists, "history": history, "audience": audience}
