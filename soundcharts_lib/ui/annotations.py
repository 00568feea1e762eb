"""Annotations drawn on a date figure: a dashed vertical line per note, its kind on top, its text on hover; and
the list of a track's notes."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from soundcharts_lib.ui.common import Column, card, day, html_table, nothing, pill, text

NOTE_COLOUR = "#d97706"


def annotation_marks(notes: pd.DataFrame, x_scale: bq.Scale) -> list[bq.Mark]:
    """Marks for ``notes`` (date, kind, text: :func:`curation.annotations.for_track`) on ``x_scale``; the
    lines span the figure's height whatever its y scale."""
    if notes.empty:
        return []
    span = bq.LinearScale(min=0.0, max=1.0)
    scales = {"x": x_scale, "y": span}
    days = pd.to_datetime(notes["date"]).to_numpy()
    lines = [bq.Lines(x=[day, day], y=[0.0, 1.0], scales=scales, colors=[NOTE_COLOUR], line_style="dashed",
                      stroke_width=1.5, labels=[f"{kind}: {text}"], display_legend=False,
                      tooltip=bq.Tooltip(fields=["name"], labels=[""]))
             for day, kind, text in zip(days, notes["kind"], notes["text"], strict=True)]
    label = bq.Label(x=days, y=[0.97] * len(days), text=list(notes["kind"]), scales=scales, colors=[NOTE_COLOUR],
                     default_size=11, x_offset=3, align="start")
    return [*lines, label]


def annotate(chart: w.Widget, notes: pd.DataFrame) -> w.Widget:
    """Add the ``notes`` dated within the data of the first figure in ``chart`` (a ``bq.Figure`` or a box holding
    one, such as ``ui.figures.lines_chart``'s) on its date scale, so that a note never stretches the axis;
    ``chart`` is returned (unchanged without notes or data)."""
    figure = chart if isinstance(chart, bq.Figure) else next(
        (c for c in getattr(chart, "children", ()) if isinstance(c, bq.Figure)), None)
    days = [] if figure is None else [pd.Timestamp(x) for m in figure.marks for x in np.ravel(m.x)]
    if not days or notes.empty:
        return chart
    shown = notes[pd.to_datetime(notes["date"]).between(min(days), max(days))]
    figure.marks = [*figure.marks, *annotation_marks(shown, figure.marks[0].scales["x"])]
    return chart


NOTE_COLUMNS = [Column("Date", lambda r: day(r["date"]), nowrap=True),
                Column("Kind", lambda r: pill(r["kind"], "warn")), Column("Note", lambda r: text(r["text"]))]


def notes_card(notes: pd.DataFrame) -> w.VBox:
    """The track's notes as a list (they are drawn on its figures too)."""
    return card("Notes", nothing("Dated notes on this track, drawn as dashed lines on its charts."),
                w.HTML(html_table(notes, NOTE_COLUMNS)), css_class="track-notes")
