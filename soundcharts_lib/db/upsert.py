"""Dialect-aware bulk writes: upserts that touch only changed rows, UUID -> id maps, COPY on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

BATCH = 500


def _insert(conn: Connection, table: Table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table: Table, rows: Sequence[dict], keys: Sequence[str],
           update: Sequence[str] | None = None) -> None:
    """Insert ``rows``; on a conflict on ``keys`` update ``update`` columns, only where a value differs.

    ``update=()`` means insert-or-ignore. A second identical call changes no row.
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    cols = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if cols:
        changed = or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in cols])
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in cols}, where=changed)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    for i in range(0, len(rows), BATCH):
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


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Plain insert of rows that cannot conflict: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = conn.connection.driver_connection.cursor()
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        except Exception as exc:  # report COPY failures as SQLAlchemy errors, like the other dialects
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError.instance(sql, None, exc, type(exc)) from None
        return
    conn.execute(table.insert(), list(rows))
