"""The track dashboard (``track.ipynb?uuid=``): metadata and artists, chart history across every chart (rank 1 on
top), where it charts now, and its audience on one platform or several (date range, ``limit``, 7 / 28 / 90-day
growth). Deep links may add ``platforms=a,b``, ``start``, ``end`` (YYYY-MM-DD) and ``limit``.

:class:`TrackView` gets loaders around :func:`soundcharts_lib.warehouse.analytics.track_page` and ``track_audience``; it
never reads the database.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

import ipywidgets as w
import pandas as pd

from soundcharts_lib.ui.annotations import annotate, notes_card
from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    empty_state,
    error_message,
    first,
    grid,
    guarded,
    html_table,
    link,
    loading_state,
    missing,
    moment,
    nothing,
    number,
    pill,
    stack,
    styled,
    table_card,
    text,
)
from soundcharts_lib.ui.compare import compare_picker
from soundcharts_lib.ui.credits import artists_html
from soundcharts_lib.ui.figures import lines_chart
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.ui.track_reach import reach_cards, with_forecast
from soundcharts_lib.warehouse import audience_series

HISTORY_LINES = 8
MODES = {"Values": "value", "Indexed to 100": "indexed", "Daily change": "daily_change"}
MAX_LIMIT = 10_000


def audience_query(query: Query) -> dict:
    """The audience settings a deep link may carry: platforms, start, end, limit."""
    start, end = query.date("start"), query.date("end")
    if start and end and start > end:
        raise BadQuery(f"start {start} is after end {end}")
    return {"platforms": query.slugs("platforms"), "start": start, "end": end,
            "limit": query.integer("limit", 1, MAX_LIMIT)}


def _duration(seconds) -> str:
    if missing(seconds):
        return ""
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _listed(values) -> str:
    return text(", ".join(str(v) for v in values)) if isinstance(values, list) else ""


def follow_badge(follow: dict) -> str:
    """Whether the roster follows the track (itself or through its artists); nothing without a roster."""
    if follow["track"] or follow["artists"]:
        how = ["followed as a track"] * follow["track"] + [
            f"through {text(', '.join(follow['artists']))}"] * bool(follow["artists"])
        return f'<div class="roster-state">{pill("★ in your roster", "warn")}<span class="sc-sub">' \
               f'{" and ".join(how)}</span></div>'
    return '<div class="roster-state sc-sub">Not in your roster</div>' if follow["roster"] else ""


IDENTIFIER_COLUMNS = [Column("Platform", lambda r: text(r["platform"])),
                      Column("Identifier", lambda r: link(r["url"], r["identifier"]))]  # linked when it has a URL


def track_summary(track: dict, follow: dict) -> w.VBox:
    artists = artists_html(track["artists"]) or text(track["credit_name"])
    facts = [("Artists", artists), ("ISRC", text(track["isrc"])), ("Released", day(track["release_date"])),
             ("Duration", _duration(track["duration"])), ("Genres", _listed(track["genres"])),
             ("Labels", _listed(track["labels"])),
             ("Explicit", "" if track["explicit"] is None else ("yes" if track["explicit"] else "no"))]
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts if v)
    if track["metadata_fetched_at"] is None:
        note = ('<div class="sc-sub">Metadata not fetched yet: run <code>soundcharts fetch-metadata --track-uuid '
                f'{html.escape(track["uuid"])}</code></div>')
    else:
        note = f'<div class="sc-sub">Metadata fetched {moment(track["metadata_fetched_at"])}</div>'
    body = w.HTML(f'<h2>{html.escape(track["name"])}</h2><div class="sc-sub">{text(track["credit_name"])}</div>'
                  f'{follow_badge(follow)}<dl class="sc-facts">{rows}</dl>{note}')
    parts = [body]
    idents = track["identifiers"]
    if not idents.empty:
        parts.append(w.HTML(html_table(idents, IDENTIFIER_COLUMNS)))
    offered = [downloads("track-identifiers", idents, "Identifiers")] if not idents.empty else []
    return card("Track", *parts, css_class="track-summary", downloads=offered)


def track_kpis(data: dict) -> w.VBox:
    charts, now = data["charts"], data["now"]
    best = number(charts["peak_position"].min()) if len(charts) else "–"
    cells = [("Charts", f"{len(charts):,}"), ("Best position", best),
             ("Chart entries", f"{int(charts['appearances'].sum()) if len(charts) else 0:,}"),
             ("Charting now", f"{len(now):,}")]
    body = "".join(f'<div><div class="sc-sub">{k}</div><div class="sc-kpi">{v}</div></div>' for k, v in cells)
    return card("On the charts", w.HTML(f'<div class="sc-kpis">{body}</div>'), css_class="track-kpis")


def history_figure(history: pd.DataFrame, charts: pd.DataFrame):
    """Position over time on the track's most frequent charts, rank 1 at the top."""
    shown = charts["chart"].head(HISTORY_LINES).tolist()
    names = dict(zip(charts["chart"], charts["chart_name"], strict=True))
    series = {names[slug]: history[history["chart"] == slug] for slug in shown}
    return lines_chart(series, "position", reverse=True, y_format="d")


def chart_history(history: pd.DataFrame, charts: pd.DataFrame, notes: pd.DataFrame,
                  load_history: Callable[[], pd.DataFrame]) -> w.VBox:
    """The track's positions over time with its ``notes`` drawn on, and its charts. ``history`` may hold only the
    figure's charts: the history download then reads every position with ``load_history`` when asked."""
    if history.empty:
        return card("Chart history", nothing("This track has no stored chart entries."), css_class="chart-history")
    columns = [
        Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["chart"], date=r["last_date"]),
                                       r["chart_name"])),
        Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["platform"]), r["platform"])),
        Column("Country", lambda r: text(first(r["country_code"], "Global"))),
        Column("First", lambda r: day(r["first_date"]), nowrap=True),
        Column("Last", lambda r: day(r["last_date"]), nowrap=True),
        Column("Entries", lambda r: number(r["appearances"]), numeric=True),
        Column("Peak", lambda r: number(r["peak_position"]), numeric=True),
        Column("Latest", lambda r: number(r["last_position"]), numeric=True),
    ]
    more = len(charts) - HISTORY_LINES
    note = nothing(f"The figure shows the {HISTORY_LINES} charts with most entries; {more} more in the table.") \
        if more > 0 else nothing("Position by ranking date; 1 is the top.")
    entries = int(charts["appearances"].sum())
    whole = history if len(history) == entries else load_history
    offered = [downloads("track-charts", charts, "Charts"), downloads("track-history", whole, "History", rows=entries)]
    table = styled(w.VBox([w.HTML(html_table(charts, columns))]), "sc-tall")
    figure = annotate(history_figure(history, charts), notes)
    return card("Chart history", note, figure, table, css_class="chart-history",
                downloads=offered)


def charting_now(now: pd.DataFrame) -> w.VBox:
    columns = [
        Column("#", lambda r: number(r["position"]), numeric=True),
        Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["chart"], date=r["date"]),
                                       r["chart_name"])),
        Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["platform"]), r["platform_name"])),
        Column("Country", lambda r: text(first(r["country_name"], r["country_code"], "Global"))),
        Column("Date", lambda r: day(r["date"]), nowrap=True),
    ]
    box = styled(table_card("Charting now", "track-today", now, columns, css_class="charting-now",
                            empty="Not in the latest ranking of any stored chart."), "sc-tall")
    if len(now):
        charts, countries = len(now), now["country_code"].fillna("global").nunique()
        platforms = now["platform"].nunique()
        where = "chart's latest ranking" if charts == 1 else "charts' latest rankings"
        scope = "country or global chart" if countries == 1 else "countries or global charts"
        summary = nothing(f"In {charts:,} {where}: {countries:,} {scope}, {platforms:,} "
                          f"platform{'s' * (platforms != 1)}.")
        box.children = [box.children[0], summary, *box.children[1:]]
    return box


def growth_cells(growth: dict[int, dict]) -> dict[int, str]:
    out = {}
    for n, g in growth.items():
        if g["units"] is None:
            out[n] = '<span class="sc-sub">–</span>'
            continue
        tone = "up" if g["units"] > 0 else "down" if g["units"] < 0 else "flat"
        pct = "" if g["pct"] is None else f" ({g['pct']:+.2f}%)"
        out[n] = f'<span class="sc-arrow-{tone}">{g["units"]:+,}{pct}</span>'
    return out


def growth_table_html(audience: dict) -> str:
    rows = []
    for slug, frame in audience["series"].items():
        cells = growth_cells(audience["growth"][slug])
        latest = number(frame["value"].iloc[-1]) if len(frame) else ""
        rows.append({"platform": slug, "latest": latest, **{f"g{n}": v for n, v in cells.items()}})
    columns = [Column("Platform", lambda r: text(r["platform"])), Column("Latest", lambda r: r["latest"], True),
               *[Column(f"{n} days", lambda r, n=n: r[f"g{n}"], True) for n in audience_series.GROWTH_DAYS]]
    return html_table(pd.DataFrame(rows), columns)


def audience_figure(audience: dict, mode: str, *, gaps: bool = False):
    """``audience``'s series (value, indexed or daily_change: ``mode``) as lines; ``gaps``: see ``lines_chart``."""
    series = audience["series"]
    if mode == "indexed":
        wide = audience_series.indexed(audience["wide"])
        frames = {slug: pd.DataFrame({"date": wide.index, "indexed": wide[slug].to_numpy(dtype=float,
                                                                                        na_value=float("nan"))})
                  for slug in wide.columns}
        return lines_chart(frames, "indexed", y_format=".0f", gaps=gaps)
    column = "value" if mode == "value" else "daily_change"
    return lines_chart({slug: frame.astype({column: "Float64"}) for slug, frame in series.items()}, column,
                       gaps=gaps)


class TrackView:
    """The track page body. ``load(history_charts=, **settings)`` returns ``viewer_data.track_page``'s dict (with
    the track's notes, drawn on its figures, and its roster state; its history only on the figure's charts),
    ``load_audience(**settings)`` its ``audience`` part, ``load_history()`` every chart position (for the history
    download); settings are platforms, start, end, limit. A changed control reloads the audience only."""

    def __init__(self, load: Callable[..., dict], load_audience: Callable[..., dict],
                 load_history: Callable[[], pd.DataFrame], *, platforms: list[str] | None = None,
                 start: date | None = None, end: date | None = None, limit: int | None = None):
        self._load, self._load_audience, self._load_history = load, load_audience, load_history
        self.settings = {"platforms": platforms, "start": start, "end": end, "limit": limit}
        self.mode = "value"
        self.widget = stack([])
        self.audience_body = w.VBox(layout=w.Layout(width="100%"))
        self.audience_downloads = w.HBox()
        self.checks: dict[str, w.Checkbox] = {}
        self.notes = pd.DataFrame(columns=["date", "kind", "text"])
        self.forecasts: dict = {}  # a roster track's audience forecast per platform
        self.start = styled(w.DatePicker(description="From", value=start, layout=w.Layout(width="auto")),
                            "audience-start")
        self.end = styled(w.DatePicker(description="To", value=end, layout=w.Layout(width="auto")), "audience-end")
        self.limit = styled(w.BoundedIntText(value=limit or 0, min=0, max=MAX_LIMIT, description="Last N days",
                                             tooltip="the most recent N days per platform (0: all)",
                                             style={"description_width": "auto"}, layout=w.Layout(width="190px")),
                            "audience-limit")
        self.modes = styled(w.ToggleButtons(options=list(MODES), value="Values"), "audience-mode")
        self.platform_box = styled(w.HBox(), "sc-controls")
        for control in (self.start, self.end, self.limit):
            control.observe(lambda _: self.reload_audience(), "value")
        self.modes.observe(self._mode, "value")

    def render(self) -> w.Widget:
        data = self._load(history_charts=HISTORY_LINES, **self.settings)
        self.notes, self.forecasts = data["notes"], data["forecast"]
        self._set_platforms(data["audience"])
        self._show_audience(data["audience"])
        self.widget.children = [
            grid([track_summary(data["track"], data["follow"]), track_kpis(data),
                  compare_picker("tracks", data["track"]["uuid"], data["compare"])], min_width="340px"),
            chart_history(data["history"], data["charts"], self.notes, self._load_history),
            charting_now(data["now"]),
            self._audience_card(data["track"]["uuid"], data["audience"]),
            *reach_cards(data["track"]["uuid"], data["reach"]),
            *([notes_card(self.notes)] if len(self.notes) else []),
        ]
        return self.widget

    def reload_audience(self) -> None:
        """Read the audience again with the controls' settings (errors show inside the audience card)."""
        chosen = [slug for slug, box in self.checks.items() if box.value]
        self.settings = {"platforms": chosen, "start": self.start.value, "end": self.end.value,
                         "limit": self.limit.value or None}
        self.audience_body.children = [loading_state()]
        with guarded(lambda state: setattr(self.audience_body, "children", [state])):
            if self.start.value and self.end.value and self.start.value > self.end.value:
                raise BadQuery("the start date is after the end date")
            self._show_audience(self._load_audience(**self.settings))

    def _mode(self, change: dict) -> None:
        self.mode = MODES[change["new"]]
        self.reload_audience()

    def _set_platforms(self, audience: dict) -> None:
        chosen = set(audience["platforms"])
        self.checks = {slug: styled(w.Checkbox(value=slug in chosen, description=slug, indent=False,
                                               layout=w.Layout(width="auto")), "platform-toggle", f"platform-{slug}")
                       for slug in audience["available"]}
        for box in self.checks.values():
            box.observe(lambda _: self.reload_audience(), "value")
        self.platform_box.children = list(self.checks.values())

    def _show_audience(self, audience: dict) -> None:
        if audience.get("error") is not None:
            self.audience_body.children = [styled(w.HTML(
                f"<div><b>Could not load the audience:</b> {html.escape(error_message(audience['error']))}</div>"),
                "sc-state", "error-state")]
            self.audience_downloads.children = []
            return
        if not audience["available"]:
            self.audience_body.children = []
            return
        if not audience["series"]:
            self.audience_body.children = [nothing("Choose at least one platform.")]
            self.audience_downloads.children = []
            return
        growth = audience_series.growth_table(audience["growth"])
        self.audience_downloads.children = [downloads("audience", audience["wide"].reset_index(), "Audience"),
                                            downloads("audience-growth", growth, "Growth")]
        points, platforms = sum(len(f) for f in audience["series"].values()), len(audience["series"])
        sub = nothing(f"{points:,} daily points on {platforms} platform{'s' * (platforms != 1)}; growth is measured "
                      f"up to the last stored day{' before the end date' if self.settings['end'] else ''}.")
        self.audience_body.children = [sub, annotate(with_forecast(
            audience_figure(audience, self.mode), self.forecasts, self.mode, self.settings["end"]), self.notes),
                                       styled(w.HTML(growth_table_html(audience)), "audience-growth")]

    def _audience_card(self, uuid: str, audience: dict) -> w.VBox:
        if not audience["available"]:
            return card("Audience", empty_state(
                "<b>No audience stored for this track yet</b>: run <code>soundcharts fetch-audience --track-uuid "
                f"{html.escape(uuid)}</code>"), css_class="audience")
        controls = styled(w.HBox([self.start, self.end, self.limit]), "sc-controls")
        return card("Audience", self.platform_box, controls, self.modes, self.audience_downloads,
                    self.audience_body, css_class="audience")
