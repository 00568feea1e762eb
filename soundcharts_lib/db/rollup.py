"""The top-tracks rollup: tracks' appearances, best position and charts over the last ``ROLLUP_DAYS`` days, per
platform and over every platform, kept in ``track_top_rollup`` so the overview and platform pages do not count
entries.

Windows end today and tomorrow (UTC), so the pages keep reading it past midnight before the next sync. Each
platform's rows record what they were built from (``track_top_rollup_window``: its successful rankings in the
window, counted and summed up); a read uses the rollup only while the rankings still sum up the same, else it counts
the entries as before. So the rollup is never wrong, only slow to use until :func:`refresh` runs: after each chart
sync, and after anything else that stores, deletes or fails rankings of the last month. A refresh rebuilds only the
windows holding one of the dates touched and, in them, only the platforms whose rankings changed.

Summing up a month of rankings costs a page 9 ms at 300 charts (two reads on the overview); so a refresh also records,
on each window it finds matching its rankings, the charts' stamp (:func:`charts_stamp`), which changes with every
write of a ranking (the triggers of migration 0010 bump its chart's ``rankings_version``). While the charts still
carry a window's stamp, nothing was written since it matched, and a read checks the charts alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import Date, Integer, and_, func, literal, or_, select, text
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import TR, TRW, C, E, R, T
from soundcharts_lib.vocab import today_utc

ROLLUP_DAYS = (30,)  # the overview's and the platform page's window
ALL_PLATFORMS = 0  # platform_id of the rows over every platform
LOCK_KEY = 0x70_70_72_6F  # PostgreSQL advisory lock: one refresh at a time



def windows(today: date) -> list[tuple[date, int]]:
    """The (last date, days) windows the rollup holds on ``today``."""
    return [(end, days) for end in (today, today + timedelta(days=1)) for days in ROLLUP_DAYS]


def _start(end: date, days: int) -> date:
    return end - timedelta(days=days - 1)


def _sums(conn: Connection, end: date, days: int, platform_id: int | None = None) -> dict[int, tuple]:
    """Per platform: the window's successful rankings counted and summed up (entries, ids, last fetch)."""
    q = (select(C.c.platform_id, func.count(), func.sum(R.c.entry_count), func.sum(R.c.id), func.max(R.c.fetched_at))
         .join_from(R, C, C.c.id == R.c.chart_id)
         .where(R.c.status == "success", R.c.ranking_date.between(_start(end, days), end))
         .group_by(C.c.platform_id))
    if platform_id is not None:
        q = q.where(C.c.platform_id == platform_id)
    return {p: (int(n), int(entries or 0), int(ids), last) for p, n, entries, ids, last in conn.execute(q)}


def _built_from(conn: Connection, end: date, days: int, platform_id: int | None = None) -> dict[int, tuple]:
    q = select(TRW.c.platform_id, TRW.c.rankings, TRW.c.entries, TRW.c.ranking_ids, TRW.c.last_fetched_at).where(
        TRW.c.window_end == end, TRW.c.days == days)
    if platform_id is not None:
        q = q.where(TRW.c.platform_id == platform_id)
    return {p: (int(n), int(entries), int(ids), last) for p, n, entries, ids, last in conn.execute(q)}


def charts_stamp(conn: Connection) -> str:
    """The charts' count, and their ids, platforms (by chart) and rankings versions summed up: it changes when a
    ranking is written (its chart's version is bumped), a chart is added or removed, or moves to another platform."""
    n, ids, platforms, versions = conn.execute(select(
        func.count(), *(func.coalesce(func.sum(v), 0) for v in (C.c.id, C.c.id * C.c.platform_id,
                                                                   C.c.rankings_version)))).one()
    return f"{n}:{ids}:{platforms}:{versions}"


def is_current(conn: Connection, end: date, days: int, platform_id: int | None = None) -> bool:
    """Whether the rollup of the window (one platform's rows, or with None every platform's and the rows over every
    platform) matches the rankings stored now: from the charts' stamp when the window's rows carry the charts'
    current one (read first: a ranking written meanwhile leaves the rows' stamp older, never newer), else summed up."""
    stamp = charts_stamp(conn)
    q = select(TRW.c.charts_stamp).where(TRW.c.window_end == end, TRW.c.days == days)
    stamps = conn.execute(q if platform_id is None else q.where(TRW.c.platform_id == platform_id)).scalars().all()
    if stamps and all(s == stamp for s in stamps):
        return True
    return _sums(conn, end, days, platform_id) == _built_from(conn, end, days, platform_id)


def top_query(end: date, days: int, limit: int | None, platform_id: int = ALL_PLATFORMS, *,
              by_position: bool = False):
    """The window's first ``limit`` tracks (None: all) by appearances (then best position when ``by_position``,
    name, uuid): uuid, name, artist, appearances, best_position, charts. With a limit, only rows tied with the
    ``limit``-th appearances or above are joined and sorted."""
    key = and_(TR.c.window_end == end, TR.c.days == days, TR.c.platform_id == platform_id)
    order = [TR.c.appearances.desc(), *([TR.c.best_position] if by_position else []), T.c.name, T.c.uuid]
    q = (select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"), TR.c.appearances,
                TR.c.best_position, TR.c.charts)
         .join_from(TR, T, T.c.id == TR.c.track_id).where(key).order_by(*order).limit(limit))
    if limit:
        floor = (select(TR.c.appearances).where(key).order_by(TR.c.appearances.desc()).limit(1).offset(limit - 1)
                 .scalar_subquery())
        q = q.where(TR.c.appearances >= func.coalesce(floor, 0))
    return q


def refresh(engine: Engine, dates: Iterable[date] | None = None, *, today: date | None = None) -> list[str]:
    """Bring the rollup up to date in one transaction; return what was rebuilt (empty when nothing changed).

    ``dates``: the ranking dates whose rankings were stored, replaced, failed or deleted (None: any date); only
    windows holding one of them are looked at. Windows that no longer apply are dropped.
    """
    with engine.begin() as conn:
        return refresh_on(conn, dates, today=today)


def refresh_on(conn: Connection, dates: Iterable[date] | None = None, *, today: date | None = None,
               stamped: bool = True) -> list[str]:
    """:func:`refresh` within the caller's transaction (the migration that creates the tables backfills them, before
    the charts have a rankings version: not ``stamped``). Each window found matching its rankings, rebuilt or not,
    gets the charts' stamp."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    kept = windows(today or today_utc())
    for table in (TR, TRW):
        conn.execute(table.delete().where(~or_(*(and_(table.c.window_end == end, table.c.days == days)
                                                 for end, days in kept))))
    stamp = charts_stamp(conn) if stamped else None  # read before the sums: never newer than what the rows hold
    touched = None if dates is None else set(dates)
    done = []
    for end, days in kept:
        sums = _sums(conn, end, days)  # read before the entries: rows are never older than what they record
        built = _built_from(conn, end, days)
        changed = sorted(p for p in sums.keys() | built.keys() if sums.get(p) != built.get(p))
        if changed and (touched is None or any(_start(end, days) <= d <= end for d in touched)):
            _rebuild(conn, end, days, changed, sums)
            done.append(f"{days} days to {end}: platforms {', '.join(map(str, changed))}")
            changed = []
        if stamped and not changed:
            conn.execute(TRW.update().where(TRW.c.window_end == end, TRW.c.days == days).values(charts_stamp=stamp))
    return done


def _rebuild(conn: Connection, end: date, days: int, platforms: list[int], sums: dict[int, tuple]) -> None:
    start = _start(end, days)
    key = and_(TR.c.window_end == end, TR.c.days == days)
    conn.execute(TR.delete().where(key, TR.c.platform_id.in_([*platforms, ALL_PLATFORMS])))
    conn.execute(TRW.delete().where(TRW.c.window_end == end, TRW.c.days == days, TRW.c.platform_id.in_(platforms)))
    head = (literal(end, Date), literal(days, Integer))
    columns = ["window_end", "days", "platform_id", "track_id", "appearances", "best_position", "charts"]
    per_platform = (select(*head, C.c.platform_id, E.c.track_id, func.count(), func.min(E.c.position),
                           func.count(func.distinct(R.c.chart_id)))
                    .select_from(E.join(R, R.c.id == E.c.ranking_id).join(C, C.c.id == R.c.chart_id))
                    .where(C.c.platform_id.in_(platforms), R.c.status == "success",
                           R.c.ranking_date.between(start, end), E.c.ranking_date.between(start, end))
                    .group_by(C.c.platform_id, E.c.track_id))
    conn.execute(TR.insert().from_select(columns, per_platform))
    # a chart is on one platform, so the charts of every platform add up
    every = (select(*head, literal(ALL_PLATFORMS, Integer), TR.c.track_id, func.sum(TR.c.appearances),
                    func.min(TR.c.best_position), func.sum(TR.c.charts))
             .where(key, TR.c.platform_id != ALL_PLATFORMS).group_by(TR.c.track_id))
    conn.execute(TR.insert().from_select(columns, every))
    now = utcnow()
    rows = [{"window_end": end, "days": days, "platform_id": p, "rankings": sums[p][0], "entries": sums[p][1],
             "ranking_ids": sums[p][2], "last_fetched_at": sums[p][3], "refreshed_at": now}
            for p in platforms if p in sums]
    if rows:
        conn.execute(TRW.insert(), rows)
