"""What a track page reads of a song's reach (stored by ``soundcharts fetch-reach``): where it charts now, its
popularity per platform, the playlists it is on now and their count over the stored snapshots.

"Now" is each platform's latest snapshot (:mod:`soundcharts_lib.db.store_reach`): the rows of its latest day, unless
the series' last answer was empty (the song left every chart, or every playlist, there), when the platform has none.
Hostile values are read as the page can show them: a chart without a country is global, a name that is null or ""
falls back to the chart's slug or the playlist's UUID, a playlist without a follower count counts as a playlist but
adds no followers. Each function reads a handful of rows by the track's id: a few milliseconds of SQL.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Table, exists, func, select
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db.frames import as_date, query_frame
from soundcharts_lib.db.tables import PL, POP, REACH, SCHK, P, T
from soundcharts_lib.warehouse.analytics import UnknownEntity

TOP_PLAYLISTS = 10
CHART_COLUMNS = ["platform", "platform_name", "chart", "chart_name", "chart_type", "country_code", "is_global",
                 "position", "position_evolution", "peak_position", "peak_date", "rank_date", "fetched_on"]
PLAYLIST_COLUMNS = ["platform", "playlist", "playlist_uuid", "playlist_type", "country_code", "followers",
                    "position", "peak_position", "entry_date", "fetched_on"]
PLATFORM_COLUMNS = ["platform", "platform_name", "fetched_on", "playlists", "followers"]
TREND_COLUMNS = ["fetched_on", "platform", "playlists", "followers"]


def _track_id(conn: Connection, uuid: str) -> int:
    found = conn.execute(select(T.c.id).where(T.c.uuid == uuid)).scalar()
    if found is None:
        raise UnknownEntity(f"no track {uuid!r} is stored")
    return found


def _said_empty(conn: Connection, track_id: int, series: str) -> dict[int, date]:
    """``{platform id: day of the last check}`` of the platforms whose last answer for ``series`` was empty (a
    refusal since then, e.g. a 404, changes nothing of that)."""
    q = (select(SCHK.c.platform_id, SCHK.c.checked_at)
         .where(SCHK.c.subject == "track", SCHK.c.subject_id == track_id, SCHK.c.series == series,
                SCHK.c.had_data.is_(False)))
    return {pid: at.date() for pid, at in conn.execute(q)}


def _latest(conn: Connection, table: Table, series: str, track_id: int, columns) -> pd.DataFrame:
    """The rows of each platform's latest snapshot (``columns`` of ``table`` and the platform's slug and name)."""
    days = (select(table.c.platform_id, func.max(table.c.fetched_on).label("day"))
            .where(table.c.track_id == track_id).group_by(table.c.platform_id).subquery())
    q = (select(P.c.slug.label("platform"), P.c.name.label("platform_name"), table.c.platform_id, *columns)
         .join(days, (days.c.platform_id == table.c.platform_id) & (days.c.day == table.c.fetched_on))
         .join(P, P.c.id == table.c.platform_id).where(table.c.track_id == track_id))
    frame = query_frame(conn, q)
    empty = _said_empty(conn, track_id, series)
    return frame[~frame["platform_id"].isin(list(empty))].drop(columns="platform_id").reset_index(drop=True)


def _dates(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = frame[name].map(lambda d: None if d is None or d is pd.NaT else as_date(d))
    return frame


def _named(values: pd.Series, fallback: pd.Series) -> pd.Series:
    """``values`` with null and blank names replaced by ``fallback``."""
    blank = values.isna() | (values.astype("string").str.strip() == "")
    return values.where(~blank, fallback)


def _global(frame: pd.DataFrame) -> pd.Series:
    """Whether each row is global (no country, or a blank one); ``country_code`` is None there."""
    codes = frame["country_code"]
    blank = (codes.isna() | (codes.astype("string").str.strip() == "")).astype(bool)
    frame["country_code"] = pd.Series([None if no else code for code, no in zip(codes, blank, strict=True)],
                                      index=frame.index, dtype=object)
    return blank


def charting_now(engine: Engine, uuid: str) -> pd.DataFrame:
    """Where the song charts now, on every chart the API knows of its platforms: platform, platform_name, chart
    (slug), chart_name, chart_type, country_code (None: a global chart), is_global, position, position_evolution,
    peak_position, peak_date, rank_date, fetched_on; best position first. Entries at position 0 (no longer in the
    chart) are left out. ``UnknownEntity`` for a track not stored."""
    columns = [REACH.c.chart_slug.label("chart"), REACH.c.chart_name, REACH.c.chart_type, REACH.c.country_code,
               REACH.c.position, REACH.c.position_evolution, REACH.c.peak_position, REACH.c.peak_date,
               REACH.c.rank_date, REACH.c.fetched_on]
    with engine.connect() as conn:
        frame = _latest(conn, REACH, "charts", _track_id(conn, uuid), columns)
    frame = frame[frame["position"] > 0].astype({c: "Int64" for c in ("position", "position_evolution",
                                                                       "peak_position")})
    frame["chart_name"] = _named(frame["chart_name"], frame["chart"])
    frame["is_global"] = _global(frame)
    frame = _dates(frame, "peak_date", "rank_date", "fetched_on")
    frame = frame.sort_values(["position", "platform", "chart"], kind="stable").reset_index(drop=True)
    return frame.reindex(columns=CHART_COLUMNS)


def popularity(engine: Engine, uuid: str, platforms: list[str] | None = None, *, start: date | None = None,
               end: date | None = None) -> dict[str, pd.DataFrame]:
    """``{platform: frame(date, value)}`` of the song's stored popularity from ``start`` to ``end`` (missing days
    stay missing), on ``platforms`` (default: every platform holding some). ``UnknownEntity`` for a track not
    stored."""
    with engine.connect() as conn:
        q = (select(P.c.slug, POP.c.date, POP.c.value).join(P, P.c.id == POP.c.platform_id)
             .where(POP.c.track_id == _track_id(conn, uuid)).order_by(P.c.slug, POP.c.date))
        if platforms is not None:
            q = q.where(P.c.slug.in_(list(platforms)))
        if start is not None:
            q = q.where(POP.c.date >= start)
        if end is not None:
            q = q.where(POP.c.date <= end)
        rows = conn.execute(q).all()
    out: dict[str, list] = {}
    for slug, day, value in rows:
        out.setdefault(slug, []).append((as_date(day), value))
    return {slug: pd.DataFrame(points, columns=["date", "value"]) for slug, points in out.items()}


def playlists_now(engine: Engine, uuid: str, top: int | None = TOP_PLAYLISTS) -> dict:
    """The playlists the song is on now: ``count`` (playlists), ``followers`` (their followers summed, the
    audience they reach), ``platforms`` (per platform: platform, platform_name, fetched_on, playlists, followers)
    and ``top`` (the ``top`` biggest by followers, every one with None: platform, playlist (its name),
    playlist_uuid, playlist_type, country_code (None: a global playlist), followers, position, peak_position,
    entry_date, fetched_on).
    ``UnknownEntity`` for a track not stored."""
    columns = [PL.c.playlist_uuid, PL.c.playlist_name.label("playlist"), PL.c.playlist_type, PL.c.country_code,
               PL.c.subscribers.label("followers"), PL.c.position, PL.c.peak_position, PL.c.entry_date,
               PL.c.fetched_on]
    with engine.connect() as conn:
        frame = _latest(conn, PL, "playlists", _track_id(conn, uuid), columns)
    frame["playlist"] = _named(frame["playlist"], frame["playlist_uuid"])
    _global(frame)
    frame = frame.astype({c: "Int64" for c in ("followers", "position", "peak_position")})
    frame = _dates(frame, "entry_date", "fetched_on")
    per_platform = (frame.groupby(["platform", "platform_name", "fetched_on"], as_index=False)
                    .agg(playlists=("playlist_uuid", "size"), followers=("followers", "sum"))
                    .sort_values(["playlists", "platform"], ascending=[False, True], kind="stable"))
    ranked = frame.sort_values(["followers", "platform", "playlist_uuid"], ascending=[False, True, True],
                               na_position="last", kind="stable")
    ranked = ranked if top is None else ranked.head(top)
    return {"count": len(frame), "followers": int(frame["followers"].sum()),
            "platforms": per_platform.reset_index(drop=True).reindex(columns=PLATFORM_COLUMNS),
            "top": ranked.reset_index(drop=True).reindex(columns=PLAYLIST_COLUMNS)}


def playlist_trend(engine: Engine, uuid: str) -> pd.DataFrame:
    """Playlists per stored snapshot: fetched_on, platform, playlists, followers (their followers summed); a
    platform whose last answer was empty ends with 0 on the day of its last check. By platform and day.
    ``UnknownEntity`` for a track not stored."""
    with engine.connect() as conn:
        track_id = _track_id(conn, uuid)
        q = (select(PL.c.fetched_on, P.c.slug.label("platform"), func.count().label("playlists"),
                    func.coalesce(func.sum(PL.c.subscribers), 0).label("followers"))
             .join(P, P.c.id == PL.c.platform_id).where(PL.c.track_id == track_id)
             .group_by(PL.c.fetched_on, P.c.slug))
        frame = query_frame(conn, q)
        empty = _said_empty(conn, track_id, "playlists")
        slugs = dict(conn.execute(select(P.c.id, P.c.slug).where(P.c.id.in_(list(empty)))).all()) if empty else {}
    frame = _dates(frame, "fetched_on")
    last = frame.groupby("platform")["fetched_on"].max().to_dict() if len(frame) else {}
    ends = [{"fetched_on": day, "platform": slugs[pid], "playlists": 0, "followers": 0}
            for pid, day in empty.items() if slugs[pid] in last and day > last[slugs[pid]]]
    frame = pd.concat([frame, pd.DataFrame(ends, columns=TREND_COLUMNS)]) if ends else frame
    return frame.sort_values(["platform", "fetched_on"], kind="stable").reset_index(drop=True)[TREND_COLUMNS]


def track_reach(engine: Engine, uuid: str) -> dict:
    """The song's stored reach as its track page shows it: ``charts`` (:func:`charting_now`), ``popularity``
    (:func:`popularity`), ``playlists`` (:func:`playlists_now`) and ``trend`` (:func:`playlist_trend`); a part whose
    table holds no row of the song is its empty value without reading it (most tracks are never fetched).
    ``UnknownEntity`` for a track not stored."""
    with engine.connect() as conn:  # the track and which parts hold some of it, in one statement
        found = conn.execute(select(T.c.id, *(exists().where(table.c.track_id == T.c.id) for table in (REACH, POP, PL)))
                             .where(T.c.uuid == uuid)).first()
    if found is None:
        raise UnknownEntity(f"no track {uuid!r} is stored")
    charts, popular, listed = found[1:]
    no_playlists = {"count": 0, "followers": 0, "platforms": pd.DataFrame(columns=PLATFORM_COLUMNS),
                    "top": pd.DataFrame(columns=PLAYLIST_COLUMNS)}
    return {"charts": charting_now(engine, uuid) if charts else pd.DataFrame(columns=CHART_COLUMNS),
            "popularity": popularity(engine, uuid) if popular else {},
            "playlists": playlists_now(engine, uuid) if listed else no_playlists,
            "trend": playlist_trend(engine, uuid) if listed else pd.DataFrame(columns=TREND_COLUMNS)}
