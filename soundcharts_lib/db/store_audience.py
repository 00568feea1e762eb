"""Writes and lookups for audience series: points upserted per (track, platform, identifier, date)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import case, func, select, union_all
from sqlalchemy.engine import Engine

from soundcharts_lib.api.payloads import AudienceDay
from soundcharts_lib.api.payloads import Platform as PlatformRecord
from soundcharts_lib.db.models import (
    utcnow,
)
from soundcharts_lib.db.store import upsert_platforms
from soundcharts_lib.db.tables import AUD, CHECK, E, P, R, T
from soundcharts_lib.db.upsert import BATCH, dialect_insert, id_map, misfit, upsert
from soundcharts_lib.errors import PayloadError

POINT_KEY = ("track_id", "platform_id", "platform_identifier", "date")


def point_rows(track_id: int, platform_id: int, days: Iterable[AudienceDay]) -> list[dict]:
    """One row per plot (a day may hold several identifiers); ``api_data`` is the day's item as received."""
    now = utcnow()
    rows: dict[tuple[str, date], dict] = {}
    for day in days:
        for plot in day.plots:
            rows[(plot.identifier, day.date)] = {
                "track_id": track_id, "platform_id": platform_id, "platform_identifier": plot.identifier,
                "date": day.date, "audience_value": plot.value, "fetched_at": now, "api_data": day.raw}
    return list(rows.values())


def store_points(engine: Engine, track_id: int, platform_id: int, days: Sequence[AudienceDay]) -> int:
    """Upsert the points of ``days`` in one transaction and return how many were sent.

    Points the table cannot hold as sent (an identifier longer than its column or with a NUL character, a value
    beyond 64 bits) raise ``PayloadError`` naming the first of them, before anything is written: the series
    fails alone and no day of it is half-stored.

    A stored point is rewritten (value, raw item, ``fetched_at``) only when its value differs, so storing the
    same days again changes no row. The check itself is recorded (``audience_check``) even when the API had no
    point, so stale-first selection does not ask for the same empty series on every run.
    """
    rows = point_rows(track_id, platform_id, days)
    check_points(rows)
    with engine.begin() as conn:
        check = dialect_insert(conn, CHECK).values(track_id=track_id, platform_id=platform_id,
                                                      checked_at=utcnow(), had_data=bool(rows))
        conn.execute(check.on_conflict_do_update(index_elements=["track_id", "platform_id"],
                                                 set_={"checked_at": check.excluded.checked_at,
                                                       "had_data": check.excluded.had_data}))
        if not rows:
            return 0
        stmt = dialect_insert(conn, AUD)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=list(POINT_KEY),
            set_={c: new[c] for c in ("audience_value", "api_data", "fetched_at")},
            where=AUD.c.audience_value.is_distinct_from(new.audience_value))
        for i in range(0, len(rows), BATCH):
            conn.execute(stmt, rows[i:i + BATCH])
    return len(rows)


def check_points(rows: Iterable[dict]) -> None:
    """``PayloadError`` for the first point row that ``track_audience`` cannot hold as it is."""
    for row in rows:
        problem = misfit(AUD, {"platform_identifier": row["platform_identifier"],
                                      "audience_value": row["audience_value"]})
        if problem:
            raise PayloadError(f"the audience of {row['date']} cannot be stored: {problem}", field="plots")


def stored_range(engine: Engine, track_id: int, platform_id: int) -> tuple[date | None, date | None]:
    """First and last stored date of one track on one platform (None, None when nothing is stored)."""
    q = select(func.min(AUD.c.date), func.max(AUD.c.date)).where(
        AUD.c.track_id == track_id, AUD.c.platform_id == platform_id)
    with engine.connect() as conn:
        first, last = conn.execute(q).one()
    return first, last


def track_ids(engine: Engine, uuids: Iterable[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return id_map(conn, T, "uuid", uuids)


def ensure_track(engine: Engine, uuid: str, name: str, credit_name: str | None, image_url: str | None) -> int:
    """The track's id, inserting it first when unknown (a stored track is left as it is)."""
    with engine.begin() as conn:
        row = {"uuid": uuid, "name": name, "credit_name": credit_name, "image_url": image_url}
        upsert(conn, T, [row], ["uuid"], update=())
        return conn.execute(select(T.c.id).where(T.c.uuid == uuid)).scalar_one()


def stale_tracks(engine: Engine, platform_ids: Sequence[int], *, today: date, limit: int | None = None,
                 charting_days: int = 30) -> list[tuple[int, str]]:
    """``(id, uuid)`` of tracks, stalest first: tracks that charted in the last ``charting_days`` days before
    the others; within each group, tracks with no audience on ``platform_ids`` first, then by the oldest
    latest ``fetched_at``."""
    platform_ids = list(platform_ids)
    since = today - timedelta(days=charting_days - 1)
    charting = (select(E.c.track_id).join(R, R.c.id == E.c.ranking_id)
                .where(R.c.status == "success", R.c.ranking_date >= since))
    asked = union_all(  # a check (with data or not) or, for rows stored before checks were kept, a fetch
        select(CHECK.c.track_id, CHECK.c.checked_at.label("at")).where(CHECK.c.platform_id.in_(platform_ids)),
        select(AUD.c.track_id, AUD.c.fetched_at).where(AUD.c.platform_id.in_(platform_ids)),
    ).subquery()
    latest = select(asked.c.track_id, func.max(asked.c.at).label("at")).group_by(asked.c.track_id).subquery()
    q = (select(T.c.id, T.c.uuid)
         .outerjoin(latest, latest.c.track_id == T.c.id)
         .order_by(case((T.c.id.in_(charting), 0), else_=1),
                   case((latest.c.at.is_(None), 0), else_=1), latest.c.at, T.c.uuid)
         .limit(limit))
    with engine.connect() as conn:
        return [(r.id, r.uuid) for r in conn.execute(q)]


def audience_platform_ids(engine: Engine, platforms: Sequence[PlatformRecord]) -> dict[str, int]:
    """Record ``platforms`` as supporting song audience and return ``{slug: id}``."""
    upsert_platforms(engine, platforms, audience=True)
    with engine.connect() as conn:
        return id_map(conn, P, "slug", [p.code for p in platforms])
