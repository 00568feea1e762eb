"""A warehouse as a user's first week makes it, from the local API: charts with a backfill, metadata for every track,
audience for a third of them, followers and listeners for a third of the artists, a roster with tracks and an
artist, annotations, evaluated alert rules; and what it stores (the entities whose pages the crawl builds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from conftest import local_client
from sqlalchemy import func, select

from soundcharts_lib.curation import alerts, annotations, roster
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.tables import TA, TPI, A, C, E, P, R, T
from soundcharts_lib.jobs.artists import ArtistDataProcessor
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.jobs.sync import ChartSync

BACKFILL_DAYS = 7  # ~450 tracks on the local catalog, each with a viewer and an admin page
AUDIENCE_SHARE = 3  # audience for one track in AUDIENCE_SHARE (the stalest first, as fetch-audience picks them)
ARTIST_SHARE = 3  # followers and listeners for one artist in ARTIST_SHARE (as fetch-artists picks them)
ODD_TEXT = ("<b>Single</b> out & about", "حملة الإطلاق 🚀", "x" * 300)
UNKNOWN_TRACK = "00000000-0000-4000-8000-000000000016"  # followed before any chart holds it
RULES = (("top 10", "top_entry", {"n": 10}, False), ("my top 50", "top_entry", {"n": 50}, True),
         ("back", "re_entry", None, False), ("growth", "audience_growth", {"pct": 0.5, "days": 3}, False),
         ("stale", "chart_stale", None, False))


@dataclass
class Stored:
    """What the warehouse holds, as page addresses need it."""

    platforms: list[str]
    charts: dict[str, tuple[date, date]]  # slug -> first and last stored ranking date
    tracks: list[str]  # every stored track, busiest first
    rankings: dict[str, list[date]]  # slug -> its stored ranking dates (the chart with most rankings only)
    null_tracks: dict[str, list[str]]  # a null field -> tracks with metadata lacking it
    chart_platforms: list[str] = field(default_factory=list)  # platforms with a stored ranking (the labels page)
    compared_artists: list[str] = field(default_factory=list)  # the 6 artists with most stored tracks (compare)
    artists: list[str] = field(default_factory=list)  # every stored artist, most stored tracks first


def populate(url: str, srv) -> dict:
    """Fill the migrated or empty database at ``url`` from the local server ``srv``; the runs' counts."""
    engine = make_engine(url)
    upgrade(engine)
    try:
        with local_client(srv) as client:
            synced = ChartSync(client, engine, progress=False).run(backfill_days=BACKFILL_DAYS)
            assert synced.status == "success", synced.errors
            meta = store_metadata(client, engine, progress=False)
            assert meta.status == "success" and meta.stored == meta.tracks, meta.errors
            audience = AudienceDataProcessor(client, engine, progress=False).run(
                limit=max(1, meta.tracks // AUDIENCE_SHARE))
            assert audience.failures == 0, audience.errors
            stored = survey(engine)
            artists = ArtistDataProcessor(client, engine, progress=False).run(
                limit=max(1, len(stored.artists) // ARTIST_SHARE))
            assert artists.status == "success", artists.errors
        busiest = stored.tracks[:5]
        with engine.connect() as conn:
            artist = conn.execute(select(A.c.uuid).join(TA, TA.c.artist_id == A.c.id).group_by(A.c.uuid)
                                  .order_by(func.count().desc(), A.c.uuid).limit(1)).scalar_one()
            first_seen = dict(conn.execute(
                select(T.c.uuid, func.min(R.c.ranking_date)).select_from(E.join(T, T.c.id == E.c.track_id)
                                                                          .join(R, R.c.id == E.c.ranking_id))
                .where(T.c.uuid.in_(busiest)).group_by(T.c.uuid)).all())
        for i, uuid in enumerate(busiest):
            roster.add(engine, "track", uuid, ODD_TEXT[1] if i == 0 else None, actor="crawl")
        roster.add(engine, "artist", artist, actor="crawl")
        roster.add(engine, "track", UNKNOWN_TRACK, actor="crawl")
        for uuid, note in zip(busiest, ODD_TEXT, strict=False):
            annotations.add(engine, uuid, first_seen[uuid], note, kind="release", actor="crawl")
            annotations.add(engine, uuid, first_seen[uuid] - timedelta(days=400), "long before the stored history",
                            actor="crawl")
        for name, kind, params, mine in RULES:
            alerts.add_rule(engine, name, kind, params, roster_only=mine, actor="crawl")
        fired = alerts.evaluate(engine)
        assert not fired.errors, fired.errors
        return {"tracks": meta.tracks, "audience_tracks": audience.tracks, "alerts": len(fired.fired),
                "artists": len(stored.artists)}
    finally:
        engine.dispose()


def survey(engine) -> Stored:
    """Every platform, chart and track stored, the ranking dates of the chart with most rankings, and tracks whose
    metadata lacks a field the contract lets the API leave out."""
    ok = R.c.status == "success"
    with engine.connect() as conn:
        platforms = list(conn.execute(select(P.c.slug).order_by(P.c.slug)).scalars())
        charts = {slug: (lo, hi) for slug, lo, hi in conn.execute(
            select(C.c.slug, func.min(R.c.ranking_date), func.max(R.c.ranking_date)).join(R, R.c.chart_id == C.c.id)
            .where(ok).group_by(C.c.slug).order_by(C.c.slug))}
        tracks = list(conn.execute(
            select(T.c.uuid).outerjoin(E, E.c.track_id == T.c.id).group_by(T.c.uuid)
            .order_by(func.count(E.c.track_id).desc(), T.c.uuid)).scalars())
        busiest_chart = conn.execute(select(C.c.slug).join(R, R.c.chart_id == C.c.id).where(ok).group_by(C.c.slug)
                                     .order_by(func.count().desc(), C.c.slug).limit(1)).scalar_one()
        dates = list(conn.execute(select(R.c.ranking_date).join(C, C.c.id == R.c.chart_id)
                                  .where(C.c.slug == busiest_chart, ok).order_by(R.c.ranking_date)).scalars())
        fetched = T.c.metadata_fetched_at.is_not(None)
        nulls = {}
        for name, where in (("isrc", T.c.isrc.is_(None)), ("image", T.c.image_url.is_(None)),
                            ("duration", T.c.duration.is_(None)), ("release date", T.c.release_date.is_(None))):
            nulls[name] = list(conn.execute(select(T.c.uuid).where(fetched, where).order_by(T.c.uuid)).scalars())
        nulls["identifier url"] = list(conn.execute(
            select(T.c.uuid).join(TPI, TPI.c.track_id == T.c.id).where(TPI.c.url.is_(None)).group_by(T.c.uuid)
            .order_by(T.c.uuid)).scalars())
        chart_platforms = list(conn.execute(select(P.c.slug).join(C, C.c.platform_id == P.c.id)
                                            .join(R, R.c.chart_id == C.c.id).where(ok).distinct()
                                            .order_by(P.c.slug)).scalars())
        artists = list(conn.execute(select(A.c.uuid).outerjoin(TA, TA.c.artist_id == A.c.id).group_by(A.c.uuid)
                                    .order_by(func.count(TA.c.track_id).desc(), A.c.uuid)).scalars())
    return Stored(platforms, charts, tracks, {busiest_chart: dates}, nulls, chart_platforms, artists[:6], artists)
