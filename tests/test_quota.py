"""Quota history, use per job kind, and the forecast line and check for ``soundcharts health``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib import quota
from soundcharts_lib.db.models import SyncRun

NOW = datetime(2026, 3, 20, 12, 0)


def runs(engine, points: list[tuple[float, str, int | None]]) -> None:
    """``points``: (days before NOW, kind, quota remaining)."""
    with engine.begin() as conn:
        conn.execute(insert(SyncRun), [
            {"kind": kind, "trigger": "cron", "status": "success", "started_at": NOW - timedelta(days=ago),
             "quota_remaining": left} for ago, kind, left in points])


def test_history_and_use_per_kind(engine):
    runs(engine, [(40, "sync_charts", 990_000),  # older than the window
                  (6, "sync_charts", 500_000), (5, "fetch_audience", 450_000), (4, "sync_charts", None),
                  (3, "sync_charts", 440_000), (2, "fetch_audience", 1_000_000),  # monthly reset: no use counted
                  (1, "fetch_audience", 970_000), (-1, "sync_charts", 1)])  # after NOW: not yet
    history = quota.quota_history(engine, now=NOW)
    assert history.columns.tolist() == quota.HISTORY_COLUMNS
    assert history["quota_remaining"].tolist() == [500_000, 450_000, 440_000, 1_000_000, 970_000]
    assert history["used"].isna().tolist() == [True, False, False, True, False]
    assert history["used"].dropna().tolist() == [50_000, 10_000, 30_000]
    usage = quota.usage_by_kind(history)
    assert usage.values.tolist() == [["fetch_audience", 3, 80_000, 88.9], ["sync_charts", 2, 10_000, 11.1]]
    assert quota.quota_history(engine, days=3, now=NOW)["quota_remaining"].tolist() == [440_000, 1_000_000, 970_000]


def test_nothing_recorded(engine):
    history = quota.quota_history(engine, now=NOW)
    assert history.empty and quota.usage_by_kind(history).empty
    assert quota.quota_check(engine, NOW) == (True, "API quota: no job run has recorded it yet")


def test_one_point_is_unknown(engine):
    runs(engine, [(1, "sync_charts", 5_000)])
    ok, line = quota.quota_check(engine, NOW)
    assert ok and line == ("API quota: 5,000 left at 2026-03-19 12:00 UTC; month-end forecast unknown (needs 2 runs "
                           "with a quota figure in the last 7 days)")


@pytest.mark.parametrize(("left_now", "ok", "tail"), [
    (900_000, True, "using 10,000 a day; month-end forecast 785,000"),
    (50_000, False, "using 10,000 a day; month-end forecast -65,000 (runs out around 2026-03-25)"),
])
def test_forecast_line_and_check(engine, left_now, ok, tail):
    runs(engine, [(2, "sync_charts", left_now + 20_000), (0, "sync_charts", left_now)])
    got_ok, line = quota.quota_check(engine, NOW)
    assert got_ok is ok
    assert line == f"API quota: {left_now:,} left at 2026-03-20 12:00 UTC; {tail}"
