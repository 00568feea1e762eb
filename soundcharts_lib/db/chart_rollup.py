"""The track-chart rollup: each track's summary on each chart it was on (first and last date, appearances, peak
position and its first day, position on the last date) over its counted entries, kept in ``track_chart_rollup`` so a
track page reads a few rows instead of grouping a year-long hit's tens of thousands of entries.

The entries that count are those of successful rankings (entries left without their ranking by a tool that ignored
the foreign keys count nowhere; the integrity check reports them).

Never wrong, only unused: every statement that inserts, changes or deletes ranking rows bumps their charts'
``rankings_version`` (triggers, migration 0010: on PostgreSQL once per statement, on SQLite once per row), and a
chart's rows are read only while ``track_chart_rollup_chart`` holds that version; the other charts are read from the
entries (:func:`stale`). :func:`refresh` brings stale charts up to date after each job that stores rankings, in one
snapshot: a chart whose earlier rankings are still the ones it was built from (counted and summed up, like the other
rollups) only adds its newer rankings' entries; any other chart is rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import BigInteger, Date, Integer, and_, case, cast, exists, func, null, select, union_all
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db.filters import among
from soundcharts_lib.db.frames import as_date, date_of, day_number
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import SUCCESS, TCR, TCRC, C, E, R
from soundcharts_lib.db.upsert import dialect_insert

LOCK_KEY = 0x74_63_72_6F  # PostgreSQL advisory lock: one refresh at a time
# A position (any 32-bit integer) and a day number (days since 0001-01-01, under 2**22 up to 9999) packed into one
# 64-bit integer, so the peak's first day and the last day's position come from the same pass as the rest
POSITION_SHIFT, DAY_BITS, POSITION_BITS = 2**31, 2**22, 2**32
SUMMARY = ["track_id", "chart_id", "first_date", "last_date", "appearances", "peak_position", "peak_date",
           "last_position"]
BUILT = [*SUMMARY, "rankings"]  # a rollup row: the summary and the rankings that hold the track
STAMP = ("rankings", "entries", "ranking_ids", "last_fetched_at")


def stale(conn: Connection) -> list[int]:
    """The charts whose rollup rows do not hold their rankings as stored now (their tracks' summaries are read from
    the entries): none right after a refresh."""
    q = (select(C.c.id).outerjoin(TCRC, TCRC.c.chart_id == C.c.id)
         .where(C.c.rankings_version != func.coalesce(TCRC.c.version, 0)).order_by(C.c.id))
    return conn.execute(q).scalars().all()


def current(conn: Connection, chart_ids: list[int]) -> set[int]:
    """Those of ``chart_ids`` whose rollup rows hold their rankings as stored now (all of them after a refresh):
    the ones not :func:`stale`."""
    return set(chart_ids) - set(stale(conn)) if chart_ids else set()


def summary_query(conn: Connection, where: list, *, peak_date: bool = True):
    """The summary of the entries matching ``where`` per track and chart, in :data:`BUILT` order, in one pass: the
    smallest (position, day) gives the peak and its first day, the largest (day, -position) the last day's
    position, the distinct days the rankings (a chart's date names one ranking). Without ``peak_date`` (NULL) on
    SQLite, :data:`SUMMARY` only: plain aggregates from the index and a probe per group for the last day's
    position, cheaper there than a day number computed for each entry."""
    if not peak_date and conn.dialect.name != "postgresql":
        per = (select(E.c.track_id, E.c.chart_id, func.min(E.c.ranking_date).label("first_date"),
                      func.max(E.c.ranking_date).label("last_date"), func.count().label("appearances"),
                      func.min(E.c.position).label("peak_position")).where(*where)
               .group_by(E.c.track_id, E.c.chart_id).subquery())
        on_last = E.alias()  # (chart, date) names one ranking: the last date's entries are a counted ranking's
        last = select(func.min(on_last.c.position)).where(
            on_last.c.track_id == per.c.track_id, on_last.c.chart_id == per.c.chart_id,
            on_last.c.ranking_date == per.c.last_date).scalar_subquery()
        return select(*per.c, null().cast(Date).label("peak_date"), last.label("last_position"))
    day, position = day_number(conn, E.c.ranking_date), cast(E.c.position, BigInteger) + POSITION_SHIFT
    peak = func.min(position * DAY_BITS + day)
    last = func.max(day * POSITION_BITS + (POSITION_BITS - 1 - position))
    values = (E.c.track_id, E.c.chart_id, func.min(E.c.ranking_date), func.max(E.c.ranking_date), func.count(),
              func.min(E.c.position), date_of(conn, peak % DAY_BITS),
              cast(POSITION_SHIFT - 1 - last % POSITION_BITS, Integer), func.count(E.c.ranking_date.distinct()))
    return (select(*(v.label(name) for v, name in zip(values, BUILT, strict=True)))
            .where(*where).group_by(E.c.track_id, E.c.chart_id))


def summaries(conn: Connection, on_track: Callable, counted: Callable[[], list], *, peak_date: bool = True):
    """The summaries (:data:`SUMMARY`) of the tracks ``on_track`` keeps (a function of a track id column): the rollup's
    rows, and for the charts whose rankings changed since it was refreshed (none after a sync) the entries that
    ``counted()`` keeps, summed up in SQL (their ``peak_date`` only with ``peak_date``)."""
    rows = select(*(TCR.c[c] for c in SUMMARY)).where(on_track(TCR.c.track_id))
    changed = stale(conn)
    if not changed:
        return rows
    live = summary_query(conn, [*counted(), among(conn, E.c.chart_id, changed)], peak_date=peak_date).subquery()
    return union_all(rows.where(TCR.c.chart_id.not_in(changed)), select(*(live.c[c] for c in SUMMARY)))


def on_latest(last_date):
    """A track's ``last_date`` on a chart is the chart's ``last_ranking_date`` (the newest successful ranking's, in
    a statement joining ``chart``): the chart's latest ranking holds the track."""
    return last_date == C.c.last_ranking_date


def charting_now(conn: Connection, on_track: Callable) -> list[tuple]:
    """(track_id, chart_id, date, position) of the tracks ``on_track`` keeps (a function of a track id column) on
    each chart's latest ranking, when that ranking is a success: from the rollup (a track's last date on a chart is
    the chart's ``last_ranking_date``), and for the stale charts from the entries of their latest rankings."""
    changed = stale(conn)
    rows = (select(TCR.c.track_id, TCR.c.chart_id, TCR.c.last_date, TCR.c.last_position)
            .join_from(TCR, C, C.c.id == TCR.c.chart_id)
            .where(on_track(TCR.c.track_id), on_latest(TCR.c.last_date)))
    found = [tuple(row) for row in conn.execute(rows.where(TCR.c.chart_id.not_in(changed)) if changed else rows)]
    if not changed:
        return found
    # index probes per chart and date, however long the tracks' histories are (a join would let PostgreSQL's
    # planner, which expects a track to have the average number of entries, read a year-long hit's whole history)
    pairs = {(c, as_date(d)) for c, d in conn.execute(select(C.c.id, C.c.last_ranking_date).where(
        among(conn, C.c.id, changed), exists().where(R.c.chart_id == C.c.id, R.c.ranking_date == C.c.last_ranking_date,
                                                    SUCCESS)))}
    if not pairs:
        return found
    live = select(E.c.track_id, E.c.chart_id, E.c.ranking_date, E.c.position).where(
        on_track(E.c.track_id), among(conn, E.c.chart_id, sorted({c for c, _ in pairs})),
        E.c.ranking_date.in_(sorted({d for _, d in pairs})))
    return found + [(t, c, as_date(d), p) for t, c, d, p in conn.execute(live) if (c, as_date(d)) in pairs]


def refresh(engine: Engine) -> list[str]:
    """Bring every stale chart's rows up to date, in one transaction and one snapshot; return what was done."""
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:  # the lock first, in its own statement: the snapshot below starts once it is held
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({LOCK_KEY})")
            conn.commit()
            conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            with conn.begin():
                if not postgres:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: the write lock now, so one snapshot
                return _refresh_on(conn)
        finally:
            if postgres:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK_KEY})")
                conn.commit()


def _refresh_on(conn: Connection) -> list[str]:
    """A handful of statements however many charts are stale (a sync changes every chart it follows)."""
    charts = stale(conn)
    if not charts:
        return []
    built = {row.chart_id: tuple(row[1:]) for row in conn.execute(
        select(TCRC.c.chart_id, *(TCRC.c[c] for c in STAMP)).where(among(conn, TCRC.c.chart_id, charts)))}
    bound = select(TCRC.c.max_ranking_id).where(TCRC.c.chart_id == R.c.chart_id).scalar_subquery()
    kept = _stamps(conn, list(built), R.c.id <= bound)  # the rankings the rows hold, as stored now
    added = [c for c in charts if c in built and kept.get(c, EMPTY) == built[c]]
    rebuilt = [c for c in charts if c not in added]
    if added:
        newer = conn.execute(select(R.c.id).where(among(conn, R.c.chart_id, added), R.c.id > bound, SUCCESS))
        _add(conn, added, newer.scalars().all())
    if rebuilt:
        _rebuild(conn, rebuilt)
    _record(conn, charts)
    return [f"{len(ids)} chart{'' if len(ids) == 1 else 's'} {what}" for ids, what in
            ((added, "brought up to date with their new rankings"), (rebuilt, "rebuilt")) if ids]


EMPTY = (0, 0, 0, None)


def _stamps(conn: Connection, charts: list[int], *where) -> dict[int, tuple]:
    """Per chart, its successful rankings (those ``where`` keeps) counted and summed up (charts without any: none)."""
    if not charts:
        return {}
    q = (select(R.c.chart_id, func.count(), func.sum(R.c.entry_count), func.sum(R.c.id), func.max(R.c.fetched_at))
         .where(among(conn, R.c.chart_id, charts), SUCCESS, *where).group_by(R.c.chart_id))
    return {c: (int(n), int(entries), int(ids), last) for c, n, entries, ids, last in conn.execute(q)}


def _counted(conn: Connection, charts: list[int], ranking_ids: list[int] | None = None) -> list:
    """The entries that count on ``charts``: those of their successful rankings (of ``ranking_ids`` when given)."""
    of = E.c.ranking_id.in_(select(R.c.id).where(among(conn, R.c.chart_id, charts), SUCCESS)) \
        if ranking_ids is None else among(conn, E.c.ranking_id, ranking_ids)
    return [among(conn, E.c.chart_id, charts), of]


def _rebuild(conn: Connection, charts: list[int]) -> None:
    conn.execute(TCR.delete().where(among(conn, TCR.c.chart_id, charts)))
    conn.execute(TCR.insert().from_select(BUILT, summary_query(conn, _counted(conn, charts))))


def _add(conn: Connection, charts: list[int], ranking_ids: list[int]) -> None:
    """Merge the entries of the rankings ``ranking_ids`` of ``charts`` (not in their rows yet) into their rows."""
    if not ranking_ids:
        return
    lo, hi = conn.execute(select(func.min(R.c.ranking_date), func.max(R.c.ranking_date))
                          .where(among(conn, R.c.id, ranking_ids))).one()
    new = summary_query(conn, [*_counted(conn, charts, ranking_ids), E.c.ranking_date.between(lo, hi)])
    insert = dialect_insert(conn, TCR).from_select(BUILT, new)
    old, x = TCR.c, insert.excluded
    later, earlier = x.last_date > old.last_date, x.first_date < old.first_date
    better = x.peak_position < old.peak_position
    conn.execute(insert.on_conflict_do_update(index_elements=["track_id", "chart_id"], set_={
        "first_date": case((earlier, x.first_date), else_=old.first_date),
        "last_date": case((later, x.last_date), else_=old.last_date),
        "appearances": old.appearances + x.appearances,
        "rankings": old.rankings + x.rankings,  # new rankings: dates the rows did not hold (one ranking per date)
        "peak_position": case((better, x.peak_position), else_=old.peak_position),
        "peak_date": case((better, x.peak_date),
                          (and_(x.peak_position == old.peak_position, x.peak_date < old.peak_date), x.peak_date),
                          else_=old.peak_date),
        "last_position": case((later, x.last_position), else_=old.last_position),
    }))


def _record(conn: Connection, charts: list[int]) -> None:
    """Each chart's rows now hold its rankings as stored: its version, its largest ranking id and its successful
    rankings summed up."""
    versions = dict(conn.execute(select(C.c.id, C.c.rankings_version).where(among(conn, C.c.id, charts))).all())
    largest = dict(conn.execute(select(R.c.chart_id, func.max(R.c.id)).where(among(conn, R.c.chart_id, charts))
                                .group_by(R.c.chart_id)).all())
    stamps, now = _stamps(conn, charts), utcnow()
    rows = [{"chart_id": c, "version": versions[c], "max_ranking_id": largest.get(c, 0), "refreshed_at": now,
             **dict(zip(STAMP, stamps.get(c, EMPTY), strict=True))} for c in charts if c in versions]
    conn.execute(TCRC.delete().where(among(conn, TCRC.c.chart_id, charts)))
    if rows:
        conn.execute(TCRC.insert(), rows)


def lock_charts(conn: Connection, chart_ids: Iterable[int]) -> None:
    """PostgreSQL: lock the charts' rows in id order before their rankings change (the trigger updates each chart
    row), so concurrent writers of shared charts never wait on each other in a cycle."""
    ids = sorted(set(chart_ids))
    if conn.dialect.name == "postgresql" and ids:
        conn.execute(select(C.c.id).where(C.c.id.in_(ids)).order_by(C.c.id)
                     .with_for_update(key_share=True))
