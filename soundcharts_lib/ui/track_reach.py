"""The track page's "Reach" area, from the song's stored reach snapshots (``soundcharts fetch-reach``): a world map
of where it charts now (countries shaded by their best position, the chart and position in each country's tooltip),
its global charts beside, a table of every chart it is on now; its popularity per platform; the playlists it is on
now and their count over the stored snapshots. Figures and tables only: nothing here needs the kernel once drawn.

:func:`reach_cards` takes :func:`soundcharts_lib.warehouse.viewer_pages.track_reach`'s dict; it never reads the
database. :func:`with_forecast` draws a roster track's audience forecast on the audience figure.
"""

from __future__ import annotations

import html
from functools import lru_cache

import bqplot as bq
import ipywidgets as w
import pandas as pd

from soundcharts_lib.ui.common import (
    MUTED,
    Column,
    card,
    day,
    downloads,
    empty_state,
    first,
    grid,
    html_table,
    nothing,
    number,
    styled,
    text,
)
from soundcharts_lib.ui.figures import lines_chart
from soundcharts_lib.ui.world_codes import WORLD_MAP_IDS

ANTARCTICA = 10  # its id on the world map
LIGHT, DARK, LAND = "#bfdbfe", "#1e3a8a", "#e5e7eb"  # a worse position, position 1, a country without an entry

CHART_TABLE = [
    Column("#", lambda r: number(r["position"]), numeric=True),
    Column("Chart", lambda r: text(r["chart_name"])),
    Column("Platform", lambda r: text(first(r["platform_name"], r["platform"]))),
    Column("Country", lambda r: text(first(r["country_code"], "Global"))),
    Column("Peak", lambda r: number(r["peak_position"]), numeric=True),
    Column("Peak date", lambda r: day(r["peak_date"]), nowrap=True),
    Column("Ranking of", lambda r: day(r["rank_date"]), nowrap=True),
]
PLAYLIST_TABLE = [
    Column("Playlist", lambda r: text(r["playlist"])),
    Column("Platform", lambda r: text(r["platform"])),
    Column("Country", lambda r: text(first(r["country_code"], "Global"))),
    Column("Followers", lambda r: number(r["followers"]) or '<span class="sc-sub">–</span>', numeric=True),
    Column("#", lambda r: number(r["position"]), numeric=True),
    Column("Since", lambda r: day(r["entry_date"]), nowrap=True),
]


def as_of(days: pd.Series) -> str:
    """"as of D" (or "as of D1 to D2" when the platforms' latest snapshots differ) for the snapshot days ``days``."""
    known = sorted({day(d) for d in days if day(d)})
    if not known:
        return ""
    return f"as of {known[0]}" if len(known) == 1 else f"as of {known[0]} to {known[-1]}"


@lru_cache(maxsize=1)
def _world() -> dict:
    return bq.topo_load("map_data/WorldMap.json")


def _country_best(charts: pd.DataFrame) -> pd.DataFrame:
    """Per country of the country charts: its best (lowest) position and every chart there, best first, as text."""
    local = charts[~charts["is_global"].astype(bool)]
    rows = []
    for code, group in local.groupby(local["country_code"].astype(str).str.upper(), sort=True):
        group = group.sort_values("position", kind="stable")
        entries = "; ".join(f"{name} ({platform}) #{int(position)}" for name, platform, position in
                            zip(group["chart_name"], group["platform"], group["position"], strict=True))
        rows.append({"country_code": code, "best": int(group["position"].min()), "entries": entries})
    return pd.DataFrame(rows, columns=["country_code", "best", "entries"])


def world_map(charts: pd.DataFrame) -> tuple[bq.Figure, list[str]]:
    """bqplot's world map (its own topojson, no tiles: works offline) with the countries where the song charts now
    shaded by their best position (darker is better) and named with their charts in the tooltip; and the country
    codes that have no shape on that map (small countries)."""
    best = _country_best(charts)
    world = _world()
    # the shapes' properties are this page's own (their tooltips); the arcs, most of the map, are shared unchanged
    geometries = [{**g, "properties": dict(g.get("properties") or {})}
                  for g in world["objects"]["subunits"]["geometries"] if g["id"] != ANTARCTICA]  # half the map's height
    data = {**world, "objects": {**world["objects"], "subunits": {**world["objects"]["subunits"],
                                                                  "geometries": geometries}}}
    shapes = {g["id"]: g for g in geometries}
    colours, unplaced = {}, []
    for row in best.itertuples():
        shape = shapes.get(WORLD_MAP_IDS.get(row.country_code))
        if shape is None:
            unplaced.append(row.country_code)
            continue
        colours[shape["id"]] = row.best
        shape["properties"]["name"] = f"{shape['properties'].get('name') or row.country_code}: {row.entries}"
    top = max(colours.values(), default=2)
    scale = bq.ColorScale(colors=[DARK, LIGHT], min=1, max=max(top, 2))
    mark = bq.Map(map_data=data, scales={"projection": bq.Mercator(scale_factor=300, center=(0, 50)),
                                         "color": scale},
                  color=colours, colors={"default_color": LAND}, stroke_color="#ffffff",
                  tooltip=bq.Tooltip(fields=["name"], labels=[""]))
    figure = bq.Figure(marks=[mark], fig_margin={"top": 0, "bottom": 0, "left": 0, "right": 0},
                       display_toolbar=False, layout=w.Layout(width="100%", height="360px"))
    return styled(figure, "reach-map-figure"), unplaced


def _global_list(charts: pd.DataFrame, unplaced: list[str]) -> str:
    glob = charts[charts["is_global"].astype(bool)]
    items = "".join(f"<li><b>#{number(r.position)}</b> {text(r.chart_name)} "
                    f'<span class="sc-sub">{text(r.platform_name)}</span></li>' for r in glob.itertuples())
    body = f"<ul>{items}</ul>" if items else '<div class="sc-sub">On no global chart now.</div>'
    off = (f'<div class="sc-sub">Also charting in {text(", ".join(unplaced))} (too small for this map).</div>'
           if unplaced else "")
    return f'<div class="reach-global"><div class="sc-card-title">Global charts</div>{body}{off}</div>'


def charts_card(uuid: str, charts: pd.DataFrame) -> w.VBox:
    """The map, the global charts beside it and the table of every chart the song is on now; an empty map and a
    sentence when it is on none."""
    figure, unplaced = world_map(charts)
    if charts.empty:
        message = empty_state("<b>Not on any chart in the stored reach snapshots</b>: none of its platforms lists it "
                              "in a current chart (or its reach was never fetched: run <code>soundcharts fetch-reach "
                              f"--track-uuid {html.escape(uuid)}</code>).")
        return card("Charting everywhere", message, figure, css_class="reach-charts")
    countries = int((~charts["is_global"].astype(bool)).sum())
    sub = nothing(f"{len(charts):,} chart{'s' * (len(charts) != 1)} now ({countries:,} in a country), from the "
                  f"stored reach snapshots, {as_of(charts['fetched_on'])}. Darker is a better position.")
    side = styled(w.HTML(_global_list(charts, unplaced)), "reach-global-list")
    beside = grid([styled(w.VBox([figure]), "reach-map"), side], min_width="280px")
    beside.layout.grid_template_columns = "minmax(0, 3fr) minmax(200px, 1fr)"
    table = styled(w.VBox([styled(w.HTML(html_table(charts, CHART_TABLE)), "reach-chart-table")]), "sc-tall")
    return card("Charting everywhere", sub, beside, table, css_class="reach-charts",
                downloads=[downloads("track-charting-everywhere", charts, "Charts")])


def popularity_card(popularity: dict[str, pd.DataFrame]) -> w.VBox:
    """A small figure of the song's popularity (0 to 100) per platform."""
    series = {slug: frame for slug, frame in popularity.items() if len(frame)}
    if not series:
        return card("Popularity", nothing("No popularity stored for this track."), css_class="reach-popularity")
    last = max(frame["date"].max() for frame in series.values())
    latest = ", ".join(f"{slug} {number(frame['value'].iloc[-1])}" for slug, frame in series.items())
    sub = nothing(f"Stored popularity snapshots, as of {day(last)}: {latest}.")
    figure = lines_chart({slug: frame.astype({"value": "Float64"}) for slug, frame in series.items()}, "value",
                         y_format="d", height="220px")
    return card("Popularity", sub, figure, css_class="reach-popularity")


def _kpis(cells: list[tuple[str, str]]) -> str:
    body = "".join(f'<div><div class="sc-sub">{k}</div><div class="sc-kpi">{v}</div></div>' for k, v in cells)
    return f'<div class="sc-kpis reach-playlist-kpis">{body}</div>'


def playlists_card(playlists: dict, trend: pd.DataFrame) -> w.VBox:
    """The playlists the song is on now (count, followers reached, the biggest ones) and their count per stored
    snapshot."""
    top = playlists["top"]
    if not playlists["count"] and trend.empty:
        return card("Playlists", nothing("No playlists stored for this track."), css_class="reach-playlists")
    kpis = _kpis([("Playlists now", f"{playlists['count']:,}"),
                  ("Followers reached", f"{playlists['followers']:,}")])
    when = as_of(playlists["platforms"]["fetched_on"])
    sub = nothing(f"From the stored playlist snapshots{', ' + when if when else ''}; a playlist without a follower "
                  "count adds none.")
    parts: list[w.Widget | str] = [kpis, sub]
    if len(top):
        parts.append(styled(w.HTML(html_table(top, PLAYLIST_TABLE)), "reach-playlist-table"))
    if trend["fetched_on"].nunique() > 1:
        frames = {slug: group.rename(columns={"fetched_on": "date"})[["date", "playlists"]]
                  for slug, group in trend.groupby("platform", sort=True)}
        parts += [nothing("Playlists per stored snapshot:"), lines_chart(frames, "playlists", y_format="d",
                                                                          height="200px")]
    else:
        parts.append(nothing("One playlist snapshot stored so far: the trend starts with the next one."))
    offered = [downloads("track-playlists", top, "Playlists")] if len(top) else []
    return card("Playlists", *parts, css_class="reach-playlists", downloads=offered)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def forecast_caption(forecasts: dict, shown: list[str]) -> str:
    """One line per platform of ``shown``: the backtest error of its forecast, or why there is none."""
    lines = []
    for slug in shown:
        made = forecasts.get(slug)
        if made is None:
            continue
        if made.ok:
            lines.append(f"<b>{text(slug)}</b>: next {len(made.dates)} days dashed, {made.level:.0%} band shaded; "
                         f"backtest error (last 4 weeks held out) {_percent(made.backtest_mape)} of the audience, "
                         f"{_percent(made.growth_mape)} of its growth")
        else:
            lines.append(f"<b>{text(slug)}</b>: no forecast ({text(made.reason)})")
    return ('<div class="sc-sub">Forecast (roster track):<br>' + "<br>".join(lines) + "</div>") if lines else ""


def with_forecast(chart: w.VBox, forecasts: dict, mode: str, end) -> w.VBox:
    """``chart`` (:func:`~soundcharts_lib.ui.figures.lines_chart`'s audience lines) with each shown platform's
    forecast (``{slug: forecast.Forecast}``) drawn dashed from its last stored day, its band shaded, and a caption
    saying the backtest error (or why there is none). Only on values with no end date (a forecast continues the
    stored series); ``chart`` unchanged otherwise or without forecasts."""
    figure = next((c for c in chart.children if isinstance(c, bq.Figure)), None)
    if not forecasts or mode != "value" or end is not None or figure is None or not figure.marks:
        return chart
    lines = {m.labels[0]: m for m in figure.marks if isinstance(m, bq.Lines) and m.labels}
    sx, sy = figure.marks[0].scales["x"], figure.marks[0].scales["y"]
    added, top = [], sy.max
    for slug, made in forecasts.items():
        if slug not in lines or not made.ok:
            continue
        colour = lines[slug].colors[0]
        days = pd.to_datetime(list(made.dates)).to_numpy()
        added.append(bq.Lines(x=[days, days], y=[list(made.lower), list(made.upper)], fill="between",
                              fill_colors=[colour], fill_opacities=[0.15], colors=[colour, colour],
                              stroke_width=0, scales={"x": sx, "y": sy}))
        start = pd.to_datetime([made.last_date]).to_numpy()
        added.append(bq.Lines(x=list(start) + list(days), y=[made.last_value, *made.point], colors=[colour],
                              line_style="dashed", stroke_width=2, scales={"x": sx, "y": sy}))
        top = max(top, max(made.upper))
    figure.marks = [*figure.marks, *added]
    sy.max = float(top)
    caption = forecast_caption(forecasts, list(lines))
    chart.children = [*chart.children, *([styled(w.HTML(caption), "audience-forecast")] if caption else [])]
    return chart


def reach_cards(uuid: str, reach: dict) -> list[w.Widget]:
    """The "Reach" area: where the song charts now, then its popularity and playlists side by side."""
    head = w.HTML(f'<h3 style="margin:8px 0 0;color:{MUTED}">Reach beyond the synced charts</h3>')
    return [styled(head, "reach-head"), charts_card(uuid, reach["charts"]),
            grid([popularity_card(reach["popularity"]), playlists_card(reach["playlists"], reach["trend"])],
                 min_width="340px")]
