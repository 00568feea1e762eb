"""Snapshot pages in headless Chromium, light (the default) and drawn by Voila's front end: the overview's figure and
a chart's ranking draw with no kernel of their own (a light page without loading Voila's front end at all); the
chart's "previous" button (Python behind it) takes the page live and shows the day before; leaving the page shuts its
live kernel down. (The other browser tests pass in either mode: ``SOUNDCHARTS_SNAPSHOTS=off`` runs them live.)"""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from conftest import copy_db
from playwright.sync_api import expect
from web.test_snapshots import _chart, bench, kernels, serving

from .conftest import LOCAL_HOSTS, PAGE_TIMEOUT_MS, VIEWPORT, expect_rendered, screenshot

pytestmark = pytest.mark.browser
RENDER = "/voila/render/"


def _settled_kernels(pid: int, log) -> int:
    bench.settle(pid, log, pools=4)
    return len(kernels(pid))


@pytest.mark.parametrize("mode", ["on", "voila"])
def test_snapshot_pages_draw_without_a_kernel_and_a_control_that_needs_python_takes_them_live(
        dashboard_db, browser, tmp_path, mode):
    # A context of its own: routing requests through Playwright (the page fixture's way of blocking other hosts)
    # drops the beacon a page sends as it unloads. Every request is checked to be local instead.
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    hosts, scripts, failed = set(), [], []
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.on("request", lambda request: scripts.append(urlparse(request.url).path)
            if request.resource_type == "script" else None)
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    url = copy_db(dashboard_db, tmp_path / "snapshots.db")
    slug, previous = _chart(url)
    with serving(url, tmp_path, SOUNDCHARTS_SNAPSHOTS=mode) as (base, pid, log):
        pooled = _settled_kernels(pid, log)
        page.goto(base + RENDER + "overview.ipynb")
        expect_rendered(page, ".rankings-per-day svg.svg-figure")
        page.goto(base + RENDER + f"chart.ipynb?slug={slug}")
        expect_rendered(page, ".chart-ranking tbody tr")
        assert _settled_kernels(pid, log) == pooled  # the chart's render came and went; no visitor's kernel
        light = mode == "on"
        assert page.locator("#workbench-light").count() == int(light)
        assert ("/voila/static/voila.js" in scripts) is not light, scripts
        page.wait_for_timeout(500)  # the fonts and styles a drawn page asks for
        assert failed == []  # every file a page asks for is there (the widget manager's fonts among them)

        page.locator(".prev-date").click()
        expect(page.locator(".permalink a")).to_have_attribute("href", f"chart.ipynb?slug={slug}&date={previous}",
                                                                timeout=60_000)
        expect_rendered(page, ".chart-ranking tbody tr")
        screenshot(page, f"snapshot-{mode}-chart-live")
        assert page.locator("#workbench-light").count() == 0  # live: Voila's front end on the page's kernel
        assert _settled_kernels(pid, log) == pooled + 1  # the visitor's live kernel

        page.goto("about:blank")  # the page's beforeunload beacon ends its session
        deadline = time.monotonic() + 30
        while len(kernels(pid)) > pooled and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(kernels(pid)) == pooled
    context.close()
    assert hosts <= LOCAL_HOSTS


def test_a_light_page_taken_live_keeps_what_the_visitor_chose_before(dashboard_db, browser, tmp_path):
    """A tab chosen on the light page (no Python: it stays in the browser) is still chosen on the live page the
    auto-refresh toggle takes it to. A light page that cannot be drawn (bqplot's module lost on the way) loads once
    more with Voila's front end, which draws it."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    url = copy_db(dashboard_db, tmp_path / "carried.db")
    with serving(url, tmp_path, SOUNDCHARTS_SNAPSHOTS="on") as (base, _pid, _log):
        broken = browser.new_context(viewport=VIEWPORT)
        lost = broken.new_page()
        lost.route("**/voila/static/bqplot/index.js", lambda route: route.abort())
        loads = []
        lost.on("load", lambda _: loads.append(lost.url))
        lost.goto(base + RENDER + "overview.ipynb")
        expect_rendered(lost, ".rankings-per-day svg.svg-figure")
        assert lost.locator("#workbench-light").count() == 0 and len(loads) == 2  # the light page, then Voila's
        broken.close()

        page.goto(base + RENDER + "overview.ipynb")
        expect_rendered(page, ".top-platforms .sc-tabs")
        assert page.locator("#workbench-light").count() == 1
        tabs = page.locator(".top-platforms .sc-tabs .lm-TabBar-tab")
        tabs.filter(has_text="Chart").click()
        expect(page.locator(".top-platforms .sc-tabs .lm-TabBar-tab.lm-mod-current")).to_have_text("Chart")
        assert page.locator("#workbench-light").count() == 1  # a tab needs no kernel
        page.locator(".auto-refresh").click()
        expect(page.locator("#workbench-light")).to_have_count(0, timeout=PAGE_TIMEOUT_MS)
        expect_rendered(page, ".top-platforms .sc-tabs")
        expect(page.locator(".top-platforms .sc-tabs .lm-TabBar-tab.lm-mod-current")).to_have_text("Chart")
        expect(page.locator(".auto-refresh")).to_have_class(re.compile(r"\bmod-active\b"))
    context.close()
