"""Per-song audience (running totals) and popularity (0-100) series, one value per identifier per day.

A series covers ``max(identifier added, today - history_days) .. today``. Audience values are cumulative
totals that never decrease (daily increments follow the song's :meth:`Song.strength`, so hits grow fast and
big songs pass 2^31); popularity is a bounded score. About 3% of days are missing for a (song, platform)
(no item at all that day). Each identifier has its own RNG stream
``Random(f"{seed}:{kind}:{uuid}:{platform}:{id}")``. The untidy catalog (see :mod:`.untidy`) adds identifiers
that stop reporting after ``identifier.until``, runs of missing days (``song.outages``) and platforms with no
data at all (quirk ``silent:<platform>``).
"""

from __future__ import annotations

import datetime as dt
import math
import random

from .songs import Identifier, Song

# Daily units per point of song strength: streams, views, shazams, videos, plays, reels.
AUDIENCE_SCALE = {"spotify": 900_000, "youtube": 1_300_000, "shazam": 14_000, "tiktok": 5_000,
                  "soundcloud": 45_000, "instagram": 2_200}
GAP_RATE = 0.03
POPULARITY_LAG_DAYS = 3
MATURE_DAYS = 1000  # an old song's evergreen listening fades: older days add nothing more

Point = tuple[dt.date, tuple[tuple[str, int], ...]]


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def _audience_values(song: Song, ident: Identifier, days: list[dt.date], rng: random.Random) -> list[int]:
    scale = AUDIENCE_SCALE[ident.platform] * (1.0 if ident.default else rng.uniform(0.05, 0.35))
    before = min(max(0, (days[0] - ident.added).days), MATURE_DAYS)
    past = song.base * before + song.hype * min(before, song.rise + song.tau)
    total = int(scale * past * rng.uniform(0.9, 1.1))
    noise, values = 0.0, []
    for day in days:
        noise = 0.8 * noise + rng.gauss(0.0, 0.08)
        total += int(scale * song.strength(day.toordinal()) * math.exp(noise))
        values.append(total)
    return values


def _popularity_values(song: Song, ident: Identifier, days: list[dt.date], rng: random.Random) -> list[int]:
    offset = 0.0 if ident.default else rng.uniform(8.0, 30.0)
    walk, values = 0.0, []
    for day in days:
        walk = 0.9 * walk + rng.gauss(0.0, 1.2)
        level = 12.0 + 88.0 * (1.0 - math.exp(-song.strength(day.toordinal() - POPULARITY_LAG_DAYS)))
        values.append(max(0, min(100, round(level - offset + walk))))
    return values


def series(seed: int, song: Song, platform: str, kind: str, today: dt.date, history_days: int) -> list[Point]:
    """Newest-first ``(day, ((identifier, value), ...))`` of ``kind`` ("audience" or "popularity")."""
    if f"silent:{platform}" in song.quirks:
        return []
    first = today - dt.timedelta(days=history_days)
    per_ident: dict[str, dict[dt.date, int]] = {}
    for ident in song.identifiers_on(platform):
        days = _days(max(ident.added, first), min(ident.until or today, today))
        if days:
            rng = random.Random(f"{seed}:{kind}:{song.uuid}:{platform}:{ident.identifier}")
            make = _audience_values if kind == "audience" else _popularity_values
            per_ident[ident.identifier] = dict(zip(days, make(song, ident, days, rng), strict=True))
    outage = {day for code, start, end in song.outages if code == platform for day in _days(start, end)}
    gaps = random.Random(f"{seed}:{kind}-gaps:{song.uuid}:{platform}")
    points = []
    for day in _days(max(song.release, first), today):
        plots = tuple((ident, values[day]) for ident, values in per_ident.items() if day in values)
        if gaps.random() >= GAP_RATE and plots and day not in outage:
            points.append((day, plots))
    points.reverse()
    return points
