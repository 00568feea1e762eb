"""Writes for chart sync: platforms, charts, tracks and whole rankings (one transaction each)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from operator import itemgetter

from sqlalchemy import Date, bindparam, case, or_, select, update
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry
from soundcharts_lib.api.payloads import Platform as PlatformRecord
from soundcharts_lib.db import chart_rollup
from soundcharts_lib.db.models import (
    utcnow,
)
from soundcharts_lib.db.tables import DROP, C, E, P, R, T
from soundcharts_lib.db.upsert import BATCH, DriverDates, bulk_insert, dialect_insert, id_map, misfit, upsert
from soundcharts_lib.errors import PayloadError


def upsert_platforms(engine: Engine, platforms: Iterable[PlatformRecord], *, charts: bool = False,
                     audience: bool = False) -> None:
    """Record platforms; flags only ever turn on (a platform listed for charts keeps that)."""
    rows = [{"slug": p.code, "name": p.name} for p in platforms]
    if not rows:
        return
    _check(P, rows, "platform")
    with engine.begin() as conn:
        upsert(conn, P, [dict(r, supports_charts=False, supports_audience=False) for r in rows],
               ["slug"], update=["name"])
        slugs = [r["slug"] for r in rows]
        if charts:
            conn.execute(update(P).where(P.c.slug.in_(slugs)).values(supports_charts=True))
        if audience:
            conn.execute(update(P).where(P.c.slug.in_(slugs)).values(supports_audience=True))


def platform_ids(conn: Connection, slugs: Iterable[str]) -> dict[str, int]:
    slugs = list(slugs)
    upsert(conn, P, [{"slug": s, "name": s, "supports_charts": False, "supports_audience": False}
                              for s in slugs], ["slug"], update=())
    return id_map(conn, P, "slug", slugs)


def _chart_row(info: ChartInfo, platform_id: int) -> dict:
    return {
        "slug": info.slug, "name": info.name, "platform_id": platform_id, "type": info.type,
        "frequency": info.frequency, "country_code": info.country_code, "country_name": info.country_name,
        "city_name": info.city_name, "max_results": info.max_results, "web_url": info.web_url,
        "metric_type": info.metric_type, "metric_description": info.metric_description, "is_active": True,
    }


def unfit_charts(charts: Sequence[ChartInfo]) -> dict[str, str]:
    """``{slug: why}`` for the charts whose metadata the chart table cannot hold as sent (a text longer than its
    column, a NUL): a platform's list is stored without them rather than refused whole."""
    problems = {c.slug: misfit(C, _chart_row(c, 0)) for c in charts}
    return {slug: why for slug, why in problems.items() if why}


def upsert_charts(engine: Engine, charts: Sequence[ChartInfo], *, platform: str | None = None,
                  country: str | None = None) -> dict[str, int]:
    """Upsert chart metadata; return ``{slug: id}``.

    With ``platform`` given, ``charts`` is that platform's complete list (for ``country`` if given): charts of
    that scope that are no longer listed become inactive, never deleted.
    """
    now = utcnow()
    with engine.begin() as conn:
        pids = platform_ids(conn, {c.platform for c in charts} | ({platform} if platform else set()))
        rows = [_chart_row(c, pids[c.platform]) for c in charts]
        _check(C, rows, "chart")
        upsert(conn, C, rows, ["slug"])
        slugs = [c.slug for c in charts]
        ids = id_map(conn, C, "slug", slugs)
        if ids:
            conn.execute(update(C).where(C.c.id.in_(list(ids.values()))).values(last_seen_at=now))
        if platform:
            gone = update(C).where(C.c.platform_id == pids[platform], C.c.is_active.is_(True))
            if slugs:
                gone = gone.where(C.c.slug.not_in(slugs))
            if country:
                gone = gone.where(C.c.country_code == country.upper())
            conn.execute(gone.values(is_active=False))
    return ids


def stored_ranking_dates(engine: Engine, chart_id: int) -> set[date]:
    """Dates of this chart's rankings stored successfully."""
    with engine.connect() as conn:
        rows = conn.execute(select(R.c.ranking_date).where(
            R.c.chart_id == chart_id, R.c.status == "success"))
        return {r[0] for r in rows}


def _track_rows(rankings: Iterable[Ranking]) -> list[dict]:
    """One row per distinct song of ``rankings`` (the last one seen wins)."""
    songs = {e.song.uuid: e.song for r in rankings for e in r.entries}
    return [{"uuid": s.uuid, "name": s.name, "credit_name": s.credit_name, "image_url": s.image_url}
            for s in songs.values()]


TRACK_FIELDS = ("name", "credit_name", "image_url")
_fields = itemgetter(*TRACK_FIELDS)


def ensure_tracks(conn: Connection, tracks: Sequence[dict]) -> dict[str, int]:
    """``{uuid: id}`` for ``tracks``, inserting new ones and updating changed names.

    One lookup (per 500 tracks on SQLite), then one write of the new and changed tracks only: tracks already
    stored as given cost no write at all (a ranking mostly repeats yesterday's tracks).
    """
    pg = conn.dialect.name == "postgresql"
    uuids = [t["uuid"] for t in tracks]
    stored: dict[str, tuple] = {}
    step = max(1, len(uuids)) if pg else BATCH  # PostgreSQL takes the whole list as one array
    for i in range(0, len(uuids), step):
        for row in _tracks_by_uuid(conn, uuids[i:i + step]):
            stored[row[0]] = tuple(row[1:])
    ids = {u: v[0] for u, v in stored.items()}
    # in UUID order: concurrent syncs then lock the tracks they share in the same order (no deadlock)
    to_write = sorted((t for t in tracks if t["uuid"] not in stored or _fields(t) != stored[t["uuid"]][1:]),
                      key=itemgetter("uuid"))
    if to_write and pg:
        ids.update(_upsert_tracks_pg(conn, to_write))
    elif to_write:
        upsert(conn, T, to_write, ["uuid"], update=list(TRACK_FIELDS))
    missing = [t["uuid"] for t in to_write if t["uuid"] not in ids]
    if missing:  # SQLite; on PostgreSQL only a track a concurrent sync wrote identically meanwhile
        ids.update(id_map(conn, T, "uuid", missing))
    return ids


def _upsert_tracks_pg(conn: Connection, rows: Sequence[dict]) -> dict[str, int]:
    """One statement for any number of tracks (arrays unnested server-side, no per-row SQL to build); returns
    ``{uuid: id}`` of the rows it inserted or changed. Arrays go in binary (``%()b``): the text format quotes
    every element, several times the cost."""
    cols = ("uuid", *TRACK_FIELDS)
    changed = " OR ".join(f"track.{c} IS DISTINCT FROM excluded.{c}" for c in TRACK_FIELDS)
    return dict(conn.exec_driver_sql(
        f"INSERT INTO track ({', '.join(cols)}, first_seen_at) "
        f"SELECT *, %(now)s FROM unnest({', '.join(f'%({c})b::varchar[]' for c in cols)}) "
        f"ON CONFLICT (uuid) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in TRACK_FIELDS)} WHERE {changed} "
        "RETURNING uuid, id",
        {"now": utcnow(), **{c: [r[c] for r in rows] for c in cols}}).all())


def _tracks_by_uuid(conn: Connection, uuids: list[str]):
    """(uuid, id, name, credit_name, image_url) rows, as plain driver SQL: this lookup runs for every batch."""
    cols = "uuid, id, " + ", ".join(TRACK_FIELDS)
    if conn.dialect.name == "postgresql":
        # a join on unnest() hashes or uses the index; "= ANY(param)" compares every row with every element
        return conn.exec_driver_sql(f"SELECT {cols} FROM track JOIN unnest(%(u)b::varchar[]) AS wanted(uuid) "
                                    "USING (uuid)", {"u": uuids})
    return conn.exec_driver_sql(f"SELECT {cols} FROM track WHERE uuid IN ({', '.join('?' * len(uuids))})",
                                tuple(uuids))


ENTRY_COLUMNS = ("ranking_id", "ranking_date", "chart_id", "track_id", "position", "old_position",
                 "position_evolution", "entry_state", "entry_date", "rank_date", "time_on_chart", "time_on_chart_unit",
                 "metric")
DROPOUT_COLUMNS = ("ranking_id", "track_id", "old_position", "position_evolution", "entry_state", "entry_date",
                   "rank_date", "time_on_chart", "time_on_chart_unit", "metric")


def positioned(ranking: Ranking) -> list[RankingEntry]:
    """The ranking's entries; its position-0 items (songs no longer in the chart) are its drop-outs."""
    return [e for e in ranking.entries if e.position != 0]


def _entry_rows(ranking: Ranking, ranking_id: int, chart_id: int, track_ids: dict[str, int],
                dates: DriverDates) -> list[tuple]:
    """Entries as tuples in ``ENTRY_COLUMNS`` order: the ranking's id, date and chart, then the API's fields as given
    (dates as the driver takes them)."""
    day = dates[ranking.date]
    return [(ranking_id, day, chart_id, track_ids[e.song.uuid], e.position, e.old_position, e.position_evolution,
             e.entry_state, dates[e.entry_date], dates[e.rank_date], e.time_on_chart, e.time_on_chart_unit, e.metric)
            for e in positioned(ranking)]


def _dropout_rows(ranking: Ranking, ranking_id: int, track_ids: dict[str, int], dates: DriverDates) -> list[tuple]:
    """The position-0 items as tuples in ``DROPOUT_COLUMNS`` order, the API's fields as given."""
    return [(ranking_id, track_ids[e.song.uuid], e.old_position, e.position_evolution, e.entry_state,
             dates[e.entry_date], dates[e.rank_date], e.time_on_chart, e.time_on_chart_unit, e.metric)
            for e in ranking.entries if e.position == 0]


def _check(table, rows: Iterable[dict], what: str) -> None:
    for row in rows:
        problem = misfit(table, row)
        if problem:
            raise PayloadError(f"{what} {str(row.get('slug') or row.get('uuid'))[:60]!r}: {problem}", field=what)


def check_ranking(ranking: Ranking) -> None:
    """``PayloadError`` for a ranking the tables cannot hold as sent (a position other than 0 twice, a text too long
    for its column or with a NUL character, a number beyond its column's range): it then fails alone, before any
    write. Position 0 ("no longer in the chart") may come any number of times: those are the drop-outs."""
    problems = [misfit(R, {"date_raw": ranking.date_raw})]
    seen: set[int] = set()
    for i, e in enumerate(ranking.entries):
        song = misfit(T, {"uuid": e.song.uuid, "name": e.song.name, "credit_name": e.song.credit_name,
                                "image_url": e.song.image_url})
        fields = misfit(E, {"position": e.position, "old_position": e.old_position,
                                  "position_evolution": e.position_evolution, "entry_state": e.entry_state,
                                  "time_on_chart": e.time_on_chart, "time_on_chart_unit": e.time_on_chart_unit,
                                  "metric": e.metric})
        problems += [e.position and e.position in seen and f"items[{i}]: position {e.position} twice",
                     song and f"items[{i}].song.{song}", fields and f"items[{i}].{fields}"]
        seen.add(e.position)
    problem = next((p for p in problems if p), None)
    if problem:
        raise PayloadError(f"the ranking of {ranking.date} cannot be stored: {problem}", field="items")


def store_ranking(engine: Engine, chart_id: int, ranking: Ranking, *, force: bool = False) -> int:
    """Store one ranking whole; see :func:`store_rankings`."""
    return store_rankings(engine, [(chart_id, ranking)], force=force)[0]


def store_rankings(engine: Engine, batch: Sequence[tuple[int, Ranking]], *, force: bool = False) -> list[int]:
    """Store rankings whole, all in one transaction, and return the entries written for each.

    A ranking is never half-stored: its row, every entry and every drop-out (position-0 item, see
    :func:`positioned`) commit together (or, if anything fails, none of the batch does). An already stored
    successful ranking of that chart and date is kept (0 written) unless ``force``; a failed one is replaced. One
    stored meanwhile by a concurrent sync (or twice in ``batch``) is kept too: rankings are inserted or skipped on
    their (chart, date) key, never failing on it. Tracks are upserted once for the batch, with one UUID -> id
    lookup per 500 tracks; entries and drop-outs go in with one bulk insert each (COPY on PostgreSQL).
    """
    if not batch:
        return []
    written = [0] * len(batch)
    with engine.begin() as conn:
        chart_rollup.lock_charts(conn, [c for c, _ in batch])
        existing = _existing_rankings(conn, batch)
        todo = []
        for i, (chart_id, ranking) in enumerate(batch):
            found = existing.get((chart_id, ranking.date))
            if found is not None and found[1] == "success" and not force:
                continue
            if found is not None:
                conn.execute(E.delete().where(E.c.ranking_id == found[0]))
                conn.execute(DROP.delete().where(DROP.c.ranking_id == found[0]))
                conn.execute(R.delete().where(R.c.id == found[0]))
            todo.append(i)
        if not todo:
            return written
        track_ids = ensure_tracks(conn, _track_rows(batch[i][1] for i in todo))
        now = utcnow()
        # executemany with RETURNING: one cached statement (SQLAlchemy's "insertmanyvalues"), one round trip
        inserted = conn.execute(dialect_insert(conn, R)
                                .on_conflict_do_nothing(index_elements=["chart_id", "ranking_date"])
                                .returning(R.c.id, R.c.chart_id, R.c.ranking_date), [{
            "chart_id": batch[i][0], "ranking_date": batch[i][1].date, "date_raw": batch[i][1].date_raw,
            "fetched_at": now, "status": "success", "entry_count": len(positioned(batch[i][1]))}
            for i in todo]).all()
        ranking_ids = {(c, _as_date(d)): rid for rid, c, d in inserted}
        entries, dropouts = [], []
        dates = DriverDates(conn)
        latest: dict[int, date] = {}
        for i in todo:
            chart_id, ranking = batch[i]
            ranking_id = ranking_ids.pop((chart_id, ranking.date), None)
            if ranking_id is None:  # that chart and date was stored by someone else: theirs is kept
                continue
            entries.extend(_entry_rows(ranking, ranking_id, chart_id, track_ids, dates))
            dropouts.extend(_dropout_rows(ranking, ranking_id, track_ids, dates))
            written[i] = len(positioned(ranking))
            latest[chart_id] = max(latest.get(chart_id, ranking.date), ranking.date)
        bulk_insert(conn, E, ENTRY_COLUMNS, entries)
        bulk_insert(conn, DROP, DROPOUT_COLUMNS, dropouts)
        _mark_success(conn, latest)
    return written


def _existing_rankings(conn: Connection, batch) -> dict[tuple[int, date], tuple[int, str]]:
    charts = {c for c, _ in batch}
    days = [r.date for _, r in batch]
    rows = conn.execute(select(R.c.chart_id, R.c.ranking_date, R.c.id, R.c.status)
                        .where(R.c.chart_id.in_(charts),
                               R.c.ranking_date.between(min(days), max(days))))
    return {(c, _as_date(d)): (rid, status) for c, d, rid, status in rows}


def _as_date(value) -> date:
    """RETURNING on SQLite gives the stored ISO string; PostgreSQL gives a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _mark_success(conn: Connection, latest: dict[int, date]) -> None:
    """Each chart's success and newest ranking date: one executemany (pipelined on PostgreSQL), in chart order
    (concurrent syncs lock shared charts in the same order)."""
    if not latest:
        return
    last, day = C.c.last_ranking_date, bindparam("day", type_=Date)
    newer = case((or_(last.is_(None), last < day), day), else_=last)
    conn.execute(update(C).where(C.c.id == bindparam("chart")).values(
        last_success_at=utcnow(), consecutive_failures=0, last_error=None, last_ranking_date=newer),
        [{"chart": c, "day": d} for c, d in sorted(latest.items())])


def mark_chart_checked(engine: Engine, chart_id: int) -> None:
    """A sync reached the chart and found nothing new: that is a success for health purposes."""
    with engine.begin() as conn:
        conn.execute(update(C).where(C.c.id == chart_id).values(
            last_success_at=utcnow(), consecutive_failures=0, last_error=None))


def record_chart_failure(engine: Engine, chart_id: int, error: str, ranking_date: date | None = None,
                         date_raw: str | None = None) -> None:
    """Record a failed fetch on the chart (and, for a known date not yet stored, a failed ranking row)."""
    error = error.replace("\x00", "")[:2000]  # the API's own message is part of it
    with engine.begin() as conn:
        conn.execute(update(C).where(C.c.id == chart_id).values(
            last_error=error, last_error_at=utcnow(),
            consecutive_failures=C.c.consecutive_failures + 1))
        if ranking_date is not None:
            upsert(conn, R, [{
                "chart_id": chart_id, "ranking_date": ranking_date,
                "date_raw": (date_raw or ranking_date.isoformat()).replace("\x00", "")[:40],
                "fetched_at": utcnow(), "status": "failed", "error": error, "entry_count": 0,
            }], ["chart_id", "ranking_date"], update=())
