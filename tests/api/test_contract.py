"""Contract tests: the same assertions, written from shared/soundcharts-api.md, run on the saved response bodies in
tests/data/ and on the local server's live responses. Neither the client nor the server code is used to read them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

DATA = Path(__file__).parent.parent / "data"
AUTH = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}
ATOM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
STR_OR_NULL = (str, type(None))


def whole(value) -> bool:
    """A JSON number that is a whole number (some bodies write 1700000.0), or null."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and float(value).is_integer())


def check_page(body: dict) -> None:
    assert body["errors"] == []
    page = body["page"]
    assert set(page) >= {"offset", "limit", "next", "previous", "total"}
    assert isinstance(page["offset"], int) and isinstance(page["total"], int)
    assert 1 <= page["limit"] <= 100 and len(body["items"]) <= page["limit"]
    for link in (page["next"], page["previous"]):  # root-relative path with /api and the query, or null
        assert link is None or (link.startswith("/api/") and "offset=" in link)


def check_chart(chart: dict) -> None:
    for key in ("name", "slug", "platform"):
        assert isinstance(chart[key], str) and chart[key]
    for key in ("type", "frequency", "countryCode", "countryName", "cityName", "webUrl"):
        assert isinstance(chart.get(key), STR_OR_NULL)
    assert whole(chart.get("maxResultsCount"))


def check_platforms(body: dict) -> None:
    check_page(body)
    assert body["items"] and all(set(p) >= {"code", "name"} and isinstance(p["code"], str) for p in body["items"])


def check_charts(body: dict) -> None:
    check_page(body)
    for chart in body["items"]:
        check_chart(chart)


def check_ranking(body: dict) -> None:
    check_page(body)
    check_chart(body["related"]["chart"])
    metric = body["related"]["chart"].get("metric")
    assert metric is None or (isinstance(metric["type"], str) and isinstance(metric["description"], str))
    assert ATOM.match(body["related"]["date"])
    for item in body["items"]:
        assert isinstance(item["song"]["uuid"], str) and isinstance(item["song"]["name"], str)
        assert isinstance(item["position"], int) and item["position"] >= 0
        for key in ("positionEvolution", "metric", "oldPosition", "timeOnChart"):
            assert whole(item.get(key)), key
        for key in ("entryDate", "rankDate"):
            assert item.get(key) is None or ATOM.match(item[key]), key
        assert isinstance(item.get("entryState"), STR_OR_NULL)


def check_available(body: dict) -> None:
    check_page(body)
    check_chart(body["related"])
    assert body["items"] and all(isinstance(d, str) and ATOM.match(d) for d in body["items"])


def check_song(body: dict) -> None:
    assert body["type"] == "song" and body["errors"] == []
    song = body["object"]
    assert isinstance(song["uuid"], str) and isinstance(song["name"], str)
    isrc = song.get("isrc")
    assert isrc is None or isinstance(isrc["value"], str)
    # list fields may be null or missing: nullability is undocumented
    assert all(isinstance(a["uuid"], str) and isinstance(a["name"], str) for a in song.get("artists") or [])
    assert song.get("releaseDate") is None or ATOM.match(song["releaseDate"])
    assert all(isinstance(g["root"], str) for g in song.get("genres") or [])
    assert isinstance(song.get("labels") or [], list)


def check_identifiers(body: dict) -> None:
    check_page(body)
    assert isinstance(body["related"]["uuid"], str)
    for item in body["items"]:
        assert isinstance(item["platformCode"], str)
        ident = item["identifier"]  # a string; saved bodies also try bare numbers on the client
        assert isinstance(ident, str) or (whole(ident) and ident is not None)
        assert isinstance(item.get("default"), (bool, type(None)))  # optional (absent from 2022 bodies)


def check_audience(body: dict) -> None:
    check_page(body)
    assert isinstance(body["related"]["uuid"], str)
    for item in body["items"]:
        assert ATOM.match(item["date"])
        for plot in item["plots"]:
            assert isinstance(plot["identifier"], str) and whole(plot["value"])


def check_error(body: dict, status: int) -> None:
    assert isinstance(body["errors"], list) and body["errors"]
    for err in body["errors"]:
        assert err["code"] == status and isinstance(err["message"], str) and isinstance(err["key"], str)


SAVED = [
    ("platforms.json", check_platforms), ("charts_spotify_page1.json", check_charts),
    ("charts_spotify_page2.json", check_charts), ("ranking_latest_page1.json", check_ranking),
    ("ranking_latest_page2.json", check_ranking), ("ranking_local_offset.json", check_ranking),
    ("available_rankings.json", check_available), ("song_v225.json", check_song),
    ("song_v225_nulls.json", check_song), ("identifiers.json", check_identifiers),
    ("audience_page1.json", check_audience), ("audience_page2.json", check_audience),
]


@pytest.mark.parametrize(("name", "check"), SAVED, ids=[n for n, _ in SAVED])
def test_saved_bodies_follow_the_contract(name, check):
    check(json.loads((DATA / name).read_text()))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 500])
def test_saved_error_bodies_follow_the_contract(status):
    check_error(json.loads((DATA / f"error_{status}.json").read_text()), status)


def test_live_responses_follow_the_same_contract_strictly(localapi):
    """The server speaks the contract exactly: ints are ints, identifiers strings."""
    def get(path, **params):
        r = requests.get(localapi.base_url + path, headers=AUTH, params=params, timeout=10)
        assert r.status_code == 200, (path, r.text[:200])
        assert r.headers["x-quota-remaining"].isdigit()
        return r.json()

    def strict(body):
        text = json.dumps(body)
        assert not re.search(r'"(position|metric|value|timeOnChart|oldPosition)": -?\d+\.\d', text)
        assert not re.search(r'"identifier": \d', text)
        return body

    check_platforms(get("/api/v2/referential/platforms"))
    check_platforms(get("/api/v2/chart/song/platforms"))
    charts = get("/api/v2/chart/song/by-platform/spotify", offset=0, limit=5)
    check_charts(charts)
    slug = charts["items"][0]["slug"]
    latest = get(f"/api/v2.14/chart/song/{slug}/ranking/latest", offset=0, limit=100)
    check_ranking(strict(latest))
    dates = get(f"/api/v2/chart/song/{slug}/available-rankings")
    check_available(dates)
    check_ranking(get(f"/api/v2.14/chart/song/{slug}/ranking/{dates['items'][1]}"))
    uuid = latest["items"][0]["song"]["uuid"]
    check_song(get(f"/api/v2.25/song/{uuid}"))
    check_identifiers(strict(get(f"/api/v2/song/{uuid}/identifiers")))
    check_audience(strict(get(f"/api/v2/song/{uuid}/audience/spotify")))
    if latest["page"]["next"]:  # following page.next as given keeps the contract too
        check_ranking(requests.get(localapi.base_url + latest["page"]["next"], headers=AUTH, timeout=10).json())


@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/api/v2/referential/platforms", {}, 401),
    ("/api/v2.25/song/00000000-0000-4000-8000-000000000000", AUTH, 404),
    ("/api/v2/chart/song/by-platform/spotify?limit=0", AUTH, 400),
])
def test_live_error_bodies_follow_the_contract(localapi, path, headers, status):
    r = requests.get(localapi.base_url + path, headers=headers, timeout=10)
    assert r.status_code == status
    check_error(r.json(), status)
