"""Validation of SoundCharts JSON bodies into typed, frozen records.

Tolerant of nulls and missing optional fields; strict on what the code relies on: a missing or
invalid required field raises :class:`PayloadError` naming it (e.g. ``items[3].song.uuid missing``).
Dates come from the first 10 characters of a timestamp (its local calendar day, no UTC shift).
Empty optional strings become ``None``. Identifiers are always strings.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from soundcharts_lib.errors import PayloadError


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Platform(_Record):
    code: str
    name: str


class ChartInfo(_Record):
    slug: str
    name: str
    platform: str
    type: str | None = None
    frequency: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    city_name: str | None = None
    max_results: int | None = None
    web_url: str | None = None
    metric_type: str | None = None
    metric_description: str | None = None


class SongRef(_Record):
    uuid: str
    name: str
    credit_name: str | None = None
    image_url: str | None = None


class RankingEntry(_Record):
    song: SongRef
    position: int
    position_evolution: int | None = None
    metric: int | None = None
    entry_state: str | None = None
    entry_date: dt.date | None = None
    rank_date: dt.date | None = None
    old_position: int | None = None
    time_on_chart: int | None = None
    time_on_chart_unit: str | None = None


class Ranking(_Record):
    chart: ChartInfo
    date: dt.date
    date_raw: str
    entries: list[RankingEntry]


class Artist(_Record):
    uuid: str
    slug: str | None = None
    name: str
    app_url: str | None = None
    image_url: str | None = None


class Song(_Record):
    uuid: str
    name: str
    credit_name: str | None = None
    isrc: str | None = None
    isrc_country_code: str | None = None
    artists: list[Artist] = []
    release_date: dt.date | None = None
    image_url: str | None = None
    app_url: str | None = None
    duration: int | None = None
    explicit: bool | None = None
    genres: list[str] = []
    labels: list[str] = []
    copyright: str | None = None
    composers: list[str] = []
    producers: list[str] = []


class Identifier(_Record):
    platform_code: str
    platform_name: str | None = None
    identifier: str
    url: str | None = None
    default: bool | None = None


class AudiencePoint(_Record):
    date: dt.date
    identifier: str
    value: int


class AudienceDay(_Record):
    date: dt.date
    date_raw: str
    plots: list[AudiencePoint]
    raw: dict


# --- field readers: each names the field path in its error -------------------------------------

def _fail(path: str, problem: str) -> PayloadError:
    return PayloadError(f"{path} {problem}", field=path)


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, "missing" if value is None else "is not an object")
    return value


def _req_str(obj: dict, key: str, path: str) -> str:
    value = obj.get(key)
    if value is None or value == "":
        raise _fail(f"{path}.{key}", "missing")
    if not isinstance(value, str):
        raise _fail(f"{path}.{key}", "is not a string")
    return value


def _opt_str(obj: dict, key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _fail(f"{path}.{key}", "is not a string")
    return value


def _as_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _fail(path, "is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _fail(path, "is not an integer")


def _req_int(obj: dict, key: str, path: str) -> int:
    value = obj.get(key)
    if value is None:
        raise _fail(f"{path}.{key}", "missing")
    return _as_int(value, f"{path}.{key}")


def _opt_int(obj: dict, key: str, path: str) -> int | None:
    value = obj.get(key)
    return None if value is None or value == "" else _as_int(value, f"{path}.{key}")


def _opt_bool(obj: dict, key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _fail(f"{path}.{key}", "is not a boolean")


def _req_ident(obj: dict, key: str, path: str) -> str:
    """An identifier: a non-empty string, or an integral number turned into its exact digits."""
    value = obj.get(key)
    if value is None or value == "":
        raise _fail(f"{path}.{key}", "missing")
    if isinstance(value, str):
        return value
    return str(_as_int(value, f"{path}.{key}"))


def _str_list(obj: dict, key: str, path: str) -> list[str]:
    """A list of strings; nulls and empty strings are dropped."""
    values = (_as_str(v, f"{path}.{key}[{i}]") for i, v in enumerate(_list(obj, key, path)))
    return [v for v in values if v]


def _as_str(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _fail(path, "is not a string")


def _list(obj: dict, key: str, path: str) -> list:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(f"{path}.{key}", "is not a list")
    return value


def local_date(ts: str, field: str = "") -> dt.date:
    """Calendar day of an ISO timestamp as written (first 10 characters; no shift to UTC)."""
    try:
        return dt.date.fromisoformat(ts[:10])
    except (TypeError, ValueError):
        raise PayloadError(f"{field or 'timestamp'} is not a date: {str(ts)[:40]!r}", field=field) from None


def _req_date(obj: dict, key: str, path: str) -> tuple[dt.date, str]:
    raw = _req_str(obj, key, path)
    return local_date(raw, f"{path}.{key}"), raw


def _opt_date(obj: dict, key: str, path: str) -> dt.date | None:
    raw = _opt_str(obj, key, path)
    return None if raw is None else local_date(raw, f"{path}.{key}")


def _items(body: Any) -> list:
    items = _obj(body, "body").get("items")
    if not isinstance(items, list):
        raise _fail("items", "missing" if items is None else "is not a list")
    return items


def page_next(body: Any) -> str | None:
    """``page.next`` of a collection body (a root-relative path with query), or None at the end."""
    page = _obj(body, "body").get("page")
    if page is None:
        return None
    nxt = _obj(page, "page").get("next")
    if nxt is None or nxt == "":
        return None
    if not isinstance(nxt, str):
        raise _fail("page.next", "is not a string")
    return nxt


def parse_error_body(text: str) -> tuple[str, str]:
    """``(key, message)`` of an error response; a non-JSON body gives ``("", first 200 chars)``."""
    try:
        body = json.loads(text)
    except ValueError:
        return "", text.strip()[:200]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("key") or ""), str(first.get("message") or "")
    return "", text.strip()[:200]


# --- referential and charts ------------------------------------------------------------------

def parse_platforms(body: Any) -> list[Platform]:
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        out.append(Platform(code=_req_str(item, "code", path), name=_req_str(item, "name", path)))
    return out


def parse_chart(obj: Any, path: str = "chart") -> ChartInfo:
    chart = _obj(obj, path)
    metric = chart.get("metric")
    metric = _obj(metric, f"{path}.metric") if metric is not None else {}
    return ChartInfo(
        slug=_req_str(chart, "slug", path),
        name=_req_str(chart, "name", path),
        platform=_req_str(chart, "platform", path),
        type=_opt_str(chart, "type", path),
        frequency=_opt_str(chart, "frequency", path),
        country_code=_opt_str(chart, "countryCode", path),
        country_name=_opt_str(chart, "countryName", path),
        city_name=_opt_str(chart, "cityName", path),
        max_results=_opt_int(chart, "maxResultsCount", path),
        web_url=_opt_str(chart, "webUrl", path),
        metric_type=_opt_str(metric, "type", f"{path}.metric"),
        metric_description=_opt_str(metric, "description", f"{path}.metric"),
    )


def parse_charts(body: Any) -> list[ChartInfo]:
    return [parse_chart(item, f"items[{i}]") for i, item in enumerate(_items(body))]


def _song_ref(obj: Any, path: str) -> SongRef:
    song = _obj(obj, path)
    return SongRef(
        uuid=_req_str(song, "uuid", path),
        name=_req_str(song, "name", path),
        credit_name=_opt_str(song, "creditName", path),
        image_url=_opt_str(song, "imageUrl", path),
    )


def _entry(obj: Any, path: str) -> RankingEntry:
    item = _obj(obj, path)
    return RankingEntry(
        song=_song_ref(item.get("song"), f"{path}.song"),
        position=_req_int(item, "position", path),
        position_evolution=_opt_int(item, "positionEvolution", path),
        metric=_opt_int(item, "metric", path),
        entry_state=_opt_str(item, "entryState", path),
        entry_date=_opt_date(item, "entryDate", path),
        rank_date=_opt_date(item, "rankDate", path),
        old_position=_opt_int(item, "oldPosition", path),
        time_on_chart=_opt_int(item, "timeOnChart", path),
        time_on_chart_unit=_opt_str(item, "timeOnChartUnit", path),
    )


def parse_ranking(body: Any) -> Ranking:
    """One page of a ranking (latest or for a date); the client concatenates pages."""
    related = _obj(_obj(body, "body").get("related"), "related")
    day, raw = _req_date(related, "date", "related")
    return Ranking(
        chart=parse_chart(related.get("chart"), "related.chart"),
        date=day,
        date_raw=raw,
        entries=[_entry(item, f"items[{i}]") for i, item in enumerate(_items(body))],
    )


def parse_available_rankings(body: Any) -> list[str]:
    """Ranking timestamps exactly as the API wrote them (to be sent back verbatim)."""
    out = []
    for i, raw in enumerate(_items(body)):
        if not isinstance(raw, str) or not raw:
            raise _fail(f"items[{i}]", "is not a timestamp string")
        local_date(raw, f"items[{i}]")
        out.append(raw)
    return out


# --- song -----------------------------------------------------------------------------------

def _artist(obj: Any, path: str) -> Artist:
    artist = _obj(obj, path)
    return Artist(
        uuid=_req_str(artist, "uuid", path),
        slug=_opt_str(artist, "slug", path),
        name=_req_str(artist, "name", path),
        app_url=_opt_str(artist, "appUrl", path),
        image_url=_opt_str(artist, "imageUrl", path),
    )


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _genres(song: dict, path: str) -> list[str]:
    """Root genres first, then sub-genres, flattened without duplicates."""
    roots: list[str] = []
    subs: list[str] = []
    for i, raw in enumerate(_list(song, "genres", path)):
        gpath = f"{path}.genres[{i}]"
        if isinstance(raw, str):  # a plain list of names (the artist definition's shape); "" = unknown
            if raw:
                roots.append(raw)
            continue
        genre = _obj(raw, gpath)
        root = _opt_str(genre, "root", gpath)
        if root:
            roots.append(root)
        subs.extend(_str_list(genre, "sub", gpath))
    return _unique(roots + subs)


def _labels(song: dict, path: str) -> list[str]:
    """v2.25 ``labels: [{name, type}]``; older versions give ``label`` as a string."""
    names = []
    for i, raw in enumerate(_list(song, "labels", path)):
        lpath = f"{path}.labels[{i}]"
        name = _as_str(raw, lpath) if not isinstance(raw, dict) else _opt_str(raw, "name", lpath)
        if name:
            names.append(name)
    legacy = _opt_str(song, "label", path)
    if legacy:
        names.append(legacy)
    return _unique(names)


def _isrc(song: dict, path: str) -> tuple[str | None, str | None]:
    """v2.8+ ``isrc: {value, countryCode, ...}``; v2 gives ``isrc`` as a plain string."""
    raw = song.get("isrc")
    if raw is None or isinstance(raw, str):
        return raw or None, None
    isrc = _obj(raw, f"{path}.isrc")
    return _opt_str(isrc, "value", f"{path}.isrc"), _opt_str(isrc, "countryCode", f"{path}.isrc")


def parse_song(body: Any) -> Song:
    """Song metadata (v2.25 shape; the legacy v2/v2.8 shapes are adapted)."""
    path = "object"
    song = _obj(_obj(body, "body").get("object"), path)
    isrc, isrc_country = _isrc(song, path)
    return Song(
        uuid=_req_str(song, "uuid", path),
        name=_req_str(song, "name", path),
        credit_name=_opt_str(song, "creditName", path),
        isrc=isrc,
        isrc_country_code=isrc_country,
        artists=[_artist(a, f"{path}.artists[{i}]") for i, a in enumerate(_list(song, "artists", path))],
        release_date=_opt_date(song, "releaseDate", path),
        image_url=_opt_str(song, "imageUrl", path),
        app_url=_opt_str(song, "appUrl", path),
        duration=_opt_int(song, "duration", path),
        explicit=_opt_bool(song, "explicit", path),
        genres=_genres(song, path),
        labels=_labels(song, path),
        copyright=_opt_str(song, "copyright", path),
        composers=_unique(_str_list(song, "composers", path)),
        producers=_unique(_str_list(song, "producers", path)),
    )


def parse_identifiers(body: Any) -> list[Identifier]:
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        out.append(Identifier(
            platform_code=_req_str(item, "platformCode", path),
            platform_name=_opt_str(item, "platformName", path),
            identifier=_req_ident(item, "identifier", path),
            url=_opt_str(item, "url", path),
            default=_opt_bool(item, "default", path),
        ))
    return out


def parse_audience(body: Any) -> list[AudienceDay]:
    """One :class:`AudienceDay` per item, in body order. Plots whose value is null are skipped
    (a missing data point, like a missing day); ``raw`` keeps the item as received."""
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        day, date_raw = _req_date(item, "date", path)
        plots = []
        for j, plot_raw in enumerate(_list(item, "plots", path)):
            ppath = f"{path}.plots[{j}]"
            plot = _obj(plot_raw, ppath)
            if plot.get("value") is None:
                continue
            plots.append(AudiencePoint(date=day, identifier=_req_ident(plot, "identifier", ppath),
                                       value=_req_int(plot, "value", ppath)))
        out.append(AudienceDay(date=day, date_raw=date_raw, plots=plots, raw=item))
    return out
