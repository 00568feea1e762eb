"""A page's independent reads run side by side, each on a connection of its own from the engine's pool: the
database works on one while Python turns another's rows into frames (the driver waits for the database with the GIL
released), so a page takes about as long as its longest read, not their sum.

An engine whose pool gives each thread a database of its own (an in-memory SQLite database: SQLAlchemy's
``SingletonThreadPool``) or one shared connection (``StaticPool``) reads one after the other instead."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool


def side_by_side(engine: Engine, **reads: Callable[[], Any]) -> dict[str, Any]:
    """Every read's result by name, each read (of ``engine``) on a thread of its own (threads of this call only: a
    read may run reads side by side too); the first read, in the order given, that raised raises here once all have
    finished."""
    if isinstance(engine.pool, SingletonThreadPool | StaticPool):
        return {name: read() for name, read in reads.items()}
    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="page-read") as pool:
        futures = {name: pool.submit(read) for name, read in reads.items()}
        return {name: future.result() for name, future in futures.items()}
