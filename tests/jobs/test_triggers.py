"""Who started a run, as ``sync_run.trigger`` records it: ``run-job`` by hand is ``manual``, the crontab's lines
say ``cron``, the Airflow DAG ``airflow``, the admin area ``admin`` (tests/jobs/test_admin.py); the other commands
``cli``. The trigger is passed down explicitly: an environment variable never rewrites it."""

from __future__ import annotations

import re
import shlex

import pytest
from cli.test_maintenance_cli import CHART, soundcharts
from sqlalchemy import create_engine, text

from soundcharts_lib.cli.main import build_parser
from soundcharts_lib.config import PROJECT_ROOT, TRIGGERS, Settings
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.runner import job_names

CRONTAB = PROJECT_ROOT / "scheduled" / "crontab"
DAG = PROJECT_ROOT / "scheduled" / "airflow" / "soundcharts_dag.py"


def _runs(db) -> list[tuple]:
    with create_engine(f"sqlite:///{db}").connect() as conn:
        return conn.execute(text("SELECT kind, \"trigger\", notebook_path FROM sync_run ORDER BY id")).all()


def test_every_crontab_job_line_records_cron():
    commands = [re.search(r"\.venv/bin/soundcharts (run-job .*?) >>", line)
                for line in CRONTAB.read_text().splitlines() if "run-job" in line and not line.startswith("#")]
    assert all(commands)
    assert {shlex.split(found[1])[1] for found in commands} == set(job_names())  # every job is scheduled
    for found in commands:
        assert build_parser().parse_args(shlex.split(found[1])).trigger == "cron", found[1]


def test_the_airflow_dag_records_airflow_and_by_hand_is_manual():
    assert '"run-job", name, "--trigger", "airflow"]' in DAG.read_text()
    assert build_parser().parse_args(["run-job", "sync_charts", "--trigger", "airflow"]).trigger == "airflow"
    assert build_parser().parse_args(["run-job", "sync_charts"]).trigger == "manual"


def test_settings_read_the_trigger_run_job_gives_its_kernel():
    assert Settings.from_env({}).trigger == "notebook" and Settings.from_env({}).job_notebook == ""
    given = Settings.from_env({"SOUNDCHARTS_TRIGGER": "cron", "SOUNDCHARTS_JOB_NOTEBOOK": "/runs/x.ipynb"})
    assert (given.trigger, given.job_notebook) == ("cron", "/runs/x.ipynb")
    assert set(TRIGGERS) == {"manual", "cron", "airflow", "admin", "cli", "notebook"}
    with pytest.raises(ConfigError, match="SOUNDCHARTS_TRIGGER must be one of"):
        Settings.from_env({"SOUNDCHARTS_TRIGGER": "dashboard"})


@pytest.mark.slow
def test_run_job_records_its_trigger_and_notebook_and_the_environment_rewrites_no_other_run(api_env, tmp_path):
    db = tmp_path / "t.db"
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"}
    cron = soundcharts("run-job", "sync_charts", "--trigger", "cron", "-p", "charts", CHART, env=env)
    assert cron.returncode == 0, cron.stderr[-2000:]
    archived = cron.stdout.strip().rpartition(": ")[2]
    # a variable left in a shell (or a kernel's environment) does not rewrite what a command records
    cli = soundcharts("sync-charts", "--chart", CHART, "--quiet",
                      env=dict(env, SOUNDCHARTS_TRIGGER="cron", SOUNDCHARTS_JOB_NOTEBOOK="/elsewhere.ipynb"))
    assert cli.returncode == 0, cli.stderr
    assert _runs(db) == [("sync_charts", "cron", archived), ("sync_charts", "cli", None)]


def test_an_explicit_trigger_wins_over_the_environment(tmp_path, monkeypatch):
    from soundcharts_lib.db import make_engine, upgrade
    from soundcharts_lib.db.runs import finish_run, start_run

    monkeypatch.setenv("SOUNDCHARTS_TRIGGER", "admin")
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(engine)
    run_id = start_run(engine, "sync_charts", "cron", {})
    finish_run(engine, run_id, status="success", counts={}, errors=[])
    assert Settings.from_env().trigger == "admin"  # the variable is read, and yet not what the run records
    assert _runs(tmp_path / "r.db") == [("sync_charts", "cron", None)]


def test_run_job_gives_its_kernel_the_settings_and_leaves_this_process_environment_alone(tmp_path, monkeypatch):
    """The kernel reads the settings ``run_job`` was given (a database this process's environment does not name),
    with the trigger and the archived notebook; this process's environment is the same before, while the notebook
    runs (each record papermill logs from the kernel's output) and after."""
    import logging
    import os

    from soundcharts_lib.jobs.runner import run_job

    for var in ("SOUNDCHARTS_TRIGGER", "SOUNDCHARTS_JOB_NOTEBOOK", "SOUNDCHARTS_DB_URL"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "k.db"
    settings = Settings.from_env({**os.environ, "SOUNDCHARTS_DB_URL": f"sqlite:///{db}",
                                  "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")}, dotenv=False)
    before, seen = dict(os.environ), []

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(dict(os.environ))

    watch = Watch()
    logging.getLogger("papermill").addHandler(watch)
    try:
        result = run_job("maintenance", {}, settings=settings, trigger="cron")
    finally:
        logging.getLogger("papermill").removeHandler(watch)
    assert len(seen) > 3 and all(env == before for env in seen) and dict(os.environ) == before
    assert _runs(db) == [("maintenance", "cron", str(result.notebook))]
    with create_engine(f"sqlite:///{db}").connect() as conn:
        actors = conn.execute(text("SELECT actor FROM audit_event")).scalars().all()
    assert actors and all(actor.startswith("cron:") for actor in actors)  # the cleanup's audit event
