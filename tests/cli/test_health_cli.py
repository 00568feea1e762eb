"""`soundcharts health` for monitoring: exit 0 healthy, 1 unhealthy, 2 bad input; one line per check."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from reliability.test_runs import hold_run, kill_9
from sqlalchemy import create_engine, text

from cli.test_maintenance_cli import CHART, one_line_error, soundcharts, synced  # noqa: F401  (fixture)
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.web.launch import free_port

pytestmark = pytest.mark.slow  # syncs and commands as processes


def lines(res) -> dict[str, str]:
    """``{check: "ok|FAIL  detail"}`` from the report."""
    return {line.split()[0]: line.split(None, 1)[1] for line in res.stdout.strip().splitlines()[:-1]}


def execute(db, sql: str, **params) -> None:
    with create_engine(f"sqlite:///{db}").begin() as conn:
        conn.execute(text(sql), params)


def test_a_synced_database_and_a_reachable_api_are_healthy(synced):  # noqa: F811
    res = soundcharts("health", env=synced[1])
    assert res.returncode == 0, res.stdout + res.stderr
    checks = lines(res)
    assert res.stdout.strip().endswith("healthy") and list(checks) == ["database", "charts", "jobs", "quota", "api"]
    assert checks["database"].startswith("ok") and re.search(r"ops\.db \(revision \w+\)$", checks["database"])
    assert checks["charts"].startswith("ok") and "1 active, 0 stale (allowed 0), 0 failing" in checks["charts"]
    assert checks["jobs"].startswith("ok") and "sync_charts success" in checks["jobs"]
    assert checks["api"].startswith("ok") and "reachable, quota unlimited" in checks["api"]


def test_stale_charts_above_the_threshold_are_unhealthy(synced):  # noqa: F811
    db, env = synced
    execute(db, "UPDATE chart SET last_ranking_date = :d", d=str(utcnow().date() - timedelta(days=10)))
    res = soundcharts("health", "--skip-api", env=env)
    assert res.returncode == 1 and res.stdout.strip().endswith("UNHEALTHY: charts")
    assert lines(res)["charts"] == f"FAIL  1 active, 1 stale (allowed 0), 0 failing: {CHART}"
    assert soundcharts("health", "--skip-api", "--max-stale", "1", env=env).returncode == 0


def test_a_failed_interrupted_or_stuck_last_job_is_unhealthy(synced):  # noqa: F811
    db, env = synced
    execute(db, "INSERT INTO sync_run (kind, \"trigger\", started_at, status) VALUES ('sync_charts', 'cron', :t, "
                "'failed')", t=str(utcnow()))
    res = soundcharts("health", "--skip-api", env=env)
    assert res.returncode == 1 and lines(res)["jobs"].startswith("FAIL  sync_charts failed")

    execute(db, "UPDATE sync_run SET status = 'success'")
    execute(db, "INSERT INTO sync_run (kind, \"trigger\", started_at, status) VALUES ('fetch_audience', 'cron', :t, "
                "'running')", t=str(utcnow()))  # recorded as running by a process that no longer exists
    res = soundcharts("health", "--skip-api", env=env)
    assert res.returncode == 1 and "fetch_audience interrupted 0 min ago" in lines(res)["jobs"]

    holder, run_id = hold_run(f"sqlite:///{db}", "fetch_audience")  # a live run, started 8 hours ago
    try:
        execute(db, "UPDATE sync_run SET started_at = :t WHERE id = :id", t=str(utcnow() - timedelta(hours=8)),
                id=run_id)
        res = soundcharts("health", "--skip-api", env=env)
        assert res.returncode == 1 and "fetch_audience still running, started 8.0 h ago (stuck?)" in lines(res)["jobs"]
        assert soundcharts("health", "--skip-api", "--max-running-hours", "9", env=env).returncode == 0
    finally:
        kill_9(holder)


def test_a_quota_running_out_before_the_month_ends_is_unhealthy(synced):  # noqa: F811
    db, env = synced
    now = utcnow()
    execute(db, "UPDATE sync_run SET quota_remaining = NULL")
    for hours, left in ((24, 100_000), (0, 10_000)):
        execute(db, "INSERT INTO sync_run (kind, \"trigger\", started_at, status, quota_remaining) "
                    "VALUES ('sync_charts', 'cron', :t, 'success', :left)", t=str(now - timedelta(hours=hours)),
                left=left)
    res = soundcharts("health", "--skip-api", env=env)
    assert res.returncode == 1 and res.stdout.strip().endswith("UNHEALTHY: quota")
    assert lines(res)["quota"].startswith("FAIL  10,000 left at") and "runs out around" in lines(res)["quota"]


def test_an_unreachable_api_is_one_clear_line(synced):  # noqa: F811
    env = dict(synced[1], SOUNDCHARTS_API_URL=f"http://127.0.0.1:{free_port()}")
    res = soundcharts("health", "--timeout", "2", env=env, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stdout + res.stderr
    assert lines(res)["api"].startswith("FAIL  unreachable: request failed on /api/v2/team/usage: connection failed")
    assert res.stdout.strip().endswith("UNHEALTHY: api")


def test_rejected_credentials_are_unhealthy_and_never_printed(synced):  # noqa: F811
    env = dict(synced[1], SOUNDCHARTS_API_KEY="CANARY-health-key-7731")
    res = soundcharts("health", env=env)
    assert res.returncode == 1 and lines(res)["api"].startswith("FAIL  refused: HTTP 401")
    assert "CANARY-health-key-7731" not in res.stdout + res.stderr


def test_a_low_quota_is_unhealthy_below_the_minimum(synced):  # noqa: F811
    with running(LocalApiConfig(seed=7, quota=50)) as srv:
        env = dict(synced[1], SOUNDCHARTS_API_URL=srv.base_url)
        low = soundcharts("health", "--min-quota", "100", env=env)
        fine = soundcharts("health", "--min-quota", "10", env=env)
    assert low.returncode == 1 and lines(low)["api"].startswith("FAIL  reachable, 50 requests left (minimum 100)")
    assert fine.returncode == 0 and lines(fine)["api"].startswith("ok    reachable, 50 requests left")


def test_a_missing_uninitialised_or_unreachable_database_is_unhealthy(tmp_path):
    missing = soundcharts("health", "--skip-api", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'no.db'}"})
    assert missing.returncode == 1 and lines(missing)["database"].startswith("FAIL  database file not found")
    (tmp_path / "empty.db").write_bytes(b"")
    empty = soundcharts("health", "--skip-api", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert empty.returncode == 1 and lines(empty)["database"].startswith("FAIL  not initialised")
    url = f"postgresql://postgres:CANARY-db-pw-0042@127.0.0.1:{free_port()}/x"
    down = soundcharts("health", "--skip-api", env={"SOUNDCHARTS_DB_URL": url})
    assert down.returncode == 1 and lines(down)["database"].startswith("FAIL  connection failed")
    assert len(down.stdout.strip().splitlines()) == 2 and "CANARY-db-pw-0042" not in down.stdout + down.stderr


@pytest.mark.parametrize("args, words", [
    (["health"], "no SoundCharts credentials"),
    (["health", "--skip-api", "--max-stale", "-1"], "at least 0"),
    (["health", "--skip-api", "--min-quota", "many"], "not a whole number"),
    (["health", "--skip-api", "--timeout", "0"], "at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(args, words, tmp_path):
    one_line_error(soundcharts(*args, env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'x.db'}"}), 2, words)


def test_a_fresh_install_on_a_5000_call_plan_is_healthy(tmp_path):
    """Two syncs minutes apart against a 5,000-call plan: the quota they recorded is no basis for a forecast, and
    the API's own figure is far above the minimum."""
    with running(LocalApiConfig(seed=7, quota=5_000)) as srv:
        env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SOUNDCHARTS_API_URL": srv.base_url,
               "SOUNDCHARTS_APP_ID": "soundcharts", "SOUNDCHARTS_API_KEY": "soundcharts",
               "SOUNDCHARTS_CACHE_BACKEND": "memory", "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")}
        for _ in range(2):
            sync = soundcharts("sync-charts", "--chart", CHART, "--quiet", env=env)
            assert sync.returncode == 0, sync.stderr
        res = soundcharts("health", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    checks = lines(res)
    left = int(re.search(r"ok    ([\d,]+) left at", checks["quota"])[1].replace(",", ""))
    assert 4_900 < left < 5_000 and "month-end forecast: not enough history" in checks["quota"]
    assert re.match(r"ok    reachable, 4,9\d\d requests left \(minimum 1,000\)", checks["api"])


def test_no_calls_left_is_a_failure_whatever_the_minimum(synced):  # noqa: F811
    db, env = synced
    execute(db, "UPDATE sync_run SET quota_remaining = 0")
    with running(LocalApiConfig(seed=7, quota=0)) as srv:
        res = soundcharts("health", "--min-quota", "0", env=dict(env, SOUNDCHARTS_API_URL=srv.base_url))
    assert res.returncode == 1 and res.stdout.strip().endswith("UNHEALTHY: quota, api")
    assert re.match(r"FAIL  0 left at .* UTC; used up$", lines(res)["quota"])
    assert lines(res)["api"].startswith("FAIL  reachable, 0 requests left (minimum 0)")
