"""The load bench in its quick mode: visitors of the overview's snapshot each get its figure, and the server runs no
process more for three visitors than for one."""

from __future__ import annotations

import pytest
from conftest import copy_db

from web.test_snapshots import bench

pytestmark = pytest.mark.slow  # a benchmark


def test_quick_load_bench_gives_every_visitor_the_figure_and_no_kernel_of_its_own(synced_sqlite_url, tmp_path):
    url = copy_db(synced_sqlite_url, tmp_path / "load.db")
    one, three = bench.quick(url, visitors=3)
    assert (one.visitors, three.visitors) == (1, 3) and one.client == three.client == "light"
    for found in (one, three):
        assert found.failures == 0 and len(found.times) == found.visitors, [v.error for v in found.visits]
        assert found.stat("max") < 30  # measured here: 0.03-0.2 s; the bound only catches a visit that waited
    assert three.peak_processes == one.peak_processes  # the server and its preheated kernels, nothing per visit
    assert 0 < three.peak_mb < 2048
