"""JSON shapes of chart entries (7.6, 8.1) and playlist placements (8.5), as the contract names them."""

from __future__ import annotations

from .playlists import Placement, Playlist
from .ranks import RankItem
from .timefmt import atom_noon, atom_utc, paris_midnight
from .views import chart_json

OLDER_RANK_KEYS = ("peakPosition", "peakDate")


def rank_json(item: RankItem, with_song: bool, older: bool = False) -> dict:
    """One chart entry; ``with_song`` adds ``song`` (7.6); ``older`` drops what the older spec lacks
    (``peakPosition``, ``peakDate``, ``chart.webUrl``)."""
    chart, song = item.chart, item.song
    body: dict = {"chart": chart_json(chart)}
    if with_song:
        body["song"] = {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name,
                        "imageUrl": song.image_url}
    body.update({
        "position": item.position, "positionEvolution": item.position_evolution,
        "peakPosition": item.peak_position, "peakDate": atom_utc(item.peak_date), "entryState": item.entry_state,
        "entryDate": (atom_noon if chart.style.noon_entry else atom_utc)(item.entry_date),
        "rankDate": atom_utc(item.rank_date), "oldPosition": item.old_position, "current": item.current,
        "timeOnChart": item.time_on_chart, "timeOnChartUnit": chart.unit})
    if older:
        del body["chart"]["webUrl"]
        for key in OLDER_RANK_KEYS:
            del body[key]
    return body


def playlist_json(playlist: Playlist, legacy: bool = False) -> dict:
    """A playlist object; ``legacy`` (``/api/v2``) lacks ``imageUrl`` and ``type``."""
    body = {"uuid": playlist.uuid, "name": playlist.name, "identifier": playlist.identifier,
            "platform": playlist.platform, "countryCode": playlist.country_code,
            "latestCrawlDate": paris_midnight(playlist.crawl_date), "latestTrackCount": playlist.track_count,
            "latestSubscriberCount": playlist.subscribers, "imageUrl": playlist.image_url, "type": playlist.type}
    if legacy:
        del body["imageUrl"], body["type"]
    return body


def placement_json(placement: Placement, legacy: bool = False, exit_key: bool = True) -> dict:
    """A placement; without ``exit_key`` a current one has no ``exitDate`` key."""
    body = {"playlist": playlist_json(placement.playlist, legacy), "position": placement.position,
            "peakPosition": placement.peak_position, "entryDate": atom_utc(placement.entry_date),
            "exitDate": atom_utc(placement.exit_date) if placement.exit_date else None,
            "positionDate": atom_utc(placement.position_date), "peakPositionDate": atom_utc(placement.peak_date)}
    if not exit_key and placement.exit_date is None:
        del body["exitDate"]
    return body
