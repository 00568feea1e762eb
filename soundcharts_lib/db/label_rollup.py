"""The labels pages as last built (``label_share_rollup``): one row per scope and window length, holding the page
and what it was built from, so a page of every chart or of a platform does not count a month of entries per visit.

A row is read only while what it was built from is unchanged: the scope's successful rankings over its window and
the window before (counted and summed up, like the top-tracks rollup) and the tracks' metadata as last written
(``track.metadata_fetched_at``, set by every write of a track's labels). So a row is never wrong, only unused
until the jobs that store rankings or metadata rebuild it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import LSR, SUCCESS, R, T
from soundcharts_lib.db.upsert import upsert

Key = tuple[int, int, int]  # platform_id (0: every platform), chart_id (0: the whole scope), days
STAMP = ("rankings", "entries", "ranking_ids", "last_fetched_at", "metadata_fetched_at")


def built_from(conn: Connection, chart_ids: list[int] | None, start: date, end: date) -> tuple:
    """What a page over ``start`` .. ``end`` of ``chart_ids`` (None: every chart) is built from, as stored now."""
    q = select(func.count(), func.coalesce(func.sum(R.c.entry_count), 0), func.coalesce(func.sum(R.c.id), 0),
               func.max(R.c.fetched_at)).where(SUCCESS, R.c.ranking_date.between(start, end))
    if chart_ids is not None:
        q = q.where(R.c.chart_id.in_(chart_ids))
    rankings, entries, ids, last = conn.execute(q).one()
    labelled = conn.execute(select(func.max(T.c.metadata_fetched_at))).scalar()
    return int(rankings), int(entries), int(ids), last, labelled


def read(conn: Connection, key: Key, end: date, stamp: tuple) -> dict | None:
    """The page stored for ``key`` when it was built over the window to ``end`` from ``stamp``; else None."""
    row = conn.execute(select(LSR.c.window_end, *(LSR.c[c] for c in STAMP), LSR.c.page).where(
        LSR.c.platform_id == key[0], LSR.c.chart_id == key[1], LSR.c.days == key[2])).first()
    if row is None or row[0] != end or tuple(row[1:-1]) != stamp:
        return None
    return row[-1]


def write(conn: Connection, key: Key, end: date, stamp: tuple, page: dict) -> None:
    """Keep ``page`` as the page of ``key`` over the window to ``end``, built from ``stamp``."""
    row = {"platform_id": key[0], "chart_id": key[1], "days": key[2], "window_end": end,
           **dict(zip(STAMP, stamp, strict=True)), "page": page, "refreshed_at": utcnow()}
    upsert(conn, LSR, [row], ["platform_id", "chart_id", "days"])
