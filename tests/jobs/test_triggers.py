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

CRONTAB = PROJECT_ROOT / "scheduled" / "crontab"
DAG = PROJECT_ROOT / "scheduled" / "airflow" / "soundcharts_dag.py"


def _runs(db) -> list[tuple]:
    with create_engine(f"sqlite:///{db}").connect() as conn:
        return conn.execute(text("SELECT kind, \"trigger\", notebook_path FROM sync_run ORDER BY id")).all()


def test_every_crontab_job_line_records_cron():
    commands = [re.search(r"\.venv/bin/soundcharts (run-job .*?) >>", line)
                for line in CRONTAB.read_text().splitlines() if "run-job" in line and not line.startswith("#")]
    assert len(commands) == 4 and all(commands)
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
