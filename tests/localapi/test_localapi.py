"""The local SoundCharts server over loopback: auth, envelopes, pagination, 400s, 404s, determinism."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from localapi_http import server_fixtures, session

from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = dt.date(2025, 4, 15)
CHART = "spotify-top-200-global-daily"


srv, http = server_fixtures(LocalApiConfig(seed=11, today=TODAY))


def get(http, srv, path, **params):
    return http.get(srv.base_url + path, params=params, timeout=10)


def assert_error(resp, status, fragment=""):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["code"] == status and isinstance(error["key"], str)
    assert fragment.lower() in error["message"].lower()
    assert resp.headers["x-quota-remaining"].isdigit()
    return error


# --- auth ------------------------------------------------------------------------------------------

def test_missing_or_wrong_credentials_get_401_envelope(srv):
    assert_error(requests.get(srv.base_url + "/api/v2/referential/platforms", timeout=5), 401)
    wrong = {"x-app-id": "soundcharts", "x-api-key": "nope"}
    url = srv.base_url + "/api/v2/referential/platforms"
    error = assert_error(requests.get(url, headers=wrong, timeout=5), 401)
    assert "nope" not in error["message"]
    bogus = {"Authorization": "Bearer not-a-token"}
    assert_error(requests.get(srv.base_url + "/api/v2/referential/platforms", headers=bogus, timeout=5), 401)


def test_legacy_sandbox_pair_is_accepted(srv, http):
    resp = get(http, srv, "/api/v2/referential/platforms")
    assert resp.status_code == 200 and resp.json()["errors"] == []


def _token(srv, secret="soundcharts", grant="client_credentials"):
    return requests.post(srv.base_url + "/oauth/token", auth=("soundcharts", secret),
                         data={"grant_type": grant}, timeout=5)


def test_oauth_token_works_as_bearer_and_bad_clients_get_401(srv):
    resp = _token(srv)
    assert resp.status_code == 200
    grant = resp.json()
    assert grant["token_type"] == "Bearer" and grant["expires_in"] == 3600 and len(grant["access_token"]) > 20
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    url = srv.base_url + "/api/v2/chart/song/platforms"
    assert requests.get(url, headers=bearer, timeout=5).status_code == 200
    assert _token(srv, secret="wrong").status_code == 401
    assert _token(srv, grant="password").status_code == 401
    assert requests.post(srv.base_url + "/oauth/token", data={"grant_type": "client_credentials"},
                         timeout=5).status_code == 401


def test_expired_token_gets_401():
    with running(LocalApiConfig(today=TODAY, token_ttl=0.3)) as server:
        token = _token(server).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        url = server.base_url + "/api/v2/referential/platforms"
        assert requests.get(url, headers=bearer, timeout=5).status_code == 200
        time.sleep(0.5)
        assert_error(requests.get(url, headers=bearer, timeout=5), 401, "expired")


# --- envelopes and pagination ----------------------------------------------------------------------

def test_platform_lists(srv, http):
    all_codes = {p["code"] for p in get(http, srv, "/api/v2/referential/platforms").json()["items"]}
    social = {p["code"] for p in get(http, srv, "/api/v2/referential/platforms/social").json()["items"]}
    streaming = get(http, srv, "/api/v2/referential/platforms/streaming").json()
    chart = {p["code"] for p in get(http, srv, "/api/v2/chart/song/platforms").json()["items"]}
    assert {"spotify", "youtube", "shazam", "tiktok", "soundcloud", "instagram"} == social
    assert {"apple-music", "airplay"} <= chart and len(chart) >= 6
    assert social | chart | {p["code"] for p in streaming["items"]} <= all_codes
    assert all(set(p) == {"code", "name"} for p in streaming["items"])


def _walk(http, srv, path, limit):
    """Follow page.next from the first page; return (items, totals seen, pages)."""
    url, items, totals, pages = f"{path}?limit={limit}", [], set(), []
    while url:
        assert url.startswith("/api/")
        body = http.get(srv.base_url + url, timeout=10).json()
        items += body["items"]
        totals.add(body["page"]["total"])
        pages.append(body["page"])
        url = body["page"]["next"]
    return items, totals, pages


def test_pagination_walk_covers_every_item_once(srv, http):
    items, totals, pages = _walk(http, srv, f"/api/v2/chart/song/{CHART}/available-rankings", 37)
    assert len(totals) == 1 and len(items) == totals.pop() == len(set(items)) > 300
    assert items == sorted(items, reverse=True)  # newest first
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    second = parse_qs(urlsplit(pages[1]["previous"]).query)
    assert second == {"offset": ["0"], "limit": ["37"]}


def test_next_keeps_the_other_query_parameters(srv, http):
    song = next(iter(srv.catalog.songs))
    window = {"startDate": "2025-02-01", "endDate": "2025-04-01"}
    body = get(http, srv, f"/api/v2/song/{song}/audience/spotify", **window, limit=10).json()
    query = parse_qs(urlsplit(body["page"]["next"]).query)
    assert query == {"startDate": ["2025-02-01"], "endDate": ["2025-04-01"], "offset": ["10"],
                     "limit": ["10"]}


def test_limit_above_100_is_clamped(srv, http):
    body = get(http, srv, f"/api/v2.14/chart/song/{CHART}/ranking/latest", limit=500).json()
    served = srv.catalog.ranking(CHART, TODAY)  # 200 ranked items, then any position-0 drop-outs
    assert body["page"]["limit"] == 100 and len(body["items"]) == 100 and body["page"]["total"] == len(served)
    assert sum(e.position > 0 for e in served) == 200
    assert "limit=100" in body["page"]["next"] and "offset=100" in body["page"]["next"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -5}, {"limit": "ten"}, {"offset": -1},
                                    {"offset": "1.5"}])
def test_bad_paging_is_400(srv, http, params):
    assert_error(get(http, srv, "/api/v2/referential/platforms", **params), 400)


def test_offset_past_the_end_gives_an_empty_page(srv, http):
    page = get(http, srv, "/api/v2/referential/platforms", offset=500).json()
    assert page["items"] == [] and page["page"]["next"] is None and page["page"]["previous"]


# --- charts ----------------------------------------------------------------------------------------

def test_chart_list_by_platform_and_country(srv, http):
    charts = get(http, srv, "/api/v2/chart/song/by-platform/spotify").json()["items"]
    keys = {"name", "type", "slug", "platform", "frequency", "countryCode", "countryName", "cityName",
            "maxResultsCount", "webUrl"}
    assert all(set(c) == keys for c in charts)
    assert {c["frequency"] for c in charts} == {"daily", "weekly"}
    assert any(c["countryCode"] is None and c["countryName"] is None for c in charts)
    french = get(http, srv, "/api/v2/chart/song/by-platform/spotify", countryCode="fr").json()["items"]
    assert french and all(c["countryCode"] == "FR" for c in french)
    assert_error(get(http, srv, "/api/v2/chart/song/by-platform/myspace"), 404, "Platform not found")


def test_catalog_has_enough_charts(srv, http):
    platforms = [p["code"] for p in get(http, srv, "/api/v2/chart/song/platforms").json()["items"]]
    charts = [c for p in platforms
              for c in get(http, srv, f"/api/v2/chart/song/by-platform/{p}").json()["items"]]
    assert len(charts) >= 40 and len({c["countryCode"] for c in charts}) >= 7
    assert all(50 <= c["maxResultsCount"] <= 200 for c in charts)


def test_ranking_shape_sorted_and_metric_rules(srv, http):
    metric_chart = get(http, srv, f"/api/v2.14/chart/song/{CHART}/ranking/latest").json()
    streams = {"type": "streams", "description": "Number of streams"}
    assert metric_chart["related"]["chart"]["metric"] == (streams if srv.catalog.charts[CHART].metric else None)
    assert metric_chart["related"]["date"] == f"{TODAY}T00:00:00+00:00"
    items = metric_chart["items"]
    assert [i["position"] for i in items] == list(range(1, 101))
    metrics = [i["metric"] for i in items if i["metric"] is not None]  # a few are null on untidy charts
    assert len(metrics) >= 90 and all(isinstance(m, int) for m in metrics)
    assert metrics == sorted(metrics, reverse=True)
    assert set(items[0]) == {"song", "position", "positionEvolution", "metric", "entryState", "entryDate",
                             "rankDate", "oldPosition", "timeOnChart", "timeOnChartUnit"}
    assert set(items[0]["song"]) == {"uuid", "name", "creditName", "imageUrl"}
    plain = get(http, srv, "/api/v2.14/chart/song/apple-music-top-100-us-daily/ranking/latest").json()
    assert plain["related"]["chart"]["metric"] is None and all(i["metric"] is None for i in plain["items"])


def test_weekly_charts_rank_on_fridays_in_weeks(srv, http):
    body = get(http, srv, "/api/v2/chart/song/youtube-top-songs-global-weekly/available-rankings").json()
    days = [dt.date.fromisoformat(d[:10]) for d in body["items"]]
    assert days and all(d.weekday() == 4 for d in days)
    latest = get(http, srv, "/api/v2.14/chart/song/youtube-top-songs-global-weekly/ranking/latest").json()
    assert {i["timeOnChartUnit"] for i in latest["items"]} == {srv.catalog.charts[
        "youtube-top-songs-global-weekly"].unit} & {"week", "WOC"}


@pytest.mark.parametrize("raw", ["2025-04-10T00:00:00+00:00", "2025-04-10T00:00:00%2B00:00",
                                 "2025-04-10T00:00:00%2b00:00", "2025-04-10T00:00:00%2000:00", "2025-04-10"])
def test_ranking_date_spellings(srv, http, raw):
    resp = http.get(f"{srv.base_url}/api/v2.14/chart/song/{CHART}/ranking/{raw}?limit=5", timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["related"]["date"] == "2025-04-10T00:00:00+00:00"
    expected = [e.song.uuid for e in srv.catalog.ranking(CHART, dt.date(2025, 4, 10))[:5]]
    assert [i["song"]["uuid"] for i in body["items"]] == expected


def test_ranking_errors(srv, http):
    missing = next(d for d in (TODAY - dt.timedelta(days=k) for k in range(300))
                   if d not in srv.catalog.charts[CHART].dates)
    assert_error(get(http, srv, f"/api/v2.14/chart/song/{CHART}/ranking/{missing}"), 404, str(missing))
    assert_error(get(http, srv, f"/api/v2.14/chart/song/{CHART}/ranking/2031-01-01"), 404, "2031-01-01")
    assert_error(get(http, srv, f"/api/v2.14/chart/song/{CHART}/ranking/yesterday"), 400, "invalid date")
    assert_error(get(http, srv, "/api/v2.14/chart/song/no-such-chart/ranking/latest"), 404, "Chart not found")
    dates = get(http, srv, "/api/v2/chart/song/no-such-chart/available-rankings")
    assert_error(dates, 404, "Chart not found")
    assert_error(get(http, srv, f"/api/v2.99/chart/song/{CHART}/ranking/latest"), 404)


def test_available_rankings_related_is_the_chart(srv, http):
    body = get(http, srv, f"/api/v2/chart/song/{CHART}/available-rankings", limit=1).json()
    listed = get(http, srv, "/api/v2/chart/song/by-platform/spotify").json()["items"]
    assert body["related"] == next(c for c in listed if c["slug"] == CHART)


# --- songs -----------------------------------------------------------------------------------------

def _songs_where(srv, predicate):
    return [s for s in srv.catalog.songs.values() if predicate(s)]


def test_song_v225_shape_and_nulls(srv, http):
    keys = {"uuid", "name", "isrc", "iswcs", "creditName", "artists", "releaseDate", "copyright", "appUrl",
            "imageUrl", "duration", "explicit", "genres", "composers", "producers", "labels", "audio"}
    full = get(http, srv, f"/api/v2.25/song/{_songs_where(srv, lambda s: s.isrc and s.audio)[0].uuid}").json()
    song = full["object"]
    assert full["type"] == "song" and full["errors"] == [] and set(song) == keys
    assert set(song["isrc"]) == {"value", "countryCode", "countryName"}
    assert set(song["audio"]) >= {"tempo", "key", "mode", "timeSignature", "valence"}
    assert song["releaseDate"][10:] in ("T00:00:00+01:00", "T00:00:00+02:00")
    for predicate, field in ((lambda s: s.isrc is None, "isrc"), (lambda s: s.audio is None, "audio"),
                             (lambda s: s.image_url is None, "imageUrl")):
        uuid = _songs_where(srv, predicate)[0].uuid
        assert get(http, srv, f"/api/v2.25/song/{uuid}").json()["object"][field] is None


def test_unicode_names_and_two_artist_credits(srv, http):
    names = {"Beyoncé", "BTS (방탄소년단)"}
    for name in names:
        uuid = _songs_where(srv, lambda s, n=name: s.artists[0].name == n)[0].uuid
        assert name in get(http, srv, f"/api/v2.25/song/{uuid}").json()["object"]["creditName"]
    duo = _songs_where(srv, lambda s: len(s.artists) == 2)[0]
    body = get(http, srv, f"/api/v2.25/song/{duo.uuid}").json()["object"]
    assert body["creditName"] == " & ".join(a["name"] for a in body["artists"])


def test_legacy_v2_song_shape(srv, http):
    uuid = _songs_where(srv, lambda s: s.isrc)[0].uuid
    song = get(http, srv, f"/api/v2/song/{uuid}").json()["object"]
    assert isinstance(song["isrc"], str) and isinstance(song["label"], str)
    assert "genres" not in song and "labels" not in song


def test_unknown_song_is_404_everywhere(srv, http):
    ghost = "00000000-0000-0000-0000-000000000000"
    for path in (f"/api/v2.25/song/{ghost}", f"/api/v2/song/{ghost}", f"/api/v2/song/{ghost}/identifiers",
                 f"/api/v2/song/{ghost}/audience/spotify", f"/api/v2/song/{ghost}/popularity/spotify"):
        assert_error(get(http, srv, path), 404, "Song not found")


def test_identifiers(srv, http):
    song = _songs_where(srv, lambda s: len(s.identifiers_on("spotify")) == 3 and "no-default" not in s.quirks)[0]
    body = get(http, srv, f"/api/v2/song/{song.uuid}/identifiers").json()
    assert body["related"] == {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name}
    rows = body["items"]
    assert all(set(r) == {"platformName", "platformCode", "identifier", "url", "default"} for r in rows)
    assert all(isinstance(r["identifier"], str) for r in rows)
    spotify = [r for r in rows if r["platformCode"] == "spotify"]
    assert len(spotify) == 3 and sum(r["default"] for r in spotify) == 1
    for code in {r["platformCode"] for r in rows}:
        assert sum(r["default"] for r in rows if r["platformCode"] == code) == 1
    path = f"/api/v2/song/{song.uuid}/identifiers"
    only = get(http, srv, path, platform="spotify", onlyDefault="true").json()
    assert [r["identifier"] for r in only["items"]] == [r["identifier"] for r in spotify if r["default"]]
    tiktok = _songs_where(srv, lambda s: s.identifiers_on("tiktok"))[0]
    ids = get(http, srv, f"/api/v2/song/{tiktok.uuid}/identifiers", platform="tiktok").json()["items"]
    assert len(ids[0]["identifier"]) == 19 and ids[0]["identifier"].isdigit()
    isrc = _songs_where(srv, lambda s: s.isrc and s.identifiers_on("isrc")[0].url)[0]
    rows = get(http, srv, f"/api/v2/song/{isrc.uuid}/identifiers", platform="isrc").json()["items"]
    assert rows[0]["identifier"] == isrc.isrc and "spotify" in rows[0]["url"]
    assert_error(get(http, srv, f"/api/v2/song/{isrc.uuid}/identifiers", onlyDefault="maybe"), 400)


# --- audience windows (data properties are in test_localapi_data.py) -------------------------------

def test_audience_window_defaults_and_400s(srv, http):
    cutoff = TODAY - dt.timedelta(days=60)
    song = _songs_where(srv, lambda s: s.identifiers_on("spotify") and s.release < cutoff)[0]
    path = f"/api/v2/song/{song.uuid}/audience/spotify"
    dates = [i["date"][:10] for i in get(http, srv, path).json()["items"]]
    assert dates[0] <= str(TODAY) and dates[-1] >= str(TODAY - dt.timedelta(days=30)) and len(dates) >= 25
    assert_error(get(http, srv, path, startDate="2025-01-01", endDate="2025-04-02"), 400, "90 days")
    assert get(http, srv, path, startDate="2025-01-01", endDate="2025-04-01").status_code == 200
    assert_error(get(http, srv, path, startDate="2025-03-10", endDate="2025-03-01"), 400, "after")
    assert_error(get(http, srv, path, startDate="03/01/2025"), 400, "YYYY-MM-DD")
    assert_error(get(http, srv, path, endDate="2025-02-30"), 400)
    assert_error(get(http, srv, f"/api/v2/song/{song.uuid}/audience/deezer"), 400, "invalid platform")
    assert_error(get(http, srv, f"/api/v2/song/{song.uuid}/popularity/tiktok"), 400, "invalid platform")


def test_team_usage_is_free(srv, http):
    before = get(http, srv, "/api/v2/team/usage").json()
    after = get(http, srv, "/api/v2/team/usage").json()
    assert before["errors"] == [] and set(before["object"]) == {"quota", "rateLimit"}
    assert before["object"]["quota"]["used"] == after["object"]["quota"]["used"]
    get(http, srv, "/api/v2/referential/platforms")
    used = get(http, srv, "/api/v2/team/usage").json()["object"]["quota"]["used"]
    assert used == after["object"]["quota"]["used"] + 1


def test_unknown_paths_and_methods(srv, http):
    assert_error(get(http, srv, "/api/v3/whatever"), 404)
    assert_error(get(http, srv, "/favicon.ico"), 404)
    assert_error(http.post(srv.base_url + "/api/v2/referential/platforms", timeout=5), 405)


def test_head_carries_the_quota_header(srv, http):
    resp = http.head(srv.base_url + "/api/v2/referential/platforms", timeout=5)
    assert resp.status_code == 200 and resp.content == b"" and resp.headers["x-quota-remaining"].isdigit()


def test_control_endpoints_count_and_reset():
    with running(LocalApiConfig(today=TODAY, quota=10)) as server, session() as http:
        for _ in range(3):
            http.get(server.base_url + "/api/v2/referential/platforms", timeout=5)
        http.get(server.base_url + "/nowhere", timeout=5)
        stats = requests.get(server.base_url + "/__localapi/stats", timeout=5).json()
        assert stats["requests"] == 4 and stats["by_path"]["/api/v2/referential/platforms"] == 3
        assert stats["quota_remaining"] == 7 and stats["faults"] == 0 and stats == server.stats()
        requests.post(server.base_url + "/__localapi/reset", timeout=5)
        assert server.stats()["requests"] == 0 and server.stats()["quota_remaining"] == 10


# --- determinism -----------------------------------------------------------------------------------

def _bodies(config, paths):
    with running(config) as server, session() as http:
        song = server.catalog.song_list[42].uuid
        return [http.get(server.base_url + path.format(song=song), timeout=10).content for path in paths]


def test_same_seed_same_bytes_other_seed_other_data():
    paths = ["/api/v2/chart/song/by-platform/spotify", f"/api/v2.14/chart/song/{CHART}/ranking/latest",
             f"/api/v2.14/chart/song/{CHART}/ranking/2025-01-02T00:00:00+00:00?offset=100",
             "/api/v2/chart/song/tiktok-top-50-us-weekly/available-rankings", "/api/v2.25/song/{song}",
             "/api/v2/song/{song}/identifiers", "/api/v2/song/{song}/audience/youtube?startDate=2025-03-01"]
    first = _bodies(LocalApiConfig(seed=5, today=TODAY), paths)
    assert first == _bodies(LocalApiConfig(seed=5, today=TODAY), paths)
    other = _bodies(LocalApiConfig(seed=6, today=TODAY), paths)
    assert first[1] != other[1] and first[4] != other[4]
