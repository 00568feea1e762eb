"""AudienceDataProcessor against the local API server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, insert, select, text, update

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.api.payloads import AudienceDay
from soundcharts_lib.api.payloads import Platform as PlatformRecord
from soundcharts_lib.db.models import (
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    SyncRun,
    Track,
    TrackAudience,
)
from soundcharts_lib.db.store_audience import audience_platform_ids, ensure_track, stale_tracks
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.audience import OVERLAP_DAYS, AudienceDataProcessor, count_gaps
from soundcharts_lib.jobs.sync import today_utc
from soundcharts_lib.localapi import LocalApiConfig, running

A = TrackAudience.__table__


@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def client(localapi, calls):
    """The real client on a session that notes every URL it asked (the exchange itself is real)."""
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *args, **kwargs: calls.append(resp.url))
    with SoundchartsClient(localapi.base_url, "soundcharts", "soundcharts", session=session) as c:
        yield c
    session.close()


def processor(client, engine, **kw) -> AudienceDataProcessor:
    return AudienceDataProcessor(client, engine, progress=False, **kw)


def windows(calls: list[str], uuid: str, platform: str) -> list[tuple[date, date]]:
    """(startDate, endDate) of every audience request for that song and platform, in order."""
    out = []
    for url in calls:
        parts = urlsplit(url)
        if parts.path == f"/api/v2/song/{uuid}/audience/{platform}":
            q = parse_qs(parts.query)
            out.append((date.fromisoformat(q["startDate"][0]), date.fromisoformat(q["endDate"][0])))
    return out


def expected(localapi, uuid: str, platform: str, lo: date, hi: date) -> dict[tuple[str, date], int]:
    return {(ident, day): value for day, plots in localapi.catalog.series(uuid, platform, "audience")
            if lo <= day <= hi for ident, value in plots}


def stored(engine, uuid: str, platform: str) -> dict[tuple[str, date], int]:
    q = (select(A.c.platform_identifier, A.c.date, A.c.audience_value)
         .join(Track.__table__, Track.id == A.c.track_id)
         .join(Platform.__table__, Platform.id == A.c.platform_id)
         .where(Track.uuid == uuid, Platform.slug == platform))
    with engine.connect() as conn:
        return {(i, d): v for i, d, v in conn.execute(q)}


def song_with(localapi, platform: str, *, ids: int = 1, age: int = 0, id_len: int | None = None):
    """A catalog song with at least ``ids`` identifiers on ``platform``, all older than ``age`` days."""
    today = localapi.catalog.today
    for song in localapi.catalog.song_list:
        idents = song.identifiers_on(platform)
        if len(idents) >= ids and all((today - i.added).days >= age for i in idents) \
                and (id_len is None or all(len(i.identifier) == id_len for i in idents)):
            return song
    raise AssertionError(f"no song on {platform} with {ids} ids older than {age} days")


def test_first_fetch_stores_the_last_90_days_of_every_identifier(localapi, client, calls, engine):
    song = song_with(localapi, "spotify", ids=2, age=120)
    today = today_utc()
    result = processor(client, engine).run(track_uuids=[song.uuid], platforms=["spotify"])
    assert result.status == "success" and result.fetches == 1, result.errors
    assert windows(calls, song.uuid, "spotify") == [(today - timedelta(days=89), today)]
    want = expected(localapi, song.uuid, "spotify", today - timedelta(days=89), today)
    assert stored(engine, song.uuid, "spotify") == want
    assert len({ident for ident, _ in want}) >= 2
    assert result.points == len(want)
    days = sorted({d for _, d in want})
    assert result.gaps == sum((b - a).days - 1 for a, b in zip(days, days[1:], strict=False))
    with engine.connect() as conn:
        raw = conn.execute(select(A.c.api_data).where(A.c.date == days[-1])).scalars().first()
    assert raw["date"][:10] == days[-1].isoformat() and len(raw["plots"]) >= 2


def test_missing_days_stay_missing_and_are_counted(localapi, client, engine):
    song = song_with(localapi, "spotify", age=200)
    start, end = today_utc() - timedelta(days=199), today_utc()
    series = localapi.catalog.series(song.uuid, "spotify", "audience")
    catalog_days = {d for d, _ in series if start <= d <= end}
    missing = {start + timedelta(days=i) for i in range(200)} - catalog_days
    assert missing, "the catalog should miss some days over 200 days"
    result = processor(client, engine).run(track_uuids=[song.uuid], platforms=["spotify"], start=start)
    stored_days = {d for _, d in stored(engine, song.uuid, "spotify")}
    assert stored_days == catalog_days and not stored_days & missing
    first, last = min(catalog_days), max(catalog_days)
    assert result.gaps == len([d for d in missing if first < d < last]) > 0


def test_19_digit_identifiers_are_kept_exactly(localapi, client, engine):
    song = song_with(localapi, "tiktok", id_len=19, age=30)
    processor(client, engine).run(track_uuids=[song.uuid], platforms=["tiktok"])
    got = stored(engine, song.uuid, "tiktok")
    assert {i for i, _ in got} == {i.identifier for i in song.identifiers_on("tiktok")}
    assert all(len(i) == 19 and i.isdigit() for i, _ in got)
    assert got == expected(localapi, song.uuid, "tiktok", today_utc() - timedelta(days=89), today_utc())


def test_a_range_over_90_days_is_asked_in_90_day_windows(localapi, client, calls, engine):
    song = song_with(localapi, "youtube", age=320)
    start, end = today_utc() - timedelta(days=299), today_utc() - timedelta(days=5)
    processor(client, engine).run(track_uuids=[song.uuid], platforms=["youtube"], start=start, end=end)
    asked = windows(calls, song.uuid, "youtube")
    assert len(asked) == 4 and asked[0][0] == start and asked[-1][1] == end
    assert all((hi - lo).days < 90 for lo, hi in asked)
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in zip(asked, asked[1:], strict=False))
    assert stored(engine, song.uuid, "youtube") == expected(localapi, song.uuid, "youtube", start, end)


def test_incremental_starts_at_the_last_stored_day_minus_the_overlap_and_force_refetches(
        localapi, client, calls, engine):
    song = song_with(localapi, "spotify", age=150)
    today = today_utc()
    proc = processor(client, engine)
    proc.run(track_uuids=[song.uuid], platforms=["spotify"], end=today - timedelta(days=30))
    last = max(d for _, d in stored(engine, song.uuid, "spotify"))
    calls.clear()
    result = proc.run(track_uuids=[song.uuid], platforms=["spotify"])
    assert windows(calls, song.uuid, "spotify") == [(last - timedelta(days=OVERLAP_DAYS), today)]
    assert result.fetches == 1
    full = expected(localapi, song.uuid, "spotify", today - timedelta(days=119), today)
    assert stored(engine, song.uuid, "spotify") == full

    with engine.connect() as conn:
        before = sorted(conn.execute(select(A.c.id, A.c.audience_value, A.c.fetched_at)).all())
    calls.clear()
    proc.run(track_uuids=[song.uuid], platforms=["spotify"], force=True)
    assert windows(calls, song.uuid, "spotify") == [(today - timedelta(days=89), today)]
    with engine.connect() as conn:
        after = sorted(conn.execute(select(A.c.id, A.c.audience_value, A.c.fetched_at)).all())
    assert after == before  # same values: not one row rewritten


def test_the_overlap_picks_up_late_corrections(localapi, client, engine):
    song = song_with(localapi, "spotify", age=100)
    proc = processor(client, engine)
    proc.run(track_uuids=[song.uuid], platforms=["spotify"])
    days = sorted({d for _, d in stored(engine, song.uuid, "spotify")})
    late = days[-2]  # inside the overlap, before the last stored day
    assert late >= days[-1] - timedelta(days=OVERLAP_DAYS)
    stale_at = datetime(2020, 1, 1)
    with engine.begin() as conn:
        conn.execute(update(A).where(A.c.date == late).values(audience_value=1, fetched_at=stale_at))
    proc.run(track_uuids=[song.uuid], platforms=["spotify"])
    assert stored(engine, song.uuid, "spotify") == expected(localapi, song.uuid, "spotify",
                                                            today_utc() - timedelta(days=89), today_utc())
    with engine.connect() as conn:
        assert conn.execute(select(func.min(A.c.fetched_at)).where(A.c.date == late)).scalar_one() > stale_at


def _chart_with(engine, track_ids: list[int], day: date) -> None:
    with engine.begin() as conn:
        pid = conn.execute(insert(Platform).values(slug=f"p{day:%m%d}", name="P")
                           .returning(Platform.id)).scalar()
        cid = conn.execute(insert(Chart).values(slug=f"c{day:%m%d}", name="C", platform_id=pid)
                           .returning(Chart.id)).scalar()
        rid = conn.execute(insert(ChartRanking).values(chart_id=cid, ranking_date=day, date_raw="")
                           .returning(ChartRanking.id)).scalar()
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": rid, "track_id": t, "position": i + 1}
                                                 for i, t in enumerate(track_ids)])


def test_stale_first_charting_tracks_then_never_fetched_then_oldest(localapi, client, calls, engine):
    songs = [s for s in localapi.catalog.song_list if s.identifiers_on("spotify")][:6]
    ids = [ensure_track(engine, s.uuid, s.name, s.credit_name, None) for s in songs]
    today = today_utc()
    _chart_with(engine, [ids[4], ids[5], ids[2]], today - timedelta(days=3))   # charting now
    _chart_with(engine, [ids[0], ids[1]], today - timedelta(days=60))           # charted long ago
    spotify = processor(client, engine).supported_platforms()[0]
    assert spotify.code == "spotify"
    pid = audience_platform_ids(engine, [spotify])["spotify"]
    fetched = {ids[5]: datetime(2024, 1, 1), ids[2]: datetime(2025, 1, 1), ids[0]: datetime(2023, 1, 1),
               ids[1]: datetime(2022, 1, 1)}
    with engine.begin() as conn:
        conn.execute(insert(A), [{"track_id": t, "platform_id": pid, "platform_identifier": "x",
                                  "date": date(2020, 1, 1), "audience_value": 1, "fetched_at": at}
                                 for t, at in fetched.items()])
    order = [t for t, _ in stale_tracks(engine, [pid], today=today)]
    assert order == [ids[4], ids[5], ids[2], ids[3], ids[1], ids[0]]

    result = processor(client, engine).run(platforms=["spotify"], limit=2)
    assert result.tracks == 2
    asked = {urlsplit(u).path.split("/")[4] for u in calls if "/audience/" in u}
    assert asked == {songs[4].uuid, songs[5].uuid}


def test_a_platform_without_audience_is_skipped_with_a_message(localapi, client, engine):
    song = song_with(localapi, "spotify")
    result = processor(client, engine).run(track_uuids=[song.uuid], platforms=["deezer", "spotify"])
    assert result.status == "success"
    assert len(result.skipped) == 1 and result.skipped[0].startswith("deezer: no song audience")
    with engine.connect() as conn:
        slugs = set(conn.execute(select(Platform.slug).join(A, A.c.platform_id == Platform.id)).scalars())
    assert slugs == {"spotify"}


def test_only_unsupported_platforms_is_an_error_before_anything_is_written(localapi, client, engine):
    song = song_with(localapi, "spotify")
    with pytest.raises(ConfigError, match="apple-music: no song audience"):
        processor(client, engine).run(track_uuids=[song.uuid], platforms=["apple-music"])
    with pytest.raises(ConfigError, match="after"):
        processor(client, engine).run(start=today_utc(), end=today_utc() - timedelta(days=1))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SyncRun)).scalar_one() == 0


def test_a_400_from_the_api_skips_that_platform_for_the_rest_of_the_run(localapi, client, calls, engine):
    songs = [s.uuid for s in localapi.catalog.song_list[:3]]
    claimed = [PlatformRecord(code="deezer", name="Deezer"), PlatformRecord(code="spotify", name="Spotify")]
    result = processor(client, engine, supported=claimed).run(track_uuids=songs)
    assert result.failures == 0 and any(m.startswith("deezer: no song audience") for m in result.skipped)
    assert result.fetches == 3


def test_unknown_tracks_are_added_from_the_api_and_unknown_songs_fail(localapi, client, engine):
    song = song_with(localapi, "spotify")
    ghost = "00000000-0000-4000-a000-000000000000"
    result = processor(client, engine).run(track_uuids=[song.uuid, ghost], platforms=["spotify"])
    assert result.status == "partial" and result.failures == 1 and ghost in result.errors[0]
    with engine.connect() as conn:
        assert conn.execute(select(Track.name).where(Track.uuid == song.uuid)).scalar_one() == song.name
        run = conn.execute(select(SyncRun.kind, SyncRun.status, SyncRun.counts)).one()
    assert run.kind == "fetch_audience" and run.status == "partial" and run.counts["fetches"] == 1


def test_quota_exhaustion_stops_the_run_and_keeps_what_was_fetched(engine):
    with running(LocalApiConfig(seed=7, quota=4)) as srv, \
            SoundchartsClient(srv.base_url, "soundcharts", "soundcharts") as c:
        songs = [s.uuid for s in srv.catalog.song_list if s.identifiers_on("spotify")][:12]
        for uuid in songs:
            ensure_track(engine, uuid, "stored before", None, None)
        result = AudienceDataProcessor(c, engine, progress=False, workers=1).run(
            track_uuids=songs, platforms=["spotify"])
    assert result.status == "partial" and result.errors[-1].startswith("quota exhausted")
    assert 1 <= result.fetches <= 3
    with engine.connect() as conn:
        assert conn.execute(select(func.count(func.distinct(A.c.track_id)))).scalar_one() == result.fetches


def test_count_gaps_counts_only_days_inside_the_series():
    def day(d):
        return AudienceDay(date=d, date_raw=f"{d}T00:00:00+00:00", plots=[], raw={})

    d0 = date(2026, 1, 1)
    assert count_gaps([]) == 0
    assert count_gaps([day(d0 + timedelta(days=i)) for i in (0, 1, 4, 5, 9)]) == 5


def test_a_crash_is_recorded_on_the_run_and_raised(localapi, client, engine):
    song = song_with(localapi, "spotify")
    with engine.begin() as conn:  # a table the run needs is gone
        conn.exec_driver_sql("DROP TABLE track_audience")
    with pytest.raises(Exception, match="track_audience"):
        processor(client, engine).run(track_uuids=[song.uuid], platforms=["spotify"])
    with engine.connect() as conn:
        status, errors = conn.execute(select(SyncRun.status, SyncRun.errors)).one()
    assert status == "failed" and errors[0].startswith("stopped by ")


def test_a_track_without_data_on_a_platform_is_not_asked_first_again(localapi, client, engine):
    """The API has no series for the track: the check is remembered, so the next run asks other tracks first."""
    empty = next(s for s in localapi.catalog.song_list if not s.identifiers_on("instagram"))
    other = next(s for s in localapi.catalog.song_list if s.identifiers_on("instagram"))
    ids = [ensure_track(engine, s.uuid, s.name, s.credit_name, None) for s in (empty, other)]
    first = processor(client, engine).run(track_uuids=[empty.uuid], platforms=["instagram"])
    assert first.points == 0
    pid = audience_platform_ids(engine, processor(client, engine).supported_platforms())["instagram"]
    with engine.connect() as conn:
        had = conn.execute(text("select had_data from audience_check where track_id = :t and platform_id = :p"),
                           {"t": ids[0], "p": pid}).scalar_one()
    assert not had
    assert [t for t, _ in stale_tracks(engine, [pid], today=today_utc())][:1] == [ids[1]]
