"""Admin actions clicked in Chromium against the local API: sync now, backfill, fetch metadata, fetch audience
(one track and several at once), a double click, a failing API; each checked in SQL and in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from soundcharts_lib.jobs.sync import today_utc

from ..conftest import cells, screenshot, sql
from .conftest import ACTOR

pytestmark = pytest.mark.browser

DAILY = "deezer-top-100-global-daily"
ACTION_TIMEOUT = 60_000


def _track(db_url: str, offset: int) -> tuple[str, str]:
    """``(uuid, name)`` of a track no other test acts on."""
    return tuple(sql(db_url, "SELECT uuid, name FROM track ORDER BY uuid LIMIT 1 OFFSET ?", offset)[0])


def _events(db_url: str, target_like: str) -> list[tuple]:
    return sql(db_url, "SELECT actor, action, outcome FROM audit_event WHERE target LIKE ? ORDER BY id",
               f"%{target_like}%")


def _platform_label(db_url: str, slug: str) -> str:
    return f"{sql(db_url, 'SELECT name FROM platform WHERE slug = ?', slug)[0][0]} ({slug})"


def _expect_outcome(page, state: str, text: str) -> None:
    expect(page.locator(f".action-message .action-{state}")).to_contain_text(text, timeout=ACTION_TIMEOUT)


def test_sync_now_and_backfill_a_chart(admin, db_url):
    page = admin.open(f"chart.ipynb?slug={DAILY}", ".ranking-list")
    first, last = today_utc() - timedelta(days=24), today_utc() - timedelta(days=20)
    page.locator(".backfill-start input").fill(last.isoformat())
    page.locator(".backfill-end input").fill(first.isoformat())
    page.locator("button.backfill").click()
    expect(page.locator(".action-notice .action-invalid")).to_have_text(
        f"the first date {last} is after the last date {first}")

    page.locator(".backfill-start input").fill(first.isoformat())
    page.locator(".backfill-end input").fill(last.isoformat())
    page.locator("button.backfill").click()
    expect(page.locator(".action-progress")).to_be_visible()
    _expect_outcome(page, "success", "success: 1 charts, 5 rankings stored")
    stored = sql(db_url, "SELECT r.ranking_date FROM chart_ranking r JOIN chart c ON c.id = r.chart_id "
                         "WHERE c.slug = ? AND r.ranking_date BETWEEN ? AND ? ORDER BY r.ranking_date DESC",
                         DAILY, first.isoformat(), last.isoformat())
    assert [d for (d,) in stored] == [(last - timedelta(days=n)).isoformat() for n in range(5)]
    total = sql(db_url, "SELECT COUNT(*) FROM chart_ranking r JOIN chart c ON c.id = r.chart_id "
                        "WHERE c.slug = ?", DAILY)[0][0]
    expect(page.locator(".ranking-count")).to_contain_text(f"{total:,} rankings stored")  # the table reloaded
    assert [r[0] for r in cells(page, ".ranking-list")][-5:] == [d for (d,) in stored]

    page.locator("button.sync-now").click()
    _expect_outcome(page, "success", "success: 1 charts, 0 rankings stored (0 entries), 1 already stored")
    screenshot(page, "admin-chart-actions")
    assert _events(db_url, DAILY) == [(ACTOR, "backfill_charts", "success"),
                                      (ACTOR, "sync_charts", "success")]
    runs = sql(db_url, "SELECT trigger, status FROM sync_run WHERE params LIKE ? ORDER BY id", f"%{DAILY}%")
    assert runs == [("admin", "success"), ("admin", "success")]


def test_fetch_metadata_and_audience_of_a_track(admin, db_url):
    uuid, name = _track(db_url, 10)
    page = admin.open(f"track.ipynb?uuid={uuid}", ".audience-status")
    expect(page.locator(".track-facts")).to_contain_text("never fetched")
    page.locator("button.fetch-metadata").click()
    _expect_outcome(page, "success", "success: metadata stored for 1 of 1 tracks")
    identifiers = sql(db_url, "SELECT i.platform_code, i.identifier FROM track_platform_identifier i "
                              "JOIN track t ON t.id = i.track_id WHERE t.uuid = ? ORDER BY 1, 2", uuid)
    expect(page.locator(".track-identifiers tbody tr")).to_have_count(len(identifiers))  # reloaded
    assert sorted((r[0], r[1]) for r in cells(page, ".track-identifiers")) == identifiers
    expect(page.locator(".track-facts")).not_to_contain_text("never fetched")

    page.locator(".audience-platforms select").select_option(label=_platform_label(db_url, "spotify"))
    page.locator("button.fetch-audience").click()
    _expect_outcome(page, "success", "success: 1 tracks, 1 track/platform series fetched")
    first, last, days = sql(db_url, "SELECT MIN(a.date), MAX(a.date), COUNT(DISTINCT a.date) "
                                    "FROM track_audience a JOIN track t ON t.id = a.track_id "
                                    "JOIN platform p ON p.id = a.platform_id "
                                    "WHERE t.uuid = ? AND p.slug = 'spotify'", uuid)[0]
    assert days > 80
    spotify = next(r for r in cells(page, ".audience-status") if r[0] == "Spotify")
    assert spotify[3:6] == [first, last, str(days)]
    screenshot(page, "admin-track-actions")
    assert _events(db_url, uuid) == [(ACTOR, "fetch_metadata", "success"),
                                     (ACTOR, "fetch_audience", "success")]


def test_fetch_audience_for_tracks_selected_on_a_ranking(admin, db_url, admin_api):
    page = admin.open(f"ranking.ipynb?slug={DAILY}", ".entry-list")
    top3 = sql(db_url, "SELECT t.uuid FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id "
                       "JOIN chart c ON c.id = r.chart_id JOIN track t ON t.id = e.track_id "
                       "WHERE c.slug = ? AND r.ranking_date = "
                       "(SELECT MAX(ranking_date) FROM chart_ranking WHERE chart_id = c.id) "
                       "ORDER BY e.position LIMIT 3", DAILY)
    uuids = [u for (u,) in top3]
    page.locator(".track-select select").select_option(index=[0, 1, 2])  # the options follow the positions
    page.locator(".audience-platforms select").select_option(label=_platform_label(db_url, "youtube"))
    page.locator(".audience-force input").check()
    page.locator("button.fetch-audience").click()
    _expect_outcome(page, "success", "success: 3 tracks, 3 track/platform series fetched")
    held = sql(db_url, "SELECT t.uuid, COUNT(*) FROM track_audience a JOIN track t ON t.id = a.track_id "
                       "JOIN platform p ON p.id = a.platform_id "
                       "WHERE p.slug = 'youtube' AND t.uuid IN (?, ?, ?) GROUP BY t.uuid", *uuids)
    since = today_utc() - timedelta(days=90)
    served = {u: sum(len(plots) for day, plots in admin_api.catalog.series(u, "youtube", "audience") if day >= since)
              for u in uuids}  # a track may have no YouTube id, or one that stopped reporting
    expected = sorted(u for u in uuids if served[u] > 80)
    assert expected and sorted(u for u, n in held if n > 80) == expected
    screenshot(page, "admin-bulk-audience")
    assert sql(db_url, "SELECT actor, target, outcome FROM audit_event WHERE action = 'fetch_audience' "
                       "ORDER BY id DESC LIMIT 1") == [(ACTOR, "3 tracks on youtube (forced)", "success")]


def test_a_double_click_runs_the_action_once(admin, admin_api, db_url):
    uuid, _ = _track(db_url, 20)
    page = admin.open(f"track.ipynb?uuid={uuid}", ".audience-status")
    admin_api.config.latency_ms = 400  # two requests: the run lasts about a second
    try:
        page.locator("button.fetch-metadata").dblclick()
        expect(page.locator(".action-notice .action-refused")).to_contain_text(
            "Fetch metadata is already running (track ")
        _expect_outcome(page, "success", "success: metadata stored for 1 of 1 tracks")
    finally:
        admin_api.config.latency_ms = 0
    screenshot(page, "admin-double-click")
    assert sql(db_url, "SELECT COUNT(*) FROM sync_run WHERE kind = 'fetch_metadata' AND params LIKE ?",
               f"%{uuid}%") == [(1,)]
    assert sorted(_events(db_url, uuid)) == [(ACTOR, "fetch_metadata", "refused"),
                                             (ACTOR, "fetch_metadata", "success")]


def test_a_failing_api_shows_one_clear_line_and_the_page_goes_on(admin, admin_api, db_url):
    uuid, _ = _track(db_url, 30)
    page = admin.open(f"track.ipynb?uuid={uuid}", ".audience-status")
    admin_api.config.fault_kinds, admin_api.config.fault_rate = ("malformed",), 1.0
    try:
        page.locator("button.fetch-metadata").click()
        _expect_outcome(page, "failed", f"failed: metadata stored for 0 of 1 tracks; first error: {uuid}: ")
    finally:
        admin_api.config.fault_rate = 0.0
    message = page.locator(".action-message").inner_text()
    assert "\n" not in message.strip() and "Traceback" not in message
    screenshot(page, "admin-action-failed")
    page.locator("button.fetch-metadata").click()
    _expect_outcome(page, "success", "success: metadata stored for 1 of 1 tracks")
    assert _events(db_url, uuid) == [(ACTOR, "fetch_metadata", "failed"),
                                     (ACTOR, "fetch_metadata", "success")]
