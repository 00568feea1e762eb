"""Where the product's files are (``soundcharts_lib.home``): a checkout uses its own folders, an installed package
its bundled notebooks and a data folder outside site-packages (``tests/test_wheel.py`` installs a real wheel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundcharts_lib import home
from soundcharts_lib.config import Settings
from soundcharts_lib.logs import log_file

ROOT = Path(__file__).resolve().parent.parent


def test_a_checkout_uses_its_own_folders_whatever_soundcharts_home_says(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_HOME", str(tmp_path))
    monkeypatch.delenv("SOUNDCHARTS_LOG_FILE", raising=False)
    assert home.checkout() == ROOT
    assert home.data_dir() == ROOT / "data" and home.runs_dir() == ROOT / "runs"
    assert home.env_file() == ROOT / ".env"
    assert (home.dashboards_dir(), home.scheduled_dir(), home.notebooks_dir()) == (
        ROOT / "dashboards", ROOT / "scheduled", ROOT / "notebooks")
    assert (home.dashboards_dir() / "admin" / "charts.ipynb").is_file()
    settings = Settings.from_env({"SOUNDCHARTS_HOME": str(tmp_path)})
    assert settings.db_url == f"sqlite:///{ROOT / 'data' / 'soundcharts.db'}"
    assert settings.runs_dir == str(ROOT / "runs")
    assert log_file() == ROOT / "data" / "logs" / "soundcharts.log"


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The package as a wheel lays it out: ``site-packages/soundcharts_lib/`` with no checkout around it."""
    package = tmp_path / "site-packages" / "soundcharts_lib"
    package.mkdir(parents=True)
    monkeypatch.setattr(home, "PACKAGE", package)
    monkeypatch.setattr(home, "BUNDLED", package / "_bundled")
    monkeypatch.delenv("SOUNDCHARTS_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return package


def test_installed_the_data_folder_is_soundcharts_home_else_the_user_data_folder(installed, tmp_path, monkeypatch):
    assert home.checkout() is None
    assert home.data_dir() == tmp_path / "xdg" / "soundcharts-workbench"
    assert home.data_dir({"SOUNDCHARTS_HOME": str(tmp_path / "h")}) == tmp_path / "h"
    monkeypatch.setenv("SOUNDCHARTS_HOME", str(tmp_path / "h"))
    assert home.runs_dir() == tmp_path / "h" / "runs" and home.env_file() == tmp_path / "h" / ".env"
    settings = Settings.from_env({"SOUNDCHARTS_HOME": str(tmp_path / "given")})
    assert settings.db_url == f"sqlite:///{tmp_path / 'given' / 'soundcharts.db'}"
    assert settings.runs_dir == str(tmp_path / "given" / "runs")
    assert settings.cache_path == str(tmp_path / "given" / "http_cache")


def test_installed_the_notebook_folders_are_the_bundled_ones(installed):
    assert home.dashboards_dir() == installed / "_bundled" / "dashboards"
    assert home.scheduled_dir() == installed / "_bundled" / "scheduled"
    assert home.notebooks_dir() == installed / "_bundled" / "notebooks"
