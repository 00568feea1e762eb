"""The artist JSON endpoints on the real server of `soundcharts serve`: an artist's followers and monthly listeners as
the local API served them, one platform with its growth, hostile input as one-line 400 / 404 JSON, and the OpenAPI
document (schemathesis)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from conftest import copy_db, local_client
from sqlalchemy import func, insert, select

from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models_reach import ArtistAudience, ArtistListeners
from soundcharts_lib.db.tables import TA, A, E, P, T
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse import artist_series
from soundcharts_lib.warehouse.audience_series import growth
from soundcharts_lib.web.handlers import OPENAPI
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready
from web.test_web import LOGS, _server_env

pytestmark = pytest.mark.slow  # a server of its own

ARTIST = "/soundcharts/artist"
SERIES = {"followers": ("spotify", "instagram", "youtube"), "listeners": ("spotify", "youtube")}
DAYS = 150
UNKNOWN = "00000000-0000-4000-a000-000000000000"


@pytest.fixture(scope="module")
def artist_db(synced_sqlite_url, localapi, tmp_path_factory) -> tuple[str, dict]:
    """A copy of the synced database with the artists of its 5 busiest tracks (their metadata) and, for 3 of them,
    150 days of followers and listeners as the local API serves them, written to the tables directly; and what
    the API served: ``{(artist uuid, kind, platform): {date: value}}``."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("artists") / "artists.db")
    engine = make_engine(url)
    end, served = today_utc(), {}
    rows: dict[str, list] = {"followers": [], "listeners": []}
    with engine.connect() as conn:
        top = list(conn.execute(select(T.c.uuid).join(E, E.c.track_id == T.c.id).group_by(T.c.uuid)
                                .order_by(func.count().desc(), T.c.uuid).limit(5)).scalars())
        platforms = dict(conn.execute(select(P.c.slug, P.c.id)).all())
    with engine.begin() as conn:  # a chart sync stores the chart platforms only
        for slug in sorted({s for slugs in SERIES.values() for s in slugs} - set(platforms)):
            platforms[slug] = conn.execute(insert(P).values(slug=slug, name=slug.title(), supports_charts=False,
                                                            supports_audience=True).returning(P.c.id)).scalar_one()
    with local_client(localapi) as client:
        store_metadata(client, engine, top, progress=False)
        with engine.connect() as conn:
            artists = dict(conn.execute(select(A.c.uuid, A.c.id).join(TA, TA.c.artist_id == A.c.id)
                                        .group_by(A.c.uuid, A.c.id).order_by(A.c.uuid).limit(3)).all())
        for uuid, artist_id in artists.items():
            for kind, slugs in SERIES.items():
                fetch = client.artist_followers if kind == "followers" else client.artist_listeners
                for slug in slugs:
                    days = fetch(uuid, slug, end - timedelta(days=DAYS - 1), end).days
                    values = {d.date: d.follower_count if kind == "followers" else d.value for d in days}
                    served[(uuid, kind, slug)] = {day: v for day, v in values.items() if v is not None}
                    column = "followers" if kind == "followers" else "value"
                    rows[kind] += [{"artist_id": artist_id, "platform_id": platforms[slug], "date": day, column: v}
                                   for day, v in served[(uuid, kind, slug)].items()]
    with engine.begin() as conn:
        conn.execute(insert(ArtistAudience), rows["followers"])
        conn.execute(insert(ArtistListeners), rows["listeners"])
    engine.dispose()
    assert len(artists) == 3 and len(rows["followers"]) > 300 and len(rows["listeners"]) > 200
    return url, served


@pytest.fixture(scope="module")
def server(artist_db, tmp_path_factory):
    """``soundcharts serve``'s server on a free port: base URL."""
    LOGS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (LOGS / f"web-artists-{port}.log").open("w") as log:
        proc = start_voila(port, env=_server_env(artist_db[0], tmp_path_factory.mktemp("state")), log=log)
        try:
            yield wait_ready(proc, port)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def artist(artist_db) -> str:
    """The artist with most followers points."""
    served = artist_db[1]
    return max({uuid for uuid, _, _ in served}, key=lambda u: sum(len(v) for (a, k, _), v in served.items()
                                                                   if a == u and k == "followers"))


def served_points(values: dict[date, int], limit: int, *, changes: bool) -> list[dict]:
    """The API's values as the endpoint lists them: the last ``limit``, a change where the day before is there."""
    days = sorted(values)[-limit:]
    if not changes:
        return [{"date": d.isoformat(), "value": values[d]} for d in days]
    return [{"date": d.isoformat(), "value": values[d],
             "daily_change": values[d] - values[d - timedelta(days=1)] if d - timedelta(days=1) in values else None}
            for d in days]


def test_an_artist_equals_what_the_api_served(server, artist_db, artist):
    served = artist_db[1]
    resp = requests.get(f"{server}{ARTIST}/{artist}/", params={"limit": 20})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["artist"]["uuid"] == artist and body["limit"] == 20 and body["start_date"] is None
    for kind, slugs in SERIES.items():
        held = [slug for slug in slugs if served[(artist, kind, slug)]]
        assert sorted(body[kind]) == sorted(held) and held
        for slug in held:
            assert body[kind][slug] == served_points(served[(artist, kind, slug)], 20, changes=kind == "followers")


def test_one_platform_with_its_range_and_growth(server, artist_db, artist):
    served, end = artist_db[1], today_utc() - timedelta(days=2)
    start = end - timedelta(days=40)
    body = requests.get(f"{server}{ARTIST}/{artist}/audience/spotify",  # the trailing slash is optional
                        params={"start_date": start.isoformat(), "end_date": end.isoformat(), "limit": 10}).json()
    assert (body["platform"], body["start_date"], body["end_date"], body["limit"]) == (
        "spotify", start.isoformat(), end.isoformat(), 10)
    engine = make_engine(artist_db[0], read_only=True)
    info = artist_series.artist_info(engine, artist)
    for kind in SERIES:
        values = {d: v for d, v in served[(artist, kind, "spotify")].items() if d <= end}
        in_range = {d: v for d, v in values.items() if d >= start}
        part = body[kind]
        assert part["total"] == len(in_range) > 10 and part["count"] == 10
        expected = served_points(values, len(values), changes=kind == "followers")  # the start's own change too
        assert part["points"] == expected[-10:]
        history = artist_series.series(engine, info["id"], kind, "spotify", end=end)["spotify"]
        assert [(g["days"], g["from_date"], g["to_date"], g["units"], g["pct"]) for g in part["growth"]] == [
            (n, g["from_date"] and g["from_date"].isoformat(), g["to_date"].isoformat(), g["units"], g["pct"])
            for n, g in growth(history).items()]
        assert part["growth"][0]["to_date"] == max(values).isoformat()
    engine.dispose()


@pytest.mark.parametrize("path, status, words", [
    (f"{ARTIST}/not-a-uuid/", 400, "artist_uuid is not a SoundCharts UUID"),
    (f"{ARTIST}/{{a}}x/", 400, "artist_uuid is not a SoundCharts UUID"),
    (f"{ARTIST}/%3Cscript%3E/audience/spotify/", 400, "artist_uuid is not a SoundCharts UUID"),
    (f"{ARTIST}/{{a}}/audience/Spotify!/", 400, "not a platform code"),
    (f"{ARTIST}/{{a}}/audience/{'x' * 65}/", 400, "not a platform code"),
    (f"{ARTIST}/{{a}}/?start_date=2026-02-30", 400, "start_date must be a date"),
    (f"{ARTIST}/{{a}}/?end_date=20260101", 400, "end_date must be a date"),
    (f"{ARTIST}/{{a}}/?end_date=%202026-01-01", 400, "end_date must be a date"),
    (f"{ARTIST}/{{a}}/audience/spotify/?start_date=2026-03-02&end_date=2026-03-01", 400, "is after end_date"),
    (f"{ARTIST}/{{a}}/?limit=0", 400, "limit must be"),
    (f"{ARTIST}/{{a}}/?limit=10001", 400, "limit must be"),
    (f"{ARTIST}/{{a}}/?limit=99999999999999999999", 400, "limit must be"),
    (f"{ARTIST}/{{a}}/?limit=-5", 400, "limit must be"),
    (f"{ARTIST}/{UNKNOWN}/", 404, f"no artist {UNKNOWN}"),
    (f"{ARTIST}/{UNKNOWN}/audience/spotify/", 404, f"no artist {UNKNOWN}"),
    (f"{ARTIST}/{{a}}/audience/deezer/", 404, "no followers or monthly listeners of artist"),
    (f"{ARTIST}/{{a}}/audience/no-such-platform/", 404, "no followers or monthly listeners of artist"),
    (f"{ARTIST}/{{a}}/audience/spotify/?end_date=2001-01-01", 404, "are stored on 'spotify' up to 2001-01-01"),
    (f"{ARTIST}/{{a}}/audience/", 404, "no such endpoint"),
    (f"{ARTIST}/{{a}}/followers/spotify/", 404, "no such endpoint"),
    (f"{ARTIST}/{{a}}/audience/spotify/extra/", 404, "no such endpoint"),
    (f"{ARTIST}/", 404, "no such endpoint"),
])
def test_hostile_requests_are_one_line_json_errors(server, artist, path, status, words):
    resp = requests.get(server + path.replace("{a}", artist))
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["error"] and words in body["error"] and "\n" not in body["error"]


def test_the_document_lists_the_artist_endpoints(server):
    served = requests.get(f"{server}/soundcharts/openapi.json").json()
    assert served == yaml.safe_load(OPENAPI.read_text())
    assert {f"{ARTIST}/{{artist_uuid}}/", f"{ARTIST}/{{artist_uuid}}/audience/{{platform_slug}}/"} <= set(
        served["paths"])


def test_responses_conform_to_the_schema(server, artist):
    import schemathesis

    schema = schemathesis.openapi.from_path(str(OPENAPI))
    whole = schema[f"{ARTIST}/{{artist_uuid}}/"]["GET"]
    one = schema[f"{ARTIST}/{{artist_uuid}}/audience/{{platform_slug}}/"]["GET"]
    cases = [whole.Case(path_parameters={"artist_uuid": artist}, query={"limit": 3}),
             whole.Case(path_parameters={"artist_uuid": UNKNOWN}),
             one.Case(path_parameters={"artist_uuid": artist, "platform_slug": "instagram"},
                      query={"start_date": (today_utc() - timedelta(days=30)).isoformat()}),
             one.Case(path_parameters={"artist_uuid": artist, "platform_slug": "deezer"}),
             one.Case(path_parameters={"artist_uuid": artist, "platform_slug": "spotify"}, query={"limit": 0})]
    statuses = []
    for case in cases:
        response = case.call(base_url=server)
        case.validate_response(response)
        statuses.append(response.status_code)
    assert statuses == [200, 404, 200, 404, 400]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, artist, tmp_path):
    today = today_utc()
    dates = [(today - timedelta(days=n)).isoformat() for n in (0, 5, 40, 120)]
    (tmp_path / "schemathesis.toml").write_text(f"""
[dictionaries.artists]
values = ["{artist}", "{UNKNOWN}"]
[dictionaries.platforms]
values = ["spotify", "youtube", "instagram", "tiktok", "deezer"]
[dictionaries.dates]
values = {dates!r}
[parameters]
"path.artist_uuid" = {{ dictionary = "artists", probability = 0.7 }}
"path.platform_slug" = {{ dictionary = "platforms", probability = 0.7 }}
"query.start_date" = {{ dictionary = "dates", probability = 0.5 }}
"query.end_date" = {{ dictionary = "dates", probability = 0.5 }}
""")
    res = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "--config-file", "schemathesis.toml",
         "run", str(OPENAPI), "--url", server, "--include-path-regex", f"^{ARTIST}/",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance,negative_data_rejection",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "40", "--seed", "7",
         "--generation-database", "none", "--no-color", "--request-timeout", "20"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:]
    assert "No issues found" in res.stdout and "Missing test data" not in res.stdout, res.stdout[-4000:]
    assert "2 selected" in res.stdout or "Selected: 2" in res.stdout, res.stdout[-2000:]
