"""The modules that moved into rooms stay importable under their old names for one release: the same module object,
a DeprecationWarning naming the new place, and the module keeps its own identity."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import soundcharts_lib
from soundcharts_lib import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_name_is_the_moved_module(old):
    new = importlib.import_module(f"soundcharts_lib.{MOVED[old]}")
    sys.modules.pop(f"soundcharts_lib.{old}", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aliased = importlib.import_module(f"soundcharts_lib.{old}")
    assert aliased is new
    assert new.__spec__.name == new.__name__ == f"soundcharts_lib.{MOVED[old]}"
    said = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any(f"soundcharts_lib.{MOVED[old]}" in text for text in said), said


def test_every_old_target_exists_and_no_old_name_is_a_module_file():
    root = Path(soundcharts_lib.__path__[0])
    for old, new in MOVED.items():
        assert root.joinpath(*new.split(".")).with_suffix(".py").is_file(), new
        assert not root.joinpath(*old.split(".")).with_suffix(".py").exists(), old  # an alias, not a leftover file


def test_a_page_written_against_the_old_layout_still_runs():
    code = ("import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            "try:\n    from soundcharts_lib import analytics\nexcept DeprecationWarning as w:\n    print('warned', w)\n"
            "warnings.simplefilter('ignore')\n"
            "from soundcharts_lib import analytics, roster, movers, lift, quality, pages\n"
            "from soundcharts_lib.ui import admin_common\n"
            "import soundcharts_lib.warehouse.analytics as a, soundcharts_lib.curation.roster as r\n"
            "print(analytics is a, roster is r, callable(pages.custom_pages), admin_common.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "warned soundcharts_lib.analytics has moved to soundcharts_lib.warehouse.analytics" in out
    assert out.strip().endswith("True True True soundcharts_lib.ui.admin.common")
