"""Admin pages of charts: the chart list with health and filters
(``charts.ipynb?platform=&country=&state=``), one chart's rankings (``chart.ipynb?slug=``) and one ranking's
entries (``ranking.ipynb?slug=&date=``), with the chart actions (sync now, backfill a date range) and, on a
ranking, the track actions for its tracks.

Views get loaders (callables returning what :mod:`soundcharts_lib.warehouse.admin_pages` returns); they never read the
database themselves.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

import ipywidgets as w
import pandas as pd

from soundcharts_lib.jobs import admin_actions as admin
from soundcharts_lib.jobs.admin_actions import Runner
from soundcharts_lib.ui.admin.common import STATE_TONES, ActionBar, View, button, choice, facts, state_pill, when
from soundcharts_lib.ui.admin.track import Picker, TrackActions, track_label
from soundcharts_lib.ui.chart import on_chart_cell, state_cell
from soundcharts_lib.ui.common import Column, card, dashboard_link, day, link, nothing, number, pill, styled, text
from soundcharts_lib.ui.common import html_table as table
from soundcharts_lib.ui.credits import artists_column
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse.admin_pages import CHART_STATES

BACKFILL_DAYS = 7


class ChartActions:
    """Sync now / backfill ``start``..``end`` for ``selected()`` charts."""

    def __init__(self, runner: Runner, selected: Callable[[], list[str]], on_finished: Callable[[], None],
                 picker: Picker | None = None):
        self.selected = selected
        today = today_utc()
        self.start = styled(w.DatePicker(value=today - timedelta(days=BACKFILL_DAYS - 1), description="From",
                                         layout=w.Layout(width="auto")), "backfill-start")
        self.end = styled(w.DatePicker(value=today, description="To", layout=w.Layout(width="auto")),
                          "backfill-end")
        self.bar = ActionBar(runner, on_finished)
        sync = button("Sync now", "sync-now", style="primary", tooltip="Fetch the latest ranking")
        backfill = button("Backfill", "backfill", style="primary", tooltip="Fetch every ranking of the dates")
        sync.on_click(lambda _: self.bar.run(lambda: admin.sync_charts(self.selected())))
        backfill.on_click(lambda _: self.bar.run(
            lambda: admin.backfill_charts(self.selected(), self.start.value, self.end.value)))
        row = styled(w.HBox([sync, self.start, self.end, backfill]), "sc-actions")
        parts = [picker.widget] if picker else []
        self.widget = card("Actions", *parts, row, self.bar.widget, css_class="chart-actions")


def _error(value, width: int = 140) -> str:
    message = "" if value is None or pd.isna(value) else str(value)
    short = message if len(message) <= width else message[:width] + "…"
    return f'<span class="sc-sub" title="{html.escape(message, quote=True)}">{html.escape(short)}</span>'


# -- the chart list -----------------------------------------------------------------------------------------

def _country(row: pd.Series) -> str:
    return row["country_code"] if isinstance(row["country_code"], str) else "global"


CHART_COLUMNS = [
    Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["slug"]), r["name"])),
    Column("Platform", lambda r: text(r["platform"])),
    Column("Country", lambda r: text(_country(r))),
    Column("Frequency", lambda r: text(r["frequency"])),
    Column("Health", lambda r: state_pill(r["state"])),
    Column("Last ranking", lambda r: day(r["last_ranking_date"])),
    Column("Last success", lambda r: when(r["last_success_at"])),
    Column("Failures", lambda r: number(r["consecutive_failures"]), numeric=True),
    Column("Last error", lambda r: _error(r["last_error"])),
]


class ChartsView(View):
    """Charts filtered by platform, country and health; actions on the charts selected among those shown."""

    def __init__(self, load: Callable[..., pd.DataFrame], filters: dict[str, list[str]], runner: Runner, *,
                 platform: str | None = None, country: str | None = None, state: str | None = None):
        self.load = load
        self.platform = choice([(p, p) for p in filters["platforms"]], platform, "Platform", "chart-platform")
        countries = [("Global (no country)", "-"), *((c, c) for c in filters["countries"])]
        self.country = choice(countries, country, "Country", "chart-country")
        self.state = choice([(s, s) for s in CHART_STATES], state, "Health", "chart-state")
        for control in (self.platform, self.country, self.state):
            control.observe(self.reload, "value")
        self.picker = Picker("charts", "chart-select")
        self.actions = ChartActions(runner, self.picker.selected, self.reload, picker=self.picker)
        filters_row = styled(w.HBox([self.platform, self.country, self.state]), "sc-actions")
        super().__init__([filters_row, self.actions.widget])

    def build(self) -> w.Widget:
        charts = self.load(platform=self.platform.value or None, country=self.country.value or None,
                           state=self.state.value or None)
        self.picker.offer([(f"{r['name']} · {_country(r)} ({r['slug']})", r["slug"])
                           for _, r in charts.iterrows()])
        if charts.empty:
            return card("Charts", nothing("No chart matches these filters."), css_class="chart-list")
        counts = charts["state"].value_counts()
        summary = " ".join(pill(f"{counts[s]:,} {s}", STATE_TONES[s]) for s in CHART_STATES if s in counts)
        head = w.HTML(f'<div class="chart-count">{len(charts):,} charts {summary}</div>')
        return card("Charts", head, w.HTML(table(charts, CHART_COLUMNS)), css_class="chart-list")


# -- one chart's rankings -----------------------------------------------------------------------------------

def _chart_facts(chart: dict) -> str:
    rows = [("Slug", f"<code>{text(chart['slug'])}</code>"), ("Platform", text(chart["platform_name"])),
            ("Country", text(chart["country_name"] or chart["country_code"]) or "global"),
            ("Frequency", text(chart["frequency"])), ("Active", "yes" if chart["is_active"] else "no"),
            ("Last ranking", day(chart["last_ranking_date"])),
            ("Last success", when(chart["last_success_at"])),
            ("Consecutive failures", number(chart["consecutive_failures"])),
            ("Last error", _error(chart["last_error"], 400) if chart["last_error"] else "")]
    viewer = link(f"../{dashboard_link('chart.ipynb', slug=chart['slug'])}", "Open in the dashboards ↗")
    return f'<h2>{text(chart["name"])}</h2>{facts(rows)}{viewer}'


RANKING_COLUMNS = [
    Column("Date", lambda r: day(r["ranking_date"])),
    Column("Fetched at", lambda r: when(r["fetched_at"])),
    Column("Status", lambda r: state_pill(r["status"])),
    Column("Entries", lambda r: number(r["entry_count"]), numeric=True),
    Column("Error", lambda r: _error(r["error"])),
    Column("", lambda r: link(dashboard_link("ranking.ipynb", slug=r["slug"], date=day(r["ranking_date"])),
                              "View details")),
]


class ChartView(View):
    """One chart: its facts and health, its rankings (newest first), and the chart actions for it."""

    def __init__(self, load: Callable[[], dict], slug: str, runner: Runner):
        self.load = load
        self.actions = ChartActions(runner, lambda: [slug], self.reload)
        super().__init__([self.actions.widget])

    def build(self) -> w.Widget:
        data = self.load()
        chart, rankings = data["chart"], data["rankings"].assign(slug=data["chart"]["slug"])
        about = card("Chart", w.HTML(_chart_facts(chart)), css_class="chart-facts")
        shown = f"{len(rankings):,} newest of " if data["total"] > len(rankings) else ""
        head = w.HTML(f'<div class="sc-sub ranking-count">{shown}{data["total"]:,} rankings stored, '
                      f'{data["failed"]:,} failed</div>')
        body = (w.HTML(table(rankings, RANKING_COLUMNS)) if len(rankings)
                else nothing("No ranking stored yet: sync now or backfill."))
        return w.VBox([about, card("Rankings", head, body, css_class="ranking-list")],
                      layout=w.Layout(grid_gap="16px"))


# -- one ranking's entries ----------------------------------------------------------------------------------

def entry_columns(credits: Mapping) -> list[Column]:
    """A ranking's entries, their artists linked to the artist page (``credits``: ``{track uuid: artists}``)."""
    return [*ENTRY_COLUMNS[:4], artists_column(credits, prefix="../"), *ENTRY_COLUMNS[4:]]


ENTRY_COLUMNS = [  # without the artists: see entry_columns
    Column("#", lambda r: number(r["position"]), numeric=True),
    Column("Prev", lambda r: number(r["previous_position"]), numeric=True),
    Column("State", state_cell),
    Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
    Column("entryState sent", lambda r: f"<code>{text(r['entry_state'])}</code>" if isinstance(r["entry_state"], str)
           else '<span class="sc-sub">empty</span>'),
    Column("On chart", on_chart_cell, numeric=True),
    Column("Entry date", lambda r: day(r["entry_date"]), nowrap=True),
    Column("Metric", lambda r: number(r["metric"]), numeric=True),
    Column("Metadata", lambda r: when(r["metadata_fetched_at"])[:10] or pill("missing", "warn")),
]


def _ranking_facts(chart: dict, ranking: dict) -> str:
    back = link(dashboard_link("chart.ipynb", slug=chart["slug"]), chart["name"])
    rows = [("Chart", back), ("Date", day(ranking["ranking_date"])),
            ("Fetched at", when(ranking["fetched_at"])),
            ("Status", state_pill(ranking["status"])), ("Entries", number(ranking["entry_count"])),
            ("Error", _error(ranking["error"], 400) if ranking["error"] else "")]
    return facts(rows)


DROPOUT_COLUMNS = [
    Column("Last position", lambda r: number(r["previous_position"]), numeric=True),
    Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
]


def _dropouts(data: dict) -> w.Widget:
    """The songs the API listed as no longer in the chart (position 0), or how the chart page finds them."""
    gone = data["dropouts"]
    if data["dropouts_from"] != "api":
        return card("Drop-outs", nothing("The API sent no position-0 item with this ranking: the chart page takes "
                                         "the drop-outs from the previous stored ranking."), css_class="dropout-list")
    columns = [*DROPOUT_COLUMNS, artists_column(data["credits"], prefix="../")]
    return card("Drop-outs sent by the API (position 0)", w.HTML(table(gone, columns)),
                css_class="dropout-list")


class RankingView(View):
    """One ranking: its facts, its entries as the chart page reads them (each track linked to its admin page) and
    the API's drop-outs, with the track actions for the tracks selected among its entries."""

    def __init__(self, load: Callable[[], dict], platforms: Sequence[tuple[str, str]], runner: Runner):
        self.load = load
        self.picker = Picker("tracks", "track-select")
        self.actions = TrackActions(runner, self.picker.selected, platforms, self.reload, picker=self.picker)
        super().__init__([self.actions.widget])

    def build(self) -> w.Widget:
        data = self.load()
        entries = data["entries"]
        self.picker.offer([(f"#{r['position']} {track_label(r)}", r["uuid"]) for _, r in entries.iterrows()])
        about = card("Ranking", w.HTML(_ranking_facts(data["chart"], data["ranking"])),
                     css_class="ranking-facts")
        body = (w.HTML(table(entries, entry_columns(data["credits"]))) if len(entries)
                else nothing("This ranking has no entries (its fetch failed?)."))
        parts = [about, card("Entries", body, css_class="entry-list")]
        if data["ranking"]["status"] == "success":  # a failed fetch has no items at all
            parts.append(_dropouts(data))
        return w.VBox(parts, layout=w.Layout(grid_gap="16px"))
