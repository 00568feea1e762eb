"""Chart trends from stored history: previous position, movement, peak, time on chart, streak, NEW / RE-ENTRY,
and drop-outs.

"Previous" means the chart's previous *stored* ranking: a date never synced is a gap in the history, so sync a
chart's range with a backfill before reading trends across it.

One chart on one date is read with three indexed queries (its stored ranking dates; the entries of that ranking
and the one before; every stored entry of that ranking's tracks on this chart) and computed with pandas, without
a loop over tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from .db.frames import query_frame
from .db.tables import C, E, R, T

TREND_COLUMNS = ["position", "uuid", "name", "artist", "metric", "previous_position", "movement", "peak_position",
                 "peak_date", "on_chart", "on_chart_unit", "streak", "status"]
DROPOUT_COLUMNS = ["uuid", "name", "artist", "previous_position"]


@dataclass(frozen=True)
class _ChartDay:
    """What one chart's trends on one date are computed from."""

    dates: list[date]  # the chart's stored ranking dates up to that date, ascending
    unit: str  # "day" or "week": what on_chart counts
    current: pd.DataFrame  # that ranking: track_id, position, metric, uuid, name, artist ("" when unknown)
    previous: pd.DataFrame | None  # the previous stored ranking, same columns; None when there is none
    history: pd.DataFrame  # track_id, position, i (index in dates): every stored entry of its tracks on this chart


def _read(engine: Engine, slug: str, on: date | None) -> _ChartDay | None:
    """The chart's ranking of ``on`` (default: its latest stored) and what its trends need; None when ``slug`` is
    not stored or has no stored ranking on ``on``."""
    with engine.connect() as conn:
        chart = conn.execute(select(C.c.id, C.c.frequency).where(C.c.slug == slug)).first()
        if chart is None:
            return None
        rankings = select(R.c.id, R.c.ranking_date).where(R.c.chart_id == chart.id, R.c.status == "success")
        if on is not None:
            rankings = rankings.where(R.c.ranking_date <= on)
        rankings = conn.execute(rankings.order_by(R.c.ranking_date)).all()
        if not rankings or (on is not None and rankings[-1].ranking_date != on):
            return None
        current_id = rankings[-1].id
        previous_id = rankings[-2].id if len(rankings) > 1 else None
        entries = query_frame(conn, select(E.c.ranking_id, E.c.track_id, E.c.position, E.c.metric, T.c.uuid,
                                           T.c.name, func.coalesce(T.c.credit_name, "").label("artist"))
                              .join_from(E, T, T.c.id == E.c.track_id)
                              .where(E.c.ranking_id.in_([r.id for r in rankings[-2:]])))
        # tracks and rankings as lists, not subqueries: on monthly partitions the planner then probes each
        # partition's track index instead of scanning every partition
        tracks = entries.loc[entries["ranking_id"] == current_id, "track_id"].unique().tolist()
        history = query_frame(conn, select(E.c.ranking_id, E.c.track_id, E.c.position)
                              .where(E.c.track_id.in_(tracks), E.c.ranking_id.in_([r.id for r in rankings])))
    history["i"] = history.pop("ranking_id").map({r.id: i for i, r in enumerate(rankings)}).astype(int)
    current = _one_per_track(entries[entries["ranking_id"] == current_id])
    previous = None if previous_id is None else _one_per_track(entries[entries["ranking_id"] == previous_id])
    unit = "week" if (chart.frequency or "").lower().startswith("week") else "day"
    return _ChartDay([d for _, d in rankings], unit, current, previous, history)


def _one_per_track(frame: pd.DataFrame) -> pd.DataFrame:
    """A ranking's entries, a track listed twice kept at its best position."""
    return frame.drop(columns="ranking_id").sort_values("position").drop_duplicates("track_id")


def _trends(day: _ChartDay) -> pd.DataFrame:
    last = len(day.dates) - 1
    hist = day.history.sort_values(["track_id", "i", "position"]).drop_duplicates(["track_id", "i"])
    by_track = hist.groupby("track_id", sort=False)
    # Along a run of consecutive stored rankings i - (rank of the entry in the track's history) stays constant;
    # the run that ends with the current ranking (index ``last``) is the streak.
    run = hist["i"] - by_track.cumcount()
    ending_now = run == last - (by_track["i"].transform("size") - 1)
    at_peak = hist["position"] == by_track["position"].transform("min")
    per_track = pd.DataFrame({
        "peak_position": by_track["position"].min(),
        "peak_date": hist[at_peak].groupby("track_id")["i"].min().map(dict(enumerate(day.dates))),
        "on_chart": by_track.size(),
        "streak": ending_now.groupby(hist["track_id"]).sum(),
    })
    previous = (day.previous if day.previous is not None else day.current[:0])[["track_id", "position"]]
    out = (day.current.merge(previous.rename(columns={"position": "previous_position"}), on="track_id", how="left")
           .merge(per_track, left_on="track_id", right_index=True, how="left"))
    out["previous_position"] = out["previous_position"].astype("Int64")
    out["movement"] = out["previous_position"] - out["position"]
    out["metric"] = out["metric"].astype("Int64")
    out["on_chart_unit"] = day.unit
    back = out["previous_position"].isna().to_numpy()
    movement = out["movement"].fillna(0).to_numpy()
    out["status"] = np.select([out["on_chart"].to_numpy() == 1, back, movement > 0, movement < 0],
                              ["NEW", "RE-ENTRY", "UP", "DOWN"], "SAME")
    return out[TREND_COLUMNS].sort_values("position").reset_index(drop=True)


def _dropouts(day: _ChartDay) -> pd.DataFrame:
    if day.previous is None:
        return pd.DataFrame(columns=DROPOUT_COLUMNS)
    gone = day.previous[~day.previous["track_id"].isin(day.current["track_id"])]
    gone = gone.rename(columns={"position": "previous_position"}).sort_values("previous_position")
    return gone[DROPOUT_COLUMNS].reset_index(drop=True)


def chart_trends(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """The ranking of ``on`` (default: the latest stored) with each entry's trend fields.

    movement = previous - current (positive: climbed); status is NEW (never on this chart before), RE-ENTRY
    (on it before, not in the previous ranking), UP, DOWN or SAME; streak counts consecutive stored rankings
    ending today (it resets on re-entry); on_chart counts every ranking the track was in.
    """
    day = _read(engine, slug, on)
    return _trends(day) if day else pd.DataFrame(columns=TREND_COLUMNS)


def chart_dropouts(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """Tracks in the previous stored ranking that are not in the ranking of ``on``, with their last position."""
    day = _read(engine, slug, on)
    return _dropouts(day) if day else pd.DataFrame(columns=DROPOUT_COLUMNS)


def chart_movers(engine: Engine, slug: str, on: date | None = None, limit: int = 10) -> dict[str, pd.DataFrame]:
    """One chart on one date read once: ``ranking`` (:func:`chart_trends`), its ``climbers`` and ``fallers`` (the
    ``limit`` biggest moves), ``new_entries`` (NEW and RE-ENTRY) and ``dropouts`` (:func:`chart_dropouts`)."""
    day = _read(engine, slug, on)
    trends = _trends(day) if day else pd.DataFrame(columns=TREND_COLUMNS)
    moved = trends.dropna(subset=["movement"])
    return {
        "ranking": trends,
        "climbers": moved[moved["movement"] > 0].sort_values(["movement", "position"], ascending=[False, True])
        .head(limit).reset_index(drop=True),
        "fallers": moved[moved["movement"] < 0].sort_values(["movement", "position"]).head(limit)
        .reset_index(drop=True),
        "new_entries": trends[trends["status"].isin(["NEW", "RE-ENTRY"])].reset_index(drop=True),
        "dropouts": _dropouts(day) if day else pd.DataFrame(columns=DROPOUT_COLUMNS),
    }
