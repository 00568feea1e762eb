"""A track's entries as dated chart positions (the track page's figure, the compare page's, the history download):
the conditions keeping its entries that count, and their read from the (track, chart, date) index."""

from __future__ import annotations

from datetime import date
from itertools import chain

import numpy as np
import pandas as pd
from sqlalchemy import Integer, bindparam, false, select, tuple_
from sqlalchemy.engine import Connection

from soundcharts_lib.db.filters import among
from soundcharts_lib.db.frames import as_date, dates_of, day_number, query_frame
from soundcharts_lib.db.tables import UNSUCCESSFUL, C, E, P, R, T

HISTORY_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "position"]
CHART_NAME_COLUMNS = ["chart_id", "chart", "chart_name", "platform", "country_code"]


def counted(conn: Connection, uuid: str) -> list:
    """The conditions keeping a track's entries that count (:func:`_without_failed`).

    The track's id is written into the statements as a number: PostgreSQL plans each track's statement for that
    track, so a year-long hit's dozens of entries per month are expected as such (with the id as a parameter, its
    plan for a track of average size read the hit's 8 charts on monthly partitions by filtering all its charts'
    entries: 7-10 ms instead of 2)."""
    track_id = conn.execute(select(T.c.id).where(T.c.uuid == uuid)).scalar()
    if track_id is None:
        return [false()]
    return _without_failed(conn, [E.c.track_id == bindparam("track_id", track_id, type_=Integer, unique=True,
                                                            literal_execute=True)])


def tracks_counted(conn: Connection, track_ids: list[int]) -> list:
    """The conditions keeping the entries of ``track_ids`` (an artist's tracks) that count (:func:`_without_failed`)."""
    return _without_failed(conn, [among(conn, E.c.track_id, track_ids)])


def _without_failed(conn: Connection, mine: list) -> list:
    """``mine`` (conditions keeping some tracks' entries) and those leaving out the entries of rankings that are not
    a success. An entry carries its ranking's chart and date, which name the ranking (migration 0007), so the
    rankings that are not a success (a failed fetch stores no entries; an integrity repair may fail a stored ranking)
    are read first from their partial index, those holding some of the tracks' entries are left out by name, and the
    entries are then read from ``ix_entry_track`` alone, with no join with the rankings."""
    failed = {r.id: (r.chart_id, r.ranking_date) for r in conn.execute(
        select(R.c.id, R.c.chart_id, R.c.ranking_date).where(UNSUCCESSFUL))}
    if not failed:
        return mine
    held = conn.execute(select(E.c.ranking_id).distinct().where(
        among(conn, E.c.ranking_id, sorted(failed)), *mine)).scalars().all()
    return mine + [tuple_(E.c.chart_id, E.c.ranking_date).not_in([failed[r] for r in held])] if held else mine


def positions(conn: Connection, kept: list, charts: pd.DataFrame, *, every: bool = False) -> pd.DataFrame:
    """The track's positions on ``charts`` (rows of ``analytics.track_charts`` with their ids: chart_id and
    :data:`CHART_NAME_COLUMNS`, first_date, last_date), ``kept``: :func:`counted`'s conditions, from those charts'
    months only (:func:`chart_span`); ``every``: ``charts`` are all the track's (no filter on the chart)."""
    if not len(charts):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return read(conn, kept, None if every else charts["chart_id"].tolist(), charts[CHART_NAME_COLUMNS],
                chart_span(charts))


def chart_span(charts: pd.DataFrame) -> tuple[date, date] | None:
    """The first and the last date of some rows of ``analytics.track_charts`` (None without rows): that track's
    entries on those charts lie between them, which confines a read to the months holding them on a partitioned
    table."""
    return (as_date(charts["first_date"].min()), as_date(charts["last_date"].max())) if len(charts) else None


def read(conn: Connection, kept: list, only: list[int] | None, names: pd.DataFrame | None,
         between: tuple[date, date] | None = None) -> pd.DataFrame:
    """The entries ``kept`` (:func:`counted`'s conditions; on the charts ``only`` when given, ids; from
    ``between``'s first to its last date when given), as ``analytics.track_chart_history`` gives them; ``names``:
    the charts' :data:`CHART_NAME_COLUMNS` when known, else read."""
    # The entries alone, from the index (chart, date and position), their charts' names joined here: a year-long hit
    # has tens of thousands of entries, and per-row joins, sorting and rows cost more than the lookups.
    entries = select(day_number(conn, E.c.ranking_date), E.c.chart_id, E.c.position).where(
        *kept, E.c.chart_id.is_not(None), E.c.ranking_date.is_not(None))  # stored by hand without them: nowhere
    if only is not None:
        entries = entries.where(E.c.chart_id.in_(only))
    if between is not None:  # on monthly partitions, the months of those charts' entries only, not all of them
        entries = entries.where(E.c.ranking_date.between(*between))
    rows = conn.execute(entries).cursor.fetchall()  # the driver's tuples of integers, ordered here by numbers
    if not rows:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    number, chart_ids, positions = np.fromiter(chain.from_iterable(rows), dtype=np.int64,
                                               count=3 * len(rows)).reshape(-1, 3).T
    if names is None:
        names = query_frame(conn, select(C.c.id.label("chart_id"), C.c.slug.label("chart"),
                                         C.c.name.label("chart_name"), P.c.slug.label("platform"), C.c.country_code)
                            .join_from(C, P, P.c.id == C.c.platform_id)
                            .where(C.c.id.in_(np.unique(chart_ids).tolist())))
    names = names.sort_values("chart", kind="stable")
    chart = pd.Index(names["chart_id"]).get_indexer(chart_ids)  # each entry's chart, by slug
    order = np.lexsort((number, chart))  # stable: an entry's ties keep the index's order
    order = order[chart[order] >= 0]
    at = chart[order]  # each column taken from its charts' values at once: a frame's take, then a column inserted,
    # cost more than the statement on a hit's thousands of entries
    return pd.DataFrame({"date": dates_of(number[order]),
                         **{column: names[column].to_numpy(dtype=object)[at] for column in HISTORY_COLUMNS[1:-1]},
                         "position": positions[order]})
