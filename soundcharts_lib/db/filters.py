"""Filters that mean the same on both databases, sent the way each takes them best."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ARRAY, any_, bindparam
from sqlalchemy.engine import Connection


def among(conn: Connection, column, values: Iterable):
    """``column`` is one of ``values`` (e.g. the hundreds of tracks of a ranking): one array parameter on
    PostgreSQL, where an IN list of hundreds of parameters costs more to parse and plan than the lookups themselves;
    an IN list on SQLite."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)
