"""The client against a tiny real HTTP server (127.0.0.1) that replays saved bodies.

It covers answers the local SoundCharts server does not give on purpose: every error status with
its saved body, non-JSON error pages, redirects, odd pagination links and odd quota headers.
"""

from __future__ import annotations

import base64
import json

import pytest

from api.replay import DATA, saved
from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.errors import (
    ApiError,
    AuthError,
    BadRequest,
    ConfigError,
    Gone,
    NotFound,
    PayloadError,
    PlanError,
    QuotaExhausted,
    RateLimited,
    ServerError,
)

SONG = "/api/v2.25/song/abc"


@pytest.mark.parametrize(("name", "status", "error", "key"), [
    ("error_400.json", 400, BadRequest, "validation"),
    ("error_401.json", 401, AuthError, "auth"),
    ("error_403.json", 403, PlanError, "access"),
    ("error_404.json", 404, NotFound, "access"),
    ("error_405.json", 405, ApiError, "sandbox"),
    ("error_410.json", 410, Gone, "blacklisted"),
    ("error_429_quota.json", 429, QuotaExhausted, "quota"),
])
def test_terminal_errors_are_typed_and_not_retried(replay, client, name, status, error, key):
    replay.routes[SONG] = [saved(name, status)]
    with pytest.raises(error) as info:
        client.song("abc")
    exc = info.value
    assert type(exc) is error
    assert (exc.status, exc.endpoint, exc.key) == (status, SONG, key)
    assert exc.api_message == json.loads((DATA / name).read_bytes())["errors"][0]["message"]
    assert replay.hits(SONG) == 1 and client.waits == []


def test_server_errors_are_retried_then_raised(replay, client):
    replay.routes[SONG] = [saved("error_500.json", 500)]
    with pytest.raises(ServerError) as info:
        client.song("abc")
    assert info.value.status == 500 and info.value.key == "server"
    assert replay.hits(SONG) == 3 and len(client.waits) == 2  # max_retries=2


def test_rate_limit_message_without_header_is_retried_with_backoff(replay, client):
    replay.routes[SONG] = [saved("error_429_ratelimit.json", 429), saved("song_v225.json")]
    assert client.song("abc").name == "Die With A Smile"
    assert replay.hits(SONG) == 2 and len(client.waits) <= 1 and sum(client.waits) <= 0.01


def test_rate_limit_reset_header_sets_the_wait(replay, client):
    replay.routes[SONG] = [saved("error_429_quota.json", 429, **{"x-ratelimit-reset": "3"}),
                           saved("song_v225.json")]
    client.song("abc")
    assert client.waits == [pytest.approx(3.5, abs=0.05)]  # reset + margin; the header marks a rate limit


def test_rate_limit_reset_beyond_the_limit_raises_with_retry_after(replay, client):
    replay.routes[SONG] = [saved("error_429_ratelimit.json", 429, **{"x-ratelimit-reset": "3600"})]
    with pytest.raises(RateLimited) as info:
        client.song("abc")
    assert info.value.retry_after == 3600 and info.value.headers["x-ratelimit-reset"] == "3600"
    assert replay.hits(SONG) == 1 and client.waits == []


def test_non_json_error_page_keeps_its_first_200_chars(replay, client):
    page = ("<html><head><title>502 Bad Gateway</title></head><body>" + "upstream down " * 30).encode()
    replay.routes[SONG] = [(502, page, {"Content-Type": "text/html"})]
    with pytest.raises(ServerError) as info:
        client.song("abc")
    assert info.value.api_message == page.decode()[:200] and info.value.key == ""


def test_malformed_200_is_a_retryable_server_error(replay, client):
    replay.routes[SONG] = [(200, b'{"type": "song", "obj', {}), saved("song_v225.json")]
    assert client.song("abc").uuid == "7d534228-5165-11e9-9375-549f35161576"
    assert replay.hits(SONG) == 2
    replay.routes["/api/v2/team/usage"] = [(200, b"<html>", {})]
    with pytest.raises(ServerError) as info:
        client.team_usage()
    assert (info.value.status, info.value.key) == (200, "malformed")
    assert replay.hits("/api/v2/team/usage") == 3


def test_redirects_are_not_followed(replay, client):
    replay.routes[SONG] = [(302, b"", {"Location": "/elsewhere"})]
    with pytest.raises(ApiError) as info:
        client.song("abc")
    assert info.value.status == 302
    assert replay.hits("/elsewhere") == 0


def test_payload_error_names_endpoint_and_field(replay, client):
    broken = json.loads((DATA / "song_v225.json").read_bytes())
    del broken["object"]["artists"][0]["uuid"]
    replay.routes[SONG] = [(200, json.dumps(broken).encode(), {})]
    with pytest.raises(PayloadError) as info:
        client.song("abc")
    assert info.value.endpoint == SONG and info.value.field == "object.artists[0].uuid"
    assert str(info.value) == f"{SONG}: object.artists[0].uuid missing"


def test_pagination_follows_next_with_any_parameter_order(replay, client):
    path = "/api/v2/chart/song/by-platform/spotify"
    replay.routes[path] = [saved("charts_spotify_page1.json"), saved("charts_spotify_page2.json")]
    charts = client.charts_by_platform("spotify", country_code="")
    assert len(charts) == 4
    (_, first, _), (_, second, _) = replay.seen
    assert first == {"offset": "0", "limit": "100", "countryCode": ""}  # falsy values are sent
    assert second == {"offset": "3", "limit": "3", "countryCode": ""}


@pytest.mark.parametrize("query", ["limit=100&offset=0", "offset=abc", "limit=100"])
def test_pagination_stops_on_a_next_that_does_not_advance(replay, client, query):
    path = "/api/v2/referential/platforms"
    body = json.loads((DATA / "platforms.json").read_bytes())
    body["page"]["next"] = f"{path}?{query}"
    replay.routes[path] = [(200, json.dumps(body).encode(), {})]
    with pytest.raises(PayloadError, match="page.next does not advance"):
        client.platforms()
    assert replay.hits(path) == 1


def test_quota_header_int_or_raw(replay, client):
    assert client.quota_remaining is None
    replay.routes["/api/v2/team/usage"] = [(200, b"{}", {"x-quota-remaining": "12345"}),
                                          (200, b"{}", {"x-quota-remaining": "unlimited"})]
    client.team_usage()
    assert client.quota_remaining == 12345
    client.team_usage()
    assert client.quota_remaining == "unlimited" and client.request_count == 2


def test_legacy_headers_are_sent(replay, client):
    replay.routes["/api/v2/team/usage"] = [(200, b"{}", {})]
    client.team_usage()
    headers = replay.seen[0][2]
    assert headers["x-app-id"] == "app" and headers["x-api-key"] == "key" and "Authorization" not in headers


def test_connection_refused_is_a_server_error_without_url():
    c = SoundchartsClient("http://127.0.0.1:9", "app", "key", max_retries=1, sleep=lambda s: None)
    with c, pytest.raises(ServerError) as info:
        c.team_usage()
    assert info.value.status is None and info.value.endpoint == "/api/v2/team/usage"
    assert "127.0.0.1" not in str(info.value) and info.value.__suppress_context__


def test_no_credentials_is_a_config_error():
    with pytest.raises(ConfigError):
        SoundchartsClient("http://127.0.0.1:9")


def test_oauth_form_basic_auth_and_bearer(replay):
    replay.routes["/oauth/token"] = [(200, b'{"access_token": "tok-1", "expires_in": 3600}', {})]
    replay.routes["/api/v2/team/usage"] = [(200, b"{}", {})]
    with SoundchartsClient(replay.base_url, client_id="id", client_secret="s3cret", team_id="team-7",
                           auth_url=f"{replay.base_url}/oauth/token") as c:
        c.team_usage()
        c.team_usage()
    (token_path, form, token_headers), *api = replay.seen
    assert token_path == "/oauth/token" and form == {"grant_type": "client_credentials", "team_id": "team-7"}
    assert token_headers["Authorization"] == "Basic " + base64.b64encode(b"id:s3cret").decode()
    assert [h["Authorization"] for _, _, h in api] == ["Bearer tok-1"] * 2
    assert all("x-api-key" not in h for _, _, h in api)


def test_oauth_reply_without_token_is_a_payload_error(replay):
    replay.routes["/oauth/token"] = [(200, b'{"token_type": "Bearer"}', {})]
    with SoundchartsClient(replay.base_url, client_id="id", client_secret="s3cret",
                           auth_url=f"{replay.base_url}/oauth/token") as c, \
            pytest.raises(PayloadError, match="access_token missing"):
        c.team_usage()
