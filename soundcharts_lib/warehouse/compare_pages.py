"""Tracks or artists side by side (the compare page): their audience per platform overlaid, their chart positions
on the charts they share, and their key figures in one table; and the items a "compare with…" picker offers.

Tracks: their audience per platform (:mod:`.audience_series`), chart history and charts (:mod:`.analytics`).
Artists: their followers and monthly listeners per platform and the best daily position of their stored tracks
(:mod:`.artist_series`). Each item has a ``label`` (its name, made unique on the page).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import pandas as pd
from sqlalchemy import func, select, union_all
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db import chart_rollup, partition
from soundcharts_lib.db.filters import among
from soundcharts_lib.db.frames import as_date, typed_frame
from soundcharts_lib.db.tables import SUCCESS, TA, A, E, R, T
from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.warehouse import analytics, artist_series, audience_series, track_positions
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.labels import track_labels
from soundcharts_lib.warehouse.side_by_side import side_by_side

MAX_ITEMS = 6
KINDS = ("tracks", "artists")
SHOWN_CHARTS = 4  # shared charts drawn as figures (the table lists them all)
GROWTH_DAYS = 28
CANDIDATES = 30
CANDIDATE_DAYS = 30
CANDIDATE_CHARTS = 3  # a track's candidates are counted on its busiest charts of the month (a hit is on a hundred)
CANDIDATE_RANKINGS = 10  # ... over each one's last stored rankings up to the track's last entry
SHARED_COLUMNS = ["chart", "chart_name", "platform", "country_code", "items", "entries"]


class CompareError(SoundchartsError, ValueError):
    """A comparison that cannot be made: an unknown kind, or more items than :data:`MAX_ITEMS`."""


def unique_labels(names: list[str], reserved=frozenset(SHARED_COLUMNS)) -> list[str]:
    """``names`` made distinct (and distinct from ``reserved`` column names): a repeat gets " (2)", " (3)", …"""
    out: list[str] = []
    for name in names:
        label, n = name, 1
        while label in out or label in reserved:
            n += 1
            label = f"{name} ({n})"
        out.append(label)
    return out


def _tracks(engine: Engine, uuids: list[str]) -> dict[str, dict]:
    q = select(T.c.uuid, T.c.name, T.c.credit_name, T.c.release_date, T.c.labels).where(T.c.uuid.in_(uuids))
    with engine.connect() as conn:
        return {row.uuid: dict(row._mapping) for row in conn.execute(q)}


def _artists(engine: Engine, uuids: list[str]) -> dict[str, dict]:
    tracks = select(func.count()).where(TA.c.artist_id == A.c.id).scalar_subquery()
    q = select(A.c.id, A.c.uuid, A.c.name, A.c.country_code, A.c.career_stage, A.c.genres,
               tracks.label("tracks")).where(A.c.uuid.in_(uuids))
    with engine.connect() as conn:
        return {row.uuid: dict(row._mapping) for row in conn.execute(q)}


PER_CHART = ["chart", "chart_name", "platform", "country_code", "entries", "best"]


def _track_parts(engine: Engine, item: dict) -> tuple[dict, pd.DataFrame, Callable, list]:
    """A track's panels ``{(metric, platform): frame}``, its charts (:data:`PER_CHART`), its positions on some
    charts (a function of their slugs: date, chart, position) and its figures."""
    uuid = item["uuid"]
    charts = analytics.track_charts(engine, uuid, ids=True)
    panels = {("audience", slug): frame for slug, frame in audience_series.audience_by_platform(engine, uuid).items()
              if len(frame)}
    figures = [("Artists", "text", item["credit_name"]), ("Released", "date", item["release_date"]),
               ("Labels", "text", ", ".join(track_labels(item["labels"]))),
               ("Charts", "number", len(charts)), ("Chart entries", "number", int(charts["appearances"].sum())),
               ("Best position", "number", charts["peak_position"].min() if len(charts) else None),
               ("Charting now", "number", int(charts["charting_now"].sum()))]
    per_chart = charts.rename(columns={"appearances": "entries", "peak_position": "best"})[PER_CHART]
    return panels, per_chart, lambda slugs: analytics.positions_on(engine, uuid, charts[charts["chart"].isin(slugs)]), \
        figures


def _artist_parts(engine: Engine, item: dict) -> tuple[dict, pd.DataFrame, Callable, list]:
    """An artist's panels ``{(metric, platform): frame}``, the charts of its tracks (:data:`PER_CHART`; entries:
    the days a track of it was there), their best daily positions on some charts (a function of their slugs) and
    its figures."""
    panels = {(kind, slug): frame for kind in artist_series.KINDS
              for slug, frame in artist_series.series(engine, item["id"], kind).items() if len(frame)}
    history = artist_series.chart_history(engine, item["id"])
    genres = item["genres"] if isinstance(item["genres"], list) else []
    figures = [("Country", "text", item["country_code"]), ("Career stage", "text", item["career_stage"]),
               ("Genres", "text", ", ".join(g for g in genres if isinstance(g, str))),
               ("Tracks stored", "number", item["tracks"]), ("Charts", "number", history["chart"].nunique()),
               ("Chart entries", "number", int(history["entries"].sum())),
               ("Best position", "number", history["position"].min() if len(history) else None),
               ("Last on a chart", "date", history["date"].max() if len(history) else None)]
    per_chart = (history.groupby(PER_CHART[:4], sort=False, dropna=False).agg(entries=("position", "size"),
                                                                 best=("position", "min")).reset_index())
    return panels, per_chart, lambda slugs: history[history["chart"].isin(slugs)], figures


def _series_figures(panels: dict[tuple[str, str], dict[str, pd.DataFrame]], labels: list[str]) -> list:
    """Per panel, the latest value and its growth over :data:`GROWTH_DAYS` days, for each item."""
    out = []
    for (metric, slug), by_item in panels.items():
        latest = [int(by_item[label]["value"].iloc[-1]) if label in by_item else None for label in labels]
        growth = [audience_series.growth(by_item[label], (GROWTH_DAYS,))[GROWTH_DAYS]["pct"]
                  if label in by_item else None for label in labels]
        out += [(f"{slug} {metric}", "number", latest), (f"{slug} {metric}, {GROWTH_DAYS} days", "pct", growth)]
    return out


def _shared(per_chart: dict[str, pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    """The charts at least two items were on: chart, chart_name, platform, country_code, items, entries, then each
    item's best position there (a column per label); most items, then most entries first. ``per_chart``: each
    item's charts (:data:`PER_CHART`, a chart once) by label. Counted in Python: a few hundred rows, for which
    pandas' per-call costs outweigh the work."""
    charts: dict[str, dict] = {}
    for label, frame in per_chart.items():
        for chart, name, platform, country, entries, best in zip(*(frame[c].tolist() for c in PER_CHART),
                                                                  strict=True):
            seen = charts.setdefault(chart, {"names": (name, platform, country), "entries": 0, "best": {}})
            seen["entries"] += int(entries)
            seen["best"][label] = None if pd.isna(best) else int(best)
    rows = [(chart, *seen["names"], len(seen["best"]), seen["entries"], *(seen["best"].get(label) for label in labels))
            for chart, seen in charts.items() if len(seen["best"]) >= 2]
    rows.sort(key=lambda row: (-row[4], -row[5], row[0]))
    types = dict.fromkeys(SHARED_COLUMNS[:4], "object") | dict.fromkeys(SHARED_COLUMNS[4:], "int64") \
        | dict.fromkeys(labels, "Int64")
    return typed_frame(rows, [*SHARED_COLUMNS, *labels], types)


def _by_chart(history: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``history`` (chart, date, position, ...) split by chart: ``{chart: frame(date, position)}``."""
    kept = history[["date", "position"]]
    return {chart: kept.iloc[rows].reset_index(drop=True)
            for chart, rows in history.groupby("chart", sort=False, dropna=False).indices.items()}


def compare(engine: Engine, kind: str, uuids: list[str]) -> dict:
    """Up to :data:`MAX_ITEMS` tracks or artists (``kind``), lower-case UUIDs in the page's order.

    ``items``: frame(uuid, name, label); ``unknown``: the UUIDs not stored; ``panels``: ``{(metric, platform):
    {label: frame(date, value, daily_change)}}`` (metric: audience for tracks, followers or listeners for artists),
    the platforms most items have first; ``shared``: :func:`_shared`; ``positions``: ``{chart: {label:
    frame(date, position)}}`` for the first :data:`SHOWN_CHARTS` shared charts; ``figures``: ``[(figure, kind,
    [value per item])]`` (kind: text, date, number, pct). ``UnknownEntity`` when none is stored."""
    if kind not in KINDS:
        raise CompareError(f"compare tracks or artists, not {kind!r}")
    if len(uuids) > MAX_ITEMS:
        raise CompareError(f"at most {MAX_ITEMS} {kind} can be compared, got {len(uuids)}")
    stored = (_tracks if kind == "tracks" else _artists)(engine, uuids)
    unknown = [uuid for uuid in uuids if uuid not in stored]
    if not stored:
        raise UnknownEntity(f"no {kind[:-1]} is stored for {', '.join(unknown)}")
    found = [stored[uuid] for uuid in uuids if uuid in stored]
    labels = unique_labels([item["name"] for item in found])
    read = _track_parts if kind == "tracks" else _artist_parts
    parts = list(side_by_side(engine, **{str(i): partial(read, engine, item) for i, item in enumerate(found)}).values())
    panels: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}
    for label, (own, _, _, _) in zip(labels, parts, strict=True):
        for key, frame in own.items():
            panels.setdefault(key, {})[label] = frame
    order = {metric: i for i, metric in enumerate(("audience", *artist_series.KINDS))}
    panels = dict(sorted(panels.items(), key=lambda kv: (-len(kv[1]), order[kv[0][0]], kv[0][1])))
    shared = _shared({label: per_chart for label, (_, per_chart, _, _) in zip(labels, parts, strict=True)}, labels)
    shown = shared["chart"].head(SHOWN_CHARTS).tolist()  # positions read on the charts drawn only
    drawn = side_by_side(engine, **{str(i): partial(positions_on, shown)
                                    for i, (_, _, positions_on, _) in enumerate(parts)}) if shown else {}
    by_chart = {label: _by_chart(drawn[str(i)]) for i, label in enumerate(labels) if str(i) in drawn}
    positions = {chart: {label: charts[chart] for label, charts in by_chart.items() if chart in charts}
                 for chart in shown}
    figures = [(name, fkind, [own[i][2] for *_, own in parts]) for i, (name, fkind, _) in enumerate(parts[0][3])]
    items = pd.DataFrame({"uuid": [item["uuid"] for item in found], "name": [item["name"] for item in found],
                          "label": labels})
    return {"kind": kind, "items": items, "unknown": unknown, "panels": panels, "shared": shared,
            "positions": positions, "figures": figures + _series_figures(panels, labels)}


def figures_frame(data: dict) -> pd.DataFrame:
    """:func:`compare`'s figures as a table: figure, then a column per item label."""
    labels = data["items"]["label"].tolist()
    return pd.DataFrame([[name, *values] for name, _, values in data["figures"]], columns=["figure", *labels])


def value_at(frame: pd.DataFrame, day: date) -> float | None:
    """The last stored value on or before ``day`` (None when the series starts after it)."""
    at = bisect_right(frame["date"].tolist(), day) - 1
    return None if at < 0 else float(frame["value"].iloc[at])


def indexed_to(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """``frame`` (date, value) as date, indexed: 100 at the last value on or before ``day``; NA throughout when
    there is none or it is 0."""
    base = value_at(frame, day)
    values = frame["value"].astype(float) / base * 100 if base else pd.Series(float("nan"), index=frame.index)
    return pd.DataFrame({"date": frame["date"], "indexed": values.to_numpy(dtype=float)})


def default_index_date(panels: dict[tuple[str, str], dict[str, pd.DataFrame]]) -> date | None:
    """The latest first day of any series shown: from it on, every series has a value to be indexed to."""
    firsts = [frame["date"].iloc[0] for by_item in panels.values() for frame in by_item.values() if len(frame)]
    return max(firsts) if firsts else None


def _busiest(conn: Connection, on_track: Callable, counted: Callable[[], list]) -> tuple[tuple[date, date],
                                                                                          list[int]] | None:
    """The :data:`CANDIDATE_DAYS` days up to the last entry of the tracks ``on_track`` keeps (a function of a track
    id column) and, of the charts they were on in those days, the :data:`CANDIDATE_CHARTS` holding most of their
    entries (ids); None without entries. Read from the track-chart rollup (``chart_rollup.summaries``: each chart's
    entries of the tracks and their last date there; for a chart changed since its refresh, from the entries
    ``counted()`` keeps: :mod:`.track_positions`), not from the tracks' entries: a year-long hit's month is 3,000
    entries on a hundred charts."""
    per = chart_rollup.summaries(conn, on_track, counted, peak_date=False).subquery()
    rows = [(chart, int(n), as_date(last)) for chart, n, last in conn.execute(
        select(per.c.chart_id, func.sum(per.c.appearances), func.max(per.c.last_date)).group_by(per.c.chart_id))]
    if not rows:
        return None
    last = max(day for _, _, day in rows)
    since = last - timedelta(days=CANDIDATE_DAYS - 1)
    busiest = sorted((-n, chart) for chart, n, day in rows if day >= since)[:CANDIDATE_CHARTS]
    return (since, last), [chart for _, chart in busiest]


def _ranked(conn, top, q) -> pd.DataFrame:
    """``q`` (uuid, name, sub of the items of ``top``: item, n) by ``n``, most first."""
    return pd.DataFrame(conn.execute(q.order_by(top.c.n.desc(), "name", "uuid")).all(), columns=["uuid", "name", "sub"])


def _last_rankings(conn: Connection, charts: list[int], last: date) -> tuple[list[int], tuple[date, date]]:
    """The ids of the :data:`CANDIDATE_RANKINGS` latest successful rankings up to ``last`` of each of ``charts``, and
    the first and last of their dates. The same number of rankings for a daily and a weekly chart; over a month, a
    year-long hit's three busiest daily charts held 18,000 entries to count, 10-22 ms at 62.9M entries, where ten
    rankings each hold 6,000 (4 ms)."""
    latest = [select(R.c.id, R.c.ranking_date).where(R.c.chart_id == chart, SUCCESS, R.c.ranking_date <= last)
              .order_by(R.c.ranking_date.desc()).limit(CANDIDATE_RANKINGS).subquery() for chart in charts]
    rows = conn.execute(union_all(*(select(q.c.id, q.c.ranking_date) for q in latest))).all()
    days = [as_date(day) for _, day in rows]
    return [ranking for ranking, _ in rows], (min(days, default=last), max(days, default=last))


def _entries_of(conn: Connection, charts: list[int], last: date) -> list:
    """The conditions keeping the entries of the rankings candidates are counted on (:func:`_last_rankings`): on
    monthly partitions with their dates too, which leave the other months out; on one table without them, so that
    the (ranking, track) index answers alone."""
    rankings, window = _last_rankings(conn, charts, last)
    pruned = conn.dialect.name == "postgresql" and partition.is_partitioned(conn, E.name)
    return [among(conn, E.c.ranking_id, rankings), *([E.c.ranking_date.between(*window)] if pruned else [])]


def track_candidates(engine: Engine, uuid: str, limit: int = CANDIDATES) -> pd.DataFrame:
    """Tracks to compare a track with: those with most entries on the charts it was on most in the month to its last
    entry (:func:`_busiest`: of its charts that month, the :data:`CANDIDATE_CHARTS` with most of its stored
    entries), counted over each one's last :data:`CANDIDATE_RANKINGS` stored rankings up to that entry (uuid, name,
    sub: the credit); empty when it has no entry."""
    mine = select(T.c.id).where(T.c.uuid == uuid).scalar_subquery()
    with engine.connect() as conn:
        found = _busiest(conn, lambda track: track == mine, lambda: track_positions.counted(conn, uuid))
        if found is None:
            return pd.DataFrame(columns=["uuid", "name", "sub"])
        (_, last), charts = found
        # those charts' last rankings, then their entries from (ranking, track): a few thousand index entries, where
        # every chart the track was on would be a whole month of a hit's hundred charts
        n = func.count().label("n")
        top = (select(E.c.track_id.label("item"), n)
               .where(*_entries_of(conn, charts, last), E.c.track_id != mine)
               .group_by(E.c.track_id).order_by(n.desc(), E.c.track_id).limit(limit).subquery())
        return _ranked(conn, top, select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("sub"))
                       .join_from(top, T, T.c.id == top.c.item))


def artist_candidates(engine: Engine, uuid: str, limit: int = CANDIDATES) -> pd.DataFrame:
    """Artists to compare an artist with: those whose tracks have most entries on the charts the artist's tracks
    were on most in the month to their last entry (:func:`_busiest`), counted over each one's last
    :data:`CANDIDATE_RANKINGS` stored rankings up to that entry (uuid, name, sub: the country code); empty without
    entries."""
    artist = select(A.c.id).where(A.c.uuid == uuid).scalar_subquery()
    mine = select(TA.c.track_id).where(TA.c.artist_id == artist)
    with engine.connect() as conn:
        ids = conn.execute(mine).scalars().all()  # as values: a subquery let PostgreSQL read the whole rollup
        found = _busiest(conn, lambda track: among(conn, track, ids),
                         lambda: track_positions.tracks_counted(conn, ids)) if ids else None
        if found is None:
            return pd.DataFrame(columns=["uuid", "name", "sub"])
        (_, last), charts = found
        # each track's entries counted first, then its artists: a few thousand tracks to look up, not every entry
        per_track = (select(E.c.track_id, func.count().label("n")).where(*_entries_of(conn, charts, last))
                     .group_by(E.c.track_id).subquery())
        n = func.sum(per_track.c.n).label("n")
        top = (select(TA.c.artist_id.label("item"), n).join_from(per_track, TA, TA.c.track_id == per_track.c.track_id)
               .where(TA.c.artist_id != artist)
               .group_by(TA.c.artist_id).order_by(n.desc(), TA.c.artist_id).limit(limit).subquery())
        return _ranked(conn, top, select(A.c.uuid, A.c.name, func.coalesce(A.c.country_code, "").label("sub"))
                       .join_from(top, A, A.c.id == top.c.item))
