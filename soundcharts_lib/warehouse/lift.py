"""Chart-entry lift: how fast a track's audience grows in the days after it first enters a chart, against the
days before, over many tracks, with a bootstrap confidence interval.

- An *entry* is the first date a track appeared on one chart: the API's ``entryDate``, else the first stored
  ranking that marks it ``new``. A track entering several charts has one entry per chart. Entries on a chart's
  earliest known date are left out: that is where its history begins, not when those tracks entered.
- Audience values are running totals, so growth is a rate: units per day over the ``before`` days ending the day
  before the entry, and over the ``after`` days from the entry day on. A day not stored is interpolated between
  the stored days around it when they are at most ``MAX_GAP_DAYS`` apart; identifiers of the platform are summed
  when every one of them has every day (a new identifier would otherwise look like growth).
- An entry's lift is ``after / before``. A track counts once: the mean log ratio of its entries. The summary is
  the geometric mean over tracks, its percentile bootstrap interval (tracks resampled), the median and the share
  of tracks that grew faster after. A track whose audience starts inside the window (a release entering a chart
  on its first days) has no "before" and is left out.

It is an association, not a cause: tracks often enter a chart because their audience is already rising.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.db.tables import AUD, C, E, P, R, T
from soundcharts_lib.vocab import today_utc

BEFORE_DAYS = AFTER_DAYS = 7
MAX_GAP_DAYS = 3
EVENT_COLUMNS = ["track_id", "uuid", "name", "artist", "entry_date", "chart", "chart_name"]
OK = "ok"


def entry_events(engine: Engine, *, charts: Sequence[str] | None = None, chart_platform: str | None = None,
                 country: str | None = None, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Each track's entry into each of ``charts`` (slugs; default every chart, or those of ``chart_platform`` /
    ``country``: an ISO code, or "global" for charts without one) seen in stored rankings, except on the chart's
    earliest known date, kept when it falls in ``since``..``until``: track_id, uuid, name, artist, entry_date,
    chart, chart_name; by entry date."""
    first = func.min(func.coalesce(E.c.entry_date, case((E.c.entry_state == "new", R.c.ranking_date))))
    q = (select(E.c.track_id, C.c.slug.label("chart"), C.c.name.label("chart_name"), first.label("entry_date"))
         .select_from(E.join(R, R.c.id == E.c.ranking_id).join(C, C.c.id == R.c.chart_id))
         .where(R.c.status == "success").group_by(E.c.track_id, C.c.slug, C.c.name))
    if charts:
        q = q.where(C.c.slug.in_(list(charts)))
    if chart_platform:
        q = q.where(C.c.platform_id.in_(select(P.c.id).where(P.c.slug == chart_platform)))
    if country:
        q = q.where(C.c.country_code.is_(None) if country.lower() == "global" else C.c.country_code == country.upper())
    names = select(T.c.id.label("track_id"), T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"))
    with engine.connect() as conn:
        firsts = _frame(conn, q).dropna(subset=["entry_date"])
        firsts = firsts[firsts["entry_date"] > firsts.groupby("chart")["entry_date"].transform("min")]
        tracks = _frame(conn, names.where(T.c.id.in_(firsts["track_id"].unique().tolist())))
    if since is not None:
        firsts = firsts[firsts["entry_date"] >= since]
    if until is not None:
        firsts = firsts[firsts["entry_date"] <= until]
    out = firsts.merge(tracks, on="track_id")[EVENT_COLUMNS]
    return out.sort_values(["entry_date", "uuid", "chart"]).reset_index(drop=True)


def _frame(conn, query) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def audience_window(entry: date, before_days: int = BEFORE_DAYS, after_days: int = AFTER_DAYS) -> tuple[date, date]:
    """The first and last audience day an entry's lift reads (the day before the window through its last day)."""
    return entry - timedelta(days=before_days + 1), entry + timedelta(days=after_days - 1)


def _path(points: pd.DataFrame, days: list[date]) -> list[float] | None:
    """The summed value on each of ``days`` of the identifiers that have every one of them (interpolated over
    short gaps); None when no identifier does."""
    total, used = np.zeros(len(days)), 0
    ordinals = np.array([d.toordinal() for d in days], dtype=float)
    for _ident, series in points.groupby("ident"):
        known = np.array([d.toordinal() for d in series["date"]], dtype=float)
        values = series["value"].to_numpy(dtype=float)
        right = np.searchsorted(known, ordinals, side="left")
        if (right >= len(known)).any():
            continue
        exact = known[right] == ordinals
        left = np.where(exact, right, right - 1)
        if (left < 0).any() or ((known[right] - known[left]) > MAX_GAP_DAYS).any():
            continue
        share = np.where(exact, 0.0, (ordinals - known[left]) / np.maximum(known[right] - known[left], 1.0))
        total += values[left] + share * (values[right] - values[left])
        used += 1
    return total.tolist() if used else None


def _rates(row: dict, path: list[float], before_days: int, after_days: int) -> str:
    """Fill ``row``'s rates, daily increments and lift from ``path``; its status."""
    before = (path[before_days] - path[0]) / before_days
    after = (path[-1] - path[before_days]) / after_days
    row.update(before_per_day=round(before, 1), after_per_day=round(after, 1), daily=np.diff(path).round(1).tolist())
    if before <= 0 or after <= 0:
        return "no growth"
    row["lift_pct"] = round((after / before - 1) * 100, 2)
    return OK


def entry_lift(engine: Engine, events: pd.DataFrame, platform: str, *, before_days: int = BEFORE_DAYS,
               after_days: int = AFTER_DAYS, today: date | None = None) -> pd.DataFrame:
    """Per event of :func:`entry_events`, the audience on ``platform`` around it: the event's columns plus
    platform, before_per_day, after_per_day, lift_pct, daily (the ``before_days + after_days`` daily increments,
    the entry day at index ``before_days``) and status: ``ok``; ``too recent`` (the after window is not over by
    ``today``); ``no audience`` (none stored for the track); ``no audience before`` (the stored audience starts
    inside the window: a release charting in its first days, or an earlier range never fetched); ``gaps`` (days
    missing beyond interpolation); ``no growth`` (a window without growth has no ratio)."""
    today = today or today_utc()
    points, starts = _audience(engine, events, platform, before_days, after_days)
    by_track = dict(tuple(points.groupby("track_id"))) if len(points) else {}
    rows = []
    for event in events.to_dict("records"):
        first, last = audience_window(event["entry_date"], before_days, after_days)
        row = {**event, "platform": platform, "before_per_day": None, "after_per_day": None, "lift_pct": None,
               "daily": None}
        start = starts.get(event["track_id"])
        if last > today:
            row["status"] = "too recent"
        elif start is None:
            row["status"] = "no audience"
        elif start > first:
            row["status"] = "no audience before"
        else:
            mine = by_track.get(event["track_id"], points.iloc[0:0])
            mine = mine[(mine["date"] >= first - timedelta(days=MAX_GAP_DAYS))
                        & (mine["date"] <= last + timedelta(days=MAX_GAP_DAYS))]
            path = _path(mine, [first + timedelta(days=k) for k in range(before_days + after_days + 1)])
            row["status"] = "gaps" if path is None else _rates(row, path, before_days, after_days)
        rows.append(row)
    columns = [*EVENT_COLUMNS, "platform", "before_per_day", "after_per_day", "lift_pct", "daily", "status"]
    return pd.DataFrame(rows, columns=columns).astype({"before_per_day": "Float64", "after_per_day": "Float64",
                                                       "lift_pct": "Float64"})


def _audience(engine: Engine, events: pd.DataFrame, platform: str, before_days: int,
              after_days: int) -> tuple[pd.DataFrame, dict[int, date]]:
    """Audience points (track_id, ident, date, value) of the events' tracks on ``platform`` around their windows,
    and each track's first stored day there."""
    columns = ["track_id", "ident", "date", "value"]
    if events.empty:
        return pd.DataFrame(columns=columns), {}
    lo = audience_window(events["entry_date"].min(), before_days, after_days)[0] - timedelta(days=MAX_GAP_DAYS)
    hi = audience_window(events["entry_date"].max(), before_days, after_days)[1] + timedelta(days=MAX_GAP_DAYS)
    tracks = events["track_id"].unique().tolist()
    mine = (AUD.c.platform_id.in_(select(P.c.id).where(P.c.slug == platform))) & AUD.c.track_id.in_(tracks)
    q = (select(AUD.c.track_id, AUD.c.platform_identifier.label("ident"), AUD.c.date,
                AUD.c.audience_value.label("value"))
         .where(mine, AUD.c.date.between(lo, hi)).order_by(AUD.c.track_id, AUD.c.platform_identifier, AUD.c.date))
    starts = select(AUD.c.track_id, func.min(AUD.c.date)).where(mine).group_by(AUD.c.track_id)
    with engine.connect() as conn:
        return _frame(conn, q), dict(conn.execute(starts).all())


def _bootstrap_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    picks = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    return values[picks].mean(axis=1)


def _per_track(lift: pd.DataFrame) -> pd.DataFrame:
    """The ``ok`` rows with ``log_ratio``, averaged per track: uuid, log_ratio, entries."""
    ok = lift[lift["status"] == OK]
    logs = np.log(ok["after_per_day"].to_numpy(dtype=float) / ok["before_per_day"].to_numpy(dtype=float))
    return (pd.DataFrame({"uuid": ok["uuid"].to_numpy(), "log_ratio": logs}).groupby("uuid", sort=True)
            .agg(log_ratio=("log_ratio", "mean"), entries=("log_ratio", "size")).reset_index())


def lift_summary(lift: pd.DataFrame, *, confidence: float = 0.95, resamples: int = 5000,
                 seed: int = 0) -> dict:
    """Over the ``ok`` rows of :func:`entry_lift`, one value per track (the mean log ratio of its entries):
    tracks, entries, lift_pct (geometric mean), ci_low_pct, ci_high_pct (percentile bootstrap over tracks; None
    below 2 tracks), median_pct, share_faster_pct (tracks growing faster after), confidence, and ``excluded``:
    how many entries had each other status."""
    tracks = _per_track(lift)
    out = {"tracks": len(tracks), "entries": int(tracks["entries"].sum()), "lift_pct": None, "ci_low_pct": None,
           "ci_high_pct": None, "median_pct": None, "share_faster_pct": None, "confidence": confidence,
           "excluded": {k: int(v) for k, v in lift.loc[lift["status"] != OK, "status"].value_counts().items()}}
    if tracks.empty:
        return out
    logs = tracks["log_ratio"].to_numpy()

    def pct(log_ratio: float) -> float:
        return round(float(np.expm1(log_ratio)) * 100, 2)

    out.update(lift_pct=pct(logs.mean()), median_pct=pct(np.median(logs)),
               share_faster_pct=round(float((logs > 0).mean()) * 100, 1))
    if len(logs) >= 2:
        low, high = np.quantile(_bootstrap_means(logs, resamples, seed), [(1 - confidence) / 2, (1 + confidence) / 2])
        out.update(ci_low_pct=pct(low), ci_high_pct=pct(high))
    return out


def lift_profile(lift: pd.DataFrame, before_days: int = BEFORE_DAYS) -> pd.DataFrame:
    """Day by day around the entry (offset 0 = the entry day) over the ``ok`` rows: offset, index (daily growth
    as a % of the entry's average day before it, averaged per track, then over tracks; the days before average
    100), tracks."""
    ok = lift[lift["status"] == OK]
    if ok.empty:
        return pd.DataFrame(columns=["offset", "index", "tracks"])
    daily = np.array(ok["daily"].tolist(), dtype=float)
    indexed = pd.DataFrame(daily / ok["before_per_day"].to_numpy(dtype=float)[:, None] * 100)
    per_track = indexed.groupby(ok["uuid"].to_numpy()).mean()
    return pd.DataFrame({"offset": np.arange(daily.shape[1]) - before_days,
                         "index": per_track.mean(axis=0).round(1).to_numpy(), "tracks": len(per_track)})


def describe(summary: dict, before_days: int = BEFORE_DAYS, after_days: int = AFTER_DAYS) -> str:
    """:func:`lift_summary` in one sentence."""
    if not summary["tracks"]:
        return "No chart entry has audience stored on both sides yet."
    faster = "faster" if summary["lift_pct"] >= 0 else "slower"
    text = (f"Over {summary['tracks']} tracks ({summary['entries']} chart entries), the audience grew "
            f"{abs(summary['lift_pct']):.1f}% {faster} per day in the {after_days} days from a chart entry than in "
            f"the {before_days} days before it")
    if summary["ci_low_pct"] is None:
        return text + " (one track: no confidence interval)."
    return (text + f" ({summary['confidence']:.0%} confidence interval: {summary['ci_low_pct']:+.1f}% to "
            f"{summary['ci_high_pct']:+.1f}%); {summary['share_faster_pct']:.0f}% of the tracks grew faster after.")


def missing_audience(lift: pd.DataFrame, *, before_days: int = BEFORE_DAYS,
                     after_days: int = AFTER_DAYS) -> dict | None:
    """What to fetch for the rows without (enough) audience: ``{"platform", "track_uuids", "start", "end"}``
    (one range covering every such window, with room for interpolation), or None when nothing is missing."""
    need = lift[lift["status"].isin(["no audience", "gaps"])]
    if need.empty:
        return None
    start = audience_window(need["entry_date"].min(), before_days, after_days)[0] - timedelta(days=MAX_GAP_DAYS)
    end = audience_window(need["entry_date"].max(), before_days, after_days)[1] + timedelta(days=MAX_GAP_DAYS)
    return {"platform": need["platform"].iloc[0], "track_uuids": list(dict.fromkeys(need["uuid"])), "start": start,
            "end": min(end, today_utc())}


def fetch_command(missing: dict, limit: int = 5) -> str:
    """The ``soundcharts fetch-audience`` command for :func:`missing_audience` (the first ``limit`` tracks)."""
    tracks = " ".join(f"--track-uuid {u}" for u in missing["track_uuids"][:limit])
    return (f"soundcharts fetch-audience --platform {missing['platform']} --start-date {missing['start']} "
            f"--end-date {missing['end']} {tracks}")
