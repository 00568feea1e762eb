"""Page frame, query strings and the platform / chart / track builders on hand-made data, without a browser."""

from __future__ import annotations

import base64
import html
import re
import threading
import time
from datetime import date, datetime, timedelta

import bqplot as bq
import ipywidgets as w
import pandas as pd
import pytest

from soundcharts_lib.ui import chart, common, figures, platform, track
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.ui.roster_filter import NO_ROSTER, RosterFilter
from soundcharts_lib.warehouse import exports
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.trends import TREND_COLUMNS
from ui.test_track_reach import no_reach
from ui.test_ui import classes, html_of, walk

D = [date(2026, 11, 20) + timedelta(days=i) for i in range(3)]
UUID = "0f6e103f-0aa7-47d1-ac1f-10dac910a1a1"
XSS = "<img src=x onerror=alert(1)>"


# -- query strings ----------------------------------------------------------------------------------------------

def test_query_values_are_checked_one_by_one():
    q = Query.parse("slug=spotify-top&date=2026-11-20&uuid=0F6E103F-0AA7-47D1-AC1F-10DAC910A1A1&limit=30"
                    "&platforms=spotify,youtube&platforms=spotify&theme=dark&blank=")
    assert q.slug() == "spotify-top" and q.date() == date(2026, 11, 20) and q.uuid() == UUID
    assert q.integer("limit", 1, 100) == 30 and q.slugs("platforms") == ["spotify", "youtube"]
    assert q.theme == "dark" and q.text("blank") is None and q.date("other") is None and q.slugs("x") is None
    assert Query.parse("theme=neon").theme == "light"


@pytest.mark.parametrize(("raw", "call", "message"), [
    ("", lambda q: q.slug(), "the link has no slug: open this page from another dashboard, or add ?slug="),
    ("slug=Bad%20Slug!", lambda q: q.slug(), "slug must be a code of lowercase letters, digits, - and _, got 'Bad"),
    ("uuid=1234", lambda q: q.uuid(), "uuid is not a SoundCharts UUID: '1234'"),
    ("date=2026-02-30", lambda q: q.date(), "date must be a date as YYYY-MM-DD, got '2026-02-30'"),
    ("date=20261120", lambda q: q.date(), "date must be a date as YYYY-MM-DD"),
    ("limit=0", lambda q: q.integer("limit", 1, 10), "limit must be a whole number from 1 to 10, got '0'"),
    ("limit=-3", lambda q: q.integer("limit", 1, 10), "limit must be a whole number"),
    ("platforms=spotify,<b>", lambda q: q.slugs("platforms"), "platforms must be codes separated by commas"),
    ("start=2026-02-02&end=2026-02-01", track.audience_query, "start 2026-02-02 is after end 2026-02-01"),
])
def test_bad_query_values_are_one_line(raw, call, message):
    with pytest.raises(BadQuery) as info:
        call(Query.parse(raw))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_query_defaults_to_the_kernel_query_string_and_caps_its_length(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "slug=deezer")
    assert Query.parse().slug() == "deezer"
    with pytest.raises(BadQuery, match="longer than 4000"):
        Query.parse("x=" + "a" * 4000)


# -- page frame -------------------------------------------------------------------------------------------------

def test_theme_dark_marks_the_page_root_and_links_carry_it(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "theme=dark&slug=x")
    page = common.Page("Chart")
    assert "sc-dark" in page.widget._dom_classes
    assert common.dashboard_link("track.ipynb", uuid="u 1") == "track.ipynb?uuid=u+1&theme=dark"
    monkeypatch.setenv("QUERY_STRING", "slug=x")
    assert "sc-dark" not in common.Page("Chart").widget._dom_classes
    assert common.dashboard_link("chart.ipynb", slug="a", date=None) == "chart.ipynb?slug=a"


def test_show_reads_once_and_refresh_reads_again():
    calls = []
    page = common.Page("T")
    page.show(lambda: calls.append(1) or w.Label(f"read {len(calls)}"))
    assert [c.value for c in page.body.children] == ["read 1"] and page.updated.value.startswith("Updated ")
    page.refresh()
    assert [c.value for c in page.body.children] == ["read 2"]


def test_auto_refresh_is_off_by_default_and_rereads_while_on():
    reads = threading.Semaphore(0)
    page = common.Page("T", refresh_seconds=0.05)

    def load():
        reads.release()
        return w.Label("x")

    page.show(load)
    assert reads.acquire(timeout=1) and not page.auto.value and not reads.acquire(timeout=0.3)
    page.auto.value = True
    assert reads.acquire(timeout=2) and reads.acquire(timeout=2)
    page.auto.value = False
    time.sleep(0.2)
    while reads.acquire(timeout=0):
        pass
    assert not reads.acquire(timeout=0.3)


def test_not_found_and_bad_query_states(capfd):
    page = common.Page("T")
    page.show(lambda: (_ for _ in ()).throw(UnknownEntity("no chart 'x' is stored")))
    assert classes(page.body) == {"sc-state", "notfound-state"}
    assert "Not found</b>: no chart &#x27;x&#x27; is stored. Check the link" in html_of(page.body)
    with page.rendering():
        raise BadQuery("date must be a date as YYYY-MM-DD, got 'x'")
    assert classes(page.body) == {"sc-state", "error-state"} and "got &#x27;x&#x27;" in html_of(page.body)
    assert "Traceback" not in capfd.readouterr().err  # a user's bad link is not a server error


def test_download_links_hold_the_export_bytes():
    frame = pd.DataFrame({"name": [XSS, "b"], "n": [1, 2]})
    links = common.download_links("overview-tracks", frame, "Tracks")
    csv = re.search(r'class="download-csv" data-table="overview-tracks" download="overview-tracks.csv" '
                    r'href="data:text/csv;base64,([^"]+)"', links)
    xlsx = re.search(r'class="download-xlsx" [^>]*href="data:application/vnd.openxmlformats[^;]*;base64,', links)
    assert csv and xlsx and links.startswith('<span class="sc-downloads"><span class="sc-sub">Tracks</span>')
    assert base64.b64decode(csv.group(1)) == exports.to_csv(frame)
    assert XSS not in links


def test_large_tables_prepare_their_files_on_demand():
    frame = pd.DataFrame({"n": range(common.EAGER_ROWS + 1)})
    offer = common.downloads("track-history", frame, "History")
    button, ready = offer.children
    assert "prepare-download" in button._dom_classes and "501 rows" in button.description
    assert "download-csv" not in html_of(offer)
    button.click()
    assert button.layout.display == "none"
    body = re.search(r'class="download-csv" [^>]*base64,([^"]+)"', ready.value).group(1)
    assert base64.b64decode(body) == exports.to_csv(frame)
    assert "download-csv" in html_of(common.downloads("track-history", frame.iloc[:common.EAGER_ROWS]))


def test_a_table_read_on_demand_is_read_only_when_its_files_are_asked_for():
    frame = pd.DataFrame({"n": range(3)})
    reads = []
    offer = common.downloads("track-history", lambda: reads.append(1) or frame, "History", rows=3)
    button, ready = offer.children
    assert "3 rows" in button.description and reads == []
    button.click()
    assert reads == [1]
    body = re.search(r'class="download-csv" [^>]*base64,([^"]+)"', ready.value).group(1)
    assert base64.b64decode(body) == exports.to_csv(frame)


def test_table_card_with_rows_offers_downloads_and_without_says_why():
    frame = pd.DataFrame({"n": [1]})
    full = common.table_card("T", "platforms", frame, [common.Column("N", lambda r: common.number(r["n"]))],
                             css_class="x", empty="none")
    assert "download-csv" in html_of(full) and "x" in full._dom_classes
    empty = common.table_card("T", "platforms", frame.iloc[0:0], [], css_class="x", empty="Nothing <here>")
    assert "download-csv" not in html_of(empty) and "Nothing &lt;here&gt;" in html_of(empty)


# -- my roster ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "on"), [("roster=1", True), ("roster=TRUE", True), ("roster=0", False),
                                         ("roster=", False), ("", False), ("roster=off&roster=on", True)])
def test_roster_flag(raw, on):
    assert Query.parse(raw).flag("roster") is on


def test_roster_flag_refuses_anything_else():
    with pytest.raises(BadQuery, match="^roster must be 1 or 0, got 'maybe'$"):
        Query.parse("roster=maybe").flag("roster")


def test_roster_toggle_rereads_the_page_and_links_to_what_is_shown():
    query = Query.parse("slug=sp-us&roster=1&theme=dark")
    page, reads = common.Page("T", query=query), []
    mine = RosterFilter(page, True, query)
    assert page.widget.children[1] is mine.widget and mine.widget.layout.display == ""
    page.show(lambda: reads.append(mine.on) or w.HTML("body"))
    assert reads == [True] and 'href="?slug=sp-us&theme=dark&roster=1"' in mine.link.value
    assert "tables of tracks, their downloads and alerts show your roster" in mine.link.value
    mine.toggle.value = False
    assert reads == [True, False] and 'href="?slug=sp-us&theme=dark"' in mine.link.value
    assert "show your roster" not in mine.link.value
    assert "roster-toggle" in classes(mine.widget)


def test_roster_toggle_is_hidden_without_a_roster_and_a_deep_link_says_why():
    page = common.Page("T", query=Query.parse(""))
    hidden = RosterFilter(page, False, Query.parse(""))
    assert hidden.widget.layout.display == "none" and not hidden.on
    asked = RosterFilter(common.Page("T"), False, Query.parse("roster=1"))
    assert not asked.on and NO_ROSTER in html_of(asked.widget) and "roster-toggle" not in classes(asked.widget)


# -- platform ---------------------------------------------------------------------------------------------------

def platform_data() -> dict:
    charts = pd.DataFrame({
        "slug": ["sp-us", "sp-fr", "sp-old", "sp-late"], "name": ["Spotify US", XSS, "Old", "Late"],
        "platform": ["spotify"] * 4, "country_code": ["US", "FR", None, "DE"], "frequency": ["daily"] * 4,
        "is_active": [True, True, False, True], "last_ranking_date": [D[2], D[2], None, D[0]],
        "last_success_at": [None] * 4, "last_error": [None, "HTTP 500 <b>", None, None], "last_error_at": [None] * 4,
        "consecutive_failures": [0, 2, 0, 0], "stale": [False, False, False, True]})
    per_day = pd.DataFrame({"date": D, "stored": [3, 0, 2], "failed": [0, 1, 0]})
    tracks = pd.DataFrame({"uuid": [UUID], "name": ["Song"], "artist": [""], "appearances": [5], "best_position": [1],
                           "charts": [2]})
    return {"platform": {"slug": "spotify", "name": "Spotify", "supports_charts": True, "supports_audience": True,
                         "audience_metric": None}, "charts": charts, "per_day": per_day, "tracks": tracks,
            "roster": False, "credits": {}}


def test_platform_page_health_links_and_bars():
    page = platform.build_platform(platform_data())
    assert {"platform-summary", "platform-rankings", "platform-charts", "platform-tracks"} <= classes(page)
    shown = html_of(page)
    assert '3 <span class="sc-sub">of 4 charts active</span>' in shown
    assert '<span class="sc-pill sc-warn">1 stale</span>' in shown and "1 failing" in shown
    assert '<a href="chart.ipynb?slug=sp-fr">&lt;img src=x onerror=alert(1)&gt;</a>' in shown
    assert "failing (2)" in shown and ">inactive<" in shown and ">stale<" in shown and ">ok<" in shown
    assert "HTTP 500 &lt;b&gt;" in shown and f'href="track.ipynb?uuid={UUID}"' in shown
    assert "5 rankings stored, 1 failed over the last 3 days" in shown
    bars, = [m for n in walk(page) if isinstance(n, bq.Figure) for m in n.marks]
    assert list(bars.x) == ["20 Nov", "21 Nov", "22 Nov"] and bars.y.tolist() == [[3, 0, 2], [0, 1, 0]]
    x_axis = next(n for n in walk(page) if isinstance(n, bq.Figure)).axes[0]
    assert x_axis.num_ticks == platform.DATE_TICKS and not x_axis.tick_values  # bqplot ignores those on dates


def test_platform_without_charts_or_entries():
    data = platform_data()
    data["charts"], data["tracks"] = data["charts"].iloc[0:0], data["tracks"].iloc[0:0]
    shown = html_of(platform.build_platform(data))
    assert "No charts discovered on this platform yet" in shown and "No chart entries on this platform" in shown


# -- chart ------------------------------------------------------------------------------------------------------

def ranking(on: date) -> pd.DataFrame:
    rows = [  # ... status, status_from, on_chart (+ unit, from), entry_date, stored peak, its date, streak, start
        (1, UUID, XSS, "A & B", 2000, 2, 1, "UP", "api", 30, "day", "api", D[0], 1, D[0], 3, D[0]),
        (2, "u-2", "Two", "B", 1500, 1, -1, "DOWN", "api-derived", 3, "day", "api", D[0], 1, D[1], 3, D[0]),
        (3, "u-3", "Three", "", None, None, None, "NEW", "api", 1, "day", "api", on, 3, on, 1, D[0]),
        (4, "u-4", "Four", "C", 900, None, None, "RE-ENTRY", "api", 2, "day", "api", D[0], 2, D[0], 1, D[0]),
        (5, "u-5", "Five", "D", 800, 5, 0, "SAME", "api", 3, "day", "api", D[0], 5, D[0], 3, D[0]),
    ]
    frame = pd.DataFrame(rows, columns=TREND_COLUMNS)
    return frame.astype({"previous_position": "Int64", "movement": "Int64", "metric": "Int64"})


def chart_loader(calls: list, fail: date | None = None):
    info = {"slug": "sp-us", "name": "Spotify <US>", "platform": "spotify", "platform_name": "Spotify",
            "frequency": "daily", "country_code": "US", "country_name": "United States", "city_name": None,
            "metric_type": "streams", "metric_description": None, "is_active": True, "consecutive_failures": 0}

    def load(on):
        calls.append(on)
        if fail is not None and on == fail:
            raise UnknownEntity("no chart 'sp-us' is stored")
        when = on or D[-1]
        frame = ranking(when) if when in D else ranking(when).iloc[0:0]
        moved = frame.dropna(subset=["movement"])
        return {"chart": info, "dates": D, "date": when, "stored": when in D, "ranking": frame, "roster": False,
                "climbers": moved[moved["movement"] > 0], "fallers": moved[moved["movement"] < 0],
                "new_entries": frame[frame["status"].isin(["NEW", "RE-ENTRY"])],
                "dropouts": pd.DataFrame({"uuid": ["u-9"], "name": ["Gone"], "artist": [""],
                                          "previous_position": [7], "source": ["api"]}), "dropouts_from": "api",
                "credits": {}}
    return load


def test_chart_ranking_shows_movement_flags_peak_and_metric():
    view = chart.ChartView(chart_loader([]))
    body = view.render()
    assert {"chart-summary", "chart-controls", "chart-ranking", "climbers", "fallers", "new-entries",
            "dropouts"} <= classes(body)
    rows = re.findall(r"<tr>(.*?)</tr>", html_of(body.children[1].children[0].children[1]))
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[1])]
    assert cells == ["1", "2", "▲ 1", "&lt;img src=x onerror=alert(1)&gt;", "A &amp; B", "30 days", "1",
                     str(D[0]), "3", "2,000"]
    shown = html_of(body)
    assert '<span class="sc-arrow-down">▼ 1</span>' in shown and '<span class="sc-pill sc-new">NEW</span>' in shown
    assert '<span class="sc-pill sc-re">RE</span>' in shown and '<span class="sc-sub">=</span>' in shown
    assert '<th class="num">Streams</th>' in shown and f'<td class="nowrap">{D[1]}</td>' in shown
    assert f"From stored history since {D[0]}, the first stored ranking" in shown
    assert "Drop-outs (sent by the API)" in shown
    assert "1 day" in shown and "Spotify &lt;US&gt;" in shown and "<img" not in shown
    assert 'href="platform.ipynb?slug=spotify">Spotify</a>' in shown
    assert f'href="chart.ipynb?slug=sp-us&amp;date={D[-1]}">link to this ranking</a>' in shown
    assert view.picker.value == D[-1] and view.next.disabled and view.latest.disabled and not view.prev.disabled


def test_chart_date_picker_and_buttons_load_other_dates():
    calls = []
    view = chart.ChartView(chart_loader(calls), on=D[1])
    view.render()
    view.picker.value = D[0]
    assert calls == [D[1], D[0]] and view.prev.disabled and not view.next.disabled
    view.step(1)
    view.latest.click()
    assert calls[-2:] == [D[1], D[2]] and view.picker.value == D[2]
    view.picker.value = D[2] + timedelta(days=10)  # not stored: says so, and offers the nearest
    shown = html_of(view.section)
    assert f"No ranking stored for {D[2] + timedelta(days=10)}" in shown and "This chart has 3 rankings" in shown
    assert f'href="chart.ipynb?slug=sp-us&amp;date={D[2]}">{D[2]}</a>' in shown
    view.step(-1)
    assert calls[-1] == D[2]


def test_chart_load_error_stays_inside_the_section():
    view = chart.ChartView(chart_loader([], fail=D[0]))
    view.render()
    view.picker.value = D[0]
    assert classes(view.section) == {"sc-state", "notfound-state"} and "chart-summary" in classes(view.widget)


def test_chart_with_no_ranking_yet():
    section = chart.ranking_section({"chart": {"slug": "sp-x"}, "dates": [], "date": None, "stored": False})
    assert "No ranking of this chart is stored yet" in section.value and "--chart sp-x" in section.value


# -- track ------------------------------------------------------------------------------------------------------

def audience(platforms: list[str] | None = None, start: date | None = None, end: date | None = None,
             limit: int | None = None) -> dict:
    available = ["spotify", "youtube"]
    chosen = available if platforms is None else platforms
    days = [D[0] - timedelta(days=30 - i) for i in range(31)]
    series = {slug: pd.DataFrame({"date": days, "value": [base + 10 * i for i in range(31)],
                                  "daily_change": pd.array([None] + [10] * 30, dtype="Int64")})
              for slug, base in (("spotify", 1000), ("youtube", 0)) if slug in chosen}
    series = {k: (f.tail(limit) if limit else f).reset_index(drop=True) for k, f in series.items()}
    from soundcharts_lib.warehouse import audience_series
    growth = {k: audience_series.growth(f) for k, f in series.items()}
    return {"available": available, "platforms": chosen, "series": series,
            "wide": audience_series.aligned(series), "growth": growth}


HISTORY = pd.DataFrame({"date": [D[0], D[1], D[2], D[2]], "chart": ["a", "a", "a", "b"],
                        "chart_name": ["Chart A", "Chart A", "Chart A", XSS], "platform": ["spotify"] * 4,
                        "country_code": ["US", "US", "US", None], "position": [5, 3, 1, 40]})


def track_data(history_charts: int | None = None, **settings) -> dict:
    charts = pd.DataFrame({"chart": ["a", "b"], "chart_name": ["Chart A", XSS], "platform": ["spotify"] * 2,
                           "country_code": ["US", None], "first_date": [D[0], D[2]], "last_date": [D[2], D[2]],
                           "appearances": [3, 1], "peak_position": [1, 40], "last_position": [1, 40]})
    shown = charts["chart"].head(history_charts) if history_charts else charts["chart"]
    return {
        "track": {"uuid": UUID, "name": "Song <1>", "credit_name": "A & B", "isrc": "USX1", "release_date": D[0],
                  "duration": 185, "explicit": True, "genres": ["pop", "k-pop"], "labels": None,
                  "metadata_fetched_at": datetime(2026, 11, 20, 10, 0),
                  "artists": [{"uuid": "a", "name": "A <x>", "app_url": None}],
                  "identifiers": pd.DataFrame({"platform": ["spotify"], "identifier": ["id1"],
                                               "url": ["https://open.example/id1"], "is_default": [True]})},
        "history": HISTORY[HISTORY["chart"].isin(shown)].reset_index(drop=True), "charts": charts,
        "now": pd.DataFrame({"chart": ["a", "b"], "chart_name": ["Chart A", "Chart B"], "platform": ["spotify"] * 2,
                             "platform_name": ["Spotify"] * 2, "country_code": ["US", None],
                             "country_name": ["United States", None], "date": [D[2], D[2]], "position": [1, 40]}),
        "audience": audience(**settings),
        "notes": pd.DataFrame({"id": [1], "date": [D[0]], "kind": ["release"], "text": ["Single <out>"],
                               "created_at": [None], "created_by": ["ana"]}),
        "follow": {"roster": True, "track": False, "artists": []},
        "compare": pd.DataFrame({"uuid": ["00000000-0000-4000-8000-000000000002"], "name": [XSS], "sub": ["B"]}),
        "reach": no_reach(),
        "forecast": {},
    }


def test_track_page_summary_history_and_where_it_charts():
    view = track.TrackView(lambda **kw: track_data(**kw), audience, lambda: HISTORY)
    body = view.render()
    assert {"track-summary", "track-kpis", "chart-history", "charting-now", "audience"} <= classes(body)
    shown = html_of(body)
    assert "Song &lt;1&gt;" in shown and "A &lt;x&gt;" in shown and "<dt>Duration</dt><dd>3:05</dd>" in shown
    assert "<dt>Genres</dt><dd>pop, k-pop</dd>" in shown and "<dt>Labels</dt>" not in shown
    assert "Metadata fetched 2026-11-20 10:00 UTC" in shown
    assert '<a href="https://open.example/id1">id1</a>' in shown
    assert f'href="chart.ipynb?slug=a&amp;date={D[2]}">Chart A</a>' in shown and "<img" not in shown
    assert "In 2 charts&#x27; latest rankings" in shown or "In 2 charts' latest rankings" in shown
    assert '<div class="sc-kpi">2</div>' in shown and '<div class="sc-kpi">1</div>' in shown
    figure, = [n for n in walk(body.children[1]) if isinstance(n, bq.Figure)]
    lines, (note, label) = figure.marks[:2], figure.marks[2:]
    assert figure.axes[1].scale.reverse and [list(m.y) for m in lines] == [[5, 3, 1], [40]]
    assert list(figure.axes[1].tick_values) == [1, 9, 17, 25, 33]  # positions are whole numbers
    assert "<i style=\"background:#2563eb\"></i>Chart A" in shown
    # The note on D[0]: a dashed line on the history and audience figures' date scales, its kind on top, listed.
    assert note.line_style == "dashed" and pd.Timestamp(note.x[0]) == pd.Timestamp(D[0])
    assert note.scales["x"] is lines[0].scales["x"] and list(label.text) == ["release"]
    assert note.labels == ["release: Single <out>"]
    audience_figure, = [n for n in walk(view.audience_body) if isinstance(n, bq.Figure)]
    assert [m.labels for m in audience_figure.marks if getattr(m, "line_style", "") == "dashed"] == [
        ["release: Single <out>"]]
    assert "track-notes" in classes(body) and "Single &lt;out&gt;" in html_of(body.children[-1])
    assert '<div class="roster-state sc-sub">Not in your roster</div>' in shown
    assert (f'<input type="hidden" name="tracks" value="{UUID}"><label class="sc-sub">Compare with<br><select '
            'name="tracks" style="max-width: 100%"><option value="00000000-0000-4000-8000-000000000002">&lt;img '
            'src=x onerror=alert(1)&gt; — B</option></select>') in shown  # the "compare with" picker, names escaped
    assert "The tracks most often on this track's busiest charts of its last month, in their last 10 rankings." \
        in html.unescape(shown)  # what the picker counts (compare_pages.CANDIDATE_RANKINGS)


@pytest.mark.parametrize(("follow", "shown"), [
    ({"roster": True, "track": True, "artists": ["A <x>"]},
     "★ in your roster</span><span class=\"sc-sub\">followed as a track and through A &lt;x&gt;</span>"),
    ({"roster": True, "track": False, "artists": ["B"]}, "★ in your roster</span><span class=\"sc-sub\">through B"),
    ({"roster": False, "track": False, "artists": []}, None),
])
def test_track_roster_state(follow, shown):
    badge = track.follow_badge(follow)
    assert (shown in badge) if shown else badge == ""


@pytest.mark.parametrize(("low", "high", "ticks"), [(1, 4, [1, 2, 3, 4]), (1, 40, [1, 9, 17, 25, 33]),
                                                   (1, 1, [1]), (1.5, 2, [2]), (0, 10, [0, 2, 4, 6, 8, 10])])
def test_integer_axes_tick_whole_numbers_only(low, high, ticks):
    assert figures.integer_ticks(low, high) == ticks


def test_notes_outside_the_data_never_stretch_the_axis():
    history = track_data()["history"]
    notes = pd.DataFrame({"date": [D[0] - timedelta(days=40), D[2]], "kind": ["press", "campaign"], "text": ["a", "b"]})
    figure = track.chart_history(history, track_data()["charts"], notes, lambda: HISTORY).children[2].children[0]
    assert [m.labels for m in figure.marks if getattr(m, "line_style", "") == "dashed"] == [["campaign: b"]]


def test_a_history_held_for_the_figure_only_is_read_whole_for_its_download():
    data, reads = track_data(history_charts=1), []
    card = track.chart_history(data["history"], data["charts"], data["notes"], lambda: reads.append(1) or HISTORY)
    offer = next(n for n in walk(card) if "prepare-download" in getattr(n, "_dom_classes", ()))
    assert "History: prepare CSV / Excel (4 rows)" in offer.description and reads == []
    offer.click()
    body = re.search(r'data-table="track-history" [^>]*href="data:text/csv;base64,([^"]+)"', html_of(card)).group(1)
    assert reads == [1] and base64.b64decode(body) == exports.to_csv(HISTORY)
    whole = track.chart_history(HISTORY, data["charts"], data["notes"], lambda: reads.append(2) or HISTORY)
    assert 'data-table="track-history"' in html_of(whole) and reads == [1]  # already whole: links in the page


def test_track_without_metadata_or_audience_says_how_to_get_them():
    data = track_data()
    data["track"] = {**data["track"], "metadata_fetched_at": None, "identifiers": data["track"]["identifiers"][:0]}
    data["audience"] = {**data["audience"], "available": [], "platforms": [], "series": {}}
    body = track.TrackView(lambda **kw: data, audience, lambda: HISTORY).render()
    shown = html_of(body)
    assert f"soundcharts fetch-metadata --track-uuid {UUID}" in shown
    assert f"soundcharts fetch-audience --track-uuid {UUID}" in shown and "empty-state" in classes(body)


def test_audience_controls_reload_the_audience_only():
    page_reads, calls = [], []
    view = track.TrackView(lambda **kw: page_reads.append(kw) or track_data(**kw),
                           lambda **kw: calls.append(kw) or audience(**kw), lambda: HISTORY, limit=10)
    view.render()
    assert page_reads == [{"history_charts": track.HISTORY_LINES, "platforms": None, "start": None, "end": None,
                           "limit": 10}]
    figure, = [n for n in walk(view.audience_body) if isinstance(n, bq.Figure)]
    assert [len(m.x) for m in figure.marks[:2]] == [10, 10]  # then the note's line and label
    growth = html_of(view.audience_body)
    # 7 days from 1230 to 1300; 28 days needs older points than the 10 shown
    assert f"+70 (+{70 / 1230 * 100:.2f}%)" in growth and '<span class="sc-sub">–</span>' in growth
    view.checks["youtube"].value = False
    assert calls[-1]["platforms"] == ["spotify"] and list(view.settings["platforms"]) == ["spotify"]
    view.modes.value = "Indexed to 100"
    figure, = [n for n in walk(view.audience_body) if isinstance(n, bq.Figure)]
    assert figure.marks[0].y[0] == 100.0
    view.modes.value = "Daily change"
    figure, = [n for n in walk(view.audience_body) if isinstance(n, bq.Figure)]
    assert set(figure.marks[0].y) == {10.0}
    view.checks["spotify"].value = False
    assert "Choose at least one platform." in html_of(view.audience_body)
    view.start.value, view.end.value = D[2], D[0]
    assert classes(view.audience_body) == {"sc-state", "error-state"}
    assert len(page_reads) == 1
    offered = re.findall(r'data-table="([^"]+)"', html_of(view.audience_downloads))
    assert offered == []  # nothing chosen, nothing offered


def test_refresh_interval_from_the_query_and_a_bad_one_keeps_its_error():
    assert common.Page("T", query=Query.parse("refresh=5")).refresh_seconds == 5
    assert common.Page("T", query=Query.parse("")).refresh_seconds == common.REFRESH_SECONDS
    page = common.Page("T", query=Query.parse("refresh=1"))
    page.show(lambda: w.Label("never"))
    assert classes(page.body) == {"sc-state", "error-state"}
    assert "refresh must be a whole number from 2 to 3600" in html_of(page.body)


def test_a_long_track_name_is_cut_in_the_movers_cards_and_whole_in_the_ranking():
    long_name = "<Very> long & " + "x" * 300  # names the contract allows, as long as the track column holds
    load = chart_loader([])

    def with_long_name(on):
        data = load(on)
        for key in ("ranking", "climbers"):
            data[key] = data[key].assign(name=long_name)
        return data

    body = chart.ChartView(with_long_name).render()
    climbers = html_of(next(w for w in walk(body) if "climbers" in w._dom_classes))
    cut = chart.MOVER_NAME - 1
    shown = re.findall(r'<a href="track\.ipynb\?uuid=[^"]*" title="([^"]*)">([^<]*)</a>', climbers)
    assert shown and all(title == html.escape(long_name, quote=True) for title, _ in shown)
    assert all(text == html.escape(long_name[:cut].rstrip() + "…") for _, text in shown)
    ranking = html_of(next(w for w in walk(body) if "chart-ranking" in w._dom_classes))
    assert html.escape(long_name) in ranking and "title=" not in ranking  # the wide table shows it whole


@pytest.mark.parametrize(("kind", "n", "title"), [
    ("tracks", 1, "Comparing 1 track"), ("tracks", 2, "Comparing 2 tracks"), ("artists", 1, "Comparing 1 artist"),
    ("artists", 3, "Comparing 3 artists")])
def test_the_compare_summary_counts_its_items_in_words(kind, n, title):
    from soundcharts_lib.ui.compare import compare_summary

    items = pd.DataFrame({"uuid": [f"00000000-0000-4000-8000-00000000000{i}" for i in range(n)],
                          "name": [f"N{i}" for i in range(n)], "label": [f"N{i}" for i in range(n)]})
    shown = compare_summary({"kind": kind, "items": items, "unknown": []}).value
    assert f">{title}<" in shown and (("Add another" in shown) == (n == 1))
