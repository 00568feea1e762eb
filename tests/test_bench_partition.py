"""The partitioning benchmark keeps working (tiny quick mode); figures are printed, not asserted as timings."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "bench"))

import bench_partition  # noqa: E402


def test_quick_partition_benchmark(pg_url):
    r = bench_partition.run(pg_url, months=2, charts=3, entries=5, audience_tracks=10)
    assert r["entries"] > 0 and set(r["plain"]) == set(r["parted"])
    assert all(ms > 0 for ms in [*r["plain"].values(), *r["parted"].values()])
    print("quick partition bench:", r)
