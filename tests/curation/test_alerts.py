"""Alert rules: checks, each rule kind on a small known warehouse, roster-only rules, idempotent evaluation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from soundcharts_lib.curation import alerts, roster
from soundcharts_lib.db.models import (
    Alert,
    AlertRule,
    AuditEvent,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    Track,
    TrackAudience,
)
from soundcharts_lib.errors import ConfigError

D = date(2026, 3, 10)
UUIDS = {i: f"{i}{i}{i}{i}{i}{i}{i}{i}-0000-0000-0000-000000000000" for i in range(1, 7)}


def rankings(conn, chart_id: int, days: dict[date, dict[int, int]], states: dict | None = None) -> None:
    """``days``: {date: {track number: position}}; ``states``: {(date, track): entry_state}."""
    for day, positions in days.items():
        rid = conn.execute(insert(ChartRanking).values(chart_id=chart_id, ranking_date=day, date_raw=str(day),
                                                       entry_count=len(positions)).returning(ChartRanking.id)
                           ).scalar_one()
        conn.execute(insert(ChartRankingEntry), [
            {"ranking_id": rid, "track_id": t, "position": pos, "entry_state": (states or {}).get((day, t))}
            for t, pos in positions.items()])


def audience(conn, track: int, platform: int, ident: str, values: dict[date, int]) -> None:
    conn.execute(insert(TrackAudience), [{"track_id": track, "platform_id": platform, "platform_identifier": ident,
                                          "date": d, "audience_value": v} for d, v in values.items()])


@pytest.fixture
def db(engine):
    """Chart ``top`` (daily, rankings D-2, D-1, D), ``solo`` (one fresh ranking), ``old-weekly`` (stale: last
    ranking D-20), ``retired`` (inactive, never ranked); spotify / youtube audience for tracks 1 and 2."""
    day = lambda n: D - timedelta(days=n)  # noqa: E731
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify", "supports_charts": True,
                                         "supports_audience": True},
                                        {"id": 2, "slug": "youtube", "name": "YouTube", "supports_charts": False,
                                         "supports_audience": True}])
        conn.execute(insert(Track), [{"id": i, "uuid": u, "name": f"Song {i}", "credit_name": "Band" if i < 6
                                      else None} for i, u in UUIDS.items()])
        base = {"platform_id": 1, "frequency": "daily", "last_ranking_date": D, "is_active": True,
                "consecutive_failures": 0, "last_error": None}
        conn.execute(insert(Chart), [base | c for c in (
            {"id": 1, "slug": "top", "name": "Top Global"},
            {"id": 2, "slug": "solo", "name": "Solo"},
            {"id": 3, "slug": "old-weekly", "name": "Old Weekly", "frequency": "weekly", "last_ranking_date": day(20),
             "consecutive_failures": 2, "last_error": "HTTP 500"},
            {"id": 4, "slug": "retired", "name": "Retired", "last_ranking_date": None, "is_active": False})])
        rankings(conn, 1, {day(2): {1: 1, 2: 2, 3: 3, 5: 4},
                           day(1): {1: 1, 2: 2, 5: 3, 4: 6},
                           D: {3: 1, 1: 2, 4: 3, 2: 4, 6: 5}}, states={(D, 6): "re-entry"})
        rankings(conn, 2, {D: {1: 1, 2: 2}})
        rankings(conn, 3, {day(21): {1: 1}, day(20): {2: 1}})
        audience(conn, 1, 1, "a", {day(n): 1200 - 20 * n for n in range(0, 11)} | {day(7): 1000})
        audience(conn, 1, 1, "b", {day(n): 5000 for n in range(0, 4)})  # a new identifier: not on the base day
        audience(conn, 2, 1, "c", {day(n): 1050 - 50 * (n // 7) for n in range(0, 11)})  # +5 %
        audience(conn, 1, 2, "y", {day(8): 100, day(3): 130, D: 150})  # base day D-7 missing: D-8 is used
    return engine


def fired(engine, name: str) -> list[str]:
    q = (select(Alert.dedupe_key).join(AlertRule, AlertRule.id == Alert.rule_id).where(AlertRule.name == name)
         .order_by(Alert.id))
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("top", {}, "unknown alert kind 'top' \\(kinds: top_entry, re_entry, audience_growth, chart_stale, "
              "artist_growth, artist_entry\\)"),
    ("top_entry", {}, "top_entry needs n"),
    ("top_entry", {"n": 0}, "top_entry n must be a number >= 1, got 0"),
    ("top_entry", {"n": 2.5}, "top_entry n must be a number >= 1, got 2.5"),
    ("top_entry", {"n": True}, "top_entry n must be a number"),
    ("top_entry", {"n": 10, "chart": "Top 50!"}, "top_entry chart must be a slug"),
    ("top_entry", {"n": 10, "pct": 5}, "top_entry takes n, chart; not pct"),
    ("audience_growth", {"pct": "lots"}, "audience_growth pct must be a number >= 0, got 'lots'"),
    ("audience_growth", {"pct": float("nan")}, "audience_growth pct must be a number"),
])
def test_bad_rules_are_one_line_errors(kind, params, message):
    with pytest.raises(ConfigError, match=message):
        alerts.check_params(kind, params)


def test_params_get_defaults_and_types():
    assert alerts.check_params("audience_growth", {"pct": "12.5"}) == {"pct": 12.5, "days": 7}
    assert alerts.check_params("top_entry", {"n": "10", "chart": None}) == {"n": 10}
    assert alerts.check_params("chart_stale", None) == {}


def test_rules_add_list_remove(db):
    token = "T0PSECRET"
    alerts.add_rule(db, "Top 10 anywhere", "top_entry", {"n": 10}, webhook_url=f"https://hooks.example.com/{token}")
    alerts.add_rule(db, "Stale", "chart_stale")
    with pytest.raises(ConfigError, match="an alert rule named 'Stale' exists already"):
        alerts.add_rule(db, "Stale", "chart_stale")
    with pytest.raises(ConfigError, match="roster_only applies to track rules"):
        alerts.add_rule(db, "Mine stale", "chart_stale", roster_only=True)
    with pytest.raises(ConfigError, match="webhook must be an http:// or https:// URL") as info:
        alerts.add_rule(db, "Bad hook", "chart_stale", webhook_url=f"ftp://x/{token}")
    assert token not in str(info.value)
    frame = alerts.rules(db)
    assert frame[["name", "kind", "params", "webhook", "roster_only", "enabled", "alerts"]].values.tolist() == [
        ["Stale", "chart_stale", {}, "", False, True, 0],
        ["Top 10 anywhere", "top_entry", {"n": 10}, "https://hooks.example.com/…", False, True, 0]]
    alerts.remove_rule(db, "Stale")
    with pytest.raises(ConfigError, match="no alert rule named 'Stale'"):
        alerts.remove_rule(db, "Stale")
    with db.connect() as conn:
        audit = conn.execute(select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id)).all()
    assert [a for a, _ in audit] == ["alerts.rule.add", "alerts.rule.add", "alerts.rule.remove"]
    assert token not in repr(audit)


def test_top_entry(db):
    alerts.add_rule(db, "top3", "top_entry", {"n": 3, "chart": "top"})
    alerts.add_rule(db, "top1 anywhere", "top_entry", {"n": 1})
    result = alerts.evaluate(db, today=D)
    assert result.rules == 2 and not result.errors
    assert fired(db, "top3") == [f"top:{UUIDS[3]}:{D}", f"top:{UUIDS[4]}:{D}"]
    assert fired(db, "top1 anywhere") == [f"top:{UUIDS[3]}:{D}"]  # "solo" has no previous ranking to enter from
    messages = {f["message"] for f in result.fired}
    assert f"Song 3 by Band is #1 on Top Global on {D} (not in the previous ranking)." in messages
    assert f"Song 4 by Band is #3 on Top Global on {D} (up from #6)." in messages
    with db.connect() as conn:
        details = conn.execute(select(Alert.details).where(Alert.dedupe_key == f"top:{UUIDS[4]}:{D}")).scalar()
    assert details == {"chart": "top", "chart_name": "Top Global", "date": D.isoformat(), "track_uuid": UUIDS[4],
                       "track": "Song 4", "artist": "Band", "position": 3, "previous_position": 6}


def test_evaluating_again_fires_nothing_new(db):
    alerts.add_rule(db, "top3", "top_entry", {"n": 3})
    alerts.add_rule(db, "back", "re_entry")
    alerts.add_rule(db, "stale", "chart_stale")
    first = alerts.evaluate(db, today=D)
    assert len(first.fired) == 5
    assert alerts.evaluate(db, today=D).fired == [] and alerts.evaluate(db, today=D + timedelta(days=1)).fired == []
    with db.connect() as conn:
        assert len(conn.execute(select(Alert.id)).all()) == 5


def test_re_entry_from_history_or_the_api(db):
    alerts.add_rule(db, "back", "re_entry", {"chart": "top"})
    alerts.add_rule(db, "back top4", "re_entry", {"n": 4})
    result = alerts.evaluate(db, today=D)
    assert fired(db, "back") == [f"top:{UUIDS[3]}:{D}", f"top:{UUIDS[6]}:{D}"]  # 3: seen on D-2; 6: the API says so
    assert fired(db, "back top4") == [f"top:{UUIDS[3]}:{D}"]
    assert f"Song 6 is back on Top Global at #5 on {D}." in {f["message"] for f in result.fired}


def test_the_apis_fields_decide_where_it_sent_them(db):
    """On "solo" (one stored ranking, so stored history knows nothing) the API says track 1 is back (entryState ""
    with oldPosition 0 and an earlier entryDate) and track 2 climbed from #9; on "top" it says track 3 was #2
    yesterday, although stored history has it absent: no top-3 entry, no re-entry."""
    e, r = ChartRankingEntry.__table__, ChartRanking.__table__
    solo = select(r.c.id).where(r.c.chart_id == 2).scalar_subquery()
    top_today = select(r.c.id).where(r.c.chart_id == 1, r.c.ranking_date == D).scalar_subquery()
    with db.begin() as conn:
        conn.execute(e.update().where(e.c.ranking_id == solo, e.c.track_id == 1).values(
            entry_state="", old_position=0, entry_date=D - timedelta(days=30)))
        conn.execute(e.update().where(e.c.ranking_id == solo, e.c.track_id == 2).values(old_position=9))
        conn.execute(e.update().where(e.c.ranking_id == top_today, e.c.track_id == 3).values(
            entry_state="UP", old_position=2))
    alerts.add_rule(db, "top3", "top_entry", {"n": 3})
    alerts.add_rule(db, "back", "re_entry")
    result = alerts.evaluate(db, today=D)
    assert fired(db, "top3") == [f"solo:{UUIDS[1]}:{D}", f"solo:{UUIDS[2]}:{D}", f"top:{UUIDS[4]}:{D}"]
    assert fired(db, "back") == [f"solo:{UUIDS[1]}:{D}", f"top:{UUIDS[6]}:{D}"]
    assert f"Song 2 by Band is #2 on Solo on {D} (up from #9)." in {f["message"] for f in result.fired}


def test_old_rankings_are_not_news(db):
    alerts.add_rule(db, "top1", "top_entry", {"n": 1})
    assert alerts.evaluate(db, today=D + timedelta(days=alerts.FRESH_DAYS + 1)).fired == []


def test_roster_only(db):
    alerts.add_rule(db, "mine", "top_entry", {"n": 3}, roster_only=True)
    assert alerts.evaluate(db, today=D).fired == []  # empty roster
    roster.add(db, "track", UUIDS[4])
    assert fired(db, "mine") == [] and len(alerts.evaluate(db, today=D).fired) == 1
    assert fired(db, "mine") == [f"top:{UUIDS[4]}:{D}"]


def test_audience_growth_uses_identifiers_on_both_days_and_cools_down(db):
    alerts.add_rule(db, "growth", "audience_growth", {"pct": 10})
    alerts.add_rule(db, "yt growth", "audience_growth", {"pct": 49, "platform": "youtube", "days": 7})
    result = alerts.evaluate(db, today=D)
    assert fired(db, "growth") == [f"{UUIDS[1]}:spotify:{D}", f"{UUIDS[1]}:youtube:{D}"]
    assert fired(db, "yt growth") == [f"{UUIDS[1]}:youtube:{D}"]
    spotify = next(f for f in result.fired if f["rule"] == "growth" and "spotify" in f["subject"])
    assert spotify["subject"] == "spotify audience +20.0%: Song 1"
    assert spotify["message"] == (f"Song 1 by Band: spotify audience grew 20.0% in 7 days (1,000 on "
                                  f"{D - timedelta(days=7)} to 1,200 on {D}).")
    with db.begin() as conn:  # new days: still growing, but alerted less than 7 days ago
        audience(conn, 1, 1, "a", {D + timedelta(days=n): 1200 + 100 * n for n in range(1, 8)})
    assert alerts.evaluate(db, today=D + timedelta(days=6)).fired == []
    again = alerts.evaluate(db, today=D + timedelta(days=7))
    assert [f["subject"] for f in again.fired] == ["spotify audience +58.3%: Song 1"]


def test_chart_stale_fires_once_per_missing_ranking(db):
    alerts.add_rule(db, "stale", "chart_stale")
    result = alerts.evaluate(db, today=D)
    assert fired(db, "stale") == [f"old-weekly:{D - timedelta(days=20)}"]  # retired charts are not watched
    assert result.fired[0]["message"] == (f"Old Weekly (old-weekly, spotify) has no ranking newer than "
                                          f"{D - timedelta(days=20)} (2 failed syncs in a row).")
    later = alerts.evaluate(db, today=D + timedelta(days=30))  # the others are stale by then; old-weekly not again
    assert [f["subject"] for f in later.fired] == ["Chart stale: Solo", "Chart stale: Top Global"]


def test_a_broken_rule_does_not_stop_the_others(db):
    with db.begin() as conn:
        conn.execute(insert(AlertRule).values(name="broken", kind="top_entry", params={"n": "many"}))
    alerts.add_rule(db, "stale", "chart_stale")
    result = alerts.evaluate(db, today=D)
    assert result.rules == 2 and len(result.fired) == 1
    assert result.errors == ["broken: ConfigError: top_entry n must be a number >= 1, got 'many'"]
    assert result.summary() == "1 new alerts from 2 rules, 1 rules failed"


def test_disabled_rules_are_skipped(db):
    alerts.add_rule(db, "stale", "chart_stale", enabled=False)
    assert alerts.evaluate(db, today=D).rules == 0


def test_recent_alerts_for_the_overview(db):
    alerts.add_rule(db, "stale", "chart_stale", webhook_url="http://127.0.0.1:9/hook")
    alerts.add_rule(db, "top3", "top_entry", {"n": 3})
    alerts.evaluate(db, today=D)
    frame = alerts.recent_alerts(db)
    assert len(frame) == 3 and frame["id"].is_monotonic_decreasing
    assert frame.columns.tolist() == ["id", "fired_at", "rule", "kind", "subject", "message", "details",
                                      "delivered", "delivery_error"]
    assert frame.set_index("rule")["delivered"].to_dict() == {"top3": None, "stale": False}
    assert alerts.recent_alerts(db, limit=1)["rule"].tolist() == ["top3"]
    assert alerts.recent_alerts(db, days=1, now=frame["fired_at"].max() + timedelta(days=2)).empty


def test_after_sync_never_raises(db, tmp_path):
    from soundcharts_lib.db import make_engine

    alerts.add_rule(db, "stale", "chart_stale")
    assert alerts.after_sync(db, today=D) == "alerts: 1 new alerts from 1 rules; webhooks: 0 delivered, 0 failed, " \
                                             "0 waiting"
    empty = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")
    assert alerts.after_sync(empty) == "alerts: not evaluated (OperationalError)"
