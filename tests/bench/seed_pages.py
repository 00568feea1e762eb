"""The seed's way of reading a page, timed beside ours by ``bench_dashboard.py`` and ``bench_partition.py``: one
query per day, per platform, per track, per chart and per entry, each answer combined in Python. Same data as the
viewer pages read (``warehouse.viewer_pages``): the overview (rankings per day this week and last, rankings per
platform and top tracks over 30 days, chart health), a platform page (its charts, rankings per day, top tracks), a
chart page (a ranking with each entry's previous position, peak and streak over the stored rankings, its drop-outs)
and a track page (its positions on each chart, its audience on each platform). The pages the seed did not have (an
artist, the labels' share, a comparison) are timed as ours only, on the data :func:`seed_new_pages` adds."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from soundcharts_lib.db.models import TrackAudience, utcnow
from soundcharts_lib.db.tables import AFOL, ALIS, TA, A, C, E, P, R, T
from soundcharts_lib.ui.track import HISTORY_LINES
from soundcharts_lib.warehouse import artist_pages, compare_pages, labels
from soundcharts_lib.warehouse import viewer_pages as viewer_data

AUDIENCE = TrackAudience.__table__
GOAL_MS = 50  # every viewer page's queries, at 10M entries on SQLite and 64.8M on PostgreSQL
ARTIST = "00000000-0000-4000-8000-0000000a0001"  # the hit's artist (seed_new_pages)
LABELS = [f"Label {n}" for n in range(40)]
SERIES_DAYS = 3 * 365


def machine_ms(runs: int = 7) -> float:
    """This machine's speed now: the median ms of a fixed piece of work like a page's Python side (a query-sized
    frame built, grouped and summed in pandas, a loop over its rows). The benches print it beside their figures,
    which move with it: this project's 2-core machines ran the same page a third slower or faster within an hour."""
    def work() -> int:
        rows = [(i, i % 7, f"track {i}") for i in range(20_000)]
        frame = pd.DataFrame(rows, columns=["id", "chart", "name"])
        return int(frame.groupby("chart")["id"].sum().sum()) + sum(len(name) for _, _, name in rows)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def viewer_pages(today: date, platform: str, chart: str, on: date, tracks: dict[str, str]) -> dict[str, tuple[
        Callable[[Engine], object], Callable[[Engine], object]]]:
    """Each viewer page as its dashboard reads it (``warehouse.viewer_pages``; the track page with its figure's
    charts) and as the seed's loops read the same data, each a function of an engine: ``{page: (ours, seed)}``.
    ``tracks``: ``{what the track is: uuid}``, one track page each."""
    pages = {
        "overview": (lambda e: viewer_data.overview(e, today=today), lambda e: overview(e, today)),
        "platform page": (lambda e: viewer_data.platform_page(e, platform, today=today),
                          lambda e: platform_page(e, platform, today)),
        "chart page": (lambda e: viewer_data.chart_page(e, chart, on), lambda e: chart_page(e, chart, on)),
    }
    for what, uuid in tracks.items():
        pages[f"track page, {what}"] = (lambda e, u=uuid: viewer_data.track_page(e, u, history_charts=HISTORY_LINES),
                                        lambda e, u=uuid: track_page(e, u))
    compared = list(tracks.values())
    pages |= {
        "artist page, the hit's artist": (lambda e: artist_pages.artist_page(e, ARTIST), None),
        "labels page, all charts, 30 days": (lambda e: labels.label_share(e, days=30), None),
        f"labels page, {platform}, 30 days": (lambda e: labels.label_share(e, platform=platform, days=30), None),
        "compare page, those tracks": (lambda e: compare_pages.compare(e, "tracks", compared), None),
    }
    return pages


def seed_new_pages(engine: Engine, hit_uuid: str, today: date) -> float:
    """What the artist, labels and compare pages read, added to a bench database (again on each run: idempotent):
    the hit credited to :data:`ARTIST` with 3 years of daily followers and monthly listeners on 2 platforms, a
    second artist credited on every 7th track, and every track's labels (1 or 2 of :data:`LABELS`), written as a
    metadata fetch writes them; then the label rollup refreshed as that fetch does. Returns the refresh's seconds."""
    ours = A.c.uuid.like(ARTIST[:-4] + "%")
    with engine.begin() as conn:
        conn.execute(delete(TA).where(TA.c.artist_id.in_(select(A.c.id).where(ours))))
        conn.execute(delete(AFOL))
        conn.execute(delete(ALIS))
        conn.execute(delete(A).where(ours))
        conn.execute(insert(A), [{"uuid": ARTIST, "name": "The Hit's Artist"},
                                 {"uuid": ARTIST[:-1] + "2", "name": "Every Seventh"}])
        ids = dict(conn.execute(select(A.c.uuid, A.c.id).where(ours)).all())
        hit = conn.execute(select(T.c.id).where(T.c.uuid == hit_uuid)).scalar_one()
        tracks = conn.execute(select(T.c.id)).scalars().all()
        credited = [{"track_id": hit, "artist_id": ids[ARTIST], "position": 0}]
        credited += [{"track_id": t, "artist_id": ids[ARTIST[:-1] + "2"], "position": 9} for t in tracks if t % 7 == 0]
        conn.execute(insert(TA), credited)
        fetched = utcnow()
        conn.execute(update(T).where(T.c.id == hit).values(labels=["Label 0"], metadata_fetched_at=fetched))
        for n, label in enumerate(LABELS):
            conn.execute(update(T).where(T.c.id != hit, T.c.id % len(LABELS) == n)
                         .values(labels=[label] + ([LABELS[(n + 1) % len(LABELS)]] * (n % 3 == 0)),
                                 metadata_fetched_at=fetched))
        platforms = conn.execute(select(P.c.id).order_by(P.c.id).limit(2)).scalars().all()
        start = today - timedelta(days=SERIES_DAYS - 1)
        for table, column in ((AFOL, "followers"), (ALIS, "value")):
            conn.execute(insert(table), [
                {"artist_id": ids[ARTIST], "platform_id": p, "date": start + timedelta(days=i),
                 column: 1_000_000 + 900 * i * p if table is AFOL else 5_000_000 + (i % 30) * 10_000 * p}
                for p in platforms for i in range(SERIES_DAYS) if i % 11])  # a gap every 11 days
    began = time.perf_counter()
    labels.refresh(engine)
    return time.perf_counter() - began


def overview(engine: Engine, today: date) -> dict:
    ok = R.c.status == "success"
    since = today - timedelta(days=29)
    with engine.connect() as conn:
        per_day = {today - timedelta(days=i): conn.execute(
            select(func.count()).select_from(R).where(R.c.ranking_date == today - timedelta(days=i), ok)).scalar()
            for i in range(14)}
        per_platform = {slug: conn.execute(
            select(func.count()).select_from(R).join(C, C.c.id == R.c.chart_id)
            .where(C.c.platform_id == pid, R.c.ranking_date >= since, ok)).scalar()
            for pid, slug in conn.execute(select(P.c.id, P.c.slug))}
        tracks = conn.execute(select(E.c.track_id).distinct().join(R, R.c.id == E.c.ranking_id)
                              .where(R.c.ranking_date >= since, ok)).scalars().all()
        appearances = Counter({t: conn.execute(
            select(func.count()).select_from(E).join(R, R.c.id == E.c.ranking_id)
            .where(E.c.track_id == t, R.c.ranking_date >= since, ok)).scalar() for t in tracks})
        top = [(conn.execute(select(T.c.name, T.c.credit_name).where(T.c.id == t)).first(), n)
               for t, n in appearances.most_common(10)]
        active = conn.execute(select(func.count()).select_from(C).where(C.c.is_active.is_(True))).scalar()
        total = conn.execute(select(func.count()).select_from(C)).scalar()
    return {"per_day": per_day, "per_platform": per_platform, "top": top, "active": active, "total": total}


def track_page(engine: Engine, uuid: str) -> dict:
    with engine.connect() as conn:
        track = conn.execute(select(T).where(T.c.uuid == uuid)).first()
        artists = conn.execute(select(A.c.name).join(TA, TA.c.artist_id == A.c.id)
                               .where(TA.c.track_id == track.id)).scalars().all()
        charts = conn.execute(select(R.c.chart_id).distinct().join(E, E.c.ranking_id == R.c.id)
                              .where(E.c.track_id == track.id)).scalars().all()
        history = {chart: conn.execute(
            select(R.c.ranking_date, E.c.position).join(E, E.c.ranking_id == R.c.id)
            .where(E.c.track_id == track.id, R.c.chart_id == chart, R.c.status == "success")
            .order_by(R.c.ranking_date)).all() for chart in charts}
        platforms = conn.execute(select(AUDIENCE.c.platform_id).distinct()
                                 .where(AUDIENCE.c.track_id == track.id)).scalars().all()
        audience = {p: conn.execute(select(AUDIENCE.c.date, func.sum(AUDIENCE.c.audience_value))
                                    .where(AUDIENCE.c.track_id == track.id, AUDIENCE.c.platform_id == p)
                                    .group_by(AUDIENCE.c.date).order_by(AUDIENCE.c.date)).all()
                    for p in platforms}
    return {"track": track, "artists": artists, "history": history, "audience": audience}


def platform_page(engine: Engine, slug: str, today: date) -> dict:
    ok = R.c.status == "success"
    since = today - timedelta(days=29)
    with engine.connect() as conn:
        platform = conn.execute(select(P).where(P.c.slug == slug)).first()
        charts = conn.execute(select(C).where(C.c.platform_id == platform.id).order_by(C.c.slug)).all()
        per_day = {since + timedelta(days=i): [conn.execute(
            select(func.count()).select_from(R).where(R.c.chart_id == chart.id, R.c.ranking_date == since + timedelta(
                days=i))).scalar() for chart in charts] for i in range(30)}
        rankings = [conn.execute(select(R.c.id).where(R.c.chart_id == chart.id, R.c.ranking_date >= since, ok))
                    .scalars().all() for chart in charts]
        tracks = Counter()
        for ids in rankings:
            for ranking in ids:
                tracks.update(conn.execute(select(E.c.track_id).where(E.c.ranking_id == ranking)).scalars())
        top = [(conn.execute(select(T.c.name, T.c.credit_name).where(T.c.id == t)).first(), n)
               for t, n in tracks.most_common(20)]
    return {"platform": platform, "charts": charts, "per_day": per_day, "top": top}


def chart_page(engine: Engine, slug: str, on: date) -> dict:
    ok = R.c.status == "success"
    with engine.connect() as conn:
        chart = conn.execute(select(C).where(C.c.slug == slug)).first()
        dates = conn.execute(select(R.c.ranking_date).where(R.c.chart_id == chart.id, ok)
                             .order_by(R.c.ranking_date)).scalars().all()
        ranking = conn.execute(select(R.c.id).where(R.c.chart_id == chart.id, R.c.ranking_date == on, ok)).scalar()
        before = conn.execute(select(R.c.id).where(R.c.chart_id == chart.id, R.c.ranking_date < on, ok)
                              .order_by(R.c.ranking_date.desc()).limit(1)).scalar()
        rows = []
        for entry in conn.execute(select(E).where(E.c.ranking_id == ranking).order_by(E.c.position)).all():
            track = conn.execute(select(T.c.uuid, T.c.name, T.c.credit_name).where(T.c.id == entry.track_id)).first()
            previous = entry.old_position or conn.execute(  # the API's, else the previous ranking's
                select(E.c.position).where(E.c.ranking_id == before, E.c.track_id == entry.track_id)).scalar()
            history = conn.execute(select(R.c.ranking_date, E.c.position).join(E, E.c.ranking_id == R.c.id)
                                   .where(R.c.chart_id == chart.id, R.c.ranking_date <= on, ok,
                                          E.c.track_id == entry.track_id).order_by(R.c.ranking_date)).all()
            on_chart = {day for day, _ in history}
            streak = next((n for n, day in enumerate(reversed([d for d in dates if d <= on])) if day not in on_chart),
                          len(on_chart))
            rows.append((entry.position, track, previous, min(p for _, p in history), streak))
        gone = [(track_id, position) for track_id, position in conn.execute(
                    select(E.c.track_id, E.c.position).where(E.c.ranking_id == before)).all()
                if conn.execute(select(E.c.id).where(E.c.ranking_id == ranking, E.c.track_id == track_id))
                .first() is None]
    return {"chart": chart, "dates": dates, "ranking": rows, "dropouts": gone}
