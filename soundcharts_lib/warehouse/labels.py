"""Record labels on the charts: the share of chart entries each label holds over time, and its top labels.

Labels are the tracks' stored ``labels`` (a JSON list of names, as the API spells them; null, empty or holding
blank and odd values for some tracks). Names are grouped case-insensitively and by their words (``"Sony  music "``
and ``"SONY MUSIC"`` are one label), shown under their most frequent spelling. A chart entry of a track with
several labels counts in full for each in ``entries`` and is split between them in ``share``, so shares add up to
100 % with the entries of tracks without a stored label ("no label stored").

The window is the ``days`` ranking dates up to the scope's latest stored ranking; the trend compares it with the
``days`` before.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.curation import roster
from soundcharts_lib.db import label_rollup
from soundcharts_lib.db.frames import raw_frame
from soundcharts_lib.db.tables import SUCCESS, C, E, P, R, T
from soundcharts_lib.warehouse.analytics import UnknownEntity

TOP_LABELS = 8
DEFAULT_DAYS = 30
MAX_DAYS = 365
OTHER, NO_LABEL = "Other labels", "No label stored"
LABEL_COLUMNS = ["label", "entries", "share", "tracks", "best_position", "previous_entries", "trend_pct", "roster"]
SHARE_COLUMNS = ["date", "label", "kind", "share"]


def label_key(name) -> str | None:
    """The key a label is grouped by: its words, case-folded; None for what names no label (not text, blank)."""
    if not isinstance(name, str):
        return None
    return " ".join(name.split()).casefold() or None


def track_labels(raw) -> list[str]:
    """The label names of a stored ``track.labels`` value, one per key, in order (a bare string is one name;
    null, blank and non-text values name none)."""
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    seen: dict[str, str] = {}
    for name in names:
        key = label_key(name)
        if key is not None and key not in seen:
            seen[key] = name.strip()
    return list(seen.values())


def scopes(engine: Engine) -> pd.DataFrame:
    """Charts with a stored ranking, to choose a page's scope from: platform, platform_name, chart, chart_name."""
    q = (select(P.c.slug.label("platform"), P.c.name.label("platform_name"), C.c.slug.label("chart"),
                C.c.name.label("chart_name"))
         .join_from(C, P, P.c.id == C.c.platform_id).where(C.c.last_ranking_date.is_not(None))
         .order_by(P.c.name, P.c.slug, C.c.name, C.c.slug))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["platform", "platform_name", "chart", "chart_name"])


def _charts(engine: Engine, platform: str | None, chart: str | None) -> tuple[list[int] | None, dict, tuple]:
    """The chart ids of the scope (None: every chart), its description and its rollup key (platform id, chart id;
    0 for every one); ``UnknownEntity`` for a platform or chart not stored, or a chart of another platform."""
    with engine.connect() as conn:
        if chart is not None:
            row = conn.execute(select(C.c.id, C.c.platform_id, C.c.name, P.c.slug)
                               .join_from(C, P, P.c.id == C.c.platform_id).where(C.c.slug == chart)).first()
            if row is None:
                raise UnknownEntity(f"no chart {chart!r} is stored")
            if platform is not None and row.slug != platform:
                raise UnknownEntity(f"chart {chart!r} is a chart of {row.slug!r}, not of {platform!r}")
            return [row.id], {"platform": row.slug, "chart": chart, "chart_name": row.name}, (row.platform_id, row.id)
        if platform is not None:
            found = conn.execute(select(P.c.id).where(P.c.slug == platform)).scalar()
            if found is None:
                raise UnknownEntity(f"no platform {platform!r} is stored")
            ids = list(conn.execute(select(C.c.id).where(C.c.platform_id == found)).scalars())
            return ids, {"platform": platform, "chart": None, "chart_name": None}, (found, 0)
        return None, {"platform": None, "chart": None, "chart_name": None}, (0, 0)


def _entries(engine: Engine, chart_ids: list[int] | None, start: date,
             end: date) -> tuple[pd.DataFrame, dict[int, list]]:
    """Entries of successful rankings per ranking date and track (date, track_id, entries, best), and the labels of
    those tracks ``{track_id: [name, ...]}``."""
    rankings = select(R.c.id).where(SUCCESS, R.c.ranking_date.between(start, end))
    if chart_ids is not None:
        rankings = rankings.where(R.c.chart_id.in_(chart_ids))
    kept = (E.c.ranking_id.in_(rankings), E.c.ranking_date.between(start, end))  # the entry's date prunes partitions
    per_day = (select(E.c.ranking_date, E.c.track_id, func.count(), func.min(E.c.position)).where(*kept)
               .group_by(E.c.ranking_date, E.c.track_id))
    with engine.connect() as conn:
        frame = raw_frame(conn, per_day, ["date", "track_id", "entries", "best"], dates=["date"])
        labels = {track_id: track_labels(raw) for track_id, raw in conn.execute(
            select(T.c.id, T.c.labels).where(T.c.id.in_(select(E.c.track_id).where(*kept))))}
    return frame, labels


def roster_label_keys(engine: Engine) -> set[str]:
    """The keys of the labels of the roster's stored tracks (its own and its artists')."""
    with engine.connect() as conn:
        found = conn.execute(select(T.c.labels).where(T.c.id.in_(roster.track_ids_query()))).scalars()
        return {label_key(name) for raw in found for name in track_labels(raw)}


def _latest(conn: Connection, chart_ids: list[int] | None) -> date | None:
    q = select(func.max(R.c.ranking_date)).where(SUCCESS)
    return conn.execute(q if chart_ids is None else q.where(R.c.chart_id.in_(chart_ids))).scalar()


def _spellings(rows: pd.DataFrame) -> dict[str, str]:
    """Each key's most frequent spelling, weighted by entries (ties: the spelling that sorts first)."""
    counts = rows.groupby(["key", "name"], sort=False)["entries"].sum().reset_index()
    best = counts.sort_values(["key", "entries", "name"], ascending=[True, False, True]).drop_duplicates("key")
    return dict(zip(best["key"], best["name"], strict=True))


def _exploded(frame: pd.DataFrame, labels: dict[int, list]) -> pd.DataFrame:
    """One row per entry group and label (key None: the track has no label), ``weight`` its part of the entries.
    Each track's labels are keyed once, then joined to its entry groups."""
    pairs = [(track_id, label_key(name), name, len(names) or 1)
             for track_id, names in labels.items() for name in (names or [None])]
    per_track = pd.DataFrame(pairs, columns=["track_id", "key", "name", "count"])
    rows = frame.merge(per_track, on="track_id", how="left", sort=False)
    rows["count"] = rows["count"].fillna(1)  # a track whose labels were not read: none
    rows["weight"] = rows["entries"] / rows["count"]
    return rows[["date", "track_id", "entries", "best", "key", "name", "weight"]]


def _table(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """One row per label: key and :data:`LABEL_COLUMNS` but roster (the roster changes apart from the entries)."""
    labelled = current[current["key"].notna()]
    if labelled.empty:
        return pd.DataFrame(columns=["key", *LABEL_COLUMNS[:-1]])
    total = current["weight"].sum()  # an entry group's weights add up to its entries
    by_key = labelled.groupby("key").agg(entries=("entries", "sum"), weight=("weight", "sum"),
                                         tracks=("track_id", "nunique"), best_position=("best", "min"))
    before = previous[previous["key"].notna()].groupby("key")["entries"].sum()
    names = _spellings(labelled)
    out = by_key.reset_index()
    out["label"] = out["key"].map(names)
    out["share"] = out.pop("weight") / total
    out["previous_entries"] = out["key"].map(before).fillna(0).astype(int)
    out["trend_pct"] = [round((now - was) / was * 100, 1) if was else None
                        for now, was in zip(out["entries"], out["previous_entries"], strict=True)]
    out = out.astype({"entries": int, "tracks": int, "best_position": int})
    out = out.sort_values(["share", "entries", "label", "key"], ascending=[False, False, True, True])
    return out[["key", *LABEL_COLUMNS[:-1]]].reset_index(drop=True)


def _shares(current: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per ranking date, the share of that date's entries of each top label, then the other labels, then the tracks
    without one (long form: date, label, kind, share; kind is label, other or none)."""
    if current.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    keys, names = table["key"].head(TOP_LABELS).tolist(), table["label"].head(TOP_LABELS).tolist()
    order = current["key"].map({key: i for i, key in enumerate(keys)})
    unlabelled = current["key"].isna()
    order = order.where(order.notna(), unlabelled.map({False: len(keys), True: len(keys) + 1})).astype(int)
    bands = pd.DataFrame({"label": [*names, OTHER, NO_LABEL], "kind": ["label"] * len(keys) + ["other", "none"]})
    grouped = (current.assign(order=order).groupby(["date", "order"])["weight"].sum().reset_index()
               .join(bands, on="order"))
    grouped["share"] = grouped["weight"] / grouped["date"].map(current.groupby("date")["weight"].sum())
    return grouped[SHARE_COLUMNS]


def _page(engine: Engine, chart_ids: list[int] | None, start: date, end: date, days: int) -> dict:
    """The page's figures over ``start`` .. ``end`` as JSON values (what the rollup keeps): entries, unlabelled,
    before_stored, labels (rows of ``key`` and :data:`LABEL_COLUMNS` but roster) and shares (rows of
    :data:`SHARE_COLUMNS`, dates in ISO form)."""
    frame, labels = _entries(engine, chart_ids, start - timedelta(days=days), end)
    rows = _exploded(frame, labels)
    current, previous = rows[rows["date"] >= start], rows[rows["date"] < start]
    table = _table(current, previous)
    window = frame[frame["date"] >= start]
    unlabelled = sum(int(n) for track_id, n in zip(window["track_id"], window["entries"], strict=True)
                     if not labels.get(track_id))
    shares = _shares(current, table).assign(date=lambda f: f["date"].map(date.isoformat))
    return {"entries": int(window["entries"].sum()), "unlabelled": unlabelled, "before_stored": len(previous) > 0,
            "labels": _json_rows(table), "shares": _json_rows(shares)}


def _json_rows(frame: pd.DataFrame) -> list[list]:
    """A frame's rows as JSON values (numpy numbers as Python's, NaN as None)."""
    return [[None if isinstance(v, float) and v != v else v.item() if hasattr(v, "item") else v for v in row]
            for row in frame.itertuples(index=False, name=None)]


def _frames(page: dict, roster_keys: set[str]) -> dict:
    """The page's tables from its JSON values: ``labels`` with its roster column, ``shares`` with dates."""
    table = pd.DataFrame(page["labels"], columns=["key", *LABEL_COLUMNS[:-1]])
    table["roster"] = table["key"].isin(roster_keys)
    shares = pd.DataFrame(page["shares"], columns=SHARE_COLUMNS)
    shares["date"] = shares["date"].map({d: date.fromisoformat(d) for d in shares["date"].unique()})
    return {"entries": page["entries"], "unlabelled": page["unlabelled"], "before_stored": page["before_stored"],
            "labels": table.drop(columns="key"), "shares": shares}


def label_share(engine: Engine, *, platform: str | None = None, chart: str | None = None,
                days: int = DEFAULT_DAYS) -> dict:
    """The labels page: ``scope`` (platform, chart, chart_name; None for all), ``start`` / ``end`` (None when the
    scope has no stored ranking), ``days``, ``entries`` (chart entries in the window), ``unlabelled`` (those of
    tracks without a stored label), ``labels`` (one row per label: label, entries, share, tracks, best_position,
    previous_entries, trend_pct (None without entries before), roster), ``shares`` (per date and band, see
    :func:`_shares`), ``before_stored`` (whether the scope has entries in the period before) and ``roster``
    (whether there is a roster).

    Read from the label rollup while it holds the page as it would be built now (see
    :mod:`soundcharts_lib.db.label_rollup`; :func:`refresh` keeps it), else built from the entries."""
    chart_ids, scope, key = _charts(engine, platform, chart)
    with engine.connect() as conn:
        end = _latest(conn, chart_ids) if chart_ids is None or chart_ids else None
        start = end - timedelta(days=days - 1) if end else None
        kept = end is not None and key[1] == 0  # the rollup keeps every chart's and each platform's pages only
        page = kept and label_rollup.read(conn, (*key, days), end, label_rollup.built_from(
            conn, chart_ids, start - timedelta(days=days), end))
    has_roster = roster.has_roster(engine)
    out = {"scope": scope, "days": days, "start": start, "end": end, "entries": 0, "unlabelled": 0,
           "labels": pd.DataFrame(columns=LABEL_COLUMNS), "shares": pd.DataFrame(columns=SHARE_COLUMNS),
           "before_stored": False, "roster": has_roster}
    if end is None:
        return out
    page = page or _page(engine, chart_ids, start, end, days)
    return {**out, **_frames(page, roster_label_keys(engine) if has_roster else set())}


def refresh(engine: Engine, days: int = DEFAULT_DAYS) -> list[str]:
    """Rebuild the label rollup's pages of every chart and of each platform over ``days`` whose rankings or
    tracks' metadata changed since they were built; return the scopes rebuilt."""
    with engine.connect() as conn:
        platforms = dict(conn.execute(select(P.c.id, P.c.slug).order_by(P.c.slug)).all())
        charts = {p: list(conn.execute(select(C.c.id).where(C.c.platform_id == p)).scalars()) for p in platforms}
    done = []
    for (platform_id, chart_ids), name in [((0, None), "every chart"),
                                           *(((p, charts[p]), slug) for p, slug in platforms.items() if charts[p])]:
        with engine.connect() as conn:
            end = _latest(conn, chart_ids)
            if end is None:
                continue
            start = end - timedelta(days=days - 1)
            stamp = label_rollup.built_from(conn, chart_ids, start - timedelta(days=days), end)  # before the entries
            if label_rollup.read(conn, (platform_id, 0, days), end, stamp) is not None:
                continue
        page = _page(engine, chart_ids, start, end, days)
        with engine.begin() as conn:
            label_rollup.write(conn, (platform_id, 0, days), end, stamp, page)
        done.append(name)
    return done
