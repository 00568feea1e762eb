"""Read queries behind the admin pages (charts, rankings, entries, tracks, runs) and the progress of admin
actions. Like :mod:`soundcharts_lib.warehouse.analytics`: SQL in, DataFrames or dicts out, ``UnknownEntity`` for what is
not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, distinct, func, or_, select, true
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.db.runs import INTERRUPTED, RUNNING
from soundcharts_lib.db.tables import AUD, CHECK, RUN, C, E, P, R, T
from soundcharts_lib.warehouse import artist_pages, health, trends
from soundcharts_lib.warehouse.analytics import UnknownEntity, chart_info, track_details

CHART_STATES = ("ok", "failing", "stale", "inactive")
RANKINGS_SHOWN = 500
TRACKS_SHOWN = 200
RUNS_SHOWN = 200


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        return _frame_on(conn, query)


def _frame_on(conn: Connection, query) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# -- charts -------------------------------------------------------------------------------------------------

def chart_state(row: pd.Series) -> str:
    """inactive, failing (consecutive failures), stale (no recent ranking) or ok."""
    if not row["is_active"]:
        return "inactive"
    if row["consecutive_failures"]:
        return "failing"
    return "stale" if row["stale"] else "ok"


def charts(engine: Engine, *, platform: str | None = None, country: str | None = None,
           state: str | None = None) -> pd.DataFrame:
    """Every chart with its health (see :func:`soundcharts_lib.warehouse.health.chart_health`) and ``state``;
    ``country`` is a country code, or ``"-"`` for charts without one (global)."""
    frame = health.chart_health(engine, platform=platform)
    frame["state"] = [chart_state(row) for _, row in frame.iterrows()] if len(frame) else []
    if country == "-":
        frame = frame[frame["country_code"].isna()]
    elif country:
        frame = frame[frame["country_code"] == country]
    if state:
        frame = frame[frame["state"] == state]
    return frame.reset_index(drop=True)


def chart_filters(engine: Engine) -> dict[str, list[str]]:
    """The values the chart filters offer: ``platforms`` and ``countries`` (codes) that have charts."""
    with engine.connect() as conn:
        platforms = conn.execute(select(P.c.slug).distinct().join(C, C.c.platform_id == P.c.id)
                                 .order_by(P.c.slug)).scalars().all()
        countries = conn.execute(select(C.c.country_code).distinct().where(C.c.country_code.is_not(None))
                                 .order_by(C.c.country_code)).scalars().all()
    return {"platforms": list(platforms), "countries": list(countries)}


def chart_rankings(engine: Engine, slug: str, limit: int = RANKINGS_SHOWN) -> dict:
    """A chart (``chart``), its newest ``limit`` rankings (``rankings``: ranking_date, fetched_at, status,
    entry_count, error) and how many it has in all (``total``, ``failed``)."""
    info = chart_info(engine, slug)
    chart_id = select(C.c.id).where(C.c.slug == slug).scalar_subquery()
    q = (select(R.c.ranking_date, R.c.fetched_at, R.c.status, R.c.entry_count, R.c.error)
         .where(R.c.chart_id == chart_id).order_by(R.c.ranking_date.desc()).limit(limit))
    counts = (select(func.count(), func.count().filter(R.c.status != "success"))
              .where(R.c.chart_id == chart_id))
    with engine.connect() as conn:
        total, failed = conn.execute(counts).one()
    return {"chart": info, "rankings": _frame(engine, q), "total": total, "failed": failed}


ENTRY_COLUMNS = ["position", "previous_position", "movement", "status", "status_from", "entry_state", "on_chart",
                 "on_chart_unit", "on_chart_from", "entry_date", "uuid", "name", "artist", "metric",
                 "metadata_fetched_at"]


def ranking_entries(engine: Engine, slug: str, on: date | None = None) -> dict:
    """One ranking of a chart, ``on`` a date or the newest (``ranking``: ranking_date, fetched_at, status,
    entry_count, error), its ``chart``, its ``entries`` by position, its ``dropouts`` and ``dropouts_from`` (and the
    ``credits`` of their tracks, :func:`artist_pages.credits`), as
    :func:`warehouse.trends.ranking_entries` reads them (the chart page reads the same): ``ENTRY_COLUMNS``,
    where entry_state is the API's word as stored (status is what it means) and metadata_fetched_at the track's."""
    info = chart_info(engine, slug)
    q = (select(R.c.id, R.c.ranking_date, R.c.fetched_at, R.c.status, R.c.entry_count, R.c.error)
         .join(C, C.c.id == R.c.chart_id).where(C.c.slug == slug)
         .where(R.c.ranking_date == on if on else true()).order_by(R.c.ranking_date.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(q).first()
        if row is None:
            raise UnknownEntity(f"no ranking of {slug!r}{f' on {on:%Y-%m-%d}' if on else ''} is stored")
        pairs = trends.ranking_pairs(conn, on=row.ranking_date, chart=slug)
        read = trends.ranking_entries(conn, pairs[pairs["current"] == row.id])
        stored = (select(E.c.position, E.c.entry_state, T.c.metadata_fetched_at)
                  .join(T, T.c.id == E.c.track_id).where(E.c.ranking_id == row.id))
        entries = read.entries.merge(_frame_on(conn, stored), on="position", how="left")
    ranking = dict(row._mapping)
    ranking.pop("id")
    return {"chart": info, "ranking": ranking, "entries": entries[ENTRY_COLUMNS],
            "dropouts": read.dropouts[trends.DROPOUT_COLUMNS],
            "dropouts_from": trends.FROM_API if read.sent_dropouts else trends.STORED_HISTORY,
            "credits": artist_pages.credits(engine, [*entries["uuid"], *read.dropouts["uuid"]])}


# -- tracks -------------------------------------------------------------------------------------------------

def audience_platforms(engine: Engine) -> list[tuple[str, str]]:
    """``(slug, name)`` of the platforms known to have song audience (recorded by audience runs)."""
    q = select(P.c.slug, P.c.name).where(P.c.supports_audience.is_(True)).order_by(P.c.slug)
    with engine.connect() as conn:
        return [(r.slug, r.name) for r in conn.execute(q)]


def audience_status(engine: Engine, uuid: str) -> pd.DataFrame:
    """Per audience platform (and any other holding points of the track): platform, name, identifiers,
    first_date, last_date, days, gaps (missing days between the first and the last), fetched_at (newest
    point), checked_at and had_data (the last time it was asked for)."""
    track_id = select(T.c.id).where(T.c.uuid == uuid).scalar_subquery()
    points = (select(AUD.c.platform_id, func.count(distinct(AUD.c.platform_identifier)).label("identifiers"),
                     func.min(AUD.c.date).label("first_date"), func.max(AUD.c.date).label("last_date"),
                     func.count(distinct(AUD.c.date)).label("days"),
                     func.max(AUD.c.fetched_at).label("fetched_at"))
              .where(AUD.c.track_id == track_id).group_by(AUD.c.platform_id).subquery())
    checks = select(CHECK.c.platform_id, CHECK.c.checked_at, CHECK.c.had_data).where(
        CHECK.c.track_id == track_id).subquery()
    q = (select(P.c.slug.label("platform"), P.c.name, points.c.identifiers, points.c.first_date,
                points.c.last_date, points.c.days, points.c.fetched_at, checks.c.checked_at,
                checks.c.had_data)
         .outerjoin(points, points.c.platform_id == P.c.id).outerjoin(checks, checks.c.platform_id == P.c.id)
         .where(or_(P.c.supports_audience.is_(True), points.c.platform_id.is_not(None),
                    checks.c.platform_id.is_not(None)))
         .order_by(P.c.slug))
    frame = _frame(engine, q)
    span = (pd.to_datetime(frame["last_date"]) - pd.to_datetime(frame["first_date"])).dt.days + 1
    frame["gaps"] = (span - frame["days"]).astype("Int64")
    return frame


def track_admin(engine: Engine, uuid: str) -> dict:
    """The track page: ``track`` (see :func:`soundcharts_lib.warehouse.analytics.track_details`), ``audience``
    (:func:`audience_status`), ``appearances`` (chart entries stored), ``platforms`` (audience platforms)."""
    details = track_details(engine, uuid)
    q = select(func.count()).select_from(E.join(T, T.c.id == E.c.track_id)).where(T.c.uuid == uuid)
    with engine.connect() as conn:
        appearances = conn.execute(q).scalar_one()
    return {"track": details, "audience": audience_status(engine, uuid), "appearances": appearances,
            "platforms": audience_platforms(engine)}


def tracks(engine: Engine, *, search: str | None = None, missing: str | None = None,
           limit: int = TRACKS_SHOWN) -> dict:
    """Tracks by name (``rows``: uuid, name, artist, isrc, metadata_fetched_at, audience_platforms,
    last_audience), how many match (``total``) and their ``credits`` (:func:`artist_pages.credits`). ``search``
    matches name, artist, ISRC (as plain text, in any case) or UUID; ``missing`` is ``metadata`` (never fetched) or
    ``audience`` (no point stored)."""
    where = []
    if search:
        holds = [_holds(column, search, engine.dialect.name) for column in (T.c.name, T.c.credit_name, T.c.isrc)]
        where.append(or_(*holds, T.c.uuid == search.lower()))
    if missing == "metadata":
        where.append(T.c.metadata_fetched_at.is_(None))
    elif missing == "audience":
        where.append(~select(AUD.c.track_id).where(AUD.c.track_id == T.c.id).exists())
    elif missing:
        raise ValueError(f"missing must be metadata or audience, got {missing!r}")
    # one pass over the tracks gives the page and the count; audience is read for the page's tracks only
    shown = (select(T.c.id, func.count().over().label("total")).where(*where).order_by(T.c.name, T.c.uuid)
             .limit(limit).cte("shown"))
    held = (select(AUD.c.track_id, func.count(distinct(AUD.c.platform_id)).label("platforms"),
                   func.max(AUD.c.date).label("last_date"))
            .where(AUD.c.track_id.in_(select(shown.c.id))).group_by(AUD.c.track_id).subquery())
    q = (select(T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"), T.c.isrc,
                T.c.metadata_fetched_at, func.coalesce(held.c.platforms, 0).label("audience_platforms"),
                held.c.last_date.label("last_audience"), shown.c.total)
         .join(shown, shown.c.id == T.c.id).outerjoin(held, held.c.track_id == T.c.id)
         .order_by(T.c.name, T.c.uuid))
    rows = _frame(engine, q)
    total = int(rows["total"].iloc[0]) if len(rows) else 0
    return {"rows": rows.drop(columns="total"), "total": total, "credits": artist_pages.credits(engine, rows["uuid"])}


def _holds(column, text: str, dialect: str):
    """``column`` contains ``text`` as plain text (no wildcard), whatever the case of its letters.

    PostgreSQL's lower() folds every letter (by the database's character type). SQLite's LIKE and lower() fold
    ASCII letters only, so a search with other letters is a GLOB on lower(column) where each such letter is a
    class of its cases (``ç`` -> ``[Çç]``), run only on the rows a LIKE with ``_`` for those letters lets through:
    one pass over the table in C, no Python function per row.
    """
    if dialect == "postgresql":
        return func.lower(column).contains(text.lower(), autoescape=True)
    if text.isascii():
        return column.contains(text, autoescape=True)
    text = text.lower()
    rough = "".join(ch if ch.isascii() else "_" for ch in _like_escaped(text))
    return and_(column.like(f"%{rough}%", escape="\\"), func.lower(column).op("GLOB")(f"*{_glob_pattern(text)}*"))


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_pattern(text: str) -> str:
    """Lower-case ``text`` as a GLOB pattern matching it literally, its non-ASCII letters in either case."""
    out = []
    for ch in text:
        cases = sorted({c for c in (ch, ch.upper(), ch.title()) if len(c) == 1}) if not ch.isascii() else [ch]
        out.append(f"[{''.join(cases)}]" if len(cases) > 1 or ch in "*?[" else ch)
    return "".join(out)


# -- runs ---------------------------------------------------------------------------------------------------

def runs(engine: Engine, *, kind: str | None = None, status: str | None = None,
         limit: int = RUNS_SHOWN) -> pd.DataFrame:
    """The newest job runs first: id, kind, trigger, started_at, finished_at, status, counts, errors,
    quota_remaining, notebook_path. A dead run still recorded as running reads "interrupted" (see
    :func:`soundcharts_lib.warehouse.health.with_dead_runs_interrupted`)."""
    q = (select(RUN.c.id, RUN.c.kind, RUN.c.trigger, RUN.c.started_at, RUN.c.finished_at, RUN.c.status,
                RUN.c.counts, RUN.c.errors, RUN.c.quota_remaining, RUN.c.notebook_path)
         .order_by(RUN.c.id.desc()).limit(limit))
    if kind:
        q = q.where(RUN.c.kind == kind)
    if status in (RUNNING, INTERRUPTED):  # a run recorded as running may be dead: the liveness check decides
        q = q.where(RUN.c.status.in_((RUNNING, INTERRUPTED)))
    elif status:
        q = q.where(RUN.c.status == status)
    with engine.connect() as conn:
        result = conn.execute(q)
        frame = health.with_dead_runs_interrupted(conn, pd.DataFrame(result.fetchall(), columns=list(result.keys())))
    return frame[frame["status"] == status].reset_index(drop=True) if status else frame


def run_kinds(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(RUN.c.kind).distinct().order_by(RUN.c.kind)).scalars())


def run_notebook(engine: Engine, run_id: int) -> str | None:
    """The archived notebook a run recorded (None when it has none); ``UnknownEntity`` for no such run."""
    with engine.connect() as conn:
        row = conn.execute(select(RUN.c.notebook_path).where(RUN.c.id == run_id)).first()
    if row is None:
        raise UnknownEntity(f"no run {run_id} is stored")
    return row.notebook_path


# -- progress of admin actions: units of work the database shows done since an action started -------------

def charts_synced_since(engine: Engine, slugs: Sequence[str], since: datetime) -> int:
    """Charts that a sync reached (success or failure) since ``since``."""
    q = select(func.count()).where(C.c.slug.in_(list(slugs)),
                                   or_(C.c.last_success_at >= since, C.c.last_error_at >= since))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def rankings_fetched_since(engine: Engine, slugs: Sequence[str], start: date, end: date,
                           since: datetime) -> int:
    """Rankings of ``slugs`` dated ``start``..``end`` stored or failed since ``since``."""
    q = (select(func.count()).select_from(R.join(C, C.c.id == R.c.chart_id))
         .where(C.c.slug.in_(list(slugs)), R.c.ranking_date.between(start, end), R.c.fetched_at >= since))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def metadata_fetched_since(engine: Engine, uuids: Sequence[str], since: datetime) -> int:
    q = select(func.count()).where(T.c.uuid.in_(list(uuids)), T.c.metadata_fetched_at >= since)
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def audience_checked_since(engine: Engine, uuids: Sequence[str], platforms: Sequence[str] | None,
                           since: datetime) -> int:
    """(track, platform) series asked for since ``since`` (with data or not); any platform when ``platforms``
    is empty."""
    checks = CHECK.join(T, T.c.id == CHECK.c.track_id).join(P, P.c.id == CHECK.c.platform_id)
    q = (select(func.count()).select_from(checks)
         .where(T.c.uuid.in_(list(uuids)), CHECK.c.checked_at >= since))
    if platforms:
        q = q.where(P.c.slug.in_(list(platforms)))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()
