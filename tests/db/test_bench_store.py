"""The storage benchmark keeps working (quick mode); its figures are read from its output, not asserted."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

import bench_store  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark


@pytest.mark.postgres
def test_quick_store_benchmark_on_sqlite_and_postgres(pg_url):
    result = bench_store.run(10_000, pg_url)
    assert result["entries"] == 10_000
    for key in ("sqlite_store", "sqlite_raw", "pg_store", "pg_copy"):
        assert result[key] > 0
    print(f"quick store bench: SQLite ratio {result['sqlite_ratio']:.2f}, PostgreSQL ratio {result['pg_ratio']:.2f}")
