import pytest

from soundcharts_lib.config import PROJECT_ROOT, Secret, Settings, default_db_url
from soundcharts_lib.errors import ConfigError


def test_defaults_point_at_production_and_the_project_sqlite_file():
    s = Settings.from_env({})
    assert s.api_url == "https://customer.api.soundcharts.com"
    assert s.db_url == default_db_url() == f"sqlite:///{PROJECT_ROOT / 'data' / 'soundcharts.db'}"
    assert not s.has_credentials


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
])
def test_bad_values_give_one_line_errors(env, word):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert word in str(info.value) and "\n" not in str(info.value)
