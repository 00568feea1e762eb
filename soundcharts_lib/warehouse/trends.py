"""A stored ranking's entries as the API describes them, plus what only stored history adds.

The API's own fields are the truth where it sends them (contract, section 3.2):

- previous position: ``oldPosition`` (0 and null both mean none);
- state (NEW / RE-ENTRY / UP / DOWN / SAME): ``entryState`` in any spelling (:func:`api_state`); when it is ""
  or null, derived from the API's other fields: ``oldPosition`` set gives UP / DOWN / SAME by comparing, else
  ``entryDate`` on this ranking's date gives NEW and an earlier one RE-ENTRY;
- time on chart: ``timeOnChart`` in its unit (:func:`api_unit`); entry date: ``entryDate``;
- drop-outs: the ranking's position-0 items (``oldPosition``: the last position).

``status_from`` says where each state comes from: ``api`` (``entryState``), ``api-derived`` (``oldPosition`` /
``entryDate``) or ``stored`` (the API sent none of them: the chart's stored rankings decide, and on a chart's first
stored ranking the state is then unknown, NA); ``on_chart_from`` says the same of the time on chart.

Stored history adds what the API does not give, in the ``stored_*`` columns: the peak position and its date within
the stored rankings, the streak (consecutive stored rankings ending with this one), and ``history_start``, the
chart's first stored ranking, the date those figures count from. Drop-outs come from stored history (the previous
stored ranking minus this one) only when the API sent no position-0 item for the ranking (``source`` says which).

The chart page, the admin ranking page, ``soundcharts export``, the movers of a day and the alerts all read
:func:`ranking_entries`, so they agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from soundcharts_lib.db.filters import among
from soundcharts_lib.db.tables import DROP, SUCCESS, C, E, P, R, T
from soundcharts_lib.warehouse import stored_history
from soundcharts_lib.warehouse.stored_history import HISTORY_COLUMNS

FROM_API, DERIVED, STORED = "api", "api-derived", "stored"
STORED_HISTORY = "stored history"  # a drop-out's source when the API sent no position-0 item
_STATE_KEYS = {"new": "NEW", "reentry": "RE-ENTRY", "up": "UP", "down": "DOWN", "same": "SAME"}
_UNIT_KEYS = {"day": "day", "days": "day", "doc": "day", "week": "week", "weeks": "week", "woc": "week"}

PAIR_COLUMNS = ["chart_id", "chart", "chart_name", "platform", "country_code", "unit", "current", "date", "previous",
                "previous_date", "history_start"]
ENTRY_COLUMNS = ["chart_id", "chart", "chart_name", "platform", "country_code", "date", "position", "track_id",
                 "uuid", "name", "artist", "metric", "previous_position", "movement", "status", "status_from",
                 "on_chart", "on_chart_unit", "on_chart_from", "entry_date", "history_start"]
TREND_COLUMNS = ["position", "uuid", "name", "artist", "metric", "previous_position", "movement", "status",
                 "status_from", "on_chart", "on_chart_unit", "on_chart_from", "entry_date", *HISTORY_COLUMNS,
                 "history_start"]
DROPOUT_COLUMNS = ["uuid", "name", "artist", "previous_position", "source"]
RANKING_DROPOUT_COLUMNS = ["chart_id", "chart", "chart_name", "platform", "country_code", "date", "track_id",
                           *DROPOUT_COLUMNS]


# -- the API's spellings ----------------------------------------------------------------------------------------

def api_state(value) -> str | None:
    """``entryState`` as NEW / RE-ENTRY / UP / DOWN / SAME, in any case ("re-entry", "reentry", "re_entry" ...);
    None for "", null or a word it does not know (the state is then derived, see :func:`resolve`)."""
    return _state_key(value) if isinstance(value, str) else None


@lru_cache(maxsize=256)
def _state_key(value: str) -> str | None:
    return _STATE_KEYS.get(re.sub(r"[\s_-]", "", value.lower()))


def api_unit(value) -> str | None:
    """``timeOnChartUnit`` as "day" ("day", "days", "DOC") or "week" ("week", "weeks", "WOC"); None otherwise."""
    return _UNIT_KEYS.get(value.strip().lower()) if isinstance(value, str) else None


def chart_unit(frequency) -> str:
    """What a chart's rankings are counted in: "week" for weekly charts, else "day"."""
    return "week" if str(frequency or "").lower().startswith("week") else "day"


# -- the rules ----------------------------------------------------------------------------------------------------

def _first_match(n: int, rules: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """Per row, the value of the first rule whose condition holds (None when none does)."""
    out = np.full(n, None, dtype=object)
    for condition, value in rules:
        out[pd.isna(out) & condition] = value
    return out


def _moves(previous: np.ndarray, has_previous: np.ndarray, position: np.ndarray) -> list[tuple[np.ndarray, str]]:
    return [(has_previous & (previous > position), "UP"), (has_previous & (previous < position), "DOWN"),
            (has_previous, "SAME")]


def _int_column(values) -> pd.arrays.IntegerArray:
    """``values`` (ints, None, NaN, NA) as a nullable integer array."""
    return pd.array(pd.to_numeric(pd.Series(values, dtype=object)), dtype="Int64")


def _days(values) -> np.ndarray:
    """Dates (date, datetime, ISO text; None, NaN or NaT for none) as ``datetime64[D]``, NaT where none."""
    return np.array([None if pd.isna(v) else v for v in values.tolist()], dtype="datetime64[D]")


def _absent(values) -> np.ndarray:
    """Where ``values`` (a column) holds None, NaN or NA."""
    return pd.isna(np.asarray(values, dtype=object))


def _states(values) -> np.ndarray:
    return np.array([api_state(v) for v in values.tolist()], dtype=object)


def needs_history(frame: Mapping) -> np.ndarray:
    """The rows of ``frame`` (as :func:`resolve` takes it) whose state or time on chart the API's fields cannot
    give: no known ``entryState``, no ``oldPosition`` and no ``entryDate``, or no ``timeOnChart``."""
    no_state = _absent(_states(frame["entry_state"]))
    no_old = _int_column(frame["old_position"]).fillna(0).to_numpy(dtype=np.int64) <= 0
    return (no_state & no_old & _absent(frame["entry_date"])) | _absent(frame["time_on_chart"])


def resolve(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with previous_position, movement, status, status_from, on_chart, on_chart_unit and on_chart_from.

    ``frame`` holds one row per entry: position, date (the ranking's), the API's old_position, entry_state,
    entry_date, time_on_chart and time_on_chart_unit as stored, the chart's ``unit``, and from stored history
    ``stored_previous`` (the track's best position in the previous stored ranking, NA when absent),
    ``stored_count`` (stored rankings of the chart up to this one that hold the track, NA when not read) and
    ``has_previous`` (the chart has a stored ranking before this one). The rules are the module's.
    """
    added = _resolved(frame)
    return frame.assign(**{**added, "status": _unknown_as_none(added["status"], frame.index)})


def _unknown_as_none(status: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """The status column as objects: an unknown state stays None (a text column would make it NaN)."""
    return pd.Series(status, index=index, dtype=object)


def _resolved(frame: Mapping) -> dict[str, np.ndarray]:
    """The columns :func:`resolve` adds, from ``frame``'s columns (a frame or a dict of arrays: the chart page
    builds its frame once, at the end)."""
    position = np.asarray(frame["position"], dtype=np.int64)
    n = len(position)
    sent_old = _int_column(frame["old_position"])
    old = sent_old.fillna(0).to_numpy(dtype=np.int64)
    has_old = old > 0
    sent_states = frame["entry_state"].tolist()
    state = _states(frame["entry_state"])
    sent_state = np.array([isinstance(v, str) and v.strip() != "" for v in sent_states], dtype=bool)
    entered, day = _days(frame["entry_date"]), _days(frame["date"])
    has_entered = ~np.isnat(entered)
    sent = sent_state | ~sent_old.isna() | has_entered  # the API said something about this entry's past

    stored_previous = _int_column(frame["stored_previous"])
    stored_count = _int_column(frame["stored_count"])
    count = stored_count.fillna(0).to_numpy(dtype=np.int64)
    previous = pd.array(np.where(has_old, old, 0), dtype="Int64")
    previous[~has_old] = pd.NA
    previous[~sent] = stored_previous[~sent]
    has_previous_position = ~previous.isna()
    previous_at = previous.fillna(0).to_numpy(dtype=np.int64)

    known = ~pd.isna(state)
    derived = _first_match(n, [*_moves(old, has_old, position), (has_entered & (entered >= day), "NEW"),
                               (has_entered, "RE-ENTRY")])
    from_history = _first_match(n, [*_moves(previous_at, has_previous_position, position), (count > 1, "RE-ENTRY"),
                                    (np.asarray(frame["has_previous"], dtype=bool), "NEW")])
    status = np.where(known, state, np.where(pd.isna(derived), from_history, derived))
    on_chart = _int_column(frame["time_on_chart"])
    api_time = ~on_chart.isna()
    on_chart[~api_time] = stored_count[~api_time]
    unit = np.array([api_unit(v) for v in frame["time_on_chart_unit"].tolist()], dtype=object)
    return {"previous_position": previous, "movement": previous - pd.array(position, dtype="Int64"),
            "status": np.where(pd.notna(status), status, None),
            "status_from": np.where(known, FROM_API, np.where(pd.isna(derived), STORED, DERIVED)),
            "on_chart": on_chart,
            "on_chart_unit": np.where(api_time & pd.notna(unit), unit, np.asarray(frame["unit"], dtype=object)),
            "on_chart_from": np.where(api_time, FROM_API, STORED)}


# -- reading ------------------------------------------------------------------------------------------------------

def ranking_pairs(conn: Connection, *, on: date | None = None, chart: str | None = None) -> pd.DataFrame:
    """Per chart, its latest successfully stored ranking up to ``on`` (default: its latest) and the one before:
    chart_id, chart, chart_name, platform, country_code, unit (:func:`chart_unit`), current (ranking id), date,
    previous (ranking id or NA), previous_date, history_start (the chart's first stored ranking)."""
    stored = [SUCCESS, *([R.c.ranking_date <= on] if on is not None else [])]
    if chart:  # one chart: its first and its two latest rankings, from the (chart, date) index, none numbered
        chart_id = select(C.c.id).where(C.c.slug == chart).scalar_subquery()
        start = (select(R.c.ranking_date).where(R.c.chart_id == chart_id, *stored).order_by(R.c.ranking_date)
                 .limit(1).scalar_subquery().label("history_start"))
        latest = (select(R.c.id, R.c.chart_id, R.c.ranking_date, start).where(R.c.chart_id == chart_id, *stored)
                  .order_by(R.c.ranking_date.desc()).limit(2).subquery())
        rn = func.row_number().over(order_by=latest.c.ranking_date.desc()).label("rn")
        ranked = select(latest.c.id, latest.c.chart_id, latest.c.ranking_date, rn, latest.c.history_start).subquery()
    else:
        rn = func.row_number().over(partition_by=R.c.chart_id, order_by=R.c.ranking_date.desc()).label("rn")
        start = func.min(R.c.ranking_date).over(partition_by=R.c.chart_id).label("history_start")
        ranked = select(R.c.id, R.c.chart_id, R.c.ranking_date, rn, start).where(*stored).subquery()
    q = (select(ranked.c.id, ranked.c.chart_id, ranked.c.ranking_date.label("date"), ranked.c.rn,
                ranked.c.history_start, C.c.slug.label("chart"), C.c.name.label("chart_name"),
                P.c.slug.label("platform"), C.c.country_code, C.c.frequency)
         .join(C, C.c.id == ranked.c.chart_id).join(P, P.c.id == C.c.platform_id).where(ranked.c.rn <= 2))
    rows = conn.execute(q).all()  # at most two per chart: assembled here, column by column, not by frame operations
    before = {r.chart_id: r for r in rows if r.rn == 2}
    latest = sorted((r for r in rows if r.rn == 1), key=lambda r: r.chart)
    earlier = [before.get(r.chart_id) for r in latest]
    return pd.DataFrame({
        **{c: np.array([getattr(r, c) for r in latest], dtype=np.int64 if c == "chart_id" else object)
           for c in ("chart_id", "chart", "chart_name", "platform", "country_code")},
        "unit": np.array([chart_unit(r.frequency) for r in latest], dtype=object),
        "current": np.array([r.id for r in latest], dtype=np.int64),
        "date": np.array([r.date for r in latest], dtype=object),
        "previous": pd.array([b.id if b else None for b in earlier], dtype="Int64"),
        "previous_date": np.array([b.date if b else np.nan for b in earlier], dtype=object),
        "history_start": np.array([r.history_start for r in latest], dtype=object)}, columns=PAIR_COLUMNS)


Columns = dict[str, np.ndarray]  # a table as its columns: a page's read builds its frame once, at the end
_INT_COLUMNS = ("ranking_id", "current", "track_id", "position")


def _rows(conn: Connection, q) -> Columns:
    """The rows of ``q`` as columns named as selected (object arrays; ``_INT_COLUMNS`` as integers)."""
    result = conn.execute(q)
    names, rows = list(result.keys()), result.all()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return {name: np.array(column, dtype=np.int64 if name in _INT_COLUMNS else object)
            for name, column in zip(names, values, strict=True)}


def _entries(conn: Connection, ranking_ids: list[int], tracks: Select | None) -> Columns:
    """The stored entries of ``ranking_ids`` with the API's fields and their tracks' names."""
    q = (select(E.c.ranking_id, E.c.track_id, E.c.position, E.c.metric, E.c.old_position, E.c.entry_state,
                E.c.entry_date, E.c.time_on_chart, E.c.time_on_chart_unit)
         .where(among(conn, E.c.ranking_id, ranking_ids)))
    if tracks is not None:
        q = q.where(E.c.track_id.in_(tracks))
    return _named(conn, _rows(conn, q))


def _named(conn: Connection, rows: Columns) -> Columns:
    """``rows`` (with track_id) of stored tracks, with their uuid, name and artist. The tracks are looked up by id
    apart: joined in the same query, PostgreSQL's planner hashes the whole track table for a few hundred rows."""
    ids = rows["track_id"].tolist()
    names = {row[0]: row[1:] for row in conn.execute(select(
        T.c.id, T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "")).where(among(conn, T.c.id, sorted(set(ids)))))}
    if not names.keys() >= set(ids):
        rows = _where(rows, np.array([t in names for t in ids], dtype=bool))
        ids = rows["track_id"].tolist()
    found = [names[t] for t in ids]
    return {**rows, **{c: np.array([f[k] for f in found], dtype=object)
                       for k, c in enumerate(("uuid", "name", "artist"))}}


def _where(columns: Columns, rows: np.ndarray) -> Columns:
    """``columns`` at ``rows`` (a mask or positions)."""
    return {c: v[rows] for c, v in columns.items()}


@dataclass(frozen=True)
class _Read:
    """The entries of the pairs' current rankings (with their pair's columns) and of their previous ones
    (``previous``: ranking id), as columns."""

    current: Columns
    previous: Columns


def _read(conn: Connection, pairs: pd.DataFrame, tracks: Select | None) -> _Read:
    before = pairs["previous"].dropna().astype(int).tolist()
    rows = _entries(conn, [*pairs["current"].astype(int).tolist(), *before], tracks)
    ranking = rows.pop("ranking_id")
    at = pd.Index(pairs["current"]).get_indexer(ranking)  # each current entry's pair, by position
    mine = at >= 0
    current = {**_where(rows, mine), **{c: pairs[c].array.take(at[mine]) for c in pairs.columns}}
    return _Read(current, {"previous": ranking[~mine], **_where(rows, ~mine)})


def _ranking_entries(conn: Connection, pairs: pd.DataFrame, read: _Read, history: bool) -> Columns:
    best_before: dict[tuple[int, int], int] = {}  # (previous ranking, track): its best position there
    for key in zip(read.previous["previous"].tolist(), read.previous["track_id"].tolist(),
                   read.previous["position"].tolist(), strict=True):
        best_before[key[:2]] = min(best_before.get(key[:2], key[2]), key[2])
    before = read.current["previous"].to_numpy(dtype=np.int64, na_value=-1)
    keys = zip(before.tolist(), read.current["track_id"].tolist(), strict=True)
    frame = {**read.current, "stored_previous": pd.array([best_before.get(key) for key in keys], dtype="Int64"),
             "has_previous": before >= 0}
    # stored history stands in only where the API sent no state, nothing to derive one from, or no time
    wanted = slice(None) if history else needs_history(frame)
    wanted = pd.DataFrame({c: frame[c][wanted] for c in ("chart_id", "track_id")}).drop_duplicates()
    n = len(frame["position"])
    if wanted.empty:
        frame.update({c: pd.array([None] * n, dtype="Int64") for c in ["stored_count", *HISTORY_COLUMNS]})
        frame["stored_peak_date"] = np.full(n, pd.NA, dtype=object)
    else:
        figures = stored_history.figures(conn, pairs, wanted)
        row = {key: n for n, key in enumerate(_keys(figures))}
        at = np.array([row.get(key, -1) for key in _keys(frame)], dtype=np.int64)  # each entry's figures (-1: none)
        frame.update({c: (figures[c].array if c == "stored_peak_date" else
                          pd.array(figures[c], dtype="Int64")).take(at, allow_fill=True)
                      for c in ["stored_count", *HISTORY_COLUMNS]})
    return {**frame, **_resolved(frame)}


def _keys(frame: Mapping) -> zip:
    return zip(frame["chart_id"].tolist(), frame["track_id"].tolist(), strict=True)


class Rankings(NamedTuple):
    """What :func:`ranking_entries` reads."""

    entries: pd.DataFrame  # ENTRY_COLUMNS (+ HISTORY_COLUMNS), by chart and position
    dropouts: pd.DataFrame  # RANKING_DROPOUT_COLUMNS, by chart and previous position
    sent_dropouts: frozenset[int]  # the rankings (ids) for which the API sent position-0 items


def ranking_entries(conn: Connection, pairs: pd.DataFrame, tracks: Select | None = None, *,
                    history: bool = False) -> Rankings:
    """The ``current`` rankings of ``pairs`` (:func:`ranking_pairs`) read once.

    ``entries``: every entry with the API's fields as the truth (the module's rules), plus with ``history`` the
    stored-history ``HISTORY_COLUMNS``. ``dropouts``: the API's position-0 items of a ranking when it sent any
    (``source`` "api", previous_position their ``oldPosition``), else the tracks of the previous stored ranking
    missing from it (``source`` "stored history"). ``tracks``: a query of track ids to keep (e.g.
    :func:`soundcharts_lib.curation.roster.track_ids_query`).
    """
    columns = ENTRY_COLUMNS + HISTORY_COLUMNS * history
    if pairs.empty:
        return Rankings(pd.DataFrame(columns=columns), pd.DataFrame(columns=RANKING_DROPOUT_COLUMNS), frozenset())
    read = _read(conn, pairs, tracks)
    entries = _ranking_entries(conn, pairs, read, history)
    entries["metric"] = pd.array(entries["metric"].tolist(), dtype="Int64")
    order = np.lexsort((entries["position"], pd.factorize(entries["chart"], sort=True)[0]))
    current = pairs["current"].astype(int).tolist()
    sent = frozenset(conn.execute(select(DROP.c.ranking_id).distinct().where(DROP.c.ranking_id.in_(current)))
                     .scalars())
    ordered = {c: entries[c].take(order) for c in columns}
    ordered["status"] = _unknown_as_none(ordered["status"])
    return Rankings(pd.DataFrame(ordered), _dropouts(conn, pairs, read, tracks, sent), sent)


def _dropouts(conn: Connection, pairs: pd.DataFrame, read: _Read, tracks: Select | None,
              sent: frozenset[int]) -> pd.DataFrame:
    parts = [_stored_dropouts(pairs, read, sent)]
    if sent:
        q = (select(DROP.c.ranking_id.label("current"), DROP.c.track_id, DROP.c.old_position)
             .where(DROP.c.ranking_id.in_(sorted(sent))))
        if tracks is not None:
            q = q.where(DROP.c.track_id.in_(tracks))
        api = pd.DataFrame(_named(conn, _rows(conn, q))).merge(pairs, on="current").assign(source=FROM_API)
        last = _int_column(api.pop("old_position"))
        last[last.fillna(0) <= 0] = pd.NA  # 0 and null: no last position
        api["previous_position"] = last
        parts.insert(0, api[RANKING_DROPOUT_COLUMNS])
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out["previous_position"] = out["previous_position"].astype("Int64")
    return out.sort_values(["chart", "previous_position"], na_position="last").reset_index(drop=True)


def _stored_dropouts(pairs: pd.DataFrame, read: _Read, sent: frozenset[int]) -> pd.DataFrame:
    """For the pairs whose current ranking came with no position-0 item from the API: the tracks of the previous
    stored ranking missing from the current one, at their best position there (``source`` "stored history")."""
    compared = {int(before): n for n, (before, current) in enumerate(zip(pairs["previous"].tolist(),
                                                                           pairs["current"].tolist(), strict=True))
                if not pd.isna(before) and current not in sent}
    stayed = set(zip(read.current["previous"].tolist(), read.current["track_id"].tolist(), strict=True))
    positions = read.previous["position"].tolist()
    best: dict[tuple[int, int], int] = {}  # (previous ranking, track): the row of its best position there
    for n, key in enumerate(zip(read.previous["previous"].tolist(), read.previous["track_id"].tolist(), strict=True)):
        if key[0] in compared and key not in stayed and (key not in best or positions[n] < positions[best[key]]):
            best[key] = n
    rows = np.array(list(best.values()), dtype=np.int64)
    pair = np.array([compared[key[0]] for key in best], dtype=np.int64)
    return pd.DataFrame({
        **{c: pairs[c].array.take(pair) for c in ("chart_id", "chart", "chart_name", "platform", "country_code",
                                                   "date")},
        "track_id": read.previous["track_id"].take(rows),
        **{c: pd.array(read.previous[c].take(rows), dtype="str") for c in ("uuid", "name", "artist")},
        "previous_position": pd.array(np.array(positions, dtype=np.int64)[rows], dtype="Int64"),
        "source": np.full(len(rows), STORED_HISTORY, dtype=object)}, columns=RANKING_DROPOUT_COLUMNS)


# -- one chart on one date ----------------------------------------------------------------------------------------

def _one_chart(engine: Engine, slug: str, on: date | None) -> Rankings:
    """The chart's ranking of ``on`` (default: its latest stored) with stored history; empty frames when there is
    no such stored ranking."""
    with engine.connect() as conn:
        pairs = ranking_pairs(conn, on=on, chart=slug)
        if on is not None:
            pairs = pairs[pairs["date"] == on]
        return ranking_entries(conn, pairs, history=True)


def _trends(read: Rankings) -> pd.DataFrame:
    return read.entries[TREND_COLUMNS]  # one chart's: by position


def chart_trends(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """The ranking of ``on`` (default: the latest stored) with each entry's fields (``TREND_COLUMNS``): the API's
    previous position, movement (previous - position: positive climbed), status, time on chart and entry date, and
    the stored-history peak, peak date and streak since ``history_start``; empty when not stored."""
    return _trends(_one_chart(engine, slug, on))


def chart_dropouts(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """The drop-outs of the ranking of ``on`` (see :func:`ranking_entries`): ``DROPOUT_COLUMNS``."""
    return _one_chart(engine, slug, on).dropouts[DROPOUT_COLUMNS]


def chart_movers(engine: Engine, slug: str, on: date | None = None, limit: int = 10) -> dict[str, pd.DataFrame]:
    """One chart on one date read once: ``ranking`` (:func:`chart_trends`), its ``climbers`` and ``fallers`` (the
    ``limit`` biggest moves), ``new_entries`` (NEW and RE-ENTRY), ``dropouts`` (:func:`chart_dropouts`) and
    ``dropouts_from`` ("api" when the API sent position-0 items for the ranking, else "stored history")."""
    read = _one_chart(engine, slug, on)
    trends = _trends(read)
    movement = trends["movement"].to_numpy(dtype=float, na_value=np.nan)  # NA: compares false both ways
    position = trends["position"].to_numpy()

    def biggest(rows: np.ndarray, by: np.ndarray) -> pd.DataFrame:
        return trends.take(rows[np.lexsort((position[rows], by[rows]))][:limit]).reset_index(drop=True)

    return {
        "ranking": trends,
        "climbers": biggest(np.flatnonzero(movement > 0), -movement),
        "fallers": biggest(np.flatnonzero(movement < 0), movement),
        "new_entries": trends[trends["status"].isin(["NEW", "RE-ENTRY"]).to_numpy()].reset_index(drop=True),
        "dropouts": read.dropouts[DROPOUT_COLUMNS],
        "dropouts_from": FROM_API if read.sent_dropouts else STORED_HISTORY,
    }
