"""Scheduled job notebooks run with papermill: parameters, lock, archive, exit codes."""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from soundcharts_lib.config import Settings
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs import runner as jobs
from soundcharts_lib.jobs.lock import job_lock
from soundcharts_lib.jobs.runner import JOBS_DIR


def run_job(*args, env):
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", "run-job", *args], capture_output=True,
                          text=True, env=dict(os.environ, **env), timeout=600)


@pytest.mark.slow
def test_sync_job_runs_with_parameters_and_is_archived(api_env, tmp_path):
    db = tmp_path / "job.db"
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"}
    res = run_job("sync_charts", "-p", "platforms", "spotify", "-p", "backfill_days", "2", env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    archived = sorted((tmp_path / "runs").rglob("sync_charts-*.ipynb"))
    assert len(archived) == 1 and archived[0].with_suffix(".log").exists()
    nb = json.loads(archived[0].read_text())
    params = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert "backfill_days = 2" in "".join(params["source"])
    assert "soundcharts" not in "".join(params["source"]).replace("sync_charts", "")  # no credentials injected
    with create_engine(f"sqlite:///{db}").connect() as conn:
        run = conn.execute(text("select trigger, status, notebook_path from sync_run")).one()
        platforms = conn.execute(text("select distinct p.slug from chart_ranking r join chart c on c.id = r.chart_id "
                                      "join platform p on p.id = c.platform_id")).scalars().all()
    assert run == ("manual", "success", str(archived[0]))  # run by hand; cron and Airflow say so (--trigger)
    assert platforms == ["spotify"]


@pytest.mark.slow
def test_failing_job_is_archived_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_RUNS_DIR", str(tmp_path / "runs"))
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'f.db'}", "SOUNDCHARTS_API_URL": "http://127.0.0.1:9",
           "SOUNDCHARTS_APP_ID": "a", "SOUNDCHARTS_API_KEY": "CANARY-job-key-93f1"}
    res = run_job("sync_charts", "-p", "date", "2026-02-30", env=env)
    assert res.returncode == 1
    assert "date: not a date (YYYY-MM-DD)" in res.stderr
    archived = list((tmp_path / "runs").rglob("sync_charts-*.ipynb"))
    assert len(archived) == 1
    text_nb = archived[0].read_text()
    assert "An Exception was encountered" in text_nb or '"output_type": "error"' in text_nb
    assert "CANARY-job-key-93f1" not in text_nb
    assert "CANARY-job-key-93f1" not in archived[0].with_suffix(".log").read_text()


REFUSED = """
import sys, time
started = time.perf_counter()
from soundcharts_lib.cli import main as cli
code = cli.main(sys.argv[1:])
print(f"{time.perf_counter() - started:.3f}", *sorted({m.split('.')[0] for m in sys.modules} & {HEAVY}))
sys.exit(code)
"""
HEAVY = {"papermill", "nbclient", "nbformat", "jupyter_client", "ipykernel"}  # seconds of imports to run a notebook


def test_second_run_of_a_locked_job_exits_3_at_once(db_url, tmp_path):
    """Refused before anything that runs a notebook is imported (the lock is checked first), on both databases."""
    env = {"SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"), "SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_LOG_FILE": "off"}
    with job_lock("sync_charts", Settings.from_env(env)):
        res = subprocess.run([sys.executable, "-c", REFUSED.replace("{HEAVY}", repr(HEAVY)), "run-job", "sync_charts"],
                             capture_output=True, text=True, env=dict(os.environ, **env), timeout=120)
    assert res.returncode == 3 and "already running" in res.stderr and len(res.stderr.splitlines()) == 1, res.stderr
    seconds, *heavy = res.stdout.split()
    assert heavy == [], f"imported before the lock was checked: {heavy}"
    print(f"refused in {seconds} s of the command's own time, nothing of {sorted(HEAVY)} imported")


def test_unknown_job_is_a_clear_error(tmp_path):
    res = run_job("no_such_job", env={"SOUNDCHARTS_RUNS_DIR": str(tmp_path)})
    assert res.returncode == 2 and "no such job" in res.stderr and "Traceback" not in res.stderr


def test_every_job_notebook_has_a_parseable_parameters_cell(caplog):
    import logging
    from pathlib import Path

    import papermill

    jobs = sorted((Path(__file__).resolve().parents[2] / "scheduled").glob("*.ipynb"))
    assert {p.stem for p in jobs} >= {"sync_charts", "fetch_metadata", "maintenance"}
    for path in jobs:
        with caplog.at_level(logging.WARNING, logger="papermill"):
            params = papermill.inspect_notebook(str(path))
        assert params, f"{path.name} has no parameters cell"
        assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()], path.name
        caplog.clear()


@pytest.mark.slow
def test_parameters_the_job_does_not_take_are_refused_before_anything_runs(tmp_path):
    """A key that is not in the notebook's parameters cell (papermill's inspection), a key that is code or a keyword,
    a value that is a configured secret: exit 2, one line (the secret never in it), no kernel, no lock, no archive,
    no database; code in a key never runs."""
    import papermill

    marker = tmp_path / "touched"
    known = ", ".join(papermill.inspect_notebook(str(JOBS_DIR / "sync_charts.ipynb")))
    cases = {
        "unknown": (("days", "3"), f"has no parameter 'days' (its parameters: {known})"),
        "code": ((f"__import__('os').system('touch {marker}');x", "1"), "is not a parameter name"),
        "keyword": (("lambda", "1"), "is not a parameter name"),
        "secret": (("platforms", "CANARY-job-key-93f1"), "is the secret in SOUNDCHARTS_API_KEY"),
    }
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'never.db'}", "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"),
           "SOUNDCHARTS_APP_ID": "a", "SOUNDCHARTS_API_KEY": "CANARY-job-key-93f1",
           "SOUNDCHARTS_API_URL": "http://127.0.0.1:9"}
    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(cases, pool.map(lambda c: run_job("sync_charts", "-p", *cases[c][0], env=env), cases),
                           strict=True))
    for case, res in results.items():
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and cases[case][1] in lines[0], (case, res.stderr)
        assert "CANARY-job-key-93f1" not in res.stdout + res.stderr
    assert not marker.exists() and not (tmp_path / "runs").exists() and not (tmp_path / "never.db").exists()
    with pytest.raises(ConfigError, match="has no parameter 'days'"):  # the library's callers (admin area, demo)
        jobs.run_job("sync_charts", {"days": 3}, settings=Settings.from_env(env, dotenv=False))
    assert not (tmp_path / "runs").exists()
    jobs.check_params("sync_charts", {"backfill_days": 2, "platforms": "spotify"})  # the notebook's own: accepted
    print("; ".join(f"{case}: {res.stderr.strip()[:90]!r}" for case, res in results.items()))


@pytest.mark.parametrize("job, params, words", [
    ("sync", {"backfill_days": 10 ** 20}, "backfill_days: must be at most 36500"),
    ("sync", {"date": "20260101"}, "date: not a date (YYYY-MM-DD)"),
    ("sync", {"country": "FRA"}, "country: not a 2-letter country code"),
    ("audience", {"limit": 2 ** 64}, "limit: must be at most 1000000"),
    ("audience", {"start_date": "1999-12-31"}, "before 2000-01-01"),
    ("metadata", {"track_uuids": "not-a-uuid"}, "track_uuids: not a SoundCharts UUID"),
    ("maintenance", {"older_than": 10 ** 20}, "older_than: must be at most 36500"),
    ("maintenance", {"keep_backups": 0}, "keep_backups: must be at least 1"),
])
def test_job_functions_check_values_with_the_commands_types(job, params, words, tmp_path):
    """What the job notebooks call refuses a value out of range before opening the database or the API."""
    from soundcharts_lib.jobs.audience import fetch_audience
    from soundcharts_lib.jobs.maintenance import run_maintenance
    from soundcharts_lib.jobs.metadata import fetch_metadata
    from soundcharts_lib.jobs.sync import sync_charts

    settings = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'never.db'}",
                                  "SOUNDCHARTS_API_URL": "http://127.0.0.1:9", "SOUNDCHARTS_APP_ID": "a",
                                  "SOUNDCHARTS_API_KEY": "b", "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")},
                                 dotenv=False)
    run = {"sync": sync_charts, "audience": fetch_audience, "metadata": fetch_metadata,
           "maintenance": run_maintenance}[job]
    with pytest.raises(ConfigError, match=re.escape(words)):
        run(settings, params)
    assert not (tmp_path / "never.db").exists()
