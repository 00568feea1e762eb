"""API quota use from the ``x-quota-remaining`` figures job runs record: history, use per job kind, and the
month-end forecast (:func:`quota_forecast`), and that forecast as one line for ``soundcharts health``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import RUN

QUOTA_WINDOW_DAYS = 7
QUOTA_MIN_HISTORY_HOURS = 24  # a burn rate from minutes of readings (a fresh install) says nothing about a month
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
    """One line for a :func:`quota_forecast` result."""
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


def quota_forecast(db: Engine | Connection, now: datetime | None = None,
                   window_days: int = QUOTA_WINDOW_DAYS) -> dict:
    """The API quota left (latest run that recorded it) and its month-end forecast; see :func:`forecast_quota`."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            return quota_forecast(conn, now, window_days)
    now = now or utcnow()
    q = (select(RUN.c.started_at, RUN.c.quota_remaining)
         .where(RUN.c.quota_remaining.is_not(None), RUN.c.started_at <= now).order_by(RUN.c.started_at, RUN.c.id))
    return forecast_quota([(t, int(v)) for t, v in db.execute(q)], now, window_days)


def forecast_quota(points: list[tuple[datetime, int]], now: datetime,
                   window_days: int = QUOTA_WINDOW_DAYS) -> dict:
    """Month-end forecast = quota left - daily burn x days left in the month (UTC).

    ``points`` are (run start, quota remaining) in time order. The burn is the drop per day between the first and
    the last point of the last ``window_days`` days, counted after the last increase (a reset or top-up); when
    those points span less than ``QUOTA_MIN_HISTORY_HOURS`` (``history_hours``) burn and forecast are None
    ("not enough history").
    """
    next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    days_left = (next_month - now).total_seconds() / 86400
    out = {"remaining": None, "as_of": None, "burn_per_day": None, "days_left": round(days_left, 2),
           "forecast": None, "exhausted_on": None, "points": 0, "window_days": window_days, "history_hours": 0.0}
    if not points:
        return out
    as_of, remaining = points[-1]
    recent = [(t, v) for t, v in points if t >= now - timedelta(days=window_days)]
    rises = [i for i in range(1, len(recent)) if recent[i][1] > recent[i - 1][1]]
    recent = recent[rises[-1]:] if rises else recent
    span = (recent[-1][0] - recent[0][0]).total_seconds() / 86400 if len(recent) >= 2 else 0.0
    out.update(remaining=remaining, as_of=as_of, points=len(recent), history_hours=round(span * 24, 1))
    if span * 24 >= QUOTA_MIN_HISTORY_HOURS:
        burn = (recent[0][1] - recent[-1][1]) / span
        forecast = remaining - burn * days_left
        out.update(burn_per_day=round(burn, 1), forecast=int(round(forecast)))
        if burn > 0 and forecast < 0:
            out["exhausted_on"] = (as_of + timedelta(days=remaining / burn)).date()
    return out
