"""Writes and lookups for a song's reach: its chart entries everywhere (``track_chart_reach``), its popularity
(``track_popularity``) and its current playlists (``playlist_snapshot``), and when each series was last asked for
(``series_check``, subject "track", series "charts", "popularity" or "playlists").

Chart entries and playlists are snapshots: what the API said on the day they were fetched (``fetched_on``, UTC). A
day's snapshot of a track on a platform is replaced whole, its check with it, in one transaction, or not at all (a
row the table cannot hold raises ``PayloadError`` before any write). An empty answer is an empty snapshot: the
check's ``had_data`` is then false, and the snapshots stored before it are history, not what the song has now.
Popularity is a series: one value per (track, platform, day), upserted and rewritten only when it differs; a day the
API did not send stays absent. A check that failed (404, 410, a 400 for the platform) keeps ``had_data`` from the
last answer and records ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Table, case, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from soundcharts_lib.api.payloads_reach import ChartEntry, PlaylistEntry, PopularityPoint
from soundcharts_lib.db.base import utcnow
from soundcharts_lib.db.filters import among
from soundcharts_lib.db.store import platform_ids
from soundcharts_lib.db.tables import PL, POP, REACH, SCHK, TPI, C, E, P, T
from soundcharts_lib.db.upsert import BATCH, dialect_insert, id_map, misfit
from soundcharts_lib.errors import PayloadError

SUBJECT = "track"
SERIES = ("charts", "popularity", "playlists")
SNAPSHOTS: dict[str, Table] = {"charts": REACH, "playlists": PL}
ERROR_MAX = 500
CHECK_KEY = ["subject", "subject_id", "platform_id", "series"]


# -- rows -------------------------------------------------------------------------------------------------------

def chart_rows(entries: Iterable[ChartEntry]) -> list[dict]:
    """One row per chart (the first item of a chart the API sent twice), without track, platform and day."""
    rows: dict[str, dict] = {}
    for e in entries:
        rows.setdefault(e.chart.slug, {
            "chart_slug": e.chart.slug, "chart_name": e.chart.name, "chart_type": e.chart.type,
            "country_code": e.chart.country_code, "position": e.position, "position_evolution": e.position_evolution,
            "peak_position": e.peak_position, "peak_date": e.peak_date, "entry_state": e.entry_state,
            "rank_date": e.rank_date, "time_on_chart": e.time_on_chart, "time_on_chart_unit": e.time_on_chart_unit})
    return list(rows.values())


def playlist_rows(entries: Iterable[PlaylistEntry]) -> list[dict]:
    """One row per playlist (the first item of a playlist the API sent twice), without track, platform and day."""
    rows: dict[str, dict] = {}
    for e in entries:
        p = e.playlist
        rows.setdefault(p.uuid, {
            "playlist_uuid": p.uuid, "playlist_name": p.name, "playlist_type": p.type, "country_code": p.country_code,
            "subscribers": p.latest_subscriber_count, "position": e.position, "peak_position": e.peak_position,
            "entry_date": e.entry_date})
    return list(rows.values())


def popularity_values(points: Iterable[PopularityPoint]) -> dict[date, int]:
    """``{day: value}``: on a day with several identifiers (duplicates of the song, rated apart), the most popular."""
    values: dict[date, int] = {}
    for point in points:
        values[point.date] = max(point.value, values.get(point.date, point.value))
    return values


def _checked(table: Table, rows: Sequence[dict], what: str) -> None:
    for i, row in enumerate(rows):
        problem = misfit(table, row)
        if problem:
            raise PayloadError(f"the {what} cannot be stored: items[{i}].{problem}", field=f"items[{i}]")


# -- writes -----------------------------------------------------------------------------------------------------

def _record_check(conn: Connection, track_id: int, platform_id: int, series: str, *, had_data: bool | None,
                  error: str | None, now: datetime) -> None:
    """Upsert the series' check: ``had_data`` None (a failed ask) keeps the last answer's."""
    stmt = dialect_insert(conn, SCHK).values(subject=SUBJECT, subject_id=track_id, platform_id=platform_id,
                                             series=series, checked_at=now, had_data=bool(had_data),
                                             error=None if error is None else error[:ERROR_MAX])
    new = stmt.excluded
    changes = {"checked_at": new.checked_at, "error": new.error}
    if had_data is not None:
        changes["had_data"] = new.had_data
    conn.execute(stmt.on_conflict_do_update(index_elements=CHECK_KEY, set_=changes))


def replace_snapshot(engine: Engine, series: str, track_id: int, platform_id: int, day: date,
                     rows: Sequence[dict]) -> int:
    """Store ``rows`` (:func:`chart_rows` or :func:`playlist_rows`) as the track's ``series`` snapshot of ``day``
    on the platform, replacing that day's whole, and record the check; how many rows were stored."""
    table = SNAPSHOTS[series]
    columns = set().union(*rows)  # one statement for all rows: each names every column any of them has
    full = [{"track_id": track_id, "platform_id": platform_id, "fetched_on": day, **dict.fromkeys(columns), **row}
            for row in rows]
    _checked(table, full, f"{series} snapshot of {day}")
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.track_id == track_id, table.c.platform_id == platform_id,
                                          table.c.fetched_on == day))
        for i in range(0, len(full), BATCH):
            conn.execute(table.insert(), full[i:i + BATCH])
        _record_check(conn, track_id, platform_id, series, had_data=bool(full), error=None, now=utcnow())
    return len(full)


def store_popularity(engine: Engine, track_id: int, platform_id: int, values: dict[date, int]) -> int:
    """Upsert the track's popularity on the platform by day (rewritten only where it differs) and record the check
    in one transaction; how many days were sent."""
    now = utcnow()
    rows = [{"track_id": track_id, "platform_id": platform_id, "date": day, "value": value, "fetched_at": now}
            for day, value in sorted(values.items())]
    _checked(POP, rows, "popularity")
    with engine.begin() as conn:
        if rows:
            stmt = dialect_insert(conn, POP)
            stmt = stmt.on_conflict_do_update(
                index_elements=["track_id", "platform_id", "date"],
                set_={"value": stmt.excluded.value, "fetched_at": stmt.excluded.fetched_at},
                where=POP.c.value.is_distinct_from(stmt.excluded.value))
            for i in range(0, len(rows), BATCH):
                conn.execute(stmt, rows[i:i + BATCH])
        _record_check(conn, track_id, platform_id, "popularity", had_data=bool(rows), error=None, now=now)
    return len(rows)


def record_refusal(engine: Engine, track_id: int, platform_id: int, series: str, error: str) -> None:
    """The API refused the series (404, 410, a 400 for the platform): ``error`` recorded, what is stored kept."""
    with engine.begin() as conn:
        _record_check(conn, track_id, platform_id, series, had_data=None, error=error, now=utcnow())


# -- lookups ----------------------------------------------------------------------------------------------------

def reach_platform_ids(engine: Engine, slugs: Iterable[str]) -> dict[str, int]:
    """``{slug: id}``, recording a platform not stored yet under its code (a sync names it later)."""
    with engine.begin() as conn:
        return platform_ids(conn, sorted(set(slugs)))


def track_ids(engine: Engine, uuids: Iterable[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return id_map(conn, T, "uuid", uuids)


def without_metadata(engine: Engine, track_ids: Sequence[int]) -> set[int]:
    """The tracks among ``track_ids`` whose metadata (and so their platform identifiers) was never fetched."""
    with engine.connect() as conn:
        q = select(T.c.id).where(among(conn, T.c.id, track_ids), T.c.metadata_fetched_at.is_(None))
        return set(conn.execute(q).scalars())


def track_platforms(engine: Engine, track_ids: Sequence[int]) -> dict[int, set[str]]:
    """``{track id: platform codes}``: the platforms it has an identifier on, and those of the synced charts it has
    been on."""
    out: dict[int, set[str]] = {tid: set() for tid in track_ids}
    with engine.connect() as conn:
        for i in range(0, len(track_ids), BATCH):
            chunk = list(track_ids[i:i + BATCH])
            idents = select(TPI.c.track_id, TPI.c.platform_code).distinct().where(among(conn, TPI.c.track_id, chunk))
            charted = (select(E.c.track_id, E.c.chart_id).distinct().where(among(conn, E.c.track_id, chunk))
                       .subquery())
            synced = (select(charted.c.track_id, P.c.slug).distinct()
                      .join(C, C.c.id == charted.c.chart_id).join(P, P.c.id == C.c.platform_id))
            for tid, code in [*conn.execute(idents), *conn.execute(synced)]:
                if code != "isrc":  # an ISRC row is not a platform
                    out[tid].add(code)
    return out


def popularity_ranges(engine: Engine, track_ids: Sequence[int]) -> dict[tuple[int, int], tuple[date, date]]:
    """``{(track, platform): (first, last stored day)}`` of the tracks' popularity."""
    out = {}
    with engine.connect() as conn:
        for i in range(0, len(track_ids), BATCH):
            q = (select(POP.c.track_id, POP.c.platform_id, func.min(POP.c.date), func.max(POP.c.date))
                 .where(among(conn, POP.c.track_id, list(track_ids[i:i + BATCH])))
                 .group_by(POP.c.track_id, POP.c.platform_id))
            out.update({(t, p): (first, last) for t, p, first, last in conn.execute(q)})
    return out


def refused_platforms(engine: Engine, *, days: int) -> set[tuple[str, str]]:
    """``{(series, platform code)}`` the API refused as a platform (a 400) for some track in the last ``days``
    days: not asked again before then."""
    since = utcnow() - timedelta(days=days)
    q = (select(SCHK.c.series, P.c.slug).distinct().join(P, P.c.id == SCHK.c.platform_id)
         .where(SCHK.c.subject == SUBJECT, SCHK.c.error.like("HTTP 400%"), SCHK.c.checked_at >= since))
    with engine.connect() as conn:
        return {(series, slug) for series, slug in conn.execute(q)}


def stale_tracks(engine: Engine, roster_tracks: Select, *, roster_only: bool = False,
                 limit: int | None = None) -> list[tuple[int, str]]:
    """``(id, uuid)`` of stored tracks: the roster's (``roster_tracks``: a ``SELECT`` of track ids) first (only
    them with ``roster_only``); within that, never asked for their reach first, then the oldest latest check."""
    checked = (select(SCHK.c.subject_id.label("track_id"), func.max(SCHK.c.checked_at).label("at"))
               .where(SCHK.c.subject == SUBJECT, SCHK.c.series.in_(SERIES)).group_by(SCHK.c.subject_id).subquery())
    q = (select(T.c.id, T.c.uuid).outerjoin(checked, checked.c.track_id == T.c.id)
         .order_by(case((T.c.id.in_(roster_tracks), 0), else_=1), case((checked.c.at.is_(None), 0), else_=1),
                   checked.c.at, T.c.uuid)
         .limit(limit))
    if roster_only:
        q = q.where(T.c.id.in_(roster_tracks))
    with engine.connect() as conn:
        return [(r.id, r.uuid) for r in conn.execute(q)]
