"""The track dashboard in Voila + headless Chromium, checked against SQL: chart history, where it charts now,
audience growth; the audience controls and a deep link with platforms and a limit; CSV downloads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import PAGE_TIMEOUT_MS, PAYLOAD_NAME, cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def uuid(dashboard_db) -> str:
    """The most-charted track (its metadata and audience were fetched)."""
    return sql(dashboard_db, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id "
                             "GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]


def audience_by_date(db_url: str, uuid: str) -> dict[str, dict[date, int]]:
    """Per platform, the audience summed over identifiers per date."""
    out: dict[str, dict[date, int]] = {}
    for slug, day, value in sql(db_url, """
            SELECT p.slug, a.date, SUM(a.audience_value) FROM track_audience a JOIN track t ON t.id = a.track_id
            JOIN platform p ON p.id = a.platform_id WHERE t.uuid = ? GROUP BY p.slug, a.date""", uuid):
        out.setdefault(slug, {})[date.fromisoformat(day)] = value
    return dict(sorted(out.items()))


def growth_text(values: dict[date, int], days: int) -> str:
    last = max(values)
    earlier = [d for d in values if d <= last - timedelta(days=days)]
    if not earlier:
        return "–"
    base, latest = values[max(earlier)], values[last]
    pct = f" ({(latest - base) / base * 100:+.2f}%)" if base else ""
    return f"{latest - base:+,}{pct}"


def test_track_page_matches_sql(voila, dashboard_db, uuid, page):
    page.goto(voila(dashboard_db) + f"/voila/render/track.ipynb?uuid={uuid}")
    expect_rendered(page, ".audience-growth")
    name, = sql(dashboard_db, "SELECT name FROM track WHERE uuid = ?", uuid)[0]
    expect(page.locator(".track-summary h2")).to_have_text(name)
    assert name == PAYLOAD_NAME and page.evaluate("window.__pwned") is None  # markup shown as text, never run
    artists = [n for (n,) in sql(dashboard_db, """
        SELECT a.name FROM artist a JOIN track_artist ta ON ta.artist_id = a.id JOIN track t ON t.id = ta.track_id
        WHERE t.uuid = ? ORDER BY ta.position, a.name""", uuid)]
    credit, = sql(dashboard_db, "SELECT credit_name FROM track WHERE uuid = ?", uuid)[0]  # no artists: the credit
    expect(page.locator(".track-summary dd").first).to_have_text(", ".join(artists) or credit)
    expect(page.locator(".track-summary")).to_contain_text("Metadata fetched")

    per_chart = sql(dashboard_db, """
        SELECT c.slug, c.name, p.slug, MIN(r.ranking_date), MAX(r.ranking_date), COUNT(*) AS n, MIN(e.position) AS peak
        FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id
        WHERE t.uuid = ? AND r.status = 'success' GROUP BY c.id ORDER BY n DESC, peak, c.slug""", uuid)
    shown = cells(page, ".chart-history")
    assert [(row[0], row[1], row[3], row[4], row[5], row[6]) for row in shown] == [
        (chart, platform, first, last, str(n), str(peak)) for _, chart, platform, first, last, n, peak in per_chart]
    kpis = page.locator(".track-kpis .sc-kpi").all_inner_texts()
    now = sql(dashboard_db, """
        SELECT c.slug, e.position FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id
        JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id
        WHERE t.uuid = ? AND r.status = 'success' AND r.ranking_date = c.last_ranking_date
        ORDER BY e.position, c.slug""", uuid)
    assert kpis == [str(len(per_chart)), str(min(p for *_, p in per_chart)), f"{sum(r[5] for r in per_chart):,}",
                    str(len(now))]
    assert [row[0] for row in cells(page, ".charting-now")] == [str(pos) for _, pos in now]
    assert [h.split("&")[0] for h in hrefs(page, ".charting-now")[::2]] == [f"chart.ipynb?slug={s}" for s, _ in now]
    expect(page.locator(".chart-history .bqplot path.line")).to_have_count(min(8, len(per_chart)))

    audience = audience_by_date(dashboard_db, uuid)
    assert len(audience) >= 2
    assert cells(page, ".audience-growth") == [
        [slug, f"{values[max(values)]:,}", growth_text(values, 7), growth_text(values, 28), growth_text(values, 90)]
        for slug, values in audience.items()]
    screenshot(page, "track")

    name, rows = download_csv(page, ".audience")
    assert name == "audience.csv" and list(rows[0]) == ["date", *audience]
    last = rows[-1]
    assert {slug: int(last[slug]) for slug in audience} == {slug: v[max(v)] for slug, v in audience.items()}

    # Unticking a platform reloads the audience only, without it.
    dropped = next(iter(audience))
    page.locator(f".platform-{dropped} input").uncheck()  # from a snapshot page: live (the page loads again)
    expect(page.locator(".audience-growth tbody tr")).to_have_count(len(audience) - 1, timeout=PAGE_TIMEOUT_MS)
    assert dropped not in [row[0] for row in cells(page, ".audience-growth")]
    page.get_by_role("button", name="Indexed to 100").click()
    expect(page.locator(".audience .bqplot path.line")).to_have_count(len(audience) - 1)
    expect_rendered(page, ".audience-growth")


def test_deep_link_with_platforms_range_and_limit(voila, dashboard_db, uuid, page):
    audience = audience_by_date(dashboard_db, uuid)
    slug = "spotify"
    days = sorted(audience[slug])
    start = days[-20]
    page.goto(voila(dashboard_db) + f"/voila/render/track.ipynb?uuid={uuid}&platforms={slug}&start={start}&limit=5")
    expect_rendered(page, ".audience-growth")
    expect(page.locator(".audience")).to_contain_text("5 daily points on 1 platform;")
    expect(page.locator(f".platform-{slug} input")).to_be_checked()
    expect(page.locator(".platform-youtube input")).not_to_be_checked()
    expect(page.locator(".audience-start input")).to_have_value(start.isoformat())
    expect(page.locator(".audience-limit input")).to_have_value("5")
    _, rows = download_csv(page, ".audience")
    assert [(r["date"], int(r[slug])) for r in rows] == [(d.isoformat(), audience[slug][d]) for d in days[-5:]]
    # growth still measures the whole stored history, not just the 5 days shown
    assert cells(page, ".audience-growth")[0][2] == growth_text(audience[slug], 7)
