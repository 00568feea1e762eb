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
        days = {d: d if isinstance(d, date) else date.fromisoformat(d) for d in frame[column].unique()}
        frame[column] = frame[column].map(days)
    return frame
