"""The local server's data read back over HTTP: self-consistent chart histories, sane audience series."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
import requests

from soundcharts_lib.localapi import LocalApiConfig, make_server, running

TODAY = dt.date(2025, 4, 15)  # a 90-day window back from here crosses the switch to summer time (30 March)
AUTH = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}


@pytest.fixture(scope="module")
def srv():
    with running(LocalApiConfig(seed=3, today=TODAY, history_days=150)) as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session


def _all(http, srv, path, **params):
    """Every item of a collection, following page.next."""
    body = http.get(srv.base_url + path, params=params, timeout=10).json()
    items = body["items"]
    while body["page"]["next"]:
        body = http.get(srv.base_url + body["page"]["next"], timeout=10).json()
        items += body["items"]
    return items


def _served_history(http, srv, slug):
    dates = _all(http, srv, f"/api/v2/chart/song/{slug}/available-rankings")[::-1]  # oldest first
    return [(raw, _all(http, srv, f"/api/v2.14/chart/song/{slug}/ranking/{raw}")) for raw in dates]


def _check_history(history):
    """Recompute every derived field from the served rankings alone; return the entry states seen."""
    previous: dict[str, int] = {}
    first: dict[str, str] = {}
    count: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for raw, items in history:
        assert [i["position"] for i in items] == list(range(1, len(items) + 1))
        current = {i["song"]["uuid"]: i["position"] for i in items}
        assert len(current) == len(items)
        for item in items:
            uuid, pos = item["song"]["uuid"], item["position"]
            old = previous.get(uuid)
            count[uuid] += 1
            expected_state = ("new" if uuid not in first else "re-entry" if old is None
                              else "up" if old > pos else "down" if old < pos else "same")
            first.setdefault(uuid, raw)
            assert item["oldPosition"] == old
            assert item["positionEvolution"] == (old - pos if old is not None else 0)
            assert item["entryState"] == expected_state
            assert item["entryDate"] == first[uuid] and item["rankDate"] == raw
            assert item["timeOnChart"] == count[uuid]
            states[expected_state] += 1
        previous = current
    return states


def test_daily_chart_history_is_self_consistent_across_a_missing_day(srv, http):
    gappy = [slug for slug, chart in srv.catalog.charts.items()
             if chart.frequency == "daily" and chart.max_results == 100
             and any((b - a).days > 1 for a, b in zip(chart.dates, chart.dates[1:], strict=False))]
    assert gappy, "expected a daily chart with a missing ranking day"
    history = _served_history(http, srv, gappy[0])
    assert len(history) >= 140
    states = _check_history(history)
    assert set(states) == {"new", "re-entry", "up", "down", "same"}
    assert {i["timeOnChartUnit"] for _, items in history for i in items} == {"day"}


def test_weekly_paged_chart_history_is_self_consistent(srv, http):
    history = _served_history(http, srv, "spotify-top-200-us-weekly")
    assert len(history) >= 20 and all(len(items) == 200 for _, items in history)
    _check_history(history)
    assert {i["timeOnChartUnit"] for _, items in history for i in items} == {"week"}


def test_catalog_rankings_match_what_is_served(srv, http):
    chart = srv.catalog.charts["tiktok-top-50-gb-weekly"]
    served = _all(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest")
    entries = srv.catalog.ranking(chart.slug, chart.dates[-1])
    assert [(i["song"]["uuid"], i["metric"]) for i in served] == [(e.song.uuid, e.metric) for e in entries]


# --- audience --------------------------------------------------------------------------------------

def _spotify_songs(srv, count):
    old = [s for s in srv.catalog.song_list
           if len(s.identifiers_on("spotify")) >= 2 and s.release < TODAY - dt.timedelta(days=400)]
    return old[:count]


def test_audience_running_totals_gaps_dst_and_one_plot_per_identifier(srv, http):
    window = {"startDate": str(TODAY - dt.timedelta(days=90)), "endDate": str(TODAY)}
    offsets, gaps = set(), 0
    for song in _spotify_songs(srv, 12):
        path = f"/api/v2/song/{song.uuid}/audience/spotify"
        body = http.get(srv.base_url + path, params=window, timeout=10).json()
        items = _all(http, srv, path, **window)
        assert body["related"]["uuid"] == song.uuid and body["page"]["total"] == len(items)
        days = [dt.date.fromisoformat(i["date"][:10]) for i in items]
        assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
        gaps += 91 - len(days)
        for item, day in zip(items, days, strict=True):
            winter = day <= dt.date(2025, 3, 30)  # midnight on the switch day is still +01:00
            assert item["date"].endswith("T00:00:00+01:00" if winter else "T00:00:00+02:00")
            offsets.add(item["date"][-6:])
        rows = _all(http, srv, f"/api/v2/song/{song.uuid}/identifiers", platform="spotify")
        ids = {r["identifier"] for r in rows}
        assert {p["identifier"] for p in items[0]["plots"]} == ids
        for ident in ids:
            series = [p["value"] for item in reversed(items) for p in item["plots"]
                      if p["identifier"] == ident]
            assert all(isinstance(v, int) for v in series)
            assert series == sorted(series) and series[-1] > series[0]
    assert offsets == {"+01:00", "+02:00"}
    assert 0 < gaps < 12 * 91 * 0.1


def test_identifier_filter_and_totals_beyond_32_bits(srv, http):
    latest = ((s, srv.catalog.series(s.uuid, "spotify", "audience")) for s in srv.catalog.song_list[:200])
    rows = ((s, ident, value) for s, points in latest if points for ident, value in points[0][1])
    song, ident, _ = max(rows, key=lambda row: row[2])
    items = _all(http, srv, f"/api/v2/song/{song.uuid}/audience/spotify", identifier=ident)
    assert items and all([p["identifier"] for p in i["plots"]] == [ident] for i in items)
    assert items[0]["plots"][0]["value"] > 2**31


def test_every_audience_platform_serves_and_empty_without_ids(srv, http):
    for platform in ("spotify", "youtube", "shazam", "tiktok", "soundcloud", "instagram"):
        song = next(s for s in srv.catalog.song_list if s.identifiers_on(platform) and s.release < TODAY)
        items = _all(http, srv, f"/api/v2/song/{song.uuid}/audience/{platform}")
        assert items and all(p["value"] >= 0 for i in items for p in i["plots"]), platform
    lonely = next(s for s in srv.catalog.song_list if not s.identifiers_on("instagram"))
    body = http.get(f"{srv.base_url}/api/v2/song/{lonely.uuid}/audience/instagram", timeout=10).json()
    assert body["items"] == [] and body["page"]["total"] == 0 and body["errors"] == []


def test_popularity_is_bounded(srv, http):
    for platform in ("spotify", "deezer", "tidal"):
        song = next(s for s in srv.catalog.song_list if s.identifiers_on(platform) and s.release < TODAY)
        items = _all(http, srv, f"/api/v2/song/{song.uuid}/popularity/{platform}")
        values = [p["value"] for i in items for p in i["plots"]]
        assert values and all(isinstance(v, int) and 0 <= v <= 100 for v in values)


def test_start_and_history_are_fast():
    started = time.perf_counter()
    server = make_server(LocalApiConfig(seed=9))
    try:
        assert time.perf_counter() - started < 1.5
        started = time.perf_counter()
        server.catalog.history("spotify-top-200-global-daily")
        assert time.perf_counter() - started < 1.5
    finally:
        server.server_close()
