"""SoundchartsClient against the real local SoundCharts-compatible server over loopback."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.api.transport import date_windows
from soundcharts_lib.config import Secret, Settings
from soundcharts_lib.errors import AuthError, NotFound, QuotaExhausted, RateLimited, ServerError
from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = date(2025, 3, 14)
SLUG = "spotify-top-200-global-daily"
CREDS = ("soundcharts", "soundcharts")


def local(**knobs) -> running:
    return running(LocalApiConfig(seed=1, today=TODAY, **knobs))


def make_client(srv, **kw) -> SoundchartsClient:
    kw.setdefault("rate_limit_per_minute", 60000)
    return SoundchartsClient(srv.base_url, *CREDS, **kw)


def hits(srv, path: str) -> int:
    return srv.stats()["by_path"].get(path, 0)


@pytest.fixture(scope="module")
def srv():
    with local() as server:
        yield server


@pytest.fixture()
def client(srv) -> Iterator[SoundchartsClient]:
    with make_client(srv) as c:
        yield c


@pytest.fixture(scope="module")
def song_uuid(srv) -> str:
    with make_client(srv) as c:
        return c.ranking_latest(SLUG).entries[0].song.uuid


# --- endpoints ------------------------------------------------------------------------------------

def test_platform_lists(client):
    codes = [p.code for p in client.platforms()]
    assert "spotify" in codes and "apple-music" in codes and len(codes) == len(set(codes))
    social = {p.code for p in client.social_platforms()}
    charts = {p.code for p in client.chart_platforms()}
    assert social and charts and social <= set(codes) | social and "spotify" in charts


def test_charts_by_platform_and_country(client):
    charts = client.charts_by_platform("spotify")
    assert SLUG in {c.slug for c in charts} and all(c.platform == "spotify" for c in charts)
    country = next(c.country_code for c in charts if c.country_code)
    local_charts = client.charts_by_platform("spotify", country_code=country)
    assert local_charts and all(c.country_code == country for c in local_charts)
    assert list(client.iter_charts_by_platform("spotify")) == charts


def test_ranking_latest_is_paged_to_the_end(srv, client):
    path = f"/api/v2.14/chart/song/{SLUG}/ranking/latest"
    before = hits(srv, path)
    ranking = client.ranking_latest(SLUG)
    assert ranking.chart.slug == SLUG and ranking.chart.metric_type == "streams"
    assert ranking.date == TODAY and ranking.date_raw.startswith("2025-03-14T")
    assert [e.position for e in ranking.entries] == list(range(1, ranking.chart.max_results + 1))
    assert hits(srv, path) - before == math.ceil(len(ranking.entries) / 100)
    assert any(e.metric and e.metric > 0 for e in ranking.entries)


def test_available_rankings_then_a_ranking_for_each_kind_of_date(srv, client):
    dates = client.available_rankings(SLUG)
    assert len(dates) > 100 and len(set(dates)) == len(dates)  # several pages, no duplicates
    assert hits(srv, f"/api/v2/chart/song/{SLUG}/available-rankings") == math.ceil(len(dates) / 100)
    oldest = min(dates)
    by_string = client.ranking_for_date(SLUG, oldest)  # verbatim, '+' sent as %2B
    assert by_string.date_raw == oldest and by_string.entries
    assert hits(srv, f"/api/v2.14/chart/song/{SLUG}/ranking/{oldest.replace('+', '%2B')}") >= 1
    day = by_string.date
    assert client.ranking_for_date(SLUG, day).entries == by_string.entries
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert client.ranking_for_date(SLUG, midnight).date == day


def test_song_metadata_and_identifiers(client, song_uuid):
    song = client.song(song_uuid)
    assert song.uuid == song_uuid and song.name and song.artists and song.isrc
    ids = client.song_identifiers(song_uuid)
    assert {"spotify", "isrc"} <= {i.platform_code for i in ids}
    spotify = client.song_identifiers(song_uuid, platform="spotify")
    assert spotify and {i.platform_code for i in spotify} == {"spotify"}


def test_only_default_false_is_sent(client):
    songs = (e.song.uuid for e in client.ranking_latest(SLUG).entries)
    uuid = next(u for u in songs if len(client.song_identifiers(u, platform="spotify")) > 1)
    every = client.song_identifiers(uuid, platform="spotify", only_default=False)
    defaults = client.song_identifiers(uuid, platform="spotify", only_default=True)
    assert len(every) > len(defaults) >= 1 and all(i.default is not False for i in defaults)  # the key is optional


def test_audience_over_90_days_is_asked_in_windows(srv, client, song_uuid, caplog):
    start, end = TODAY - timedelta(days=199), TODAY
    path = f"/api/v2/song/{song_uuid}/audience/spotify"
    with caplog.at_level(logging.DEBUG, logger="soundcharts_lib.localapi"):
        days = client.song_audience(song_uuid, "spotify", start, end)
    asked = [r.getMessage() for r in caplog.records if path in r.getMessage()]
    windows = sorted({(q.split("startDate=")[1][:10], q.split("endDate=")[1][:10]) for q in asked})
    assert [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in windows] == date_windows(start, end)
    assert all((date.fromisoformat(b) - date.fromisoformat(a)).days < 90 for a, b in windows)
    dates = [d.date for d in days]
    assert dates == sorted(set(dates)) and dates[-1] <= end
    assert all(p.value >= 0 and p.date == d.date for d in days for p in d.plots)


def test_popularity_and_usage(client, song_uuid):
    points = client.song_popularity(song_uuid, "spotify", TODAY - timedelta(days=30), TODAY)
    assert points and all(0 <= p.value <= 100 for p in points)
    assert isinstance(client.team_usage(), dict)


def test_unknown_song_and_chart_are_not_found(client):
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(NotFound) as info:
        client.song(unknown)
    assert info.value.status == 404 and info.value.endpoint == f"/api/v2.25/song/{unknown}"
    with pytest.raises(NotFound):
        client.ranking_latest("no-such-chart")


def test_quota_header_is_tracked(client):
    client.platforms()
    assert isinstance(client.quota_remaining, int) and client.request_count >= 1


def test_from_settings_with_secret(srv):
    settings = Settings(api_url=srv.base_url, app_id="soundcharts", api_key=Secret("soundcharts"),
                        cache_backend="none", rate_limit_per_minute=60000)
    with SoundchartsClient.from_settings(settings) as c:
        assert c.platforms()


def test_works_inside_a_running_event_loop(client):
    """A Jupyter kernel runs an asyncio loop; the synchronous client must not need its own."""
    async def cell() -> int:
        return len(client.platforms())

    found: list[int] = []  # a thread of its own, so no loop another test left in this thread gets in the way
    worker = threading.Thread(target=lambda: found.append(asyncio.run(cell())))
    worker.start()
    worker.join(timeout=30)
    assert found and found[0] > 0


# --- caching ------------------------------------------------------------------------------------

def test_song_metadata_is_cached_rankings_are_not(srv, song_uuid, tmp_path):
    cache = Settings(cache_backend="sqlite", cache_path=str(tmp_path / "http_cache"),
                     cache_expire_seconds=600)
    song_path, ids_path = f"/api/v2.25/song/{song_uuid}", f"/api/v2/song/{song_uuid}/identifiers"
    rank_path = f"/api/v2.14/chart/song/{SLUG}/ranking/latest"
    before = {p: hits(srv, p) for p in (song_path, ids_path, rank_path)}
    with make_client(srv, cache=cache) as c:
        first, again = c.song(song_uuid), c.song(song_uuid)
        c.song_identifiers(song_uuid)
        c.song_identifiers(song_uuid)
        c.ranking_latest(SLUG)
        c.ranking_latest(SLUG)
        assert again == first
    with make_client(srv, cache=cache) as fresh:  # a new client reads the same cache file
        assert fresh.song(song_uuid) == first and fresh.request_count == 0
    assert hits(srv, song_path) - before[song_path] == 1
    assert hits(srv, ids_path) - before[ids_path] == 1
    assert hits(srv, rank_path) - before[rank_path] == 4  # 2 pages, twice


# --- 429s ---------------------------------------------------------------------------------------

def test_quota_exhausted_is_never_retried():
    with local(quota=2) as srv, make_client(srv) as c:
        c.platforms()
        c.platforms()
        before = srv.stats()["requests"]
        with pytest.raises(QuotaExhausted) as info:
            c.platforms()
        assert info.value.status == 429 and srv.stats()["requests"] - before == 1


def test_rate_limit_waits_the_reset_then_succeeds():
    # with fault_rate=0.5, fault seed 4 refuses the first request only
    with local(fault_rate=0.5, fault_seed=4, fault_kinds=("ratelimit",)) as srv, make_client(srv) as c:
        started = time.monotonic()
        assert c.platforms()
        elapsed = time.monotonic() - started
        stats = srv.stats()
    assert stats["faults"] == 1 and stats["requests"] == 2  # the seed refuses the first request only
    assert elapsed >= 1.5 - 0.05  # x-ratelimit-reset: 1, plus the margin


def test_rate_limit_window_waits_then_succeeds():
    """The server's sliding minute is full: the client waits x-ratelimit-reset (time passing is
    simulated by resetting the server's window from the injected sleep)."""
    waits: list[float] = []
    with local(rate_limit_per_minute=2) as srv:
        def sleep(seconds: float) -> None:
            if seconds < 0.5:  # the client's own even pacing, not the server's reset
                return
            waits.append(seconds)
            srv.reset_stats()

        with make_client(srv, sleep=sleep) as c:
            c.request("/api/v2/referential/platforms")
            c.request("/api/v2/referential/platforms")
            assert c.request("/api/v2/referential/platforms")["items"]
    assert len(waits) == 1 and 1 < waits[0] <= 61.5


def test_rate_limit_reset_too_long_raises_with_retry_after():
    with local(rate_limit_per_minute=2) as srv, make_client(srv, max_ratelimit_wait=5) as c:
        c.request("/api/v2/referential/platforms")
        c.request("/api/v2/referential/platforms")
        with pytest.raises(RateLimited) as info:
            c.request("/api/v2/referential/platforms")
        assert 5 < info.value.retry_after <= 60 and srv.stats()["requests"] == 3


# --- retries ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "extra"), [
    ("5xx", {}),
    ("reset", {}),
    ("malformed", {}),
    ("timeout", {"timeout": 1.0}),
])
def test_each_retryable_fault_is_retried_until_success(kind, extra, caplog):
    with local(fault_rate=0.6, fault_seed=1, fault_kinds=(kind,), timeout_seconds=2.5) as srv, \
            make_client(srv, max_retries=10, sleep=lambda s: None, **extra) as c, \
            caplog.at_level(logging.INFO, logger="soundcharts_lib.api.client"):
        platforms = c.platforms()
        stats = srv.stats()
    retries = [r for r in caplog.records if r.getMessage().startswith("waiting")]
    assert platforms
    assert stats["faults"] >= 1 and len(retries) == stats["faults"]
    assert stats["requests"] == stats["faults"] + 1


def test_retries_are_bounded_by_count():
    with local(fault_rate=1.0, fault_kinds=("5xx",)) as srv, make_client(srv, max_retries=3,
                                                                          sleep=lambda s: None) as c:
        with pytest.raises(ServerError) as info:
            c.platforms()
        assert info.value.status in (500, 502, 503, 504)
        assert srv.stats()["requests"] == 4


def test_retries_are_bounded_by_time():
    with local(fault_rate=1.0, fault_kinds=("5xx",)) as srv, make_client(
            srv, max_retries=1000, max_retry_seconds=0.5, backoff_base=0.05) as c:
        started = time.monotonic()
        with pytest.raises(ServerError):
            c.platforms()
        assert time.monotonic() - started < 0.8 and 2 <= srv.stats()["requests"] < 100


def test_retry_waits_are_logged_with_path_and_seconds(caplog):
    with local(fault_rate=1.0, fault_kinds=("5xx",)) as srv, \
            make_client(srv, max_retries=2, sleep=lambda s: None) as c, \
            caplog.at_level(logging.INFO, logger="soundcharts_lib.api.client"), pytest.raises(ServerError):
        c.platforms()
    waits = [r for r in caplog.records if r.name == "soundcharts_lib.api.client" and r.levelno == logging.INFO]
    assert len(waits) == 2
    assert all("/api/v2/referential/platforms" in r.getMessage() and "?" not in r.getMessage() for r in waits)


# --- OAuth --------------------------------------------------------------------------------------

def oauth_client(srv, **kw) -> SoundchartsClient:
    return SoundchartsClient(srv.base_url, client_id="soundcharts", client_secret=Secret("soundcharts"),
                             auth_url=f"{srv.base_url}/oauth/token", rate_limit_per_minute=60000, **kw)


def test_oauth_token_fetched_once_and_renewed_after_expiry():
    with local(token_ttl=2) as srv, oauth_client(srv) as c:
        c.platforms()
        c.chart_platforms()
        assert hits(srv, "/oauth/token") == 1
        time.sleep(1.2)  # renewed early: at half of a 2-second lifetime
        c.platforms()
        assert hits(srv, "/oauth/token") == 2


def test_oauth_refreshes_once_on_401():
    with local() as srv, oauth_client(srv) as c:
        c.platforms()
        c._oauth._token = Secret("revoked-token")  # the server no longer knows it
        assert c.platforms()
        assert hits(srv, "/oauth/token") == 2


def test_oauth_bad_secret_is_an_auth_error():
    with local() as srv, SoundchartsClient(srv.base_url, client_id="soundcharts", client_secret="wrong",
                                           auth_url=f"{srv.base_url}/oauth/token") as c:
        with pytest.raises(AuthError) as info:
            c.platforms()
        assert info.value.status == 401 and info.value.endpoint == "/oauth/token"


# --- rate limiter, live -------------------------------------------------------------------------

def test_client_limiter_paces_threads_under_the_server_limit():
    with local(rate_limit_per_minute=1200) as srv, make_client(srv, rate_limit_per_minute=1200) as c:
        started = time.monotonic()
        results = c.fetch_many(lambda _: c.request("/api/v2/referential/platforms", {"limit": 1}), range(24))
        elapsed = time.monotonic() - started
        assert len(results) == 24 and srv.stats()["rate_limited"] == 0
    assert elapsed >= 23 * 0.05 - 0.01  # 20 calls per second at most


def test_fetch_many_keeps_order_and_raises_the_first_error(client, song_uuid):
    slugs = [SLUG, "no-such-chart", SLUG]
    with pytest.raises(NotFound):
        client.fetch_many(client.ranking_latest, slugs, workers=2)
    songs = client.fetch_many(client.song, [song_uuid] * 3)
    assert [s.uuid for s in songs] == [song_uuid] * 3
