"""The artist dashboard (``artist.ipynb?uuid=``): who they are (image, country, genres, career stage), their stored
tracks and how they chart (charts, best position and its date, charting now), their tracks' best daily position on
their busiest charts, their followers and monthly listeners per platform with 7 / 28 / 90-day growth, the notes on
their tracks; each table with its CSV / Excel links.

:func:`build_artist` takes what :func:`soundcharts_lib.warehouse.artist_pages.artist_page` returns; it never reads the
database.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import ipywidgets as w
import pandas as pd

from soundcharts_lib.ui.annotations import NOTE_COLUMNS, annotate
from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    day,
    downloads,
    empty_state,
    first,
    grid,
    html_card,
    html_table,
    link,
    moment,
    nothing,
    nothing_html,
    number,
    stack,
    styled,
    table_card,
    text,
)
from soundcharts_lib.ui.compare import compare_picker
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.ui.track import audience_figure, growth_cells, history_figure
from soundcharts_lib.warehouse import audience_series
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.artist_pages import FIGURE_CHARTS, SERIES

WEB_URL = re.compile(r"https?://[^\s\"'<>\\]+\Z", re.IGNORECASE)  # nothing that ends a quoted attribute or CSS url
NOT_ENOUGH = '<span class="sc-sub not-enough-history">not enough history</span>'
ABOUT_SERIES = {
    "followers": "Followers are running totals, as each platform counts them.",
    "listeners": "Listening as each platform counts it: monthly listeners (Spotify, Pandora: a rolling 28 days, "
                 "they go up and down), views (YouTube, cumulative) or plays (Audiomack, Anghami).",
}


def artist_uuid(query: Query) -> str:
    """The page's artist UUID (lower case); a value that is not a UUID is an artist not stored, named."""
    try:
        return query.uuid()
    except BadQuery:
        given = query.text("uuid")
        if given is None:  # no uuid at all: the link says what to add
            raise
        raise UnknownEntity(f"no artist {given[:60]!r} is stored (not a SoundCharts UUID)") from None


def _genres(value) -> str:
    """The stored genres (a list of names; anything else shows nothing)."""
    names = [g for g in value if isinstance(g, str) and g.strip()] if isinstance(value, list) else []
    return text(", ".join(names))


def _web_link(url, label: str) -> str:
    """``label`` linking to ``url`` when it is a web address, else nothing (never a ``javascript:`` link)."""
    return link(url, label) if isinstance(url, str) and WEB_URL.match(url) else ""


def avatar(artist: dict) -> str:
    """The artist's image over a placeholder with their initial. The image is a background (one that does not load
    draws nothing, where an ``<img>`` draws a broken-image sign), so a missing, empty or non-web address, or an image
    the browser is not allowed to load, leaves the placeholder."""
    initial = html.escape((first(artist["name"], "?").strip() or "?")[0].upper())
    url = artist["image_url"]
    image = (f'<div class="artist-image" style="position:absolute; inset:0; background:center / cover no-repeat '
             f'url(\'{html.escape(url)}\')"></div>' if isinstance(url, str) and WEB_URL.match(url) else "")
    return ('<div class="artist-avatar" style="position:relative; flex:0 0 auto; width:88px; height:88px; '
            'border-radius:50%; overflow:hidden; background:var(--sc-soft); color:var(--sc-blue); display:flex; '
            'align-items:center; justify-content:center; font-size:36px; font-weight:700">'
            f'<span class="artist-placeholder">{initial}</span>{image}</div>')


def artist_summary(artist: dict) -> w.HTML:
    facts = [("Country", text(artist["country_code"])), ("Genres", _genres(artist["genres"])),
             ("Career stage", text(artist["career_stage"])), ("Growth", text(artist["growth_level"])),
             ("Type", text(artist["artist_type"])), ("SoundCharts", _web_link(artist["app_url"], "open ↗"))]
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts if v)
    uuid = html.escape(artist["uuid"])
    if artist["metadata_error"]:
        note = f'<div class="sc-sub artist-metadata">Metadata: {text(artist["metadata_error"], 200)}</div>'
    elif artist["metadata_fetched_at"] is None:
        note = ('<div class="sc-sub artist-metadata">Metadata not fetched yet: run <code>soundcharts fetch-artists '
                f'--artist-uuid {uuid}</code></div>')
    else:
        note = f'<div class="sc-sub artist-metadata">Metadata fetched {moment(artist["metadata_fetched_at"])}</div>'
    head = (f'<div style="display:flex; gap:16px; align-items:center">{avatar(artist)}<div style="min-width:0">'
            f'<h2 style="overflow-wrap:anywhere">{text(first(artist["name"], artist["uuid"]))}</h2>'
            f'<dl class="sc-facts">{rows}</dl></div></div>')
    return html_card("Artist", head, note, css_class="artist-summary")


def artist_kpis(data: dict) -> w.HTML:
    tracks = data["tracks"]
    charted = tracks[tracks["entries"] > 0]
    best = tracks["best_position"].min() if len(charted) else None
    cells = [("Tracks stored", f"{len(tracks):,}"), ("Tracks charted", f"{len(charted):,}"),
             ("Charts", f"{len(data['charts']):,}"), ("Chart entries", f"{int(tracks['entries'].sum()):,}"),
             ("Best position", number(best) or "–"),
             ("Tracks charting now", f"{int((tracks['charts_now'] > 0).sum()):,}")]
    body = "".join(f'<div><div class="sc-sub">{k}</div><div class="sc-kpi">{v}</div></div>' for k, v in cells)
    since = f" since {day(data['since'])}" if data["since"] else ""
    return html_card("On the charts", f'<div class="sc-kpis">{body}</div>',
                     nothing_html(f"From the rankings stored{since}; charting now: tracks in a chart's latest "
                                  "stored ranking."), css_class="artist-kpis")


def _track_cell(row: pd.Series) -> str:
    return link(dashboard_link("track.ipynb", uuid=row["uuid"]), first(row["name"], row["uuid"]))


def _now_cell(row: pd.Series) -> str:
    if not row["charts_now"]:
        return ""
    return f'{number(row["charts_now"])} <span class="sc-sub">(best #{number(row["best_now"])})</span>'


TRACK_COLUMNS = [
    Column("Track", _track_cell),
    Column("Credit", lambda r: text(r["credit_name"])),
    Column("Released", lambda r: day(r["release_date"]), nowrap=True),
    Column("Charts", lambda r: number(r["charts"]), numeric=True),
    Column("Entries", lambda r: number(r["entries"]), numeric=True),
    Column("Best", lambda r: number(r["best_position"]), numeric=True),
    Column("Best on", lambda r: day(r["best_date"]), nowrap=True),
    Column("Last on a chart", lambda r: day(r["last_date"]), nowrap=True),
    Column("Charts now", _now_cell, numeric=True),
]


def tracks_card(data: dict) -> w.Widget:
    """Their stored tracks with their chart presence, most entries first."""
    box = table_card("Tracks", "artist-tracks", data["tracks"], TRACK_COLUMNS, css_class="artist-tracks",
                     empty="No track of this artist is stored: a track is linked to its artists when its metadata "
                           "is fetched (soundcharts fetch-metadata).")
    return styled(box, "sc-tall")


CHART_COLUMNS = [
    Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["chart"], date=r["last_date"]),
                                   first(r["chart_name"], r["chart"]))),
    Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["platform"]), r["platform"])),
    Column("Country", lambda r: text(first(r["country_code"], "Global"))),
    Column("Tracks", lambda r: number(r["tracks"]), numeric=True),
    Column("Entries", lambda r: number(r["entries"]), numeric=True),
    Column("Best", lambda r: number(r["best_position"]), numeric=True),
    Column("First", lambda r: day(r["first_date"]), nowrap=True),
    Column("Last", lambda r: day(r["last_date"]), nowrap=True),
]


def positions_card(data: dict, load_history: Callable[[], pd.DataFrame]) -> w.VBox:
    """Their tracks' best daily position on their busiest charts (the notes drawn on), and every chart they were
    on; the whole history's download reads it when asked (``load_history``)."""
    charts, history = data["charts"], data["history"]
    if charts.empty:
        return card("Chart positions", nothing("None of their stored tracks has a stored chart entry."),
                    css_class="artist-positions")
    more = len(charts) - FIGURE_CHARTS
    shown = f"the {FIGURE_CHARTS} charts with most entries ({more:,} more in the table)" if more > 0 else \
        "each chart they were on"
    note = nothing(f"The best position of their tracks each day on {shown}; 1 is the top. From the rankings stored "
                   f"since {day(data['since'])}.")
    entries = int(charts["entries"].sum())
    offered = [downloads("artist-charts", charts, "Charts"),
               downloads("artist-history", load_history, "History", rows=entries)]
    figure = annotate(history_figure(history, charts), data["notes"])
    table = styled(w.VBox([w.HTML(html_table(charts, CHART_COLUMNS))]), "sc-tall")
    return card("Chart positions", note, figure, table, css_class="artist-positions", downloads=offered)


def growth_html(part: dict) -> str:
    """Per platform: latest value and day, first stored day, growth over 7, 28 and 90 days ("not enough history"
    when the stored points do not reach back that far)."""
    rows = []
    for slug, frame in part["series"].items():
        growth = part["growth"][slug]
        cells = {n: NOT_ENOUGH if growth[n]["units"] is None else shown for n, shown in growth_cells(growth).items()}
        rows.append({"platform": slug, "latest": number(frame["value"].iloc[-1]), "on": day(frame["date"].iloc[-1]),
                     "since": day(frame["date"].iloc[0]), **{f"g{n}": v for n, v in cells.items()}})
    columns = [Column("Platform", lambda r: text(r["platform"])), Column("Latest", lambda r: r["latest"], True),
               Column("On", lambda r: r["on"], nowrap=True), Column("Stored since", lambda r: r["since"], nowrap=True),
               *[Column(f"{n} days", lambda r, n=n: r[f"g{n}"], True) for n in audience_series.GROWTH_DAYS]]
    return html_table(pd.DataFrame(rows), columns)


def series_card(kind: str, uuid: str, part: dict, notes: pd.DataFrame) -> w.VBox:
    """Followers or monthly listeners (``kind``) per platform over time, as stored, and indexed to 100 at each
    platform's first stored day; their growth; the notes drawn on."""
    title, css = SERIES[kind], f"artist-{kind}"
    series = {slug: frame for slug, frame in part["series"].items() if len(frame)}
    if not series:
        return card(title, empty_state(f"<b>No {title.lower()} stored for this artist yet</b>: run <code>soundcharts "
                                       f"fetch-artists --artist-uuid {html.escape(uuid)}</code>"), css_class=css)
    points = sum(len(f) for f in series.values())
    first_day = min(f["date"].iloc[0] for f in series.values())
    last_day = max(f["date"].iloc[-1] for f in series.values())
    about = nothing(f"{ABOUT_SERIES[kind]} {points:,} stored daily points on {len(series)} platform"
                    f"{'s' * (len(series) != 1)}, {day(first_day)} → {day(last_day)} (soundcharts fetch-artists); a "
                    "day without a stored point is a gap in the line. Growth is measured between stored points, up "
                    "to each platform's last stored day.")
    figures = [annotate(audience_figure(part, mode, gaps=True), notes) for mode in ("value", "indexed")]
    tabs = styled(w.Tab(children=figures), "sc-tabs")
    tabs.titles = ("As stored", "Indexed to 100")
    offered = [downloads(f"artist-{kind}", part["wide"].reset_index(), title),
               downloads(f"artist-{kind}-growth", audience_series.growth_table(part["growth"]), "Growth")]
    return card(title, about, tabs, styled(w.HTML(growth_html(part)), f"{css}-growth"), css_class=css,
                downloads=offered)


NOTES_COLUMNS = [*NOTE_COLUMNS[:2], Column("Track", _track_cell), NOTE_COLUMNS[2]]


def notes_card(notes: pd.DataFrame) -> w.Widget:
    return table_card("Notes", "artist-notes", notes, NOTES_COLUMNS, css_class="artist-notes", empty="", single=True)


def build_artist(data: dict, load_history: Callable[[], pd.DataFrame]) -> w.Widget:
    """The page body (``data``: :func:`warehouse.artist_pages.artist_page`; ``load_history``: every chart's
    history, for its download)."""
    artist = data["artist"]
    return stack([
        grid([artist_summary(artist), artist_kpis(data), compare_picker("artists", artist["uuid"], data["compare"])],
             min_width="340px"),
        tracks_card(data),
        positions_card(data, load_history),
        *(series_card(kind, artist["uuid"], data[kind], data["notes"]) for kind in SERIES),
        *([notes_card(data["notes"])] if len(data["notes"]) else []),
    ])
