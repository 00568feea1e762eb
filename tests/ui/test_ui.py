"""Dashboard builders (soundcharts_lib.ui) on small frames, without a browser."""

from __future__ import annotations

import gc
import sqlite3
from datetime import date, datetime, timedelta

import bqplot as bq
import ipywidgets as w
import nbformat
import numpy as np
import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError

from soundcharts_lib.errors import ConfigError, RateLimited
from soundcharts_lib.ui import common, overview

ROOT = common.__file__.rsplit("/soundcharts_lib/", 1)[0]
DAYS = [date(2026, 11, 18) + timedelta(days=i) for i in range(7)]
SCRIPT = "<script>alert('x')</script>"


def walk(widget: w.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def classes(widget: w.Widget) -> set[str]:
    return {c for node in walk(widget) for c in getattr(node, "_dom_classes", ())}


def html_of(widget: w.Widget) -> str:
    return "".join(node.value for node in walk(widget) if isinstance(node, w.HTML))


def marks(widget: w.Widget, kind: type) -> list:
    return [m for node in walk(widget) if isinstance(node, bq.Figure) for m in node.marks if isinstance(m, kind)]


@pytest.fixture
def data() -> dict:
    return {
        "has_data": True,
        "per_day": pd.DataFrame({"date": DAYS, "rankings": [3, 0, 7, 1234, 2, 0, 5]}),
        "weeks": {"this_week": 1251, "previous_week": 1000, "change_pct": 25.1},
        "platforms": pd.DataFrame({"slug": ["spotify", "apple-music"], "name": ["Spotify", "Apple <Music>"],
                                   "rankings": [40, 10]}),
        "tracks": pd.DataFrame({"uuid": ["u-1", 'u"2&x'], "name": [SCRIPT, "Robert'); DROP TABLE track;--"],
                                "artist": ["<b>Bold</b> & Co", ""], "appearances": [12, 3]}),
        "health": {"active": 9, "total": 12, "pct_active": 75.0},
        "attention": pd.DataFrame({"slug": ["dz-fr"], "name": ["Deezer <FR>"], "platform": ["deezer"],
                                   "country_code": ["FR"], "last_ranking_date": [DAYS[-1]],
                                   "consecutive_failures": [3], "stale": [False], "last_error": ["HTTP 500 <x>"]}),
        "status": {"runs": RUNS, "failures_24h": {"runs": 1, "rankings": 4}, "failed_runs": RUNS.iloc[1:],
                   "quota": QUOTA},
        "alerts": ALERTS, "roster": False,
        "artists": pd.DataFrame({"uuid": ["a-1"], "name": ["<b>Bold</b>"], "appearances": [12], "tracks": [1]}),
        "credits": {"u-1": [{"uuid": "a-1", "name": "<b>Bold</b>"}]},
    }


RUNS = pd.DataFrame({"kind": ["sync_charts", "fetch_audience"], "trigger": ["cron", "cli"],
                     "status": ["success", "failed"],
                     "started_at": [datetime(2026, 11, 24, 8, 0), datetime(2026, 11, 24, 9, 0)],
                     "finished_at": [datetime(2026, 11, 24, 8, 3), None], "counts": [{"charts": 3}, None],
                     "quota_remaining": [900, None], "notebook_path": [None, None],
                     "error": ["", "quota exhausted <now>"]})
ALERTS = pd.DataFrame({
    "id": [2, 1], "fired_at": [datetime(2026, 11, 24, 9, 5), datetime(2026, 11, 23, 8, 0)],
    "rule": ["top <10>", "stale"],
    "kind": ["top_entry", "chart_stale"], "subject": ["Top 10: <b>Song</b> on Chart", "Chart stale: Deezer FR"],
    "message": ['Song by "A" is #3', "no ranking"],
    "details": [{"chart": "sp-us", "chart_name": "Spotify <US>", "date": "2026-11-24", "track_uuid": "u-1",
                 "track": SCRIPT}, {"chart": "dz-fr", "chart_name": "Deezer FR", "platform": "deezer"}],
    "delivered": [None, False], "delivery_error": [None, "HTTP 500"]})
QUOTA = {"remaining": 900, "as_of": datetime(2026, 11, 24, 8, 0), "burn_per_day": 50.0, "days_left": 6.5,
         "forecast": 575, "exhausted_on": None, "points": 3, "window_days": 7}


def test_page_sections_carry_their_css_classes(data):
    page = overview.build_overview(data)
    assert {"rankings-per-day", "week-comparison", "top-platforms", "top-tracks", "chart-health", "charts-attention",
            "api-quota", "failures", "job-runs", "recent-alerts"} <= classes(page)
    assert not {"empty-state", "error-state", "loading-state"} & classes(page)


def test_empty_database_gives_the_empty_state_only(data):
    no_runs = {**data["status"], "runs": RUNS.iloc[0:0]}
    page = overview.build_overview({**data, "has_data": False, "status": no_runs})
    assert classes(page) == {"sc-state", "empty-state"}
    assert "No data yet</b>: run <code>make demo</code> or <code>soundcharts sync-charts --backfill-days 28</code>" \
        in page.value


def test_empty_database_after_failed_runs_shows_the_system_status(data):
    page = overview.build_overview({**data, "has_data": False})
    assert {"empty-state", "api-quota", "failures", "job-runs"} <= classes(page)
    assert "rankings-per-day" not in classes(page)


def test_system_status_shows_runs_failures_and_the_quota_forecast(data):
    shown = html_of(overview.build_overview(data))
    assert '<div class="sc-kpi quota-remaining">900</div>' in shown
    assert '<span class="quota-forecast">575</span>' in shown and "= 50 a day" in shown
    assert "days left in the month (6.5)" in shown
    assert '<div class="sc-kpi failures-total">5</div>' in shown and "4 chart fetches failed" in shown
    assert "quota exhausted &lt;now&gt;" in shown and "<now>" not in shown
    assert '<span class="sc-pill sc-up">success</span>' in shown and '<span class="sc-pill sc-down">failed</span>' \
        in shown
    assert '<td class="num">3 min</td>' in shown and "2026-11-24 08:00 UTC" in shown


@pytest.mark.parametrize(("quota", "shown"), [
    ({**QUOTA, "forecast": None, "burn_per_day": None},
     '<span class="quota-forecast">not enough history</span> (needs 24 h of quota readings'),
    ({**QUOTA, "forecast": -100, "exhausted_on": date(2026, 11, 28)}, "runs out around 2026-11-28"),
    ({**QUOTA, "remaining": None}, "No job run has recorded the API quota yet."),
])
def test_quota_card_states(quota, shown):
    assert shown in html_of(overview.api_quota(quota))


def test_charts_needing_attention_link_chart_and_platform(data):
    shown = html_of(overview.charts_attention(data["attention"]))
    assert '<a href="chart.ipynb?slug=dz-fr">Deezer &lt;FR&gt;</a>' in shown
    assert '<a href="platform.ipynb?slug=deezer">deezer</a>' in shown and "3 failures" in shown
    assert "HTTP 500 &lt;x&gt;" in shown
    assert "Every active chart is up to date." in html_of(overview.charts_attention(data["attention"].iloc[0:0]))


def test_figure_points_equal_the_input(data):
    figure = overview.rankings_figure(data["per_day"])
    expected_x = pd.to_datetime(pd.Series(DAYS)).to_numpy()
    scatter, = [m for m in figure.marks if isinstance(m, bq.Scatter)]
    label, = [m for m in figure.marks if isinstance(m, bq.Label)]
    assert list(scatter.x) == list(expected_x)
    assert list(scatter.y) == [3, 0, 7, 1234, 2, 0, 5]
    assert list(label.text) == ["3", "0", "7", "1,234", "2", "0", "5"]
    assert scatter.tooltip.fields == ["x", "y"] and scatter.tooltip.labels == ["Date", "Rankings"]
    area, = [m for m in figure.marks if isinstance(m, bq.Lines) and m.fill == "bottom"]
    assert list(area.y) == [3, 0, 7, 1234, 2, 0, 5] and area.fill_opacities
    layer, = [m for m in figure.marks if isinstance(m, bq.Lines) and m.fill == "between"]
    assert np.allclose(layer.y[0], area.y) and np.all(layer.y[1] <= layer.y[0])
    assert figure.axes[1].scale.max >= 1234


def test_figure_of_an_idle_week_still_has_an_axis():
    idle = pd.DataFrame({"date": DAYS, "rankings": [0] * 7})
    figure = overview.rankings_figure(idle)
    assert figure.axes[1].tick_values.tolist() == [0, 1]


@pytest.mark.parametrize(("top", "ticks"), [
    (0, [0, 1]), (3, [0, 1, 2, 3]), (4.6, [0, 2, 4, 6]), (48, [0, 20, 40, 60]), (2300, [0, 1000, 2000, 3000]),
])
def test_nice_ticks(top, ticks):
    assert overview.nice_ticks(top) == ticks


def test_tracks_table_shows_markup_as_text(data):
    table = html_of(overview.top_tracks(data["tracks"]))
    assert "<script>" not in table and "<b>" not in table
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in table
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in table
    assert "Robert&#x27;); DROP TABLE track;--" in table
    assert 'href="track.ipynb?uuid=u-1"' in table
    assert 'href="track.ipynb?uuid=u%222%26x"' in table  # query-encoded, no attribute break-out
    assert table.count("<tr>") == 3 and '<td class="num">12</td>' in table


def test_platforms_tab_has_table_and_chart(data):
    box = overview.top_platforms(data["platforms"])
    tab, = [n for n in walk(box) if isinstance(n, w.Tab)]
    assert tab.titles == ("Table", "Chart")
    table = tab.children[0].value
    assert 'href="platform.ipynb?slug=apple-music">Apple &lt;Music&gt;</a>' in table
    assert 'style="width:80%"' in table and 'style="width:20%"' in table
    bars, = marks(tab.children[1], bq.Bars)
    assert list(bars.x) == ["Spotify", "Apple <Music>"] and list(bars.y) == [40, 10]


def test_empty_lists_say_so(data):
    assert "No chart entries" in html_of(overview.top_tracks(data["tracks"].iloc[0:0]))
    assert "No rankings" in html_of(overview.top_platforms(data["platforms"].iloc[0:0]))


@pytest.mark.parametrize(("change", "shown"), [
    (25.1, 'sc-up">▲ +25.1%'), (-3.0, 'sc-down">▼ -3.0%'), (0.0, 'sc-flat">■ 0.0%'),
    (None, 'sc-flat">–</span>no rankings the week before'),
])
def test_week_comparison_arrow_and_colour(change, shown):
    box = overview.week_comparison({"this_week": 1251, "previous_week": 1000, "change_pct": change})
    assert shown in html_of(box) and "1,251" in html_of(box)


def test_chart_health():
    assert "75.0% active" in html_of(overview.chart_health({"active": 9, "total": 12, "pct_active": 75.0}))
    assert "No charts discovered yet" in html_of(overview.chart_health({"active": 0, "total": 0, "pct_active": None}))


def test_page_starts_loading_and_shows_the_result():
    page = common.Page("Overview", "sub <title>")
    assert classes(page.body) == {"sc-state", "loading-state"}
    assert "sub &lt;title&gt;" in html_of(page.widget)
    with page.rendering():
        page.set(w.Label("done"))
    assert [type(c) for c in page.body.children] == [w.Label]


def test_a_page_freezes_the_kernels_objects_out_of_the_collector():
    """What the kernel imported is never walked again by a full collection (a 90 ms pause every few reads)."""
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        common.Page("Overview")
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_page_turns_any_exception_into_one_line(capfd, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_API_KEY", "sk-very-secret")
    page = common.Page("Overview")
    with page.rendering():
        raise RuntimeError("boom sk-very-secret\nsecond line")
    shown = html_of(page.body)
    assert classes(page.body) == {"sc-state", "error-state"}
    assert "unexpected error (RuntimeError)" in shown and "secret" not in shown and "Traceback" not in shown
    log = capfd.readouterr().err  # the traceback goes to the server log, scrubbed
    assert "Traceback" in log and "boom ***" in log and "sk-very-secret" not in log


def test_error_messages_are_clear_and_never_leak(monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_CLIENT_SECRET", "cs-0123456789")
    assert common.error_message(ConfigError("database file not found: /x.db")) == "database file not found: /x.db"
    assert common.error_message(RateLimited("slow down", status=429, endpoint="/api/v2/x")) \
        == "HTTP 429 on /api/v2/x: slow down"
    db_error = OperationalError("SELECT secret_stuff", {}, sqlite3.OperationalError("no such table: chart"))
    assert common.error_message(db_error) == "database error: no such table: chart"
    leaky = ConfigError("bad postgresql://scott:tiger@db/x and cs-0123456789\nTraceback ...")
    assert common.error_message(leaky) == "bad postgresql://scott:***@db/x and ***"


def test_html_table_escapes_headers_and_right_aligns_numbers():
    cols = [common.Column("<Name>", lambda r: common.text(r["n"])),
            common.Column("Count", lambda r: common.number(r["c"]), numeric=True)]
    table = common.html_table(pd.DataFrame({"n": [None, "a&b"], "c": [1000, 2]}), cols)
    assert "<th>&lt;Name&gt;</th>" in table and '<th class="num">Count</th>' in table
    assert "<td></td>" in table and "<td>a&amp;b</td>" in table and '<td class="num">1,000</td>' in table


@pytest.mark.parametrize(("name", "call"), [
    ("overview", "viewer_data.overview(engine, mine=mine.on)"),
    ("platform", "viewer_data.platform_page(engine, slug, mine=mine.on)"),
    ("chart", "viewer_data.chart_page(engine, slug, day, mine=mine.on)"),
    ("track", "viewer_data.track_page(engine, uuid, **kw)"),
])
def test_dashboard_notebooks_are_few_cells_stored_clean(name, call):
    nb = nbformat.read(f"{ROOT}/dashboards/{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert 2 <= len(code) <= 4
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    source = "\n".join(c.source for c in code)
    assert "engine_from_env()" in source and call in source and "page.rendering()" in source
    assert "select(" not in source and "client" not in source.lower()


def test_own_pages_are_linked_at_the_end(data):
    pages = [{"file": "label.ipynb", "title": "Label <report>", "href": "label.ipynb"}]
    page = overview.build_overview(data, pages)
    assert page.children[-1]._dom_classes[-1] == "own-pages"
    assert '<li><a href="label.ipynb">Label &lt;report&gt;</a></li>' in html_of(page.children[-1])
    assert "own-pages" not in classes(overview.build_overview(data))
    no_runs = {**data["status"], "runs": RUNS.iloc[0:0]}
    assert {"empty-state", "own-pages"} <= classes(overview.build_overview({**data, "has_data": False,
                                                                            "status": no_runs}, pages))


def test_alerts_link_their_track_and_chart_newest_first(data):
    shown = html_of(overview.recent_alerts(data["alerts"]))
    rows = shown.split("<tr>")[2:]
    assert "2026-11-24 09:05 UTC" in rows[0] and "2026-11-23 08:00 UTC" in rows[1]
    assert '<a href="track.ipynb?uuid=u-1">&lt;script&gt;' in rows[0]
    assert '<a href="chart.ipynb?slug=sp-us&amp;date=2026-11-24">Spotify &lt;US&gt;</a>' in rows[0]
    assert "Top 10: &lt;b&gt;Song&lt;/b&gt; on Chart" in rows[0] and 'title="Song by &quot;A&quot; is #3"' in rows[0]
    assert "top &lt;10&gt;" in rows[0] and "track.ipynb" not in rows[1]
    assert '<a href="chart.ipynb?slug=dz-fr">Deezer FR</a>' in rows[1] and SCRIPT not in shown
    assert 'data-table="alerts"' in shown


def test_alerts_and_top_tracks_say_when_kept_to_the_roster(data):
    empty = html_of(overview.recent_alerts(data["alerts"].iloc[0:0]))
    assert "No alert in the last 7 days" in empty and "soundcharts alerts rules add" in empty
    mine = overview.build_overview({**data, "roster": True, "alerts": data["alerts"].iloc[0:0],
                                    "tracks": data["tracks"].iloc[0:0]})
    shown = html_of(mine)
    assert "Alerts · 7 days · your roster" in shown and "No alert about your roster in the last 7 days" in shown
    assert "Top tracks · 30 days · your roster" in shown
    assert "None of your roster&#x27;s tracks charted" in shown or "None of your roster's tracks charted" in shown


def test_an_interrupted_run_reads_as_a_failure_everywhere():
    from soundcharts_lib.ui.admin import common as admin_common
    from soundcharts_lib.ui.admin import history as admin_history

    assert "sc-down" in overview.outcome("interrupted") and "sc-down" in admin_common.state_pill("interrupted")
    assert "interrupted" in admin_history.RUN_STATES


def test_links_keep_the_roster_filter_and_the_theme(monkeypatch):
    monkeypatch.setattr(common, "_roster_links", None)
    monkeypatch.setenv("QUERY_STRING", "theme=dark&roster=1")
    assert common.dashboard_link("track.ipynb", uuid="u") == "track.ipynb?uuid=u&theme=dark&roster=1"
    common.keep_roster_in_links(False)  # the page's toggle turned off
    assert common.dashboard_link("chart.ipynb", slug="s") == "chart.ipynb?slug=s&theme=dark"
    monkeypatch.setenv("QUERY_STRING", "")
    common.keep_roster_in_links(True)  # turned on without ?roster=1
    assert common.dashboard_link("platform.ipynb", slug="spotify") == "platform.ipynb?slug=spotify&roster=1"
