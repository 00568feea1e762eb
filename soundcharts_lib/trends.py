"""Chart trends from stored history: previous position, movement, peak, time on chart, streak, NEW / RE-ENTRY,
and drop-outs.

"Previous" means the chart's previous *stored* ranking: a date never synced is a gap in the history, so sync a
chart's range with a backfill before reading trends across it.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from .db.tables import C, E, R, T

TREND_COLUMNS = ["position", "uuid", "name", "artist", "metric", "previous_position", "movement", "peak_position",
                 "peak_date", "on_chart", "on_chart_unit", "streak", "status"]


def _history(engine: Engine, slug: str, on: date | None) -> tuple[list[date], pd.DataFrame, str]:
    """The chart's stored ranking dates up to ``on`` and their entries (date, track, position, metric)."""
    chart = select(C.c.id, C.c.frequency).where(C.c.slug == slug)
    with engine.connect() as conn:
        row = conn.execute(chart).first()
        if row is None:
            return [], pd.DataFrame(), "day"
        dates_q = select(R.c.ranking_date).where(R.c.chart_id == row.id, R.c.status == "success")
        if on is not None:
            dates_q = dates_q.where(R.c.ranking_date <= on)
        dates = sorted(d for (d,) in conn.execute(dates_q))
        q = (select(R.c.ranking_date.label("date"), E.c.track_id, E.c.position, E.c.metric, T.c.uuid, T.c.name,
                    T.c.credit_name.label("artist"))
             .select_from(E.join(R, R.c.id == E.c.ranking_id).join(T, T.c.id == E.c.track_id))
             .where(R.c.chart_id == row.id, R.c.status == "success"))
        if on is not None:
            q = q.where(R.c.ranking_date <= on)
        result = conn.execute(q)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    unit = "week" if (row.frequency or "").lower().startswith("week") else "day"
    return dates, frame, unit


def ranking_dates(engine: Engine, slug: str) -> list[date]:
    return _history(engine, slug, None)[0]


def chart_trends(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """The ranking of ``on`` (default: the latest stored) with each entry's trend fields.

    movement = previous - current (positive: climbed); status is NEW (never on this chart before), RE-ENTRY
    (on it before, not in the previous ranking), UP, DOWN or SAME; streak counts consecutive stored rankings
    ending today (it resets on re-entry); on_chart counts every ranking the track was in.
    """
    dates, frame, unit = _history(engine, slug, on)
    if not dates or (on is not None and dates[-1] != on):
        return pd.DataFrame(columns=TREND_COLUMNS)
    index = {d: i for i, d in enumerate(dates)}
    frame["i"] = frame["date"].map(index)
    current_i = len(dates) - 1
    rows = []
    for _track, hist in frame.groupby("track_id", sort=False):
        hist = hist.sort_values("i")
        if hist["i"].iloc[-1] != current_i:
            continue
        now = hist.iloc[-1]
        before = hist.iloc[:-1]
        prev = before[before["i"] == current_i - 1]
        previous = int(prev["position"].iloc[0]) if len(prev) else None
        peak = hist["position"].min()
        streak = 1
        idx = hist["i"].tolist()
        while streak < len(idx) and idx[-streak - 1] == current_i - streak:
            streak += 1
        if before.empty:
            status = "NEW"
        elif previous is None:
            status = "RE-ENTRY"
        else:
            status = "UP" if previous > now["position"] else "DOWN" if previous < now["position"] else "SAME"
        rows.append({
            "position": int(now["position"]), "uuid": now["uuid"], "name": now["name"], "artist": now["artist"] or "",
            "metric": None if pd.isna(now["metric"]) else int(now["metric"]), "previous_position": previous,
            "movement": None if previous is None else previous - int(now["position"]),
            "peak_position": int(peak), "peak_date": hist.loc[hist["position"] == peak, "date"].min(),
            "on_chart": len(hist), "on_chart_unit": unit, "streak": streak, "status": status,
        })
    out = pd.DataFrame(rows, columns=TREND_COLUMNS).sort_values("position").reset_index(drop=True)
    return out.astype({"previous_position": "Int64", "movement": "Int64", "metric": "Int64"})


def chart_dropouts(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """Tracks in the previous stored ranking that are not in the ranking of ``on``, with their last position."""
    dates, frame, _unit = _history(engine, slug, on)
    columns = ["uuid", "name", "artist", "previous_position"]
    if len(dates) < 2 or (on is not None and dates[-1] != on):
        return pd.DataFrame(columns=columns)
    now = frame[frame["date"] == dates[-1]]
    prev = frame[(frame["date"] == dates[-2]) & ~frame["track_id"].isin(now["track_id"])]
    prev = prev.rename(columns={"position": "previous_position"}).sort_values("previous_position")
    prev["artist"] = prev["artist"].fillna("")
    return prev[columns].reset_index(drop=True)


def chart_movers(engine: Engine, slug: str, on: date | None = None, limit: int = 10) -> dict[str, pd.DataFrame]:
    """Climbers, fallers, new entries (NEW and RE-ENTRY) and drop-outs of one chart on one date."""
    trends = chart_trends(engine, slug, on)
    moved = trends.dropna(subset=["movement"])
    return {
        "climbers": moved[moved["movement"] > 0].sort_values(["movement", "position"], ascending=[False, True])
        .head(limit).reset_index(drop=True),
        "fallers": moved[moved["movement"] < 0].sort_values(["movement", "position"]).head(limit)
        .reset_index(drop=True),
        "new_entries": trends[trends["status"].isin(["NEW", "RE-ENTRY"])].reset_index(drop=True),
        "dropouts": chart_dropouts(engine, slug, on),
    }
