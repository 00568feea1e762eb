"""JSON shapes of catalog objects, exactly as the contract names them (camelCase)."""

from __future__ import annotations

from .charts import Chart
from .history import Entry
from .referential import PLATFORMS
from .songs import Identifier, Song, isrc_country
from .timefmt import atom_noon, atom_utc, paris_midnight


def chart_json(chart: Chart, with_metric: bool = False) -> dict:
    """A chart as in chart lists (3.1); ``with_metric`` adds ``metric`` as in ``related.chart`` (3.2)."""
    body = {"name": chart.name, "type": chart.type, "slug": chart.slug, "platform": chart.platform,
            "frequency": chart.frequency, "countryCode": chart.country_code,
            "countryName": chart.country_name, "cityName": chart.city_name,
            "maxResultsCount": chart.max_results, "webUrl": chart.web_url}
    if with_metric:
        body["metric"] = {"type": chart.metric[0], "description": chart.metric[1]} if chart.metric else None
    return body


def entry_json(entry: Entry, chart: Chart) -> dict:
    song = entry.song
    entry_date = (atom_noon if chart.style.noon_entry else atom_utc)(entry.entry_date)
    return {"song": {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name,
                     "imageUrl": song.image_url},
            "position": entry.position, "positionEvolution": entry.position_evolution, "metric": entry.metric,
            "entryState": entry.entry_state, "entryDate": entry_date,
            "rankDate": atom_utc(entry.rank_date), "oldPosition": entry.old_position,
            "timeOnChart": entry.time_on_chart, "timeOnChartUnit": chart.unit}


def song_ref(song: Song) -> dict:
    """``related`` of song-scoped collections."""
    return {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name}


def _artists(song: Song) -> list[dict]:
    if "no-artists" in song.quirks:
        return []
    return [{"uuid": a.uuid, "slug": a.slug, "name": a.name, "appUrl": a.app_url, "imageUrl": a.image_url}
            for a in song.artists]


def release_date(song: Song) -> str | None:
    return paris_midnight(song.release) if song.release_known else None


def song_v225(song: Song) -> dict:
    """The ``/api/v2.25/song/{uuid}`` object."""
    isrc = None
    if song.isrc:
        code, name = ("", "") if "isrc-country-blank" in song.quirks else isrc_country(song.isrc)
        isrc = {"value": song.isrc, "countryCode": code, "countryName": name}
    return {"uuid": song.uuid, "name": song.name, "isrc": isrc, "iswcs": list(song.iswcs),
            "creditName": song.credit_name, "artists": _artists(song), "releaseDate": release_date(song),
            "copyright": song.copyright, "appUrl": song.app_url, "imageUrl": song.image_url,
            "duration": song.duration, "explicit": song.explicit,
            "genres": [{"root": root, "sub": list(sub)} for root, sub in song.genres],
            "composers": list(song.composers), "producers": list(song.producers),
            "labels": [{"name": name, "type": kind} for name, kind in song.labels],
            "audio": dict(song.audio) if song.audio else None}


def song_v2(song: Song) -> dict:
    """The legacy ``/api/v2/song/{uuid}`` object: ``isrc`` a plain string, one ``label`` string, no genres."""
    return {"uuid": song.uuid, "name": song.name, "isrc": song.isrc, "creditName": song.credit_name,
            "artists": _artists(song), "releaseDate": release_date(song), "copyright": song.copyright,
            "appUrl": song.app_url, "imageUrl": song.image_url, "duration": song.duration,
            "label": song.labels[0][0] if song.labels else None}


def identifier_json(ident: Identifier, with_default: bool = True) -> dict:
    """An identifier row; ``default`` left out when not ``with_default`` (the contract: treat it as optional)."""
    row = {"platformName": PLATFORMS.get(ident.platform, "ISRC"), "platformCode": ident.platform,
           "identifier": ident.identifier, "url": ident.url}
    if with_default:
        row["default"] = ident.default
    return row
