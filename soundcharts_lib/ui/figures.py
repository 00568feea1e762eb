"""Shared bqplot pieces."""

from __future__ import annotations

import html
import math

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from soundcharts_lib.ui.common import MUTED, styled


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to at least ``top``, about ``count`` steps of 1, 2 or 5 x 10^k."""
    top = max(top, 1.0)
    power = 10 ** max(math.floor(math.log10(top / count)), 0)
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= top / count)
    return [i * step for i in range(math.ceil(top / step) + 1)]


PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#4b5563"]


def integer_ticks(low: float, high: float, most: int = 6) -> list[int]:
    """At most ``most`` whole numbers from ``low`` to ``high``, evenly spaced, starting at ``low`` rounded up."""
    first, last = math.ceil(low), math.floor(high)
    step = max(1, math.ceil((last - first) / (most - 1))) if last > first else 1
    return list(range(first, last + 1, step))


def lines_chart(series: dict[str, pd.DataFrame], y: str, *, reverse: bool = False, y_format: str = "~s",
                height: str = "320px", gaps: bool = False) -> w.VBox:
    """One line with dots per label of ``series`` (each a frame with ``date`` and the ``y`` column, NA dropped) on a
    shared date axis, and a legend under it; ``reverse`` puts the smallest value on top (chart positions); ``gaps``:
    a day without a value between two dates breaks the line (dates ascending)."""
    sx = bq.DateScale()
    values = [v for frame in series.values() for v in frame[y].dropna().astype(float)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    sy = bq.LinearScale(reverse=reverse, min=low if reverse else min(low, 0.0), max=max(high, low + 1.0))
    marks, keys = [], []
    for i, (label, frame) in enumerate(series.items()):
        rows = frame.dropna(subset=[y])
        colour = PALETTE[i % len(PALETTE)]
        x, ys = pd.to_datetime(rows["date"]).to_numpy(), rows[y].to_numpy(dtype=float)
        if gaps:  # bqplot draws no line through a NaN: one on the day after each point a gap follows
            after = np.flatnonzero(np.diff(x) > np.timedelta64(1, "D")) + 1
            x, ys = np.insert(x, after, x[after - 1] + np.timedelta64(1, "D")), np.insert(ys, after, np.nan)
        marks.append(bq.Lines(x=x, y=ys,
                              scales={"x": sx, "y": sy}, colors=[colour], labels=[label], marker="circle",
                              marker_size=16, stroke_width=2, tooltip=bq.Tooltip(fields=["name"], labels=[""])))
        keys.append(f'<span class="sc-key"><i style="background:{colour}"></i>{html.escape(label)}</span>')
    y_axis = bq.Axis(scale=sy, side="left", tick_format=y_format, grid_lines="dashed", grid_color="#e5e7eb",
                     color=MUTED, num_ticks=5)
    if y_format == "d":  # whole numbers only: d3's ticks at 1.5, 2.5 … would print as repeated integers
        y_axis.tick_values = integer_ticks(sy.min, sy.max)
    elif y_format == "~s" and not reverse and sy.min == 0:  # round ticks up to a round top (bqplot's own, on a
        y_axis.tick_values = nice_ticks(sy.max)              # domain ending at the largest value, are not)
        sy.max = float(y_axis.tick_values[-1])
    axes = [bq.Axis(scale=sx, side="bottom", tick_format="%d %b", grid_lines="none", color=MUTED, num_ticks=6),
            y_axis]
    figure = bq.Figure(marks=marks, axes=axes, display_toolbar=False,
                       fig_margin={"top": 16, "bottom": 36, "left": 56, "right": 20},
                       layout=w.Layout(width="100%", height=height))
    return styled(w.VBox([figure, w.HTML(f'<div class="sc-legend">{"".join(keys)}</div>')]), "sc-lines")
