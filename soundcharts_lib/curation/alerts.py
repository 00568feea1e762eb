"""Alert rules, evaluated against the warehouse after each sync; fired alerts are stored once each.

Rule kinds and their ``params``:

- ``top_entry``: a track enters the top ``n`` of a chart (``chart``: one slug, default every chart): it is in
  the top ``n`` of the chart's latest stored ranking and its previous position was not in the top ``n``;
- ``re_entry``: a track is back on a chart (``chart``, optional ``n``: only back into the top ``n``): its state
  is RE-ENTRY;
- ``audience_growth``: a track's audience on a platform (``platform``, default every one) grew more than
  ``pct`` % in ``days`` days (default 7), from the last stored day back; identifiers present on both days are
  summed; at most one alert per track and platform every ``days`` days;
- ``chart_stale``: an active chart (``chart``, default every chart) has no ranking newer than its period plus
  a grace period (see :mod:`soundcharts_lib.warehouse.health`); once per missing ranking;
- ``artist_growth``: an artist's followers or listeners (``series``: followers or listeners, default both) on a
  platform (``platform``, default every one) grew more than ``pct`` % in ``days`` days (default 7), as
  ``audience_growth`` reads a track's; at most one alert per artist, series and platform every ``days`` days;
- ``artist_entry``: a track of a roster artist (:func:`soundcharts_lib.curation.roster.artist_ids_query`) enters
  a chart (``chart``, optional ``n``: only into the top ``n``): its state is NEW or RE-ENTRY.

Chart rules look at each chart's latest stored ranking when it is at most ``FRESH_DAYS`` old, as
:func:`soundcharts_lib.warehouse.trends.ranking_entries` reads it (the chart pages read the same): previous position and
state are the API's where it sent them, else from stored history (an entry whose state is unknown fires nothing).
``roster_only`` keeps track and artist rules to the roster. Each alert has a ``dedupe_key`` unique per rule, so
evaluating again fires nothing new. Delivery to a rule's webhook is in :mod:`soundcharts_lib.curation.webhooks`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import delete, func, literal, select, union_all
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.curation import audit, growth, roster, webhooks
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.store_artists import SERIES
from soundcharts_lib.db.tables import ALERT, AUD, RULE, TA, A, P, T
from soundcharts_lib.db.upsert import dialect_insert
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.vocab import SLUG_RE, today_utc
from soundcharts_lib.warehouse import health, trends

log = logging.getLogger(__name__)

FRESH_DAYS = 14
SLACK_DAYS = 7  # extra audience days read before the growth window, to find its base day
NAME_MAX = 200


@dataclass(frozen=True)
class Param:
    kind: type
    required: bool = False
    default: object = None
    minimum: float | None = None
    choices: tuple[str, ...] = ()


PARAMS: dict[str, dict[str, Param]] = {
    "top_entry": {"n": Param(int, required=True, minimum=1), "chart": Param(str)},
    "re_entry": {"n": Param(int, minimum=1), "chart": Param(str)},
    "audience_growth": {"pct": Param(float, required=True, minimum=0), "days": Param(int, default=7, minimum=1),
                        "platform": Param(str)},
    "chart_stale": {"chart": Param(str)},
    "artist_growth": {"pct": Param(float, required=True, minimum=0), "days": Param(int, default=7, minimum=1),
                      "platform": Param(str), "series": Param(str, choices=tuple(SERIES))},
    "artist_entry": {"n": Param(int, minimum=1), "chart": Param(str)},
}
KINDS = tuple(PARAMS)  # vocab.ALERT_KINDS names them for the command line without importing pandas


def check_params(kind: str, params: dict | None) -> dict:
    """``params`` checked against ``kind`` with defaults filled; ``ConfigError`` (one line) otherwise."""
    if kind not in PARAMS:
        raise ConfigError(f"unknown alert kind {kind!r} (kinds: {', '.join(KINDS)})")
    spec, given = PARAMS[kind], {k: v for k, v in (params or {}).items() if v is not None}
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ConfigError(f"{kind} takes {', '.join(spec)}; not {', '.join(unknown)}")
    out = {}
    for name, p in spec.items():
        value = given.get(name, p.default)
        if value is None:
            if p.required:
                raise ConfigError(f"{kind} needs {name}")
            continue
        out[name] = _checked(kind, name, p, value)
    return out


def _checked(kind: str, name: str, p: Param, value):
    if p.kind is str:
        if not isinstance(value, str) or not SLUG_RE.match(value):
            raise ConfigError(f"{kind} {name} must be a slug, got {value!r}")
        if p.choices and value not in p.choices:
            raise ConfigError(f"{kind} {name} must be one of {', '.join(p.choices)}, got {value!r}")
        return value
    try:
        number = p.kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or (p.kind is int and number != float(value)) \
            or not math.isfinite(number) or (p.minimum is not None and number < p.minimum):
        raise ConfigError(f"{kind} {name} must be a number >= {p.minimum:g}, got {value!r}")
    return number


def check_webhook(url: str | None) -> str | None:
    """An http(s) URL with a host, or None; ``ConfigError`` otherwise (the URL itself is not repeated: it may
    hold a token)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 1000
        usable = usable and (parts.port is None or parts.port > 0)  # a port out of 1-65535 raises ValueError
    except ValueError:
        usable = False
    if not usable:
        raise ConfigError("webhook must be an http:// or https:// URL with a host (at most 1000 characters)")
    return url


def shown_url(url: str | None) -> str:
    """A webhook URL as it may be shown: scheme and host only (paths often hold tokens)."""
    if not isinstance(url, str) or not url:
        return ""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


# -- rules --------------------------------------------------------------------------------------------------

def add_rule(engine: Engine, name: str, kind: str, params: dict | None = None, *, roster_only: bool = False,
             webhook_url: str | None = None, enabled: bool = True, actor: str | None = None) -> int:
    """Store a checked rule; its id. ``ConfigError`` for a bad rule or a name already taken. Audited under
    ``actor`` (default: :func:`soundcharts_lib.curation.audit.actor_from_env`)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ConfigError(f"a rule needs a name of 1 to {NAME_MAX} characters")
    params = check_params(kind, params)
    if roster_only and kind == "chart_stale":
        raise ConfigError("roster_only applies to track rules, not chart_stale")
    webhook_url = check_webhook(webhook_url)
    with engine.begin() as conn:
        stmt = dialect_insert(conn, RULE).values(
            name=name, kind=kind, params=params, roster_only=bool(roster_only), webhook_url=webhook_url,
            enabled=bool(enabled), created_at=utcnow()).on_conflict_do_nothing()
        rule_id = conn.execute(stmt.returning(RULE.c.id)).scalar()
    if rule_id is None:
        raise ConfigError(f"an alert rule named {name!r} exists already")
    audit.record(engine, actor=actor or audit.actor_from_env(), action="alerts.rule.add", target=name,
                 outcome="success", details={"kind": kind, "params": params, "roster_only": roster_only,
                                             "webhook": shown_url(webhook_url)})
    return rule_id


def remove_rule(engine: Engine, name: str, *, actor: str | None = None) -> None:
    """Delete a rule and its alerts; ``ConfigError`` when there is no such rule."""
    with engine.begin() as conn:
        gone = conn.execute(delete(RULE).where(RULE.c.name == name)).rowcount
    if not gone:
        raise ConfigError(f"no alert rule named {name!r}")
    audit.record(engine, actor=actor or audit.actor_from_env(), action="alerts.rule.remove", target=name,
                 outcome="success")


def rules(engine: Engine) -> pd.DataFrame:
    """Rules by name: id, name, kind, params, roster_only, webhook (scheme and host only), enabled, created_at,
    alerts (fired so far)."""
    fired = select(func.count()).select_from(ALERT).where(ALERT.c.rule_id == RULE.c.id).scalar_subquery()
    q = (select(RULE.c.id, RULE.c.name, RULE.c.kind, RULE.c.params, RULE.c.roster_only, RULE.c.webhook_url,
                RULE.c.enabled, RULE.c.created_at, fired.label("alerts")).order_by(RULE.c.name))
    with engine.connect() as conn:
        frame = _frame(conn, q)
    frame.insert(5, "webhook", [shown_url(u) for u in frame.pop("webhook_url")])
    return frame


# -- what fires -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    key: str
    subject: str
    message: str
    details: dict


@dataclass
class Evaluation:
    rules: int = 0
    fired: list[dict] = field(default_factory=list)  # id, rule, kind, subject, message of each new alert
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.fired)} new alerts from {self.rules} rules"
        return text + (f", {len(self.errors)} rules failed" if self.errors else "")


def _frame(conn: Connection, query) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _text(value) -> str | None:
    """A text cell as ``str``, or None when missing (pandas reads SQL NULLs as NaN)."""
    return None if value is None or pd.isna(value) else str(value)


def _who(row) -> str:
    artist = _text(row["artist"])
    return f"{row['name']} by {artist}" if artist else str(row["name"])


def _chart_moves(conn: Connection, params: dict, tracks, today: date) -> pd.DataFrame:
    """The entries of each chart's latest ranking, when at most ``FRESH_DAYS`` old, whose state is known."""
    pairs = trends.ranking_pairs(conn, chart=params.get("chart"))
    moved = trends.ranking_entries(conn, pairs[pairs["date"] >= today - timedelta(days=FRESH_DAYS)], tracks).entries
    return moved[moved["status"].notna()]


def _entry_details(row) -> dict:
    previous = row["previous_position"]
    return {"chart": row["chart"], "chart_name": row["chart_name"], "date": row["date"].isoformat(),
            "track_uuid": row["uuid"], "track": row["name"], "artist": row["artist"] or None,
            "position": int(row["position"]), "previous_position": None if pd.isna(previous) else int(previous)}


def _entry_key(row) -> str:
    return f"{row['chart']}:{row['uuid']}:{row['date']}"


def _top_entries(conn: Connection, params: dict, tracks, today: date) -> list[Candidate]:
    n = params["n"]
    moved = _chart_moves(conn, params, tracks, today)
    entered = moved[(moved["position"] <= n) & ~(moved["previous_position"] <= n).fillna(False).astype(bool)]
    out = []
    for _, row in entered.iterrows():
        was = "not in the previous ranking" if pd.isna(row["previous_position"]) \
            else f"up from #{row['previous_position']}"
        out.append(Candidate(
            _entry_key(row), f"Top {n}: {row['name']} on {row['chart_name']}",
            f"{_who(row)} is #{row['position']} on {row['chart_name']} on {row['date']} ({was}).",
            _entry_details(row)))
    return out


def _re_entries(conn: Connection, params: dict, tracks, today: date) -> list[Candidate]:
    moved = _chart_moves(conn, params, tracks, today)
    back = moved[moved["status"] == "RE-ENTRY"]
    if params.get("n"):
        back = back[back["position"] <= params["n"]]
    return [Candidate(_entry_key(row), f"Back on {row['chart_name']}: {row['name']}",
                      f"{_who(row)} is back on {row['chart_name']} at #{row['position']} on {row['date']}.",
                      _entry_details(row))
            for _, row in back.iterrows()]


def _grew(row, days: int, what: str, fired: dict, key: tuple[str, str]) -> tuple[str, dict] | None:
    """What a grown row says (its message's end, its details), or None when ``key`` fired less than ``days`` days
    before."""
    previous = fired.get(key)
    if previous is not None and (row["to_date"] - previous).days < days:
        return None
    return (f"{what} grew {row['pct']:.1f}% in {days} days ({row['from_value']:,} on {row['from_date']} to "
            f"{row['to_value']:,} on {row['to_date']})."), {
        "platform": row["platform"], "days": days, "from_date": row["from_date"].isoformat(),
        "to_date": row["to_date"].isoformat(), "from_value": int(row["from_value"]),
        "to_value": int(row["to_value"]), "pct": float(row["pct"])}


def _growth(conn: Connection, params: dict, tracks, today: date, fired: dict) -> list[Candidate]:
    days, pct = params["days"], params["pct"]
    q = (select(AUD.c.track_id, P.c.slug.label("platform"), AUD.c.platform_identifier.label("ident"), AUD.c.date,
                AUD.c.audience_value.label("value"))
         .join(P, P.c.id == AUD.c.platform_id)
         .where(AUD.c.date.between(today - timedelta(days=days + SLACK_DAYS), today)))
    if params.get("platform"):
        q = q.where(P.c.slug == params["platform"])
    if tracks is not None:
        q = q.where(AUD.c.track_id.in_(tracks))
    grown = growth.grown(_frame(conn, q), ["track_id", "platform"], days, pct)
    if grown.empty:
        return []
    names = select(T.c.id.label("track_id"), T.c.uuid, T.c.name, func.coalesce(T.c.credit_name, "").label("artist"))
    grown = grown.merge(_frame(conn, names.where(T.c.id.in_([int(i) for i in grown["track_id"]]))), on="track_id")
    out = []
    for _, row in grown.iterrows():
        said = _grew(row, days, f"{row['platform']} audience", fired, (row["uuid"], row["platform"]))
        if said:
            out.append(Candidate(
                f"{row['uuid']}:{row['platform']}:{row['to_date']}",
                f"{row['platform']} audience +{row['pct']:.1f}%: {row['name']}", f"{_who(row)}: {said[0]}",
                {"track_uuid": row["uuid"], "track": row["name"], "artist": row["artist"] or None, **said[1]}))
    return out


def _artist_growth(conn: Connection, params: dict, artists, today: date, fired: dict) -> list[Candidate]:
    """``audience_growth`` for artists: each series (followers, listeners) a value per day, no identifiers."""
    days, pct = params["days"], params["pct"]
    parts = []
    for series, (table, column) in SERIES.items():
        if params.get("series") in (None, series):
            q = (select(table.c.artist_id, literal(series).label("series"), P.c.slug.label("platform"),
                        literal(series).label("ident"), table.c.date, table.c[column].label("value"))
                 .join(P, P.c.id == table.c.platform_id)
                 .where(table.c.date.between(today - timedelta(days=days + SLACK_DAYS), today)))
            if params.get("platform"):
                q = q.where(P.c.slug == params["platform"])
            if artists is not None:
                q = q.where(table.c.artist_id.in_(artists))
            parts.append(q)
    grown = growth.grown(_frame(conn, union_all(*parts)), ["artist_id", "series", "platform"], days, pct)
    if grown.empty:
        return []
    names = select(A.c.id.label("artist_id"), A.c.uuid, A.c.name).where(
        A.c.id.in_([int(i) for i in grown["artist_id"]]))
    out = []
    for _, row in grown.merge(_frame(conn, names), on="artist_id").iterrows():
        what = f"{row['platform']} {row['series']}"
        said = _grew(row, days, what, fired, (f"{row['uuid']}:{row['series']}", row["platform"]))
        if said:
            out.append(Candidate(
                f"{row['uuid']}:{row['series']}:{row['platform']}:{row['to_date']}",
                f"{what} +{row['pct']:.1f}%: {row['name']}", f"{row['name']}: {said[0]}",
                {"artist_uuid": row["uuid"], "artist": row["name"], "series": row["series"], **said[1]}))
    return out


def _artist_entries(conn: Connection, params: dict, today: date) -> list[Candidate]:
    followed = roster.artist_ids_query()
    moved = _chart_moves(conn, params, select(TA.c.track_id).where(TA.c.artist_id.in_(followed)), today)
    entered = moved[moved["status"].isin(["NEW", "RE-ENTRY"])]
    if params.get("n"):
        entered = entered[entered["position"] <= params["n"]]
    if entered.empty:
        return []
    credited = (select(T.c.uuid, A.c.uuid.label("artist_uuid"), A.c.name).join(TA, TA.c.track_id == T.c.id)
                .join(A, A.c.id == TA.c.artist_id).where(A.c.id.in_(followed), T.c.uuid.in_(list(entered["uuid"])))
                .order_by(T.c.uuid, TA.c.position))
    by_track: dict[str, list[dict]] = {}
    for uuid, artist_uuid, name in conn.execute(credited):
        by_track.setdefault(uuid, []).append({"uuid": artist_uuid, "name": name})
    out = []
    for _, row in entered.iterrows():
        names = " & ".join(a["name"] for a in by_track.get(row["uuid"], []))
        how = "new on" if row["status"] == "NEW" else "back on"
        out.append(Candidate(
            _entry_key(row), f"{names}: {row['name']} {how} {row['chart_name']}",
            f"{names}'s {row['name']} is {how} {row['chart_name']} at #{row['position']} on {row['date']}.",
            {**_entry_details(row), "status": row["status"], "roster_artists": by_track.get(row["uuid"], [])}))
    return out


def _stale(engine: Engine, params: dict, today: date) -> list[Candidate]:
    charts = health.chart_health(engine, today=today)
    charts = charts[charts["is_active"].astype(bool) & charts["stale"]]
    if params.get("chart"):
        charts = charts[charts["slug"] == params["chart"]]
    out = []
    for _, row in charts.iterrows():
        last = row["last_ranking_date"]
        since = "has never had a ranking stored" if pd.isna(last) else f"has no ranking newer than {last}"
        out.append(Candidate(f"{row['slug']}:{'never' if pd.isna(last) else last}",
                             f"Chart stale: {row['name']}",
                             f"{row['name']} ({row['slug']}, {row['platform']}) {since} "
                             f"({row['consecutive_failures']} failed syncs in a row).",
                             {"chart": row["slug"], "chart_name": row["name"], "platform": row["platform"],
                              "last_ranking_date": None if pd.isna(last) else last.isoformat(),
                              "consecutive_failures": int(row["consecutive_failures"]),
                              "last_error": _text(row["last_error"])}))
    return out


@dataclass(frozen=True)
class _Rule:
    id: int
    name: str
    kind: str
    params: dict
    roster_only: bool


def _candidates(engine: Engine, rule: _Rule, today: date) -> list[Candidate]:
    if rule.kind == "chart_stale":
        return _stale(engine, rule.params, today)
    tracks = roster.track_ids_query() if rule.roster_only else None
    finders: dict[str, Callable[..., list[Candidate]]] = {"top_entry": _top_entries, "re_entry": _re_entries}
    with engine.connect() as conn:
        if rule.kind == "audience_growth":
            return _growth(conn, rule.params, tracks, today, growth.fired(conn, rule.id))
        if rule.kind == "artist_growth":
            artists = roster.artist_ids_query() if rule.roster_only else None
            return _artist_growth(conn, rule.params, artists, today, growth.fired(conn, rule.id))
        if rule.kind == "artist_entry":
            return _artist_entries(conn, rule.params, today)
        return finders[rule.kind](conn, rule.params, tracks, today)


def _store(engine: Engine, rule: _Rule, candidates: list[Candidate]) -> list[dict]:
    """Insert the candidates not stored yet (one transaction); the new alerts."""
    fired = []
    with engine.begin() as conn:
        for cand in candidates:
            stmt = dialect_insert(conn, ALERT).values(
                rule_id=rule.id, dedupe_key=cand.key[:500], fired_at=utcnow(), subject=cand.subject[:500],
                message=cand.message, details=cand.details, delivery_attempts=0).on_conflict_do_nothing()
            new_id = conn.execute(stmt.returning(ALERT.c.id)).scalar()
            if new_id is not None:
                fired.append({"id": new_id, "rule": rule.name, "kind": rule.kind, "subject": cand.subject,
                              "message": cand.message})
    return fired


def evaluate(engine: Engine, *, today: date | None = None) -> Evaluation:
    """Evaluate every enabled rule and store the alerts not stored yet (a rule that fails is reported in
    ``errors`` and the others still run)."""
    today = today or today_utc()
    result = Evaluation()
    q = (select(RULE.c.id, RULE.c.name, RULE.c.kind, RULE.c.params, RULE.c.roster_only)
         .where(RULE.c.enabled.is_(True)).order_by(RULE.c.id))
    with engine.connect() as conn:
        enabled = [_Rule(*row) for row in conn.execute(q)]
    for rule in enabled:
        result.rules += 1
        try:
            rule = _Rule(rule.id, rule.name, rule.kind, check_params(rule.kind, rule.params), rule.roster_only)
            result.fired.extend(_store(engine, rule, _candidates(engine, rule, today)))
        except Exception as exc:  # one bad rule does not stop the others
            log.warning("alert rule %r failed: %s: %s", rule.name, type(exc).__name__, exc)
            result.errors.append(f"{rule.name}: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}")
    return result


def after_sync(engine: Engine, *, today: date | None = None, deliver: bool = True) -> str:
    """What a sync job runs at its end: evaluate the rules, then deliver to webhooks; one line saying what
    happened. It never raises: alerts must not change the sync's own outcome (a failure is logged)."""
    try:
        text = f"alerts: {evaluate(engine, today=today).summary()}"
        if deliver:
            text += f"; webhooks: {webhooks.deliver(engine).summary()}"
        return text
    except Exception as exc:
        log.warning("alerts not evaluated: %s: %s", type(exc).__name__, exc)
        return f"alerts: not evaluated ({type(exc).__name__})"


# -- reading ------------------------------------------------------------------------------------------------

def recent_alerts(engine: Engine, *, days: int = 7, limit: int = 50, now: datetime | None = None) -> pd.DataFrame:
    """Alerts fired in the last ``days`` days before ``now`` (naive UTC), newest first: id, fired_at, rule, kind,
    subject, message, details, delivered (True, False when a delivery failed so far, None without a webhook),
    delivery_error."""
    since = (now or utcnow()) - timedelta(days=days)
    q = (select(ALERT.c.id, ALERT.c.fired_at, RULE.c.name.label("rule"), RULE.c.kind, ALERT.c.subject,
                ALERT.c.message, ALERT.c.details, RULE.c.webhook_url, ALERT.c.delivered_at, ALERT.c.delivery_error)
         .join(RULE, RULE.c.id == ALERT.c.rule_id).where(ALERT.c.fired_at >= since)
         .order_by(ALERT.c.fired_at.desc(), ALERT.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        frame = _frame(conn, q)
    delivered = [not pd.isna(at) if isinstance(url, str) else None
                 for url, at in zip(frame.pop("webhook_url"), frame.pop("delivered_at"), strict=True)]
    frame.insert(7, "delivered", pd.Series(delivered, dtype=object))
    return frame
