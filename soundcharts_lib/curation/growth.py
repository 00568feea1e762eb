"""Growth over a number of days, for the growth alert rules (:mod:`soundcharts_lib.curation.alerts`): which series grew
more than a percentage, and the day each subject last fired for."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from soundcharts_lib.db.tables import ALERT


def grown(points: pd.DataFrame, keys: list[str], days: int, pct: float) -> pd.DataFrame:
    """Per ``keys`` group of ``points`` (keys, ident, date, value): its last day against the latest day at least
    ``days`` earlier, the identifiers present on both summed; the groups that grew more than ``pct`` %, with
    from_date, to_date, from_value, to_value and pct."""
    rows = []
    for group, series in points.groupby(keys, sort=True):
        last = series["date"].max()
        earlier = series[series["date"] <= last - timedelta(days=days)]
        if earlier.empty:
            continue
        base_day = earlier["date"].max()
        ends = series[series["date"].isin([base_day, last])].pivot(index="ident", columns="date", values="value")
        ends = ends.dropna()
        base, latest = int(ends[base_day].sum()), int(ends[last].sum())
        if base <= 0 or (latest - base) / base * 100 <= pct:
            continue
        rows.append({**dict(zip(keys, group, strict=True)), "from_date": base_day, "to_date": last,
                     "from_value": base, "to_value": latest, "pct": round((latest - base) / base * 100, 2)})
    return pd.DataFrame(rows)


def fired(conn: Connection, rule_id: int) -> dict[tuple[str, str], date]:
    """The latest data day each (subject, platform) already fired for, from the rule's dedupe keys
    ``subject:platform:day`` (a track's subject is its UUID, an artist's ``uuid:series``)."""
    out: dict[tuple[str, str], date] = {}
    for key in conn.execute(select(ALERT.c.dedupe_key).where(ALERT.c.rule_id == rule_id)).scalars():
        uuid, platform, day = key.rsplit(":", 2)
        out[(uuid, platform)] = max(out.get((uuid, platform), date.min), date.fromisoformat(day))
    return out
