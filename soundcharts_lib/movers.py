"""Chart movers across many charts at once: each chart's ranking against its previous stored ranking.

A track not in the previous ranking is RE-ENTRY when it was on that chart in an earlier stored ranking or the API
marks it ``re-entry``, else NEW; the others are UP, DOWN or SAME. "Previous" is the previous *stored* ranking (see
:mod:`soundcharts_lib.trends`, which does the same for one chart with its whole history).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from .db.frames import query_frame
from .db.tables import C, E, P, R, T

MOVE_COLUMNS = ["chart", "chart_name", "platform", "country_code", "date", "position", "previous_position",
                "movement", "status", "uuid", "name", "artist", "track_id", "chart_id"]
DROPOUT_COLUMNS = ["chart", "chart_name", "platform", "country_code", "date", "previous_position", "uuid", "name",
                   "artist"]


def ranking_pairs(conn: Connection, *, on: date | None = None, chart: str | None = None) -> pd.DataFrame:
    """Per chart, its latest stored ranking up to ``on`` (default: its latest) and the one before: chart_id,
    chart, chart_name, platform, country_code, current (ranking id), date, previous (ranking id or NA)."""
    rn = func.row_number().over(partition_by=R.c.chart_id, order_by=R.c.ranking_date.desc()).label("rn")
    ranked = select(R.c.id, R.c.chart_id, R.c.ranking_date, rn).where(R.c.status == "success")
    if on is not None:
        ranked = ranked.where(R.c.ranking_date <= on)
    if chart:
        ranked = ranked.where(R.c.chart_id.in_(select(C.c.id).where(C.c.slug == chart)))
    ranked = ranked.subquery()
    q = (select(ranked.c.id, ranked.c.chart_id, ranked.c.ranking_date.label("date"), ranked.c.rn,
                C.c.slug.label("chart"), C.c.name.label("chart_name"), P.c.slug.label("platform"), C.c.country_code)
         .join(C, C.c.id == ranked.c.chart_id).join(P, P.c.id == C.c.platform_id).where(ranked.c.rn <= 2))
    rows = query_frame(conn, q)
    previous = rows[rows["rn"] == 2][["chart_id", "id"]].rename(columns={"id": "previous"})
    current = rows[rows["rn"] == 1].drop(columns="rn").rename(columns={"id": "current"})
    out = current.merge(previous, on="chart_id", how="left").astype({"previous": "Int64"})
    return out.sort_values("chart").reset_index(drop=True)


def _entries(conn: Connection, ranking_ids: list[int], tracks: Select | None) -> pd.DataFrame:
    q = (select(E.c.ranking_id, E.c.track_id, E.c.position, E.c.entry_state, T.c.uuid, T.c.name,
                func.coalesce(T.c.credit_name, "").label("artist"))
         .join(T, T.c.id == E.c.track_id).where(E.c.ranking_id.in_(ranking_ids)))
    if tracks is not None:
        q = q.where(E.c.track_id.in_(tracks))
    return query_frame(conn, q)


def moves(conn: Connection, pairs: pd.DataFrame, tracks: Select | None = None) -> pd.DataFrame:
    """Every entry of the ``current`` rankings of :func:`ranking_pairs` that have a previous one, with
    previous_position, movement (previous - current: positive climbed) and status; ``tracks``: a query of track
    ids to keep (e.g. :func:`soundcharts_lib.roster.track_ids_query`)."""
    pairs = pairs.dropna(subset=["previous"]).astype({"previous": int})
    if pairs.empty:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    entries = _entries(conn, [*pairs["current"].tolist(), *pairs["previous"].tolist()], tracks)
    now = entries.merge(pairs, left_on="ranking_id", right_on="current")
    before = entries.merge(pairs[["previous"]], left_on="ranking_id", right_on="previous")[
        ["previous", "track_id", "position"]].rename(columns={"position": "previous_position"})
    out = now.merge(before, on=["previous", "track_id"], how="left")
    out["previous_position"] = out["previous_position"].astype("Int64")
    out["movement"] = (out["previous_position"] - out["position"]).astype("Int64")
    out["status"] = _status(conn, out)
    return out[MOVE_COLUMNS].sort_values(["chart", "position"]).reset_index(drop=True)


def _status(conn: Connection, moved: pd.DataFrame) -> list[str]:
    back = moved[moved["previous_position"].isna()]
    seen: set[tuple[int, int]] = set()
    if len(back):
        q = (select(R.c.chart_id, E.c.track_id, func.min(R.c.ranking_date).label("first_date"))
             .join(R, R.c.id == E.c.ranking_id)
             .where(E.c.track_id.in_(back["track_id"].unique().tolist()),
                    R.c.chart_id.in_(back["chart_id"].unique().tolist()), R.c.status == "success")
             .group_by(R.c.chart_id, E.c.track_id))
        first = query_frame(conn, q).merge(back[["chart_id", "track_id", "date"]], on=["chart_id", "track_id"])
        seen = set(zip(first.loc[first["first_date"] < first["date"], "chart_id"],
                       first.loc[first["first_date"] < first["date"], "track_id"], strict=True))
    out = []
    for row in moved[["chart_id", "track_id", "entry_state", "previous_position", "movement"]].itertuples():
        if pd.isna(row.previous_position):
            again = (row.chart_id, row.track_id) in seen or row.entry_state == "re-entry"
            out.append("RE-ENTRY" if again else "NEW")
        else:
            out.append("UP" if row.movement > 0 else "DOWN" if row.movement < 0 else "SAME")
    return out


def dropouts(conn: Connection, pairs: pd.DataFrame, tracks: Select | None = None) -> pd.DataFrame:
    """Tracks of each previous ranking missing from the current one: chart, chart_name, platform, country_code,
    date (of the current ranking), previous_position, uuid, name, artist."""
    pairs = pairs.dropna(subset=["previous"]).astype({"previous": int})
    if pairs.empty:
        return pd.DataFrame(columns=DROPOUT_COLUMNS)
    entries = _entries(conn, [*pairs["current"].tolist(), *pairs["previous"].tolist()], tracks)
    stayed = entries.merge(pairs[["current", "previous"]], left_on="ranking_id", right_on="current")[
        ["previous", "track_id"]].assign(stayed=True)
    before = entries.merge(pairs, left_on="ranking_id", right_on="previous")
    gone = before.merge(stayed, on=["previous", "track_id"], how="left")
    gone = gone[gone["stayed"].isna()]
    gone = gone.rename(columns={"position": "previous_position"})
    return gone[DROPOUT_COLUMNS].sort_values(["chart", "previous_position"]).reset_index(drop=True)


def latest_date(engine: Engine) -> date | None:
    """The latest ranking date stored."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(R.c.ranking_date)).where(R.c.status == "success")).scalar()


def day_movers(engine: Engine, on: date | None = None, *, limit: int = 20, tracks: Select | None = None) -> dict:
    """Movers of one day (default: the latest stored) across every chart with a ranking that day: ``date``,
    ``charts`` (how many were compared), ``climbers`` and ``fallers`` (the ``limit`` biggest moves), ``new_entries``
    (NEW and RE-ENTRY, best positions first), ``dropouts`` (best previous positions first), ``moves`` (all)."""
    on = on or latest_date(engine)
    with engine.connect() as conn:
        pairs = ranking_pairs(conn, on=on) if on else pd.DataFrame(columns=["date", "previous"])
        pairs = pairs[pairs["date"] == on]
        moved = moves(conn, pairs, tracks)
        gone = dropouts(conn, pairs, tracks)
    ranked = moved.dropna(subset=["movement"])
    return {
        "date": on, "charts": int(pairs["previous"].notna().sum()),
        "climbers": ranked[ranked["movement"] > 0].sort_values(["movement", "position"], ascending=[False, True])
        .head(limit).reset_index(drop=True),
        "fallers": ranked[ranked["movement"] < 0].sort_values(["movement", "position"]).head(limit)
        .reset_index(drop=True),
        "new_entries": moved[moved["status"].isin(["NEW", "RE-ENTRY"])].sort_values(["position", "chart"])
        .reset_index(drop=True),
        "dropouts": gone.sort_values(["previous_position", "chart"]).reset_index(drop=True),
        "moves": moved,
    }
