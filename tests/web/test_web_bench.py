"""The endpoint latency bench in its quick mode: it builds its data, serves it and stays fast."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a benchmark


def _bench_module():
    path = Path(__file__).parent.parent / "bench" / "bench_endpoint.py"
    spec = importlib.util.spec_from_file_location("bench_endpoint", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_bench_answers_every_request_well_under_a_second():
    timings = _bench_module().quick()
    assert [t.name for t in timings] == ["one platform, last 90 days", "one platform, 3 years",
                                         "5 platforms, 3 years"]
    for t in timings:
        assert len(t.ms) == 20 and t.p50 <= t.p95, t.report()
        assert t.p95 < 1000, t.report()   # measured here: p95 20-50 ms; the bound only catches regressions
