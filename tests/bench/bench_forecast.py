"""The audience forecast's error over the local catalog, out of sample, against a naive baseline.

    python tests/bench/bench_forecast.py [--tracks 200] [--days 180] [--db /tmp/forecast.db] [--reuse]

The local API (seed 1) is synced for a day of every chart; its tracks' audience on every platform is fetched for the
last ``--days`` days through the real client and audience job into SQLite (``--db``; ``--reuse`` keeps a database
built before). Then each stored series (a track on a platform, identifiers summed, as the track page reads it) is cut
4 weeks before its last day and forecast from the cut (``warehouse.forecast.forecast_series``, its own backtests
included); the 4 held-out weeks are what it is judged on:

- MAPE: mean absolute percentage error of the audience over the held-out stored days, per series; the median and
  the 90th percentile per platform;
- growth MAPE: the same errors as a share of the growth since the cut (what the forecast's slope is worth);
- coverage: the share of held-out days inside the 80 % band (goal: about 0.8);
- the naive baseline: the last daily increase before the cut, repeated.

It also prints the record's own backtest MAPE (``Forecast.backtest_mape`` of the whole series) and the time a
forecast takes.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from soundcharts_lib.api.client import SoundchartsClient  # noqa: E402
from soundcharts_lib.db import make_engine, upgrade  # noqa: E402
from soundcharts_lib.jobs.audience import AudienceDataProcessor  # noqa: E402
from soundcharts_lib.jobs.sync import ChartSync  # noqa: E402
from soundcharts_lib.localapi import LocalApiConfig, running  # noqa: E402
from soundcharts_lib.vocab import today_utc  # noqa: E402
from soundcharts_lib.warehouse.audience_series import audience_by_platform  # noqa: E402
from soundcharts_lib.warehouse.forecast import HELD_OUT, forecast_series  # noqa: E402


def build(db_url: str, tracks: int, days: int) -> None:
    """A day of every chart of the local API (seed 1), then ``days`` days of audience of ``tracks`` tracks."""
    engine = make_engine(db_url)
    upgrade(engine)
    with running(LocalApiConfig(seed=1)) as srv, SoundchartsClient(
            srv.base_url, "soundcharts", "soundcharts", cache=None, rate_limit_per_minute=600_000) as client:
        ChartSync(client, engine, progress=False).run(backfill_days=1)
        start = today_utc() - timedelta(days=days)
        AudienceDataProcessor(client, engine, progress=False).run(limit=tracks, start=start)
    engine.dispose()


@dataclass
class Platform:
    """Per-series figures of one platform."""

    series: int = 0
    refused: list[str] = field(default_factory=list)  # reasons given instead of a forecast
    mape: list[float] = field(default_factory=list)
    growth: list[float] = field(default_factory=list)
    naive_mape: list[float] = field(default_factory=list)
    naive_growth: list[float] = field(default_factory=list)
    inside: int = 0
    held: int = 0
    record_mape: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def judge(frame, into: Platform) -> None:
    """Forecast ``frame`` (date, value) from 4 weeks before its end; add its held-out errors to ``into``."""
    into.series += 1
    cut = frame["date"].iloc[-1] - timedelta(days=HELD_OUT)
    train, held = frame[frame["date"] <= cut], frame[frame["date"] > cut]
    t0 = time.perf_counter()
    made = forecast_series(train, horizon=(frame["date"].iloc[-1] - train["date"].iloc[-1]).days if len(train) else 1)
    into.seconds.append(time.perf_counter() - t0)
    whole = forecast_series(frame)
    if whole.backtest_mape is not None:
        into.record_mape.append(whole.backtest_mape)
    if not made.ok:
        into.refused.append(made.reason)
        return
    base = float(made.last_value)
    steps = len(train) and (train["date"].iloc[-1] - train["date"].iloc[-2]).days
    last_increase = (base - float(train["value"].iloc[-2])) / steps
    ape, grow, naive_ape, naive_grow = [], [], [], []
    for day, actual in zip(held["date"], held["value"].astype(float), strict=True):
        h = (day - made.last_date).days
        point, naive = made.point[h - 1], base + last_increase * h
        ape.append(abs(actual - point) / actual)
        naive_ape.append(abs(actual - naive) / actual)
        if actual > base:
            grow.append(abs(actual - point) / (actual - base))
            naive_grow.append(abs(actual - naive) / (actual - base))
        into.inside += made.lower[h - 1] <= actual <= made.upper[h - 1]
        into.held += 1
    into.mape.append(100 * float(np.mean(ape)))
    into.naive_mape.append(100 * float(np.mean(naive_ape)))
    if grow:
        into.growth.append(100 * float(np.mean(grow)))
        into.naive_growth.append(100 * float(np.mean(naive_grow)))


def measure(db_url: str) -> dict[str, Platform]:
    """Each stored series judged, by platform."""
    engine = make_engine(db_url, read_only=True)
    with engine.connect() as conn:
        uuids = conn.exec_driver_sql("SELECT DISTINCT t.uuid FROM track_audience a JOIN track t "
                                     "ON t.id = a.track_id ORDER BY t.uuid").scalars().all()
    out: dict[str, Platform] = {}
    for uuid in uuids:
        for platform, frame in audience_by_platform(engine, uuid).items():
            judge(frame, out.setdefault(platform, Platform()))
    engine.dispose()
    return out


def _q(values: list[float], q: float) -> str:
    return f"{np.quantile(values, q):.2f}" if values else "-"


def report(figures: dict[str, Platform]) -> list[str]:
    lines = [f"{'platform':<11} {'series':>6} {'fc':>4} {'MAPE med':>8} {'p90':>6} {'naive med':>9} {'p90':>6} "
             f"{'growth med':>10} {'p90':>6} {'naive med':>9} {'p90':>6} {'coverage':>8} {'record med':>10} "
             f"{'ms':>5}"]
    every = Platform()
    for name, p in sorted(figures.items()) + [("all", every)]:
        if name != "all":
            for key, value in vars(p).items():
                setattr(every, key, getattr(every, key) + value)
        lines.append(f"{name:<11} {p.series:>6} {len(p.mape):>4} {_q(p.mape, .5):>8} {_q(p.mape, .9):>6} "
                     f"{_q(p.naive_mape, .5):>9} {_q(p.naive_mape, .9):>6} {_q(p.growth, .5):>10} "
                     f"{_q(p.growth, .9):>6} {_q(p.naive_growth, .5):>9} {_q(p.naive_growth, .9):>6} "
                     f"{p.inside / p.held if p.held else 0:>8.3f} {_q(p.record_mape, .5):>10} "
                     f"{1000 * float(np.median(p.seconds)) if p.seconds else 0:>5.1f}")
    reasons = Counter(re.sub(r"[0-9]+", "N", r) for r in every.refused)
    lines.append(f"no forecast from the cut for {len(every.refused)} series, its reasons:" + "".join(
        f"\n  {n} {reason}" for reason, n in reasons.most_common()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=200, help="tracks whose audience is fetched")
    parser.add_argument("--days", type=int, default=180, help="days of audience fetched")
    parser.add_argument("--db", help="the SQLite file to build (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="judge the database --db holds, without building")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{args.db or Path(tmp) / 'forecast.db'}"
        if not args.reuse:
            t0 = time.perf_counter()
            build(url, args.tracks, args.days)
            print(f"built {url} in {time.perf_counter() - t0:.0f} s")
        print("\n".join(report(measure(url))))


if __name__ == "__main__":
    main()
