"""Dialect-aware bulk writes: upserts that touch only changed rows, UUID -> id maps, COPY on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache

from sqlalchemy import JSON, BigInteger, Integer, String, Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

BATCH = 500


def misfit(table: Table, row: dict) -> str | None:
    """Why ``row`` cannot go into ``table`` as it is (naming the column), or None.

    A text longer than its column, a text (or a text inside a JSON value) holding a NUL character or a lone
    surrogate (JSON's ``"\\ud800"``: no UTF-8 for it), a whole number beyond its column's range: PostgreSQL refuses
    them (aborting the whole transaction) and SQLite would store them as they are.
    """
    limits = _limits(table)
    for name, value in row.items():
        if value is None or name not in limits:
            continue
        kind, limit = limits[name]
        if kind in ("text", "json"):
            problem = next(filter(None, map(_unstorable, _texts(value))), None)
            if problem:
                return f"{name} holds {problem}"
        if kind == "text" and isinstance(value, str) and limit and len(value) > limit:
            return f"{name} is longer than {limit} characters"
        elif kind == "int" and isinstance(value, int) and not -(2 ** (limit - 1)) <= value < 2 ** (limit - 1):
            return f"{name} {value} does not fit in {limit} bits"
    return None


def _texts(value) -> Iterator[str]:
    """The texts of a value: itself, or those inside a JSON value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (no UTF-8 for it)"
    return None


@cache
def _limits(table: Table) -> dict[str, tuple[str, int]]:
    """``{column: ("text", length or 0) | ("int", bits)}``."""
    out = {}
    for column in table.c:
        if isinstance(column.type, String):
            out[column.name] = ("text", column.type.length or 0)
        elif isinstance(column.type, Integer):
            out[column.name] = ("int", 64 if isinstance(column.type, BigInteger) else 32)
        elif isinstance(column.type, JSON):
            out[column.name] = ("json", 0)
    return out


def dialect_insert(conn: Connection, table: Table):
    """``INSERT`` of the connection's dialect, with ``on_conflict_do_update`` / ``_nothing``."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table: Table, rows: Sequence[dict], keys: Sequence[str],
           update: Sequence[str] | None = None) -> None:
    """Insert ``rows``; on a conflict on ``keys`` update ``update`` columns, only where a value differs.

    ``update=()`` means insert-or-ignore. A second identical call changes no row.
    """
    if not rows:
        return
    stmt = dialect_insert(conn, table)
    cols = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if cols:
        changed = or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in cols])
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in cols}, where=changed)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    multi_row = conn.dialect.name == "postgresql"  # one statement per batch: one round trip, not one per row
    for i in range(0, len(rows), BATCH):
        if multi_row:
            conn.execute(stmt.values(list(rows[i:i + BATCH])))
        else:
            conn.execute(stmt, list(rows[i:i + BATCH]))


def id_map(conn: Connection, table: Table, key: str, values: Iterable[str]) -> dict[str, int]:
    """``{key value: id}`` for ``values``, one query per batch of 500."""
    values = list(dict.fromkeys(values))
    out: dict[str, int] = {}
    col = table.c[key]
    for i in range(0, len(values), BATCH):
        chunk = values[i:i + BATCH]
        out.update(dict(conn.execute(select(col, table.c.id).where(col.in_(chunk))).all()))
    return out


class DriverDates(dict):
    """``dates[d]``: date ``d`` (or None) as :func:`bulk_insert` passes it fastest on the connection: ISO text on
    SQLite, what SQLAlchemy's ``Date`` stores there (the ``sqlite3`` adapter costs about a microsecond a value, a
    fifth of inserting an entry), the date itself on PostgreSQL (binary COPY). Each distinct date is converted once.
    """

    def __init__(self, conn: Connection):
        super().__init__()
        self._text = conn.dialect.name == "sqlite"

    def __missing__(self, day):
        value = self[day] = day.isoformat() if self._text and day is not None else day
        return value


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Plain insert of tuples (in ``columns`` order) that cannot conflict: COPY on PostgreSQL, the driver's
    executemany on SQLite.

    Both skip SQLAlchemy's per-row parameter processing (the bulk of the cost, see ``tests/bench``), so values
    must already be plain: ints, strings, dates (adapters registered in ``engine.py``), None.
    """
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    else:
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(sql) as copy:
                copy.set_types([_pg_type(table, c) for c in columns])
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)
    except Exception as exc:  # report driver errors as SQLAlchemy errors, as every other write does
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance(sql, None, exc, type(exc)) from None


def _pg_type(table: Table, column: str) -> str:
    """The PostgreSQL type name of a column, for binary COPY (``VARCHAR(32)`` -> ``varchar``)."""
    return table.c[column].type.compile(dialect=postgresql.dialect()).split("(")[0].lower()
