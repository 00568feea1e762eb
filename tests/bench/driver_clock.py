"""The time a page spends in the database driver: its statements executed and their rows fetched, measured around
the driver's own cursor calls (sqlite3 / psycopg), so a bench can print it beside the page's wall time.

    clock = DriverClock.attach(engine)  # before the engine's first connection
    clock.reset(); page(engine); clock.ms

What the driver does is counted whoever calls it (SQLAlchemy's results, ``.cursor.fetchall()`` on the driver's
tuples); the rest of a page's wall time is Python: building statements, rows into frames, assembling the page.
A page whose reads run side by side (``warehouse.side_by_side``) adds up the driver time of each: it may pass the
page's wall time.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

TIMED = ("execute", "executemany", "fetchone", "fetchmany", "fetchall")


class DriverClock:
    """Seconds spent in the driver's cursor calls since the last :meth:`reset`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.lock = threading.Lock()  # reads side by side add their time from several threads

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    def reset(self) -> None:
        self.seconds = 0.0

    @classmethod
    def attach(cls, engine: Engine) -> DriverClock:
        """A clock counting ``engine``'s connections made from now on (their cursors are timed subclasses of the
        driver's: sqlite3's connection ``factory``, psycopg's ``cursor_factory``)."""
        clock = cls()
        if engine.dialect.name == "sqlite":
            timed_cursor = _timed(sqlite3.Cursor, clock)

            class Connection(sqlite3.Connection):
                def cursor(self, factory=timed_cursor):
                    return super().cursor(factory)

            argument, value = "factory", Connection
        elif engine.dialect.driver == "psycopg":
            argument, value = "cursor_factory", _timed(psycopg.Cursor, clock)
        else:
            raise ValueError(f"no driver clock for {engine.dialect.name}+{engine.dialect.driver}")

        @event.listens_for(engine, "do_connect")
        def _timed_cursors(dialect, record, cargs, cparams):
            cparams[argument] = value

        return clock


def _timed(base: type, clock: DriverClock) -> type:
    """A subclass of the cursor class ``base`` adding the time of each call of :data:`TIMED` and of each row
    iterated to ``clock``."""

    def wrap(name):
        call = getattr(base, name)

        def timed(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return call(self, *args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                with clock.lock:
                    clock.seconds += spent
        return timed

    methods = {name: wrap(name) for name in TIMED}
    if base is sqlite3.Cursor:
        methods["__next__"] = wrap("__next__")
    else:  # psycopg's cursor iterates in Python: time each row it yields
        def rows(self):
            it = base.__iter__(self)
            while True:
                t0 = time.perf_counter()
                try:
                    row = next(it)
                except StopIteration:
                    return
                finally:
                    spent = time.perf_counter() - t0
                    with clock.lock:
                        clock.seconds += spent
                yield row
        methods["__iter__"] = rows
    return type(f"Timed{base.__name__}", (base,), methods)
