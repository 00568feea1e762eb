"""The platform dashboard (``platform.ipynb?slug=``): its charts with health, rankings over time, top tracks.

Builders take what :func:`soundcharts_lib.warehouse.analytics.platform_page` returns; they never read the database.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from soundcharts_lib.ui.common import (
    BLUE,
    MUTED,
    RANK,
    RED,
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    first,
    grid,
    link,
    number,
    pill,
    stack,
    table_card,
    text,
)
from soundcharts_lib.ui.credits import artists_column
from soundcharts_lib.ui.figures import nice_ticks
from soundcharts_lib.ui.labels import labels_link
from soundcharts_lib.ui.roster_filter import ROSTER_TITLE

DATE_TICKS = 6  # bqplot labels every date of an ordinal scale unless num_ticks thins them out


def build_platform(data: dict) -> w.Widget:
    """The page body (``data``: :func:`soundcharts_lib.warehouse.viewer_pages.platform_page`)."""
    charts = data["charts"]
    return stack([
        grid([platform_summary(data["platform"], charts), rankings_over_time(data["per_day"])], min_width="360px"),
        platform_charts(charts),
        platform_tracks(data["tracks"], data["roster"], data["credits"]),
    ])


def health_counts(charts: pd.DataFrame) -> dict:
    """Charts, active, stale (active and late) and failing (consecutive failures > 0)."""
    return {"charts": len(charts), "active": int(charts["is_active"].astype(bool).sum()),
            "stale": int(charts["stale"].sum()), "failing": int((charts["consecutive_failures"] > 0).sum())}


def platform_summary(platform: dict, charts: pd.DataFrame) -> w.VBox:
    counts = health_counts(charts)
    audience = "yes" if platform["supports_audience"] else "no"
    share = labels_link("labels' share of its charts", platform=platform["slug"])
    body = w.HTML(
        f'<h2>{html.escape(platform["name"])}</h2><div class="sc-sub">code <code>{html.escape(platform["slug"])}'
        f'</code> · song audience: {audience} · {share}</div>'
        f'<div class="sc-kpi">{counts["active"]:,} <span class="sc-sub">of {counts["charts"]:,} charts active</span>'
        f'</div><div>{pill(str(counts["stale"]) + " stale", "warn" if counts["stale"] else "flat")}'
        f'{pill(str(counts["failing"]) + " failing", "down" if counts["failing"] else "flat")}</div>')
    return card("Platform", body, css_class="platform-summary")


def rankings_figure(per_day: pd.DataFrame) -> bq.Figure:
    """Stacked bars per ranking date: stored (blue) and failed (red)."""
    x = [pd.Timestamp(d).strftime("%d %b") for d in per_day["date"]]
    y = np.vstack([per_day["stored"].to_numpy(dtype=float), per_day["failed"].to_numpy(dtype=float)])
    ticks = nice_ticks(float(y.sum(axis=0).max(initial=0)) * 1.1)
    sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=ticks[-1])
    bars = bq.Bars(x=x, y=y, scales={"x": sx, "y": sy}, type="stacked", colors=[BLUE, RED], padding=0.25,
                   labels=["Stored", "Failed"],
                   tooltip=bq.Tooltip(fields=["x", "y"], labels=["Date", "Rankings"], formats=["", ",.0f"]))
    x_axis = bq.Axis(scale=sx, side="bottom", num_ticks=DATE_TICKS, grid_lines="none", color=MUTED)
    y_axis = bq.Axis(scale=sy, side="left", tick_format=",d", tick_values=ticks, grid_lines="dashed",
                     grid_color="#e5e7eb", color=MUTED)
    return bq.Figure(marks=[bars], axes=[x_axis, y_axis], display_toolbar=False,
                     fig_margin={"top": 10, "bottom": 30, "left": 50, "right": 12},
                     layout=w.Layout(width="100%", height="240px"))


def rankings_over_time(per_day: pd.DataFrame) -> w.VBox:
    stored, failed = int(per_day["stored"].sum()), int(per_day["failed"].sum())
    sub = w.HTML(f'<div class="sc-sub">{stored:,} rankings stored, {failed:,} failed over the last {len(per_day)} '
                 f'days, by the charts\' own dates</div>')
    return card("Rankings per day", sub, rankings_figure(per_day), css_class="platform-rankings",
                downloads=[downloads("platform-rankings", per_day)])


def chart_state(row: pd.Series) -> str:
    """A health pill: inactive, failing (n), stale or ok."""
    if not row["is_active"]:
        return pill("inactive", "flat")
    if row["consecutive_failures"]:
        return pill(f"failing ({int(row['consecutive_failures'])})", "down")
    return pill("stale", "warn") if row["stale"] else pill("ok", "up")


def platform_charts(charts: pd.DataFrame) -> w.VBox:
    columns = [
        Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["slug"]), r["name"])),
        Column("Country", lambda r: text(first(r["country_code"], "Global"))),
        Column("Frequency", lambda r: text(r["frequency"])),
        Column("Last ranking", lambda r: day(r["last_ranking_date"]), nowrap=True),
        Column("Health", chart_state),
        Column("Last error", lambda r: text(r["last_error"], 120)),
    ]
    return table_card("Charts", "platform-charts", charts, columns, css_class="platform-charts",
                      empty="No charts discovered on this platform yet: run soundcharts sync-charts")


def platform_tracks(tracks: pd.DataFrame, mine: bool = False, credits: Mapping | None = None) -> w.VBox:
    """The platform's most-charted tracks (``mine``: the roster's), their artists linked (``credits``)."""
    columns = [
        RANK,
        Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
        artists_column(credits or {}),
        Column("Appearances", lambda r: number(r["appearances"]), numeric=True),
        Column("Best", lambda r: number(r["best_position"]), numeric=True),
        Column("Charts", lambda r: number(r["charts"]), numeric=True),
    ]
    return table_card(f"Top tracks · 30 days{ROSTER_TITLE * mine}", "platform-tracks", tracks, columns,
                      css_class="platform-tracks",
                      empty="None of your roster's tracks charted on this platform in the last 30 days." if mine
                      else "No chart entries on this platform in the last 30 days.")
