"""One logging setup: level, rotating file, and no secret in any record (unit and through real CLI runs)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

import pytest
from cli.test_maintenance_cli import CHART, soundcharts

from soundcharts_lib import logs
from soundcharts_lib.errors import ConfigError

KEY, SECRET = "CANARY-key-4417", "CANARY-secret-9902"


@pytest.fixture
def root_logging(monkeypatch):
    """Restore the root logger's handlers and level after a test that calls ``logs.setup``."""
    monkeypatch.setenv("SOUNDCHARTS_API_KEY", KEY)
    monkeypatch.setenv("SOUNDCHARTS_CLIENT_SECRET", SECRET)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield root
    for handler in [h for h in root.handlers if h not in saved[0]]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[1])


@pytest.mark.parametrize("raw, shown", [
    (f"key {KEY} and secret {SECRET}", "key *** and secret ***"),
    ("Authorization: Bearer eyJhbGciOi.J9-x_y", "Authorization: Bearer ***"),
    ("{'x-app-id': 'app', 'x-api-key': 'zzz999'}", "{'x-app-id': 'app', 'x-api-key': '***'}"),
    ("x-api-key: zzz999", "x-api-key: ***"),
    ("grant_type=client_credentials&client_secret=s3cr3t&team_id=t",
     "grant_type=client_credentials&client_secret=***&team_id=t"),
    ('{"access_token": "tok123", "expires_in": 3600}', '{"access_token": "***", "expires_in": 3600}'),
    ("postgresql+psycopg://app:pa55@db:5432/x", "postgresql+psycopg://app:***@db:5432/x"),
    ("http://127.0.0.1:8080/api/v2@x", "http://127.0.0.1:8080/api/v2@x"),
    ("password=hunter2 next", "password=*** next"),
    ("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db"),  # a raw "@" in the password
    ("see 'https://:tok-123@hooks.example/x' and 'c@d'", "see 'https://:***@hooks.example/x' and 'c@d'"),
    ("sqlite:////srv/a:b@c.db", "sqlite:////srv/a:b@c.db"),  # a path, not a password
])
def test_mask_hides_secrets_tokens_keys_and_url_passwords(raw, shown, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_API_KEY", KEY)
    monkeypatch.setenv("SOUNDCHARTS_CLIENT_SECRET", SECRET)
    assert logs.mask(raw) == shown


def test_a_too_short_configured_value_is_not_masked_everywhere(monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_API_KEY", "ab")
    assert logs.mask("about a tab") == "about a tab"


def test_setup_writes_a_rotating_file_at_the_level_with_every_record_masked(root_logging, tmp_path, monkeypatch):
    path = tmp_path / "logs" / "sc.log"
    monkeypatch.setenv("SOUNDCHARTS_LOG_FILE", str(path))
    monkeypatch.setenv("SOUNDCHARTS_LOG_LEVEL", "info")
    monkeypatch.setenv("SOUNDCHARTS_LOG_MAX_BYTES", "3000")
    monkeypatch.setenv("SOUNDCHARTS_LOG_BACKUPS", "2")
    logs.setup(console=False)
    logs.setup(console=False)  # again: replaced, not doubled
    ours = [h for h in root_logging.handlers if getattr(h, "_soundcharts", False)]
    assert len(ours) == 1 and isinstance(ours[0], RotatingFileHandler)

    log = logging.getLogger("soundcharts_lib.test")
    log.debug("hidden at INFO")
    log.info("sending headers %s", {"x-app-id": "a", "x-api-key": KEY})
    try:
        raise RuntimeError(f"token exchange failed with client secret {SECRET}")
    except RuntimeError:
        log.exception("refresh failed for Bearer abc.def")
    text = path.read_text()
    assert "hidden at INFO" not in text and "sending headers" in text and "RuntimeError" in text
    assert KEY not in text and SECRET not in text and "abc.def" not in text and text.count("***") >= 3

    for i in range(200):
        log.warning("line %d %s", i, "x" * 40)
    rotated = sorted(p.name for p in path.parent.iterdir())
    assert rotated == ["sc.log", "sc.log.1", "sc.log.2"]
    assert all(p.stat().st_size <= 3000 for p in path.parent.iterdir())


def test_an_explicit_level_and_file_win_and_off_means_no_file(root_logging, tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_LOG_LEVEL", "ERROR")
    logs.setup("DEBUG", tmp_path / "x.log")
    assert root_logging.level == logging.DEBUG and (tmp_path / "x.log").exists()
    monkeypatch.setenv("SOUNDCHARTS_LOG_FILE", "off")
    logs.setup()
    ours = [h for h in root_logging.handlers if getattr(h, "_soundcharts", False)]
    assert [type(h) for h in ours] == [logging.StreamHandler] and root_logging.level == logging.ERROR


def test_stderr_shows_from_its_own_level_and_never_file_only_records(root_logging, tmp_path, capfd):
    logs.setup("WARNING", tmp_path / "x.log", console_level="ERROR")
    log = logging.getLogger("soundcharts_lib.test")
    log.warning("a failure the command reports itself")
    log.error("a job failed, reported by the command", extra=logs.FILE_ONLY)
    log.error("something else broke")
    shown = capfd.readouterr().err.splitlines()
    assert shown == ["ERROR soundcharts_lib.test: something else broke"]
    kept = (tmp_path / "x.log").read_text()
    assert "a failure the command reports itself" in kept and "a job failed" in kept and "something else" in kept


def test_a_bad_level_or_an_unwritable_file_is_a_config_error(root_logging, tmp_path):
    with pytest.raises(ConfigError, match="log level must be one of"):
        logs.setup("LOUD")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write the log file"):
        logs.setup(file=blocker / "sub" / "x.log")


@pytest.mark.slow
def test_cli_runs_with_canary_credentials_log_to_the_file_and_never_the_secrets(api_env, tmp_path):
    log_file = tmp_path / "cli.log"
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'c.db'}", "SOUNDCHARTS_LOG_FILE": str(log_file),
           "SOUNDCHARTS_LOG_LEVEL": "DEBUG", "SOUNDCHARTS_API_KEY": KEY}
    key_run = soundcharts("sync-charts", "--chart", CHART, "--quiet", env=env)
    health = soundcharts("health", env=env)
    oauth = dict(env, SOUNDCHARTS_APP_ID="", SOUNDCHARTS_API_KEY="", SOUNDCHARTS_CLIENT_ID="soundcharts",
                 SOUNDCHARTS_CLIENT_SECRET=SECRET, SOUNDCHARTS_AUTH_URL=f"{api_env.base_url}/oauth/token")
    oauth_run = soundcharts("-v", "sync-charts", "--chart", CHART, "--quiet", env=oauth)
    assert key_run.returncode == 1 and health.returncode == 1 and oauth_run.returncode == 1
    written = log_file.read_text()
    assert "-> 401" in written  # the client's DEBUG lines reached the file
    for res in (key_run, health, oauth_run):
        assert "Traceback" not in res.stderr
        assert KEY not in res.stdout + res.stderr and SECRET not in res.stdout + res.stderr
    assert KEY not in written and SECRET not in written


def test_info_shows_the_project_and_alembic_only_at_debug(root_logging, tmp_path, capfd):
    logs.setup("INFO", "off")
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("soundcharts_lib.test").info("run 1 started")
    assert capfd.readouterr().err.splitlines() == ["INFO soundcharts_lib.test: run 1 started"]
    logs.setup("DEBUG", "off")
    logging.getLogger("alembic.runtime.migration").info("Will assume non-transactional DDL.")
    assert "Will assume non-transactional DDL." in capfd.readouterr().err


@pytest.mark.postgres
def test_urls_the_commands_print_show_no_password(api_env, tmp_path, pg_url):
    """An API URL and a database URL with passwords, through ``health`` (both printed) and ``init-db``."""
    from sqlalchemy.engine import make_url

    api = api_env.base_url.replace("http://", "http://user:CANARY-api-pw@")
    db_password = make_url(pg_url).password
    env = {"SOUNDCHARTS_DB_URL": pg_url, "SOUNDCHARTS_API_URL": api, "SOUNDCHARTS_LOG_FILE": str(tmp_path / "l.log"),
           "SOUNDCHARTS_LOG_LEVEL": "DEBUG"}
    init = soundcharts("init-db", env=env)
    health = soundcharts("health", env=env)
    assert init.returncode == 0, init.stderr
    assert f"{make_url(pg_url).username}:***@" in init.stdout and f"{make_url(pg_url).username}:***@" in health.stdout
    assert "user:***@127.0.0.1" in health.stdout
    for text in (init.stdout + init.stderr, health.stdout + health.stderr, (tmp_path / "l.log").read_text()):
        assert "CANARY-api-pw" not in text and db_password not in text
