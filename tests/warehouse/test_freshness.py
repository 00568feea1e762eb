"""The data version snapshot pages are checked against: it changes with every write the viewer pages show (a job
run starting and finishing, an audit event: roster, notes, rules, admin actions; a fired alert) and stays put
otherwise; and the common pages' subjects."""

from __future__ import annotations

from datetime import date

from soundcharts_lib.api.payloads import ChartInfo
from soundcharts_lib.curation import alerts, roster
from soundcharts_lib.db import store
from soundcharts_lib.db.runs import finish_run, start_run
from soundcharts_lib.warehouse.freshness import data_version, page_subjects

TRACK = "00000000-0000-4000-8000-000000000001"


def test_the_data_version_changes_with_every_write_the_pages_show(engine):
    seen = [data_version(engine)]

    def changed(what: str) -> None:
        now = data_version(engine)
        assert now not in seen, f"{what} left the data version as it was"
        assert data_version(engine) == now  # reading it changes nothing
        seen.append(now)

    run = start_run(engine, "sync_charts", "cli", {})
    changed("a run starting")
    store.upsert_charts(engine, [ChartInfo(slug="spotify-top-10-xx-daily", name="Top 10", platform="spotify",
                                           frequency="daily")], platform="spotify")
    finish_run(engine, run, status="success", counts={}, errors=[])
    changed("a run finishing")
    roster.add(engine, "track", TRACK, actor="test")
    changed("a roster change")
    alerts.add_rule(engine, "stale", "chart_stale", actor="test")
    changed("a new alert rule")
    assert alerts.evaluate(engine, today=date(2100, 1, 1)).fired  # the chart has no ranking: stale
    changed("a fired alert")


def test_the_common_pages_subjects(engine):
    assert page_subjects(engine) == {"platforms": [], "charts": [], "roster": False, "roster_tracks": []}
    store.upsert_charts(engine, [ChartInfo(slug="deezer-top-10-fr-daily", name="Top", platform="deezer")],
                        platform="deezer")
    roster.add(engine, "track", TRACK, actor="test")
    subjects = page_subjects(engine)
    assert subjects["platforms"] == ["deezer"] and subjects["roster"]
    assert subjects["charts"] == [] and subjects["roster_tracks"] == []  # no ranking stored, the track not yet


def test_charts_come_busiest_first(synced_sqlite_url):
    from collections import Counter

    from conftest import sql

    from soundcharts_lib.db import make_engine

    engine = make_engine(synced_sqlite_url, read_only=True)
    subjects = page_subjects(engine)
    engine.dispose()
    counts = Counter(dict(sql(synced_sqlite_url, "SELECT c.slug, COUNT(*) FROM chart_ranking r JOIN chart c "
                                                 "ON c.id = r.chart_id WHERE r.status = 'success' GROUP BY c.slug")))
    assert subjects["charts"] == sorted(counts, key=lambda slug: (-counts[slug], slug))
    assert subjects["platforms"] == sorted({p for (p,) in sql(synced_sqlite_url, "SELECT slug FROM platform")})
