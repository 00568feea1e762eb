"""Day-by-day simulation of one chart's rankings, with the derived entry fields.

Each chart draws a song pool (weighted by the chart's market) and, on every ranking date, scores each
released pool song as ``affinity * song.strength(day) * exp(noise)`` (``noise`` an AR(1) walk per song);
the top ``max_results`` make the ranking. Songs therefore climb, fall, enter, leave and re-enter.
Derived fields, all relative to the *previous served ranking* of the same chart:

- ``oldPosition``: position in the previous ranking, ``null`` if the song was not in it (new or re-entry);
- ``positionEvolution`` = ``oldPosition - position`` (positive = climbed), ``0`` when ``oldPosition`` is null;
- ``entryState``: "new" (first time on this chart), "re-entry" (back after an absence),
  else "up" / "down" / "same";
- ``entryDate``: the first ranking date the song was on this chart; ``timeOnChart``: how many rankings of
  this chart it has been on so far, this one included.

The RNG stream is ``random.Random(f"{seed}:history:{slug}")``, so charts are independent of each other.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from .charts import Chart
from .songs import Song

STATES = ("new", "re-entry", "up", "down", "same")
NOISE_SD = 0.18  # stationary spread of the log-score noise


@dataclass(frozen=True)
class Entry:
    position: int
    song: Song
    metric: int | None
    old_position: int | None
    position_evolution: int
    entry_state: str
    entry_date: dt.date
    rank_date: dt.date
    time_on_chart: int


@dataclass(frozen=True)
class Ranking:
    """One ranking date, stored compactly (parallel arrays indexed by position - 1)."""

    songs: array
    metrics: array | None
    old: array  # 0 = null
    first: array  # index into the chart's dates
    count: array
    states: bytearray


class ChartHistory:
    """All rankings of one chart, computed once."""

    def __init__(self, chart: Chart, songs: list[Song], seed: int):
        self.chart = chart
        self._songs = songs
        self.rankings = _simulate(chart, songs, random.Random(f"{seed}:history:{chart.slug}"))
        self._index = {day: k for k, day in enumerate(chart.dates)}

    def entries(self, day: dt.date) -> list[Entry] | None:
        """The ranking of ``day`` (``None`` when the chart has no ranking that day)."""
        k = self._index.get(day)
        if k is None:
            return None
        rank, dates = self.rankings[k], self.chart.dates
        return [Entry(position=pos + 1, song=self._songs[rank.songs[pos]],
                      metric=rank.metrics[pos] if rank.metrics is not None else None,
                      old_position=rank.old[pos] or None,
                      position_evolution=rank.old[pos] - (pos + 1) if rank.old[pos] else 0,
                      entry_state=STATES[rank.states[pos]], entry_date=dates[rank.first[pos]], rank_date=day,
                      time_on_chart=rank.count[pos])
                for pos in range(len(rank.songs))]


def _pool(chart: Chart, songs: list[Song], rng: random.Random) -> list[Song]:
    """Weighted sample without replacement (Efraimidis-Spirakis keys)."""
    size = min(len(songs), chart.max_results * 8 // 5 + 60)
    keyed = sorted(songs, key=lambda song: rng.random() ** (1.0 / chart.market_weight(song.market)),
                   reverse=True)
    return keyed[:size]


def _tops(chart: Chart, songs: list[Song], rng: random.Random) -> Iterator[list[tuple[float, int]]]:
    """Per ranking date, the ``(score, song index)`` pairs of the chart, best first."""
    pool = _pool(chart, songs, rng)
    affinity = [rng.lognormvariate(0.0, 0.35) for _ in pool]
    noise = [rng.gauss(0.0, NOISE_SD) for _ in pool]
    phi = 0.93 if chart.frequency == "daily" else 0.6
    spread = NOISE_SD * math.sqrt(1 - phi * phi) * math.sqrt(12)  # uniform steps with that deviation
    draw, exp = rng.random, math.exp
    for day in chart.dates:
        scored, ordinal = [], day.toordinal()
        for j, song in enumerate(pool):
            noise[j] = step = phi * noise[j] + spread * (draw() - 0.5)
            strength = song.strength(ordinal)
            if strength > 0.0:
                scored.append((affinity[j] * strength * exp(step), song.index))
        scored.sort(reverse=True)
        yield scored[:chart.max_results]


class _Tracker:
    """Derives each entry's fields from the rankings seen so far."""

    def __init__(self) -> None:
        self.previous: dict[int, int] = {}
        self.first: dict[int, int] = {}
        self.count: dict[int, int] = {}

    def rank(self, k: int, indices: list[int], metrics: array | None) -> Ranking:
        ranking = Ranking(array("i", indices), metrics, array("i"), array("i"), array("i"), bytearray())
        for pos, index in enumerate(indices, start=1):
            old = self.previous.get(index, 0)
            if index not in self.first:
                self.first[index], state = k, 0
            elif not old:
                state = 1
            else:
                state = 2 if old > pos else 3 if old < pos else 4
            self.count[index] = self.count.get(index, 0) + 1
            ranking.old.append(old)
            ranking.first.append(self.first[index])
            ranking.count.append(self.count[index])
            ranking.states.append(state)
        self.previous = {index: pos for pos, index in enumerate(indices, start=1)}
        return ranking


def _simulate(chart: Chart, songs: list[Song], rng: random.Random) -> list[Ranking]:
    tracker, scale, rankings = _Tracker(), None, []
    for k, top in enumerate(_tops(chart, songs, rng)):
        metrics = None
        if chart.metric_top and top:
            scale = scale or chart.metric_top / top[0][0]  # position 1 of the first ranking = metric_top
            metrics = array("q", (int(score * scale) for score, _ in top))
        rankings.append(tracker.rank(k, [index for _, index in top], metrics))
    return rankings
