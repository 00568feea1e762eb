"""The overview dashboard in Voila + headless Chromium, checked against plain SQL on the same database."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import make_url

from soundcharts_lib.sync import today_utc

from .conftest import screenshot

pytestmark = pytest.mark.browser

PAGE = "/voila/render/overview.ipynb"
PAYLOAD_NAME = "<script>window.__pwned = 1</script><b>Robert'); DROP TABLE track;--</b>"
PAYLOAD_ARTIST = '<img src=x onerror="window.__pwned = 2"> & Co'


@pytest.fixture(scope="module")
def overview_db(synced_sqlite_url, tmp_path_factory) -> str:
    """A copy of the synced database whose most-charted track has markup in its name and artist."""
    path = tmp_path_factory.mktemp("overview") / "overview.db"
    src, dst = sqlite3.connect(make_url(synced_sqlite_url).database), sqlite3.connect(path)
    src.backup(dst)
    dst.execute("UPDATE track SET name = ?, credit_name = ? WHERE id = (SELECT track_id FROM chart_ranking_entry "
                "GROUP BY track_id ORDER BY COUNT(*) DESC LIMIT 1)", (PAYLOAD_NAME, PAYLOAD_ARTIST))
    dst.commit()
    src.close()
    dst.close()
    return f"sqlite:///{path}"


def _sql(db_url: str, query: str, *params) -> list[tuple]:
    conn = sqlite3.connect(make_url(db_url).database)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def _since(today: date, days: int) -> str:
    return (today - timedelta(days=days - 1)).isoformat()


def expected_per_day(db_url: str, today: date) -> list[tuple[date, int]]:
    rows = dict(_sql(db_url, "SELECT ranking_date, COUNT(*) FROM chart_ranking WHERE status = 'success' AND "
                             "ranking_date BETWEEN ? AND ? GROUP BY ranking_date", _since(today, 7), today.isoformat()))
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    return [(d, rows.get(d.isoformat(), 0)) for d in days]


def expected_tracks(db_url: str, today: date) -> list[tuple]:
    return _sql(db_url, """
        SELECT t.uuid, t.name, COALESCE(t.credit_name, ''), COUNT(*) AS appearances
        FROM chart_ranking_entry e
        JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN track t ON t.id = e.track_id
        WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY appearances DESC, t.name, t.uuid LIMIT 10""", _since(today, 30), today.isoformat())


def expected_platforms(db_url: str, today: date) -> list[tuple]:
    return _sql(db_url, """
        SELECT p.slug, p.name, COUNT(*) AS n
        FROM chart_ranking r JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id
        WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY p.slug, p.name ORDER BY n DESC, p.slug LIMIT 10""", _since(today, 30), today.isoformat())


def _cells(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def _hrefs(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} tbody a", "links => links.map(a => a.getAttribute('href'))")


def test_overview_matches_sql(voila, overview_db, page):
    today = today_utc()
    page.goto(voila(overview_db) + PAGE)
    chart = page.locator(".rankings-per-day")
    expect(chart.locator(".bqplot svg.svg-figure")).to_be_visible()
    for css in ("week-comparison", "top-platforms", "top-tracks", "chart-health"):
        expect(page.locator(f".{css}")).to_be_visible()
    expect(page.locator(".error-state, .empty-state, .loading-state")).to_have_count(0)

    # The 7 points: one dot and one value label per day, dates on the x axis.
    per_day = expected_per_day(overview_db, today)
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
    previous = _sql(overview_db, "SELECT COUNT(*) FROM chart_ranking WHERE status = 'success' AND ranking_date "
                                 "BETWEEN ? AND ?", _since(today, 14), _since(today, 8))[0][0]
    expect(page.locator(".week-comparison .sc-kpi")).to_have_text(f"{this_week:,}")
    expect(page.locator(".week-comparison")).to_contain_text(f"({previous:,} rankings)")
    total, active = _sql(overview_db, "SELECT COUNT(*), SUM(CASE WHEN is_active THEN 1 ELSE 0 END) FROM chart")[0]
    health = page.locator(".chart-health")
    expect(health).to_contain_text(f"{active:,} of {total:,} charts active")
    expect(health).to_contain_text(f"{active / total * 100:.1f}% active")

    # Top tracks: same rows as SQL, names shown as text (the payload did not run or render as markup).
    tracks = expected_tracks(overview_db, today)
    assert PAYLOAD_NAME in [name for _, name, _, _ in tracks]
    assert _cells(page, ".top-tracks") == [[str(i), name, artist, f"{n:,}"]
                                           for i, (_, name, artist, n) in enumerate(tracks, 1)]
    assert _hrefs(page, ".top-tracks") == [f"track.ipynb?uuid={uuid}" for uuid, *_ in tracks]
    expect(page.locator(".top-tracks tbody b, .top-tracks tbody img, .top-tracks tbody script")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None

    # Top platforms: table rows, then the chart tab with one bar per platform.
    platforms = expected_platforms(overview_db, today)
    assert [row[:3] for row in _cells(page, ".top-platforms")] == [
        [str(i), name, f"{n:,}"] for i, (_, name, n) in enumerate(platforms, 1)]
    assert _hrefs(page, ".top-platforms") == [f"platform.ipynb?slug={slug}" for slug, *_ in platforms]
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
