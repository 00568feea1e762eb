"""The chart dashboard in Voila + headless Chromium: a deep link to the chart's first stored ranking (its history
started earlier) shows the API's own states, previous positions and time on chart, read here from the local server
over HTTP, and the peak, its date and the streak computed here in SQL from stored history; the date picker and
buttons; the CSV download equals the table."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from served_ranking import expected, ranking_dates, served

from .conftest import cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser

CHART = "spotify-top-200-us-daily"
MOVES = {"NEW": "NEW", "RE-ENTRY": "RE", "SAME": "="}


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


def _move(state: str, previous: int | None, position: int) -> str:
    if state in MOVES:
        return MOVES[state]
    arrow = "▲" if state == "UP" else "▼"
    return arrow if previous is None else f"{arrow} {abs(previous - position)}"


def expected_rows(db_url: str, srv, on: date) -> list[list[str]]:
    """The table as the page should show it: rank, previous, move and time on chart as the server sends them;
    track, artist and metric as stored; peak, its date and the streak over the stored rankings up to ``on``."""
    dates = [d for d in stored_dates(db_url) if d <= on]
    seen: dict[str, dict[date, int]] = {}
    for day in dates:
        for pos, uuid, *_ in positions(db_url, day):
            seen.setdefault(uuid, {}).setdefault(day, pos)
    api = {item["position"]: expected(item, on) for item in served(srv, CHART, on) if item["position"]}
    rows = []
    for pos, uuid, name, artist, metric in positions(db_url, on):
        sent_uuid, state, previous, n, unit, _ = api[pos]
        assert sent_uuid == uuid
        history = seen[uuid]
        peak = min(history.values())
        streak = next((i for i, day in enumerate(reversed(dates)) if day not in history), len(dates))
        rows.append([str(pos), "" if previous is None else str(previous), _move(state, previous, pos), name, artist,
                     f"{n:,} {unit}{'s' if n != 1 else ''}", str(peak),
                     str(min(d for d, p in history.items() if p == peak)), str(streak),
                     "" if metric is None else f"{metric:,}"])
    return rows


def test_the_first_stored_ranking_shows_the_apis_states_and_stored_history_since_it(voila, dashboard_db, localapi,
                                                                                    page):
    dates = stored_dates(dashboard_db)
    on = dates[0]
    assert min(ranking_dates(localapi, CHART)) < on  # the chart's history starts before the stored window
    page.goto(voila(dashboard_db) + f"/voila/render/chart.ipynb?slug={CHART}&date={on}")
    expect_rendered(page, ".chart-ranking")
    expect(page.locator(".chart-summary h2")).to_have_text("Spotify Top 200 United States Daily")
    expect(page.locator(".date-picker input")).to_have_value(on.isoformat())
    expected_ = expected_rows(dashboard_db, localapi, on)
    assert cells(page, ".chart-ranking") == expected_
    assert {r[2] for r in expected_} != {"NEW"} and any(r[2] == "RE" or r[1] for r in expected_)
    expect(page.locator(".history-note")).to_contain_text(
        f"Prev, Move (NEW / RE) and On chart as the API sent them. * From stored history since {on}, the first "
        "stored ranking (1 ranking up to this one).")
    assert hrefs(page, ".chart-ranking") == [f"track.ipynb?uuid={uuid}" for _, uuid, *_ in
                                             positions(dashboard_db, on)]
    climbers = sorted((r for r in expected_ if r[2].startswith("▲ ")), key=lambda r: (-int(r[2][2:]), int(r[0])))
    assert [row[0] for row in cells(page, ".climbers")] == [r[3] for r in climbers[:10]]
    assert len(cells(page, ".new-entries")) == sum(r[2] in ("NEW", "RE") for r in expected_)
    gone = [item for item in served(localapi, CHART, on) if not item["position"]]
    if gone:  # the API's position-0 items; else nothing to compare with on the first stored ranking
        expect(page.locator(".dropouts .sc-card-title")).to_have_text("Drop-outs (sent by the API)")
        assert len(cells(page, ".dropouts")) == len(gone)
    else:
        expect(page.locator(".dropouts")).to_contain_text("No earlier ranking stored to compare with.")
    screenshot(page, "chart")

    name, rows = download_csv(page, ".chart-ranking")
    assert name == "chart-ranking.csv"
    assert [[r["position"], r["previous_position"], r["name"], r["artist"], r["stored_peak_position"],
             r["stored_peak_date"], r["stored_streak"], r["history_start"]] for r in rows] == \
        [[c[0], c[1], c[3], c[4], c[6], c[7], c[8], str(on)] for c in expected_]

    # The date picker and the buttons load other rankings, each checked against the server and SQL again.
    page.locator(".date-picker input").fill(dates[-2].isoformat())
    expect(page.locator(".permalink a")).to_have_attribute("href", f"chart.ipynb?slug={CHART}&date={dates[-2]}")
    expect_rendered(page, ".chart-ranking")  # the controls change first, then the ranking replaces the loading state
    assert cells(page, ".chart-ranking") == expected_rows(dashboard_db, localapi, dates[-2])
    page.get_by_role("button", name="Next ▶").click()
    expect(page.locator(".permalink a")).to_have_attribute("href", f"chart.ipynb?slug={CHART}&date={dates[-1]}")
    expect(page.get_by_role("button", name="Next ▶")).to_be_disabled()
    expect_rendered(page, ".chart-ranking")
    assert cells(page, ".chart-ranking")[:20] == expected_rows(dashboard_db, localapi, dates[-1])[:20]
    before = {uuid for _, uuid, *_ in positions(dashboard_db, dates[-2])}
    now = {uuid for _, uuid, *_ in positions(dashboard_db, dates[-1])}
    gone = [item for item in served(localapi, CHART, dates[-1]) if not item["position"]]
    assert len(cells(page, ".dropouts")) == (len(gone) if gone else len(before - now))


def test_a_date_without_a_ranking_offers_the_nearest(voila, dashboard_db, localapi, page):
    dates = stored_dates(dashboard_db)
    page.goto(voila(dashboard_db) + f"/voila/render/chart.ipynb?slug={CHART}&date=2001-01-01")
    state = page.locator(".empty-state")
    expect(state).to_contain_text(f"No ranking stored for 2001-01-01. This chart has {len(dates)} rankings from "
                                  f"{dates[0]} to {dates[-1]}; the nearest is {dates[0]}.")
    state.get_by_role("link").click()
    expect_rendered(page, ".chart-ranking")
    expect(page.locator(".date-picker input")).to_have_value(dates[0].isoformat())
    assert cells(page, ".chart-ranking")[:10] == expected_rows(dashboard_db, localapi, dates[0])[:10]


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
