"""Day-by-day simulation of one chart's rankings, with the derived entry fields.

Each chart draws a song pool (weighted by the chart's market) and, on every ranking date, scores each
released pool song as ``affinity * song.strength(day) * exp(noise)`` (``noise`` an AR(1) walk per song);
the top ``max_results`` make the ranking. Songs therefore climb, fall, enter, leave and re-enter.
The simulation runs over ``chart.lead + chart.dates`` and keeps only the served ``chart.dates``. Derived
fields, all relative to the *previous simulated ranking* of the same chart (for the first served ranking of
a chart with a ``lead``, one that is never served):

- ``oldPosition``: position in the previous ranking, ``null`` if the song was not in it (new or re-entry);
- ``positionEvolution`` = ``oldPosition - position`` (positive = climbed), ``0`` when ``oldPosition`` is null;
- ``entryState``: "new" (first time on this chart), "re-entry" (back after an absence),
  else "up" / "down" / "same";
- ``entryDate``: the first ranking date the song was on this chart; ``timeOnChart``: how many rankings of
  this chart it has been on so far, this one included.

``chart.style`` (see :class:`~.charts.ChartStyle`) then changes how they are written: "" states, 0 or
``null`` for a missing previous position, ``null`` metrics, and position-0 items after the ranked ones for
the songs of the previous ranking that left (``oldPosition`` = their last position, ``rankDate`` = the
previous ranking's date, ``entryState`` "down", ``metric`` null). :class:`Entry` holds the served values.

The RNG streams are ``random.Random(f"{seed}:history:{slug}")`` and, for null metrics,
``random.Random(f"{seed}:untidy:metric:{slug}")``, so charts are independent of each other.
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
DOWN = STATES.index("down")
NOISE_SD = 0.18  # stationary spread of the log-score noise
NO_METRIC = -1


@dataclass(frozen=True)
class Entry:
    position: int  # 0 = no longer in the chart (a drop-out item)
    song: Song
    metric: int | None
    old_position: int | None
    position_evolution: int | None
    entry_state: str
    entry_date: dt.date
    rank_date: dt.date
    time_on_chart: int


@dataclass(frozen=True)
class Standing:
    """One song's whole stay on one chart: first and last ranking dates it was on, its position on the last one,
    how many rankings it was on, and its best position with the first date it reached it."""

    first: dt.date
    last: dt.date
    last_position: int
    count: int
    peak: int
    peak_date: dt.date


@dataclass(frozen=True)
class Ranking:
    """One ranking date, stored compactly (parallel arrays indexed by position - 1), then its drop-outs."""

    songs: array
    metrics: array | None  # NO_METRIC = null
    old: array  # 0 = null
    first: array  # index into the chart's simulated dates (lead + dates)
    count: array
    states: bytearray
    dropped: array  # (song index, last position, first, count) per drop-out, flattened


class ChartHistory:
    """All served rankings of one chart, computed once; ``standings`` (:class:`Standing` per song index) sums
    up every simulated ranking, the never-served ``lead`` included."""

    def __init__(self, chart: Chart, songs: list[Song], seed: int):
        self.chart = chart
        self._songs = songs
        self._dates = chart.lead + chart.dates
        self.rankings, self.standings = _simulate(chart, songs, seed)
        self._index = {day: k for k, day in enumerate(chart.dates)}

    def standing(self, song: int) -> Standing | None:
        """Where song index ``song`` stood on this chart after its latest ranking (``None``: never on it)."""
        return self.standings.get(song)

    def entries(self, day: dt.date) -> list[Entry] | None:
        """The items served for ``day`` (``None`` when the chart has no ranking that day)."""
        k = self._index.get(day)
        if k is None:
            return None
        rank, dates, style = self.rankings[k], self._dates, self.chart.style
        absent = 0 if style.zero_old else None

        def entry(position: int, song: int, metric: int | None, old: int, first: int, count: int, state: int,
                  rank_date: dt.date) -> Entry:
            evolution = old - position if old and position else None if style.null_evolution else 0
            return Entry(position=position, song=self._songs[song], metric=metric, old_position=old or absent,
                         position_evolution=evolution, entry_state="" if style.blank_states else STATES[state],
                         entry_date=dates[first], rank_date=rank_date, time_on_chart=count)

        metrics = rank.metrics
        ranked = [entry(pos + 1, rank.songs[pos],
                        metrics[pos] if metrics is not None and metrics[pos] != NO_METRIC else None,
                        rank.old[pos], rank.first[pos], rank.count[pos], rank.states[pos], day)
                  for pos in range(len(rank.songs))]
        previous = dates[len(self.chart.lead) + k - 1] if rank.dropped else day
        gone = rank.dropped
        return ranked + [entry(0, gone[j], None, gone[j + 1], gone[j + 2], gone[j + 3], DOWN, previous)
                         for j in range(0, len(gone), 4)]


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
    # Song.strength inlined (the same float operations): this loop is most of a chart's simulation time.
    params = [(j, song.release_ordinal, song.rise, song.base, song.hype, song.tau, song.index, affinity[j])
              for j, song in enumerate(pool)]
    for day in chart.lead + chart.dates:
        scored, ordinal = [], day.toordinal()
        for j, released, rise, base, hype, tau, index, weight in params:
            noise[j] = step = phi * noise[j] + spread * (draw() - 0.5)
            age = ordinal - released
            if age < 0:
                continue
            ramp = (age + 1) / rise
            if ramp > 1.0:
                ramp = 1.0
            fade = age - rise
            strength = base + hype * ramp * (exp(-fade / tau) if fade > 0 else 1.0)
            if strength > 0.0:
                scored.append((weight * strength * exp(step), index))
        scored.sort(reverse=True)
        yield scored[:chart.max_results]


class _Tracker:
    """Derives each entry's fields from the rankings seen so far."""

    def __init__(self) -> None:
        self.previous: dict[int, int] = {}
        self.first: dict[int, int] = {}
        self.count: dict[int, int] = {}
        self.last: dict[int, tuple[int, int]] = {}  # song index -> (ranking index, position)
        self.peak: dict[int, tuple[int, int]] = {}  # song index -> (best position, first ranking index with it)

    def rank(self, k: int, indices: list[int], metrics: array | None, dropouts: bool) -> Ranking:
        ranking = Ranking(array("i", indices), metrics, array("i"), array("i"), array("i"), bytearray(),
                          array("i"))
        for pos, index in enumerate(indices, start=1):
            old = self.previous.get(index, 0)
            if index not in self.first:
                self.first[index], state = k, 0
            elif not old:
                state = 1
            else:
                state = 2 if old > pos else 3 if old < pos else 4
            self.count[index] = self.count.get(index, 0) + 1
            self.last[index] = (k, pos)
            if index not in self.peak or pos < self.peak[index][0]:
                self.peak[index] = (pos, k)
            ranking.old.append(old)
            ranking.first.append(self.first[index])
            ranking.count.append(self.count[index])
            ranking.states.append(state)
        if dropouts:
            kept = set(indices)
            for index, old in sorted(self.previous.items(), key=lambda item: item[1]):
                if index not in kept:
                    ranking.dropped.extend((index, old, self.first[index], self.count[index]))
        self.previous = {index: pos for pos, index in enumerate(indices, start=1)}
        return ranking

    def standings(self, dates: tuple[dt.date, ...]) -> dict[int, Standing]:
        return {index: Standing(dates[first], dates[self.last[index][0]], self.last[index][1], self.count[index],
                                self.peak[index][0], dates[self.peak[index][1]])
                for index, first in self.first.items()}


def _simulate(chart: Chart, songs: list[Song], seed: int) -> tuple[list[Ranking], dict[int, Standing]]:
    """The served rankings (the ``lead`` ones are simulated for their effect on the derived fields only) and
    every song's standing after the last one."""
    rng, gaps = random.Random(f"{seed}:history:{chart.slug}"), random.Random(f"{seed}:untidy:metric:{chart.slug}")
    tracker, scale, rankings, skip = _Tracker(), None, [], len(chart.lead)
    for k, top in enumerate(_tops(chart, songs, rng)):
        metrics = None
        if chart.metric_top and top:
            scale = scale or chart.metric_top / top[0][0]  # position 1 of the first ranking = metric_top
            metrics = array("q", (int(score * scale) for score, _ in top))
            if chart.style.metric_gap and k >= skip:
                for pos in range(len(metrics)):
                    if gaps.random() < chart.style.metric_gap:
                        metrics[pos] = NO_METRIC
        ranking = tracker.rank(k, [index for _, index in top], metrics, chart.style.dropouts)
        if k >= skip:
            rankings.append(ranking)
    return rankings, tracker.standings(chart.lead + chart.dates)
