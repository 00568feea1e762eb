"""The dashboard benchmark keeps working (quick mode, ~200k entries); its figures are printed, not asserted."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "bench"))

import bench_dashboard  # noqa: E402


def test_quick_dashboard_benchmark(tmp_path):
    result = bench_dashboard.run(200_000, charts=40, per_ranking=50, db=tmp_path / "quick.db")
    assert result["entries"] == 200_000 and result["shape"]["days"] == 100
    assert result["entries_30_days"] == 30 * 40 * 50
    assert result["track_entries"] == 40 * 100 and result["track_charts"] == 40  # the hit: every chart, every day
    assert result["rollup_current"]  # the pages read the top-tracks rollup, as after a sync
    assert all(wall > 0 and cpu >= 0 for wall, cpu in result["ms"].values())
    overview, track = result["ms"]["OVERVIEW TOTAL (analytics.overview)"], result["ms"][
        "TRACK PAGE TOTAL (analytics.track_page as the page asks)"]
    print(f"quick dashboard bench: overview {overview[0]:.0f} ms (CPU {overview[1]:.0f}), "
          f"track page {track[0]:.0f} ms (CPU {track[1]:.0f})")
