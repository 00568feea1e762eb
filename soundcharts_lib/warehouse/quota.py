"""API quota use from the ``x-quota-remaining`` figures job runs record: history, use per job kind, and the
month-end forecast (:func:`warehouse.analytics.quota_forecast`) as one line for ``soundcharts health``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import RUN
from soundcharts_lib.warehouse.analytics import QUOTA_MIN_HISTORY_HOURS, quota_forecast

HISTORY_COLUMNS = ["started_at", "kind", "trigger", "status", "quota_remaining", "used"]


def quota_history(engine: Engine, days: int = 31, now: datetime | None = None) -> pd.DataFrame:
    """Runs of the last ``days`` days before ``now`` (naive UTC) that recorded the quota, oldest first:
    started_at, kind, trigger, status, quota_remaining, used (the drop since the run before; NA for the first
    run and after a rise, i.e. a monthly reset or a top-up)."""
    now = now or utcnow()
    q = (select(RUN.c.started_at, RUN.c.kind, RUN.c.trigger, RUN.c.status, RUN.c.quota_remaining)
         .where(RUN.c.quota_remaining.is_not(None), RUN.c.started_at.between(now - timedelta(days=days), now))
         .order_by(RUN.c.started_at, RUN.c.id))
    with engine.connect() as conn:
        result = conn.execute(q)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    drop = frame["quota_remaining"].shift(1) - frame["quota_remaining"]
    frame["used"] = drop.where(drop >= 0).astype("Int64")
    return frame[HISTORY_COLUMNS]


def usage_by_kind(history: pd.DataFrame) -> pd.DataFrame:
    """Quota used per job kind in :func:`quota_history`: kind, runs, used, share_pct; most used first."""
    if history.empty:
        return pd.DataFrame(columns=["kind", "runs", "used", "share_pct"])
    out = history.groupby("kind").agg(runs=("kind", "size"), used=("used", "sum")).reset_index()
    total = out["used"].sum()
    out["share_pct"] = (out["used"] / total * 100).round(1) if total else pd.NA
    return out.sort_values(["used", "kind"], ascending=[False, True]).reset_index(drop=True)


def forecast_line(forecast: dict) -> str:
    """One line for a :func:`soundcharts_lib.warehouse.analytics.quota_forecast` result."""
    if forecast["remaining"] is None:
        return "API quota: no job run has recorded it yet"
    head = f"API quota: {forecast['remaining']:,} left at {forecast['as_of']:%Y-%m-%d %H:%M} UTC"
    if forecast["remaining"] <= 0:
        return f"{head}; used up"
    if forecast["forecast"] is None:
        return (f"{head}; month-end forecast: not enough history ({forecast['history_hours']:g} h of quota readings "
                f"in the last {forecast['window_days']} days, needs {QUOTA_MIN_HISTORY_HOURS} h)")
    line = f"{head}; using {forecast['burn_per_day']:,.0f} a day; month-end forecast {forecast['forecast']:,}"
    if forecast["exhausted_on"] is not None:
        line += f" (runs out around {forecast['exhausted_on']:%Y-%m-%d})"
    return line


def quota_ok(forecast: dict) -> bool:
    """Healthy: nothing recorded yet, or calls left and, at the current pace (when known), enough for the month."""
    if forecast["remaining"] is None:
        return True
    return forecast["remaining"] > 0 and forecast["exhausted_on"] is None


def quota_check(engine: Engine, now: datetime | None = None) -> tuple[bool, str]:
    """``(ok, line)`` for ``soundcharts health`` (see :func:`quota_ok`)."""
    forecast = quota_forecast(engine, now)
    return quota_ok(forecast), forecast_line(forecast)
