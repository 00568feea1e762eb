"""A song's chart entries everywhere (8.1) and an artist's (7.6), read off the simulated chart histories.

One :class:`RankItem` per (song, chart) the song has ever been on. *Current* = the song is ranked in the chart's
latest served ranking: the item then carries that ranking's own values (position, ``oldPosition``,
``positionEvolution``, ``entryState``, ``entryDate``, ``timeOnChart``, spelled in the chart's style), so a song
ranked on the latest date of a chart always appears here with the same figures. *Past* = ranked before but not
now: ``position`` 0, ``rankDate`` = the last ranking it was on, ``oldPosition`` = its position there,
``timeOnChart`` = the rankings it was on, ``entryState`` "down" ("" on charts with blank states) and
``positionEvolution`` 0 (null on charts that write null for a missing previous position), as the rankings'
position-0 drop-out items. ``peakPosition``/``peakDate`` = its best position and the first date it reached it.
Histories began before the served window on most untidy charts, so an entry date, a peak date or (for a past
entry) the rank date can precede the first served ranking.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Protocol

from .charts import Chart
from .history import ChartHistory, Entry, Standing
from .songs import Song


class Histories(Protocol):
    charts: dict[str, Chart]
    song_list: list[Song]

    def history(self, slug: str) -> ChartHistory: ...


@dataclass(frozen=True)
class RankItem:
    chart: Chart
    song: Song
    position: int  # 0 = no longer in the chart
    position_evolution: int | None
    old_position: int | None
    entry_state: str
    entry_date: dt.date
    rank_date: dt.date
    time_on_chart: int
    peak_position: int
    peak_date: dt.date

    @property
    def current(self) -> bool:
        return self.position > 0


def _current(entry: Entry, chart: Chart, standing: Standing) -> RankItem:
    return RankItem(chart, entry.song, entry.position, entry.position_evolution, entry.old_position,
                    entry.entry_state, entry.entry_date, entry.rank_date, entry.time_on_chart, standing.peak,
                    standing.peak_date)


def _past(song: Song, chart: Chart, standing: Standing) -> RankItem:
    style = chart.style
    return RankItem(chart, song, 0, None if style.null_evolution else 0, standing.last_position,
                    "" if style.blank_states else "down", standing.first, standing.last, standing.count,
                    standing.peak, standing.peak_date)


class Ranks:
    """Chart entries per (song, platform); each chart's latest ranking indexed once."""

    def __init__(self, catalog: Histories):
        self._catalog = catalog
        self._latest: dict[str, dict[int, Entry]] = {}
        self._lock = threading.Lock()

    def _latest_of(self, slug: str) -> dict[int, Entry]:
        with self._lock:
            found = self._latest.get(slug)
        if found is None:
            chart, catalog = self._catalog.charts[slug], self._catalog
            entries = catalog.history(slug).entries(chart.dates[-1]) if chart.dates else None
            found = {entry.song.index: entry for entry in entries or () if entry.position}
            with self._lock:
                self._latest[slug] = found
        return found

    def of_song(self, song: Song, platform: str) -> list[RankItem]:
        """Every chart of ``platform`` ``song`` has been on, current or past, in chart order."""
        catalog = self._catalog
        if song.index >= len(catalog.song_list) or catalog.song_list[song.index] is not song:
            return []  # not in any chart's song pool
        items = []
        for slug, chart in catalog.charts.items():
            if chart.platform != platform:
                continue
            standing = catalog.history(slug).standing(song.index)
            if standing is None:
                continue
            entry = self._latest_of(slug).get(song.index)
            items.append(_current(entry, chart, standing) if entry else _past(song, chart, standing))
        return items


def order(items: list[RankItem], sort_by: str, descending: bool) -> list[RankItem]:
    """Items by ``position`` (0 counts as below every position: last ascending, first descending) or by
    ``rankDate`` (then position); ties by chart slug and song uuid, always ascending."""
    def position(item: RankItem) -> float:
        return item.position or float("inf")

    def key(item: RankItem) -> tuple:
        return (position(item),) if sort_by == "position" else (item.rank_date, position(item))

    tied = sorted(items, key=lambda item: (item.chart.slug, item.song.uuid))
    return sorted(tied, key=key, reverse=descending)
