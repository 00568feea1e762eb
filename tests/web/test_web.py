"""The audience JSON endpoints on the real server of `soundcharts serve` (Voila + endpoints, one port)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml
from conftest import copy_db
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from tornado import httputil

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.config import Settings
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import Track, TrackAudience
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.reach import ReachProcessor
from soundcharts_lib.jobs.sync import today_utc
from soundcharts_lib.warehouse import audience_series as series
from soundcharts_lib.warehouse import reach_pages
from soundcharts_lib.web.gate import ALLOWED_HOSTS_ENV, RequestGate, allowed_hosts
from soundcharts_lib.web.handlers import OPENAPI, read_only_engine
from soundcharts_lib.web.launch import free_port, start_voila, voila_command, wait_ready
from soundcharts_lib.web.login import LoginLimiter, same_secret
from soundcharts_lib.web.pages import without_token
from soundcharts_lib.web.wsguard import MAX_OFFSETS, frame_problem

LOGS = Path(__file__).resolve().parents[2] / "test-output" / "logs"
CHART = "/soundcharts/audience/chart"


@pytest.fixture(scope="module")
def audience_db(synced_sqlite_url, localapi, tmp_path_factory) -> str:
    """A copy of the synced database plus 200 days of audience of its 4 stalest charting tracks, and their Spotify
    popularity (fetch-reach)."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("web") / "web.db")
    engine = make_engine(url)
    with SoundchartsClient(localapi.base_url, "soundcharts", "soundcharts") as client:
        result = AudienceDataProcessor(client, engine, progress=False).run(
            limit=4, start=today_utc() - timedelta(days=199))
        with engine.connect() as conn:
            fetched = list(conn.execute(select(Track.uuid).distinct()
                                        .join(TrackAudience, TrackAudience.track_id == Track.id)).scalars())
        reach = ReachProcessor(client, engine, progress=False).run(track_uuids=fetched, platforms=["spotify"])
    assert result.status == "success" and result.points > 1000, result.errors
    assert reach.status == "success" and reach.popularity_days > 100, reach.errors
    engine.dispose()
    return url


def _server_env(db_url: str, state: Path) -> dict:
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(state / var.lower())
    return env


@pytest.fixture(scope="module")
def server(audience_db, tmp_path_factory):
    """``soundcharts serve``'s server on a free port: base URL."""
    LOGS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (LOGS / f"web-{port}.log").open("w") as log:
        proc = start_voila(port, env=_server_env(audience_db, tmp_path_factory.mktemp("state")), log=log)
        try:
            yield wait_ready(proc, port)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def ro(audience_db):
    """The test database, read-only, for the analytics functions."""
    eng = make_engine(audience_db, read_only=True)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def track(ro) -> str:
    """The track with audience on the most platforms."""
    with ro.connect() as conn:
        uuids = list(conn.execute(select(Track.uuid).distinct()
                                  .join(TrackAudience, TrackAudience.track_id == Track.id)).scalars())
    return max(uuids, key=lambda u: len(series.audience_platforms(ro, u)))


def expected_points(frame: pd.DataFrame, limit: int) -> list[dict]:
    rows = frame.tail(limit).to_dict("records")
    return [{"date": r["date"].isoformat(), "value": int(r["value"]),
             "daily_change": None if pd.isna(r["daily_change"]) else int(r["daily_change"])} for r in rows]


def expected_popularity(frame: pd.DataFrame, limit: int) -> list[dict]:
    return [{"date": r["date"].isoformat(), "value": int(r["value"])} for r in frame.tail(limit).to_dict("records")]


@pytest.mark.slow
def test_one_platform_equals_the_analytics_functions(server, ro, track):
    end = today_utc() - timedelta(days=3)
    start = end - timedelta(days=60)
    resp = requests.get(f"{server}{CHART}/{track}/spotify/",
                        params={"start_date": start.isoformat(), "end_date": end.isoformat(), "limit": 30})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    frame = series.audience_series(ro, track, "spotify", start=start, end=end)
    assert body["points"] == expected_points(frame, 30) and body["count"] == 30
    assert body["total"] == len(frame) > 30
    assert body["track"]["uuid"] == track and body["platform"] == "spotify"
    assert (body["start_date"], body["end_date"], body["limit"]) == (start.isoformat(), end.isoformat(), 30)
    growth = series.growth(series.audience_series(ro, track, "spotify", end=end))
    assert [(g["days"], g["units"], g["pct"]) for g in body["growth"]] == \
        [(n, g["units"], g["pct"]) for n, g in growth.items()]
    assert body["growth"][0]["to_date"] == growth[7]["to_date"].isoformat()
    popularity = reach_pages.popularity(ro, track, ["spotify"], start=start, end=end)["spotify"]
    assert body["popularity"] == expected_popularity(popularity, 30) and len(body["popularity"]) == 30
    # A day without a change (a gap before it) is null, exactly where the series has one among those 30 days.
    assert [p["daily_change"] is None for p in body["points"]] == frame["daily_change"].tail(30).isna().tolist()


@pytest.mark.slow
def test_every_platform_equals_the_analytics_functions(server, ro, track):
    resp = requests.get(f"{server}{CHART}/{track}/", params={"limit": 5})
    assert resp.status_code == 200
    body = resp.json()
    frames = series.audience_by_platform(ro, track)
    assert len(frames) >= 2 and sorted(body["platforms"]) == sorted(frames)
    for slug, frame in frames.items():
        assert body["platforms"][slug] == expected_points(frame, 5)
    popularity = reach_pages.popularity(ro, track)
    assert list(popularity) == ["spotify"]
    assert body["popularity"] == {"spotify": expected_popularity(popularity["spotify"], 5)}


@pytest.mark.slow
def test_defaults_return_the_whole_stored_series(server, ro, track):
    body = requests.get(f"{server}{CHART}/{track}/spotify").json()   # the trailing slash is optional
    frame = series.audience_series(ro, track, "spotify")
    assert body["total"] == body["count"] == len(frame) and body["start_date"] is None
    assert body["points"] == expected_points(frame, len(frame))


@pytest.mark.slow
@pytest.mark.parametrize("path, status, words", [
    (f"{CHART}/not-a-uuid/", 400, "not a SoundCharts UUID"),
    (f"{CHART}/{{track}}/Spotify!/", 400, "not a platform code"),
    (f"{CHART}/{{track}}/spotify/?start_date=2026-02-30", 400, "start_date must be a date"),
    (f"{CHART}/{{track}}/spotify/?end_date=20260101", 400, "end_date must be a date"),
    (f"{CHART}/{{track}}/?start_date=2026-03-02&end_date=2026-03-01", 400, "is after end_date"),
    (f"{CHART}/{{track}}/?limit=0", 400, "limit must be"),
    (f"{CHART}/{{track}}/?limit=10001", 400, "limit must be"),
    (f"{CHART}/{{track}}/?limit=1e3", 400, "limit must be"),
    (f"{CHART}/00000000-0000-4000-a000-000000000000/", 404, "no track"),
    (f"{CHART}/00000000-0000-4000-a000-000000000000/spotify/", 404, "no track"),
    (f"{CHART}/{{track}}/deezer/", 404, "no audience platform 'deezer'"),
    (f"{CHART}/{{track}}/spotify/extra/", 404, "no such endpoint"),
])
def test_bad_requests_are_one_line_json_errors(server, track, path, status, words):
    resp = requests.get(server + path.replace("{track}", track))
    assert resp.status_code == status
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["error"] and words in body["error"] and "\n" not in body["error"]


@pytest.mark.slow
def test_dashboards_share_the_port_and_no_jupyter_api_is_exposed(server):
    page = requests.get(f"{server}/voila/render/overview.ipynb", timeout=60)
    assert page.status_code == 200 and "<html" in page.text.lower()
    for path in ("/api/contents", "/api/contents/soundcharts.db", "/voila/files/overview.ipynb"):
        assert requests.get(server + path).status_code in (403, 404)


@pytest.mark.slow
def test_the_openapi_document_is_served(server):
    served = requests.get(f"{server}/soundcharts/openapi.json").json()
    assert served == yaml.safe_load(OPENAPI.read_text())
    assert set(served["paths"]) == {f"{CHART}/{{track_uuid}}/{{platform_slug}}/", f"{CHART}/{{track_uuid}}/",
                                    "/soundcharts/artist/{artist_uuid}/",  # tests/web/test_artist_endpoints.py
                                    "/soundcharts/artist/{artist_uuid}/audience/{platform_slug}/"}


@pytest.mark.slow
def test_responses_with_data_conform_to_the_schema(server, track):
    import schemathesis

    schema = schemathesis.openapi.from_path(str(OPENAPI))
    one = schema[f"{CHART}/{{track_uuid}}/{{platform_slug}}/"]["GET"]
    every = schema[f"{CHART}/{{track_uuid}}/"]["GET"]
    cases = [one.Case(path_parameters={"track_uuid": track, "platform_slug": "spotify"},
                      query={"limit": 40, "end_date": today_utc().isoformat()}),
             one.Case(path_parameters={"track_uuid": track, "platform_slug": "tiktok"}),
             every.Case(path_parameters={"track_uuid": track}, query={"start_date": "2026-01-01"}),
             one.Case(path_parameters={"track_uuid": track, "platform_slug": "deezer"})]
    for case in cases:
        case.validate_response(case.call(base_url=server))


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, track, tmp_path):
    today = today_utc()
    dates = [(today - timedelta(days=n)).isoformat() for n in (0, 5, 40, 150)]
    (tmp_path / "schemathesis.toml").write_text(f"""
[dictionaries.tracks]
values = ["{track}"]
[dictionaries.platforms]
values = ["spotify", "youtube", "shazam", "tiktok", "soundcloud", "instagram"]
[dictionaries.dates]
values = {dates!r}
[parameters]
"path.track_uuid" = {{ dictionary = "tracks", probability = 0.7 }}
"path.platform_slug" = {{ dictionary = "platforms", probability = 0.7 }}
"query.start_date" = {{ dictionary = "dates", probability = 0.5 }}
"query.end_date" = {{ dictionary = "dates", probability = 0.5 }}
""")
    res = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "--config-file", "schemathesis.toml",
         "run", str(OPENAPI), "--url", server, "--include-path-regex", f"^{CHART}/",  # artists: test_artist_endpoints
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance,negative_data_rejection",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "40", "--seed", "7",
         "--generation-database", "none", "--no-color", "--request-timeout", "20"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:]
    assert "No issues found" in res.stdout and "Missing test data" not in res.stdout, res.stdout[-4000:]


def test_the_endpoints_open_the_database_read_only(audience_db, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_DB_URL", audience_db)
    read_only_engine.cache_clear()
    try:
        eng = read_only_engine()
        with pytest.raises(OperationalError, match="readonly"), eng.begin() as conn:
            conn.execute(insert(Track).values(uuid="x", name="x"))
    finally:
        read_only_engine.cache_clear()


@pytest.mark.slow
def test_a_token_protects_the_endpoints_and_a_missing_database_is_a_json_503(tmp_path):
    port = free_port()
    env = _server_env(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path)
    env["SOUNDCHARTS_DB_READONLY"] = "1"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen([*voila_command(port), "--Voila.token=t0k3n"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=str(tmp_path))
        try:
            url = wait_ready(proc, port)
            path = f"{url}{CHART}/00000000-0000-4000-a000-000000000000/"
            denied = requests.get(path, allow_redirects=False)
            assert denied.status_code == 403 and denied.json() == {"error": "Forbidden"}
            missing = requests.get(path, headers={"Authorization": "token t0k3n"})
            assert missing.status_code == 503 and missing.json() == {"error": "database not available"}
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    assert "missing.db" in (tmp_path / "server.log").read_text()  # the detail is in the server's log only


HEADER = {"msg_id": "m1", "msg_type": "kernel_info_request"}


def _v1_frame(channel: str = "shell", header: dict = HEADER, *buffers: bytes, content: bytes = b"{}") -> bytes:
    """A kernel message as Jupyter Server itself serializes the v1 protocol."""
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    return serialize_msg_to_ws_v1([json.dumps(header).encode(), b"{}", b"{}", content, *buffers], channel)


def _le(*numbers: int) -> bytes:
    return b"".join(n.to_bytes(8, "little") for n in numbers)


def test_well_formed_kernel_frames_pass_the_websocket_check():
    assert frame_problem(_v1_frame()) is None
    assert frame_problem(_v1_frame("control", HEADER, b"\x00" * 100, b"")) is None  # binary buffers, one empty
    assert frame_problem(_v1_frame("shell", HEADER, *[b"x"] * (MAX_OFFSETS - 6))) is None


@pytest.mark.parametrize("frame, reason", [
    (bytes.fromhex("ffffffffffffff7f"), "offset count 9223372036854775807 is not 6 to 64"),
    (_le(0), "offset count 0"),
    (_le(5, 48, 53), "offset count 5"),
    (_le(65), "offset count 65"),
    (b"\x06\x00\x00", "3 bytes, shorter than the offset count"),
    (_le(6, 56, 61, 62, 63, 64), "6 offsets do not fit in 48 bytes"),
    (_le(6, 56, 61, 62, 63, 64, 99999) + b"shell{}{}{}{}", "an offset points outside the frame"),
    (_le(6, 8, 61, 62, 63, 64, 65) + b"shell{}{}{}{}", "an offset points outside the frame"),
    (_le(6, 56, 61, 60, 63, 64, 65) + b"shell{}{}{}{}", "the offsets decrease"),
    (_v1_frame("iopub"), "not a channel a client sends on"),
    (_v1_frame("sh\xe9ll"), "not a channel a client sends on"),
    (_le(6, 56, 61, 63, 65, 67, 69) + b"shell{]{}{}{}", "the header is not JSON"),
    (_le(6, 56, 61, 63, 65, 67, 69) + b"shell[]{}{}{}", "the header is not a JSON object"),
    (_v1_frame("shell", {"msg_type": 7, "msg_id": "m"}), "the header has no msg_type and msg_id"),
    (_v1_frame(content=b"[" * 1_000_000), "the content is not JSON"),  # too deep for the parser
    (_v1_frame(content=b"7"), "the content is not a JSON object"),
])
def test_malformed_kernel_frames_are_named(frame, reason):
    assert reason in frame_problem(frame)


def _request(uri: str, host: str = "127.0.0.1:8866") -> httputil.HTTPServerRequest:
    return httputil.HTTPServerRequest(start_line=httputil.RequestStartLine("GET", uri, "HTTP/1.1"),
                                      headers=httputil.HTTPHeaders({"Host": host}))


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:8866", True), ("localhost", True), ("LOCALHOST:1", True), ("[::1]:8866", True), ("", True),
    ("dash.example.org:443", True), ("evil.example", False), ("127.0.0.1.evil.example", False),
    ("localhost.", False), ("[::2]:8866", False), ("dash.example.org.evil.example", False),
])
def test_the_gate_answers_its_own_host_names_only(host, allowed):
    gate = RequestGate(None, None, hosts=allowed_hosts(Settings.from_env({ALLOWED_HOSTS_ENV: " Dash.Example.org ,, "})),
                       template="lab", endpoints_prefix="/soundcharts")
    refused = gate.refusal(_request("/voila/static/voila.js", host))
    assert refused is None if allowed else refused[0] == 403


@pytest.mark.parametrize("uri, refused", [
    ("/voila/render/overview.ipynb?theme=dark&template=lab", None),
    ("/voila/render/overview.ipynb?theme=x%22%3E%3Cscript%3E", (400, "theme must be one of light, dark")),
    ("/voila/tree?theme=light&theme=Dark", (400, "theme must be one of light, dark")),
    ("/?template=..%2F..%2Fetc", (400, "template must be lab (or left out)")),
    ("/voila/render/overview.ipynb?template=", (400, "template must be lab (or left out)")),
    ("/voila/render/a%00.ipynb", (400, "the path holds a NUL character")),
    ("/soundcharts/audience/chart/x/?theme=anything", None),  # the JSON endpoints have no theme
])
def test_the_gate_lets_pages_have_their_themes_and_template_only(uri, refused):
    gate = RequestGate(None, None, hosts=allowed_hosts(Settings.from_env({})), template="lab",
                       endpoints_prefix="/soundcharts")
    assert gate.refusal(_request(uri)) == refused


def test_logins_are_limited_per_address_for_the_rest_of_the_minute():
    now = [1000.0]
    limiter = LoginLimiter(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert not limiter.blocked("10.0.0.1")
        limiter.failed("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    now[0] += 59.9
    assert limiter.blocked("10.0.0.1")
    now[0] += 0.2  # the minute that began with the first failure is over
    assert not limiter.blocked("10.0.0.1")
    limiter.failed("10.0.0.2")
    assert list(limiter._failures) == ["10.0.0.2"]  # expired windows are forgotten


def test_the_token_is_compared_in_constant_time():
    assert same_secret("t0k3n-é", "t0k3n-é") and not same_secret("t0k3n", "t0k3n-é")
    assert not same_secret("", "") and not same_secret("x", "")


def test_the_token_is_taken_out_of_what_the_kernel_gets():
    request = _request("/voila/render/admin/charts.ipynb?token=s3cret&slug=a%26b&tok%65n=x&tokens=1&&token")
    without_token(request)
    assert request.query == "slug=a%26b&tokens=1"
    assert request.uri == "/voila/render/admin/charts.ipynb?slug=a%26b&tokens=1"
    assert request.full_url() == "http://127.0.0.1:8866/voila/render/admin/charts.ipynb?slug=a%26b&tokens=1"
    assert request.query_arguments["token"] == [b"s3cret", b"x", b""]  # authentication still reads them
    only = _request("/voila/render/x.ipynb?token=s3cret")
    without_token(only)
    assert only.uri == "/voila/render/x.ipynb" and only.query == ""
