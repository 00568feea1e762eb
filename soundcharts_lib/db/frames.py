"""Query results as DataFrames, for the read side's large results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy.engine import Connection


def query_frame(conn: Connection, query) -> pd.DataFrame:
    """The rows of ``query`` as a DataFrame, columns named as selected."""
    result = conn.execute(query)
    # plain tuples: pandas probes each Row's attributes, which costs more than the query on large results
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def raw_frame(conn: Connection, query, columns: Sequence[str], dates: Sequence[str] = ()) -> pd.DataFrame:
    """``query``'s rows from the driver's own tuples (no Row objects, no per-value processing: on tens of
    thousands of rows those cost more than the query), the ``dates`` columns parsed once per distinct value
    (SQLite returns dates as text)."""
    frame = pd.DataFrame(conn.execute(query).cursor.fetchall(), columns=list(columns))
    for column in dates:
        frame[column] = frame[column].map({d: as_date(d) for d in frame[column].unique()})
    return frame


def as_date(value: date | str) -> date:
    """A date column's value as the driver gives it (SQLite: ISO text) as a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)
