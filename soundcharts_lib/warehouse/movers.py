"""Chart movers across many charts at once: each chart's ranking of a day, as :mod:`warehouse.trends` reads
one (the API's previous position and state where it sent them, stored history where it did not; drop-outs from
the API's position-0 items, else from the previous stored ranking)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from soundcharts_lib.db.tables import R
from soundcharts_lib.warehouse.trends import ranking_entries, ranking_pairs

MOVE_COLUMNS = ["chart", "chart_name", "platform", "country_code", "date", "position", "previous_position",
                "movement", "status", "status_from", "uuid", "name", "artist", "track_id", "chart_id"]
DROPOUT_COLUMNS = ["chart", "chart_name", "platform", "country_code", "date", "previous_position", "uuid", "name",
                   "artist", "source"]


def latest_date(engine: Engine) -> date | None:
    """The latest ranking date stored."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(R.c.ranking_date)).where(R.c.status == "success")).scalar()


def day_movers(engine: Engine, on: date | None = None, *, limit: int = 20, tracks: Select | None = None) -> dict:
    """Movers of one day (default: the latest stored) across every chart with a ranking that day: ``date``,
    ``charts`` (how many have one), ``climbers`` and ``fallers`` (the ``limit`` biggest moves), ``new_entries``
    (NEW and RE-ENTRY, best positions first), ``dropouts`` (best previous positions first), ``moves`` (all)."""
    on = on or latest_date(engine)
    with engine.connect() as conn:
        pairs = ranking_pairs(conn, on=on) if on else pd.DataFrame(columns=["date"])
        pairs = pairs[pairs["date"] == on]
        read = ranking_entries(conn, pairs, tracks)
    moved = read.entries[MOVE_COLUMNS]
    ranked = moved.dropna(subset=["movement"])
    return {
        "date": on, "charts": len(pairs),
        "climbers": ranked[ranked["movement"] > 0].sort_values(["movement", "position"], ascending=[False, True])
        .head(limit).reset_index(drop=True),
        "fallers": ranked[ranked["movement"] < 0].sort_values(["movement", "position"]).head(limit)
        .reset_index(drop=True),
        "new_entries": moved[moved["status"].isin(["NEW", "RE-ENTRY"])].sort_values(["position", "chart"])
        .reset_index(drop=True),
        "dropouts": read.dropouts[DROPOUT_COLUMNS].sort_values(["previous_position", "chart"], na_position="last")
        .reset_index(drop=True),
        "moves": moved,
    }
