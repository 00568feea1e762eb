"""The admin pages in Chromium against SQL on the same database: charts (filters), a chart's rankings, a
ranking's entries, a track, the track list, the runs with their archived notebooks, the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from soundcharts_lib.curation import audit
from soundcharts_lib.db import make_engine

from ..conftest import SCREENSHOTS, cells, expect_rendered, hrefs, screenshot, sql
from .conftest import CHART, TOKEN

pytestmark = pytest.mark.browser

MARKUP = "<img src=x onerror=\"window.__pwned = 1\"> chart"


def test_charts_filter_and_drill_down_to_a_track(admin, db_url):
    page = admin.open("charts.ipynb", ".chart-list")
    total = sql(db_url, "SELECT COUNT(*) FROM chart")[0][0]
    expect(page.locator(".chart-count")).to_contain_text(f"{total:,} charts")
    assert len(cells(page, ".chart-list")) == total
    screenshot(page, "admin-charts")

    page.locator(".chart-platform select").select_option(label="spotify")
    spotify = [name for (name,) in sql(db_url, "SELECT c.name FROM chart c JOIN platform p "
                                               "ON p.id = c.platform_id WHERE p.slug = 'spotify' "
                                               "ORDER BY c.slug")]
    expect(page.locator(".chart-count")).to_contain_text(f"{len(spotify):,} charts")
    assert [row[0] for row in cells(page, ".chart-list")] == spotify
    page.locator(".chart-state select").select_option(label="failing")
    expect(page.locator(".chart-list")).to_contain_text("No chart matches these filters.")
    page.locator(".chart-state select").select_option(label="All")

    # Chart -> its rankings -> one ranking's entries -> a track, each by its link.
    page.locator(".chart-list a", has_text="Spotify Top 200 Global Daily").click()
    expect_rendered(page, ".ranking-list")
    assert page.url.endswith(f"/admin/chart.ipynb?slug={CHART}")
    rankings = sql(db_url, "SELECT r.ranking_date, r.status, r.entry_count FROM chart_ranking r JOIN chart c "
                           "ON c.id = r.chart_id WHERE c.slug = ? ORDER BY r.ranking_date DESC", CHART)
    shown = [(r[0], r[2], r[3]) for r in cells(page, ".ranking-list")]
    assert shown == [(d, s, str(n)) for d, s, n in rankings]
    screenshot(page, "admin-chart")
    newest = rankings[0][0]
    page.locator(".ranking-list a", has_text="View details").first.click()
    expect_rendered(page, ".entry-list")
    assert page.url.endswith(f"/admin/ranking.ipynb?slug={CHART}&date={newest}")
    entries = sql(db_url, "SELECT e.position, t.uuid, t.name FROM chart_ranking_entry e JOIN chart_ranking r "
                          "ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id "
                          "JOIN track t ON t.id = e.track_id "
                          "WHERE c.slug = ? AND r.ranking_date = ? ORDER BY e.position", CHART, newest)
    assert [(int(r[0]), r[3]) for r in cells(page, ".entry-list")] == [(p, name) for p, _, name in entries]
    assert hrefs(page, ".entry-list") == [f"track.ipynb?uuid={uuid}" for _, uuid, _ in entries]
    screenshot(page, "admin-ranking")
    page.locator(".entry-list a").first.click()
    expect_rendered(page, ".track-facts")
    expect(page.locator(".track-facts h2")).to_have_text(entries[0][2])
    screenshot(page, "admin-track")


def test_track_list_finds_tracks_and_what_they_miss(admin, db_url):
    name = sql(db_url, "SELECT name FROM track ORDER BY name LIMIT 1 OFFSET 40")[0][0]
    word = name.split()[0].lower()
    page = admin.open(f"tracks.ipynb?q={word}", ".track-list")
    found = sql(db_url, "SELECT name FROM track WHERE lower(name) LIKE ? OR lower(credit_name) LIKE ? "
                        "OR lower(isrc) LIKE ? ORDER BY name, uuid", *[f"%{word}%"] * 3)
    assert [row[0] for row in cells(page, ".track-list")] == [n for (n,) in found][:200]
    page.locator(".track-missing select").select_option(label="Metadata never fetched")
    missing = sql(db_url, "SELECT COUNT(*) FROM track WHERE metadata_fetched_at IS NULL AND "
                          "(lower(name) LIKE ? OR lower(credit_name) LIKE ? OR lower(isrc) LIKE ?)",
                  *[f"%{word}%"] * 3)[0][0]
    expect(page.locator(".track-list tbody tr")).to_have_count(min(missing, 200))
    screenshot(page, "admin-tracks")


def test_runs_link_to_their_archived_notebook(admin, db_url, archived_run):
    page = admin.open("runs.ipynb", ".run-list")
    runs = sql(db_url, "SELECT id, kind, status FROM sync_run ORDER BY id DESC")
    assert [(int(r[0]), r[1], r[5]) for r in cells(page, ".run-list")] == runs
    link = page.locator(".run-list a.run-notebook")
    expect(link).to_have_count(1)
    screenshot(page, "admin-runs")
    with page.expect_popup() as popup:
        link.click()
    notebook = popup.value
    notebook.wait_for_load_state()
    assert notebook.url.endswith(f"/soundcharts/admin/runs/{archived_run}/notebook")
    expect(notebook.locator("body")).to_contain_text("Chart sync job")
    expect(notebook.locator("body")).to_contain_text("success: 1 charts")
    notebook.screenshot(path=str(SCREENSHOTS / "admin-run-notebook.png"))
    with page.expect_download() as download:
        page.locator(".run-list a.run-download").click()
    archived = json.loads(Path(download.value.path()).read_text())
    assert archived["nbformat"] == 4 and download.value.suggested_filename.startswith("sync_charts-")

    base = admin.base + f"/soundcharts/admin/runs/{archived_run}/notebook"
    shown = requests.get(base, headers={"Authorization": f"token {TOKEN}"})
    assert "script-src" not in shown.headers["Content-Security-Policy"]
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    other = int(runs[-1][0]) if int(runs[-1][0]) != archived_run else int(runs[0][0])
    missing = requests.get(admin.base + f"/soundcharts/admin/runs/{other}/notebook",
                           headers={"Authorization": f"token {TOKEN}"})
    assert missing.status_code == 404 and "has no archived notebook" in missing.text

    page.locator(".run-kind select").select_option(label="fetch_audience")
    expect(page.locator(".run-list tbody tr")).to_have_count(
        sql(db_url, "SELECT COUNT(*) FROM sync_run WHERE kind = 'fetch_audience'")[0][0])


def test_audit_log_shows_who_did_what(admin, db_url):
    engine = make_engine(db_url)
    audit.record(engine, actor="bo", action="sync_charts", target=MARKUP, outcome="refused",
                 details={"message": "Sync now is already running"})
    engine.dispose()
    page = admin.open("audit.ipynb", ".audit-log")
    events = sql(db_url, "SELECT actor, target, outcome FROM audit_event ORDER BY id DESC")
    assert [(r[1], r[3], r[4]) for r in cells(page, ".audit-log")] == events
    expect(page.locator(".audit-log tbody img")).to_have_count(0)  # data is text, never markup
    screenshot(page, "admin-audit")
    page.locator(".audit-outcome select").select_option(label="refused")
    refused = sql(db_url, "SELECT COUNT(*) FROM audit_event WHERE outcome = 'refused'")[0][0]
    expect(page.locator(".audit-log tbody tr")).to_have_count(refused)
    assert page.evaluate("window.__pwned") is None
