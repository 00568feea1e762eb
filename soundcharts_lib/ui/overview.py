"""The overview dashboard: rankings per day, week comparison, top platforms and tracks, chart health.

Builders take what :func:`soundcharts_lib.analytics.overview` returns; they never read the database.
"""

from __future__ import annotations

import html
import math

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from .common import (
    BLUE,
    INK,
    LIGHT_BLUE,
    MUTED,
    RANK,
    Column,
    card,
    dashboard_link,
    empty_state,
    grid,
    html_table,
    link,
    number,
    styled,
    text,
)

EMPTY_MESSAGE = ("<b>No data yet</b>: run <code>make demo</code> or "
                 "<code>soundcharts sync-charts --backfill-days 28</code>")


def build_overview(data: dict) -> w.Widget:
    """The whole page body, or the empty state when nothing has been synced."""
    if not data["has_data"]:
        return empty_state(EMPTY_MESSAGE)
    return w.VBox([
        grid([week_comparison(data["weeks"]), chart_health(data["health"])]),
        rankings_per_day(data["per_day"]),
        grid([top_platforms(data["platforms"]), top_tracks(data["tracks"])], min_width="420px"),
    ], layout=w.Layout(grid_gap="16px", width="100%"))


def rankings_figure(per_day: pd.DataFrame) -> bq.Figure:
    """Area chart of rankings per day: a blue line over a two-layer fill, labelled points with tooltips."""
    x = pd.to_datetime(per_day["date"]).to_numpy()
    y = per_day["rankings"].to_numpy(dtype=float)
    ticks = nice_ticks(float(y.max(initial=0)) * 1.15)
    half_day = np.timedelta64(12, "h")
    sx = bq.DateScale(min=x.min() - half_day, max=x.max() + half_day)
    sy = bq.LinearScale(min=0.0, max=ticks[-1])
    scales = {"x": sx, "y": sy}
    base = bq.Lines(x=x, y=y, scales=scales, fill="bottom", colors=[BLUE], fill_colors=[LIGHT_BLUE],
                    fill_opacities=[0.25], stroke_width=3)
    glow = bq.Lines(x=x, y=np.vstack([y, y * 0.55]), scales=scales, fill="between", colors=[LIGHT_BLUE, LIGHT_BLUE],
                    fill_colors=[BLUE], fill_opacities=[0.12], stroke_width=0)
    tooltip = bq.Tooltip(fields=["x", "y"], labels=["Date", "Rankings"], formats=["%a %d %b %Y", ",.0f"])
    points = bq.Scatter(x=x, y=y, scales=scales, colors=["white"], stroke=BLUE, stroke_width=2.5,
                        default_size=70, tooltip=tooltip, hovered_style={"fill": BLUE})
    labels = bq.Label(x=x, y=y, scales=scales, text=[f"{int(v):,}" for v in y], y_offset=-14,
                      align="middle", colors=[INK], default_size=12, font_weight="bold")
    x_axis = bq.Axis(scale=sx, side="bottom", tick_format="%a %d %b", tick_values=x, grid_lines="none", color=MUTED)
    y_axis = bq.Axis(scale=sy, side="left", tick_format=",d", tick_values=ticks,
                     grid_lines="dashed", grid_color="#e5e7eb", color=MUTED)
    return bq.Figure(marks=[glow, base, points, labels], axes=[x_axis, y_axis], display_toolbar=False,
                     fig_margin={"top": 24, "bottom": 36, "left": 56, "right": 28},
                     background_style={"fill": "white"},
                     layout=w.Layout(width="100%", height="300px"))


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to at least ``top``, about ``count`` steps of 1, 2 or 5 x 10^k."""
    top = max(top, 1.0)
    power = 10 ** max(math.floor(math.log10(top / count)), 0)
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= top / count)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def rankings_per_day(per_day: pd.DataFrame) -> w.VBox:
    total = int(per_day["rankings"].sum())
    sub = w.HTML(f'<div class="sc-sub">{total:,} chart rankings stored over the last '
                 f'{len(per_day)} days, by the charts\' own dates</div>')
    return card("Rankings per day", sub, rankings_figure(per_day), css_class="rankings-per-day")


def week_comparison(weeks: dict) -> w.VBox:
    change = weeks["change_pct"]
    if change is None:
        pill = '<span class="sc-pill sc-flat">–</span>no rankings the week before'
    else:
        arrow, tone = ("▲", "sc-up") if change > 0 else ("▼", "sc-down") if change < 0 else ("■", "sc-flat")
        shown = f"{change:+.1f}" if change else "0.0"
        pill = f'<span class="sc-pill {tone}">{arrow} {shown}%</span>vs previous week'
    body = w.HTML(f'<div class="sc-kpi">{weeks["this_week"]:,}</div>'
                  f'<div class="sc-sub">{pill} ({weeks["previous_week"]:,} rankings)</div>')
    return card("Rankings this week", body, css_class="week-comparison")


def chart_health(health: dict) -> w.VBox:
    active, total, pct = health["active"], health["total"], health["pct_active"]
    if not total:
        body = w.HTML('<div class="sc-kpi">0</div><div class="sc-sub">No charts discovered yet</div>')
    else:
        body = w.HTML(f'<div class="sc-kpi">{active:,} <span class="sc-sub">of {total:,} charts active</span>'
                      f'</div><div class="sc-sub">{pct:.1f}% active</div>'
                      f'<div class="sc-meter"><div style="width:{pct:.1f}%"></div></div>')
    return card("Chart health", body, css_class="chart-health")


def top_platforms(platforms: pd.DataFrame) -> w.VBox:
    """A Tab: the ranked table (with share bars and links) and a bar chart."""
    if platforms.empty:
        return card("Top platforms · 30 days", _nothing("No rankings in the last 30 days."),
                    css_class="top-platforms")
    total = int(platforms["rankings"].sum())
    columns = [
        RANK,
        Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["slug"]), r["name"])),
        Column("Rankings", lambda r: number(r["rankings"]), numeric=True),
        Column("Share", lambda r: _share_bar(r["rankings"], total)),
    ]
    table = w.HTML(html_table(platforms, columns))
    tabs = styled(w.Tab(children=[table, platforms_figure(platforms)]), "sc-tabs")
    tabs.titles = ("Table", "Chart")
    return card("Top platforms · 30 days", tabs, css_class="top-platforms")


def platforms_figure(platforms: pd.DataFrame) -> bq.Figure:
    """Horizontal bars, largest on top, each labelled with its count (names stay readable)."""
    names = [str(n) for n in platforms["name"]]
    counts = platforms["rankings"].to_numpy(dtype=float)
    ticks = nice_ticks(float(counts.max()) * 1.15)
    s_name, s_count = bq.OrdinalScale(reverse=True), bq.LinearScale(min=0.0, max=ticks[-1])
    bars = bq.Bars(x=names, y=counts, scales={"x": s_name, "y": s_count}, orientation="horizontal",
                   colors=[BLUE], padding=0.3, label_display=True, label_display_format=",.0f",
                   label_display_vertical_offset=6,  # bqplot: for horizontal bars this moves labels right
                   label_font_style={"font-weight": "bold", "font-size": "12px", "fill": INK, "text-anchor": "start"},
                   tooltip=bq.Tooltip(fields=["x", "y"], labels=["Platform", "Rankings"], formats=["", ",.0f"]))
    axes = [bq.Axis(scale=s_name, side="left", color=MUTED),
            bq.Axis(scale=s_count, side="bottom", tick_format=",d", tick_values=ticks, grid_lines="dashed",
                    grid_color="#e5e7eb", color=MUTED)]
    return bq.Figure(marks=[bars], axes=axes, display_toolbar=False,
                     fig_margin={"top": 10, "bottom": 30, "left": 110, "right": 24},
                     layout=w.Layout(width="100%", height=f"{60 + 34 * len(names)}px"))


def top_tracks(tracks: pd.DataFrame) -> w.VBox:
    if tracks.empty:
        return card("Top tracks · 30 days", _nothing("No chart entries in the last 30 days."),
                    css_class="top-tracks")
    columns = [
        RANK,
        Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
        Column("Artist", lambda r: text(r["artist"])),
        Column("Appearances", lambda r: number(r["appearances"]), numeric=True),
    ]
    return card("Top tracks · 30 days", w.HTML(html_table(tracks, columns)), css_class="top-tracks")


def _share_bar(value, total: int) -> str:
    pct = value / total * 100 if total else 0.0
    return (f'<div class="sc-share"><div class="sc-track"><div class="sc-bar" style="width:{pct:.0f}%"></div></div>'
            f'<span>{pct:.1f}%</span></div>')


def _nothing(message: str) -> w.HTML:
    return w.HTML(f'<div class="sc-sub">{html.escape(message)}</div>')
