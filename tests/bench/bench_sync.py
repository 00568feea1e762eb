"""Sync pacing against a rate-limited local server, and a sync's peak memory at several database sizes.

    python tests/bench/bench_sync.py pacing [--limit 1200] [--days 7]
    python tests/bench/bench_sync.py memory [--sizes 0,60,240]

pacing: the server and the client share one per-minute limit; a real chart backfill runs through ``ChartSync``;
prints calls per minute, the ratio to the limit (goal >= 0.95) and the 429s the server answered (goal 0).
memory: a database is grown by backfills to each size (days of every chart), then a ``soundcharts sync-charts
--backfill-days 7 --force`` subprocess runs on it; prints its peak RSS (goal: flat, <= 250 MB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from soundcharts_lib.api.client import SoundchartsClient  # noqa: E402
from soundcharts_lib.db import make_engine, upgrade  # noqa: E402
from soundcharts_lib.jobs.sync import ChartSync  # noqa: E402
from soundcharts_lib.localapi import LocalApiConfig, running  # noqa: E402


def pacing(limit: int = 1200, days: int = 7, platforms: list[str] | None = None) -> dict:
    """Backfill ``days`` through a client and server both limited to ``limit`` calls per minute."""
    with tempfile.TemporaryDirectory() as tmp, running(LocalApiConfig(seed=3, rate_limit_per_minute=limit)) as srv:
        engine = make_engine(f"sqlite:///{tmp}/pace.db")
        upgrade(engine)
        with SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", cache=None,
                               rate_limit_per_minute=limit) as client:
            srv.reset_stats()
            t0 = time.perf_counter()
            result = ChartSync(client, engine, progress=False).run(platforms=platforms, backfill_days=days)
            elapsed = time.perf_counter() - t0
        stats = srv.stats()
    calls = stats["requests"]
    per_minute = calls / elapsed * 60
    return {"calls": calls, "seconds": elapsed, "per_minute": per_minute, "ratio": per_minute / limit,
            "status_429": stats["rate_limited"],
            "rankings": result.rankings_stored, "failures": result.failures}


def peak_rss_mb(args: list[str], env: dict) -> float:
    """Peak resident memory of a child process, from /proc (VmHWM) sampled until it exits."""
    proc = subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    if proc.returncode:
        raise RuntimeError(proc.stderr.read().decode()[-500:])
    return peak / 1024


def memory(sizes: list[int]) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp, running(LocalApiConfig(seed=3)) as srv:
        url = f"sqlite:///{tmp}/mem.db"
        engine = make_engine(url)
        upgrade(engine)
        env = dict(os.environ, SOUNDCHARTS_API_URL=srv.base_url, SOUNDCHARTS_APP_ID="soundcharts",
                   SOUNDCHARTS_API_KEY="soundcharts", SOUNDCHARTS_DB_URL=url, SOUNDCHARTS_RATE_LIMIT="600000",
                   SOUNDCHARTS_CACHE_BACKEND="memory")
        with SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", cache=None,
                               rate_limit_per_minute=600_000) as client:
            for days in sizes:
                if days:
                    ChartSync(client, engine, progress=False).run(backfill_days=days)
                with engine.connect() as conn:
                    entries = conn.exec_driver_sql("select count(*) from chart_ranking_entry").scalar_one()
                rss = peak_rss_mb(["sync-charts", "--backfill-days", "7", "--force", "--quiet"], env)
                out.append({"days": days, "entries": entries, "peak_rss_mb": rss})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("pacing")
    p.add_argument("--limit", type=int, default=1200)
    p.add_argument("--days", type=int, default=7)
    m = sub.add_parser("memory")
    m.add_argument("--sizes", default="0,60,240")
    args = ap.parse_args()
    if args.what == "pacing":
        r = pacing(args.limit, args.days)
        print(f"{r['calls']} calls in {r['seconds']:.1f} s = {r['per_minute']:,.0f} calls/min against a limit of "
              f"{args.limit}/min: ratio {r['ratio']:.3f} (goal >= 0.95); 429s: {r['status_429']} (goal 0); "
              f"{r['rankings']} rankings stored, {r['failures']} failures")
    else:
        for r in memory([int(x) for x in args.sizes.split(",")]):
            print(f"database with {r['entries']:>10,} entries ({r['days']:>3} days synced): "
                  f"sync-charts --backfill-days 7 peak RSS {r['peak_rss_mb']:.0f} MB (goal <= 250, flat)")


if __name__ == "__main__":
    main()
