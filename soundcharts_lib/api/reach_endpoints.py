"""A song's reach (contract 8.1-8.5), mixed into :class:`~soundcharts_lib.api.client.SoundchartsClient`: its chart
entries on every chart of a platform, lookups by ISRC or platform id, popularity and current playlists.

Each path carries its own version segment (v2 for chart entries and popularity, v2.25 for lookups, v2.20 for
playlists). ``currentOnly``, ``sortBy`` and ``sortOrder`` are always sent (the server's defaults are not documented).
An ISRC, a Spotify link or id, a platform code or identifier, a country, a sort key that is not right is refused with
a one-line :class:`~soundcharts_lib.vocab.BadValue` before any request. A 410 (ISRC blacklisted) is
:class:`~soundcharts_lib.errors.Gone`, a 404 :class:`~soundcharts_lib.errors.NotFound`.

The methods use the client's ``request``, ``_iter``, ``_parsed`` and ``_windows``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from soundcharts_lib import vocab
from soundcharts_lib.api.payloads import Song, parse_song
from soundcharts_lib.api.payloads_reach import (
    ChartEntry,
    PlaylistEntry,
    PopularityPoint,
    parse_playlist_entries,
    parse_popularity,
    parse_song_chart_entries,
)
from soundcharts_lib.api.transport import segment

SORT_ORDERS = ("asc", "desc")
CHART_ENTRY_SORTS = ("position", "rankDate")
PLAYLIST_SORTS = ("position", "positionDate", "entryDate", "subscriberCount")
PLAYLIST_TYPES = ("all", "editorial", "algorithmic", "algotorial", "major", "charts", "curators_listeners", "radios",
                  "this_is")


def chart_entry_query(current_only: bool, sort_by: str, sort_order: str) -> dict[str, object]:
    """The query of both chart-entries endpoints (7.6, 8.1): ``currentOnly`` as 1 or 0, always sent."""
    return {"currentOnly": int(bool(current_only)), "sortBy": vocab.one_of(sort_by, CHART_ENTRY_SORTS, "sort_by"),
            "sortOrder": vocab.one_of(sort_order, SORT_ORDERS, "sort_order")}


class ReachEndpoints:
    """Song reach endpoints of :class:`SoundchartsClient`."""

    def song_chart_entries(self, uuid: str, platform: str, current_only: bool = True, sort_by: str = "position",
                           sort_order: str = "asc") -> list[ChartEntry]:
        """The song's entries on every chart of ``platform`` (``current_only=False``: past entries too), all pages."""
        query = chart_entry_query(current_only, sort_by, sort_order)
        path = f"/api/v2/song/{segment(uuid)}/charts/ranks/{segment(vocab.platform(platform))}"
        return list(self._iter(path, parse_song_chart_entries, query))

    def song_by_isrc(self, isrc: str) -> Song:
        """The song of an ISRC (dashes and lower case accepted; 12 uppercase characters sent). Its ``isrc`` may be
        another of the song's ISRCs."""
        path = f"/api/v2.25/song/by-isrc/{vocab.isrc(isrc)}"
        return self._parsed(parse_song, self.request(path, cached=True), path)

    def song_by_platform(self, platform: str, identifier: str) -> Song:
        """The song of a platform identifier; on ``spotify`` a track link or URI is reduced to its id."""
        code = vocab.platform(platform)
        ident = vocab.spotify_track_id(identifier) if code == "spotify" else vocab.platform_id(identifier)
        path = f"/api/v2.25/song/by-platform/{segment(code)}/{segment(ident)}"
        return self._parsed(parse_song, self.request(path, cached=True), path)

    def song_popularity(self, uuid: str, platform: str, start: str | date, end: str | date) -> list[PopularityPoint]:
        """Popularity for start..end inclusive, asked in windows of <= 90 days; one point per (day, identifier),
        first seen kept, ascending (identifier-less points first on their day)."""
        path = f"/api/v2/song/{segment(uuid)}/popularity/{segment(vocab.platform(platform))}"
        points: dict[tuple[date, str], PopularityPoint] = {}
        for body in self._windows(path, start, end):
            for point in self._parsed(parse_popularity, body, path):
                points.setdefault((point.date, point.identifier or ""), point)
        return [points[k] for k in sorted(points)]

    def iter_song_playlists(self, uuid: str, platform: str, *, current_only: bool = True, playlist_type: str = "all",
                            country_code: str | None = None, playlist_uuids: Iterable[str] = (),
                            sort_by: str = "subscriberCount", sort_order: str = "desc") -> Iterator[PlaylistEntry]:
        """The song's playlist entries on ``platform``, page after page (biggest playlists first by default)."""
        uuids = [vocab.uuid(u) for u in playlist_uuids]
        query = {"type": vocab.one_of(playlist_type, PLAYLIST_TYPES, "playlist_type"),
                 "currentOnly": int(bool(current_only)),
                 "countryCode": None if country_code is None else vocab.country(country_code),
                 "playlistUuids": ",".join(uuids) or None,
                 "sortBy": vocab.one_of(sort_by, PLAYLIST_SORTS, "sort_by"),
                 "sortOrder": vocab.one_of(sort_order, SORT_ORDERS, "sort_order")}
        path = f"/api/v2.20/song/{segment(uuid)}/playlist/current/{segment(vocab.platform(platform))}"
        return self._iter(path, parse_playlist_entries, query)

    def song_playlists(self, uuid: str, platform: str, **options) -> list[PlaylistEntry]:
        """Every entry of :meth:`iter_song_playlists` (same options)."""
        return list(self.iter_song_playlists(uuid, platform, **options))
