"""The chart dashboard (``chart.ipynb?slug=&date=``): one ranking with the API's previous position, NEW / RE flags
and time on chart, the peak, its date and the streak from stored history (a note says since when); the day's
climbers, fallers, new entries and drop-outs (saying whether the API sent them); a date picker.

:class:`ChartView` gets a loader (``date | None -> analytics.chart_page(...)``); it never reads the database.
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Callable
from datetime import date

import ipywidgets as w
import pandas as pd

from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    empty_state,
    first,
    grid,
    guarded,
    html_table,
    link,
    loading_state,
    missing,
    nothing,
    number,
    pill,
    stack,
    styled,
    table_card,
    text,
)
from soundcharts_lib.ui.credits import artists_column
from soundcharts_lib.ui.labels import labels_link
from soundcharts_lib.ui.roster_filter import ROSTER_TITLE

UNKNOWN_STATE = "no state from the API and no earlier ranking stored"
SOURCES = {"api": "sent by the API", "api-derived": "derived from the API's previous position and entry date",
           "stored": "from stored history: the API sent no state"}


def movement(row: pd.Series) -> str:
    """NEW / RE flags, an arrow with the places gained or lost, = for the same place, ? when unknown."""
    status, moved = row["status"], row["movement"]
    if missing(status):
        return f'<span class="sc-sub" title="{UNKNOWN_STATE}">?</span>'
    if status == "NEW":
        return pill("NEW", "new")
    if status == "RE-ENTRY":
        return pill("RE", "re")
    if status == "SAME":
        return '<span class="sc-sub">=</span>'
    arrow, tone = ("▲", "up") if status == "UP" else ("▼", "down")
    places = "" if missing(moved) else f" {abs(int(moved))}"
    return f'<span class="sc-arrow-{tone}">{arrow}{places}</span>'


def state_cell(row: pd.Series) -> str:
    """The state as a word (NEW, RE-ENTRY, UP, DOWN, SAME, or "unknown"), its source on hover."""
    if missing(row["status"]):
        return f'<span class="sc-sub" title="{UNKNOWN_STATE}">unknown</span>'
    return f'<span title="{SOURCES[row["status_from"]]}">{html.escape(row["status"])}</span>'


MOVER_NAME = 40  # characters of a track's name in the narrow climbers, fallers, new entries and drop-outs cards


def track_cell(row: pd.Series) -> str:
    return link(dashboard_link("track.ipynb", uuid=row["uuid"]), row["name"])


def mover_track_cell(row: pd.Series) -> str:
    """A track's name cut to :data:`MOVER_NAME` characters (the whole of it in the tooltip), linking to its page."""
    return link(dashboard_link("track.ipynb", uuid=row["uuid"]), row["name"], MOVER_NAME)


def on_chart_cell(row: pd.Series) -> str:
    """Time on chart in its unit ("21 days", "3 weeks")."""
    if missing(row["on_chart"]):
        return ""
    n, unit = int(row["on_chart"]), row["on_chart_unit"]
    return f"{n:,} {unit}{'s' if n != 1 else ''}"


def metric_label(chart: dict) -> str:
    return first(chart["metric_description"], str(first(chart["metric_type"], "metric")).capitalize())


def ranking_table(data: dict) -> w.VBox:
    """The ranking (the roster's entries only, at their positions, when ``data["roster"]``) under the line saying
    which figures come from stored history."""
    ranking, chart, mine = data["ranking"], data["chart"], data["roster"]
    columns = [
        Column("#", lambda r: number(r["position"]), numeric=True),
        Column("Prev", lambda r: number(r["previous_position"]), numeric=True),
        Column("Move", movement),
        Column("Track", track_cell),
        artists_column(data["credits"]),
        Column("On chart", on_chart_cell, numeric=True),
        Column("Peak*", lambda r: number(r["stored_peak_position"]), numeric=True),
        Column("Peak date*", lambda r: day(r["stored_peak_date"]), nowrap=True),
        Column("Streak*", lambda r: number(r["stored_streak"]), numeric=True),
        Column(metric_label(chart), lambda r: number(r["metric"]), numeric=True),
    ]
    title = f"Ranking{ROSTER_TITLE * mine}"
    if ranking.empty:
        empty = "None of your roster's tracks is in this ranking." if mine else "This ranking has no entries."
        return styled(card(title, nothing(empty), css_class="chart-ranking"), "sc-tall")
    box = card(title, history_note(data), w.HTML(html_table(ranking, columns)), css_class="chart-ranking",
               downloads=[downloads("chart-ranking", ranking)])
    return styled(box, "sc-tall")


def history_note(data: dict) -> str:
    """One line saying which figures are the API's and which come from stored history, and since when."""
    ranking, dates = data["ranking"], data["dates"]
    counted = sum(d <= data["date"] for d in dates)
    parts = [f"Prev, Move (NEW / RE) and On chart as the API sent them. * From stored history since {day(dates[0])}, "
             f"the first stored ranking ({counted:,} ranking{'s' * (counted != 1)} up to this one)."]
    by_history = int((ranking["status_from"] == "stored").sum())
    unknown = int(ranking["status"].isna().sum())
    if by_history:
        parts.append(f"{by_history:,} entries without the API's state: theirs from stored history"
                     + (f", {unknown:,} unknown (no earlier ranking stored)." if unknown else "."))
    without_time = int((ranking["on_chart_from"] == "stored").sum())
    if without_time:
        parts.append(f"{without_time:,} entries without the API's time on chart: stored rankings counted.")
    return f'<div class="sc-sub history-note">{html.escape(" ".join(parts))}</div>'


def dropouts_title(data: dict) -> str:
    """Where the drop-outs come from: the API's position-0 items, or the previous stored ranking."""
    if data["dropouts_from"] == "api":
        return "Drop-outs (sent by the API)"
    earlier = [d for d in data["dates"] if d < data["date"]]
    return f"Drop-outs (vs the stored {day(earlier[-1])})" if earlier else "Drop-outs"


def movers(data: dict) -> w.GridBox:
    """The day's climbers, fallers, new entries and drop-outs (the roster's only when ``data["roster"]``)."""
    mine = ROSTER_TITLE * data["roster"]
    # no rank column: the cards are a quarter of the page wide, and their order is the rank
    moved = [Column("Track", mover_track_cell), Column("Move", movement),
             Column("Position", lambda r: f'{number(r["previous_position"])} → {number(r["position"])}', numeric=True)]
    entries = [Column("Track", mover_track_cell), Column("Flag", movement),
               Column("Position", lambda r: number(r["position"]), numeric=True)]
    dropped = [Column("Track", mover_track_cell), artists_column(data["credits"]),
               Column("Was", lambda r: number(r["previous_position"]), numeric=True)]
    return grid([
        table_card(f"Climbers{mine}", "chart-climbers", data["climbers"], moved, css_class="climbers",
                   empty="No track climbed."),
        table_card(f"Fallers{mine}", "chart-fallers", data["fallers"], moved, css_class="fallers",
                   empty="No track fell."),
        table_card(f"New entries{mine}", "chart-new-entries", data["new_entries"], entries, css_class="new-entries",
                   empty="No new entries."),
        table_card(f"{dropouts_title(data)}{mine}", "chart-dropouts", data["dropouts"], dropped,
                   css_class="dropouts", empty="No track dropped out." if data["dropouts_from"] == "api"
                   or data["dates"][0] < data["date"] else "No earlier ranking stored to compare with."),
    ], min_width="250px")


def chart_summary(chart: dict) -> w.VBox:
    state = (pill("inactive", "flat") if not chart["is_active"] else
             pill(f"failing ({chart['consecutive_failures']})", "down") if chart["consecutive_failures"] else
             pill("active", "up"))
    place = first(chart["city_name"], chart["country_name"], chart["country_code"], "Global")
    platform = link(dashboard_link("platform.ipynb", slug=chart["platform"]), chart["platform_name"])
    facts = [("Platform", platform), ("Where", text(place)), ("Frequency", text(chart["frequency"])),
             ("Metric", text(metric_label(chart))), ("Status", state),
             ("Labels", labels_link("share of this chart by label", chart=chart["slug"]))]
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    body = w.HTML(f'<h2>{html.escape(chart["name"])}</h2><dl class="sc-facts">{rows}</dl>')
    return card("Chart", body, css_class="chart-summary")


class ChartView:
    """The chart page body. ``load(date or None)`` returns :func:`warehouse.viewer_pages.chart_page`'s dict
    (None: the latest ranking); the date picker and the previous / next / latest buttons load another date."""

    def __init__(self, load: Callable[[date | None], dict], on: date | None = None):
        self._load = load
        self.on = on
        self.dates: list[date] = []
        self.picker = styled(w.DatePicker(description="Ranking of", layout=w.Layout(width="auto")), "date-picker")
        self.prev = styled(w.Button(description="◀ Previous", layout=w.Layout(width="auto")), "prev-date")
        self.next = styled(w.Button(description="Next ▶", layout=w.Layout(width="auto")), "next-date")
        self.latest = styled(w.Button(description="Latest", layout=w.Layout(width="auto")), "latest-date")
        self.info = w.HTML()
        self.section = w.VBox(layout=w.Layout(width="100%"))
        self.summary = w.VBox()
        controls = styled(w.HBox([self.picker, self.prev, self.next, self.latest, self.info]), "sc-controls")
        self.widget = stack([grid([self.summary, card("Date", controls, css_class="chart-controls")],
                                  min_width="360px"), self.section])
        self._quiet = False
        self.picker.observe(lambda change: self.go(change["new"]), "value")
        self.prev.on_click(lambda _: self.step(-1))
        self.next.on_click(lambda _: self.step(1))
        self.latest.on_click(lambda _: self.go(self.dates[-1] if self.dates else None))

    def render(self) -> w.Widget:
        """Read the current date's data and rebuild every part; returns the page body."""
        data = self._load(self.on)
        self.dates = data["dates"]
        self.summary.children = [chart_summary(data["chart"])]
        self._set_controls(data)
        self.section.children = [ranking_section(data)]
        return self.widget

    def go(self, on: date | None) -> None:
        """Show the ranking of ``on`` (an error or a missing date shows in the section, not as a crash)."""
        if self._quiet or on is None or on == self.on:
            return
        self.on = on
        self.section.children = [loading_state()]
        with guarded(lambda state: setattr(self.section, "children", [state])):
            self.render()

    def step(self, by: int) -> None:
        """Go to the stored date ``by`` places before (-1) or after (+1) the current one."""
        if not self.dates or self.on is None:
            return
        i = bisect.bisect_left(self.dates, self.on)
        target = i + by if (i < len(self.dates) and self.dates[i] == self.on) or by < 0 else i
        if 0 <= target < len(self.dates):
            self.go(self.dates[target])

    def _set_controls(self, data: dict) -> None:
        dates, when = data["dates"], data["date"]
        self.on = when
        self._quiet = True
        try:
            self.picker.value = when
        finally:
            self._quiet = False
        self.prev.disabled = not dates or when is None or when <= dates[0]
        self.next.disabled = not dates or when is None or when >= dates[-1]
        self.latest.disabled = not dates or when == dates[-1]
        permalink = link(dashboard_link("chart.ipynb", slug=data["chart"]["slug"], date=when), "link to this ranking")
        span = f"{len(dates):,} rankings stored, {day(dates[0])} → {day(dates[-1])}" if dates else "none stored"
        self.info.value = f'<span class="sc-sub">{span} · </span><span class="permalink">{permalink}</span>'


def ranking_section(data: dict) -> w.Widget:
    """The ranking and its movers, or a state that says what is stored instead."""
    chart, dates, when = data["chart"], data["dates"], data["date"]
    if not dates:
        return empty_state(f"<b>No ranking of this chart is stored yet</b>: run "
                           f"<code>soundcharts sync-charts --chart {html.escape(chart['slug'])}</code>")
    if not data["stored"]:
        i = bisect.bisect_left(dates, when)
        near = min(dates[max(i - 1, 0):i + 1], key=lambda d: abs((d - when).days))
        nearest = link(dashboard_link("chart.ipynb", slug=chart["slug"], date=near), day(near))
        return empty_state(f"<b>No ranking stored for {day(when)}</b>. This chart has {len(dates):,} rankings from "
                           f"{day(dates[0])} to {day(dates[-1])}; the nearest is {nearest}.")
    return stack([movers(data), ranking_table(data)])
