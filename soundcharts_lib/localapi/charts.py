"""The song charts the server knows: platforms x countries x frequency, with their ranking dates.

Daily charts have a ranking every day from their start to ``today`` except ~1% missing days (never the
first or the latest); weekly charts rank on Fridays. Chart dates are served as ``YYYY-MM-DDT00:00:00+00:00``.
``chart.dates`` are the served ranking dates; ``chart.lead`` the dates simulated before them but never served
(a chart whose history began before the served window), and ``chart.style`` how its ranking items spell
what the contract leaves open. Both are tidy here; :mod:`.untidy` changes them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .referential import COUNTRIES, PLATFORMS
from .songs import slugify

COUNTRY_MARKET = {"US": "INT", "GB": "INT", "CA": "INT", "SE": "INT", "FR": "FR", "DE": "DE", "BR": "BR",
                  "ES": "LATIN", "MX": "LATIN", "JP": "JP", "KR": "KR"}
STREAMS = ("streams", "Number of streams")
VIEWS = ("views", "Number of views")
VIDEOS = ("videos", "Number of videos created with the sound")
SPINS = ("spins", "Number of radio spins")

# platform, chart kind, frequency, [(country or None, city or None, size, top metric)], metric, web url
SPECS: tuple = (
    ("spotify", "Top 200", "daily", [(None, None, 200, 6_500_000), ("US", None, 200, 1_600_000),
                                     ("GB", None, 200, 450_000), ("FR", None, 200, 380_000),
                                     ("DE", None, 200, 420_000), ("BR", None, 200, 700_000),
                                     ("JP", None, 200, 250_000), ("ES", None, 200, 320_000),
                                     ("MX", None, 200, 650_000)], STREAMS,
     "https://charts.spotify.com/charts/view/regional-{where}-{frequency}/latest"),
    ("spotify", "Top 200", "weekly", [(None, None, 200, 42_000_000), ("US", None, 200, 10_500_000),
                                      ("GB", None, 200, 3_000_000)], STREAMS,
     "https://charts.spotify.com/charts/view/regional-{where}-{frequency}/latest"),
    ("apple-music", "Top 100", "daily",
     [(c, None, 100, None) for c in (None, "US", "GB", "FR", "DE", "JP", "BR")], None, "https://music.apple.com/{where}/playlist/top-100"),
    ("deezer", "Top 100", "daily", [(c, None, 100, None) for c in (None, "FR", "DE", "BR")], None, None),
    ("youtube", "Top Songs", "weekly", [(None, None, 100, 45_000_000), ("US", None, 100, 9_000_000),
                                        ("GB", None, 100, 2_200_000), ("FR", None, 100, 1_800_000),
                                        ("BR", None, 100, 5_000_000)], VIEWS,
     "https://charts.youtube.com/charts/TopSongs/{where}/weekly"),
    ("shazam", "Top 200", "daily", [(None, None, 200, None)], None, "https://www.shazam.com/charts/top-200/world"),
    ("shazam", "Top 100", "daily", [(c, None, 100, None) for c in ("US", "GB", "FR", "DE")], None, None),
    ("tiktok", "Top 50", "weekly", [(None, None, 50, 650_000), ("US", None, 50, 120_000),
                                    ("GB", None, 50, 40_000), ("FR", None, 50, 30_000)], VIDEOS, None),
    ("soundcloud", "Top 50", "weekly", [(c, None, 50, None) for c in (None, "US", "DE")], None, None),
    ("airplay", "Radio", "weekly", [("US", None, 150, 7_000), ("GB", None, 100, 2_600),
                                            ("FR", None, 100, 2_300), ("DE", None, 100, 2_400),
                                            ("US", "New York", 50, 900)], SPINS, None),
)


@dataclass(frozen=True)
class ChartStyle:
    """How one chart's ranking items are written (the defaults are the tidy spelling).

    ``units``: ``timeOnChartUnit`` of daily and weekly charts; ``blank_states``: ``entryState`` ""; ``zero_old``:
    ``oldPosition`` 0 (not ``null``) for a song absent from the previous ranking; ``null_evolution``:
    ``positionEvolution`` ``null`` (not 0) then; ``noon_entry``: ``entryDate`` at ``T12:00:00+00:00``;
    ``dropouts``: position-0 items for the songs of the previous ranking that left; ``metric_gap``: share of
    items whose ``metric`` is ``null`` on a metric chart.
    """

    units: tuple[str, str] = ("day", "week")
    blank_states: bool = False
    zero_old: bool = False
    null_evolution: bool = False
    noon_entry: bool = False
    dropouts: bool = False
    metric_gap: float = 0.0


@dataclass(frozen=True, eq=False)
class Chart:
    slug: str
    name: str
    type: str
    platform: str
    frequency: str
    country_code: str | None
    country_name: str | None
    city_name: str | None
    max_results: int
    web_url: str | None
    metric: tuple[str, str] | None
    metric_top: int | None
    dates: tuple[dt.date, ...]
    lead: tuple[dt.date, ...] = ()
    style: ChartStyle = ChartStyle()

    @property
    def unit(self) -> str:
        return self.style.units[self.frequency != "daily"]

    def market_weight(self, market: str) -> float:
        """How likely a song of ``market`` is to be in this chart's song pool."""
        if not self.country_code:  # global ("" or None)
            return 3.0 if market == "INT" else 1.2
        home = COUNTRY_MARKET[self.country_code]
        if market == home:
            return 6.0
        return 2.5 if market == "INT" else 0.25


def ranking_dates(rng: random.Random, frequency: str, start: dt.date, today: dt.date) -> tuple[dt.date, ...]:
    if frequency == "weekly":
        first = start + dt.timedelta(days=(4 - start.weekday()) % 7)  # Friday on or after start
        return tuple(first + dt.timedelta(weeks=k) for k in range((today - first).days // 7 + 1))
    days = [start + dt.timedelta(days=k) for k in range((today - start).days + 1)]
    return tuple(day for k, day in enumerate(days) if k in (0, len(days) - 1) or rng.random() >= 0.01)


def build_charts(seed: int, today: dt.date, history_days: int) -> list[Chart]:
    charts = []
    for platform, kind, frequency, variants, metric, web in SPECS:
        for country, city, size, top in variants:
            where = slugify(city) if city else f"{slugify(kind)}-{(country or 'global').lower()}"
            slug = f"{platform}-{where}-{frequency}"
            rng = random.Random(f"{seed}:chart:{slug}")
            late = platform in ("tiktok", "soundcloud") or city is not None
            delay = rng.randint(0, history_days // 3) if late else 0
            start = today - dt.timedelta(days=history_days - delay)
            charts.append(Chart(
                slug=slug, name=f"{PLATFORMS[platform]} {kind} {city or COUNTRIES.get(country, 'Global')}"
                + f" {frequency.title()}",
                type="top", platform=platform, frequency=frequency, country_code=country,
                country_name=COUNTRIES.get(country) if country else None, city_name=city, max_results=size,
                web_url=web.format(where=(country or "global").lower(), frequency=frequency) if web else None,
                metric=metric, metric_top=top, dates=ranking_dates(rng, frequency, start, today)))
    return charts
