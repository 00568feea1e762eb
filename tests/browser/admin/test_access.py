"""Who gets what: the admin server wants its token (login page in the browser, 403 from the kernel API); the
viewers' server has no admin area at all."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import expect

from ..conftest import SCREENSHOTS, expect_rendered, screenshot
from .conftest import RENDER, TOKEN

pytestmark = pytest.mark.browser

KERNEL = "00000000-0000-4000-8000-000000000000"


def _raw_get(base: str, path: str, headers: dict | None = None) -> tuple[int, str]:
    """GET ``path`` exactly as written (no client-side clean-up of ``.``, ``..`` or ``%xx``)."""
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_without_the_token_the_browser_gets_the_login_page_and_the_api_403(admin_server, page):
    page.goto(admin_server + RENDER + "charts.ipynb")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fvoila%2Frender%2Fadmin%2Fcharts.ipynb$"))
    expect(page.locator("#password_input")).to_be_visible()
    expect(page.locator("input[name=new_password]")).to_have_count(0)  # the token cannot become a password
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-login.png"))

    for path in (f"/api/kernels/{KERNEL}", f"/api/kernels/{KERNEL}/channels",
                 "/soundcharts/audience/chart/00000000-0000-4000-a000-000000000000/"):
        assert _raw_get(admin_server, path)[0] == 403, path
    assert requests.get(f"{admin_server}/soundcharts/admin/runs/1/notebook", allow_redirects=False).headers[
        "Location"].startswith("/login?next=")

    # The token typed into the login page gets in and goes on to the page asked for.
    page.fill("#password_input", TOKEN)
    page.keyboard.press("Enter")
    expect_rendered(page, ".chart-list")
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content())[1]
    # The page's own kernel: 403 without the token, there with it.
    assert _raw_get(admin_server, f"/api/kernels/{kernel}")[0] == 403
    assert _raw_get(admin_server, f"/api/kernels/{kernel}", {"Authorization": f"token {TOKEN}"})[0] == 200


def test_a_wrong_token_is_refused(admin_server):
    wrong = {"Authorization": "token not-the-token-0123456789"}
    assert _raw_get(admin_server, RENDER + "charts.ipynb", wrong)[0] == 302
    assert _raw_get(admin_server, f"/api/kernels/{KERNEL}", wrong)[0] == 403


def test_the_viewer_server_has_no_admin_area(voila, empty_db_url, page):
    base = voila(empty_db_url)
    for path in ("/voila/render/admin/charts.ipynb", "/voila/render/admin/", "/voila/tree/admin",
                 "/voila/render/%61dmin/charts.ipynb", "/voila/render/./admin/charts.ipynb",
                 "/voila/render/x/../admin/charts.ipynb", "/voila/render//admin/charts.ipynb",
                 "/voila/files/admin/charts.ipynb", "/voila/api/contents/admin",
                 "/soundcharts/admin/runs/1/notebook"):
        status, body = _raw_get(base, path)
        assert status == 404, (path, status)
        assert "Admin" not in body and "ChartsView" not in body, path
    status, body = _raw_get(base, "/voila/api/contents/")
    assert status == 200 and "admin" not in [item["name"] for item in json.loads(body)["content"]]

    response = page.goto(base + RENDER + "charts.ipynb")
    assert response.status == 404
    page.goto(base + "/voila/render/overview.ipynb")
    expect_rendered(page, ".sc-page")
    expect(page.locator(".sc-admin-nav")).to_have_count(0)
    screenshot(page, "admin-viewer-overview")
