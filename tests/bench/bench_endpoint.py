"""Latency of the audience JSON endpoints for a track with 3 years x 5 platforms of daily data.

    python tests/bench/bench_endpoint.py [--requests 200] [--other-tracks 20] [--db-url URL]

Builds the data directly with bulk inserts (the track, plus ``--other-tracks`` tracks of the same shape so the
table is not trivially small) into a fresh SQLite file (or an empty database at ``--db-url``), starts the real
server of ``soundcharts serve`` on a free loopback port, and prints p50 / p95 over ``--requests`` sequential
requests for each of: one platform over the last 90 days, one platform over 3 years, every platform over
3 years. ``run(...)`` is importable; ``quick()`` is the small variant used by tests/web/test_web_bench.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import Platform, Track, TrackAudience
from soundcharts_lib.db.upsert import bulk_insert
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

PLATFORMS = ("spotify", "youtube", "shazam", "tiktok", "soundcloud")
DAYS = 3 * 365
TRACK_UUID = "0b0b0b0b-1111-4222-a333-444444444444"


@dataclass(frozen=True)
class Timing:
    name: str
    ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.ms, n=20, method="inclusive")[18]

    def report(self) -> str:
        return f"{self.name:<36} p50 {self.p50:7.1f} ms   p95 {self.p95:7.1f} ms   ({len(self.ms)} requests)"


def build(db_url: str, other_tracks: int, today: date) -> int:
    """Create the schema and the rows; return how many audience rows were written."""
    engine = make_engine(db_url)
    upgrade(engine)
    first = today - timedelta(days=DAYS - 1)
    uuids = [TRACK_UUID] + [f"0b0b0b0b-1111-4222-a333-{n:012d}" for n in range(other_tracks)]
    now = datetime.combine(today, datetime.min.time())
    columns = ["track_id", "platform_id", "platform_identifier", "date", "audience_value", "fetched_at"]
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": i + 1, "slug": s, "name": s.title(), "supports_audience": True}
                                        for i, s in enumerate(PLATFORMS)])
        conn.execute(insert(Track), [{"id": t + 1, "uuid": uuid, "name": f"Bench track {t}"}
                                     for t, uuid in enumerate(uuids)])
        rows = 0
        for t in range(len(uuids)):  # every 97th day missing, like the API's gaps
            batch = [(t + 1, p + 1, f"id-{t}-{p}", first + timedelta(days=d), (p + 1) * 10**7 + d * (999 + t),
                      now) for p in range(len(PLATFORMS)) for d in range(DAYS) if d % 97 != 5]
            bulk_insert(conn, TrackAudience.__table__, columns, batch)
            rows += len(batch)
    engine.dispose()
    return rows


def _time(session: requests.Session, url: str, params: dict, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        resp = session.get(url, params=params, timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"GET {resp.url} answered {resp.status_code}: {resp.text[:200]}")
    return out


def run(n_requests: int = 200, other_tracks: int = 20, db_url: str | None = None) -> list[Timing]:
    """Build the data, start the server, time ``n_requests`` of each kind (after a few warm-up requests)."""
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        build(url, other_tracks, today)
        env = dict(os.environ, SOUNDCHARTS_DB_URL=url)
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[var] = str(Path(tmp) / var.lower())
        port = free_port()
        with open(Path(tmp) / "server.log", "w") as log:
            proc = start_voila(port, env=env, log=log)
            try:
                base = wait_ready(proc, port)
                chart = f"{base}/soundcharts/audience/chart/{TRACK_UUID}"
                cases = [("one platform, last 90 days", f"{chart}/spotify/",
                          {"start_date": (today - timedelta(days=89)).isoformat()}),
                         ("one platform, 3 years", f"{chart}/spotify/", {"limit": 2000}),
                         ("5 platforms, 3 years", f"{chart}/", {"limit": 2000})]
                with requests.Session() as session:
                    for _, case_url, params in cases:
                        _time(session, case_url, params, 3)
                    return [Timing(name, _time(session, case_url, params, n_requests))
                            for name, case_url, params in cases]
            finally:
                proc.terminate()
                proc.wait(timeout=15)


def quick() -> list[Timing]:
    return run(n_requests=20, other_tracks=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--other-tracks", type=int, default=20)
    parser.add_argument("--db-url", help="an empty database to build in (default: a temporary SQLite file)")
    args = parser.parse_args()
    for timing in run(args.requests, args.other_tracks, args.db_url):
        print(timing.report())


if __name__ == "__main__":
    main()
