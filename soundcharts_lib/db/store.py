"""Writes for chart sync: platforms, charts, tracks and whole rankings (one transaction each)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..payloads import ChartInfo, Ranking
from ..payloads import Platform as PlatformRecord
from .models import Chart, ChartRanking, ChartRankingEntry, Platform, Track, utcnow
from .upsert import bulk_insert, id_map, upsert

PLATFORM_T = Platform.__table__
CHART_T = Chart.__table__
RANKING_T = ChartRanking.__table__
ENTRY_T = ChartRankingEntry.__table__
TRACK_T = Track.__table__


def upsert_platforms(engine: Engine, platforms: Iterable[PlatformRecord], *, charts: bool = False,
                     audience: bool = False) -> None:
    """Record platforms; flags only ever turn on (a platform listed for charts keeps that)."""
    rows = [{"slug": p.code, "name": p.name} for p in platforms]
    if not rows:
        return
    with engine.begin() as conn:
        upsert(conn, PLATFORM_T, [dict(r, supports_charts=False, supports_audience=False) for r in rows],
               ["slug"], update=["name"])
        slugs = [r["slug"] for r in rows]
        if charts:
            conn.execute(update(PLATFORM_T).where(PLATFORM_T.c.slug.in_(slugs)).values(supports_charts=True))
        if audience:
            conn.execute(update(PLATFORM_T).where(PLATFORM_T.c.slug.in_(slugs)).values(supports_audience=True))


def platform_ids(conn: Connection, slugs: Iterable[str]) -> dict[str, int]:
    slugs = list(slugs)
    upsert(conn, PLATFORM_T, [{"slug": s, "name": s, "supports_charts": False, "supports_audience": False}
                              for s in slugs], ["slug"], update=())
    return id_map(conn, PLATFORM_T, "slug", slugs)


def _chart_row(info: ChartInfo, platform_id: int) -> dict:
    return {
        "slug": info.slug, "name": info.name, "platform_id": platform_id, "type": info.type,
        "frequency": info.frequency, "country_code": info.country_code, "country_name": info.country_name,
        "city_name": info.city_name, "max_results": info.max_results, "web_url": info.web_url,
        "metric_type": info.metric_type, "metric_description": info.metric_description, "is_active": True,
    }


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
        upsert(conn, CHART_T, rows, ["slug"])
        slugs = [c.slug for c in charts]
        ids = id_map(conn, CHART_T, "slug", slugs)
        if ids:
            conn.execute(update(CHART_T).where(CHART_T.c.id.in_(list(ids.values()))).values(last_seen_at=now))
        if platform:
            gone = update(CHART_T).where(CHART_T.c.platform_id == pids[platform], CHART_T.c.is_active.is_(True))
            if slugs:
                gone = gone.where(CHART_T.c.slug.not_in(slugs))
            if country:
                gone = gone.where(CHART_T.c.country_code == country.upper())
            conn.execute(gone.values(is_active=False))
    return ids


def stored_ranking_dates(engine: Engine, chart_id: int) -> set[date]:
    """Dates of this chart's rankings stored successfully."""
    with engine.connect() as conn:
        rows = conn.execute(select(RANKING_T.c.ranking_date).where(
            RANKING_T.c.chart_id == chart_id, RANKING_T.c.status == "success"))
        return {r[0] for r in rows}


def _track_rows(ranking: Ranking) -> list[dict]:
    seen: dict[str, dict] = {}
    for e in ranking.entries:
        seen[e.song.uuid] = {"uuid": e.song.uuid, "name": e.song.name, "credit_name": e.song.credit_name,
                             "image_url": e.song.image_url}
    return list(seen.values())


def _entry_rows(ranking: Ranking, ranking_id: int, track_ids: dict[str, int]) -> list[dict]:
    return [{
        "ranking_id": ranking_id, "track_id": track_ids[e.song.uuid], "position": e.position,
        "old_position": e.old_position, "position_evolution": e.position_evolution,
        "entry_state": e.entry_state, "entry_date": e.entry_date, "rank_date": e.rank_date,
        "time_on_chart": e.time_on_chart, "time_on_chart_unit": e.time_on_chart_unit, "metric": e.metric,
    } for e in ranking.entries]


def store_ranking(engine: Engine, chart_id: int, ranking: Ranking, *, force: bool = False) -> int:
    """Store a ranking whole (all entries, in one transaction) and return how many entries were written.

    An already stored successful ranking of that date is kept (0 returned) unless ``force``; a failed one
    is replaced. Tracks are upserted in bulk with one UUID -> id lookup per batch.
    """
    with engine.begin() as conn:
        existing = conn.execute(select(RANKING_T.c.id, RANKING_T.c.status).where(
            RANKING_T.c.chart_id == chart_id, RANKING_T.c.ranking_date == ranking.date)).first()
        if existing is not None:
            if existing.status == "success" and not force:
                return 0
            conn.execute(ENTRY_T.delete().where(ENTRY_T.c.ranking_id == existing.id))
            conn.execute(RANKING_T.delete().where(RANKING_T.c.id == existing.id))
        tracks = _track_rows(ranking)
        upsert(conn, TRACK_T, tracks, ["uuid"], update=["name", "credit_name", "image_url"])
        track_ids = id_map(conn, TRACK_T, "uuid", [t["uuid"] for t in tracks])
        ranking_id = conn.execute(RANKING_T.insert().values(
            chart_id=chart_id, ranking_date=ranking.date, date_raw=ranking.date_raw, fetched_at=utcnow(),
            status="success", entry_count=len(ranking.entries)).returning(RANKING_T.c.id)).scalar_one()
        bulk_insert(conn, ENTRY_T, _entry_rows(ranking, ranking_id, track_ids))
        _mark_success(conn, chart_id, ranking.date)
    return len(ranking.entries)


def _mark_success(conn: Connection, chart_id: int, ranking_date: date) -> None:
    chart = conn.execute(select(CHART_T.c.last_ranking_date).where(CHART_T.c.id == chart_id)).scalar_one()
    values = {"last_success_at": utcnow(), "consecutive_failures": 0, "last_error": None}
    if chart is None or ranking_date > chart:
        values["last_ranking_date"] = ranking_date
    conn.execute(update(CHART_T).where(CHART_T.c.id == chart_id).values(**values))


def mark_chart_checked(engine: Engine, chart_id: int) -> None:
    """A sync reached the chart and found nothing new: that is a success for health purposes."""
    with engine.begin() as conn:
        conn.execute(update(CHART_T).where(CHART_T.c.id == chart_id).values(
            last_success_at=utcnow(), consecutive_failures=0, last_error=None))


def record_chart_failure(engine: Engine, chart_id: int, error: str, ranking_date: date | None = None,
                         date_raw: str | None = None) -> None:
    """Record a failed fetch on the chart (and, for a known date not yet stored, a failed ranking row)."""
    with engine.begin() as conn:
        conn.execute(update(CHART_T).where(CHART_T.c.id == chart_id).values(
            last_error=error[:2000], last_error_at=utcnow(),
            consecutive_failures=CHART_T.c.consecutive_failures + 1))
        if ranking_date is not None:
            upsert(conn, RANKING_T, [{
                "chart_id": chart_id, "ranking_date": ranking_date, "date_raw": date_raw or ranking_date.isoformat(),
                "fetched_at": utcnow(), "status": "failed", "error": error[:2000], "entry_count": 0,
            }], ["chart_id", "ranking_date"], update=())
