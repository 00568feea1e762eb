"""Records of a song's reach (contract sections 8.1, 8.4, 8.5) and the chart entries an artist shares (7.6).

Same rules as :mod:`soundcharts_lib.api.payloads`: frozen records, nulls and ``""`` read as None, a missing or
invalid required field raises :class:`PayloadError` naming it, dates are the local calendar day as written.
Popularity items come in two shapes (``{date, plots: [{identifier, value}]}`` or ``{date, value}``); both give
:class:`PopularityPoint` rows, the second without an identifier.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from soundcharts_lib.api.payloads import (
    ChartInfo,
    SongRef,
    _fail,
    _items,
    _list,
    _obj,
    _opt_bool,
    _opt_date,
    _opt_int,
    _opt_str,
    _Record,
    _req_date,
    _req_ident,
    _req_int,
    _req_str,
    _song_ref,
    parse_chart,
)


class ChartEntry(_Record):
    """A song's entry in one chart: its current position (0 = no longer in the chart) and its history there."""
    chart: ChartInfo
    song: SongRef | None = None    # the entry's song (7.6), or the related song (8.1) when the body names it
    position: int
    position_evolution: int | None = None
    peak_position: int | None = None
    peak_date: dt.date | None = None
    entry_state: str | None = None
    entry_date: dt.date | None = None
    rank_date: dt.date | None = None
    old_position: int | None = None
    current: bool | None = None
    time_on_chart: int | None = None
    time_on_chart_unit: str | None = None


class PopularityPoint(_Record):
    """One popularity value on one day; ``identifier`` is None for the ``{date, value}`` item shape."""
    date: dt.date
    date_raw: str
    identifier: str | None = None
    value: int


class PlaylistRef(_Record):
    uuid: str
    name: str | None = None
    identifier: str | None = None
    platform: str | None = None
    country_code: str | None = None      # "" (a global playlist) -> None
    latest_crawl_date: dt.date | None = None
    latest_track_count: int | None = None
    latest_subscriber_count: int | None = None
    image_url: str | None = None
    type: str | None = None


class PlaylistEntry(_Record):
    playlist: PlaylistRef
    position: int
    peak_position: int | None = None
    entry_date: dt.date | None = None
    exit_date: dt.date | None = None
    position_date: dt.date | None = None
    peak_position_date: dt.date | None = None


def chart_entry(obj: Any, path: str, song: SongRef | None) -> ChartEntry:
    item = _obj(obj, path)
    return ChartEntry(
        chart=parse_chart(item.get("chart"), f"{path}.chart"),
        song=song,
        position=_req_int(item, "position", path),
        position_evolution=_opt_int(item, "positionEvolution", path),
        peak_position=_opt_int(item, "peakPosition", path),
        peak_date=_opt_date(item, "peakDate", path),
        entry_state=_opt_str(item, "entryState", path),
        entry_date=_opt_date(item, "entryDate", path),
        rank_date=_opt_date(item, "rankDate", path),
        old_position=_opt_int(item, "oldPosition", path),
        current=_opt_bool(item, "current", path),
        time_on_chart=_opt_int(item, "timeOnChart", path),
        time_on_chart_unit=_opt_str(item, "timeOnChartUnit", path),
    )


def parse_song_chart_entries(body: Any) -> list[ChartEntry]:
    """8.1, one page: the related song (when the body has one) is each entry's song."""
    related = _obj(body, "body").get("related")
    song = _song_ref(related, "related") if related is not None else None
    return [chart_entry(item, f"items[{i}]", song) for i, item in enumerate(_items(body))]


def parse_popularity(body: Any) -> list[PopularityPoint]:
    """8.4, one page, in body order. An item with ``plots`` gives one point per identifier, an item with ``value``
    one point without identifier; null values are skipped (a missing data point, like a missing day)."""
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        day, date_raw = _req_date(item, "date", path)
        if "plots" in item:
            for j, plot_raw in enumerate(_list(item, "plots", path)):
                ppath = f"{path}.plots[{j}]"
                plot = _obj(plot_raw, ppath)
                if plot.get("value") is not None:
                    out.append(PopularityPoint(date=day, date_raw=date_raw, value=_req_int(plot, "value", ppath),
                                               identifier=_req_ident(plot, "identifier", ppath)))
        elif "value" in item:
            if item["value"] is not None:
                out.append(PopularityPoint(date=day, date_raw=date_raw, value=_req_int(item, "value", path)))
        else:
            raise _fail(path, "has neither plots nor value")
    return out


def _opt_ident(obj: dict, key: str, path: str) -> str | None:
    return None if obj.get(key) in (None, "") else _req_ident(obj, key, path)


def _playlist(obj: Any, path: str) -> PlaylistRef:
    playlist = _obj(obj, path)
    return PlaylistRef(
        uuid=_req_str(playlist, "uuid", path),
        name=_opt_str(playlist, "name", path),
        identifier=_opt_ident(playlist, "identifier", path),
        platform=_opt_str(playlist, "platform", path),
        country_code=_opt_str(playlist, "countryCode", path),
        latest_crawl_date=_opt_date(playlist, "latestCrawlDate", path),
        latest_track_count=_opt_int(playlist, "latestTrackCount", path),
        latest_subscriber_count=_opt_int(playlist, "latestSubscriberCount", path),
        image_url=_opt_str(playlist, "imageUrl", path),
        type=_opt_str(playlist, "type", path),
    )


def parse_playlist_entries(body: Any) -> list[PlaylistEntry]:
    """8.5, one page."""
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        out.append(PlaylistEntry(
            playlist=_playlist(item.get("playlist"), f"{path}.playlist"),
            position=_req_int(item, "position", path),
            peak_position=_opt_int(item, "peakPosition", path),
            entry_date=_opt_date(item, "entryDate", path),
            exit_date=_opt_date(item, "exitDate", path),
            position_date=_opt_date(item, "positionDate", path),
            peak_position_date=_opt_date(item, "peakPositionDate", path),
        ))
    return out
