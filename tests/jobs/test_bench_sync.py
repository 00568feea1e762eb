"""The sync benchmarks keep working (quick mode); figures are printed, not asserted as timings."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

import bench_sync  # noqa: E402
import pytest

pytestmark = pytest.mark.slow  # a benchmark


def test_quick_pacing_never_crosses_the_servers_limit():
    r = bench_sync.pacing(limit=3000, days=2, platforms=["spotify"])
    print(f"quick pacing: {r['per_minute']:.0f}/min of 3000, ratio {r['ratio']:.2f}, 429s {r['status_429']}")
    assert r["failures"] == 0 and r["rankings"] > 0
    assert r["status_429"] == 0  # the client's limiter never lets the server say no


def test_quick_memory_measure_runs():
    rows = bench_sync.memory([0, 2])
    print("quick memory:", rows)
    assert rows[1]["entries"] > rows[0]["entries"] >= 0
    assert all(r["peak_rss_mb"] > 0 for r in rows)
