"""An artist's followers per social platform (7.4) and listening figures per streaming platform (7.5).

Both are simulated for every day from ``max(profile.since, today - history_days)`` to ``today`` and then *sampled*
the way SoundCharts refreshes an artist: the next point comes after 15 days while the value is under 10, 7 under
150, 5 under 500, 3 under 5,000 (the contract's cadence); above that every day, since the contract's recorded body of
a big artist is daily (its "every 2 days" for >5,000 read as "at least"). About 3% of the due points are missing
(a failed crawl), and the untidy catalog adds, per (artist, platform), a run of 3-14 days without points within the
last 100 days (10%).

Followers (``followerCount``) are running totals of the account that mostly grow with the artist's songs but can
go down (unfollows); ``likeCount`` / ``followingCount`` / ``postCount`` / ``viewCount`` are sent where the platform
has them (:data:`COUNTERS`) and are null elsewhere; untidy series (15%) have all five null on ~4% of points.
Listening: Spotify and Pandora monthly listeners are gauges (a 28-day mean of the artist's pull, up and down);
YouTube views and Audiomack plays are cumulative. Untidy Spotify/Pandora series repeat the previous value on ~6%
of points (a stale crawl). RNG streams: ``Random(f"{seed}:followers:{uuid}:{platform}")`` and
``Random(f"{seed}:listening:{uuid}:{platform}")``.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from .artists import PLATFORM_SCALE, Profile

COUNTERS = {"spotify": (), "shazam": (), "youtube": ("postCount", "viewCount"),
            "instagram": ("followingCount", "postCount"), "tiktok": ("likeCount", "followingCount", "postCount"),
            "soundcloud": ("followingCount", "postCount")}
COUNTER_KEYS = ("likeCount", "followerCount", "followingCount", "postCount", "viewCount")
GAUGES = ("spotify", "pandora")
LISTENING_SCALE = {"spotify": 1.2, "pandora": 0.4, "youtube": 120.0, "audiomack": 6.0}
GAP_RATE, OUTAGE_SHARE, NULL_SHARE, NULL_RATE, STALE_RATE = 0.03, 0.1, 0.15, 0.04, 0.06
ROLLING_DAYS = 28

Followers = tuple[dt.date, dict[str, int | None]]
Listening = tuple[dt.date, int]


def cadence(value: float) -> int:
    """Days until the next refresh of an account showing ``value``."""
    return 15 if value < 10 else 7 if value < 150 else 5 if value < 500 else 3 if value < 5000 else 1


def _days(profile: Profile, today: dt.date, history_days: int) -> list[dt.date]:
    start = max(profile.since, today - dt.timedelta(days=history_days))
    return [start + dt.timedelta(days=k) for k in range((today - start).days + 1)]


def _sampled(rng: random.Random, days: list[dt.date], values: list[float], today: dt.date,
             untidy: bool) -> list[int]:
    """Indices of ``days`` that have a point."""
    down, length = rng.random() < OUTAGE_SHARE, rng.randint(3, 14)  # drawn either way: tidy = untidy minus mess
    last = today - dt.timedelta(days=rng.randint(1, 100 - length))
    outage = {last - dt.timedelta(days=k) for k in range(length)} if down and untidy else set()
    k, out = rng.randrange(cadence(values[0])) if values else 0, []
    while k < len(days):
        if rng.random() >= GAP_RATE and days[k] not in outage:
            out.append(k)
        k += cadence(values[k])
    return out


def _pulls(profile: Profile, days: list[dt.date]) -> tuple[list[float], float]:
    pulls = [profile.strength(day.toordinal()) for day in days]
    return pulls, (sum(pulls) / len(pulls) if pulls else 0.0)


def _totals(rng: random.Random, start: float, pulls: list[float], mean: float, drift: float) -> list[float]:
    """A running total from ``start`` that gains with the artist's pull (about ``drift`` of itself a day at the
    mean pull) and loses a little on some days."""
    gain = start * drift / mean if mean else 0.0
    total, noise, out = start, 0.0, []
    for pull in pulls:
        noise = 0.8 * noise + rng.gauss(0.0, 0.15)
        total = max(0.0, total + gain * pull * math.exp(noise) - total * rng.gauss(0.0001, 0.0006))
        out.append(total)
    return out


def followers(seed: int, profile: Profile, platform: str, today: dt.date, history_days: int,
              untidy: bool) -> list[Followers]:
    """Oldest-first ``(day, {counter: value})`` of one social platform (``[]`` without an account there)."""
    days = _days(profile, today, history_days)
    if platform not in profile.accounts or not days:
        return []
    rng = random.Random(f"{seed}:followers:{profile.uuid}:{platform}")
    pulls, mean = _pulls(profile, days)
    base = profile.level * PLATFORM_SCALE[platform] * rng.lognormvariate(0.0, 0.4)
    fans = _totals(rng, base, pulls, mean, rng.uniform(0.0005, 0.004))
    views = _totals(rng, base * rng.uniform(50, 400), pulls, mean, rng.uniform(0.001, 0.006))
    following, posts = rng.randint(40, 1500), rng.randint(3, 900)
    post_every = rng.randint(2, 20)
    nulls = rng.random() < NULL_SHARE and untidy
    out = []
    for k in _sampled(rng, days, fans, today, untidy):
        counts: dict[str, int | None] = dict.fromkeys(COUNTER_KEYS)
        if not (nulls and rng.random() < NULL_RATE):
            extra = {"likeCount": round(views[k] * 0.08), "followingCount": following + k // 30,
                     "postCount": posts + k // post_every, "viewCount": round(views[k])}
            counts["followerCount"] = round(fans[k])
            counts.update({name: extra[name] for name in COUNTERS[platform]})
        out.append((days[k], counts))
    return out


def listening(seed: int, profile: Profile, platform: str, today: dt.date, history_days: int,
              untidy: bool) -> list[Listening]:
    """Oldest-first ``(day, value)`` of one streaming platform (``[]`` without data there)."""
    days = _days(profile, today, history_days)
    if platform not in profile.listening or not days:
        return []
    rng = random.Random(f"{seed}:listening:{profile.uuid}:{platform}")
    pulls, mean = _pulls(profile, days)
    base = profile.level * LISTENING_SCALE[platform] * rng.lognormvariate(0.0, 0.5)
    if platform in GAUGES:
        values, noise, window = [], 0.0, []
        for pull in pulls:
            window = (window + [pull])[-ROLLING_DAYS:]
            noise = 0.95 * noise + rng.gauss(0.0, 0.01)
            share = 0.35 + 0.65 * (sum(window) / len(window)) / mean if mean else 1.0
            values.append(base * share * math.exp(noise))
    else:
        values = _totals(rng, base, pulls, mean, rng.uniform(0.001, 0.006))
    out: list[Listening] = []
    for k in _sampled(rng, days, values, today, untidy):
        stale = untidy and platform in GAUGES and out and rng.random() < STALE_RATE
        out.append((days[k], out[-1][1] if stale else round(values[k])))
    return out
