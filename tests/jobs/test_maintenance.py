"""Retention cleanup and integrity checks on data synced from the local API (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from conftest import local_client
from sqlalchemy import func, insert, select, text, update

from soundcharts_lib.config import Settings
from soundcharts_lib.db import is_postgres
from soundcharts_lib.db.models import (
    AuditEvent,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    SyncRun,
    Track,
    TrackAudience,
    utcnow,
)
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.maintenance import check_database, cleanup, prune_archives, retention_policy
from soundcharts_lib.jobs.sync import ChartSync, today_utc

R, E, T, A = ChartRanking.__table__, ChartRankingEntry.__table__, Track.__table__, TrackAudience.__table__
RUN, AUDIT, C = SyncRun.__table__, AuditEvent.__table__, Chart.__table__
CHART = "spotify-top-200-fr-daily"
DAYS = 8


@pytest.fixture
def filled(engine, localapi):
    """8 days of one daily chart and 60 days of audience for 3 of its tracks, by the real sync and processor."""
    with local_client(localapi) as client:
        sync = ChartSync(client, engine, progress=False).run(charts=[CHART], backfill_days=DAYS)
        assert sync.status == "success", sync.errors
        audience = AudienceDataProcessor(client, engine, progress=False).run(
            platforms=["spotify"], limit=3, start=today_utc() - timedelta(days=59))
        assert audience.status == "success" and audience.points, audience.errors
    return engine


def value(engine, query):
    with engine.connect() as conn:
        return conn.execute(query if not isinstance(query, str) else text(query)).scalar_one()


def counts(engine) -> dict[str, int]:
    return {t.name: value(engine, select(func.count()).select_from(t))
            for t in (R, E, T, A, C, Platform.__table__)}


@contextmanager
def unchecked(engine):
    """A transaction with foreign keys not enforced: how orphans get in (another tool, a manual fix)."""
    if is_postgres(engine):
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        yield conn
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


# --- retention -----------------------------------------------------------------------------------------------------

def test_cleanup_deletes_whole_rankings_past_the_retention_in_batches_and_nothing_else(filled):
    engine = filled
    before = counts(engine)
    cutoff = utcnow().date() - timedelta(days=4)
    with engine.connect() as conn:
        dates = conn.execute(select(R.c.ranking_date).order_by(R.c.ranking_date)).scalars().all()
        entries_gone = conn.execute(select(func.sum(R.c.entry_count)).where(R.c.ranking_date < cutoff)).scalar()
    gone, kept = [d for d in dates if d < cutoff], [d for d in dates if d >= cutoff]
    assert gone and kept

    dry = cleanup(engine, {"rankings": 4}, dry_run=True)
    assert dry.deleted == {"rankings": len(gone), "entries": entries_gone}
    assert counts(engine) == before and "would delete" in dry.summary()

    result = cleanup(engine, {"rankings": 4}, batch=3)
    assert result.deleted == dry.deleted
    after = counts(engine)
    with engine.connect() as conn:
        assert conn.execute(select(R.c.ranking_date).order_by(R.c.ranking_date)).scalars().all() == kept
        per_ranking = conn.execute(select(R.c.entry_count, func.count(E.c.id)).join(E, E.c.ranking_id == R.c.id)
                                   .group_by(R.c.id, R.c.entry_count)).all()
        audit = conn.execute(select(AUDIT.c.action, AUDIT.c.outcome, AUDIT.c.details)).one()
    assert after["chart_ranking_entry"] == before["chart_ranking_entry"] - entries_gone
    assert len(per_ranking) == len(kept) and all(n == expected for expected, n in per_ranking)
    assert {k: after[k] for k in ("track", "chart", "platform", "track_audience")} == \
           {k: before[k] for k in ("track", "chart", "platform", "track_audience")}
    assert audit[:2] == ("maintenance.cleanup", "success") and audit[2]["deleted"]["rankings"] == len(gone)


def test_audience_retention_keeps_the_recent_days_of_every_series(filled):
    engine = filled
    cutoff = utcnow().date() - timedelta(days=30)
    older = value(engine, select(func.count()).select_from(A).where(A.c.date < cutoff))
    newer = value(engine, select(func.count()).select_from(A).where(A.c.date >= cutoff))
    assert older and newer
    assert cleanup(engine, {"audience": 30}).deleted == {"audience": older}
    assert value(engine, select(func.count()).select_from(A)) == newer
    assert value(engine, select(func.min(A.c.date))) >= cutoff


def test_old_runs_and_audit_events_go_but_each_jobs_latest_run_and_running_ones_stay(engine):
    now = utcnow()
    old = now - timedelta(days=40)
    runs = [("sync_charts", "success", old - timedelta(days=2)), ("sync_charts", "failed", old),
            ("sync_charts", "success", now), ("maintenance", "success", old),
            ("fetch_audience", "success", old - timedelta(days=1)), ("fetch_audience", "running", old)]
    with engine.begin() as conn:
        for kind, status, started in runs:
            conn.execute(insert(RUN).values(kind=kind, trigger="cron", status=status, started_at=started))
        conn.execute(insert(AUDIT).values(at=old, actor="cli:x", action="old", outcome="success"))
        conn.execute(insert(AUDIT).values(at=now, actor="cli:x", action="new", outcome="success"))
    result = cleanup(engine, {"runs": 30, "audit": 30})
    assert result.deleted == {"runs": 3, "audit": 1}
    with engine.connect() as conn:
        left = conn.execute(select(RUN.c.kind, RUN.c.status).order_by(RUN.c.id)).all()
        actions = conn.execute(select(AUDIT.c.action).order_by(AUDIT.c.id)).scalars().all()
    assert left == [("sync_charts", "success"), ("maintenance", "success"), ("fetch_audience", "running")]
    assert actions == ["new", "maintenance.cleanup"]


def test_archived_runs_follow_their_own_retention_and_dry_run_keeps_them(engine, tmp_path):
    folder = tmp_path / "2025" / "01" / "02"
    folder.mkdir(parents=True)
    for name in ("sync_charts-010203.ipynb", "sync_charts-010203.log"):
        (folder / name).write_text("{}")
        past = time.time() - 20 * 86400
        os.utime(folder / name, (past, past))
    assert len(prune_archives(tmp_path, 10, dry_run=True)) == 2 and folder.exists()
    assert cleanup(engine, {"archives": 30}, runs_dir=tmp_path).deleted == {"archives": 0}
    assert cleanup(engine, {"archives": 10}, runs_dir=tmp_path).deleted == {"archives": 2}
    assert not (tmp_path / "2025").exists()


def test_retention_comes_from_the_environment_then_older_than_then_each_override():
    settings = Settings.from_env({"SOUNDCHARTS_RUNS_RETENTION_DAYS": "60", "SOUNDCHARTS_RETENTION_RANKINGS_DAYS": "365",
                                  "SOUNDCHARTS_RETENTION_AUDIT_DAYS": "90"})
    assert retention_policy(settings) == {"rankings": 365, "audience": None, "runs": None, "audit": 90,
                                          "archives": 60}
    assert set(retention_policy(settings, older_than=10).values()) == {10}
    assert retention_policy(settings, older_than=10, overrides={"rankings": 400, "audit": None}) == \
           {"rankings": 400, "audience": 10, "runs": 10, "audit": 10, "archives": 10}
    with pytest.raises(ConfigError, match="SOUNDCHARTS_RETENTION_RUNS_DAYS must be a whole number"):
        Settings.from_env({"SOUNDCHARTS_RETENTION_RUNS_DAYS": "soon"})
    with pytest.raises(ConfigError, match="at least 1"):
        Settings.from_env({"SOUNDCHARTS_RETENTION_AUDIENCE_DAYS": "0"})


# --- integrity -----------------------------------------------------------------------------------------------------

def test_a_freshly_synced_database_has_no_defects(filled):
    report = check_database(filled)
    assert report.errors == 0
    assert {f.check for f in report.findings} <= {"audience_gaps"}  # the API itself misses ~3% of days


def test_check_finds_each_defect_and_repair_fixes_the_safe_ones_then_a_sync_heals_the_rest(filled, localapi):
    engine = filled
    with engine.connect() as conn:
        short = conn.execute(select(R.c.id).order_by(R.c.ranking_date).limit(1)).scalar_one()
        victim = conn.execute(select(A.c.track_id).limit(1)).scalar_one()  # a charting track with audience
        victim_rankings = set(conn.execute(select(E.c.ranking_id).where(E.c.track_id == victim)).scalars())
        audience_rows = conn.execute(select(func.count()).select_from(A).where(A.c.track_id == victim)).scalar()
        twins = conn.execute(select(T.c.id).where(T.c.id != victim).order_by(T.c.id).limit(2)).scalars().all()
        chart = conn.execute(select(C)).mappings().one()
        some_track = twins[0]
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.ranking_id == short, E.c.position > 197))  # 3 entries lost
        conn.execute(update(T).where(T.c.id == twins[0]).values(isrc="FRX202600001"))
        conn.execute(update(T).where(T.c.id == twins[1]).values(isrc="frx202600001"))
        gone_chart = conn.execute(insert(C).values(slug="gone-chart", name="gone", platform_id=chart["platform_id"])
                                  .returning(C.c.id)).scalar_one()
        lost = conn.execute(insert(R).values(chart_id=gone_chart, ranking_date=today_utc(), date_raw="x",
                                             entry_count=1).returning(R.c.id)).scalar_one()
        conn.execute(insert(E).values(ranking_id=lost, track_id=some_track, position=1))
    with unchecked(engine) as conn:
        conn.execute(T.delete().where(T.c.id == victim))
        conn.execute(C.delete().where(C.c.id == gone_chart))
    snapshot = counts(engine)

    report = check_database(engine)
    found = {f.problem: f for f in report.findings}
    assert found["ranking entries whose track is missing"].count == len(victim_rankings)
    assert found["audience points whose track is missing"].count == audience_rows
    assert found["rankings whose chart is missing"].count == 1
    assert found["rankings whose entry count disagrees with their entries"].count == 1
    isrc = found["ISRCs stored under two or more tracks"]
    assert isrc.count == 1 and isrc.severity == "warning" and isrc.examples[0].startswith("FRX202600001: ")
    assert found["rankings whose entry count disagrees with their entries"].examples[0].endswith(
        "197 of 200 entries")
    orphans = [f for f in report.findings if f.check == "orphans"]  # any table pointing at the deleted rows
    assert all(f.examples in ([f"missing track ids: {victim}"], [f"missing chart ids: {gone_chart}"])
               for f in orphans)
    assert report.errors == sum(f.count for f in orphans) + 1
    assert counts(engine) == snapshot  # checking changes nothing

    repaired = check_database(engine, repair=True)
    assert repaired.errors == 0
    fixed = {f.problem: f.repaired for f in repaired.findings}
    assert fixed["ranking entries whose track is missing"] == len(victim_rankings)
    assert fixed["rankings whose chart is missing"] == 1
    # the short ranking and every ranking that lost the deleted track's entry: marked for refetch
    assert fixed["rankings whose entry count disagrees with their entries"] == len(victim_rankings | {short})
    with engine.connect() as conn:
        failed = set(conn.execute(select(R.c.id).where(R.c.status == "failed")).scalars())
        assert conn.execute(select(AUDIT.c.action)).scalars().all() == ["maintenance.repair"]
    assert failed == victim_rankings | {short}
    assert check_database(engine).errors == 0

    with local_client(localapi) as client:  # the advice works: the next sync refetches those rankings whole
        ChartSync(client, engine, progress=False).run(charts=[CHART], backfill_days=DAYS)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(R).where(R.c.status == "failed")).scalar() == 0
    final = check_database(engine)
    assert final.errors == 0 and {f.check for f in final.findings} <= {"audience_gaps", "duplicate_isrc"}


def test_audience_gaps_are_reported_with_the_missing_range_never_repaired(filled):
    engine = filled
    with engine.connect() as conn:
        track_id, platform_id, ident = conn.execute(select(A.c.track_id, A.c.platform_id, A.c.platform_identifier)
                                                    .limit(1)).one()
        uuid = conn.execute(select(T.c.uuid).where(T.c.id == track_id)).scalar_one()
    first_gap = check_database(engine).findings
    before = next((f.count for f in first_gap if f.check == "audience_gaps"), 0)
    start = utcnow().date() - timedelta(days=20)
    with engine.begin() as conn:  # remove a week in the middle of one series
        conn.execute(A.delete().where(A.c.track_id == track_id, A.c.platform_id == platform_id,
                                      A.c.platform_identifier == ident, A.c.date.between(
                                          start, start + timedelta(days=6))))
    report = check_database(engine, repair=True)
    gaps = next(f for f in report.findings if f.check == "audience_gaps")
    assert gaps.severity == "warning" and gaps.repaired == 0 and report.errors == 0
    assert gaps.count >= max(before, 1)
    assert any(uuid in line and "days missing" in line for line in gaps.examples)
    assert "fetch-audience" in gaps.advice


def test_a_chart_whose_platform_is_gone_is_reported_never_deleted(engine):
    with engine.begin() as conn:
        ghost = conn.execute(insert(Platform.__table__).values(slug="ghost", name="Ghost")
                             .returning(Platform.__table__.c.id)).scalar_one()
        conn.execute(insert(C).values(slug="ghost-top-10", name="Ghost top 10", platform_id=ghost))
    with unchecked(engine) as conn:
        conn.execute(Platform.__table__.delete().where(Platform.__table__.c.id == ghost))
    report = check_database(engine, repair=True)
    [finding] = report.findings
    assert (finding.problem, finding.count, finding.repaired) == ("charts whose platform is missing", 1, 0)
    assert finding.examples == [f"missing platform ids: {ghost}"] and "never deleted" in finding.advice
    assert report.errors == 1 and value(engine, select(func.count()).select_from(C)) == 1
