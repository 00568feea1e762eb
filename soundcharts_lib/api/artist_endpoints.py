"""Artist endpoints (contract 7.1-7.6), mixed into :class:`~soundcharts_lib.api.client.SoundchartsClient`: metadata
(one, a batch, or by platform id), songs, followers, listening and chart entries.

Version segment per path: v2.9 metadata, v2.21 songs, v2 series and chart entries. Series are asked in windows of
at most 90 days (every page of each window followed), merged one day per date, ascending. A 404 on a series whose
message is not "Artist not found" (no account on that platform, not a social or streaming platform) is
:class:`~soundcharts_lib.errors.NoPlatformData`, a ``NotFound`` a caller may treat as "no data". A platform code or
identifier, a sort key that is not right is refused with a one-line ``BadValue`` before any request.

The methods use the client's ``request``, ``_iter``, ``_parsed`` and ``_windows``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, TypeVar

from soundcharts_lib import vocab
from soundcharts_lib.api.payloads_artist import (
    ArtistFollowers,
    ArtistListening,
    ArtistProfile,
    ArtistSong,
    parse_artist,
    parse_artist_chart_entries,
    parse_artist_followers,
    parse_artist_listening,
    parse_artist_songs,
    parse_artists,
)
from soundcharts_lib.api.payloads_reach import ChartEntry
from soundcharts_lib.api.reach_endpoints import SORT_ORDERS, chart_entry_query
from soundcharts_lib.api.transport import segment
from soundcharts_lib.errors import NoPlatformData, NotFound

ARTIST_SONG_SORTS = ("name", "releaseDate", "spotifyStream", "shazamCount", "youtubeViews", "spotifyPopularity",
                     "soundchartsScore")
BATCH_MAX = 10                       # artists per batch metadata call
ARTIST_NOT_FOUND = "artist not found"

S = TypeVar("S", ArtistFollowers, ArtistListening)


def merged(pages: list[S]) -> S:
    """Pages of one series as one: days by date (first seen kept), ascending; ``related`` from the last page that
    names the artist."""
    by_date = {}
    for page in pages:
        for day in page.days:
            by_date.setdefault(day.date, day)
    named = [p for p in pages if p.artist is not None] or pages
    return named[-1].model_copy(update={"days": [by_date[d] for d in sorted(by_date)]})


class ArtistEndpoints:
    """Artist endpoints of :class:`SoundchartsClient`."""

    def artist(self, uuid: str) -> ArtistProfile:
        path = f"/api/v2.9/artist/{segment(uuid)}"
        return self._parsed(parse_artist, self.request(path, cached=True), path)

    def artists(self, uuids: Iterable[str]) -> list[ArtistProfile]:
        """Metadata of several artists, ten per call (the batch path ``/api/v2.9/artist/{uuid,uuid,...}``), in the
        order the API answers; an artist it does not know is absent."""
        wanted = list(dict.fromkeys(uuids))
        found = []
        for i in range(0, len(wanted), BATCH_MAX):
            path = "/api/v2.9/artist/" + ",".join(segment(u) for u in wanted[i:i + BATCH_MAX])
            found.extend(self._parsed(parse_artists, self.request(path, cached=True), path))
        return found

    def artist_by_platform(self, platform: str, identifier: str) -> ArtistProfile:
        """The artist of a platform identifier (percent-encoded: YouTube ids hold ``/``). A 404 is not billed."""
        path = (f"/api/v2.9/artist/by-platform/{segment(vocab.platform(platform))}/"
                f"{segment(vocab.platform_id(identifier))}")
        return self._parsed(parse_artist, self.request(path, cached=True), path)

    def iter_artist_songs(self, uuid: str, sort_by: str = "name", sort_order: str = "asc",
                          main_performer: bool | None = None) -> Iterator[ArtistSong]:
        """The artist's songs, featured ones included (``main_performer`` True: only as main performer, False: only
        featured), page after page, each uuid once."""
        query = {"sortBy": vocab.one_of(sort_by, ARTIST_SONG_SORTS, "sort_by"),
                 "sortOrder": vocab.one_of(sort_order, SORT_ORDERS, "sort_order"),
                 "mainPerformer": None if main_performer is None else int(main_performer)}
        path = f"/api/v2.21/artist/{segment(uuid)}/songs"
        return _unique(self._iter(path, parse_artist_songs, query))

    def _series(self, path: str, parse, start: str | date, end: str | date) -> Any:
        try:
            return merged([self._parsed(parse, body, path) for body in self._windows(path, start, end)])
        except NotFound as exc:
            if type(exc) is NotFound and exc.api_message and ARTIST_NOT_FOUND not in exc.api_message.lower():
                raise NoPlatformData(exc.api_message, status=exc.status, endpoint=exc.endpoint, key=exc.key,
                                     headers=exc.headers) from None
            raise

    def artist_followers(self, uuid: str, platform: str, start: str | date, end: str | date) -> ArtistFollowers:
        """Followers (and likes, posts, views where the platform has them) for start..end inclusive: running totals
        per day, days the API skipped left out."""
        path = f"/api/v2/artist/{segment(uuid)}/audience/{segment(vocab.platform(platform))}"
        return self._series(path, parse_artist_followers, start, end)

    def artist_listeners(self, uuid: str, platform: str, start: str | date, end: str | date) -> ArtistListening:
        """Listening (Spotify monthly listeners, YouTube views, ...) for start..end inclusive."""
        path = f"/api/v2/artist/{segment(uuid)}/streaming/{segment(vocab.platform(platform))}/listening"
        return self._series(path, parse_artist_listening, start, end)

    def artist_chart_entries(self, uuid: str, platform: str, current_only: bool = True, sort_by: str = "position",
                             sort_order: str = "asc") -> list[ChartEntry]:
        """The artist's songs on every chart of ``platform`` (``current_only=False``: past entries too)."""
        query = chart_entry_query(current_only, sort_by, sort_order)
        path = f"/api/v2/artist/{segment(uuid)}/charts/song/ranks/{segment(vocab.platform(platform))}"
        return list(self._iter(path, parse_artist_chart_entries, query))


def _unique(songs: Iterator[ArtistSong]) -> Iterator[ArtistSong]:
    seen: set[str] = set()
    for song in songs:
        if song.uuid not in seen:
            seen.add(song.uuid)
            yield song
