"""The local catalog is as untidy as the contract allows, by default: each kind read back over HTTP."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from localapi_http import server_fixtures, session

from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = dt.date(2025, 4, 15)  # a 90-day audience window back from here crosses the switch to summer time
PLATFORMS = ("spotify", "apple-music", "deezer", "youtube", "tiktok", "shazam", "tidal", "isrc")


srv, http = server_fixtures(LocalApiConfig(seed=7, today=TODAY, history_days=120))


def get(http, srv, path, **params):
    resp = http.get(srv.base_url + path, params=params, timeout=20)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["errors"] == []
    return body


def walk(http, srv, path, **params):
    """Every item of a collection following page.next; checks page.total against what came back."""
    body = get(http, srv, path, **params)
    items, total = list(body["items"]), body["page"]["total"]
    while body["page"]["next"]:
        body = get(http, srv, body["page"]["next"])
        assert body["page"]["total"] == total
        items += body["items"]
    assert len(items) == total
    return items


def songs(srv, predicate, count=3):
    found = [song for song in srv.catalog.song_list if predicate(song)][:count]
    assert found, "the untidy catalog should hold such a song"
    return found


def song_object(http, srv, song):
    return get(http, srv, f"/api/v2.25/song/{song.uuid}")["object"]


# --- identifiers -----------------------------------------------------------------------------------

def test_null_urls_on_every_platform_and_several_ids_per_platform(srv, http):
    rows = [row for song in srv.catalog.song_list[:120]
            for row in walk(http, srv, f"/api/v2/song/{song.uuid}/identifiers")]
    for platform in PLATFORMS:
        on = [row for row in rows if row["platformCode"] == platform]
        nulls = sum(row["url"] is None for row in on)
        assert on and 0.1 * len(on) < nulls < len(on), (platform, nulls, len(on))
    assert all(isinstance(row["identifier"], str) for row in rows)
    tiktok = [row["identifier"] for row in rows if row["platformCode"] == "tiktok"]
    assert tiktok and all(len(ident) == 19 and ident.isdigit() for ident in tiktok)
    several = songs(srv, lambda s: len(s.identifiers_on("spotify")) == 3 and "no-default" not in s.quirks)[0]
    spotify = walk(http, srv, f"/api/v2/song/{several.uuid}/identifiers", platform="spotify")
    assert len({row["identifier"] for row in spotify}) == 3 and sum(row["default"] for row in spotify) == 1


def test_identifier_rows_without_default_key(srv, http):
    song = songs(srv, lambda s: "no-default" in s.quirks and len(s.identifiers) >= 3)[0]
    rows = walk(http, srv, f"/api/v2/song/{song.uuid}/identifiers")
    assert rows and all(set(row) == {"platformName", "platformCode", "identifier", "url"} for row in rows)
    defaults = walk(http, srv, f"/api/v2/song/{song.uuid}/identifiers", onlyDefault="true")
    assert 0 < len(defaults) < len(rows)


# --- songs and artists -----------------------------------------------------------------------------

NULLS = {"isrc": None, "releaseDate": None, "imageUrl": None, "duration": None, "audio": None, "genres": [],
         "labels": [], "composers": [], "producers": [], "copyright": "", "artists": []}


@pytest.mark.parametrize("field", NULLS)
def test_each_nullable_song_field_is_served_empty(srv, http, field):
    served = [song_object(http, srv, song) for song in srv.catalog.song_list[:80]]
    empty = [song for song in served if song[field] == NULLS[field]]
    assert empty and len(empty) < len(served), field
    assert all(song["name"] and song["creditName"] for song in empty)


def test_a_bare_song_has_every_empty_value_at_once(srv, http):
    song = songs(srv, lambda s: "bare" in s.quirks)[0]
    body = song_object(http, srv, song)
    assert {field: body[field] for field in NULLS} == NULLS
    assert body["creditName"] == song.credit_name != ""
    legacy = get(http, srv, f"/api/v2/song/{song.uuid}")["object"]
    assert legacy["isrc"] is None and legacy["label"] is None and legacy["artists"] == []


def test_isrc_with_blank_country(srv, http):
    song = songs(srv, lambda s: "isrc-country-blank" in s.quirks)[0]
    isrc = song_object(http, srv, song)["isrc"]
    assert isrc == {"value": song.isrc, "countryCode": "", "countryName": ""}


def _is_rtl(text):
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _is_emoji(text):
    return any(ord(ch) >= 0x1F000 for ch in text)


NAME_CHECKS = {"html": lambda n: "<b>" in n and "&amp;" in n, "script": lambda n: n.startswith("<script>"),
               "rtl": _is_rtl, "emoji": _is_emoji, "long": lambda n: len(n) == 300,
               "quotes": lambda n: '"' in n and "'" in n and "\\" in n}


@pytest.mark.parametrize("kind", NAME_CHECKS)
def test_messy_song_names_in_song_objects_and_rankings(srv, http, kind):
    song = songs(srv, lambda s: f"name:{kind}" in s.quirks)[0]
    assert NAME_CHECKS[kind](song_object(http, srv, song)["name"])
    assert NAME_CHECKS[kind](get(http, srv, f"/api/v2/song/{song.uuid}/identifiers")["related"]["name"])
    ranked = [(slug, day) for slug, chart in srv.catalog.charts.items() for day in chart.dates[-1:]
              if any(e.song is song for e in srv.catalog.ranking(slug, day))]
    for slug, _ in ranked[:1]:
        items = walk(http, srv, f"/api/v2.14/chart/song/{slug}/ranking/latest")
        assert any(NAME_CHECKS[kind](i["song"]["name"]) for i in items if i["song"]["uuid"] == song.uuid)


def test_messy_artist_names_and_missing_artist_images(srv, http):
    artists = [a for song in srv.catalog.song_list[:300] if "no-artists" not in song.quirks
               for a in song_object(http, srv, song)["artists"]]
    names = {a["name"] for a in artists}
    assert any("<b>" in n for n in names) and any(n.startswith("<script>") for n in names)
    assert any(_is_rtl(n) for n in names) and any(_is_emoji(n) for n in names)
    assert any('"' in n and "\\" in n for n in names)
    assert any(a["imageUrl"] is None for a in artists) and any(a["imageUrl"] for a in artists)


# --- charts ----------------------------------------------------------------------------------------

def _all_charts(http, srv):
    platforms = [p["code"] for p in get(http, srv, "/api/v2/chart/song/platforms")["items"]]
    return [c for p in platforms for c in walk(http, srv, f"/api/v2/chart/song/by-platform/{p}")]


def test_chart_lists_carry_empty_and_null_places(srv, http):
    charts = _all_charts(http, srv)
    assert len(charts) == len(srv.catalog.charts)
    assert any(c["countryCode"] == "" and c["countryName"] == "" for c in charts)
    assert any(c["countryCode"] is None and c["countryName"] is None for c in charts)
    assert any(c["countryCode"] and c["countryName"] is None for c in charts)
    assert any(c["cityName"] == "" for c in charts) and any(c["cityName"] is None for c in charts)
    assert any(c["webUrl"] is None for c in charts) and any(c["webUrl"] for c in charts)


def test_metric_charts_without_metric_description(srv, http):
    chart = next(c for c in srv.catalog.charts.values() if c.metric is None and c.metric_top)
    body = get(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest")
    assert body["related"]["chart"]["metric"] is None
    assert all(isinstance(i["metric"], int) for i in body["items"] if i["position"] and i["metric"] is not None)


def _first_served(http, srv, slug):
    """(first served date, every item of the first served ranking) read over HTTP."""
    dates = walk(http, srv, f"/api/v2/chart/song/{slug}/available-rankings")
    first = min(dates)
    return first, walk(http, srv, f"/api/v2.14/chart/song/{slug}/ranking/{first}")


def test_most_charts_began_before_the_served_window(srv, http):
    began_before = 0
    for slug in srv.catalog.charts:
        first, items = _first_served(http, srv, slug)
        if any(i["entryDate"][:10] < first[:10] for i in items):
            began_before += 1
    assert began_before >= 0.6 * len(srv.catalog.charts)


def test_first_served_ranking_of_a_chart_with_a_long_history(srv, http):
    chart = next(c for c in srv.catalog.charts.values() if c.frequency == "daily" and len(c.lead) > 150
                 and not c.style.blank_states)
    first, items = _first_served(http, srv, chart.slug)
    ranked = [i for i in items if i["position"]]
    old = [i for i in ranked if i["entryDate"][:10] < first[:10] and i["timeOnChart"] > 100 and i["oldPosition"]]
    assert old, "entries already long on the chart before the first served date"
    assert {i["entryState"] for i in ranked} >= {"up", "down"}
    assert sum(i["entryState"] == "new" for i in ranked) < len(ranked) / 10
    assert all(i["positionEvolution"] == i["oldPosition"] - i["position"] for i in old)


def test_a_re_entry_on_the_first_served_ranking(srv, http):
    chart = next(c for c in srv.catalog.charts.values() if c.lead and not c.style.blank_states
                 and any(e.entry_state == "re-entry" for e in srv.catalog.ranking(c.slug, c.dates[0])))
    first, items = _first_served(http, srv, chart.slug)
    back = [i for i in items if i["entryState"] == "re-entry"]
    assert back and all(i["entryDate"][:10] < first[:10] and i["timeOnChart"] > 1 for i in back)
    assert all(i["oldPosition"] in (None, 0) for i in back)


def _latest(http, srv, chart):
    return walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest")


def _chart_where(srv, **style):
    return next(c for c in srv.catalog.charts.values()
                if all(getattr(c.style, key) == value for key, value in style.items()))


def test_blank_entry_states(srv, http):
    assert {i["entryState"] for i in _latest(http, srv, _chart_where(srv, blank_states=True))} == {""}
    assert "" not in {i["entryState"] for i in _latest(http, srv, _chart_where(srv, blank_states=False))}


def test_missing_previous_position_spelled_zero_or_null(srv, http):
    zero = [i for i in _latest(http, srv, _chart_where(srv, zero_old=True, null_evolution=False))
            if i["position"] and i["entryState"] in ("new", "re-entry", "")]
    nulls = [i for i in _latest(http, srv, _chart_where(srv, zero_old=False, null_evolution=True))
             if i["position"] and i["positionEvolution"] is None]
    assert zero and any(i["oldPosition"] == 0 and i["positionEvolution"] == 0 for i in zero)
    assert nulls and all(i["oldPosition"] is None for i in nulls)


def test_time_on_chart_units_and_noon_entry_dates(srv, http):
    units = {}
    for chart in srv.catalog.charts.values():
        body = get(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest", limit=5)
        units.setdefault(chart.frequency, set()).update(i["timeOnChartUnit"] for i in body["items"])
    assert units == {"daily": {"day", "DOC"}, "weekly": {"week", "WOC"}}
    noon = _latest(http, srv, _chart_where(srv, noon_entry=True))
    assert all(i["entryDate"].endswith("T12:00:00+00:00") and i["rankDate"].endswith("T00:00:00+00:00")
               for i in noon)


def test_null_metrics_and_null_images_in_rankings(srv, http):
    chart = next(c for c in srv.catalog.charts.values() if c.style.metric_gap and c.max_results >= 100)
    items = []
    for day in chart.dates[-8:]:
        items += [i for i in walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{day}") if i["position"]]
    assert any(i["metric"] is None for i in items)
    assert sum(isinstance(i["metric"], int) for i in items) > 0.9 * len(items)
    assert any(i["song"]["imageUrl"] is None for i in items)


def test_drop_outs_at_position_zero_after_the_ranked_items(srv, http):
    chart = next(c for c in srv.catalog.charts.values() if c.style.dropouts and c.frequency == "weekly"
                 and not c.style.blank_states)
    before, day = chart.dates[-2:]
    previous = {i["song"]["uuid"]: i["position"]
                for i in walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{before}") if i["position"]}
    items = walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{day}", limit=17)
    ranked = [i for i in items if i["position"]]
    gone = items[len(ranked):]
    assert ranked and gone and [i["position"] for i in ranked] == list(range(1, len(ranked) + 1))
    assert {i["song"]["uuid"] for i in gone} == set(previous) - {i["song"]["uuid"] for i in ranked}
    for item in gone:
        assert item["position"] == 0 and item["oldPosition"] == previous[item["song"]["uuid"]]
        assert item["rankDate"] == f"{before}T00:00:00+00:00" and item["metric"] is None
        assert item["entryState"] == "down"
    body = get(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{day}", offset=len(ranked), limit=100)
    assert body["items"] == gone and body["page"]["total"] == len(items) and body["page"]["next"] is None


# --- audience --------------------------------------------------------------------------------------

WINDOW = {"startDate": str(TODAY - dt.timedelta(days=90)), "endDate": str(TODAY)}


def _audience(http, srv, song, platform, kind="audience"):
    return walk(http, srv, f"/api/v2/song/{song.uuid}/{kind}/{platform}", **WINDOW)


def test_identifier_that_stops_reporting(srv, http):
    song = songs(srv, lambda s: any(i.until and i.until > TODAY - dt.timedelta(days=80) for i in
                                    s.identifiers_on("spotify")) and len(s.identifiers_on("spotify")) >= 2
                 and "silent:spotify" not in s.quirks)[0]
    stopped = next(i for i in song.identifiers_on("spotify") if i.until)
    items = _audience(http, srv, song, "spotify")
    seen = [i["date"][:10] for i in items if any(p["identifier"] == stopped.identifier for p in i["plots"])]
    assert seen and max(seen) <= str(stopped.until)
    assert items[0]["date"][:10] > str(stopped.until) and items[0]["plots"]


def test_platform_with_ids_but_no_data(srv, http):
    song = songs(srv, lambda s: "silent:spotify" in s.quirks)[0]
    assert walk(http, srv, f"/api/v2/song/{song.uuid}/identifiers", platform="spotify")
    body = get(http, srv, f"/api/v2/song/{song.uuid}/audience/spotify", **WINDOW)
    assert body["items"] == [] and body["page"]["total"] == 0
    assert get(http, srv, f"/api/v2/song/{song.uuid}/popularity/spotify")["items"] == []


def test_runs_of_missing_days(srv, http):
    song = songs(srv, lambda s: any(code == "spotify" and last <= TODAY - dt.timedelta(days=2)
                                    for code, _, last in s.outages) and "silent:spotify" not in s.quirks
                 and s.release < TODAY - dt.timedelta(days=120))[0]
    days = sorted(dt.date.fromisoformat(i["date"][:10]) for i in _audience(http, srv, song, "spotify"))
    assert max((b - a).days for a, b in zip(days, days[1:], strict=False)) >= 4


def test_ids_starting_on_different_days_offsets_across_dst_and_big_totals(srv, http):
    recent = TODAY - dt.timedelta(days=80)
    late = songs(srv, lambda s: "silent:spotify" not in s.quirks and not s.outages
                 and any(recent < i.added < TODAY for i in s.identifiers_on("spotify"))
                 and any(i.added < recent for i in s.identifiers_on("spotify")))[0]
    items = _audience(http, srv, late, "spotify")
    counts = [len(i["plots"]) for i in items]
    assert max(counts) > min(counts) >= 1
    assert {i["date"][-6:] for i in items} == {"+01:00", "+02:00"}
    latest = [(max(value for _, value in points[0][1]), song) for song in srv.catalog.song_list[:150]
              if (points := srv.catalog.series(song.uuid, "spotify", "audience"))]
    big = max(latest, key=lambda pair: pair[0])[1]
    assert max(p["value"] for p in _audience(http, srv, big, "spotify")[0]["plots"]) > 2**31


# --- determinism and the tidy knob -----------------------------------------------------------------

def _bodies(config):
    with running(config) as server, session() as http:
        catalog = server.catalog
        bare = next(s for s in catalog.song_list if "bare" in s.quirks) if not config.tidy else catalog.song_list[0]
        drop = next((c for c in catalog.charts.values() if c.style.dropouts), catalog.charts["tiktok-top-50-us-weekly"])
        paths = ["/api/v2/chart/song/by-platform/spotify", f"/api/v2.14/chart/song/{drop.slug}/ranking/latest",
                 f"/api/v2.14/chart/song/{drop.slug}/ranking/{drop.dates[0]}?limit=30&offset=30",
                 f"/api/v2/chart/song/{drop.slug}/available-rankings", f"/api/v2.25/song/{bare.uuid}",
                 f"/api/v2/song/{bare.uuid}/identifiers", "/api/v2/song/{song}/audience/spotify?startDate=2025-02-01"]
        song = catalog.song_list[42].uuid
        return [http.get(server.base_url + path.format(song=song), timeout=20).content for path in paths]


def test_same_seed_and_today_give_identical_bodies():
    config = LocalApiConfig(seed=5, today=TODAY, history_days=90)
    assert _bodies(config) == _bodies(LocalApiConfig(seed=5, today=TODAY, history_days=90))


def test_tidy_knob_serves_the_tidy_catalog(http):
    with running(LocalApiConfig(seed=7, today=TODAY, history_days=120, tidy=True)) as tidy:
        catalog = tidy.catalog
        assert not any(c.lead for c in catalog.charts.values()) and not any(s.quirks for s in catalog.song_list)
        song = next(s for s in catalog.song_list if len(s.identifiers_on("spotify")) >= 2)
        rows = walk(http, tidy, f"/api/v2/song/{song.uuid}/identifiers", platform="spotify")
        assert all(row["url"] and "default" in row for row in rows)
        chart = next(iter(catalog.charts.values()))
        first = walk(http, tidy, f"/api/v2.14/chart/song/{chart.slug}/ranking/{chart.dates[0]}")
        assert {i["entryState"] for i in first} == {"new"} and all(i["position"] for i in first)


def test_the_command_line_serves_the_untidy_catalog_unless_told_tidy():
    import argparse

    from soundcharts_lib.localapi.cli import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args([])).tidy is False
    assert config_from_args(parser.parse_args(["--tidy"])).tidy is True
