"""The figures of a roster digest over a period of whole days: what the daily digest mail and webhook say.

For the roster's tracks (followed, or by a followed artist; :func:`soundcharts_lib.curation.roster.track_ids_query`):
their new chart entries and re-entries and their exits on each day of the period, their best moves up, and the
growth leaders of their audience per platform; the followed artists' follower growth leaders (``artist_audience``,
when stored); the alerts of the period about a roster track or artist. Chart days are the rankings' own dates, read
as the chart pages read them (:func:`soundcharts_lib.warehouse.movers.day_movers`); growth is from the last stored
day before the period to the last stored day in it, identifiers present on both days summed
(:func:`soundcharts_lib.curation.growth.grown`); alerts are those fired in the period (UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.curation import growth, roster
from soundcharts_lib.curation.alerts import recent_alerts
from soundcharts_lib.db.tables import AFOL, AUD, A, P, T
from soundcharts_lib.warehouse.movers import day_movers

LEADERS = 10  # rows of each list
SLACK_DAYS = 7  # days read before the period to find the last stored day before it
ENTRY_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "position", "status", "uuid", "name",
                 "artist"]
EXIT_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "previous_position", "uuid", "name",
                "artist"]
MOVE_COLUMNS = ["date", "chart", "chart_name", "platform", "country_code", "position", "previous_position",
                "movement", "uuid", "name", "artist"]
GROWTH_COLUMNS = ["uuid", "name", "artist", "platform", "from_date", "to_date", "from_value", "to_value", "units",
                  "pct"]
ALERT_COLUMNS = ["fired_at", "rule", "kind", "subject", "message", "track_uuid", "artist_uuid", "chart"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class DigestData:
    """A period's figures (``start`` to ``end``, whole days): ``tracks`` and ``artists`` followed (stored), then one
    frame each, best first, at most :data:`LEADERS` rows but ``entries`` and ``exits`` (all of them):

    - ``entries``: new and re-entries on a chart (:data:`ENTRY_COLUMNS`; ``status`` NEW or RE-ENTRY);
    - ``exits``: tracks gone from a chart's ranking (:data:`EXIT_COLUMNS`);
    - ``moves``: the biggest climbs (:data:`MOVE_COLUMNS`);
    - ``audience``: tracks' audience growth per platform, by % (:data:`GROWTH_COLUMNS`);
    - ``followers``: followed artists' follower growth per platform, by % (the same columns; ``artist`` empty);
    - ``alerts``: fired in the period, newest first (:data:`ALERT_COLUMNS`).
    """

    start: date
    end: date
    tracks: int = 0
    artists: int = 0
    entries: pd.DataFrame = field(default_factory=lambda: _empty(ENTRY_COLUMNS))
    exits: pd.DataFrame = field(default_factory=lambda: _empty(EXIT_COLUMNS))
    moves: pd.DataFrame = field(default_factory=lambda: _empty(MOVE_COLUMNS))
    audience: pd.DataFrame = field(default_factory=lambda: _empty(GROWTH_COLUMNS))
    followers: pd.DataFrame = field(default_factory=lambda: _empty(GROWTH_COLUMNS))
    alerts: pd.DataFrame = field(default_factory=lambda: _empty(ALERT_COLUMNS))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def counts(self) -> dict[str, int]:
        return {"tracks": self.tracks, "artists": self.artists, "entries": len(self.entries),
                "exits": len(self.exits), "moves": len(self.moves), "audience": len(self.audience),
                "followers": len(self.followers), "alerts": len(self.alerts)}


def _frame(conn, query) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _chart_days(engine: Engine, start: date, end: date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The roster's entries, exits and climbs on each day of the period."""
    entries, exits, moves = [], [], []
    for n in range((end - start).days + 1):
        day = day_movers(engine, start + timedelta(days=n), limit=LEADERS, tracks=roster.track_ids_query())
        entries.append(day["new_entries"][ENTRY_COLUMNS])
        exits.append(day["dropouts"][EXIT_COLUMNS])
        moves.append(day["climbers"][MOVE_COLUMNS])

    def joined(parts, columns, by, ascending):
        found = [p for p in parts if not p.empty]
        if not found:
            return _empty(columns)
        return pd.concat(found, ignore_index=True).sort_values(by, ascending=ascending, na_position="last",
                                                               kind="stable").reset_index(drop=True)

    return (joined(entries, ENTRY_COLUMNS, ["position", "date", "chart"], [True, False, True]),
            joined(exits, EXIT_COLUMNS, ["previous_position", "date", "chart"], [True, False, True]),
            joined(moves, MOVE_COLUMNS, ["movement", "position"], [False, True]).head(LEADERS))


def _leaders(grown: pd.DataFrame, names: pd.DataFrame, key: str) -> pd.DataFrame:
    """The grown rows with their names, by % (then units), at most :data:`LEADERS`."""
    if grown.empty:
        return _empty(GROWTH_COLUMNS)
    out = grown.merge(names, on=key)
    out["units"] = out["to_value"] - out["from_value"]
    out = out.sort_values(["pct", "units", "name"], ascending=[False, False, True], kind="stable")
    return out[GROWTH_COLUMNS].head(LEADERS).reset_index(drop=True)


def _audience(engine: Engine, start: date, end: date) -> pd.DataFrame:
    q = (select(AUD.c.track_id, P.c.slug.label("platform"), AUD.c.platform_identifier.label("ident"), AUD.c.date,
                AUD.c.audience_value.label("value"))
         .join(P, P.c.id == AUD.c.platform_id)
         .where(AUD.c.date.between(start - timedelta(days=1 + SLACK_DAYS), end),
                AUD.c.track_id.in_(roster.track_ids_query())))
    names = select(T.c.id.label("track_id"), T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"))
    with engine.connect() as conn:
        grown = growth.grown(_frame(conn, q), ["track_id", "platform"], (end - start).days + 1, -math.inf)
        found = _frame(conn, names.where(T.c.id.in_([int(i) for i in grown.get("track_id", [])])))
    return _leaders(grown, found, "track_id")


def _followers(engine: Engine, start: date, end: date) -> pd.DataFrame:
    q = (select(AFOL.c.artist_id, P.c.slug.label("platform"), P.c.slug.label("ident"), AFOL.c.date,
                AFOL.c.followers.label("value"))
         .join(P, P.c.id == AFOL.c.platform_id)
         .where(AFOL.c.date.between(start - timedelta(days=1 + SLACK_DAYS), end),
                AFOL.c.artist_id.in_(roster.artist_ids_query())))
    with engine.connect() as conn:
        grown = growth.grown(_frame(conn, q), ["artist_id", "platform"], (end - start).days + 1, -math.inf)
        found = _frame(conn, select(A.c.id.label("artist_id"), A.c.uuid, A.c.name).where(
            A.c.id.in_([int(i) for i in grown.get("artist_id", [])])))
    return _leaders(grown, found.assign(artist=""), "artist_id")


def _alerts(engine: Engine, start: date, end: date) -> pd.DataFrame:
    """Alerts fired in the period about a roster track or artist, newest first."""
    until = datetime.combine(end + timedelta(days=1), time())
    found = recent_alerts(engine, days=(end - start).days + 1, limit=1000, now=until)
    found = found[found["fired_at"] < until]
    details = [d if isinstance(d, dict) else {} for d in found["details"]]
    tracks, artists = set(roster.roster_track_uuids(engine)), _roster_artists(engine)
    out = found.assign(track_uuid=[d.get("track_uuid") for d in details],
                       artist_uuid=[d.get("artist_uuid") for d in details], chart=[d.get("chart") for d in details])
    mine = [t in tracks or a in artists for t, a in zip(out["track_uuid"], out["artist_uuid"], strict=True)]
    return out[mine][ALERT_COLUMNS].head(LEADERS).reset_index(drop=True) if len(out) else _empty(ALERT_COLUMNS)


def _roster_artists(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(A.c.uuid).where(A.c.id.in_(roster.artist_ids_query()))).scalars())


def _followed(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        tracks = conn.execute(select(func.count()).select_from(roster.track_ids_query().subquery())).scalar_one()
        artists = conn.execute(select(func.count()).select_from(roster.artist_ids_query().subquery())).scalar_one()
    return tracks, artists


def digest_data(engine: Engine, start: date, end: date) -> DigestData:
    """The roster's figures from ``start`` to ``end`` (whole days, both included)."""
    entries, exits, moves = _chart_days(engine, start, end)
    tracks, artists = _followed(engine)
    return DigestData(start, end, tracks, artists, entries, exits, moves, _audience(engine, start, end),
                      _followers(engine, start, end), _alerts(engine, start, end))
