"""The platform dashboard in Voila + headless Chromium, checked against SQL: charts with health, rankings per day,
top tracks; the CSV download equals the table."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from playwright.sync_api import expect

from soundcharts_lib.jobs.sync import today_utc

from .conftest import cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser

PLATFORM = "deezer"


def test_platform_page_matches_sql(voila, dashboard_db, page):
    page.goto(voila(dashboard_db) + f"/voila/render/platform.ipynb?slug={PLATFORM}")
    expect_rendered(page, ".platform-charts")
    expect(page.locator(".platform-summary h2")).to_have_text("Deezer")

    charts = sql(dashboard_db, """
        SELECT c.slug, c.name, COALESCE(c.country_code, 'Global'), c.frequency, c.last_ranking_date,
               c.consecutive_failures, COALESCE(c.last_error, '')
        FROM chart c JOIN platform p ON p.id = c.platform_id WHERE p.slug = ? ORDER BY c.slug""", PLATFORM)
    assert cells(page, ".platform-charts") == [
        [name, country, freq, last, f"failing ({failures})" if failures else "ok", error]
        for _, name, country, freq, last, failures, error in charts]
    assert hrefs(page, ".platform-charts") == [f"chart.ipynb?slug={slug}" for slug, *_ in charts]
    active = sql(dashboard_db, "SELECT COUNT(*) FROM chart c JOIN platform p ON p.id = c.platform_id "
                               "WHERE p.slug = ? AND c.is_active", PLATFORM)[0][0]
    expect(page.locator(".platform-summary")).to_contain_text(f"{active} of {len(charts)} charts active")
    expect(page.locator(".platform-summary")).to_contain_text("1 failing")

    today = today_utc()
    since = (today - timedelta(days=29)).isoformat()
    stored, failed = sql(dashboard_db, """
        SELECT SUM(r.status = 'success'), SUM(r.status != 'success') FROM chart_ranking r
        JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id
        WHERE p.slug = ? AND r.ranking_date BETWEEN ? AND ?""", PLATFORM, since, today.isoformat())[0]
    expect(page.locator(".platform-rankings")).to_contain_text(
        f"{stored:,} rankings stored, {failed:,} failed over the last 30 days")
    expect(page.locator(".platform-rankings rect.bar").first).to_be_attached()
    # The 30 dates: a few labels on the x axis, none overlapping the next.
    dates = page.locator(".platform-rankings .tick text").evaluate_all("""texts => texts
        .filter(t => /^\\d{2} [A-Z][a-z]{2}$/.test(t.textContent))
        .map(t => { const r = t.getBoundingClientRect(); return [r.left, r.right]; })
        .sort((a, b) => a[0] - b[0])""")
    assert 3 <= len(dates) <= 6, dates
    assert all(left > previous_right + 4 for (_, previous_right), (left, _) in pairwise(dates)), dates

    tracks = sql(dashboard_db, """
        SELECT t.uuid, t.name, COALESCE(t.credit_name, ''), COUNT(*) AS n, MIN(e.position) AS best,
               COUNT(DISTINCT r.chart_id)
        FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id
        JOIN platform p ON p.id = c.platform_id JOIN track t ON t.id = e.track_id
        WHERE p.slug = ? AND r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY n DESC, best, t.name, t.uuid LIMIT 20""", PLATFORM, since, today.isoformat())
    assert cells(page, ".platform-tracks") == [[str(i), name, artist, f"{n:,}", str(best), str(k)]
                                               for i, (_, name, artist, n, best, k) in enumerate(tracks, 1)]
    screenshot(page, "platform")
    name, rows = download_csv(page, ".platform-tracks")
    assert name == "platform-tracks.csv"
    assert [(r["uuid"], int(r["appearances"]), int(r["best_position"])) for r in rows] == [
        (uuid, n, best) for uuid, _, _, n, best, _ in tracks]
