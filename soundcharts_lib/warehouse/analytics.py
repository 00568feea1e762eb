"""Read-only queries behind dashboards, notebooks, endpoints and exports (SQL -> DataFrame or dict).

Dates are the charts' own ranking dates; "today" defaults to the current UTC date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db import chart_rollup, rollup
from soundcharts_lib.db.frames import as_date, query_frame
from soundcharts_lib.db.tables import SUCCESS, TA, TPI, TRW, A, C, E, P, R, T
from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse import audience_series, health, track_positions, trends
from soundcharts_lib.warehouse.side_by_side import side_by_side


class UnknownEntity(SoundchartsError, LookupError):
    """A platform, chart or track that is not stored (the message is one line)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not stored"


def _window(days: int, today: date | None) -> tuple[date, date]:
    end = today or today_utc()
    return end - timedelta(days=days - 1), end


def rankings_per_day(engine: Engine, days: int = 7, today: date | None = None) -> pd.DataFrame:
    """Successful rankings per ranking date over the last ``days`` days, zero-filled: columns date, rankings."""
    start, end = _window(days, today)
    q = (select(R.c.ranking_date.label("date"), func.count().label("rankings"))
         .where(R.c.status == "success", R.c.ranking_date.between(start, end))
         .group_by(R.c.ranking_date))
    with engine.connect() as conn:
        counts = {d: n for d, n in conn.execute(q)}
    dates = [start + timedelta(days=i) for i in range(days)]
    return pd.DataFrame({"date": dates, "rankings": [int(counts.get(d, 0)) for d in dates]})


def week_comparison(engine: Engine, today: date | None = None, *, per_day: pd.DataFrame | None = None) -> dict:
    """Rankings of the last 7 days vs the 7 before, with the % change (None when the earlier week is 0);
    ``per_day``: :func:`rankings_per_day` of those 14 days when already read."""
    series = (rankings_per_day(engine, days=14, today=today) if per_day is None else per_day)["rankings"]
    previous, this = int(series.iloc[:7].sum()), int(series.iloc[7:].sum())
    change = round((this - previous) / previous * 100, 1) if previous else None
    return {"this_week": this, "previous_week": previous, "change_pct": change}


def top_platforms(engine: Engine, days: int = 30, today: date | None = None, limit: int = 10) -> pd.DataFrame:
    """Platforms by successful rankings in the last ``days`` days: slug, name, rankings.

    Counted by the top-tracks rollup's windows (each platform's rankings, as it was built from them) while it
    matches the stored rankings, else counted here."""
    start, end = _window(days, today)
    with engine.connect() as conn:
        if rollup.is_current(conn, end, days):
            q = (select(P.c.slug, P.c.name, TRW.c.rankings).join_from(TRW, P, P.c.id == TRW.c.platform_id)
                 .where(TRW.c.window_end == end, TRW.c.days == days, TRW.c.rankings > 0)
                 .order_by(TRW.c.rankings.desc(), P.c.slug).limit(limit))
            return _frame(conn, q)
        n = func.count(R.c.id).label("rankings")
        q = (select(P.c.slug, P.c.name, n)
             .select_from(R.join(C, C.c.id == R.c.chart_id).join(P, P.c.id == C.c.platform_id))
             .where(R.c.status == "success", R.c.ranking_date.between(start, end))
             .group_by(P.c.slug, P.c.name).order_by(n.desc(), P.c.slug).limit(limit))
        return _frame(conn, q)


def top_tracks(engine: Engine, days: int = 30, today: date | None = None, limit: int = 10) -> pd.DataFrame:
    """Tracks by chart appearances (entries) in the last ``days`` days: uuid, name, artist, appearances.

    Read from the top-tracks rollup (``db/rollup.py``) while it matches the stored rankings, else counted."""
    start, end = _window(days, today)
    with engine.connect() as conn:
        if rollup.is_current(conn, end, days):
            return _frame(conn, rollup.top_query(end, days, limit))[["uuid", "name", "artist", "appearances"]]
        recent = (select(R.c.id).where(R.c.status == "success", R.c.ranking_date.between(start, end))
                  .scalar_subquery())
        counts = (select(E.c.track_id, func.count().label("appearances"))  # the entry's own date prunes partitions
                  .where(E.c.ranking_id.in_(recent), E.c.ranking_date.between(start, end))
                  .group_by(E.c.track_id).subquery())
        q = (select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"), counts.c.appearances)
             .join_from(counts, T, T.c.id == counts.c.track_id)
             .order_by(counts.c.appearances.desc(), T.c.name, T.c.uuid).limit(limit))
        return _frame(conn, q)


def chart_health_summary(engine: Engine) -> dict:
    """Active charts, all charts and the % active."""
    q = select(func.count().label("total"),
               func.count().filter(C.c.is_active.is_(True)).label("active"))
    with engine.connect() as conn:
        total, active = conn.execute(q).one()
    pct = round(active / total * 100, 1) if total else None
    return {"active": int(active), "total": int(total), "pct_active": pct}


def warehouse_summary(engine: Engine) -> dict:
    """How much is stored: platforms, charts, rankings, entries, tracks, and the ranking date range."""
    q = select(
        select(func.count()).select_from(P).scalar_subquery().label("platforms"),
        select(func.count()).select_from(C).scalar_subquery().label("charts"),
        select(func.count()).select_from(R).where(R.c.status == "success").scalar_subquery().label("rankings"),
        select(func.count()).select_from(E).scalar_subquery().label("entries"),
        select(func.count()).select_from(T).scalar_subquery().label("tracks"),
        select(func.min(R.c.ranking_date)).scalar_subquery().label("first_date"),
        select(func.max(R.c.ranking_date)).scalar_subquery().label("last_date"),
    )
    with engine.connect() as conn:
        return dict(conn.execute(q).one()._mapping)


def chart_list(engine: Engine, platform: str | None = None) -> pd.DataFrame:
    """Charts with their platform, country, frequency, activity and last ranking date."""
    q = (select(C.c.slug, C.c.name, P.c.slug.label("platform"), C.c.country_code, C.c.frequency, C.c.is_active,
                C.c.last_ranking_date)
         .join_from(C, P, P.c.id == C.c.platform_id).order_by(P.c.slug, C.c.slug))
    if platform:
        q = q.where(P.c.slug == platform)
    return _frame(engine, q)


def chart_ranking(engine: Engine, slug: str, on: date | None = None) -> pd.DataFrame:
    """One stored ranking of a chart (the latest stored unless ``on``) as the API gave it, by position."""
    chart_id = select(C.c.id).where(C.c.slug == slug).scalar_subquery()
    when = on or select(func.max(R.c.ranking_date)).where(R.c.chart_id == chart_id,
                                                          R.c.status == "success").scalar_subquery()
    q = (select(R.c.ranking_date.label("date"), E.c.position, T.c.uuid, T.c.name,
                func.coalesce(T.c.credit_name, "").label("artist"), E.c.old_position, E.c.position_evolution,
                E.c.entry_state, E.c.time_on_chart, E.c.metric)
         .select_from(E.join(R, R.c.id == E.c.ranking_id).join(T, T.c.id == E.c.track_id))
         .where(R.c.chart_id == chart_id, R.c.ranking_date == when, R.c.status == "success")
         .order_by(E.c.position))
    return _frame(engine, q)


def has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(R.c.id).limit(1)).first() is not None


def overview(engine: Engine, today: date | None = None, now: datetime | None = None) -> dict:
    """Everything the overview page shows, in one call (``now``: naive UTC, for the system status): its reads in three
    lanes side by side (the database works on one while Python builds another's frames; a connection a lane, not one
    a read, which a fresh kernel would open each). The top tracks, the lane with most database time, have their own:
    at 62.9M entries 37.9 -> 32.1 ms on one table, 37.6 -> 34.0 on partitions (two lanes -> three, taking turns)."""
    def rankings() -> dict:
        fortnight = rankings_per_day(engine, 14, today)  # this week's days are the last 7
        return {"has_data": has_data(engine), "per_day": fortnight.tail(7).reset_index(drop=True),
                "weeks": week_comparison(engine, today, per_day=fortnight),
                "platforms": top_platforms(engine, 30, today)}

    def charts() -> dict:
        return {"health": chart_health_summary(engine), "attention": health.charts_needing_attention(engine, today),
                "status": health.system_status(engine, now)}

    lanes = side_by_side(engine, rankings=rankings, tracks=lambda: {"tracks": top_tracks(engine, 30, today)},
                         charts=charts)
    return {**lanes["rankings"], **lanes["tracks"], **lanes["charts"]}


def _frame(db: Engine | Connection, query) -> pd.DataFrame:
    if isinstance(db, Engine):
        with db.connect() as conn:
            return _frame(conn, query)
    return query_frame(db, query)


# -- platform page --------------------------------------------------------------------------------------------

def platform_info(engine: Engine, slug: str) -> dict:
    """slug, name, supports_charts, supports_audience, audience_metric; ``UnknownEntity`` when not stored."""
    q = select(P.c.slug, P.c.name, P.c.supports_charts, P.c.supports_audience, P.c.audience_metric).where(
        P.c.slug == slug)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise UnknownEntity(f"no platform {slug!r} is stored")
    return dict(row._mapping)


def platform_rankings_per_day(engine: Engine, slug: str, days: int = 30, today: date | None = None) -> pd.DataFrame:
    """Rankings of the platform's charts per ranking date, zero-filled: date, stored, failed."""
    start, end = _window(days, today)
    q = (select(R.c.ranking_date, func.count().filter(R.c.status == "success"),
                func.count().filter(R.c.status != "success"))
         .select_from(R.join(C, C.c.id == R.c.chart_id).join(P, P.c.id == C.c.platform_id))
         .where(P.c.slug == slug, R.c.ranking_date.between(start, end)).group_by(R.c.ranking_date))
    with engine.connect() as conn:
        counts = {d: (ok, bad) for d, ok, bad in conn.execute(q)}
    dates = [start + timedelta(days=i) for i in range(days)]
    return pd.DataFrame({"date": dates, "stored": [int(counts.get(d, (0, 0))[0]) for d in dates],
                         "failed": [int(counts.get(d, (0, 0))[1]) for d in dates]})


def platform_top_tracks(engine: Engine, slug: str, days: int = 30, today: date | None = None,
                        limit: int = 20) -> pd.DataFrame:
    """Tracks by appearances on the platform's charts in the last ``days`` days: uuid, name, artist, appearances,
    best_position, charts. Read from the top-tracks rollup while it matches the stored rankings, else counted."""
    start, end = _window(days, today)
    with engine.connect() as conn:
        platform_id = conn.execute(select(P.c.id).where(P.c.slug == slug)).scalar()
        if platform_id is not None and rollup.is_current(conn, end, days, platform_id):
            return _frame(conn, rollup.top_query(end, days, limit, platform_id, by_position=True))
        recent = (select(R.c.id).join(C, C.c.id == R.c.chart_id)
                  .where(C.c.platform_id == platform_id, R.c.status == "success",
                         R.c.ranking_date.between(start, end)).subquery())
        counts = (select(E.c.track_id, func.count().label("appearances"),
                         func.min(E.c.position).label("best_position"),
                         func.count(func.distinct(R.c.chart_id)).label("charts"))
                  .join(R, R.c.id == E.c.ranking_id)
                  .where(E.c.ranking_id.in_(select(recent.c.id)), E.c.ranking_date.between(start, end))
                  .group_by(E.c.track_id).subquery())
        q = (select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"), counts.c.appearances,
                    counts.c.best_position, counts.c.charts)
             .join_from(counts, T, T.c.id == counts.c.track_id)
             .order_by(counts.c.appearances.desc(), counts.c.best_position, T.c.name, T.c.uuid).limit(limit))
        return _frame(conn, q)


def platform_page(engine: Engine, slug: str, today: date | None = None) -> dict:
    """Everything the platform page shows: the platform, its charts' health, rankings per day, top tracks."""
    return {
        "platform": platform_info(engine, slug),
        "charts": health.chart_health(engine, platform=slug, today=today),
        "per_day": platform_rankings_per_day(engine, slug, 30, today),
        "tracks": platform_top_tracks(engine, slug, 30, today),
    }


# -- chart page -----------------------------------------------------------------------------------------------

def chart_info(engine: Engine, slug: str) -> dict:
    """A chart's fields with its platform's slug and name; ``UnknownEntity`` when not stored."""
    q = (select(C.c.slug, C.c.name, P.c.slug.label("platform"), P.c.name.label("platform_name"), C.c.type,
                C.c.frequency, C.c.country_code, C.c.country_name, C.c.city_name, C.c.max_results, C.c.web_url,
                C.c.metric_type, C.c.metric_description, C.c.is_active, C.c.last_ranking_date, C.c.last_success_at,
                C.c.last_error, C.c.consecutive_failures)
         .join_from(C, P, P.c.id == C.c.platform_id).where(C.c.slug == slug))
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise UnknownEntity(f"no chart {slug!r} is stored")
    return dict(row._mapping)


def chart_dates(engine: Engine, slug: str) -> list[date]:
    """The chart's successfully stored ranking dates, ascending (one indexed query)."""
    q = (select(R.c.ranking_date).join(C, C.c.id == R.c.chart_id)
         .where(C.c.slug == slug, SUCCESS).order_by(R.c.ranking_date))
    with engine.connect() as conn:  # years of daily dates: the driver's values, no per-row processing
        return [as_date(day) for (day,) in conn.execute(q).cursor.fetchall()]


def chart_page(engine: Engine, slug: str, on: date | None = None) -> dict:
    """The chart, its stored dates, the ranking of ``on`` (default: the latest) with trends, and its movers.

    ``stored`` is False when ``on`` has no stored ranking (then the frames are empty).
    """
    info = chart_info(engine, slug)
    dates = chart_dates(engine, slug)
    when = on or (dates[-1] if dates else None)
    stored = when is not None and when in dates
    if stored:  # the ranking with its trends and the movers, from one read of the chart
        return {"chart": info, "dates": dates, "date": when, "stored": True, **trends.chart_movers(engine, slug, when)}
    empty = pd.DataFrame(columns=trends.TREND_COLUMNS)
    return {"chart": info, "dates": dates, "date": when, "stored": False, "ranking": empty, "climbers": empty,
            "fallers": empty, "new_entries": empty, "dropouts": pd.DataFrame(columns=trends.DROPOUT_COLUMNS)}


# -- track page -----------------------------------------------------------------------------------------------

def track_details(engine: Engine, uuid: str) -> dict:
    """Metadata, ``artists`` (list of dicts: uuid, name, app_url) and ``identifiers`` (frame: platform,
    identifier, url, is_default); ``UnknownEntity`` when not stored."""
    with engine.connect() as conn:
        return _details(conn, uuid)


def _details(conn: Connection, uuid: str) -> dict:
    q = select(T.c.id, T.c.uuid, T.c.name, T.c.credit_name, T.c.isrc, T.c.release_date, T.c.duration, T.c.explicit,
               T.c.genres, T.c.labels, T.c.metadata_fetched_at).where(T.c.uuid == uuid)
    artists = (select(A.c.uuid, A.c.name, A.c.app_url).join(TA, TA.c.artist_id == A.c.id)
               .join(T, T.c.id == TA.c.track_id).where(T.c.uuid == uuid).order_by(TA.c.position, A.c.name))
    idents = (select(TPI.c.platform_code.label("platform"), TPI.c.identifier, TPI.c.url, TPI.c.is_default)
              .join(T, T.c.id == TPI.c.track_id).where(T.c.uuid == uuid)
              .order_by(TPI.c.platform_code, TPI.c.is_default.desc(), TPI.c.identifier))
    row = conn.execute(q).first()
    if row is None:
        raise UnknownEntity(f"no track {uuid!r} is stored")
    found = [dict(r._mapping) for r in conn.execute(artists)]
    out = dict(row._mapping)
    out.pop("id")
    return {**out, "artists": found, "identifiers": _frame(conn, idents)}


TRACK_CHART_COLUMNS = ["chart", "chart_name", "platform", "country_code", "first_date", "last_date", "appearances",
                       "peak_position", "last_position"]


def _track_id(uuid: str):
    return select(T.c.id).where(T.c.uuid == uuid).scalar_subquery()


def track_chart_history(engine: Engine, uuid: str) -> pd.DataFrame:
    """Every stored chart position of a track: date, chart, chart_name, platform, country_code, position, ordered
    by chart and date."""
    with engine.connect() as conn:
        return track_positions.read(conn, track_positions.counted(conn, uuid), None, None)


def positions_on(engine: Engine, uuid: str, charts: pd.DataFrame) -> pd.DataFrame:
    """A track's positions on some of its charts, ``charts`` being rows of :func:`track_charts` read with their
    ids: as :func:`track_chart_history` gives them, read from those charts' months only
    (:func:`.track_positions.chart_span`)."""
    with engine.connect() as conn:
        return track_positions.positions(conn, track_positions.counted(conn, uuid), charts)


def track_charts(engine: Engine, uuid: str, *, ids: bool = False) -> pd.DataFrame:
    """One row per chart the track has been on: chart, chart_name, platform, country_code, first_date,
    last_date, appearances, peak_position, last_position (its position on last_date); most appearances first.
    With ``ids``, each chart's ``chart_id`` first (for :func:`positions_on`), then :data:`NOW_EXTRA`: its platform's
    and country's names and ``charting_now``, 1 when the chart's latest ranking holds the track (its last date there
    is the chart's ``last_ranking_date``, the newest successful ranking's), else 0."""
    with engine.connect() as conn:
        found = _charts(conn, uuid, None, now=ids)
    return found if ids else found.drop(columns="chart_id")


NOW_EXTRA = ["platform_name", "country_name", "charting_now"]


def _charts(conn: Connection, uuid: str, counted: list | None, *, now: bool = False) -> pd.DataFrame:
    """:func:`track_charts` with each chart's ``chart_id`` first (and with ``now`` :data:`NOW_EXTRA` last): the
    track-chart rollup's rows, and for the charts whose rankings changed since it was refreshed (none after a sync)
    the counted entries (``counted``: read when None) summed up in SQL: a year-long hit's tens of thousands of entries
    never leave the database."""
    columns = ["chart_id", "first_date", "last_date", "appearances", "peak_position", "last_position"]
    rows = chart_rollup.summaries(conn, lambda track: track == _track_id(uuid),
                                  lambda: counted or track_positions.counted(conn, uuid), peak_date=False)
    per_chart = rows.subquery()
    extra = [P.c.name.label("platform_name"), C.c.country_name,
             case((chart_rollup.on_latest(per_chart.c.last_date), 1), else_=0).label("charting_now")] if now else []
    q = (select(per_chart.c.chart_id, C.c.slug.label("chart"), C.c.name.label("chart_name"),
                P.c.slug.label("platform"), C.c.country_code, *(per_chart.c[c] for c in columns[1:]), *extra)
         .join_from(per_chart, C, C.c.id == per_chart.c.chart_id).join(P, P.c.id == C.c.platform_id)
         .order_by(per_chart.c.appearances.desc(), per_chart.c.peak_position, C.c.slug))
    found = _frame(conn, q)
    empty = ["chart_id", *TRACK_CHART_COLUMNS, *(NOW_EXTRA if now else [])]
    return found if len(found) else pd.DataFrame(columns=empty)


NOW_COLUMNS = ["chart", "chart_name", "platform", "platform_name", "country_code", "country_name", "date", "position"]


def track_charting_now(engine: Engine, uuid: str) -> pd.DataFrame:
    """Charts whose latest stored ranking holds the track: chart, chart_name, platform, platform_name,
    country_code, country_name, date, position; by position."""
    with engine.connect() as conn:
        return _now_of(_charts(conn, uuid, None, now=True))


def _now_of(charts: pd.DataFrame) -> pd.DataFrame:
    """:func:`track_charting_now` from the track's charts read with ``now`` (:func:`_charts`): the rows whose last
    date is their chart's latest ranking's, their last date and position."""
    rows = [row for row in zip(*(charts[c].tolist() for c in [*NOW_COLUMNS[:-2], "last_date", "last_position",
                                                               "charting_now"]), strict=True) if int(row[-1]) == 1]
    rows.sort(key=lambda row: (int(row[-2]), row[0]))  # by position, then chart (a few dozen rows: no frame sort)
    columns = list(zip(*rows, strict=True)) or [()] * (len(NOW_COLUMNS) + 1)
    return pd.DataFrame({**{c: list(columns[k]) for k, c in enumerate(NOW_COLUMNS[:-2])},
                         "date": [as_date(day) for day in columns[-3]],
                         "position": [int(p) for p in columns[-2]]}, columns=NOW_COLUMNS)


def track_audience(engine: Engine, uuid: str, platforms: list[str] | None = None, *, start: date | None = None,
                   end: date | None = None, limit: int | None = None) -> dict:
    """A track's audience on ``platforms`` (default: every platform holding some).

    ``series``: ``{platform: frame(date, value, daily_change)}`` from ``start`` to ``end``, the most recent
    ``limit`` points each; ``wide``: their values aligned by date; ``growth``: ``{platform: {7|28|90: ...}}``
    up to ``end`` (see :func:`soundcharts_lib.warehouse.audience_series.growth`); ``available``: platforms with data.
    """
    try:
        if platforms is None:  # every platform holding some: which they are is read once, with the series
            history = audience_series.audience_by_platform(engine, uuid, end=end)
            available = chosen = list(history)
        else:
            available = audience_series.audience_platforms(engine, uuid)
            chosen = list(platforms)
            history = audience_series.audience_by_platform(engine, uuid, chosen, end=end)
    except audience_series.NotStored as exc:
        raise UnknownEntity(str(exc)) from None
    series = {}
    for slug, frame in history.items():
        shown = frame[frame["date"] >= start] if start else frame
        series[slug] = (shown.tail(limit) if limit else shown).reset_index(drop=True)
    return {"available": available, "platforms": chosen, "series": series,
            "wide": audience_series.aligned(series),
            "growth": {slug: audience_series.growth(frame) for slug, frame in history.items()}}


def track_page(engine: Engine, uuid: str, *, platforms: list[str] | None = None, start: date | None = None,
               end: date | None = None, limit: int | None = None, history_charts: int | None = None) -> dict:
    """Everything the track page shows: details, its charts, chart history, where it charts now, audience.

    ``history`` holds every stored position, or with ``history_charts`` only those on that many of its charts
    (the first of ``charts``: most appearances), as a figure shows them. Its charts (with where it charts now among
    them) and its audience are read side by side; an audience that cannot be summed
    (``audience_series.OutOfRange``) comes back with ``error`` and no series."""
    def entries() -> dict:
        with engine.connect() as conn:  # the counted entries read once for the charts and their history
            details = _details(conn, uuid)
            counted = track_positions.counted(conn, uuid)
            charts = _charts(conn, uuid, counted, now=True)  # where it charts now is among them
            drawn = charts if history_charts is None else charts.head(history_charts)
            history = track_positions.positions(conn, counted, drawn, every=len(drawn) == len(charts))
        return {"track": details, "history": history, "charts": charts[TRACK_CHART_COLUMNS], "now": _now_of(charts)}

    def audience() -> dict:  # an audience that cannot be summed is said in its card; the rest of the page shows
        try:
            return track_audience(engine, uuid, platforms, start=start, end=end, limit=limit)
        except audience_series.OutOfRange as exc:
            return {"available": audience_series.audience_platforms(engine, uuid), "platforms": [], "series": {},
                    "wide": pd.DataFrame(), "growth": {}, "error": exc}

    read = side_by_side(engine, entries=entries, audience=audience)
    return {**read.pop("entries"), **read}
