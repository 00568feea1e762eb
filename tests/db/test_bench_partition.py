"""The partitioning benchmark keeps working (tiny quick mode); figures are printed, not asserted as timings."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

import bench_partition  # noqa: E402


@pytest.mark.postgres
@pytest.mark.parametrize("convert", [False, True], ids=["loaded-into-partitions", "converted-copy"])
def test_quick_partition_benchmark(pg_url, convert):
    r = bench_partition.run(pg_url, months=2, charts=3, entries=5, audience_tracks=10, convert=convert)
    assert r["entries"] == 3 * 60 * 5 and r["audience"] == 10 * 5 * 60
    assert set(r["plain"]) == set(r["parted"]) and "track page" in r["plain"]
    assert all(ms > 0 for ms in [*r["plain"].values(), *r["parted"].values(), r["cleanup_plain"], r["cleanup_parted"]])
    bench_partition.report(r)
