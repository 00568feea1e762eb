"""Comparing databases row for row by natural keys (the tool of the reliability tests), and its own tests.

:func:`snapshot` reads the data tables (platforms, charts, tracks, rankings, entries, audience) with every id
replaced by the natural key it points to and without fetch/health timestamps or change counters (a chart's
``rankings_version`` counts the writes of its rankings, failed attempts included), so a database filled by a faulty
run plus a re-run can be compared with a clean run's, whatever order rows went in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from conftest import _fresh_pg_database
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import Base, ChartRanking, ChartRankingEntry

DATA_TABLES = ("platform", "chart", "track", "chart_ranking", "chart_ranking_entry", "track_audience")
NATURAL_KEYS = {"platform": ("slug",), "chart": ("slug",), "track": ("uuid",),
                "chart_ranking": ("chart_id", "ranking_date")}


def _compared(column: str) -> bool:
    return column not in ("id", "rankings_version") and not column.endswith("_at")


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """``{table: sorted rows}``; foreign keys become the referenced row's natural key."""
    tables = Base.metadata.tables
    raw: dict[str, dict[int, dict]] = {}
    with engine.connect() as conn:
        for name in DATA_TABLES:
            raw[name] = {row["id"]: dict(row) for row in conn.execute(select(tables[name])).mappings()}
    keys: dict[str, dict[int, tuple]] = {}

    def natural(name: str, row: dict) -> tuple:
        return tuple(resolve(name, col, row[col]) for col in NATURAL_KEYS[name])

    def resolve(name: str, column: str, value):
        fks = list(tables[name].c[column].foreign_keys)
        if not fks or value is None:
            return value
        target = fks[0].column.table.name
        if value not in keys.setdefault(target, {}):
            keys[target][value] = natural(target, raw[target][value])
        return keys[target][value]

    out = {}
    for name in DATA_TABLES:
        cols = [c.name for c in tables[name].c if _compared(c.name)]
        out[name] = sorted(tuple(repr(resolve(name, c, row[c])) for c in cols) for row in raw[name].values())
    return out


def differences(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> dict[str, tuple[int, int]]:
    """``{table: (rows only left, rows only right)}`` for the tables that differ."""
    out = {}
    for name in DATA_TABLES:
        a, b = set(left[name]), set(right[name])
        if a != b or len(left[name]) != len(right[name]):
            out[name] = (len(a - b), len(b - a))
    return out


def row_count(snap: dict[str, list[tuple]]) -> int:
    return sum(len(rows) for rows in snap.values())


def partial_rankings(engine: Engine) -> list[tuple]:
    """Rankings whose stored entries do not match: a success without all its entries, a failure with some."""
    r, e = ChartRanking.__table__, ChartRankingEntry.__table__
    counted = select(e.c.ranking_id, func.count().label("n")).group_by(e.c.ranking_id).subquery()
    n = func.coalesce(counted.c.n, 0)
    q = (select(r.c.id, r.c.status, r.c.entry_count, n).outerjoin(counted, counted.c.ranking_id == r.c.id)
         .where(((r.c.status == "success") & (n != r.c.entry_count)) | ((r.c.status != "success") & (n > 0))))
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(q)]


@contextlib.contextmanager
def fresh_database(like_url: str, tmp_path, name: str) -> Iterator[str]:
    """Another empty database on the same backend as ``like_url`` (dropped afterwards on PostgreSQL)."""
    if like_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    url, drop = _fresh_pg_database()
    try:
        yield url
    finally:
        drop()


@contextlib.contextmanager
def migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


# --- the comparison itself must be able to fail --------------------------------------------------------

def _fill(engine: Engine, order: list[int]) -> None:
    """Two charts' rankings stored in ``order`` (ids then differ between databases)."""
    from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry, SongRef
    from soundcharts_lib.db import store

    charts = [ChartInfo(slug=f"c{i}", name=f"C{i}", platform="spotify") for i in (0, 1)]
    ids = store.upsert_charts(engine, charts)
    for i in order:
        song = SongRef(uuid=f"song-{i}", name=f"Song {i}")
        day = date(2025, 3, 1 + i)
        ranking = Ranking(chart=charts[i], date=day, date_raw=f"{day}T00:00:00+00:00",
                          entries=[RankingEntry(song=song, position=1, metric=10 * i)])
        store.store_ranking(engine, ids[f"c{i}"], ranking)


def test_equal_data_stored_in_another_order_compares_equal_and_one_changed_value_does_not(db_url, tmp_path):
    with (fresh_database(db_url, tmp_path, "twin") as twin_url, migrated(db_url) as one,
          migrated(twin_url) as two):
        _fill(one, [0, 1])
        _fill(two, [1, 0])
        first, second = snapshot(one), snapshot(two)
        assert first == second and row_count(first) == 9 and partial_rankings(one) == []
        with two.begin() as conn:
            conn.execute(update(ChartRankingEntry.__table__).values(metric=ChartRankingEntry.metric + 1))
            conn.execute(text("DELETE FROM chart_ranking_entry WHERE position = 1 AND metric = 1"))
        assert differences(first, snapshot(two)) == {"chart_ranking_entry": (2, 1)}
        assert len(partial_rankings(two)) == 1
        print(f"rows compared: {row_count(first)}, a changed value and a lost entry found: yes")
