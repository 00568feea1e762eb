"""Analyst and dashboard notebooks run top to bottom (nbval, lax: widget ids vary) on a synced database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # papermill and nbval kernels

ROOT = Path(__file__).resolve().parents[2]


def test_notebooks_and_dashboards_run_under_nbval(synced_sqlite_url):
    targets = sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob("notebooks/*.ipynb"),
                                                          *ROOT.glob("dashboards/*.ipynb")])
    assert "notebooks/01_getting_started.ipynb" in targets and "dashboards/overview.ipynb" in targets
    env = dict(os.environ, SOUNDCHARTS_DB_URL=synced_sqlite_url)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                          "-p", "no:playwright", *targets], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-4000:]
    assert " passed" in res.stdout
