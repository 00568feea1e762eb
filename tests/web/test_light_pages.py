"""Light snapshot pages (``SOUNDCHARTS_SNAPSHOTS=on``, the default) on the real viewers' server: a page carries its
widgets' states and the standalone widget manager's scripts, no kernel and no Voila front end; a control that needs
Python takes it live with the visitor's change (the page's script's protocol, as ``tests/bench/page_client.py``
speaks it); a page whose data changed since it was served loads fresh; malformed or hostile posts get a JSON 400,
another site's a 404, and a flood of them a 503 past its cap."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from conftest import copy_db

from soundcharts_lib.db import make_engine
from soundcharts_lib.db.runs import finish_run, start_run
from soundcharts_lib.web.light_page import LIVE_COOKIE, MAX_BODY, MAX_CHANGES, MAX_WAITING
from soundcharts_lib.web.replay import VIRTUAL_ID
from web.test_snapshots import _chart, bench, kernels, serving, with_class

pytestmark = pytest.mark.slow  # Voila servers and their kernels
GO_LIVE = "/voila/api/snapshot-live"
SCRIPT = re.compile(r"<script([^>]*)>", re.S)


@pytest.fixture(scope="module")
def site(synced_sqlite_url, tmp_path_factory):
    """(database URL, base URL, server pid, log) of a server with light snapshot pages, on a copy of the synced
    database."""
    state = tmp_path_factory.mktemp("light")
    url = copy_db(synced_sqlite_url, state / "site.db")
    with serving(url, state, SOUNDCHARTS_SNAPSHOTS="on") as (base, pid, log):
        yield url, base, pid, log


async def _opened(base: str, path: str):
    client = bench.PageClient(base, time.perf_counter() + 120)
    await client.open(path)
    return client


def test_a_light_page_carries_its_widgets_and_no_kernel_nor_voila_front_end(site):
    _url, base, pid, _log = site
    before = kernels(pid)
    answer = requests.get(f"{base}/voila/render/overview.ipynb", timeout=120)
    assert answer.status_code == 200
    page = answer.text
    assert "voila.js" not in page and "jupyter-config-data" not in page and 'id="workbench-light"' in page
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy and "unsafe-inline" not in policy.split(
        "script-src", 1)[1].split(";", 1)[0]
    for attributes in SCRIPT.findall(page):  # nothing runs inline: scripts from the server, or data
        assert "src=" in attributes or 'type="application/' in attributes, attributes
    for src in re.findall(r'<script src="([^"]+)"', page) + ["/voila/static/bqplot/index.js",
                                                             "/voila/static/bqscales/index.js"]:
        script = requests.get(base + src, timeout=30)
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"], src
    client = bench.run_apart(_opened(base, "/voila/render/overview.ipynb"))
    assert client.light is not None and client.kernel_id == ""
    assert bench.has_first_figure(client.embedded, "overview") == ""
    views = re.findall(r'widget-view\+json">\{"model_id":"([^"]+)"', page)
    assert views and set(views) <= set(client.embedded)
    assert set(client.light["live"]) <= set(client.embedded) and client.light["live"]  # the auto-refresh toggle
    assert kernels(pid) == before
    # Two visits: the same page, from one render (nothing of the visit in it).
    assert requests.get(f"{base}/voila/render/overview.ipynb", timeout=60).text == page


def test_a_control_that_needs_python_takes_a_light_page_live_with_its_change(site):
    url, base, pid, log = site
    slug, previous = _chart(url)
    path = f"/voila/render/chart.ipynb?slug={slug}"
    bench.run_apart(_opened(base, path))  # its snapshot rendered
    bench.settle(pid, log, pools=4)
    before = len(kernels(pid))

    async def click_previous():
        client = await _opened(base, path)
        click = {"model_id": with_class(client.embedded, "prev-date"), "method": "custom",
                 "content": {"event": "click"}}
        try:
            status = await client.go_live(path, [click])
            light, states = client.light, await client.states()  # the snapshot's, as the page's front end sets up
            while True:  # then the live kernel's answer to the click: the day before, its link shown
                _channel, header, content, _buffers = await client.read()
                value = str(((content.get("data") or {}).get("state") or {}).get("value", ""))
                if header["msg_type"] == "comm_msg" and f"date={previous}" in value:
                    return status, client.kernel_id, light, states, value
        finally:
            client.close()

    status, kernel_id, light, states, shown = bench.run_apart(click_previous())
    assert status == 204 and light is None and re.fullmatch(VIRTUAL_ID, kernel_id)
    assert bench.has_first_figure(states, "chart") == "" and "link to this ranking" in shown
    bench.settle(pid, log, pools=4)
    assert len(kernels(pid)) == before + 1
    assert requests.post(f"{base}/voila/api/shutdown/{kernel_id}", timeout=30).status_code == 204
    deadline = time.monotonic() + 30
    while len(kernels(pid)) > before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(kernels(pid)) == before


def test_a_light_page_whose_data_changed_since_it_was_served_loads_fresh(site):
    url, base, _pid, _log = site
    path = "/voila/render/overview.ipynb"
    served = bench.run_apart(_opened(base, path))
    engine = make_engine(url)
    finish_run(engine, start_run(engine, "fetch_metadata", "cli", {}), status="success", counts={}, errors=[])
    engine.dispose()
    bench.run_apart(_opened(base, path))  # the next visit renders it again

    async def go_live():
        toggle = {"model_id": served.light["live"][0], "method": "update", "state": {}}
        client = bench.PageClient(base, time.perf_counter() + 120)
        client.light, client.embedded = served.light, served.embedded
        return await client.go_live(path, [toggle]), client

    status, client = bench.run_apart(go_live())
    assert status == 409 and client.light is not None and client.light["stamp"] != served.light["stamp"]
    job_runs = client.embedded[with_class(client.embedded, "job-runs")]["state"]["value"]
    assert "fetch_metadata" in job_runs


def _post(base: str, body, **headers) -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(base + GO_LIVE, data=data, headers={"Content-Type": "application/json", **headers},
                         timeout=30)


def test_malformed_or_hostile_posts_get_a_json_error_and_start_nothing(site):
    _url, base, pid, log = site
    client = bench.run_apart(_opened(base, "/voila/render/overview.ipynb"))
    stamp, live = client.light["stamp"], client.light["live"][0]
    page = "/voila/render/overview.ipynb"
    update = {"model_id": live, "method": "update", "state": {"value": True}}
    bench.settle(pid, log, pools=4)
    before = kernels(pid)
    cases = {
        "not JSON": (b"{nope", 400),
        "a list": ([1, 2], 400),
        "no stamp": ({"page": page, "changes": [update]}, 400),
        "a number for the page": ({"page": 5, "stamp": stamp, "changes": [update]}, 400),
        "another server's page": ({"page": "http://evil.example/voila/render/overview.ipynb", "stamp": stamp,
                                   "changes": [update]}, 400),
        "a path out of the pages": ({"page": "/voila/render/../../etc/passwd", "stamp": stamp,
                                     "changes": [update]}, 409),
        "no changes": ({"page": page, "stamp": stamp, "changes": []}, 400),
        "changes not a list": ({"page": page, "stamp": stamp, "changes": {"a": 1}}, 400),
        "too many changes": ({"page": page, "stamp": stamp, "changes": [update] * (MAX_CHANGES + 1)}, 400),
        "an unknown model": ({"page": page, "stamp": stamp, "changes": [{**update, "model_id": "5c" + "0" * 29 + "x"}]},
                             400),
        "a trait the model has not": ({"page": page, "stamp": stamp,
                                       "changes": [{**update, "state": {"__class__": 1}}]}, 400),
        "another method": ({"page": page, "stamp": stamp, "changes": [{**update, "method": "request_state"}]}, 400),
        "a change that is a string": ({"page": page, "stamp": stamp, "changes": ["x"]}, 400),
        "a stale stamp": ({"page": page, "stamp": "0" * 16, "changes": [update]}, 409),
        "a page never rendered": ({"page": page + "?roster=2&x=%00", "stamp": stamp, "changes": [update]}, 409),
        "a body too large": (b"{" + b" " * (MAX_BODY + 1) + b"}", 413),
    }
    for name, (body, status) in cases.items():
        answer = _post(base, body)
        assert answer.status_code == status, (name, answer.status_code, answer.text[:200])
        assert answer.headers["Content-Type"].startswith("application/json"), name
        assert json.loads(answer.text)["message"], name
        assert "Traceback" not in answer.text and LIVE_COOKIE not in answer.headers.get("Set-Cookie", ""), name
    assert requests.get(base + GO_LIVE, timeout=30).status_code == 405
    time.sleep(1)
    assert kernels(pid) == before


def test_a_live_cookie_serves_voila_only_for_its_own_page(site):
    url, base, _pid, _log = site
    slug, _previous = _chart(url)
    chart = f"/voila/render/chart.ipynb?slug={slug}"
    client = bench.run_apart(_opened(base, chart))
    click = {"model_id": with_class(client.embedded, "prev-date"), "method": "custom", "content": {"event": "click"}}
    answer = _post(base, {"page": chart, "stamp": client.light["stamp"], "changes": [click]})
    assert answer.status_code == 204
    session = answer.cookies[LIVE_COOKIE]
    assert re.fullmatch(VIRTUAL_ID, session)
    assert "Path=/voila/render/chart.ipynb" in answer.headers["Set-Cookie"]
    assert "HttpOnly" in answer.headers["Set-Cookie"] and "SameSite=Strict" in answer.headers["Set-Cookie"]
    for other in ("/voila/render/overview.ipynb", f"/voila/render/chart.ipynb?slug={slug}&theme=dark"):
        page = requests.get(base + other, cookies={LIVE_COOKIE: session}, timeout=120).text
        assert 'id="workbench-light"' in page and session not in page, other
    forged = requests.get(base + chart, cookies={LIVE_COOKIE: "0" * 8 + "-0000-0000-0000-" + "0" * 12}, timeout=60)
    assert 'id="workbench-light"' in forged.text
    own = requests.get(base + chart, cookies={LIVE_COOKIE: session}, timeout=60)
    assert "voila.js" in own.text and f'"kernelId": "{session}"' in own.text
    assert requests.post(f"{base}/voila/api/shutdown/{session}", timeout=30).status_code == 204


def test_a_post_from_another_site_is_refused_and_a_flood_of_them_is_capped(site):
    """Last in this module: it leaves the server's waiting sessions full until they expire."""
    _url, base, _pid, _log = site
    client = bench.run_apart(_opened(base, "/voila/render/overview.ipynb"))
    body = {"page": "/voila/render/overview.ipynb", "stamp": client.light["stamp"],
            "changes": [{"model_id": client.light["live"][0], "method": "update", "state": {}}]}
    other = _post(base, body, Origin="http://evil.example")
    assert other.status_code == 404 and LIVE_COOKIE not in other.headers.get("Set-Cookie", "")
    answers = [_post(base, body).status_code for _ in range(MAX_WAITING + 1)]
    assert answers[:MAX_WAITING] == [204] * MAX_WAITING
    refused = _post(base, body)
    assert answers[-1] == 503 and refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert json.loads(refused.text)["message"].startswith("too many pages")
    assert requests.get(f"{base}/voila/render/overview.ipynb", timeout=60).status_code == 200  # visits go on
