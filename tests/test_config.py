import os
from dataclasses import replace

import pytest

from soundcharts_lib.config import PROJECT_ROOT, Secret, Settings, default_db_url
from soundcharts_lib.errors import ConfigError


def test_defaults_point_at_production_and_the_project_sqlite_file():
    s = Settings.from_env({})
    assert s.api_url == "https://customer.api.soundcharts.com"
    assert s.db_url == default_db_url() == f"sqlite:///{PROJECT_ROOT / 'data' / 'soundcharts.db'}"
    assert not s.has_credentials


def test_unset_variables_mean_the_declared_defaults():
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"SOUNDCHARTS_RATE_LIMIT": "", "SOUNDCHARTS_TRIGGER": " "}) == Settings()


def test_a_child_reads_back_what_the_settings_hold_and_this_environment_stays(tmp_path):
    settings = Settings.from_env({"SOUNDCHARTS_API_KEY": "CANARY-child-key", "SOUNDCHARTS_TIMEOUT": "2.5",
                                  "SOUNDCHARTS_ALLOWED_HOSTS": "a.example, b.example", "SOUNDCHARTS_DB_READONLY": "1",
                                  "SOUNDCHARTS_RETENTION_AUDIT_DAYS": "30", "XDG_CACHE_HOME": str(tmp_path / "xdg"),
                                  "SOUNDCHARTS_DB_URL": "postgresql://u@h/db",
                                  "SOUNDCHARTS_PG_PARTITIONING": "Monthly"})
    assert settings.allowed_hosts == ("a.example", "b.example") and settings.db_readonly
    assert settings.retention["audit"] == 30 and settings.pg_partitioning == "monthly"
    before = dict(os.environ)
    child = settings.child_env(trigger="cron", job_notebook="/runs/x.ipynb")
    assert dict(os.environ) == before and child["PATH"] == os.environ["PATH"]
    assert Settings.from_env(child) == replace(settings, trigger="cron", job_notebook="/runs/x.ipynb")
    assert child["SOUNDCHARTS_API_KEY"] == "CANARY-child-key" and child["SOUNDCHARTS_TRIGGER"] == "cron"


def test_default_database_is_the_same_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).db_url == default_db_url()
    assert str(PROJECT_ROOT) in default_db_url()


def test_environment_values_are_read():
    s = Settings.from_env({"SOUNDCHARTS_API_URL": "http://127.0.0.1:9/", "SOUNDCHARTS_APP_ID": "app",
                           "SOUNDCHARTS_API_KEY": "k", "SOUNDCHARTS_DB_URL": "postgresql://u@h/db",
                           "SOUNDCHARTS_RATE_LIMIT": "600"})
    assert s.api_url == "http://127.0.0.1:9"
    assert s.has_credentials and s.api_key.get() == "k"
    assert s.db_url == "postgresql://u@h/db"
    assert s.rate_limit_per_minute == 600


def test_secrets_never_print():
    canary = "CANARY-4f1d9a7e2b"
    s = Settings.from_env({"SOUNDCHARTS_API_KEY": canary, "SOUNDCHARTS_CLIENT_SECRET": canary})
    for text in (repr(s), str(s), repr(s.api_key), f"{s.api_key}", str(vars(s) if hasattr(s, "__dict__") else s)):
        assert canary not in text
    assert bool(Secret("x")) and not Secret("")


@pytest.mark.parametrize("env, word", [
    ({"SOUNDCHARTS_RATE_LIMIT": "fast"}, "SOUNDCHARTS_RATE_LIMIT"),
    ({"SOUNDCHARTS_RATE_LIMIT": "0"}, "at least 1"),
    ({"SOUNDCHARTS_TIMEOUT": "-1"}, "SOUNDCHARTS_TIMEOUT"),
    ({"SOUNDCHARTS_API_URL": "ftp://x"}, "http"),
    ({"SOUNDCHARTS_LOG_MAX_BYTES": "5MB"}, "SOUNDCHARTS_LOG_MAX_BYTES must be a whole number, got '5MB'"),
    ({"SOUNDCHARTS_RETENTION_RANKINGS_DAYS": "0"}, "SOUNDCHARTS_RETENTION_RANKINGS_DAYS must be at least 1, got 0"),
    ({"SOUNDCHARTS_TIMEOUT": "0"}, "SOUNDCHARTS_TIMEOUT must be at least 0.1, got 0.0"),
    ({"SOUNDCHARTS_PG_PARTITIONING": "yearly"},
     "SOUNDCHARTS_PG_PARTITIONING must be one of off, monthly, got 'yearly'"),
])
def test_bad_values_give_one_line_errors(env, word):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert word in str(info.value) and "\n" not in str(info.value)


def test_the_http_cache_sits_beside_the_database_or_where_it_is_told(tmp_path):
    beside = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'db' / 'sc.db'}"})
    assert beside.cache_path == str(tmp_path / "db" / "http_cache")
    read_only = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///file:{tmp_path / 'sc.db'}?mode=ro&uri=true"})
    assert read_only.cache_path == str(tmp_path / "http_cache")
    told = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'sc.db'}",
                              "SOUNDCHARTS_CACHE_PATH": str(tmp_path / "cache" / "c")})
    assert told.cache_path == str(tmp_path / "cache" / "c")
    for url in ("postgresql://u:p@db/x", "sqlite://", "sqlite:///:memory:"):  # no file to sit beside
        elsewhere = Settings.from_env({"SOUNDCHARTS_DB_URL": url, "XDG_CACHE_HOME": str(tmp_path / "xdg")})
        assert elsewhere.cache_path == str(tmp_path / "xdg" / "soundcharts-workbench" / "http_cache")
    assert Settings.from_env({}).cache_path == str(PROJECT_ROOT / "data" / "http_cache")  # the default database's
    assert not Settings.from_env({"SOUNDCHARTS_DB_URL": "postgresql://db/x"}).cache_path.startswith(
        str(PROJECT_ROOT))


def test_a_client_from_settings_caches_beside_the_database(api_settings, tmp_path):
    from dataclasses import replace

    from soundcharts_lib.api.client import SoundchartsClient

    db = tmp_path / "elsewhere" / "sc.db"
    settings = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///{db}", "SOUNDCHARTS_CACHE_BACKEND": "sqlite"})
    settings = replace(api_settings, db_url=settings.db_url, cache_path=settings.cache_path, cache_backend="sqlite")
    with SoundchartsClient.from_settings(settings) as client:
        assert client.chart_platforms()
    assert (db.parent / "http_cache.sqlite").is_file()


def test_settings_print_url_passwords_masked():
    shown = repr(Settings.from_env({"SOUNDCHARTS_API_URL": "https://user:CANARY-api-pw@api.example",
                                    "SOUNDCHARTS_DB_URL": "postgresql://app:CANARY-db-pw@db/x"}))
    assert "CANARY" not in shown
    assert "api_url='https://user:***@api.example'" in shown and "db_url='postgresql://app:***@db/x'" in shown


def test_a_client_prints_its_url_password_masked():
    from soundcharts_lib.api.client import SoundchartsClient

    shown = repr(SoundchartsClient("https://user:CANARY-api-pw@api.example", "app", "key"))
    assert "CANARY" not in shown and "base_url='https://user:***@api.example'" in shown
