"""A page's independent reads run side by side on PostgreSQL, each on a connection of its own from the engine's pool:
the server works on one while Python turns another's rows into frames (the driver waits for the server with the GIL
released), so a page takes less than the sum of its reads.

On SQLite they run one after the other. The database works inside this process, and threads only make its work and
Python's take turns for the GIL: taking turns with reads side by side, paired at 10M entries, the year-long hit's
track page took 39.5 ms side by side and 26.4 one after the other, the artist page 36.9 and 24.2, the compare page
31.4 and 26.4 (on PostgreSQL at 62.9M entries side by side stays ahead: 35.2 and 36.2, 30.4 and 34.2, 36.3 and
39.7). An in-memory SQLite database (SQLAlchemy's ``SingletonThreadPool``, a database per thread) could not be read
from other threads at all."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine


def side_by_side(engine: Engine, **reads: Callable[[], Any]) -> dict[str, Any]:
    """Every read's result by name, on PostgreSQL each read (of ``engine``) on a thread of its own (threads of this
    call only: a read may run reads side by side too), on SQLite one after the other on this thread; the first read,
    in the order given, that raised raises here once all have finished."""
    if engine.dialect.name == "sqlite":
        outcomes = {name: _outcome(read) for name, read in reads.items()}
    else:
        with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="page-read") as pool:
            futures = {name: pool.submit(_outcome, read) for name, read in reads.items()}
            outcomes = {name: future.result() for name, future in futures.items()}
    failed = next((error for _, error in outcomes.values() if error is not None), None)
    if failed is not None:
        raise failed
    return {name: result for name, (result, _) in outcomes.items()}


def _outcome(read: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return read(), None
    except Exception as exc:  # noqa: BLE001 - raised again by side_by_side, after the other reads
        return None, exc
