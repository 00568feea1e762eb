"""The overview dashboard in Voila + headless Chromium, checked against plain SQL on the same database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.jobs.sync import today_utc

from .conftest import PAYLOAD_NAME, cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser

PAGE = "/voila/render/overview.ipynb"


def _since(today: date, days: int) -> str:
    return (today - timedelta(days=days - 1)).isoformat()


def expected_per_day(db_url: str, today: date) -> list[tuple[date, int]]:
    rows = dict(sql(db_url, "SELECT ranking_date, COUNT(*) FROM chart_ranking WHERE status = 'success' AND "
                             "ranking_date BETWEEN ? AND ? GROUP BY ranking_date", _since(today, 7), today.isoformat()))
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    return [(d, rows.get(d.isoformat(), 0)) for d in days]


def expected_tracks(db_url: str, today: date) -> list[tuple]:
    return sql(db_url, """
        SELECT t.uuid, t.name, COALESCE(t.credit_name, ''), COUNT(*) AS appearances
        FROM chart_ranking_entry e
        JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN track t ON t.id = e.track_id
        WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY appearances DESC, t.name, t.uuid LIMIT 10""", _since(today, 30), today.isoformat())


def expected_platforms(db_url: str, today: date) -> list[tuple]:
    return sql(db_url, """
        SELECT p.slug, p.name, COUNT(*) AS n
        FROM chart_ranking r JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id
        WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY p.slug, p.name ORDER BY n DESC, p.slug LIMIT 10""", _since(today, 30), today.isoformat())


def test_overview_matches_sql(voila, dashboard_db, page):
    today = today_utc()
    page.goto(voila(dashboard_db) + PAGE)
    chart = page.locator(".rankings-per-day")
    expect(chart.locator(".bqplot svg.svg-figure")).to_be_visible()
    for css in ("week-comparison", "top-platforms", "top-tracks", "chart-health"):
        expect(page.locator(f".{css}")).to_be_visible()
    expect(page.locator(".error-state, .empty-state, .loading-state")).to_have_count(0)

    # The 7 points: one dot and one value label per day, dates on the x axis.
    per_day = expected_per_day(dashboard_db, today)
    expect(chart.locator("path.dot")).to_have_count(7)
    expect(chart.locator("text.label")).to_have_text([f"{n:,}" for _, n in per_day])
    ticks = chart.locator(".tick text").all_text_contents()
    assert [t for t in ticks if not t.replace(",", "").isdigit()] == [d.strftime("%a %d %b") for d, _ in per_day]
    chart.locator("path.dot").last.hover()
    tooltip = page.locator(".bqplot_tooltip_div:visible")
    expect(tooltip).to_contain_text(per_day[-1][0].strftime("%a %d %b %Y"))
    expect(tooltip).to_contain_text(f"{per_day[-1][1]:,}")

    # Week comparison and chart health.
    this_week = sum(n for _, n in per_day)
    previous = sql(dashboard_db, "SELECT COUNT(*) FROM chart_ranking WHERE status = 'success' AND ranking_date "
                                 "BETWEEN ? AND ?", _since(today, 14), _since(today, 8))[0][0]
    expect(page.locator(".week-comparison .sc-kpi")).to_have_text(f"{this_week:,}")
    expect(page.locator(".week-comparison")).to_contain_text(f"({previous:,} rankings)")
    total, active = sql(dashboard_db, "SELECT COUNT(*), SUM(CASE WHEN is_active THEN 1 ELSE 0 END) FROM chart")[0]
    health = page.locator(".chart-health")
    expect(health).to_contain_text(f"{active:,} of {total:,} charts active")
    expect(health).to_contain_text(f"{active / total * 100:.1f}% active")

    # Top tracks: same rows as SQL, names shown as text (the payload did not run or render as markup).
    tracks = expected_tracks(dashboard_db, today)
    assert PAYLOAD_NAME in [name for _, name, _, _ in tracks]
    assert cells(page, ".top-tracks") == [[str(i), name, artist, f"{n:,}"]
                                           for i, (_, name, artist, n) in enumerate(tracks, 1)]
    assert hrefs(page, ".top-tracks") == [f"track.ipynb?uuid={uuid}" for uuid, *_ in tracks]
    expect(page.locator(".top-tracks tbody b, .top-tracks tbody img, .top-tracks tbody script")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None

    # Top platforms: table rows, then the chart tab with one bar per platform.
    platforms = expected_platforms(dashboard_db, today)
    assert [row[:3] for row in cells(page, ".top-platforms")] == [
        [str(i), name, f"{n:,}"] for i, (_, name, n) in enumerate(platforms, 1)]
    assert hrefs(page, ".top-platforms") == [f"platform.ipynb?slug={slug}" for slug, *_ in platforms]
    screenshot(page, "overview")
    page.get_by_role("tab", name="Chart").click()
    expect(page.locator(".top-platforms .bqplot")).to_be_visible()  # bqplot hides a figure until laid out
    expect(page.locator(".top-platforms rect.bar")).to_have_count(len(platforms))
    expect(page.locator(".top-platforms text.bar_label")).to_have_text([f"{n:,}" for *_, n in platforms])
    screenshot(page, "overview-platforms-chart")


def test_empty_database_shows_empty_state(voila, empty_db_url, page):
    page.goto(voila(empty_db_url) + PAGE)
    empty = page.locator(".empty-state")
    expect(empty).to_contain_text("No data yet: run make demo or soundcharts sync-charts --backfill-days 28")
    expect(page.locator(".error-state, .rankings-per-day, .loading-state")).to_have_count(0)
    screenshot(page, "overview-empty")


def test_missing_database_shows_one_line_error(voila, tmp_path, page):
    missing = tmp_path / "nowhere.db"
    page.goto(voila(f"sqlite:///{missing}") + PAGE)
    error = page.locator(".error-state")
    expect(error).to_contain_text(f"database file not found: {missing}")
    assert "Traceback" not in page.inner_text("body")
    expect(page.locator(".empty-state, .loading-state")).to_have_count(0)
    screenshot(page, "overview-error")


def test_system_status_matches_sql(voila, dashboard_db, page):
    page.goto(voila(dashboard_db) + PAGE)
    expect_rendered(page, ".job-runs")
    now = utcnow()
    runs = sql(dashboard_db, """
        SELECT kind, trigger, status, started_at, quota_remaining FROM sync_run
        WHERE id IN (SELECT MAX(id) FROM sync_run GROUP BY kind) ORDER BY kind""")
    assert [row[:4] for row in cells(page, ".job-runs")] == [
        [kind, trigger, status, datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M UTC")]
        for kind, trigger, status, started, _ in runs]
    assert [row[5] for row in cells(page, ".job-runs")] == [f"{q:,}" if q is not None else "" for *_, q in runs]

    since = str(now - timedelta(hours=24))
    failed_runs = sql(dashboard_db, "SELECT COUNT(*) FROM sync_run WHERE started_at >= ? AND status IN "
                                    "('failed', 'partial')", since)[0][0]
    failed_fetches = sql(dashboard_db, "SELECT COUNT(*) FROM chart_ranking WHERE fetched_at >= ? AND "
                                       "status = 'failed'", since)[0][0]
    assert (failed_runs, failed_fetches) == (1, 1)
    expect(page.locator(".failures-total")).to_have_text(str(failed_runs + failed_fetches))
    expect(page.locator(".failures")).to_contain_text("deezer-top-100-fr-daily: HTTP 500 <server>")

    # Quota: the latest figure, and the forecast recomputed here from the runs of the last 7 days.
    points = [(datetime.fromisoformat(t), q) for t, q in sql(
        dashboard_db, "SELECT started_at, quota_remaining FROM sync_run WHERE quota_remaining IS NOT NULL "
                      "AND started_at >= ? ORDER BY started_at", str(now - timedelta(days=7)))]
    (first_at, first), (last_at, last) = points[0], points[-1]
    burn = (first - last) / ((last_at - first_at).total_seconds() / 86400)
    month_end = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    forecast = last - burn * (month_end - now).total_seconds() / 86400
    expect(page.locator(".quota-remaining")).to_have_text(f"{last:,}")
    expect(page.locator(".quota-method")).to_contain_text(f"= {burn:,.0f} a day")
    shown = int(page.locator(".quota-forecast").inner_text().replace(",", ""))
    assert abs(shown - forecast) <= 2  # the page computed it a few seconds earlier

    # The failing chart is listed with links to its chart and platform pages.
    assert hrefs(page, ".charts-attention")[:2] == ["chart.ipynb?slug=deezer-top-100-fr-daily",
                                                    "platform.ipynb?slug=deezer"]
    expect(page.locator(".charts-attention")).to_contain_text("2 failures")
    name, rows = download_csv(page, ".job-runs")
    assert name == "job-runs.csv"
    assert [(r["kind"], r["status"], r["quota_remaining"]) for r in rows] == [
        (kind, status, str(q) if q is not None else "") for kind, _, status, _, q in runs]
    screenshot(page, "overview-status")

    name, rows = download_csv(page, ".top-tracks")
    assert name == "overview-tracks.csv"
    assert [[str(i), r["name"], r["artist"], f"{int(r['appearances']):,}"] for i, r in enumerate(rows, 1)] \
        == cells(page, ".top-tracks")
    assert [f"track.ipynb?uuid={r['uuid']}" for r in rows] == hrefs(page, ".top-tracks")


def test_auto_refresh_rereads_the_data(voila, dashboard_db, page):
    page.goto(voila(dashboard_db) + PAGE + "?refresh=2")
    expect_rendered(page, ".top-tracks")
    toggle = page.locator("button.auto-refresh")
    expect(toggle).not_to_have_class("mod-active")
    first = page.locator(".sc-updated").inner_text()
    assert first.startswith("Updated ")
    page.wait_for_timeout(2500)
    expect(page.locator(".sc-updated")).to_have_text(first)  # off by default: nothing re-read
    toggle.click()
    expect(page.locator(".sc-updated")).not_to_have_text(first, timeout=15_000)
    toggle.click()
    expect_rendered(page, ".top-tracks")


def test_dark_theme_fits_a_phone(voila, dashboard_db, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(voila(dashboard_db) + PAGE + "?theme=dark")
    expect_rendered(page, ".top-tracks")
    expect(page.locator(".sc-page.sc-dark")).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(3, 7, 18)"
    assert page.evaluate("getComputedStyle(document.querySelector('.sc-card')).backgroundColor") == "rgb(17, 24, 39)"
    assert all(href.endswith("&theme=dark") for href in hrefs(page, ".top-tracks"))
    widths = page.evaluate("""() => [document.documentElement.scrollWidth,
        Math.max(...[...document.querySelectorAll('.sc-card')].map(c => c.getBoundingClientRect().right))]""")
    assert max(widths) <= 390, widths
    screenshot(page, "overview-dark-390px")
