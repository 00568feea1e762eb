"""Writes and lookups for artists: their metadata (contract 7.1) on the ``artist`` row, their followers
(``artist_audience``) and listening figures (``artist_listeners``) by platform and day, and when each series was
last asked for (``series_check``).

A series is stored whole or not at all: its points and its check in one transaction. Points are upserted by
(artist, platform, date) and rewritten only when the value differs; a day the API did not send, or sent without a
value, is absent (a gap stays a gap, never a zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from soundcharts_lib.api.payloads import Platform as PlatformRecord
from soundcharts_lib.api.payloads_artist import ArtistFollowers, ArtistListening, ArtistProfile
from soundcharts_lib.db.base import utcnow
from soundcharts_lib.db.store import upsert_platforms
from soundcharts_lib.db.tables import AFOL, ALIS, SCHK, SUCCESS, TA, A, E, P, R
from soundcharts_lib.db.upsert import BATCH, dialect_insert, id_map, misfit, upsert
from soundcharts_lib.errors import PayloadError

SUBJECT = "artist"
SERIES: dict[str, tuple[Table, str]] = {"followers": (AFOL, "followers"), "listeners": (ALIS, "value")}
ERROR_MAX = 500
SeriesKey = tuple[int, int, str]  # (artist id, platform id, series)


# -- metadata -------------------------------------------------------------------------------------------------

def artist_ids(engine: Engine, uuids: Iterable[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return id_map(conn, A, "uuid", uuids)


def _profile_row(profile: ArtistProfile) -> dict:
    return {"uuid": profile.uuid, "slug": profile.slug, "name": profile.name, "app_url": profile.app_url,
            "image_url": profile.image_url, "country_code": profile.country_code, "genres": list(profile.genres),
            "career_stage": profile.career_stage, "growth_level": profile.growth_level,
            "artist_type": profile.type}


def _checked_profile(profile: ArtistProfile) -> dict:
    row = _profile_row(profile)
    problem = misfit(A, row)
    if problem:
        raise PayloadError(f"the metadata of artist {profile.uuid} cannot be stored: object.{problem}",
                           field="object")
    return row


def ensure_artist(engine: Engine, profile: ArtistProfile) -> int:
    """The artist's id, inserting it from ``profile`` first when it is not stored (a stored one is left as it is)."""
    row = _checked_profile(profile)
    with engine.begin() as conn:
        upsert(conn, A, [{k: row[k] for k in ("uuid", "slug", "name", "app_url", "image_url")}], ["uuid"], update=())
        return conn.execute(select(A.c.id).where(A.c.uuid == profile.uuid)).scalar_one()


def store_profile(engine: Engine, artist_id: int, profile: ArtistProfile) -> None:
    """The artist's metadata as the API sent it ("" for unknown is NULL), ``metadata_fetched_at`` now and
    ``metadata_error`` cleared; ``PayloadError`` before any write when a value does not fit its column."""
    row = _checked_profile(profile)
    row.pop("uuid")
    with engine.begin() as conn:
        conn.execute(update(A).where(A.c.id == artist_id)
                     .values(**row, metadata_fetched_at=utcnow(), metadata_error=None))


def record_unknown(engine: Engine, artist_id: int, message: str) -> None:
    """Why the artist's metadata could not be fetched (e.g. not known to the API); what was stored stays."""
    with engine.begin() as conn:
        conn.execute(update(A).where(A.c.id == artist_id).values(metadata_error=message[:ERROR_MAX]))


# -- series ---------------------------------------------------------------------------------------------------

def series_points(record: ArtistFollowers | ArtistListening) -> dict[date, int]:
    """``{day: value}`` of a fetched series: followers (``followerCount``) or listening values; a day without a
    value is left out."""
    if isinstance(record, ArtistFollowers):
        return {d.date: d.follower_count for d in record.days if d.follower_count is not None}
    return {d.date: d.value for d in record.days}


def series_platform_ids(engine: Engine, platforms: Sequence[PlatformRecord]) -> dict[str, int]:
    """Record ``platforms`` (their names; no song flag changes; a platform listed twice once) and return
    ``{slug: id}``."""
    platforms = list({p.code: p for p in platforms}.values())
    upsert_platforms(engine, platforms)
    with engine.connect() as conn:
        return id_map(conn, P, "slug", [p.code for p in platforms])


def store_series(engine: Engine, artist_id: int, platform_id: int, series: str, points: Mapping[date, int], *,
                 error: str | None = None) -> int:
    """Upsert one series' points and record the check (when, whether the API had any, ``error``: why not) in one
    transaction; how many points were sent. A value beyond 64 bits raises ``PayloadError`` before any write."""
    table, column = SERIES[series]
    now = utcnow()
    rows = [{"artist_id": artist_id, "platform_id": platform_id, "date": day, column: value, "fetched_at": now}
            for day, value in sorted(points.items())]
    for row in rows:
        problem = misfit(table, {column: row[column]})
        if problem:
            raise PayloadError(f"the {series} of {row['date']} cannot be stored: {problem}", field="items")
    with engine.begin() as conn:
        check = dialect_insert(conn, SCHK).values(subject=SUBJECT, subject_id=artist_id, platform_id=platform_id,
                                                  series=series, checked_at=now, had_data=bool(rows),
                                                  error=None if error is None else error[:ERROR_MAX])
        new = check.excluded
        conn.execute(check.on_conflict_do_update(
            index_elements=["subject", "subject_id", "platform_id", "series"],
            set_={"checked_at": new.checked_at, "had_data": new.had_data, "error": new.error}))
        if rows:
            stmt = dialect_insert(conn, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=["artist_id", "platform_id", "date"],
                set_={column: stmt.excluded[column], "fetched_at": stmt.excluded.fetched_at},
                where=table.c[column].is_distinct_from(stmt.excluded[column]))
            for i in range(0, len(rows), BATCH):
                conn.execute(stmt, rows[i:i + BATCH])
    return len(rows)


def stored_ranges(engine: Engine, artist_ids: Sequence[int]) -> dict[SeriesKey, tuple[date, date]]:
    """``{(artist, platform, series): (first, last stored day)}`` of the artists' stored series."""
    out: dict[SeriesKey, tuple[date, date]] = {}
    with engine.connect() as conn:
        for series, (table, _) in SERIES.items():
            for i in range(0, len(artist_ids), BATCH):
                q = (select(table.c.artist_id, table.c.platform_id, func.min(table.c.date), func.max(table.c.date))
                     .where(table.c.artist_id.in_(list(artist_ids[i:i + BATCH])))
                     .group_by(table.c.artist_id, table.c.platform_id))
                out.update({(a, p, series): (first, last) for a, p, first, last in conn.execute(q)})
    return out


def last_checks(engine: Engine, artist_ids: Sequence[int]) -> dict[SeriesKey, tuple[datetime, bool]]:
    """``{(artist, platform, series): (checked_at, had_data)}`` of the artists' last checks."""
    out: dict[SeriesKey, tuple[datetime, bool]] = {}
    with engine.connect() as conn:
        for i in range(0, len(artist_ids), BATCH):
            q = (select(SCHK.c.subject_id, SCHK.c.platform_id, SCHK.c.series, SCHK.c.checked_at, SCHK.c.had_data)
                 .where(SCHK.c.subject == SUBJECT, SCHK.c.subject_id.in_(list(artist_ids[i:i + BATCH]))))
            out.update({(a, p, s): (at, bool(had)) for a, p, s, at, had in conn.execute(q)})
    return out


# -- which artists ----------------------------------------------------------------------------------------------

def chart_appearances(since: date) -> Select:
    """``(artist_id, appearances)``: entries of the artists' tracks in successful rankings from ``since`` on."""
    return (select(TA.c.artist_id, func.count().label("appearances"))
            .select_from(TA.join(E, E.c.track_id == TA.c.track_id).join(R, R.c.id == E.c.ranking_id))
            .where(SUCCESS, E.c.ranking_date >= since).group_by(TA.c.artist_id))


def stale_artists(engine: Engine, roster_artists: Select, *, today: date, limit: int | None = None,
                  charting_days: int = 30, roster_only: bool = False) -> list[tuple[int, str]]:
    """``(id, uuid)`` of stored artists (``roster_only``: only the roster's): the roster's (``roster_artists``: a
    ``SELECT`` of artist ids) before the others, artists the API did not know last time after the rest of their
    group; within that, stalest first (never checked, then the oldest latest check of their followers or
    listeners), then the most chart appearances of their tracks in the last ``charting_days`` days, then by
    UUID."""
    charted = chart_appearances(today - timedelta(days=charting_days - 1)).subquery()
    checked = (select(SCHK.c.subject_id.label("artist_id"), func.max(SCHK.c.checked_at).label("at"))
               .where(SCHK.c.subject == SUBJECT).group_by(SCHK.c.subject_id).subquery())
    q = (select(A.c.id, A.c.uuid)
         .outerjoin(charted, charted.c.artist_id == A.c.id)
         .outerjoin(checked, checked.c.artist_id == A.c.id)
         .order_by(case((A.c.id.in_(roster_artists), 0), else_=1),
                   case((A.c.metadata_error.is_(None), 0), else_=1),
                   case((checked.c.at.is_(None), 0), else_=1), checked.c.at,
                   func.coalesce(charted.c.appearances, 0).desc(), A.c.uuid)
         .limit(limit))
    if roster_only:
        q = q.where(A.c.id.in_(roster_artists))
    with engine.connect() as conn:
        return [(r.id, r.uuid) for r in conn.execute(q)]

