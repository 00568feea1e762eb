"""What stored history adds to a ranking's entries (:mod:`soundcharts_lib.warehouse.trends`): per track, the chart's
stored rankings up to the ranking's date that hold it (``stored_count``), its peak position there and the peak's
first date, and its streak (consecutive stored rankings ending with this one). Only successful rankings count.

A chart's latest ranking reads them from its track-chart rollup (``db/chart_rollup.py``, current after every sync)
and the chart's last rankings; an older one from each track's entries since its first date on the chart; a chart
whose rollup is stale from the tracks' entries."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from soundcharts_lib.db import chart_rollup
from soundcharts_lib.db.filters import among
from soundcharts_lib.db.frames import as_date
from soundcharts_lib.db.tables import SUCCESS, TCR, E, R

HISTORY_COLUMNS = ["stored_peak_position", "stored_peak_date", "stored_streak"]


def figures(conn: Connection, pairs: pd.DataFrame, wanted: pd.DataFrame) -> pd.DataFrame:
    """Per (chart_id, track_id) of ``wanted``, from the chart's stored rankings up to the pair's date: stored_count,
    stored_peak_position, stored_peak_date, stored_streak. Those of rankings that are not a success (no stored date)
    count nowhere. When the pair's ranking is the chart's latest and its track-chart rollup is current (after every
    sync), the count, peak and its date come from the rollup and the streak from the chart's last rankings
    (:func:`_rolled_up`); otherwise one query per chart over ``ix_entry_track`` reads each track's entries on that
    chart up to that date (an entry carries its ranking's chart and date, migration 0007), from the track's first
    date there when the rollup is current (:func:`_read_history`)."""
    upto = dict(zip(pairs["chart_id"], pairs["date"], strict=True))
    current = chart_rollup.current(conn, [int(c) for c in wanted["chart_id"].unique()])
    parts: list[dict] = []
    for chart_id, tracks in wanted.groupby("chart_id")["track_id"]:
        stored = [as_date(day) for (day,) in conn.execute(select(R.c.ranking_date).where(
            R.c.chart_id == int(chart_id), SUCCESS).order_by(R.c.ranking_date)).cursor.fetchall()]
        ids = sorted({int(t) for t in tracks})
        if chart_id in current and stored and stored[-1] == upto[chart_id]:
            found = _rolled_up(conn, int(chart_id), ids, stored)
        else:
            found = _read_history(conn, int(chart_id), ids, [d for d in stored if d <= upto[chart_id]],
                                  since_first=chart_id in current)
        parts.append({"chart_id": np.full(len(found["track_id"]), int(chart_id), dtype=np.int64), **found})
    columns = ["chart_id", "track_id", "stored_count", *HISTORY_COLUMNS]
    return pd.DataFrame({c: np.concatenate([p[c] for p in parts]) if parts else
                         np.array([], dtype=np.int64 if c.endswith("_id") else object) for c in columns})


def _read_history(conn: Connection, chart_id: int, track_ids: list[int], stored: list[date], *,
                  since_first: bool = False) -> dict[str, np.ndarray]:
    """The figures (:func:`_history_figures`) of ``track_ids`` over the chart's stored rankings of the dates
    ``stored`` (sorted; the last one the ranking they end with), from the tracks' entries of those dates.

    ``since_first`` (the chart's track-chart rollup is current): each track's entries are read from its first date
    on the chart, joined to its rollup row, so on monthly partitions PostgreSQL probes the months since then only
    (pruned as each row is joined), not every month up to the ranking: a chart page of two years ago 12-16 -> 2.5 ms
    at 62.9M entries."""
    if not stored:
        return _history_figures(*(np.zeros(0, dtype=np.int64),) * 3, stored)
    # keyed by the driver's values too (a date, on SQLite its ISO text), so the rows' dates need no conversion
    index = {key: i for i, day in enumerate(stored) for key in (day, day.isoformat())}
    within = E.c.ranking_date.between(stored[0], stored[-1])
    q = select(E.c.ranking_date, E.c.track_id, E.c.position)
    if since_first:
        q = q.select_from(TCR.join(E, and_(E.c.track_id == TCR.c.track_id, E.c.chart_id == TCR.c.chart_id,
                                           E.c.ranking_date >= TCR.c.first_date, within)))
        q = q.where(TCR.c.chart_id == chart_id, among(conn, TCR.c.track_id, track_ids))
    else:
        q = q.where(among(conn, E.c.track_id, track_ids), E.c.chart_id == chart_id, within)
    found = conn.execute(q).cursor.fetchall()
    counted = np.array([(index[d], t, p) for d, t, p in found if d in index], dtype=np.int64).reshape(-1, 3)
    return _history_figures(counted[:, 1], counted[:, 0], counted[:, 2], stored)


STREAK_WINDOW = 8  # the chart's last rankings read first for the streaks the rollup cannot tell; then 4 x as many


def _rolled_up(conn: Connection, chart_id: int, track_ids: list[int], stored: list[date]) -> dict[str, np.ndarray]:
    """The figures of ``track_ids`` on the chart's latest ranking (``stored``: the chart's stored rankings' dates,
    all of them) from its current track-chart rollup: the count (rankings holding the track), the peak and its first
    date are the rollup's; a track held by every ranking since its first is on a streak of all of them, and for the
    others the streak is read from the chart's last rankings, more of them until each track's streak ends inside
    them. A year-long history is never read: the streaks the rollup cannot tell end within a few rankings, unless
    a track comes back for a long run after an absence."""
    rows = conn.execute(select(TCR.c.track_id, TCR.c.rankings, TCR.c.peak_position, TCR.c.peak_date, TCR.c.first_date)
                        .where(TCR.c.chart_id == chart_id, among(conn, TCR.c.track_id, track_ids))).all()
    track = np.array([r[0] for r in rows], dtype=np.int64)
    count = np.array([r[1] for r in rows], dtype=np.int64)
    since = len(stored) - np.array([bisect_left(stored, as_date(r[4])) for r in rows], dtype=np.int64)
    streak = np.where(count == since, count, -1)  # -1: an absence since the first ranking, read below
    window = STREAK_WINDOW
    while (streak < 0).any():
        open_ = track[streak < 0]
        last = stored[-window:]
        read = _read_history(conn, chart_id, sorted(open_.tolist()), last)
        ended = dict(zip(read["track_id"].tolist(), read["stored_streak"].tolist(), strict=True))
        for k in np.flatnonzero(streak < 0):  # a streak as long as the window may go on before it
            run = ended.get(int(track[k]), 0)
            if run < len(last) or len(last) == len(stored):
                streak[k] = run
        window *= 4
    order = np.argsort(track)
    return {"track_id": track[order], "stored_count": count[order],
            "stored_peak_position": np.array([r[2] for r in rows], dtype=np.int64)[order],
            "stored_peak_date": np.array([as_date(rows[k][3]) for k in order], dtype=object),
            "stored_streak": streak[order]}


def _history_figures(track: np.ndarray, i: np.ndarray, position: np.ndarray, dates: list[date]) -> dict[str,
                                                                                                     np.ndarray]:
    """Per track of the entries (``track``, ``i``: index into ``dates``, ``position``): stored_count, the peak and
    its first date, and the streak of consecutive stored rankings that ends with the last one (arrays, not frames:
    a chart's tracks hold thousands of entries and a page reads them on every visit)."""
    order = np.lexsort((position, i, track))
    track, i, position = track[order], i[order], position[order]
    first = np.ones(len(track), dtype=bool)  # the best position of each track in each ranking
    first[1:] = (track[1:] != track[:-1]) | (i[1:] != i[:-1])
    track, i, position = track[first], i[first], position[first]
    starts = np.flatnonzero(np.diff(track, prepend=track[:1] - 1))  # each track's first entry
    sizes = np.diff(np.r_[starts, len(track)])
    group = np.repeat(np.arange(len(starts)), sizes)
    peak = np.minimum.reduceat(position, starts)
    peak_at = np.minimum.reduceat(np.where(position == peak[group], i, len(dates)), starts)
    # Along a run of consecutive stored rankings i - (rank of the entry in the track's history) stays constant;
    # the run that ends with the last ranking is the streak.
    rank = np.arange(len(track)) - starts[group]
    ending_now = (i - rank) == (len(dates) - 1) - (sizes[group] - 1)
    streak = np.add.reduceat(ending_now.astype(np.int64), starts)
    return {"track_id": track[starts], "stored_count": sizes, "stored_peak_position": peak,
            "stored_peak_date": np.array([dates[k] for k in peak_at], dtype=object), "stored_streak": streak}
