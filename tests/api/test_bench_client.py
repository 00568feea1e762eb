"""The client throughput bench in its quick mode: close to the limit, never over it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a benchmark


def _bench_module():
    path = Path(__file__).parent.parent / "bench" / "bench_client.py"
    spec = importlib.util.spec_from_file_location("bench_client", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_bench_stays_just_under_the_limit():
    result = _bench_module().quick()
    assert result.rate_limited == 0 and result.server_rate_limited == 0, result.report()
    assert result.ratio > 0.9, result.report()
    assert result.ratio <= 1.02, result.report()
