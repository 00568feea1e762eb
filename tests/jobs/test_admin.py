"""Admin actions (jobs.admin_actions) and the audit log against the local API, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from conftest import FAST, local_client
from sqlalchemy import func, select

from soundcharts_lib.config import Settings
from soundcharts_lib.curation import audit
from soundcharts_lib.db.models import AuditEvent, ChartRanking, SyncRun, Track, TrackAudience
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs import admin_actions as admin
from soundcharts_lib.jobs.lock import job_lock
from soundcharts_lib.jobs.sync import ChartSync, today_utc
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.warehouse import admin_pages as admin_data

CHARTS = ["spotify-top-200-global-daily", "apple-music-top-100-us-daily"]
API_KEY = "soundcharts"


@pytest.fixture(scope="module")
def api():
    """A local API of its own: tests here slow it down (``config.latency_ms``) to click during an action."""
    with running(LocalApiConfig(seed=7)) as srv:
        yield srv


@pytest.fixture
def settings(api, engine, db_url, tmp_path) -> Settings:
    return Settings.from_env({
        "SOUNDCHARTS_API_URL": api.base_url, "SOUNDCHARTS_APP_ID": "soundcharts",
        "SOUNDCHARTS_API_KEY": API_KEY, "SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_CACHE_BACKEND": "memory",
        "SOUNDCHARTS_RATE_LIMIT": str(FAST), "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")})


@pytest.fixture
def charted(api, engine, settings) -> list[str]:
    """The two charts' latest rankings stored; the UUIDs of their first three tracks."""
    api.config.latency_ms = 0
    with local_client(api) as client:
        assert ChartSync(client, engine, progress=False).run(charts=CHARTS).status == "success"
    with engine.connect() as conn:
        return list(conn.execute(select(Track.uuid).order_by(Track.id).limit(3)).scalars())


class Updates:
    """What ``on_update`` received, and an event set when an action finished."""

    def __init__(self):
        self.seen: list[admin.Status] = []
        self.finished = threading.Event()

    def __call__(self, status: admin.Status) -> None:
        self.seen.append(status)
        if status.state == "finished":
            self.finished.set()

    def outcome(self, timeout: float = 60) -> admin.Outcome:
        assert self.finished.wait(timeout), [s.state for s in self.seen]
        return self.seen[-1].outcome


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _events(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.target,
                                                      AuditEvent.outcome).order_by(AuditEvent.id))]


def test_fetch_audience_stores_points_reports_progress_and_audits(engine, settings, charted):
    runner = admin.Runner(engine, settings=settings, actor="ana", poll_seconds=0.05)
    updates = Updates()
    action = admin.fetch_audience(charted, ["spotify"])
    first = runner.start(action, updates)
    assert first.state == "running" and first.total == 3
    outcome = updates.outcome()
    assert outcome.status == "success", outcome.message
    assert outcome.message.startswith("success: 3 tracks, 3 track/platform series fetched")
    points = _count(engine, TrackAudience.__table__)
    assert points > 3 * 80  # a first fetch covers 90 days
    done = [s.done for s in updates.seen]
    assert done == sorted(done) and updates.seen[-1].done == 3
    with engine.connect() as conn:
        run = conn.execute(select(SyncRun.kind, SyncRun.trigger, SyncRun.status)
                           .where(SyncRun.id == outcome.run_id)).one()
    assert tuple(run) == ("fetch_audience", "admin", "success")
    assert _events(engine) == [("ana", "fetch_audience", "3 tracks on spotify", "success")]
    event = audit.events(engine).iloc[0]
    assert event["run_id"] == outcome.run_id and event["message"] == outcome.message
    spotify = admin_data.track_admin(engine, charted[0])["audience"].set_index("platform").loc["spotify"]
    assert spotify["days"] > 80 and spotify["had_data"]
    assert spotify["gaps"] == (spotify["last_date"] - spotify["first_date"]).days + 1 - spotify["days"]
    assert runner.wait(10)


def test_a_second_start_while_running_is_refused_not_run(api, engine, settings, charted):
    runner = admin.Runner(engine, settings=settings, poll_seconds=0.05)
    updates = Updates()
    api.config.latency_ms = 150  # two requests per track: the run lasts about a second
    try:
        assert runner.start(admin.fetch_metadata(charted), updates).state == "running"
        again = runner.start(admin.fetch_metadata(charted[:1]), Updates())
        outcome = updates.outcome()
    finally:
        api.config.latency_ms = 0
    assert again.state == "refused"
    assert again.message.startswith("Fetch metadata is already running (3 tracks, started ")
    assert outcome.status == "success" and outcome.message == "success: metadata stored for 3 of 3 tracks"
    assert _count(engine, SyncRun.__table__, SyncRun.kind == "fetch_metadata") == 1
    assert [e[1:] for e in _events(engine)] == [("fetch_metadata", "3 tracks", "success"),
                                                ("fetch_metadata", "track " + charted[0], "refused")]
    # As soon as the first run reported its end, the same action starts again.
    assert runner.start(admin.fetch_metadata(charted[:1]), (later := Updates())).state == "running"
    assert later.outcome().status == "success"


def test_an_action_running_in_another_process_refuses_the_click(engine, settings, charted):
    """The job lock (a file lock with SQLite, an advisory lock with PostgreSQL) is held elsewhere."""
    runner = admin.Runner(engine, settings=settings)
    audit.record(engine, actor="bo", action="sync_charts", target="chart x", outcome="running")
    with job_lock("admin-sync_charts", settings):
        refused = runner.start(admin.sync_charts(CHARTS), Updates())
    assert refused.state == "refused"
    assert "already running in another page or process (chart x, started " in refused.message
    assert refused.message.endswith("by bo); this click was ignored")
    assert _count(engine, SyncRun.__table__) == 1  # the fixture's sync only
    assert _events(engine)[-1] == ("admin", "sync_charts", "2 charts", "refused")


def test_sync_now_and_backfill_store_rankings(engine, settings, charted):
    runner = admin.Runner(engine, settings=settings, poll_seconds=0.05)
    end = today_utc() - timedelta(days=1)
    start = end - timedelta(days=4)
    updates = Updates()
    runner.start(admin.backfill_charts(CHARTS[:1], start, end), updates)
    outcome = updates.outcome()
    assert outcome.status == "success", outcome.message
    stored = _count(engine, ChartRanking.__table__, ChartRanking.ranking_date.between(start, end))
    assert stored == 5 and updates.seen[-1].done == updates.seen[-1].total == 5
    assert outcome.message.startswith("success: 1 charts, 5 rankings stored")
    updates = Updates()
    runner.start(admin.sync_charts(CHARTS), updates)
    outcome = updates.outcome()
    assert outcome.status == "success" and "2 charts" in outcome.message
    assert [e[1:] for e in _events(engine)] == [
        ("backfill_charts", f"chart {CHARTS[0]}, {start:%Y-%m-%d} to {end:%Y-%m-%d}", "success"),
        ("sync_charts", "2 charts", "success")]


def test_a_failing_action_reports_one_clear_line(engine, settings, charted):
    runner = admin.Runner(engine, settings=settings, poll_seconds=0.05)
    unknown = "00000000-0000-4000-8000-000000000000"
    updates = Updates()
    runner.start(admin.fetch_metadata([unknown]), updates)
    outcome = updates.outcome()
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"failed: metadata stored for 0 of 1 tracks; first error: {unknown}: ")
    assert "\n" not in outcome.message
    assert _events(engine)[-1][3] == "failed"


def test_missing_credentials_fail_the_action_without_showing_secrets(engine, settings, db_url):
    no_key = Settings.from_env({"SOUNDCHARTS_API_URL": settings.api_url, "SOUNDCHARTS_DB_URL": db_url,
                                "SOUNDCHARTS_RUNS_DIR": settings.runs_dir})
    updates = Updates()
    admin.Runner(engine, settings=no_key).start(admin.sync_charts(CHARTS), updates)
    outcome = updates.outcome()
    assert outcome.status == "failed"
    assert outcome.message.startswith("ConfigError: no SoundCharts credentials")
    details = audit.events(engine).iloc[0]
    assert (details["outcome"], details["message"]) == ("failed", outcome.message)


def test_bad_requests_are_refused_before_anything_runs():
    day = today_utc()
    with pytest.raises(ConfigError, match="select at least one chart"):
        admin.sync_charts([])
    with pytest.raises(ConfigError, match="is after the last date"):
        admin.backfill_charts(CHARTS, day, day - timedelta(days=1))
    with pytest.raises(ConfigError, match="needs a first and a last date"):
        admin.backfill_charts(CHARTS, None, day)
    with pytest.raises(ConfigError, match="at most 731 days"):
        admin.backfill_charts(CHARTS, day - timedelta(days=800), day)
    with pytest.raises(ConfigError, match="select at least one track"):
        admin.fetch_audience([], ["spotify"])
    action = admin.fetch_audience(["a", "b", "a"], [], force=True, known_platforms=4)
    assert (action.target, action.total) == ("2 tracks on every audience platform (forced)", 8)


def test_one_line_masks_secrets():
    exc = RuntimeError("connect to postgresql://bob:hunter2@db/x failed\nsecond line")
    assert admin.one_line(exc) == "RuntimeError: connect to postgresql://bob:***@db/x failed"


def test_actor_comes_from_the_proxy_header_then_the_environment():
    assert audit.actor_from_env({}) == "admin"
    assert audit.actor_from_env({"SOUNDCHARTS_ADMIN_NAME": "ops"}) == "ops"
    env = {"SOUNDCHARTS_ADMIN_NAME": "ops", "HTTP_X_SOUNDCHARTS_USER": "  <b>ana@label.com</b>\n"}
    assert audit.actor_from_env(env) == "bana@label.comb"
    assert audit.actor_from_env({"HTTP_X_SOUNDCHARTS_USER": "<>"}) == "admin"


def test_audit_events_and_outcomes(engine):
    first = audit.record(engine, actor="ana", action="fetch_audience", target="track t", outcome="running",
                         details={"params": {"tracks": ["t"]}})
    audit.record(engine, actor="bo", action="sync_charts", target="2 charts", outcome="refused",
                 details={"message": "already running"})
    assert audit.latest_running(engine, "fetch_audience")["actor"] == "ana"
    audit.finish(engine, first, "partial", {"message": "partial: 1 failure", "run_id": 7})
    assert audit.latest_running(engine, "fetch_audience") is None
    frame = audit.events(engine)
    assert list(frame["actor"]) == ["bo", "ana"]
    assert frame.iloc[1][["outcome", "message", "run_id"]].tolist() == ["partial", "partial: 1 failure", 7]
    assert list(audit.events(engine, outcome="refused")["action"]) == ["sync_charts"]
    with pytest.raises(ValueError, match="outcome must be one of"):
        audit.record(engine, actor="a", action="b", target="c", outcome="done")
    with pytest.raises(ValueError, match="finishes as one of"):
        audit.finish(engine, first, "running", {})


def test_admin_queries_on_the_synced_data(engine, charted):
    frame = admin_data.charts(engine, platform="spotify")
    assert set(frame["platform"]) == {"spotify"} and set(frame["state"]) <= set(admin_data.CHART_STATES)
    rankings = admin_data.chart_rankings(engine, CHARTS[0])
    assert rankings["total"] == 1 and rankings["failed"] == 0
    day = rankings["rankings"].iloc[0]["ranking_date"]
    entries = admin_data.ranking_entries(engine, CHARTS[0], day)["entries"]
    assert list(entries["position"]) == list(range(1, len(entries) + 1))
    found = admin_data.tracks(engine, missing="metadata")
    assert found["total"] == _count(engine, Track.__table__)
    assert admin_data.tracks(engine, search=charted[0].upper())["rows"]["uuid"].tolist() == [charted[0]]
    assert admin_data.runs(engine)["kind"].tolist() == ["sync_charts"]
