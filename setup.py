"""Packaging: ``pyproject.toml`` declares the project; this adds its notebook folders to the wheel.

``dashboards/``, ``scheduled/`` and ``notebooks/`` stay at the top of the checkout, which uses them in place (an
editable install too). A wheel carries a copy of each in ``soundcharts_lib/_bundled/``, where
``soundcharts_lib.home`` finds them when the package does not run from a checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("dashboards", "scheduled", "notebooks")  # soundcharts_lib.home.FOLDERS
LEFT_OUT = shutil.ignore_patterns(".*", "__pycache__", "*.pyc")  # checkpoints, caches, editor files


class BuildWithNotebooks(build_py):
    """``build_py`` plus the notebook folders, copied whole into the built package (never in editable mode)."""

    def run(self):
        if not self.editable_mode:  # nothing of an earlier build (a module since removed) reaches the wheel
            shutil.rmtree(Path(self.build_lib, "soundcharts_lib"), ignore_errors=True)
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, "soundcharts_lib", "_bundled")
        for name in BUNDLED:
            shutil.copytree(name, target / name, ignore=LEFT_OUT)


setup(cmdclass={"build_py": BuildWithNotebooks})
