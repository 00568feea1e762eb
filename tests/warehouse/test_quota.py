"""Quota history, use per job kind, and the forecast line and check for ``soundcharts health``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib.db.models import SyncRun
from soundcharts_lib.warehouse import quota

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


def test_one_point_is_not_enough_history(engine):
    runs(engine, [(1, "sync_charts", 5_000)])
    ok, line = quota.quota_check(engine, NOW)
    assert ok and line == ("API quota: 5,000 left at 2026-03-19 12:00 UTC; month-end forecast: not enough history "
                           "(0 h of quota readings in the last 7 days, needs 24 h)")


def test_a_fresh_install_with_minutes_of_readings_is_healthy_without_a_forecast(engine):
    """4,988 of 5,000 left after two runs 20 minutes apart: 864 calls a day at that pace would run out before the
    month ends, but 20 minutes say nothing about a month."""
    runs(engine, [(20 / 1440, "sync_charts", 4_995), (0, "fetch_metadata", 4_988)])
    ok, line = quota.quota_check(engine, NOW)
    assert ok and line == ("API quota: 4,988 left at 2026-03-20 12:00 UTC; month-end forecast: not enough history "
                           "(0.3 h of quota readings in the last 7 days, needs 24 h)")


@pytest.mark.parametrize(("hours", "forecast"), [(23.9, False), (24, True)])
def test_the_forecast_needs_24_hours_of_readings(engine, hours, forecast):
    runs(engine, [(hours / 24, "sync_charts", 900_000), (0, "sync_charts", 899_000)])
    ok, line = quota.quota_check(engine, NOW)
    assert ok and ("month-end forecast 88" in line) is forecast and ("not enough history" in line) is not forecast


@pytest.mark.parametrize("history", [[(0, "sync_charts", 0)], [(3, "sync_charts", 9_000), (0, "sync_charts", 0)]])
def test_no_calls_left_is_a_failure(engine, history):
    runs(engine, history)
    ok, line = quota.quota_check(engine, NOW)
    assert not ok and line == "API quota: 0 left at 2026-03-20 12:00 UTC; used up"


@pytest.mark.parametrize(("left_now", "ok", "tail"), [
    (900_000, True, "using 10,000 a day; month-end forecast 785,000"),
    (50_000, False, "using 10,000 a day; month-end forecast -65,000 (runs out around 2026-03-25)"),
])
def test_forecast_line_and_check(engine, left_now, ok, tail):
    runs(engine, [(2, "sync_charts", left_now + 20_000), (0, "sync_charts", left_now)])
    got_ok, line = quota.quota_check(engine, NOW)
    assert got_ok is ok
    assert line == f"API quota: {left_now:,} left at 2026-03-20 12:00 UTC; {tail}"
