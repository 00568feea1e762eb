"""The server's deterministic world, also usable in-process (``srv.catalog``) by tests.

- ``catalog.charts``: ``{slug: Chart}`` (``chart.dates`` = its ranking dates, oldest first);
- ``catalog.songs``: ``{uuid: Song}`` (``song.identifiers``, ``song.credit_name``, ...);
- ``catalog.ranking(slug, day)``: the list of :class:`~.history.Entry` served for that date, or ``None``;
- ``catalog.series(uuid, platform, kind)``: newest-first ``(day, ((identifier, value), ...))`` of
  ``kind`` "audience" or "popularity" (the data behind those endpoints, before date filtering).

Chart histories are simulated on first use and kept (~0.3 MB per chart); the same seed and ``today``
always give the same catalog. Unless ``tidy``, the artists, songs and charts are rewritten by :mod:`.untidy`
(nulls, empty values, messy names, charts whose history starts before the served window, ...): its docstring
lists every kind, its share, and how to find such items here.
"""

from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache

from . import audience, untidy
from .charts import Chart, build_charts
from .history import ChartHistory, Entry
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
