"""Where the product's files live: its data folder, and the notebook folders it ships.

Run from a checkout (the package beside the checkout's ``pyproject.toml`` and ``scheduled/``: a clone, ``make
install``'s editable install), everything is the checkout's own: ``data/`` (the default database, its HTTP cache,
the log), ``runs/`` (archived job notebooks, job locks), ``.env``, and ``dashboards/``, ``scheduled/`` and
``notebooks/`` as they are, so an edited dashboard is served at once.

Installed from a wheel (``pip install .``), the notebook folders are the copies the wheel carries in
``soundcharts_lib/_bundled/`` (``setup.py`` puts them there; they are only read), and what the product writes goes to
the data folder: ``SOUNDCHARTS_HOME`` when set, else the platform's user data folder (``platformdirs``:
``~/.local/share/soundcharts-workbench`` on Linux), with ``runs/`` and ``.env`` in it. Nothing is written into
site-packages.

This module imports nothing of the package: every other room may ask it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "soundcharts-workbench"
HOME_ENV = "SOUNDCHARTS_HOME"
PACKAGE = Path(__file__).resolve().parent
BUNDLED = PACKAGE / "_bundled"  # a wheel's copies of the folders below (setup.py's BUNDLED)
FOLDERS = ("dashboards", "scheduled", "notebooks")


def checkout() -> Path | None:
    """The checkout the package runs from, or None when it runs from an installed wheel."""
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "scheduled").is_dir() else None


def data_dir(env: dict | None = None) -> Path:
    """Where the default database, its HTTP cache and the log live: ``<checkout>/data`` in a checkout, else
    ``SOUNDCHARTS_HOME`` (from ``env``, default the process environment), else the user data folder."""
    root = checkout()
    if root is not None:
        return root / "data"
    home = (os.environ if env is None else env).get(HOME_ENV)
    if home:
        return Path(home).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def runs_dir(env: dict | None = None) -> Path:
    """Where job runs are archived (and their locks kept) by default: ``<checkout>/runs``, else ``runs/`` in the
    data folder."""
    root = checkout()
    return root / "runs" if root is not None else data_dir(env) / "runs"


def env_file(env: dict | None = None) -> Path:
    """The optional ``.env`` read at start: the checkout's, else the one in the data folder."""
    root = checkout()
    return root / ".env" if root is not None else data_dir(env) / ".env"


def _folder(name: str) -> Path:
    return (checkout() or BUNDLED) / name


def dashboards_dir() -> Path:
    """The Voila pages (``admin/`` inside): the checkout's ``dashboards/``, else the wheel's copy."""
    return _folder("dashboards")


def scheduled_dir() -> Path:
    """The job notebooks ``run-job`` runs: the checkout's ``scheduled/``, else the wheel's copy."""
    return _folder("scheduled")


def notebooks_dir() -> Path:
    """The analyst notebooks: the checkout's ``notebooks/``, else the wheel's copy."""
    return _folder("notebooks")
