"""The local server's data read back over HTTP: self-consistent chart histories, sane audience series."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from localapi_http import server_fixtures

from soundcharts_lib.localapi import LocalApiConfig, make_server

TODAY = dt.date(2025, 4, 15)  # a 90-day window back from here crosses the switch to summer time (30 March)


srv, http = server_fixtures(LocalApiConfig(seed=3, today=TODAY, history_days=150))


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


def _check_history(history, chart):
    """Recompute every derived field from the served rankings alone, spelled in ``chart.style``; return the
    entry states seen. A song already on the chart before the first served ranking (``entryDate`` before it)
    brings its served ``timeOnChart``, and its ``oldPosition`` only on that first ranking."""
    style = chart.style
    opening = history[0][0][:10]
    previous: dict[str, int] | None = None
    previous_raw = None
    first: dict[str, str] = {}
    count: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for raw, items in history:
        ranked = [i for i in items if i["position"]]
        assert [i["position"] for i in ranked] == list(range(1, len(ranked) + 1))
        current = {i["song"]["uuid"]: i["position"] for i in ranked}
        assert len(current) == len(ranked)
        for item in ranked:
            uuid, pos, entry = item["song"]["uuid"], item["position"], item["entryDate"]
            assert entry[10:] == ("T12:00:00+00:00" if style.noon_entry else "T00:00:00+00:00")
            if uuid not in first:
                first[uuid] = entry[:10]
                count[uuid] = item["timeOnChart"] - 1 if entry[:10] < opening else 0
            old = previous.get(uuid) if previous is not None else item["oldPosition"] or None
            count[uuid] += 1
            expected_state = ("new" if first[uuid] == raw[:10] else "re-entry" if old is None
                              else "up" if old > pos else "down" if old < pos else "same")
            assert item["oldPosition"] == (old or (0 if style.zero_old else None))
            assert item["positionEvolution"] == (old - pos if old else None if style.null_evolution else 0)
            assert item["entryState"] == ("" if style.blank_states else expected_state)
            assert item["entryDate"][:10] == first[uuid] and item["rankDate"] == raw
            assert item["timeOnChart"] == count[uuid] and item["timeOnChartUnit"] == chart.unit
            states[expected_state] += 1
        gone = items[len(ranked):]
        if previous is not None and style.dropouts:
            left = sorted((pos, uuid) for uuid, pos in previous.items() if uuid not in current)
            assert [(i["oldPosition"], i["song"]["uuid"]) for i in gone] == left
            assert all(i["position"] == 0 and i["metric"] is None and i["rankDate"] == previous_raw
                       and i["timeOnChart"] == count[i["song"]["uuid"]] for i in gone)
        elif previous is not None:
            assert gone == []
        previous, previous_raw = current, raw
    return states


def test_daily_chart_history_is_self_consistent_across_a_missing_day(srv, http):
    gappy = [chart for chart in srv.catalog.charts.values()
             if chart.frequency == "daily" and chart.max_results == 100 and not chart.style.blank_states
             and any((b - a).days > 1 for a, b in zip(chart.dates, chart.dates[1:], strict=False))]
    assert gappy, "expected a daily chart with a missing ranking day"
    history = _served_history(http, srv, gappy[0].slug)
    assert len(history) >= 140
    states = _check_history(history, gappy[0])
    assert set(states) == {"new", "re-entry", "up", "down", "same"}


def test_weekly_paged_chart_history_is_self_consistent(srv, http):
    chart = srv.catalog.charts["spotify-top-200-us-weekly"]
    history = _served_history(http, srv, chart.slug)
    assert len(history) >= 20 and all(sum(i["position"] > 0 for i in items) == 200 for _, items in history)
    _check_history(history, chart)


@pytest.mark.parametrize("style", ["blank_states", "zero_old", "null_evolution", "noon_entry", "dropouts", "lead",
                                   "tidy"])
def test_every_chart_spelling_is_self_consistent(srv, http, style):
    """A weekly chart per spelling of the untidy catalog (and a tidy one), over its whole served history."""
    tidy = type(srv.catalog.charts["spotify-top-200-us-weekly"].style)()
    chart = next(c for c in sorted(srv.catalog.charts.values(), key=lambda c: c.frequency != "weekly")
                 if (bool(c.lead) if style == "lead" else c.style == tidy and not c.lead if style == "tidy"
                     else getattr(c.style, style)))
    _check_history(_served_history(http, srv, chart.slug), chart)


def test_catalog_rankings_match_what_is_served(srv, http):
    chart = srv.catalog.charts["tiktok-top-50-gb-weekly"]
    served = _all(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest")
    entries = srv.catalog.ranking(chart.slug, chart.dates[-1])
    assert [(i["song"]["uuid"], i["metric"]) for i in served] == [(e.song.uuid, e.metric) for e in entries]


# --- audience --------------------------------------------------------------------------------------

def _steady(song, platform):
    """Whether every id of ``song`` on ``platform`` reports every day but the ~3% tidy gaps (the untidy ones:
    test_localapi_untidy.py)."""
    return (f"silent:{platform}" not in song.quirks and all(code != platform for code, *_ in song.outages)
            and all(ident.until is None for ident in song.identifiers_on(platform)))


def _spotify_songs(srv, count):
    old = [s for s in srv.catalog.song_list if len(s.identifiers_on("spotify")) >= 2
           and s.release < TODAY - dt.timedelta(days=400) and _steady(s, "spotify")]
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
        song = next(s for s in srv.catalog.song_list
                    if s.identifiers_on(platform) and s.release < TODAY and _steady(s, platform))
        items = _all(http, srv, f"/api/v2/song/{song.uuid}/audience/{platform}")
        assert items and all(p["value"] >= 0 for i in items for p in i["plots"]), platform
    lonely = next(s for s in srv.catalog.song_list if not s.identifiers_on("instagram"))
    body = http.get(f"{srv.base_url}/api/v2/song/{lonely.uuid}/audience/instagram", timeout=10).json()
    assert body["items"] == [] and body["page"]["total"] == 0 and body["errors"] == []


def test_popularity_is_bounded(srv, http):
    for platform in ("spotify", "deezer", "tidal"):
        song = next(s for s in srv.catalog.song_list
                    if s.identifiers_on(platform) and s.release < TODAY and _steady(s, platform))
        items = _all(http, srv, f"/api/v2/song/{song.uuid}/popularity/{platform}")
        values = [p["value"] for i in items for p in i["plots"]]
        assert values and all(isinstance(v, int) and 0 <= v <= 100 for v in values)


def test_start_and_history_are_fast():
    started = time.perf_counter()
    server = make_server(LocalApiConfig(seed=9))
    try:
        assert time.perf_counter() - started < 10  # ~0.3 s idle; loose for a busy machine
        started = time.perf_counter()
        server.catalog.history("spotify-top-200-global-daily")
        assert time.perf_counter() - started < 10  # ~0.3 s idle; loose for a busy machine
    finally:
        server.server_close()
