"""The dashboard benchmark keeps working (quick mode, ~200k entries); its figures are printed, not asserted."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

import bench_dashboard  # noqa: E402
import pytest
import seed_pages  # noqa: E402

from soundcharts_lib.db import make_engine  # noqa: E402
from soundcharts_lib.vocab import today_utc  # noqa: E402
from soundcharts_lib.warehouse import analytics, artist_pages, labels  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark


def test_quick_dashboard_benchmark(tmp_path):
    result = bench_dashboard.run(200_000, charts=40, per_ranking=50, db=tmp_path / "quick.db")
    assert result["entries"] == 200_000 and result["shape"]["days"] == 100
    assert result["entries_30_days"] == 30 * 40 * 50
    assert result["track_entries"] == 40 * 100 and result["track_charts"] == 40  # the hit: every chart, every day
    assert result["rollup_current"]  # the pages read the top-tracks rollup, as after a sync
    assert all(wall > 0 and cpu >= 0 for wall, cpu in result["ms"].values())
    assert list(result["pages"]) == ["overview", "platform page", "chart page", "track page, the year-long hit",
                                     "track page, a typical track", "artist page, the hit's artist",
                                     "labels page, all charts, 30 days", "labels page, spotify, 30 days",
                                     "compare page, those tracks"]
    # time in the database driver (summed over reads side by side: it may pass the wall time); the seed's loops for
    # the pages it had
    assert all(wall > 0 and driver > 0 and cpu >= 0 for wall, driver, cpu, _ in result["pages"].values())
    assert [seed > 0 for *_, seed in result["pages"].values() if seed is not None] == [True] * 5
    overview, track = result["pages"]["overview"], result["pages"]["track page, the year-long hit"]
    print(f"quick dashboard bench: overview {overview[0]:.0f} ms (driver {overview[1]:.0f}), "
          f"track page {track[0]:.0f} ms (driver {track[1]:.0f})")
    bench_dashboard.report_pages(result["pages"])
    import bench_ab  # old and new code taking turns on this warehouse

    turns = bench_ab.run(None, "HEAD", rounds=2, warm=1, pages=["chart page"], sqlite=tmp_path / "quick.db")
    assert list(turns) == [("chart page", "sqlite")] and all(ms > 0 for ms in turns["chart page", "sqlite"].values())
    # the seed's loops, timed beside ours, read the same figures
    engine = make_engine(f"sqlite:///{tmp_path / 'quick.db'}", read_only=True)
    today = today_utc()
    seed = seed_pages.overview(engine, today)
    per_day = analytics.rankings_per_day(engine, 14, today)
    assert [seed["per_day"][d] for d in per_day["date"]] == per_day["rankings"].tolist()
    top = analytics.top_tracks(engine, 30, today)
    assert [n for _, n in seed["top"]] == top["appearances"].tolist() and seed["top"][0][0].name == top["name"][0]
    platforms = analytics.top_platforms(engine, 30, today)
    assert {slug: n for slug, n in seed["per_platform"].items() if n} == dict(zip(platforms["slug"],
                                                                                 platforms["rankings"], strict=True))
    hit = seed_pages.track_page(engine, bench_dashboard.uuid_of(bench_dashboard.HIT))
    charts = analytics.track_charts(engine, bench_dashboard.uuid_of(bench_dashboard.HIT))
    assert sorted(map(len, hit["history"].values())) == sorted(charts["appearances"]) and len(charts) == 40
    platform = bench_dashboard.PLATFORMS[0]
    seed = seed_pages.platform_page(engine, platform, today)
    page = analytics.platform_page(engine, platform, today)
    assert [sum(n) for n in seed["per_day"].values()] == page["per_day"]["stored"].tolist()
    assert [n for _, n in seed["top"]] == page["tracks"]["appearances"].tolist()
    day = analytics.chart_dates(engine, "chart-1")[-1]
    seed = seed_pages.chart_page(engine, "chart-1", day)
    ranking = analytics.chart_page(engine, "chart-1", day)["ranking"]
    assert [(p, t.uuid, prev, peak, streak) for p, t, prev, peak, streak in seed["ranking"]] == list(zip(
        ranking["position"], ranking["uuid"], ranking["previous_position"], ranking["stored_peak_position"],
        ranking["stored_streak"], strict=True))
    # the new pages read what seed_new_pages added: the hit's artist, every track's labels
    artist = artist_pages.artist_page(engine, seed_pages.ARTIST)
    assert artist["tracks"]["uuid"].tolist() == [bench_dashboard.uuid_of(bench_dashboard.HIT)]
    assert len(artist["charts"]) == 40 and len(artist["followers"]["growth"]) == 2
    shares = labels.label_share(engine, days=30)["labels"]
    assert sorted(shares["label"]) == sorted(seed_pages.LABELS) and shares["entries"].sum() > 30 * 40 * 50
    engine.dispose()
