"""Data quality for analysts: audience coverage per platform and audience series with missing days.

Stale and failing charts are :func:`soundcharts_lib.warehouse.health.charts_needing_attention`; quota use is
:mod:`soundcharts_lib.warehouse.quota`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.db.tables import AUD, P, T
from soundcharts_lib.vocab import today_utc

COVERAGE_COLUMNS = ["platform", "tracks", "series", "points", "first_date", "last_date", "days_behind"]
GAP_COLUMNS = ["uuid", "name", "platform", "identifier", "first_date", "last_date", "stored_days", "missing_days"]


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def audience_coverage(engine: Engine, today: date | None = None) -> pd.DataFrame:
    """Per platform with stored audience: tracks, series (a track's identifier), points, first_date, last_date,
    days_behind (``today`` minus the last date)."""
    series = select(AUD.c.platform_id, AUD.c.track_id, AUD.c.platform_identifier).distinct().subquery()
    per_platform = (select(series.c.platform_id, func.count().label("series"))
                    .group_by(series.c.platform_id).subquery())
    q = (select(P.c.slug.label("platform"), func.count(func.distinct(AUD.c.track_id)).label("tracks"),
                func.max(per_platform.c.series).label("series"), func.count().label("points"),
                func.min(AUD.c.date).label("first_date"), func.max(AUD.c.date).label("last_date"))
         .join(P, P.c.id == AUD.c.platform_id).join(per_platform, per_platform.c.platform_id == AUD.c.platform_id)
         .group_by(P.c.slug).order_by(P.c.slug))
    frame = _frame(engine, q)
    today = today or today_utc()
    frame["days_behind"] = [(today - last).days for last in frame["last_date"]]
    return frame[COVERAGE_COLUMNS]


def audience_gaps(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """Audience series (track, platform, identifier) with days missing between their first and last stored day,
    most missing first: uuid, name, platform, identifier, first_date, last_date, stored_days, missing_days."""
    q = (select(T.c.uuid, T.c.name, P.c.slug.label("platform"), AUD.c.platform_identifier.label("identifier"),
                func.min(AUD.c.date).label("first_date"), func.max(AUD.c.date).label("last_date"),
                func.count().label("stored_days"))
         .join(T, T.c.id == AUD.c.track_id).join(P, P.c.id == AUD.c.platform_id)
         .group_by(T.c.uuid, T.c.name, P.c.slug, AUD.c.platform_identifier))
    frame = _frame(engine, q)
    frame["missing_days"] = [(last - first).days + 1 - n for first, last, n in
                             zip(frame["first_date"], frame["last_date"], frame["stored_days"], strict=True)]
    gaps = frame[frame["missing_days"] > 0].sort_values(["missing_days", "uuid", "platform", "identifier"],
                                                        ascending=[False, True, True, True])
    return gaps[GAP_COLUMNS].head(limit).reset_index(drop=True)
