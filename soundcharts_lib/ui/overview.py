"""The overview dashboard: rankings per day, week comparison, top platforms and tracks, chart health, and the
system status (last job runs, failures in the last 24 h, API quota with its month-end forecast).

Builders take what :func:`soundcharts_lib.warehouse.analytics.overview` returns; they never read the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import bqplot as bq
import ipywidgets as w
import numpy as np
import pandas as pd

from soundcharts_lib.ui.common import (
    BLUE,
    EAGER_ROWS,
    INK,
    LIGHT_BLUE,
    MUTED,
    RANK,
    Column,
    card,
    dashboard_link,
    day,
    download_links,
    downloads,
    empty_state,
    first,
    grid,
    html_card,
    html_table,
    link,
    missing,
    moment,
    nothing_html,
    number,
    pill,
    stack,
    styled,
    table_card,
    text,
)
from soundcharts_lib.ui.credits import artist_link, artists_column, artists_html
from soundcharts_lib.ui.figures import nice_ticks
from soundcharts_lib.ui.labels import labels_link
from soundcharts_lib.ui.roster_filter import ROSTER_TITLE

EMPTY_MESSAGE = ("<b>No data yet</b>: run <code>make demo</code> or "
                 "<code>soundcharts sync-charts --backfill-days 28</code>")


def build_overview(data: dict, pages: Sequence[dict] = ()) -> w.Widget:
    """The whole page body (``data``: :func:`warehouse.viewer_pages.overview`); the empty state when nothing
    has been synced (with the system status once a job ran). ``pages`` are one's own dashboards
    (:func:`soundcharts_lib.ui.pages.custom_pages`), linked at the end."""
    status = data["status"]
    own = [own_pages(pages)] if pages else []
    if not data["has_data"]:
        empty = empty_state(EMPTY_MESSAGE)
        return stack([empty, *system_status(status), *own]) if len(status["runs"]) or own else empty
    return stack([
        grid([week_comparison(data["weeks"]), chart_health(data["health"])]),
        recent_alerts(data["alerts"], data["roster"], data["credits"]),
        rankings_per_day(data["per_day"]),
        grid([top_tracks(data["tracks"], data["roster"], data["credits"]),
              top_artists(data["artists"], data["roster"])], min_width="420px"),
        grid([top_platforms(data["platforms"]), charts_attention(data["attention"])], min_width="420px"),
        *system_status(status),
        *own,
    ])


def own_pages(pages: Sequence[dict]) -> w.HTML:
    """Links to the dashboards added to ``dashboards/`` next to the built-in ones."""
    items = "".join(f"<li>{link(dashboard_link(p['href']), p['title'])}</li>" for p in pages)
    return html_card("Your pages", f"<ul>{items}</ul>", css_class="own-pages")


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


def rankings_per_day(per_day: pd.DataFrame) -> w.VBox:
    total = int(per_day["rankings"].sum())
    sub = (f'<div class="sc-sub">{total:,} chart rankings stored over the last {len(per_day)} days, by the '
           f'charts\' own dates</div>')
    return card("Rankings per day", sub, rankings_figure(per_day), css_class="rankings-per-day")


def week_comparison(weeks: dict) -> w.HTML:
    change = weeks["change_pct"]
    if change is None:
        pill = '<span class="sc-pill sc-flat">–</span>no rankings the week before'
    else:
        arrow, tone = ("▲", "sc-up") if change > 0 else ("▼", "sc-down") if change < 0 else ("■", "sc-flat")
        shown = f"{change:+.1f}" if change else "0.0"
        pill = f'<span class="sc-pill {tone}">{arrow} {shown}%</span>vs previous week'
    body = (f'<div class="sc-kpi">{weeks["this_week"]:,}</div>'
            f'<div class="sc-sub">{pill} ({weeks["previous_week"]:,} rankings)</div>')
    return html_card("Rankings this week", body, css_class="week-comparison")


def chart_health(health: dict) -> w.HTML:
    active, total, pct = health["active"], health["total"], health["pct_active"]
    if not total:
        body = '<div class="sc-kpi">0</div><div class="sc-sub">No charts discovered yet</div>'
    else:
        body = (f'<div class="sc-kpi">{active:,} <span class="sc-sub">of {total:,} charts active</span>'
                f'</div><div class="sc-sub">{pct:.1f}% active</div>'
                f'<div class="sc-meter"><div style="width:{pct:.1f}%"></div></div>')
    return html_card("Chart health", body, css_class="chart-health")


def top_platforms(platforms: pd.DataFrame) -> w.Widget:
    """A Tab: the ranked table (with share bars and links) and a bar chart."""
    if platforms.empty:
        return html_card("Top platforms · 30 days", nothing_html("No rankings in the last 30 days."),
                         css_class="top-platforms")
    total = int(platforms["rankings"].sum())
    columns = [
        RANK,
        Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["slug"]), r["name"])),
        Column("Rankings", lambda r: number(r["rankings"]), numeric=True),
        Column("Share", lambda r: _share_bar(r["rankings"], total)),
    ]
    share = labels_link("Labels' share of these charts")
    table = w.HTML(f'{html_table(platforms, columns)}<div class="sc-sub">{share}</div>')
    tabs = styled(w.Tab(children=[table, platforms_figure(platforms)]), "sc-tabs")
    tabs.titles = ("Table", "Chart")
    return card("Top platforms · 30 days", tabs, css_class="top-platforms",  # a top 10: its files in the page
                downloads=download_links("platforms", platforms))


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


def top_tracks(tracks: pd.DataFrame, mine: bool = False, credits: Mapping | None = None) -> w.Widget:
    """The most-charted tracks (``mine``: the roster's), their artists linked (``credits``: ``{track uuid:
    artists}``, :func:`warehouse.artist_pages.credits`)."""
    columns = [
        RANK,
        Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
        artists_column(credits or {}),
        Column("Appearances", lambda r: number(r["appearances"]), numeric=True),
    ]
    return table_card(f"Top tracks · 30 days{ROSTER_TITLE * mine}", "overview-tracks", tracks, columns,
                      css_class="top-tracks", empty="None of your roster's tracks charted in the last 30 days." if mine
                      else "No chart entries in the last 30 days.", single=True)


def top_artists(artists: pd.DataFrame, mine: bool = False) -> w.Widget:
    """The artists whose stored tracks have most chart appearances (``mine``: the roster's), each linked to its
    page (``artists``: :func:`warehouse.artist_pages.top_artists`)."""
    columns = [
        RANK,
        Column("Artist", lambda r: artist_link(r["uuid"], r["name"])),
        Column("Appearances", lambda r: number(r["appearances"]), numeric=True),
        Column("Tracks", lambda r: number(r["tracks"]), numeric=True),
    ]
    return table_card(f"Top artists · 30 days{ROSTER_TITLE * mine}", "overview-artists", artists, columns,
                      css_class="top-artists", empty="None of your roster's artists had a track on a chart in the "
                      "last 30 days." if mine else "No track with a stored artist charted in the last 30 days: "
                      "soundcharts fetch-metadata stores the tracks' artists.", single=True)


def _details(row: pd.Series) -> dict:
    return row["details"] if isinstance(row["details"], dict) else {}


def _alert_track(row: pd.Series) -> str:
    details = _details(row)
    uuid = details.get("track_uuid")
    return link(dashboard_link("track.ipynb", uuid=uuid), details.get("track") or uuid) if uuid else ""


def _alert_chart(row: pd.Series) -> str:
    details = _details(row)
    slug = details.get("chart")
    if not slug:
        return ""
    return link(dashboard_link("chart.ipynb", slug=slug, date=details.get("date")), details.get("chart_name") or slug)


def _alert_artists(credits: Mapping) -> Column:
    """The artist an alert is about (artist_growth), else its track's credit with the track's artists linked."""
    def cell(row: pd.Series) -> str:
        details = _details(row)
        if details.get("artist_uuid"):
            return artist_link(details["artist_uuid"], details.get("artist"))
        return artists_html(credits.get(details.get("track_uuid")), details.get("artist"))
    return Column("Artist", cell)


ALERT_COLUMNS = [
    Column("When", lambda r: moment(r["fired_at"]), nowrap=True),
    Column("Rule", lambda r: f'{text(r["rule"])} <span class="sc-sub">{text(r["kind"])}</span>'),
    Column("Alert", lambda r: f'<span title="{text(r["message"])}">{text(r["subject"])}</span>'),
    Column("Track", _alert_track),
    Column("Chart", _alert_chart),
]


def recent_alerts(alerts: pd.DataFrame, mine: bool = False, credits: Mapping | None = None) -> w.Widget:
    """Alerts fired in the last 7 days (:func:`curation.alerts.recent_alerts`), newest first, their track, artist
    (``credits``: the tracks' artists) and chart linked to their pages (``mine``: those about roster tracks)."""
    empty = (f"No alert {'about your roster ' * mine}in the last 7 days. Rules fire at the end of each sync; add "
             "one with: soundcharts alerts rules add NAME --kind top_entry --top 10")
    columns = [*ALERT_COLUMNS[:4], _alert_artists(credits or {}), *ALERT_COLUMNS[4:]]
    return table_card(f"Alerts · 7 days{ROSTER_TITLE * mine}", "alerts", alerts, columns,
                      css_class="recent-alerts", empty=empty, single=True)


def charts_attention(charts: pd.DataFrame) -> w.Widget:
    """Active charts that fail or are stale, each linked to its chart and platform pages."""
    columns = [
        Column("Chart", lambda r: link(dashboard_link("chart.ipynb", slug=r["slug"]), r["name"])),
        Column("Platform", lambda r: link(dashboard_link("platform.ipynb", slug=r["platform"]), r["platform"])),
        Column("Last ranking", lambda r: day(r["last_ranking_date"]), nowrap=True),
        Column("Problem", _problem),
    ]
    return table_card("Charts needing attention", "charts-attention", charts, columns, css_class="charts-attention",
                      empty="Every active chart is up to date.", single=True)


def _problem(row: pd.Series) -> str:
    failures = int(first(row["consecutive_failures"], 0))
    if failures:
        label = pill(f"{failures} failure{'s' if failures > 1 else ''}", "down")
        return f'{label}<span class="sc-sub">{text(row["last_error"], 120)}</span>'
    return pill("stale", "warn")


OUTCOME_TONES = {"success": "up", "partial": "warn", "failed": "down", "interrupted": "down"}


def outcome(status: str) -> str:
    return pill(status, OUTCOME_TONES.get(status, "flat"))


def _duration(row: pd.Series) -> str:
    if missing(row["finished_at"]):
        return ""
    seconds = (pd.Timestamp(row["finished_at"]) - pd.Timestamp(row["started_at"])).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def system_status(status: dict) -> list[w.Widget]:
    """The quota and failure cards, then the last run of each job."""
    runs = [
        Column("Job", lambda r: text(r["kind"])),
        Column("Trigger", lambda r: text(r["trigger"])),
        Column("Outcome", lambda r: outcome(r["status"])),
        Column("Started", lambda r: moment(r["started_at"]), nowrap=True),
        Column("Duration", _duration, numeric=True),
        Column("Quota left", lambda r: number(r["quota_remaining"]), numeric=True),
    ]
    return [
        grid([api_quota(status["quota"]), failures(status["failures_24h"], status["failed_runs"])]),
        table_card("Last run of each job", "job-runs", status["runs"], runs, css_class="job-runs",
                   empty="No job has run yet: soundcharts run-job sync_charts", single=True),
    ]


def failures(counts: dict, runs: pd.DataFrame) -> w.Widget:
    total = counts["runs"] + counts["rankings"]
    tone = "sc-down" if total else "sc-up"
    runs_, fetches = counts["runs"], counts["rankings"]
    title = "Failures · last 24 h"
    body = (f'<div class="sc-kpi failures-total">{total:,}</div>'
            f'<div class="sc-sub"><span class="sc-pill {tone}">{runs_:,} job run{"s" * (runs_ != 1)}</span>'
            f'failed or partly failed · {fetches:,} chart fetch{"es" * (fetches != 1)} failed</div>')
    if runs.empty:
        return html_card(title, body, css_class="failures")
    columns = [Column("Job", lambda r: text(r["kind"])), Column("Outcome", lambda r: outcome(r["status"])),
               Column("Started", lambda r: moment(r["started_at"])),
               Column("Error", lambda r: text(r["error"], 160))]
    table = html_table(runs, columns)
    if len(runs) > EAGER_ROWS:  # its files are prepared on demand, by a button
        return card(title, w.HTML(body), w.HTML(table), css_class="failures",
                    downloads=[downloads("failed-runs", runs)])
    return html_card(title, body, table, css_class="failures", downloads=download_links("failed-runs", runs))


def api_quota(quota: dict) -> w.HTML:
    """Quota left and the month-end forecast, with how it is computed."""
    if quota["remaining"] is None:
        return html_card("API quota", nothing_html("No job run has recorded the API quota yet."),
                         css_class="api-quota")
    if quota["forecast"] is None:
        forecast = ('<span class="quota-forecast">not enough history</span> (needs 24 h of quota readings in the '
                    f'last {quota["window_days"]} days)')
    else:
        forecast = f'<span class="quota-forecast">{quota["forecast"]:,}</span>'
        if quota["exhausted_on"] is not None:
            forecast += f' · runs out around {quota["exhausted_on"]:%Y-%m-%d}'
    burn = "" if quota["burn_per_day"] is None else f' = {quota["burn_per_day"]:,.0f} a day'
    body = (
        f'<div class="sc-kpi quota-remaining">{quota["remaining"]:,}</div>'
        f'<div class="sc-sub">requests left at {moment(quota["as_of"])}</div>'
        f'<div>Month-end forecast: {forecast}</div>'
        f'<div class="sc-sub quota-method">Forecast = quota left − burn rate × days left in the month '
        f'({quota["days_left"]:.1f}); burn rate = the drop in quota between the first and the last run of the last '
        f'{quota["window_days"]} days, since the last top-up, per day{burn}.</div>')
    return html_card("API quota", body, css_class="api-quota")


def _share_bar(value, total: int) -> str:
    pct = value / total * 100 if total else 0.0
    return (f'<div class="sc-share"><div class="sc-track"><div class="sc-bar" style="width:{pct:.0f}%"></div></div>'
            f'<span>{pct:.1f}%</span></div>')
