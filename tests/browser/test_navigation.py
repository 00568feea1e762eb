"""Following links overview -> platform -> chart -> track in one tab, each page rendering without an error; bad or
unknown deep links give a one-line error or not-found state, never a traceback or Voila's generic error."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import OUTPUT, expect_rendered, screenshot

pytestmark = pytest.mark.browser

RENDER = "/voila/render/"


def test_links_lead_from_the_overview_to_a_track(voila, dashboard_db, page):
    base = voila(dashboard_db) + RENDER
    page.goto(base + "overview.ipynb")
    expect_rendered(page, ".top-platforms")
    page.locator(".top-platforms tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/platform\.ipynb\?slug=[a-z0-9-]+$"))
    expect_rendered(page, ".platform-charts")
    screenshot(page, "navigation-platform")
    page.locator(".platform-charts tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/chart\.ipynb\?slug=[a-z0-9-]+$"))
    expect_rendered(page, ".chart-ranking")
    screenshot(page, "navigation-chart")
    page.locator(".chart-ranking tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/track\.ipynb\?uuid=[0-9a-f-]{36}$"))
    expect_rendered(page, ".chart-history")
    screenshot(page, "navigation-track")


@pytest.mark.parametrize(("link", "state", "message"), [
    ("platform.ipynb", "error-state", "the link has no slug: open this page from another dashboard"),
    ("chart.ipynb?slug=spotify-top-200-us-daily&date=2026-02-30", "error-state",
     "date must be a date as YYYY-MM-DD, got '2026-02-30'"),
    ("track.ipynb?uuid=123", "error-state", "uuid is not a SoundCharts UUID: '123'"),
    ("overview.ipynb?roster=maybe", "error-state", "roster must be 1 or 0, got 'maybe'"),
    ("track.ipynb?uuid=00000000-0000-4000-8000-000000000000", "notfound-state",
     "Not found: no track '00000000-0000-4000-8000-000000000000' is stored."),
])
def test_bad_deep_links_say_what_is_wrong_in_one_line(voila, dashboard_db, page, link, state, message):
    page.goto(voila(dashboard_db) + RENDER + link)
    shown = page.locator(f".{state}")
    expect(shown).to_contain_text(message, timeout=60_000)
    assert len(shown.inner_text().strip().splitlines()) == 1
    body = page.inner_text("body")
    assert "Traceback" not in body and "There was an error when executing cell" not in body
    expect(page.locator(".loading-state")).to_have_count(0)


def test_preheated_kernels_still_read_the_query_string(voila, dashboard_db, page):
    """With Voila's kernel pool the notebook's imports run before any request; the page then waits for its own
    request's query string (ui.params.request_query_string) instead of drawing a default page."""
    # a server of its own (serve.kernel_pools: one pooled kernel per viewer page), so no earlier visit took the kernel
    base = voila(dashboard_db, {"VoilaConfiguration": {"preheat_kernel": True}})
    filled = "Kernel pool of chart.ipynb is filled"
    deadline = time.monotonic() + 90
    while not any(filled in log.read_text(errors="replace") for log in (OUTPUT / "logs").glob("voila-*.log")):
        assert time.monotonic() < deadline, "the kernel pool was never filled"
        time.sleep(0.5)
    # (no theme here: Voila itself reads ?theme= and renders such a request in a fresh kernel)
    page.goto(base + RENDER + "chart.ipynb?slug=spotify-top-200-us-daily&date=2001-01-01")
    expect(page.locator(".empty-state")).to_contain_text("No ranking stored for 2001-01-01", timeout=60_000)
