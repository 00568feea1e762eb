"""The partitioning benchmark keeps working (tiny quick mode); figures are printed, not asserted as timings."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

import bench_partition  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark


@pytest.mark.postgres
@pytest.mark.parametrize("convert", [False, True], ids=["loaded-into-partitions", "converted-copy"])
def test_quick_partition_benchmark(pg_url, convert):
    r = bench_partition.run(pg_url, months=2, charts=3, entries=5, audience_tracks=10, convert=convert)
    assert r["entries"] == 3 * 60 * 5 and r["audience"] == (10 + 2) * 5 * 60  # the hit on 5 platforms x 2 ids
    assert r["hit_charts"] == 3 and 0 < r["hit_entries"] < 3 * 60
    ms, seed = r["ms"], r["seed_ms"]
    assert set(ms["plain"]) == set(ms["parted"]) and "track page, the year-long hit" in ms["plain"]
    assert set(seed["plain"]) == set(seed["parted"]) == {
        "overview", "platform page", "chart page, a date in the middle", "chart page, its latest ranking",
        "track page, the year-long hit", "track page, a typical track"}
    assert all(t > 0 for t in [*ms["plain"].values(), *ms["parted"].values(), *seed["plain"].values(),
                               *seed["parted"].values(), r["cleanup_plain"], r["cleanup_parted"]])
    bench_partition.report(r)
    if not convert:  # measured again as they are: no rebuild, no cleanup
        again = bench_partition.run(pg_url, months=2, charts=3, entries=5, reuse=True)
        assert "plain_build" not in again and "cleanup_plain" not in again and set(again["ms"]) == set(ms)
        assert again["entries"] < r["entries"]  # the month the first run's cleanup removed stays removed
        bench_partition.report(again)


@pytest.mark.postgres
def test_quick_old_and_new_code_taking_turns(pg_url):
    """``bench_ab.py`` times a page of two revisions on the databases the partitioning benchmark built."""
    import bench_ab

    bench_partition.run(pg_url, months=2, charts=3, entries=5, audience_tracks=10)
    r = bench_ab.run(pg_url, "HEAD", months=2, rounds=2, warm=1, pages=["platform page", "top tracks, 30 days"])
    assert set(r) == {(page, name) for page in ("platform page", "top tracks, 30 days") for name in ("plain", "parted")}
    assert all(ms["old"] > 0 and ms["new"] > 0 for ms in r.values())
    bench_ab.report(r, "HEAD", None)
