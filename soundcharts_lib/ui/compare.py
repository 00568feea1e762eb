"""The compare dashboard (``compare.ipynb?tracks=U1,U2[,…]`` or ``?artists=A1,A2``): up to six tracks or artists
side by side: their audience per platform overlaid (values, or indexed to 100 at a chosen date), their positions on
the charts they share, and their key figures in one table. A link may add ``mode=indexed`` and ``index=YYYY-MM-DD``;
UUIDs may also be repeated (``tracks=U1&tracks=U2``: what the "compare with…" picker sends).

:class:`CompareView` gets a loader around :func:`soundcharts_lib.warehouse.compare_pages.compare`; it never reads the
database. :func:`compare_picker` is the "compare with…" card of the track and artist pages.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qsl

import ipywidgets as w
import pandas as pd

from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    first,
    grid,
    guarded,
    html_card,
    html_table,
    link,
    loading_state,
    nothing,
    nothing_html,
    number,
    stack,
    styled,
    text,
)
from soundcharts_lib.ui.figures import lines_chart
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.vocab import UUID_RE
from soundcharts_lib.warehouse.compare_pages import (
    CANDIDATE_RANKINGS,
    KINDS,
    MAX_ITEMS,
    SHARED_COLUMNS,
    default_index_date,
    figures_frame,
    indexed_to,
)

MODES = {"Values": "values", "Indexed to 100": "indexed"}
PAGES = {"tracks": "track.ipynb", "artists": "artist.ipynb"}
SHOWN_BAD = 6  # malformed values named in the message


def _listed(values: list[str]) -> str:
    shown = ", ".join(repr(v[:40]) for v in values[:SHOWN_BAD])
    return shown + (f" and {len(values) - SHOWN_BAD} more" if len(values) > SHOWN_BAD else "")


def compare_query(query: Query) -> dict:
    """What a link compares: ``kind`` (tracks or artists), ``uuids`` (lower case, in order, without repeats), ``mode``
    (values or indexed) and ``index`` (a date or None); ``BadQuery`` names what is wrong: both kinds or none, values
    that are not UUIDs, more than :data:`MAX_ITEMS`."""
    given = {kind: [part.strip() for raw in query.values.get(kind, []) for part in raw.split(",") if part.strip()]
             for kind in KINDS}
    kinds = [kind for kind in KINDS if given[kind]]
    if len(kinds) != 1:
        raise BadQuery("give tracks or artists to compare, not both" if kinds else
                       "the link has nothing to compare: add ?tracks=UUID1,UUID2 (or ?artists=UUID1,UUID2) to its "
                       "address, or use 'compare with' on a track or artist page")
    kind = kinds[0]
    bad = [value for value in given[kind] if not UUID_RE.match(value)]
    if bad:
        raise BadQuery(f"{kind} must be SoundCharts UUIDs; not one: {_listed(bad)}")
    uuids = list(dict.fromkeys(value.lower() for value in given[kind]))
    if len(uuids) > MAX_ITEMS:
        raise BadQuery(f"at most {MAX_ITEMS} {kind} can be compared; the link has {len(uuids)}: leave out "
                       f"{', '.join(uuids[MAX_ITEMS:])}")
    mode = query.text("mode") or "values"
    if mode not in MODES.values():
        raise BadQuery(f"mode must be values or indexed, got {mode[:40]!r}")
    return {"kind": kind, "uuids": uuids, "mode": mode, "index": query.date("index")}


def compare_picker(kind: str, uuid: str, candidates: pd.DataFrame) -> w.HTML:
    """The "compare with…" card of a track or artist page: a form that opens the compare page with ``uuid`` and the
    one chosen among ``candidates`` (uuid, name, sub). A plain form: it needs no kernel."""
    if candidates.empty:
        return html_card("Compare", nothing_html(f"No other {kind[:-1]} was on the same charts lately."),
                         css_class="compare-picker")
    hidden = [(kind, uuid), *parse_qsl(dashboard_link("compare.ipynb").partition("?")[2])]  # theme, roster
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden)
    options = "".join(f'<option value="{html.escape(row.uuid)}">{text(row.name, 120)}'
                      f'{" — " + text(row.sub, 120) if row.sub else ""}</option>' for row in candidates.itertuples())
    form = (f'<form class="compare-form" action="compare.ipynb" method="get">{inputs}'
            f'<label class="sc-sub">Compare with<br><select name="{kind}" style="max-width: 100%">{options}</select>'
            f'</label><br><button type="submit">Compare</button></form>')
    return html_card("Compare", form, nothing_html(
        f"The {kind} most often on this {kind[:-1]}'s busiest charts of its last month, in their last "
        f"{CANDIDATE_RANKINGS} rankings."), css_class="compare-picker")


def item_links(data: dict) -> str:
    page = PAGES[data["kind"]]
    return " · ".join(link(dashboard_link(page, uuid=row.uuid), row.label) for row in data["items"].itertuples())


def compare_summary(data: dict) -> w.HTML:
    """Who is compared, and the UUIDs left out because nothing is stored for them."""
    kind = data["kind"]
    body = f'<div class="compare-items">{item_links(data)}</div>'
    if data["unknown"]:
        body += (f'<div class="compare-unknown sc-sub">Not stored, left out: {html.escape(", ".join(data["unknown"]))}'
                 f'</div>')
    if len(data["items"]) == 1:
        body += nothing_html(f"Add another {kind[:-1]} to the link to compare it with.")
    n = len(data["items"])
    return html_card(f"Comparing {n} {kind if n != 1 else kind[:-1]}", body, css_class="compare-summary")


def panel_title(key: tuple[str, str]) -> str:
    metric, platform = key
    return f"{platform} · {metric}"


def _shared_table(data: dict) -> str:
    labels = data["items"]["label"].tolist()
    columns = [Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["chart"]), r["chart_name"])),
               Column("Platform", lambda r: text(r["platform"])),
               Column("Country", lambda r: text(first(r["country_code"], "Global"))),
               *[Column(f"Best · {label}", lambda r, label=label: number(r[label]) or "–", True) for label in labels]]
    return html_table(data["shared"], columns)


def shared_charts(data: dict) -> w.VBox:
    """Positions over time on the shared charts (a tab each, rank 1 on top) and the table of them all."""
    shared, kind = data["shared"], data["kind"]
    if shared.empty:
        return card("Charts they share", nothing(f"These {kind} were never on the same stored chart."),
                    css_class="compare-charts")
    names = dict(zip(shared["chart"], shared["chart_name"], strict=True))
    figures = [lines_chart(by_item, "position", reverse=True, y_format="d") for by_item in data["positions"].values()]
    tabs = styled(w.Tab(children=figures), "sc-tabs")
    tabs.titles = tuple(names[chart] for chart in data["positions"])
    how = "their best track's position" if kind == "artists" else "position"
    note = nothing(f"{len(shared):,} charts held at least two of them; {how} by ranking date, 1 is the top.")
    table = styled(w.VBox([w.HTML(_shared_table(data))]), "sc-tall")
    export = shared.rename(columns={label: f"best: {label}" for label in shared.columns[len(SHARED_COLUMNS):]})
    return card("Charts they share", note, tabs, table, css_class="compare-charts",
                downloads=[downloads("compare-charts", export, "Charts")])


def _figure_cell(kind: str, value) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return '<span class="sc-sub">–</span>'
    if kind == "number":
        return number(value)
    if kind == "pct":
        tone = "up" if value > 0 else "down" if value < 0 else "flat"
        return f'<span class="sc-arrow-{tone}">{value:+.2f}%</span>'
    return day(value) if kind == "date" else text(value) or '<span class="sc-sub">–</span>'


def key_figures(data: dict) -> w.VBox:
    """The key figures side by side: a row per figure, a column per item."""
    labels = data["items"]["label"].tolist()
    rows = pd.DataFrame({"figure": [name for name, _, _ in data["figures"]],
                         **{str(i): [_figure_cell(kind, values[i]) for _, kind, values in data["figures"]]
                            for i in range(len(labels))}})
    columns = [Column("", lambda r: text(r["figure"]), nowrap=True),
               *[Column(label, lambda r, i=i: r[str(i)], True) for i, label in enumerate(labels)]]
    return card("Key figures", w.HTML(html_table(rows, columns)), css_class="compare-figures",
                downloads=[downloads("compare-figures", figures_frame(data), "Figures")])


class CompareView:
    """The compare page body. ``load(kind, uuids)`` returns :func:`compare_pages.compare`'s dict; ``mode`` (values
    or indexed) and ``index`` (a date; default: the latest first day of the series shown) set the audience figures,
    which the mode and date controls redraw."""

    def __init__(self, load: Callable[[str, list[str]], dict], kind: str, uuids: list[str], *, mode: str = "values",
                 index: date | None = None):
        self._load, self.kind, self.uuids = load, kind, uuids
        self.mode, self.index = mode, index
        self.data: dict = {}
        self.widget = stack([])
        self.modes = styled(w.ToggleButtons(options=list(MODES), value=next(k for k, v in MODES.items() if v == mode)),
                            "compare-mode")
        self.picker = styled(w.DatePicker(description="Index date", value=index, layout=w.Layout(width="auto")),
                             "compare-index")
        self.audience_body = w.VBox(layout=w.Layout(width="100%"))
        self.modes.observe(lambda change: self.redraw(mode=MODES[change["new"]]), "value")
        self.picker.observe(lambda change: self.redraw(index=change["new"]), "value")
        self._quiet = False

    def render(self) -> w.Widget:
        self.data = self._load(self.kind, self.uuids)
        self._quiet = True
        try:
            self.index = self.index or default_index_date(self.data["panels"])
            self.picker.value = self.index
        finally:
            self._quiet = False
        self._draw_audience()
        self.widget.children = [grid([compare_summary(self.data)], min_width="320px"), self._audience_card(),
                                shared_charts(self.data), key_figures(self.data)]
        return self.widget

    def redraw(self, *, mode: str | None = None, index: date | None = None) -> None:
        """Draw the audience figures again in another mode or indexed to another date."""
        if self._quiet:
            return
        self.mode = mode or self.mode
        self.index = index or self.index
        self.audience_body.children = [loading_state()]
        with guarded(lambda state: setattr(self.audience_body, "children", [state])):
            self._draw_audience()

    def _draw_audience(self) -> None:
        panels = self.data["panels"]
        if not panels:
            return
        if self.mode == "indexed":
            figures = [lines_chart({label: indexed_to(frame, self.index) for label, frame in by_item.items()},
                                   "indexed", y_format=".0f") for by_item in panels.values()]
            note = (f"100 = each one's last value on or before {day(self.index)}; a line is missing where there is "
                    "none.")
        else:
            figures = [lines_chart(by_item, "value") for by_item in panels.values()]
            note = "Values as stored: running totals (audience, followers); monthly listeners go up and down."
        tabs = styled(w.Tab(children=figures), "sc-tabs")
        tabs.titles = tuple(panel_title(key) for key in panels)
        self.audience_body.children = [nothing(note), tabs]

    def _audience_card(self) -> w.VBox:
        what = "audience" if self.kind == "tracks" else "followers or monthly listeners"
        if not self.data["panels"]:
            command = "fetch-audience" if self.kind == "tracks" else "fetch-artists"
            return card("Audience", nothing(f"No {what} stored for these {self.kind} yet: run soundcharts {command}."),
                        css_class="compare-audience")
        controls = styled(w.HBox([self.modes, self.picker]), "sc-controls")
        return card("Audience", controls, self.audience_body, css_class="compare-audience")
