"""The server's deterministic world, also usable in-process (``srv.catalog``) by tests.

- ``catalog.charts``: ``{slug: Chart}`` (``chart.dates`` = its ranking dates, oldest first);
- ``catalog.songs``: ``{uuid: Song}`` (``song.identifiers``, ``song.credit_name``, ...);
- ``catalog.ranking(slug, day)``: the list of :class:`~.history.Entry` served for that date, or ``None``;
- ``catalog.series(uuid, platform, kind)``: newest-first ``(day, ((identifier, value), ...))`` of
  ``kind`` "audience" or "popularity" (the data behind those endpoints, before date filtering).

``catalog.song_list`` holds the songs the charts draw from; ``catalog.extra_songs`` the songs of the artists none of
them credits (never charting); ``catalog.songs`` both. For the artist and song-reach endpoints:

- ``catalog.profiles``: ``{artist uuid: Profile}`` (:mod:`.artists`), ``catalog.artist_ids``:
  ``{(platform, id): Profile}``;
- ``catalog.followers(uuid, platform)`` / ``catalog.listening(uuid, platform)``: oldest-first points
  (:mod:`.artist_series`);
- ``catalog.ranks.of_song(song, platform)``: chart entries (:mod:`.ranks`);
- ``catalog.lookups``: ISRC and platform-id lookups and per-song reach quirks (:mod:`.song_reach`);
- ``catalog.playlists``: ``{platform: [Playlist]}``, ``catalog.placements(uuid, platform)`` (:mod:`.playlists`).

Chart histories are simulated on first use and kept (~0.3 MB per chart); the same seed and ``today``
always give the same catalog. Unless ``tidy``, the artists, songs and charts are rewritten by :mod:`.untidy`
(nulls, empty values, messy names, charts whose history starts before the served window, ...): its docstring
lists every kind, its share, and how to find such items here.
"""

from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache

from . import artist_series, audience, playlists, untidy
from .artists import build_profiles, extra_songs
from .charts import Chart, build_charts
from .history import ChartHistory, Entry
from .ranks import Ranks
from .song_reach import Lookups
from .songs import SONG_COUNT, Artist, Song, build_artists, build_song


class Catalog:
    def __init__(self, seed: int, today: dt.date, history_days: int, tidy: bool = False):
        self.seed, self.today, self.history_days, self.tidy = seed, today, history_days, tidy
        artists = build_artists(seed)
        if not tidy:
            artists = untidy.artists(seed, artists)
        self.artists: dict[str, Artist] = {artist.uuid: artist for artist in artists}
        songs = [build_song(seed, index, artists, today, history_days) for index in range(SONG_COUNT)]
        self.song_list: list[Song] = songs if tidy else [untidy.song(seed, song, today) for song in songs]
        self.songs: dict[str, Song] = {song.uuid: song for song in self.song_list}
        charts = build_charts(seed, today, history_days)
        if not tidy:
            charts = [untidy.chart(seed, chart, today, history_days) for chart in charts]
        self.charts: dict[str, Chart] = {chart.slug: chart for chart in charts}
        self._histories: dict[str, ChartHistory] = {}
        self._lock = threading.Lock()
        self.series = lru_cache(maxsize=256)(self._series)
        self._reach(seed, today, history_days, tidy)

    def _reach(self, seed: int, today: dt.date, history_days: int, tidy: bool) -> None:
        """What the artist and song-reach endpoints add (nothing served before depends on it)."""
        people = list(self.artists.values())
        self.extra_songs = extra_songs(seed, people, self.song_list, today, history_days, tidy)
        self.songs.update((song.uuid, song) for song in self.extra_songs)
        every_song = self.song_list + self.extra_songs
        self.profiles = build_profiles(seed, people, every_song, today, history_days, tidy)
        self.artist_ids = {key: profile for profile in self.profiles.values() for key in profile.identifiers}
        self.lookups = Lookups(seed, every_song, tidy)
        biggest = sorted(self.profiles.values(), key=lambda profile: (-profile.level, profile.uuid))
        self.playlists = playlists.build(seed, [profile.artist for profile in biggest], today, tidy)
        self.ranks = Ranks(self)
        self.followers = lru_cache(maxsize=512)(self._followers)
        self.listening = lru_cache(maxsize=512)(self._listening)
        self.placements = lru_cache(maxsize=512)(self._placements)

    def history(self, slug: str) -> ChartHistory:
        """The simulated history of one chart (``KeyError`` for an unknown slug)."""
        with self._lock:
            if slug not in self._histories:
                self._histories[slug] = ChartHistory(self.charts[slug], self.song_list, self.seed)
            return self._histories[slug]

    def ranking(self, slug: str, day: dt.date) -> list[Entry] | None:
        return self.history(slug).entries(day)

    def _series(self, uuid: str, platform: str, kind: str) -> list[audience.Point]:
        return audience.series(self.seed, self.songs[uuid], platform, kind, self.today, self.history_days)

    def _followers(self, uuid: str, platform: str) -> list[artist_series.Followers]:
        return artist_series.followers(self.seed, self.profiles[uuid], platform, self.today, self.history_days,
                                       not self.tidy)

    def _listening(self, uuid: str, platform: str) -> list[artist_series.Listening]:
        return artist_series.listening(self.seed, self.profiles[uuid], platform, self.today, self.history_days,
                                       not self.tidy)

    def _placements(self, uuid: str, platform: str) -> list[playlists.Placement]:
        return playlists.placements(self.seed, self.songs[uuid], platform, self.playlists[platform], self.today)
