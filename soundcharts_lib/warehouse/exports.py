"""The dashboards' tables by name, written as CSV or Excel.

A table is picked out of what a page's :mod:`warehouse.analytics` call returns, so a page's download links
and ``soundcharts export TABLE`` write the same rows from the same query. pandas and analytics are imported when
used, so the ``soundcharts`` command starts fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from soundcharts_lib.errors import SoundchartsError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ExportError(SoundchartsError, ValueError):
    """A table or parameter the export cannot use (one-line message)."""


@dataclass(frozen=True)
class Params:
    """What a page is read with; each page uses only some of these."""

    chart: str | None = None
    date: date | None = None
    track_uuid: str | None = None
    platforms: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    limit: int | None = None


@dataclass(frozen=True)
class PageKind:
    """A dashboard page: the analytics call behind it, what it needs and what else it accepts."""

    read: Callable[[Engine, Params], dict]
    needs: tuple[str, ...]
    accepts: tuple[str, ...] = ()


def _one_platform(p: Params) -> str:
    if len(p.platforms) != 1:
        raise ExportError("give exactly one --platform for this table")
    return p.platforms[0]


def _overview(engine: Engine, p: Params) -> dict:
    from soundcharts_lib.warehouse.viewer_pages import overview

    return overview(engine)


def _platform(engine: Engine, p: Params) -> dict:
    from soundcharts_lib.warehouse.viewer_pages import platform_page

    return platform_page(engine, _one_platform(p))


def _chart(engine: Engine, p: Params) -> dict:
    from soundcharts_lib.warehouse.viewer_pages import chart_page

    return chart_page(engine, p.chart, p.date)


def _track(engine: Engine, p: Params) -> dict:
    from soundcharts_lib.warehouse import reach_pages
    from soundcharts_lib.warehouse.viewer_pages import track_page

    platforms = list(p.platforms) or None
    data = track_page(engine, p.track_uuid, platforms=platforms, start=p.start, end=p.end, limit=p.limit)
    reach = {"popularity": reach_pages.popularity(engine, p.track_uuid, platforms, start=p.start, end=p.end),
             "charting": reach_pages.charting_now(engine, p.track_uuid),
             "playlists": reach_pages.playlists_now(engine, p.track_uuid, top=None)}
    return {**data, "reach": reach}


PAGES: dict[str, PageKind] = {
    "overview": PageKind(_overview, ()),
    "platform": PageKind(_platform, ("platforms",)),
    "chart": PageKind(_chart, ("chart",), ("date",)),
    "track": PageKind(_track, ("track_uuid",), ("platforms", "start", "end", "limit")),
}


@dataclass(frozen=True)
class Table:
    name: str
    page: str
    description: str
    pick: Callable[[dict], pd.DataFrame]


def _key(key: str) -> Callable[[dict], pd.DataFrame]:
    return lambda data: data[key]


def _status(key: str) -> Callable[[dict], pd.DataFrame]:
    return lambda data: data["status"][key]


def _audience(data: dict) -> pd.DataFrame:
    return data["audience"]["wide"].reset_index()


def _popularity(data: dict) -> pd.DataFrame:
    from soundcharts_lib.warehouse.audience_series import aligned

    return aligned(data["reach"]["popularity"]).reset_index()


def _growth(data: dict) -> pd.DataFrame:
    from soundcharts_lib.warehouse.audience_series import growth_table

    return growth_table(data["audience"]["growth"])


TABLES: dict[str, Table] = {t.name: t for t in [
    Table("overview-rankings-per-day", "overview", "rankings stored per day, last 7 days", _key("per_day")),
    Table("platforms", "overview", "top platforms by rankings, last 30 days", _key("platforms")),
    Table("overview-tracks", "overview", "top tracks by chart appearances, last 30 days", _key("tracks")),
    Table("charts-attention", "overview", "active charts failing or stale", _key("attention")),
    Table("overview-alerts", "overview", "alerts of the last 7 days", _key("alerts")),
    Table("job-runs", "overview", "the last run of each job", _status("runs")),
    Table("failed-runs", "overview", "job runs that failed in the last 24 h", _status("failed_runs")),
    Table("platform-charts", "platform", "a platform's charts with their health", _key("charts")),
    Table("platform-rankings", "platform", "a platform's rankings per day, last 30 days", _key("per_day")),
    Table("platform-tracks", "platform", "top tracks on a platform, last 30 days", _key("tracks")),
    Table("chart-ranking", "chart", "a ranking: the API's previous position, NEW / RE, time on chart; stored_* "
          "figures (peak, its date, streak) from stored history since history_start", _key("ranking")),
    Table("chart-climbers", "chart", "a ranking's biggest climbers", _key("climbers")),
    Table("chart-fallers", "chart", "a ranking's biggest fallers", _key("fallers")),
    Table("chart-new-entries", "chart", "a ranking's new entries and re-entries", _key("new_entries")),
    Table("chart-dropouts", "chart", "tracks no longer in the chart: the API's position-0 items, else those of the "
          "previous stored ranking (source)", _key("dropouts")),
    Table("track-charts", "track", "a track's charts: first / last date, appearances, peak", _key("charts")),
    Table("track-history", "track", "every stored chart position of a track", _key("history")),
    Table("track-today", "track", "charts whose latest ranking holds the track", _key("now")),
    Table("track-identifiers", "track", "a track's platform identifiers",
          lambda data: data["track"]["identifiers"]),
    Table("audience", "track", "a track's audience per platform, aligned by date", _audience),
    Table("audience-growth", "track", "a track's 7 / 28 / 90-day audience growth per platform", _growth),
    Table("track-popularity", "track", "a track's popularity per platform (fetch-reach), aligned by date",
          _popularity),
    Table("track-charting-everywhere", "track", "every chart a track is on now, as the API lists them (fetch-reach)",
          lambda data: data["reach"]["charting"]),
    Table("track-playlists", "track", "every playlist a track is on now, the biggest first (fetch-reach)",
          lambda data: data["reach"]["playlists"]["top"]),
]}

OPTION_NAMES = {"chart": "--chart", "date": "--date", "track_uuid": "--track-uuid", "platforms": "--platform",
                "start": "--start-date", "end": "--end-date", "limit": "--limit"}


def check(name: str, params: Params) -> Table:
    """The table called ``name`` after checking ``params`` suit it; ``ExportError`` otherwise."""
    table = TABLES.get(name)
    if table is None:
        raise ExportError(f"no table {name!r}; tables: {', '.join(TABLES)}")
    page = PAGES[table.page]
    for field in page.needs:
        if not getattr(params, field):
            raise ExportError(f"{name} needs {OPTION_NAMES[field]}")
    for field, option in OPTION_NAMES.items():
        if getattr(params, field) and field not in page.needs + page.accepts:
            raise ExportError(f"{name} does not take {option}")
    return table


def read_table(engine: Engine, name: str, params: Params = Params()) -> pd.DataFrame:
    """The rows of table ``name``, read the way its page reads them; ``ExportError`` for bad input or an unknown
    platform, chart or track."""
    from soundcharts_lib.warehouse.analytics import UnknownEntity

    table = check(name, params)
    try:
        data = PAGES[table.page].read(engine, params)
    except UnknownEntity as exc:
        raise ExportError(str(exc)) from None
    return table.pick(data)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with JSON text in place of dicts and lists (job counts, errors, genres)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, (dict, list))).any():
            out[col] = out[col].map(lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list)) else v)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row, no index; missing values are empty."""
    return plain(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    """An Excel workbook with one sheet (:mod:`.xlsx_sheet`: dates as dates, missing values as empty cells, control
    characters dropped: a worksheet cannot hold them)."""
    from soundcharts_lib.warehouse import xlsx_sheet

    return xlsx_sheet.workbook(plain(frame), sheet)


def render(frame: pd.DataFrame, fmt: str, sheet: str) -> bytes:
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "xlsx":
        return to_xlsx(frame, sheet)
    raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
