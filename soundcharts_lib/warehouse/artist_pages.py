"""What the artist page reads (``artist.ipynb?uuid=``), the top artists of the overview, and the artists credited on
tracks (every page links an artist's name to the artist page).

An artist's chart presence is read from the entries of their stored tracks (``track_artist``) by the entries' track
index alone (track, chart, date, position), grouped per track and chart: a year-long hit on a hundred charts is
36,500 index entries, never a join per entry. Entries of rankings that are not a success are left out by naming
those rankings (read from their partial index, few), as the track page does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from itertools import chain

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.curation import roster
from soundcharts_lib.db import chart_rollup, rollup
from soundcharts_lib.db.filters import among
from soundcharts_lib.db.frames import as_date, dates_of, day_number, raw_frame, typed_frame
from soundcharts_lib.db.tables import SUCCESS, TA, TR, A, C, E, N, P, R, T
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse import artist_series, audience_series, compare_pages, track_positions
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.side_by_side import side_by_side

FIGURE_CHARTS = 8  # the artist's charts with most entries drawn in the positions figure (the table lists them all)
TRACK_COLUMNS = ["uuid", "name", "credit_name", "release_date", "charts", "entries", "best_position", "best_date",
                 "last_date", "charts_now", "best_now"]
CHART_COLUMNS = ["chart", "chart_name", "platform", "country_code", "tracks", "entries", "best_position",
                 "first_date", "last_date"]
HISTORY_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "position", "entries"]
NOTE_COLUMNS = ["date", "kind", "text", "uuid", "name"]
TOP_COLUMNS = ["uuid", "name", "appearances", "tracks"]
SERIES = {"followers": "Followers", "listeners": "Monthly listeners"}


def _not_stored(uuid: str) -> UnknownEntity:
    return UnknownEntity(f"no artist {uuid!r} is stored")


CHART_NAMES = ["chart", "chart_name", "platform", "country_code"]


def _chart_names(conn: Connection, chart_ids: Iterable[int]) -> dict[int, tuple]:
    """``{chart_id: (chart, chart_name, platform, country_code)}``."""
    q = (select(C.c.id, C.c.slug, C.c.name, P.c.slug, C.c.country_code)
         .join_from(C, P, P.c.id == C.c.platform_id).where(among(conn, C.c.id, sorted(set(chart_ids)))))
    return {row[0]: tuple(row[1:]) for row in conn.execute(q).cursor.fetchall()}


def _per_track_chart(conn: Connection, track_ids: list[int], counted: list) -> list[tuple]:
    """One row per track and chart that holds counted entries (from the track-chart rollup, see
    :func:`chart_rollup.summaries`): track_id, chart_id, entries, best position, first and last date, and (best
    position, its first day)."""
    q = chart_rollup.summaries(conn, lambda track: among(conn, track, track_ids), lambda: counted)
    return [(t, c, n, best, as_date(first), as_date(last), (best, as_date(best_day)))
            for t, c, first, last, n, best, best_day, _ in conn.execute(q).cursor.fetchall()]


def _tracks(conn: Connection, artist_id: int) -> pd.DataFrame:
    """The artist's stored tracks in credit order: track_id, uuid, name, credit_name, release_date."""
    q = (select(T.c.id, T.c.uuid, T.c.name, T.c.credit_name, T.c.release_date)
         .join_from(TA, T, T.c.id == TA.c.track_id).where(TA.c.artist_id == artist_id)
         .order_by(TA.c.position, T.c.name, T.c.uuid))
    return pd.DataFrame(conn.execute(q).all(), columns=["track_id", "uuid", "name", "credit_name", "release_date"])


def _summed(rows: Iterable[tuple], key: int) -> dict[int, dict]:
    """The pairs (:func:`_per_track_chart`) summed up by their ``key`` column (0: track, 1: chart): the other ids,
    entries, best position, first and last date and the smallest best key."""
    out: dict[int, dict] = {}
    for row in rows:
        track_id, chart_id, n, best, first, last, best_key = row
        other = chart_id if key == 0 else track_id
        seen = out.get(row[key])
        if seen is None:
            out[row[key]] = {"ids": {other}, "entries": n, "best_position": best, "first_date": first,
                             "last_date": last, "best_key": best_key}
            continue
        seen["ids"].add(other)
        seen["entries"] += n
        seen["best_position"] = min(seen["best_position"], best)
        seen["first_date"] = min(seen["first_date"], first)
        seen["last_date"] = max(seen["last_date"], last)
        seen["best_key"] = min(seen["best_key"], best_key)
    return out


def _presence(conn: Connection, tracks: pd.DataFrame) -> dict:
    """The tracks' chart presence: ``tracks`` (TRACK_COLUMNS, most entries first), ``charts`` (CHART_COLUMNS with
    chart_id, most entries first) and ``counted`` (the entries' conditions). Summed up in Python: a hundred or a
    few thousand (track, chart) pairs, for which pandas' per-call costs outweigh the work."""
    ids = tracks["track_id"].tolist()
    counted = track_positions.tracks_counted(conn, ids) if ids else [E.c.track_id.in_([])]
    pairs = _per_track_chart(conn, ids, counted) if ids else []
    per_track, per_chart = _summed(pairs, 0), _summed(pairs, 1)
    now: dict[int, list] = {}
    for track_id, chart_id, _, position in chart_rollup.charting_now(conn, lambda t: among(conn, t, ids)) \
            if ids else []:
        now.setdefault(track_id, []).append((chart_id, position))
    rows = []
    for track_id, uuid, name, credit, released in zip(*(tracks[c].tolist() for c in tracks.columns), strict=True):
        seen, here = per_track.get(track_id), now.get(track_id, [])
        best_date = None if seen is None else seen["best_key"][1]
        rows.append((uuid, name, credit, released, len(seen["ids"]) if seen else 0, seen["entries"] if seen else 0,
                     seen and seen["best_position"], best_date, seen and seen["last_date"],
                     len({c for c, _ in here}), min((p for _, p in here), default=None)))
    rows.sort(key=lambda r: (-r[5], r[6] is None, r[6] or 0))  # stable: ties keep the credit order
    names = _chart_names(conn, per_chart) if per_chart else {}
    charts = sorted(((chart_id, *names[chart_id], len(s["ids"]), s["entries"], s["best_position"], s["first_date"],
                      s["last_date"]) for chart_id, s in per_chart.items()),
                    key=lambda r: (-r[6], r[7], r[1], r[0]))
    out = typed_frame(rows, TRACK_COLUMNS, dict.fromkeys(("charts", "entries", "best_position", "charts_now",
                                                          "best_now"), "Int64"))
    return {"tracks": out, "counted": counted,
            "charts": typed_frame(charts, ["chart_id", *CHART_COLUMNS],
                                  dict.fromkeys(("tracks", "entries", "best_position"), "int64"))}


def _history(conn: Connection, counted: list, charts: pd.DataFrame) -> pd.DataFrame:
    """The tracks' best position per day on ``charts`` (chart_id and their names) and their entries that day:
    HISTORY_COLUMNS by chart (as ``charts`` lists them) and date."""
    if charts.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    q = (select(day_number(conn, E.c.ranking_date), E.c.chart_id, func.min(E.c.position), func.count())
         .where(*counted, among(conn, E.c.chart_id, charts["chart_id"].tolist()))
         .group_by(E.c.chart_id, E.c.ranking_date).order_by(E.c.chart_id, E.c.ranking_date))
    rows = conn.execute(q).cursor.fetchall()  # integers only: into numpy at once, each distinct day made once
    if not rows:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    days, chart_ids, position, entries = np.fromiter(chain.from_iterable(rows), dtype=np.int64,
                                                     count=4 * len(rows)).reshape(-1, 4).T
    out = charts[CHART_NAMES].take(pd.Index(charts["chart_id"]).get_indexer(chart_ids)).reset_index(drop=True)
    out.insert(0, "date", pd.Series(dates_of(days), dtype=object))
    return out.assign(position=position, entries=entries)


def _notes(conn: Connection, track_ids: list[int]) -> pd.DataFrame:
    """The annotations of the tracks (date, kind, text, the track's uuid and name), by date."""
    if not track_ids:
        return pd.DataFrame(columns=NOTE_COLUMNS)
    q = (select(N.c.date, N.c.kind, N.c.text, T.c.uuid, T.c.name).join_from(N, T, T.c.id == N.c.track_id)
         .where(among(conn, N.c.track_id, track_ids)).order_by(N.c.date, N.c.id))
    return raw_frame(conn, q, NOTE_COLUMNS, dates=["date"])


def _series(engine: Engine, artist_id: int) -> dict:
    """``{kind: {"series": {platform: frame}, "growth": {platform: growth}, "wide": aligned values}}`` for
    followers and listeners."""
    out = {}
    for kind in SERIES:
        found = artist_series.series(engine, artist_id, kind)
        out[kind] = {"series": found, "growth": {slug: audience_series.growth(frame) for slug, frame in found.items()},
                     "wide": audience_series.aligned(found)}
    return out


def artist_page(engine: Engine, uuid: str) -> dict:
    """Everything the artist page shows; ``UnknownEntity`` for an artist not stored.

    ``artist``: :func:`artist_series.artist_info`; ``tracks``: TRACK_COLUMNS (charts, entries, best position and the
    first date of it, last date on a chart, charts whose latest ranking holds it now and its best position there);
    ``charts``: CHART_COLUMNS; ``history``: HISTORY_COLUMNS on the :data:`FIGURE_CHARTS` charts with most entries;
    ``since``: the first stored ranking date (None without rankings); ``followers`` / ``listeners``: ``{"series",
    "growth", "wide"}``; ``notes``: their tracks' annotations; ``compare``: the artists a "compare with" picker
    offers. Its chart presence, series and candidates are read side by side."""
    try:
        artist = artist_series.artist_info(engine, uuid)
    except audience_series.NotStored:
        raise _not_stored(uuid) from None
    def entries() -> dict:
        with engine.connect() as conn:
            tracks = _tracks(conn, artist["id"])
            presence = _presence(conn, tracks)
            charts = presence["charts"]
            return {"tracks": presence["tracks"], "charts": charts.drop(columns="chart_id"),
                    "history": _history(conn, presence["counted"], charts.head(FIGURE_CHARTS)),
                    "since": conn.execute(select(func.min(R.c.ranking_date))).scalar(),
                    "notes": _notes(conn, tracks["track_id"].tolist())}

    read = side_by_side(engine, entries=entries, series=lambda: _series(engine, artist["id"]),
                        compare=lambda: compare_pages.artist_candidates(engine, uuid))
    return {"artist": artist, **read["entries"], **read["series"], "compare": read["compare"]}


def chart_history(engine: Engine, uuid: str) -> pd.DataFrame:
    """The artist's tracks' best position per day on every chart they were on (HISTORY_COLUMNS; the history
    download); ``UnknownEntity`` for an artist not stored."""
    with engine.connect() as conn:
        artist_id = conn.execute(select(A.c.id).where(A.c.uuid == uuid)).scalar()
        if artist_id is None:
            raise _not_stored(uuid)
        ids = conn.execute(select(TA.c.track_id).where(TA.c.artist_id == artist_id)).scalars().all()
        if not ids:
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        counted = track_positions.tracks_counted(conn, ids)
        charts = conn.execute(select(E.c.chart_id).where(*counted).distinct()).scalars().all()
        names = _chart_names(conn, charts)
        return _history(conn, counted, pd.DataFrame([(c, *names[c]) for c in sorted(names)],
                                                    columns=["chart_id", *CHART_NAMES]))


def credits(engine: Engine, track_uuids: Iterable[str]) -> dict[str, list[dict]]:
    """``{track uuid: [{"uuid", "name"} of its stored artists, in credit order]}`` (tracks without any are left
    out: their credit is only a name)."""
    if isinstance(track_uuids, pd.Series):  # its values at once: one by one, a string column boxes each
        track_uuids = track_uuids.tolist()
    uuids = sorted({u for u in track_uuids if isinstance(u, str)})
    if not uuids:
        return {}
    with engine.connect() as conn:
        q = (select(T.c.uuid, A.c.uuid, A.c.name).select_from(TA.join(T, T.c.id == TA.c.track_id)
                                                               .join(A, A.c.id == TA.c.artist_id))
             .where(among(conn, T.c.uuid, uuids)).order_by(T.c.uuid, TA.c.position, A.c.name))
        rows = conn.execute(q).all()
    out: dict[str, list[dict]] = {}
    for track, artist, name in rows:
        out.setdefault(track, []).append({"uuid": artist, "name": name})
    return out


def top_artists(engine: Engine, days: int = 30, today: date | None = None, limit: int = 10, *,
                mine: bool = False) -> pd.DataFrame:
    """Artists by the chart appearances (entries) of their stored tracks in the last ``days`` days up to ``today``
    (the overview's window, as its top tracks): uuid, name, appearances, tracks (that charted); with ``mine`` the
    roster's artists only. Read from the top-tracks rollup while it matches the stored rankings, else counted."""
    end = today or today_utc()
    start = end - timedelta(days=days - 1)
    with engine.connect() as conn:
        if rollup.is_current(conn, end, days):
            per_track = (select(TR.c.track_id, TR.c.appearances.label("n"))
                         .where(TR.c.window_end == end, TR.c.days == days, TR.c.platform_id == rollup.ALL_PLATFORMS))
        else:
            recent = select(R.c.id).where(SUCCESS, R.c.ranking_date.between(start, end))
            per_track = (select(E.c.track_id, func.count().label("n"))
                         .where(E.c.ranking_id.in_(recent), E.c.ranking_date.between(start, end))
                         .group_by(E.c.track_id))
        counts = per_track.subquery()
        n = func.sum(counts.c.n).label("appearances")
        q = (select(A.c.uuid, A.c.name, n, func.count().label("tracks"))
             .select_from(counts.join(TA, TA.c.track_id == counts.c.track_id).join(A, A.c.id == TA.c.artist_id))
             .group_by(A.c.id, A.c.uuid, A.c.name).order_by(n.desc(), A.c.name, A.c.uuid).limit(limit))
        if mine:
            q = q.where(A.c.id.in_(roster.artist_ids_query()))
        found = pd.DataFrame(conn.execute(q).all(), columns=TOP_COLUMNS)
    return found.astype({"appearances": "int64", "tracks": "int64"})
