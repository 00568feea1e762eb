"""The `soundcharts` command as a user runs it (a real subprocess)."""

import argparse
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from cli.test_bad_input import UUID, audience, crafted_api


def run(*args, env=None, timeout=300):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                          env=full, timeout=timeout)


def test_help_lists_the_commands():
    out = run("--help").stdout
    for cmd in ("init-db", "localapi", "sync-charts", "run-job", "serve", "demo"):
        assert cmd in out


def test_init_db_is_safe_to_run_twice(tmp_path):
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    first, second = run("init-db", env=env), run("init-db", env=env)
    assert first.returncode == second.returncode == 0, first.stderr
    from soundcharts_lib.db.migrate import head

    assert f"revision {head()}" in second.stdout


@pytest.mark.slow
def test_sync_charts_from_the_local_api(api_env, tmp_path):
    db = tmp_path / "cli.db"
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"}
    res = run("sync-charts", "--platform", "spotify", "--backfill-days", "2", "--quiet", env=env)
    assert res.returncode == 0, res.stderr
    assert "success" in res.stdout and "rankings stored" in res.stdout
    with create_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.execute(text("select count(*) from chart_ranking")).scalar_one() > 0


@pytest.mark.parametrize("args, word", [
    (["sync-charts", "--date", "2026-13-01"], "not a date"),
    (["sync-charts", "--backfill-days", "0"], "at least 1"),
    (["sync-charts", "--backfill-days", "ten"], "not a whole number"),
    (["sync-charts", "--platform", "Spotify;drop"], "not a slug"),
    (["sync-charts", "--country", "FRA"], "2-letter"),
    (["sync-charts", "--date", "2026-01-01", "--backfill-days", "3"], "not allowed with"),
    (["sync-charts", "--start-date", "2026-02-01", "--end-date", "2026-01-01"], "after"),
    (["serve", "--port", "70000"], "port"),
    (["nope"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, word, api_env, tmp_path):
    res = run(*args, env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'bad.db'}"})
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in res.stderr


@pytest.mark.slow
def test_missing_credentials_and_bad_database_url(tmp_path):
    res = run("sync-charts", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    assert res.returncode == 2 and "credentials" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run("init-db", env={"SOUNDCHARTS_DB_URL": "mysql://u@h/db"})
    assert res.returncode == 2 and "unsupported database" in res.stderr
    res = run("init-db", env={"SOUNDCHARTS_DB_URL": "postgresql://u:secretpw@127.0.0.1:1/db"})
    assert res.returncode == 2 and "database" in res.stderr and "secretpw" not in res.stderr
    assert "Traceback" not in res.stderr


BROKEN = {  # case: (path of the crafted API it breaks, body)
    "sync": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", b"<html>Bad gateway</html>"),
    "audience": (r"/api/v2/song/[^/]+/audience/spotify", audience([{"identifier": "sp1", "value": "many"}])),
    "metadata": (r"/api/v2\.25/song/[^/]+", b"<html>Bad gateway</html>"),
}
FAILING = {  # case: (command, the words of its one line)
    "sync": (("sync-charts", "--platform", "deezer", "--date", "2025-03-14", "-q"), "not valid JSON"),
    "audience": (("fetch-audience", "--track-uuid", UUID, "--platform", "spotify", "--start-date", "2025-03-10",
                  "--end-date", "2025-03-14", "-q"), "value is not an integer"),
    "metadata": (("fetch-metadata", "--track-uuid", UUID, "-q"), "not valid JSON"),
    "job": (("run-job", "sync_charts", "-p", "date", "2026-02-30"), "not a date (YYYY-MM-DD)"),
}


@pytest.mark.slow
def test_a_failing_command_reports_its_failure_once(tmp_path):
    """Exit 1 and one line on stderr: not that line again as a log record, nor a kernel's start-up warning."""
    with crafted_api(BROKEN) as api:
        def failing(case: str) -> subprocess.CompletedProcess:
            return run(*FAILING[case][0], env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / case}.db",
                                               "SOUNDCHARTS_API_URL": f"{api}/{case}", "SOUNDCHARTS_APP_ID": "a",
                                               "SOUNDCHARTS_API_KEY": "b", "SOUNDCHARTS_MAX_RETRIES": "1",
                                               "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"),
                                               "SOUNDCHARTS_LOG_FILE": str(tmp_path / "soundcharts.log")})

        with ThreadPoolExecutor(2) as pool:
            results = dict(zip(FAILING, pool.map(failing, FAILING), strict=True))
    for case, res in results.items():
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 1 and len(lines) == 1 and FAILING[case][1] in lines[0], (case, res.stderr)
        assert "Traceback" not in res.stdout + res.stderr
    logged = (tmp_path / "soundcharts.log").read_text()
    assert "WARNING soundcharts_lib.jobs.metadata" in logged and "ERROR papermill: job sync_charts failed" in logged
    print("; ".join(f"{case}: {res.stderr.strip()[:70]!r}" for case, res in results.items()))


HOSTILE = (str(2 ** 64), f"-{2 ** 64}", "9" * 5000, "-1", "nan", "inf", "1e999", "２８", "1_0", " 5", "x\n", "a\x00b")
FREE = {("run-job", "--param")}  # checked against the job notebook's parameters cell (tests/jobs/test_jobs.py)


def _options(parser, path=()):
    """``(subcommand path, action)`` of every option and positional of every (sub)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*path, name))
        elif action.nargs != 0 and not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_value_has_a_type_and_every_number_a_range():
    """Every value-taking option of every command (``localapi``'s are checked by its ``LocalApiConfig``, see
    tests/security/test_cli_probes.py) has a type or choices; a hostile value is refused with an argparse error,
    or taken as a finite number within 64 bits, or as text without control characters."""
    from soundcharts_lib.cli.main import build_parser

    checked = 0
    for path, action in _options(build_parser()):
        name = (*path, max(action.option_strings, key=len) if action.option_strings else action.dest)
        if path[:1] == ("localapi",) or name in FREE or action.choices:
            continue
        assert action.type is not None, f"{' '.join(name)} takes any string"
        for value in HOSTILE:
            try:
                got = action.type(value)
            except argparse.ArgumentTypeError:
                continue
            if isinstance(got, str):
                assert not re.search(r"[\x00-\x1f]", got), (name, value)
            else:  # a number: written in ASCII digits, finite, within 64 bits
                assert re.fullmatch(r"-?[0-9]+", value) and math.isfinite(got) and abs(got) < 2 ** 63, (name, value)
        checked += 1
    assert checked >= 50, checked
    print(f"{checked} options checked with {len(HOSTILE)} hostile values each")


def test_one_date_format_and_ascii_numbers_everywhere():
    """The command line, the JSON endpoints and the pages' links take the same dates (one parser) and whole numbers
    in ASCII digits only."""
    from soundcharts_lib.cli import args as cliargs
    from soundcharts_lib.ui.params import BadQuery, Query
    from soundcharts_lib.web.query import BadParameter, parse

    def taken(check, value) -> bool:
        try:
            check(value)
            return True
        except (argparse.ArgumentTypeError, BadParameter, BadQuery):
            return False

    uuid = "00000000-0000-4000-8000-000000000001/"
    for value, good in [("2026-01-01", True), ("2024-02-29", True), ("20260101", False), ("２０２６-01-01", False),
                        ("2026-1-1", False), ("2026-02-30", False), ("2026-W01-1", False), ("+2026-01-01", False)]:
        seen = [taken(cliargs.iso_date, value), taken(lambda v: parse(uuid, {"start_date": v}), value),
                taken(lambda v: Query({"date": [v]}).date(), value)]
        assert seen == [good] * 3, (value, seen)
    for value, good in [("10", True), ("１０", False), ("1_0", False), ("+10", False)]:
        seen = [taken(cliargs.limit, value), taken(lambda v: parse(uuid, {"limit": v}), value),
                taken(lambda v: Query({"n": [v]}).integer("n", 1, 100), value)]
        assert seen == [good] * 3, (value, seen)
