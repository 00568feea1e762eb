"""The chart dashboard in Voila + headless Chromium: a deep link to an older ranking, checked against trends computed
here in SQL; the date picker and buttons; the CSV download equals the table."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from .conftest import cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser

CHART = "spotify-top-200-us-daily"


def stored_dates(db_url: str) -> list[date]:
    return [date.fromisoformat(d) for (d,) in sql(db_url, """
        SELECT r.ranking_date FROM chart_ranking r JOIN chart c ON c.id = r.chart_id
        WHERE c.slug = ? AND r.status = 'success' ORDER BY r.ranking_date""", CHART)]


def positions(db_url: str, on: date) -> list[tuple]:
    return sql(db_url, """
        SELECT e.position, t.uuid, t.name, COALESCE(t.credit_name, ''), e.metric
        FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id
        JOIN track t ON t.id = e.track_id
        WHERE c.slug = ? AND r.ranking_date = ? AND r.status = 'success' ORDER BY e.position""", CHART, on.isoformat())


def expected_rows(db_url: str, on: date) -> list[list[str]]:
    """The table as the page should show it: rank, previous, move, track, artist, peak, days on chart, metric."""
    dates = stored_dates(db_url)
    before = [d for d in dates if d < on]
    previous = {uuid: pos for pos, uuid, *_ in positions(db_url, before[-1])} if before else {}
    history = {uuid: (peak, n) for uuid, peak, n in sql(db_url, """
        SELECT t.uuid, MIN(e.position), COUNT(*) FROM chart_ranking_entry e
        JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id JOIN track t ON t.id = e.track_id
        WHERE c.slug = ? AND r.status = 'success' AND r.ranking_date <= ? GROUP BY t.uuid""", CHART, on.isoformat())}
    rows = []
    for pos, uuid, name, artist, metric in positions(db_url, on):
        prev = previous.get(uuid)
        peak, n = history[uuid]
        if prev is None:
            move = "NEW" if n == 1 else "RE"
        else:
            move = f"▲ {prev - pos}" if prev > pos else f"▼ {pos - prev}" if prev < pos else "="
        rows.append([str(pos), "" if prev is None else str(prev), move, name, artist, str(peak),
                     f"{n} day{'s' if n != 1 else ''}", f"{metric:,}"])
    return rows


def test_deep_link_to_an_older_ranking_matches_sql(voila, dashboard_db, page):
    dates = stored_dates(dashboard_db)
    on = dates[-4]
    page.goto(voila(dashboard_db) + f"/voila/render/chart.ipynb?slug={CHART}&date={on}")
    expect_rendered(page, ".chart-ranking")
    expect(page.locator(".chart-summary h2")).to_have_text("Spotify Top 200 United States Daily")
    expect(page.locator(".date-picker input")).to_have_value(on.isoformat())
    expected = expected_rows(dashboard_db, on)
    assert cells(page, ".chart-ranking") == expected
    assert hrefs(page, ".chart-ranking") == [f"track.ipynb?uuid={uuid}" for _, uuid, *_ in
                                             positions(dashboard_db, on)]
    climbers = sorted((r for r in expected if r[2].startswith("▲")), key=lambda r: (-int(r[2][2:]), int(r[0])))
    assert [row[1] for row in cells(page, ".climbers")] == [r[3] for r in climbers[:10]]
    previous = {uuid for _, uuid, *_ in positions(dashboard_db, dates[-5])}
    now = {uuid for _, uuid, *_ in positions(dashboard_db, on)}
    assert len(cells(page, ".dropouts")) == len(previous - now)
    assert len(cells(page, ".new-entries")) == sum(r[2] in ("NEW", "RE") for r in expected)
    screenshot(page, "chart")

    name, rows = download_csv(page, ".chart-ranking")
    assert name == "chart-ranking.csv"
    assert [[r["position"], r["previous_position"], r["name"], r["artist"], r["peak_position"],
             f"{int(r['metric']):,}"] for r in rows] == [[c[0], c[1], c[3], c[4], c[5], c[7]] for c in expected]

    # The date picker and the buttons load other rankings, each checked against SQL again.
    page.locator(".date-picker input").fill(dates[-2].isoformat())
    expect(page.locator(".permalink a")).to_have_attribute("href", f"chart.ipynb?slug={CHART}&date={dates[-2]}")
    expect_rendered(page, ".chart-ranking")  # the controls change first, then the ranking replaces the loading state
    assert cells(page, ".chart-ranking") == expected_rows(dashboard_db, dates[-2])
    page.get_by_role("button", name="Next ▶").click()
    expect(page.locator(".permalink a")).to_have_attribute("href", f"chart.ipynb?slug={CHART}&date={dates[-1]}")
    expect(page.get_by_role("button", name="Next ▶")).to_be_disabled()
    expect_rendered(page, ".chart-ranking")
    assert cells(page, ".chart-ranking")[:20] == expected_rows(dashboard_db, dates[-1])[:20]


def test_a_date_without_a_ranking_offers_the_nearest(voila, dashboard_db, page):
    dates = stored_dates(dashboard_db)
    page.goto(voila(dashboard_db) + f"/voila/render/chart.ipynb?slug={CHART}&date=2001-01-01")
    state = page.locator(".empty-state")
    expect(state).to_contain_text(f"No ranking stored for 2001-01-01. This chart has {len(dates)} rankings from "
                                  f"{dates[0]} to {dates[-1]}; the nearest is {dates[0]}.")
    state.get_by_role("link").click()
    expect_rendered(page, ".chart-ranking")
    expect(page.locator(".date-picker input")).to_have_value(dates[0].isoformat())
    assert cells(page, ".chart-ranking")[:10] == expected_rows(dashboard_db, dates[0])[:10]


def test_the_facts_on_a_phone_keep_each_term_beside_its_value(voila, dashboard_db, page):
    """At 390 px the chart's facts are a two-column grid (JupyterLab floats a ``dl``'s terms otherwise) and the
    page is no wider than the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(voila(dashboard_db) + f"/voila/render/chart.ipynb?slug={CHART}")
    expect_rendered(page, ".chart-summary .sc-facts dd")
    pairs = page.eval_on_selector_all(".chart-summary .sc-facts dt", """terms => terms.map(dt => {
        const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
        return [dt.innerText, Math.round(a.top), Math.round(b.top), Math.round(a.right), Math.round(b.left),
                getComputedStyle(dt).float];
    })""")
    assert len(pairs) >= 3
    for term, term_top, value_top, term_right, value_left, floating in pairs:
        assert floating == "none" and abs(term_top - value_top) <= 2 and term_right <= value_left, term
    assert len({left for *_, left, _ in pairs}) == 1  # one column of values
    assert page.evaluate("document.querySelector('.sc-page').getBoundingClientRect().right") <= 390
    screenshot(page, "chart-facts-390")
