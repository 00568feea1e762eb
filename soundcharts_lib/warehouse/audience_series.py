"""Audience analytics: a track's series per platform, daily changes, growth and an indexed-to-100 view.

Values are the platforms' running totals. Identifiers of one platform are summed per date unless one is
chosen. Missing days stay missing: a daily change exists only where the day before is stored.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from itertools import chain

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from soundcharts_lib.db.frames import dates_of, day_number, packed, unpacked
from soundcharts_lib.db.tables import AUD, P, T
from soundcharts_lib.errors import SoundchartsError

GROWTH_DAYS = (7, 28, 90)
COLUMNS = ["date", "value", "daily_change"]


class NotStored(SoundchartsError, LookupError):
    """An unknown track, or a platform with no audience (the message is one line)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not stored"


class OutOfRange(SoundchartsError, ValueError):
    """A day's values of a platform whose sum leaves 64-bit integers (the message is one line)."""


def track_info(engine: Engine, uuid: str) -> dict:
    """``{"id", "uuid", "name", "credit_name"}`` of a stored track; ``NotStored`` otherwise."""
    with engine.connect() as conn:
        q = select(T.c.id, T.c.uuid, T.c.name, T.c.credit_name).where(T.c.uuid == uuid)
        row = conn.execute(q).first()
    if row is None:
        raise NotStored(f"no track {uuid}")
    return dict(row._mapping)


def audience_platforms(engine: Engine, uuid: str | None = None) -> list[str]:
    """Slugs of platforms with audience (with ``uuid``: those holding some of that track's audience)."""
    if uuid is None:
        q = select(P.c.slug).where(P.c.supports_audience.is_(True))
    else:
        q = select(P.c.slug).where(P.c.id.in_(
            select(AUD.c.platform_id).join(T, T.c.id == AUD.c.track_id).where(T.c.uuid == uuid)))
    with engine.connect() as conn:
        return sorted(conn.execute(q).scalars())


def identifiers(engine: Engine, uuid: str, platform: str) -> list[str]:
    """The platform identifiers stored for a track on a platform."""
    q = (select(AUD.c.platform_identifier).distinct().join(T, T.c.id == AUD.c.track_id)
         .join(P, P.c.id == AUD.c.platform_id).where(T.c.uuid == uuid, P.c.slug == platform))
    with engine.connect() as conn:
        return sorted(conn.execute(q).scalars())


def _held(engine: Engine, track_id: int) -> dict[str, int]:
    """``{slug: id}`` of the platforms holding some of the track's audience."""
    held = select(AUD.c.platform_id).where(AUD.c.track_id == track_id).distinct()
    with engine.connect() as conn:
        return dict(sorted(conn.execute(select(P.c.slug, P.c.id).where(P.c.id.in_(held))).all()))


def _platform_ids(engine: Engine, slugs: Iterable[str], track_id: int) -> dict[str, int]:
    """``{slug: id}``; ``NotStored`` for a platform unknown or neither listed for audience nor holding any."""
    slugs = list(dict.fromkeys(slugs))
    held = select(AUD.c.platform_id).where(AUD.c.track_id == track_id)
    usable = P.c.supports_audience.is_(True) | P.c.id.in_(held)
    q = select(P.c.slug, P.c.id).where(P.c.slug.in_(slugs), usable)
    with engine.connect() as conn:
        found = dict(conn.execute(q).all())
    for slug in slugs:
        if slug not in found:
            raise NotStored(f"no audience platform {slug!r}")
    return found


def _load(engine: Engine, track_id: int, platform_ids: Mapping[str, int] | None, start: date | None,
          end: date | None, identifier: str | None = None) -> dict[str, pd.DataFrame]:
    """``{slug: frame(date, value, daily_change)}`` summed over identifiers (or one), ascending, one query;
    ``platform_ids`` None: every platform holding some of the track's audience from ``start`` to ``end``, by slug."""
    postgres = engine.dialect.name == "postgresql"
    if postgres:  # each platform's stored points packed in one text value (frames.packed), summed and ordered by
        # split(): the server's grouping per day and sort of a few thousand rows cost more than the rows (on monthly
        # partitions a typical track's read 6.2 -> 2.4 ms, the year-long hit's 7.7 -> 4.6; on one table 3.5 -> 2.2
        # and 4.2 -> 4.4), and a row per point cost the driver more than the query
        q = (select(AUD.c.platform_id, packed(day_number(engine, AUD.c.date), AUD.c.audience_value))
             .group_by(AUD.c.platform_id))
    else:  # SQLite sums in the index's order for free: half the rows for Python when a track has two identifiers
        q = (select(AUD.c.platform_id, day_number(engine, AUD.c.date), cast(func.sum(AUD.c.audience_value), BigInteger))
             .group_by(AUD.c.platform_id, AUD.c.date))
    q = q.where(AUD.c.track_id == track_id)
    if platform_ids is not None:
        q = q.where(AUD.c.platform_id.in_(list(platform_ids.values())))
    if start is not None:
        q = q.where(AUD.c.date >= start)
    if end is not None:
        q = q.where(AUD.c.date <= end)
    if identifier is not None:
        q = q.where(AUD.c.platform_identifier == identifier)
    with engine.connect() as conn:
        # the driver's own tuples, split per platform in one pass: years of daily points on several platforms
        # cost more in per-row processing than in the query
        try:
            rows = conn.execute(q).cursor.fetchall()
            points = unpacked(rows, 2) if postgres else _points(rows)
        except (OperationalError, sqlite3.OperationalError) as exc:  # SQLite's own sum of a day's identifiers past
            # 64-bit integers, raised as the rows are stepped through: by the driver's fetch, or SQLAlchemy's execute
            if "integer overflow" not in str(getattr(exc, "orig", exc)):
                raise
            raise OutOfRange("the audience of a platform sums its identifiers past 64-bit integers") from None
        if platform_ids is None:  # the platforms of the rows: no distinct read of the track's audience apart
            held = np.unique(points[:, 0]).tolist()
            platform_ids = dict(sorted(conn.execute(select(P.c.slug, P.c.id).where(P.c.id.in_(held))).all())) \
                if held else {}
    return split(points, {pid: slug for slug, pid in platform_ids.items()})


def _points(rows: Sequence[tuple]) -> np.ndarray:
    """The driver's (platform_id, day number, value) tuples as one array of integers, a row each."""
    return np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows)).reshape(-1, 3)


def split(rows: Sequence[tuple] | np.ndarray, slugs: Mapping[int, str]) -> dict[str, pd.DataFrame]:
    """``{slug: frame(date, value, daily_change)}`` from the driver's (platform_id, day number, value) tuples, or
    an array of such rows, in any order (day numbers: :func:`~soundcharts_lib.db.frames.day_number`), the values of
    one platform and day summed (a track's several identifiers), an empty frame for a platform of ``slugs``
    ({platform_id: slug}) without rows."""
    if not len(rows):
        return {slug: _empty() for slug in slugs.values()}
    # all integers: one array at once, ordered, summed and cut per platform in numpy; each distinct day made once
    pids, days, values = (rows if isinstance(rows, np.ndarray) else _points(rows)).T
    order = np.lexsort((days, pids))
    pids, days, values = pids[order], days[order], values[order]
    first = np.ones(len(days), dtype=bool)
    first[1:] = (np.diff(pids) != 0) | (np.diff(days) != 0)
    kept = np.flatnonzero(first)
    sums = np.add.reduceat(values, kept)
    _check_sums(sums, values, kept, pids, days, slugs)
    pids, days, values = pids[kept], days[kept], sums
    dates = dates_of(days)
    starts = [0, *(np.flatnonzero(np.diff(pids)) + 1).tolist(), len(pids)]
    found = {slugs[int(pids[lo])]: _series(dates[lo:hi], days[lo:hi], values[lo:hi])
             for lo, hi in zip(starts[:-1], starts[1:], strict=True)}
    return {slug: found[slug] if slug in found else _empty() for slug in slugs.values()}


def _check_sums(sums: np.ndarray, values: np.ndarray, kept: np.ndarray, pids: np.ndarray, days: np.ndarray,
                slugs: Mapping[int, str]) -> None:
    """``OutOfRange`` when a day's sum (``sums``, of the ordered ``values`` from each of ``kept``) wrapped around:
    possible only when a value is at least the largest integer over that day's number of values."""
    counts = np.diff(np.append(kept, len(values)))
    if not len(values) or np.abs(values).max() < np.iinfo(np.int64).max // counts.max():
        return
    for start, count, got in zip(kept.tolist(), counts.tolist(), sums.tolist(), strict=True):
        if sum(values[start:start + count].tolist()) != got:  # Python's integers do not wrap
            raise OutOfRange(f"the audience of {slugs[int(pids[start])]} on {dates_of(days[start:start + 1])[0]} "
                             "sums its identifiers past 64-bit integers")


def _changes(days: np.ndarray, values: np.ndarray) -> pd.arrays.IntegerArray:
    """Each value minus the day before's, NA where that day is missing (``days``: ascending day numbers)."""
    change, follows = np.zeros(len(days), dtype=np.int64), np.zeros(len(days), dtype=bool)
    change[1:], follows[1:] = np.diff(values), np.diff(days) == 1
    return pd.arrays.IntegerArray(change, ~follows)


def _series(dates: np.ndarray | list[date], days: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """A series frame (date, value, daily_change) from ascending dates, their day numbers and their values."""
    return pd.DataFrame({"date": np.array(dates, dtype=object), "value": values,
                         "daily_change": _changes(days, values)})


def _empty() -> pd.DataFrame:
    nothing = np.zeros(0, dtype=np.int64)
    return _series([], nothing, nothing)


def _between(frame: pd.DataFrame, start: date | None) -> pd.DataFrame:
    return frame if start is None else frame[frame["date"] >= start].reset_index(drop=True)


def _day_before(start: date | None) -> date | None:
    return None if start is None else start - timedelta(days=1)


def audience_series(engine: Engine, uuid: str, platform: str, *, start: date | None = None,
                    end: date | None = None, identifier: str | None = None) -> pd.DataFrame:
    """One platform's series for ``start``..``end`` (each optional): date, value, daily_change."""
    track = track_info(engine, uuid)
    pids = _platform_ids(engine, [platform], track["id"])
    return _between(_load(engine, track["id"], pids, _day_before(start), end, identifier)[platform], start)


def audience_by_platform(engine: Engine, uuid: str, platforms: Sequence[str] | None = None, *,
                         start: date | None = None, end: date | None = None) -> dict[str, pd.DataFrame]:
    """``{platform: series}`` like :func:`audience_series`, for ``platforms`` (default: every platform holding
    this track's audience)."""
    track = track_info(engine, uuid)
    if platforms is None:
        frames = _load(engine, track["id"], None, _day_before(start), end)
        if start is not None or end is not None:  # platforms holding none of it in the range are listed, empty
            frames = {slug: frames.get(slug, _empty()) for slug in _held(engine, track["id"])}
    else:
        pids = _platform_ids(engine, platforms, track["id"]) if platforms else {}
        frames = _load(engine, track["id"], pids, _day_before(start), end) if pids else {}
    order = list(frames) if platforms is None else list(dict.fromkeys(platforms))
    return {slug: _between(frames[slug], start) for slug in order}


def aligned(series: Mapping[str, pd.DataFrame], column: str = "value") -> pd.DataFrame:
    """One column per platform on the union of their dates (ascending); NA where a platform has no day."""
    columns = {slug: (frame["date"].to_numpy(dtype=object), frame[column].astype("Int64").array)
               for slug, frame in series.items()}
    listed = [dates for dates, _ in columns.values()]
    same = bool(listed) and all(len(d) == len(listed[0]) and (d == listed[0]).all() for d in listed[1:])
    days = listed[0].tolist() if same else sorted(set().union(*listed))  # platforms fetched together: one set
    at = {day: i for i, day in enumerate(days)} if not same else {}
    wide = {}
    for slug, (dates, values) in columns.items():
        where = slice(None) if same else np.fromiter((at[d] for d in dates), dtype=np.intp, count=len(dates))
        data, missing = np.zeros(len(days), dtype=np.int64), np.ones(len(days), dtype=bool)
        data[where], missing[where] = values.to_numpy(dtype=np.int64, na_value=0), values.isna()
        wide[slug] = pd.arrays.IntegerArray(data, missing)
    return pd.DataFrame(wide, index=pd.Index(days, name="date", dtype=object))


def growth(frame: pd.DataFrame, days: Sequence[int] = GROWTH_DAYS) -> dict[int, dict]:
    """Growth over each of ``days`` up to the series' last date, in units and %.

    The base is the last stored value on or before (last date - N days); without one, units and % are None.
    % is None when the base value is 0.
    """
    dates, values = frame["date"].tolist(), frame["value"].tolist()
    last_date = dates[-1] if dates else None
    out: dict[int, dict] = {}
    for n in days:
        entry = {"days": n, "from_date": None, "to_date": last_date, "units": None, "pct": None}
        base_at = bisect_right(dates, last_date - timedelta(days=n)) - 1 if dates else -1
        if base_at >= 0:
            base, latest = int(values[base_at]), int(values[-1])
            entry.update(from_date=dates[base_at], units=latest - base,
                         pct=round((latest - base) / base * 100, 2) if base else None)
        out[n] = entry
    return out


def indexed(wide: pd.DataFrame) -> pd.DataFrame:
    """Each column divided by its first value and times 100 (columns whose first value is 0 become NA)."""
    out = pd.DataFrame(index=wide.index)
    for col in wide.columns:
        values = wide[col].astype("Float64")
        valid = values.dropna()
        base = valid.iloc[0] if len(valid) else None
        out[col] = values / base * 100 if base else pd.Series(pd.NA, index=wide.index, dtype="Float64")
    return out


def growth_table(growth: dict[str, dict[int, dict]]) -> pd.DataFrame:
    """:func:`.analytics.track_audience`'s ``growth`` (each platform's :func:`growth`) as rows: platform, days,
    from_date, to_date, units, pct."""
    rows = [{"platform": slug, **{k: g[k] for k in ("days", "from_date", "to_date", "units", "pct")}}
            for slug, by_days in growth.items() for g in by_days.values()]
    frame = pd.DataFrame(rows, columns=["platform", "days", "from_date", "to_date", "units", "pct"])
    return frame.astype({"units": "Int64", "pct": "Float64"})
