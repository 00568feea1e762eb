"""The labels dashboard (``labels.ipynb?platform=&chart=&days=``): the share of chart entries held by each record
label over time (a stacked area: the top labels, the other labels, tracks without a stored label) and the top
labels with their entries, tracks, best position and trend; the roster's labels are starred.

:class:`LabelsView` gets a loader around :func:`soundcharts_lib.warehouse.labels.label_share` and the scopes to choose
from; it never reads the database.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from soundcharts_lib.ui.common import (
    MUTED,
    RANK,
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    empty_state,
    guarded,
    html_table,
    link,
    loading_state,
    nothing,
    number,
    pill,
    stack,
    styled,
    text,
)
from soundcharts_lib.ui.figures import PALETTE
from soundcharts_lib.ui.params import Query
from soundcharts_lib.warehouse.labels import DEFAULT_DAYS, MAX_DAYS, NO_LABEL, OTHER

DAY_CHOICES = (7, 30, 90, 180, 365)
BAND_COLOURS = {"other": "#9ca3af", "none": "#e5e7eb"}
ROSTER_MARK = "★"


def labels_link(label: str, **scope) -> str:
    """A link to the labels page for ``scope`` (``platform=`` or ``chart=``), with the class ``labels-link``."""
    href = html.escape(dashboard_link("labels.ipynb", **scope), quote=True)
    return f'<a class="labels-link" href="{href}">{html.escape(label)}</a>'


def labels_query(query: Query) -> dict:
    """The scope a link may carry: ``platform`` and ``chart`` (codes; absent: all) and ``days`` (1 to 365)."""
    return {"platform": query.slug("platform") if query.text("platform") else None,
            "chart": query.slug("chart") if query.text("chart") else None,
            "days": query.integer("days", 1, MAX_DAYS) or DEFAULT_DAYS}


def _trend(row: pd.Series) -> str:
    if not row["before_stored"]:
        return '<span class="sc-sub">–</span>'
    if row["trend_pct"] is None or pd.isna(row["trend_pct"]):
        return pill("new", "new") if row["entries"] else ""
    tone = "up" if row["trend_pct"] > 0 else "down" if row["trend_pct"] < 0 else "flat"
    return f'<span class="sc-arrow-{tone}">{row["trend_pct"]:+.1f}%</span>'


def _label(row: pd.Series) -> str:
    star = f' {pill(f"{ROSTER_MARK} your roster", "warn")}' if row["roster"] else ""
    return f"{text(row['label'])}{star}"


LABEL_COLUMNS = [RANK, Column("Label", _label), Column("Share", lambda r: f"{r['share'] * 100:.1f}%", True),
                 Column("Entries", lambda r: number(r["entries"]), True),
                 Column("Tracks", lambda r: number(r["tracks"]), True),
                 Column("Best", lambda r: number(r["best_position"]), True),
                 Column("Before", lambda r: number(r["previous_entries"]) if r["before_stored"] else "", True),
                 Column("Trend", _trend, True)]


def bands(data: dict) -> list[dict]:
    """The figure's bands bottom up: ``{"label", "kind", "colour", "roster"}``; the top labels, then the others and
    the tracks without a label when there are some."""
    shares, top = data["shares"], data["labels"].head(len(PALETTE) - 1)
    found = set(zip(shares["kind"], shares["label"], strict=True))
    out = [{"label": name, "kind": "label", "colour": PALETTE[i], "roster": bool(mine)}
           for i, (name, mine) in enumerate(zip(top["label"], top["roster"], strict=True)) if ("label", name) in found]
    for kind, name in (("other", OTHER), ("none", NO_LABEL)):
        if (kind, name) in found:
            out.append({"label": name, "kind": kind, "colour": BAND_COLOURS[kind], "roster": False})
    return out


def share_matrix(shares: pd.DataFrame, drawn: list[dict]) -> tuple[list, np.ndarray]:
    """The dates and, per band, its share on each date (0 where it has none), one row per band."""
    dates = sorted(shares["date"].unique())
    wide = shares.pivot_table(index="date", columns=["kind", "label"], values="share", aggfunc="sum")
    wide = wide.reindex(dates).fillna(0.0)
    rows = [wide[(b["kind"], b["label"])].to_numpy(dtype=float) for b in drawn]
    return dates, np.vstack(rows) if rows else np.zeros((0, len(dates)))


def share_figure(data: dict) -> w.VBox:
    """The stacked area of the bands' shares per ranking date (0 to 100 %), with its legend."""
    drawn = bands(data)
    dates, matrix = share_matrix(data["shares"], drawn)
    tops = np.vstack([np.zeros(len(dates)), np.cumsum(matrix, axis=0)])
    sx, sy = bq.DateScale(), bq.LinearScale(min=0.0, max=1.0)
    area = bq.Lines(x=pd.to_datetime(pd.Series(dates)).to_numpy(), y=tops, scales={"x": sx, "y": sy},
                    fill="between", colors=["white"] * len(tops), fill_colors=[b["colour"] for b in drawn],
                    fill_opacities=[0.9] * len(drawn), stroke_width=0.6,
                    labels=["", *[b["label"] for b in drawn]])
    axes = [bq.Axis(scale=sx, side="bottom", tick_format="%d %b", grid_lines="none", color=MUTED, num_ticks=6),
            bq.Axis(scale=sy, side="left", tick_format=".0%", grid_lines="dashed", grid_color="#e5e7eb",
                    color=MUTED, tick_values=[0.0, 0.25, 0.5, 0.75, 1.0])]
    figure = bq.Figure(marks=[area], axes=axes, display_toolbar=False, padding_x=0.0, padding_y=0.0,
                       fig_margin={"top": 16, "bottom": 36, "left": 56, "right": 20},
                       layout=w.Layout(width="100%", height="340px"))
    keys = "".join(f'<span class="sc-key"><i style="background:{b["colour"]}"></i>{html.escape(b["label"])}'
                   f'{" " + ROSTER_MARK if b["roster"] else ""}</span>' for b in reversed(drawn))
    return styled(w.VBox([figure, w.HTML(f'<div class="sc-legend label-legend">{keys}</div>')]), "sc-lines")


def scope_name(data: dict) -> str:
    scope = data["scope"]
    if scope["chart"]:
        return f"the chart {scope['chart_name']}"
    return f"the {scope['platform']} charts" if scope["platform"] else "every stored chart"


def labels_body(data: dict) -> w.Widget:
    """The share figure and the top labels, or a state that says what is missing."""
    if data["end"] is None:
        return empty_state("<b>No ranking of these charts is stored yet</b>: run <code>soundcharts sync-charts</code>")
    period = f"{day(data['start'])} → {day(data['end'])}"
    if data["labels"].empty:
        return empty_state(f"<b>No labels are stored for the tracks of {html.escape(scope_name(data))}</b> "
                           f"({period}): run <code>soundcharts fetch-metadata</code>")
    unknown = data["unlabelled"] / data["entries"] * 100 if data["entries"] else 0.0
    summary = nothing(f"{data['entries']:,} chart entries on {scope_name(data)}, {period} ({data['days']} days); "
                      f"{unknown:.1f}% of them are of tracks without a stored label. A track with several labels "
                      "counts in full for each in Entries and is split between them in Share.")
    figure = card("Share of chart entries by label", summary, share_figure(data), css_class="label-share",
                  downloads=[downloads("label-shares", data["shares"], "Shares")])
    roster_note = f" {ROSTER_MARK}: a label of your roster's tracks." if data["roster"] else ""
    before = f"{day(data['start'] - timedelta(days=data['days']))} → {day(data['start'] - timedelta(days=1))}"
    trend = f"entries vs the {data['days']} days before ({before})" if data["before_stored"] else \
        f"no ranking of these charts is stored for the {data['days']} days before ({before})"
    note = nothing(f"Trend: {trend}.{roster_note}")
    rows = data["labels"].assign(before_stored=data["before_stored"])
    table = card("Top labels", note, styled(w.VBox([w.HTML(html_table(rows, LABEL_COLUMNS))]), "sc-tall"),
                 css_class="top-labels", downloads=[downloads("labels", data["labels"], "Labels")])
    return stack([figure, table])


class LabelsView:
    """The labels page body. ``load(platform=, chart=, days=)`` returns
    :func:`soundcharts_lib.warehouse.labels.label_share`'s dict; ``scopes`` is
    :func:`soundcharts_lib.warehouse.labels.scopes`' frame. The platform, chart and period controls load another
    scope (errors show in the body)."""

    def __init__(self, load: Callable[..., dict], scopes: pd.DataFrame, *, platform: str | None = None,
                 chart: str | None = None, days: int = DEFAULT_DAYS):
        self._load, self.scopes = load, scopes
        self.settings = {"platform": platform, "chart": chart, "days": days}
        platforms = scopes.drop_duplicates("platform")
        self.platform = styled(w.Dropdown(
            options=[("All platforms", ""), *zip(platforms["platform_name"], platforms["platform"], strict=True)],
            description="Platform", layout=w.Layout(width="auto")), "labels-platform")
        self.chart = styled(w.Dropdown(description="Chart", layout=w.Layout(width="auto")), "labels-chart")
        self.days = styled(w.Dropdown(options=[(f"{n} days", n) for n in sorted({*DAY_CHOICES, days})],
                                      description="Period", layout=w.Layout(width="auto")), "labels-days")
        self.permalink = styled(w.HTML(), "permalink")
        self.body = w.VBox(layout=w.Layout(width="100%"))
        controls = styled(w.HBox([self.platform, self.chart, self.days, self.permalink]), "sc-controls")
        self.widget = stack([card("Scope", controls, css_class="labels-scope"), self.body])
        self._quiet = False
        self.platform.observe(self._platform_changed, "value")
        for control in (self.chart, self.days):
            control.observe(lambda _: self.reload(), "value")

    def render(self) -> w.Widget:
        """Read the scope's data and build the body (an unknown scope raises before any control is set)."""
        data = self._load(**self.settings)
        self._set_controls(data["scope"])
        self.body.children = [labels_body(data)]
        return self.widget

    def reload(self) -> None:
        """Read the data of the controls' scope again."""
        if self._quiet:
            return
        self.settings = {"platform": self.platform.value or None, "chart": self.chart.value or None,
                         "days": self.days.value}
        self.body.children = [loading_state()]
        with guarded(lambda state: setattr(self.body, "children", [state])):
            self.render()

    def _platform_changed(self, _change) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self.chart.options, self.chart.value = self._chart_options(self.platform.value or None), ""
        finally:
            self._quiet = False
        self.reload()

    def _chart_options(self, platform: str | None) -> list:
        charts = self.scopes if platform is None else self.scopes[self.scopes["platform"] == platform]
        return [("All charts", ""), *zip(charts["chart_name"], charts["chart"], strict=True)]

    def _set_controls(self, scope: dict) -> None:
        platform, chart = scope["platform"], scope["chart"]
        self._quiet = True
        try:  # a scope without a stored ranking is not among the choices: it is added
            if (platform or "") not in [value for _, value in self.platform.options]:
                self.platform.options = [*self.platform.options, (platform, platform)]
            self.platform.value = platform or ""
            charts = self._chart_options(platform)
            self.chart.options = charts if (chart or "") in [value for _, value in charts] else [
                *charts, (scope["chart_name"], chart)]
            self.chart.value = chart or ""
            self.days.value = self.settings["days"]
        finally:
            self._quiet = False
        href = dashboard_link("labels.ipynb", platform=platform, chart=chart, days=self.settings["days"])
        self.permalink.value = f'<span class="sc-sub">{link(href, "link to this view")}</span>'

