"""Hostile visitors of the dashboards' servers (``soundcharts serve`` and ``serve --admin``): odd paths, query
strings, headers, kernel websocket frames and guessed admin tokens, each sent to a real server.

Every probe asserts its status, a short answer without a traceback, and that the viewers' server still answers
``/voila/static/voila.js`` within a second afterwards. The websocket frames also check that a page still renders and
that the server's memory did not grow. Pages are checked for any value of the query string in their HTML unescaped.
One viewers' server and one admin server serve the whole module.

Before the fixes: one 8-byte frame (``ff ff ff ff ff ff ff 7f``), a 10**9 offset count, a legacy binary frame or a
legacy ``request_states`` froze the viewers' server (100 % CPU, hundreds of MB to GB, SIGTERM ignored); ``?theme=``
was written into every page unescaped; ``?template=`` and ``/voila/templates/...`` traversals and a NUL in a path
answered 500; ``?template=..`` started a kernel and never answered; any ``Host`` was served; guessed tokens were
never limited; the admin link's ``?token=`` reached the kernels (``tests/web/test_serve.py``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
import uuid as uuids
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from conftest import OUTPUT, copy_db
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from soundcharts_lib.web.launch import PREHEATED_PAGES, free_port, start_voila, wait_ready

pytestmark = pytest.mark.slow  # Voila servers and their kernels

TOKEN = "probe-admin-token-5f1c0a7e9b"
V1 = "v1.kernel.websocket.jupyter.org"
TRACK = "00000000-0000-4000-a000-000000000000"
SHORT = 4096  # bytes: an error answer is a line or Voila's small error page, never a dump
MAX_RSS_GROWTH_MB = 50
VIEWER_PAGES = ("overview.ipynb", "chart.ipynb", "platform.ipynb", "track.ipynb")
ADMIN_PAGES = tuple(sorted(p.name for p in (Path(__file__).resolve().parents[2] / "dashboards" / "admin").glob(
    "*.ipynb")))
PAYLOADS = ('"><img src=x onerror=alert(7)>', "<script>alert(8)</script>", "'\"><svg/onload=alert(9)>")
PARAMS = ("uuid", "slug", "start", "end", "platforms", "limit", "refresh", "roster", "chart", "track", "date")


@dataclass
class Server:
    base: str
    proc: subprocess.Popen

    @property
    def port(self) -> int:
        return urlparse(self.base).port

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


def _server(tmp_path_factory, synced_sqlite_url: str, *, admin: bool, snapshots: str = "voila") -> Iterator[Server]:
    """A server; a viewers' one serves snapshot pages with Voila's front end by default, so that every page has the
    kernel websocket the probes aim at (``light_viewer``: the default light pages)."""
    folder = tmp_path_factory.mktemp("admin" if admin else "viewer")
    env = {"SOUNDCHARTS_DB_URL": copy_db(synced_sqlite_url, folder / "probes.db"), "SOUNDCHARTS_LOG_FILE": "off",
           "SOUNDCHARTS_RUNS_DIR": str(folder / "runs"), "SOUNDCHARTS_SNAPSHOTS": snapshots}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(folder / var.lower())
    (OUTPUT / "logs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = OUTPUT / "logs" / f"web-probes-{'admin' if admin else 'viewer'}-{snapshots}.log"
    with log_path.open("w") as log:
        proc = start_voila(port, env=dict(os.environ, **env), log=log, admin=admin, token=TOKEN if admin else None,
                           cull_idle_seconds=30)  # the probes' kernels go soon
        try:
            base = wait_ready(proc, port, timeout=90)
            _wait_for_pools(log_path, 0 if admin else len(PREHEATED_PAGES))
            yield Server(base, proc)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail("the server ignored SIGTERM")


def _wait_for_pools(log_path: Path, pools: int, timeout: float = 120) -> None:
    """Until the server's preheated kernels have started and run their pages (a busy start-up, not a probe)."""
    deadline = time.monotonic() + timeout
    while len(set(re.findall(r"Kernel pool of (\S+) is filled", log_path.read_text()))) < pools:
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.5)


@pytest.fixture(scope="module")
def viewer(tmp_path_factory, synced_sqlite_url) -> Iterator[Server]:
    yield from _server(tmp_path_factory, synced_sqlite_url, admin=False)


@pytest.fixture(scope="module")
def light_viewer(tmp_path_factory, synced_sqlite_url) -> Iterator[Server]:
    yield from _server(tmp_path_factory, synced_sqlite_url, admin=False, snapshots="on")


@pytest.fixture(scope="module")
def admin(tmp_path_factory, synced_sqlite_url) -> Iterator[Server]:
    yield from _server(tmp_path_factory, synced_sqlite_url, admin=True)


@dataclass
class Answer:
    status: int | None  # None: the server closed the connection without answering
    headers: dict[str, str]
    body: bytes
    cookies: str = ""  # every cookie the answer set, as a Cookie header


def send(server: Server, path: str, headers: dict[str, str] | None = None, method: str = "GET",
         source: str = "127.0.0.1", body: bytes = b"") -> Answer:
    """One request exactly as written (no client-side clean-up of the path), from the loopback address ``source``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120, source_address=(source, 0))
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        length = {"Content-Length": str(len(body))} if body else {}
        for name, value in {"Host": f"127.0.0.1:{server.port}", **length, **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        cookies = "; ".join(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or [])
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(), cookies)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return Answer(None, {}, b"")
    finally:
        conn.close()


ALIVE_S = 5  # a frozen server never answers; a busy one (two test workers, a kernel starting) once took over 1 s


def assert_alive(server: Server) -> None:
    """The viewers' server answers its static script within :data:`ALIVE_S` seconds."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ALIVE_S)
    try:
        conn.request("GET", "/voila/static/voila.js")
        resp = conn.getresponse()
        assert resp.status == 200 and len(resp.read()) > 1000
    finally:
        conn.close()
    assert time.monotonic() - start < ALIVE_S


def assert_refused(answer: Answer, status: int, words: str = "") -> None:
    """``status``, a short body that names ``words``, no traceback."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert len(answer.body) < SHORT and b"Traceback" not in answer.body, answer.body[:300]
    assert words.encode() in answer.body, answer.body[:300]


# --- paths -------------------------------------------------------------------------------------------------------

LONG = "a" * 10_000
PATHS = [  # path, status, words in the answer
    ("/voila/render/x.ipynb/", 404, ""),
    ("/voila/render/nothere.ipynb", 404, ""),
    (f"/voila/render/{'b' * 5000}.ipynb", 404, ""),
    (f"/{LONG}", 404, ""),
    ("/voila/render/%00", 400, "NUL"),  # was 500
    ("/voila/render/a%00.ipynb", 400, "NUL"),
    ("/voila/tree/%00", 400, "NUL"),
    ("/voila/render/%ff%fe.ipynb", 400, ""),
    ("/voila/tree/%ff", 400, ""),
    ("/voila/templates/x", 404, ""),  # was 500
    ("/voila/templates/lab/static/../../../../etc/passwd", 404, ""),  # was 500
    ("/voila/templates/lab/x/y", 404, ""),  # was 500
    ("/voila/templates/%2e%2e/static/x", 404, ""),
    ("/voila/static/../../", 403, ""),
    ("/voila/static/%2e%2e/%2e%2e/etc/passwd", 403, ""),
    ("/voila/files/overview.ipynb", 403, ""),
    ("/voila/files/../soundcharts.db", 403, ""),
    ("/voila/api/contents/%ff", 400, ""),
    ("/voila/api/themes/%2e%2e/%2e%2e", 404, ""),
    ("/voila/api/shutdown/abc", 405, ""),
    ("/api/contents", 404, ""),
    ("/api/terminals", 404, ""),
    ("/api/kernels/00000000-0000-0000-0000-000000000000", 404, ""),
    ("/soundcharts/nothing", 404, ""),
    ("/soundcharts/audience/chart/%ff/", 400, "Invalid unicode"),
    ("/soundcharts/audience/chart/x/y/z/", 404, "no such endpoint"),
    (f"/soundcharts/audience/chart/{TRACK}/?limit=99999999999999999999", 400, "limit must be"),
    (f"/soundcharts/audience/chart/{TRACK}/?limit=%ff", 400, "Invalid unicode"),
    (f"/soundcharts/audience/chart/{TRACK}/?start_date=%EF%BC%92026-01-01", 400, "start_date must be a date"),
    (f"/soundcharts/audience/chart/{TRACK}/spotify/?end_date=2026-01-01%0A", 400, "end_date must be a date"),
]


@pytest.mark.parametrize("path, status, words", PATHS, ids=[p[0][:48] for p in PATHS])
def test_odd_paths_are_4xx_in_one_short_answer(viewer, path, status, words):
    assert_refused(send(viewer, path), status, words)
    assert_alive(viewer)


def test_a_traversal_out_of_render_stays_on_this_server(viewer):
    answer = send(viewer, "/voila/render/%2e%2e/")
    assert answer.status == 302 and answer.headers["location"].startswith("/voila/files/")
    assert_alive(viewer)


# --- query strings -----------------------------------------------------------------------------------------------

XSS = quote('x"><script>alert(6)</script>')
QUERIES = [
    (f"/voila/render/overview.ipynb?theme={XSS}", 400, "theme must be one of light, dark"),  # was in the HTML
    ("/voila/render/overview.ipynb?theme=JupyterLab%20Dark", 400, "theme must be"),
    ("/voila/render/overview.ipynb?theme=dark&theme=x", 400, "theme must be"),
    ("/voila/render/overview.ipynb?template=../../../../etc", 400, "template must be lab"),  # was 500
    ("/voila/render/overview.ipynb?template=%2e%2e", 400, "template must be lab"),  # was a kernel, never an answer
    ("/voila/render/overview.ipynb?template=classic", 400, "template must be lab"),
    (f"/voila/tree?theme={XSS}", 400, "theme must be"),
    ("/voila/tree?template=../../x", 400, "template must be lab"),  # was 500
    ("/voila/render/nothere.ipynb?template=../x", 400, "template must be lab"),  # was 500 (its error page)
    (f"/?theme={XSS}", 400, "theme must be"),
]


@pytest.mark.parametrize("path, status, words", QUERIES, ids=[q[0][:48] for q in QUERIES])
def test_other_themes_and_templates_are_refused(viewer, path, status, words):
    answer = send(viewer, path)
    assert_refused(answer, status, words)
    assert b"<script>" not in answer.body and b"etc" not in answer.body  # nothing of the request comes back
    assert_alive(viewer)


def _payload_query() -> str:
    return "&".join(f"{name}={quote(PAYLOADS[i % len(PAYLOADS)])}" for i, name in enumerate(PARAMS))


def assert_nothing_reflected(html: bytes) -> None:
    for payload in PAYLOADS:
        assert payload.encode() not in html
    for fragment in (b"onerror=alert", b"<script>alert", b"onload=alert", b"<svg/"):
        assert fragment not in html


@pytest.mark.parametrize("page", VIEWER_PAGES)
@pytest.mark.parametrize("front", ["voila", "light"])
def test_no_viewer_page_writes_a_query_value_into_its_html(request, page, front):
    viewer = request.getfixturevalue("viewer" if front == "voila" else "light_viewer")
    answer = send(viewer, f"/voila/render/{page}?theme=dark&{_payload_query()}")
    drawn = b'"kernelId"' if front == "voila" else b'id="workbench-light"'
    assert answer.status == 200 and drawn in answer.body and b"theme-dark" in answer.body
    # A light page carries its widgets' states, and a page shows what was wrong with its query (escaped for the
    # widget that shows it): as JSON data with no "<", ">" or "&" at all, which no browser runs or parses as markup.
    data = re.compile(rb'(<script type="application/[a-z.+-]*json"[^>]*>)(.*?)</script>', re.S)
    for _tag, text in data.findall(answer.body):
        assert not re.search(rb"[<>&]", text) and json.loads(text) is not None
    assert_nothing_reflected(data.sub(rb"\1</script>", answer.body) if front == "light" else answer.body)
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp and "base-uri 'self'" in csp
    scripts = re.findall(rb"<script([^>]*)>(.*?)</script>", answer.body, re.S)
    inline = [attrs for attrs, code in scripts if b"src=" not in attrs and b'type="application/' not in attrs]
    assert inline == []  # the policy would block them: the page has none
    assert_alive(viewer)


def test_no_admin_page_writes_a_query_value_into_its_html(admin, viewer):
    assert ADMIN_PAGES
    for page in ADMIN_PAGES:
        answer = send(admin, f"/voila/render/admin/{page}?{_payload_query()}", {"Authorization": f"token {TOKEN}"})
        assert answer.status == 200 and b'"kernelId"' in answer.body, page
        assert_nothing_reflected(answer.body)
        assert "script-src 'self';" in answer.headers["content-security-policy"]
    refused = send(admin, f"/voila/render/admin/charts.ipynb?theme={XSS}", {"Authorization": f"token {TOKEN}"})
    assert_refused(refused, 400, "theme must be")
    assert_alive(viewer)


@pytest.mark.parametrize("path, status, on_admin", [
    ("/voila/tree", 200, False), ("/", 200, False), ("/voila/render/nothere.ipynb", 404, False),
    ("/voila/tree/nothere", 404, False), ("/voila/api/contents/", 200, False), ("/login", 200, True),
    ("/voila/render/admin/charts.ipynb", 302, True)])
def test_no_other_page_writes_a_query_value_into_its_html(admin, viewer, path, status, on_admin):
    answer = send(admin if on_admin else viewer, f"{path}?next={quote(PAYLOADS[0])}&{_payload_query()}")
    assert answer.status == status and b"Traceback" not in answer.body
    assert_nothing_reflected(answer.body)
    assert_nothing_reflected(answer.headers.get("location", "").encode())
    assert_alive(viewer)


# --- headers -----------------------------------------------------------------------------------------------------

HOSTS = [  # Host header, status of /voila/static/voila.js
    ("evil.example", 403),  # was 200: DNS rebinding reached the dashboards
    ("evil.example:{port}", 403),
    ("127.0.0.1.evil.example:{port}", 403),
    ("localhost.:{port}", 403),
    ("127.0.0.2:{port}", 403),
    ("localhost:{port}", 200),
    ("LocalHost:{port}", 200),
    ("[::1]:{port}", 200),
]


@pytest.mark.parametrize("host, status", HOSTS, ids=[h[0] for h in HOSTS])
def test_only_the_servers_own_host_names_are_served(viewer, host, status):
    answer = send(viewer, "/voila/static/voila.js", {"Host": host.format(port=viewer.port)})
    if status == 200:
        assert answer.status == 200 and answer.body.startswith(b"var _JUPYTERLAB")
    else:
        assert_refused(answer, status, "this server answers to its own host names only")
    assert_alive(viewer)


def test_a_rebound_host_reaches_no_page_and_no_websocket(viewer):
    assert_refused(send(viewer, "/voila/render/overview.ipynb", {"Host": "evil.example"}), 403, "host names")
    upgrade = {"Host": "evil.example", "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": V1}
    assert_refused(send(viewer, f"/api/kernels/{_kernel_id(viewer)}/channels", upgrade), 403, "host names")
    assert_alive(viewer)


def test_a_page_of_another_site_cannot_open_a_kernel_websocket(viewer, ws_url):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(_kernel_id(viewer)), subprotocols=[V1], origin="http://evil.example", open_timeout=20)
    assert refused.value.response.status_code == 403
    assert_alive(viewer)


HEADERS = [  # headers, status of the overview page
    ({"X-Forwarded-For": "<script>", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher"}, 200),
    ({"Cookie": "\x7f" * 100 + "=;;;"}, 400),
    ({"Cookie": "username-127-0-0-1=2|1:0|10:1|garbage; _xsrf=" + "a" * 4000}, 200),
    ({"Authorization": "token " + "x" * 8000}, 200),  # no token on the viewers' server: ignored
    ({"Accept-Encoding": "\xff" * 50, "If-Modified-Since": "garbage", "Range": "bytes=99999999999-"}, 200),
]


@pytest.mark.parametrize("headers, status", HEADERS, ids=["forwarded", "cookie-control", "cookie-forged",
                                                          "authorization-huge", "encodings"])
def test_odd_headers_change_nothing(viewer, headers, status):
    answer = send(viewer, "/voila/render/overview.ipynb", headers)
    assert answer.status == status and b"Traceback" not in answer.body
    assert b"evil.example" not in answer.body and b"gopher" not in answer.body
    assert_alive(viewer)


def test_huge_headers_close_the_connection_and_nothing_else(viewer):
    assert send(viewer, "/voila/static/voila.js", {"X-Big": "a" * 70_000}).status is None  # Tornado's 64 KB limit
    many = {f"X-H{i}": "v" * 60 for i in range(1200)}
    assert send(viewer, "/voila/static/voila.js", many).status is None
    assert_alive(viewer)


@pytest.mark.parametrize("method, status", [("POST", 403), ("DELETE", 403), ("PROPFIND", 405)])
def test_other_methods_on_a_page_are_refused(viewer, method, status):  # 403: no XSRF token
    assert_refused(send(viewer, "/voila/render/overview.ipynb", method=method, body=b"x=1"), status)
    assert_alive(viewer)


# --- kernel websocket frames -------------------------------------------------------------------------------------

def _kernel_id(server: Server, page: str = "overview.ipynb", headers: dict | None = None) -> str:
    """Render ``page`` (it must render) and return its kernel's id."""
    answer = send(server, f"/voila/render/{page}", headers)
    assert answer.status == 200 and b"Traceback" not in answer.body
    return re.search(rb'"kernelId": "([0-9a-f-]{36})"', answer.body)[1].decode()


def _le(*numbers: int) -> bytes:
    return b"".join(n.to_bytes(8, "little") for n in numbers)


def _message(channel: str, msg_type: str, content: dict, metadata: dict | None = None) -> bytes:
    """A v1 frame as JupyterLab sends it."""
    header = {"msg_id": uuids.uuid4().hex, "msg_type": msg_type, "username": "probe", "session": "probe",
              "date": "2026-01-01T00:00:00Z", "version": "5.3"}
    parts = [channel.encode()] + [json.dumps(p).encode() for p in (header, {}, metadata or {}, content)]
    offsets = [8 * (len(parts) + 2)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return _le(len(offsets), *offsets) + b"".join(parts)


BODY = b"shell{}{}{}{}"
FRAMES = {  # name: (frame, close code)
    "ff-ff-ff-ff-ff-ff-ff-7f": (bytes.fromhex("ffffffffffffff7f"), 1008),  # was a frozen server
    "count-1e9": (_le(10 ** 9), 1008),  # was a frozen server
    "count-0": (_le(0), 1008),
    "count-1": (_le(1, 16), 1008),
    "count-65": (_le(65) + b"\0" * 600, 1008),
    "offsets-past-the-end": (_le(6, 56, 61, 63, 65, 67, 99_999) + BODY, 1008),
    "offsets-decreasing": (_le(6, 56, 61, 59, 63, 65, 67) + BODY, 1008),
    "offsets-into-the-table": (_le(6, 0, 61, 63, 65, 67, 69) + BODY, 1008),
    "truncated": (b"\x06\x00\x00", 1008),
    "empty": (b"", 1008),
    "header-not-json": (_le(6, 56, 61, 63, 65, 67, 69) + b"shell{]{}{}{}", 1008),
    "iopub-channel": (_message("iopub", "kernel_info_request", {}), 1008),
    "text-garbage": ("not json at all {", 1003),
    "text-json": (json.dumps({"channel": "shell", "header": {"msg_type": "kernel_info_request"}}), 1003),
}


def _closed_with(ws) -> int:
    """Read until the server closes the socket; its close code."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            ws.recv(timeout=deadline - time.monotonic())
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1
        except TimeoutError:
            break
    raise AssertionError("the server kept the socket open")


@pytest.fixture(scope="module")
def ws_url(viewer):
    return lambda kernel: f"ws://127.0.0.1:{viewer.port}/api/kernels/{kernel}/channels?session_id=probe"


def test_a_well_formed_message_still_gets_its_reply(viewer, ws_url):
    with connect(ws_url(_kernel_id(viewer)), subprotocols=[V1], open_timeout=20) as ws:
        assert ws.subprotocol == V1
        ws.send(_message("shell", "kernel_info_request", {}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = ws.recv(timeout=deadline - time.monotonic())
            if b'"kernel_info_reply"' in frame:
                break
        else:
            raise AssertionError("no kernel_info_reply")
    assert_alive(viewer)


@pytest.mark.parametrize("name", FRAMES)
def test_a_malformed_frame_closes_its_socket_and_nothing_else(viewer, ws_url, name):
    frame, code = FRAMES[name]
    kernel = _kernel_id(viewer)
    before = viewer.rss_mb()
    with connect(ws_url(kernel), subprotocols=[V1], open_timeout=20) as ws:
        ws.send(frame)
        assert _closed_with(ws) == code
    assert_alive(viewer)
    _kernel_id(viewer)  # a page still renders
    assert viewer.rss_mb() - before < MAX_RSS_GROWTH_MB


@pytest.mark.parametrize("subprotocols", [None, ["v2.kernel.websocket.jupyter.org"]], ids=["legacy", "unknown"])
def test_other_protocols_are_refused_at_the_handshake(viewer, ws_url, subprotocols):
    """A legacy client (no subprotocol) froze the server: a binary frame with a 2**31 part count, or asking the
    widgets for their states (their buffers came back as a legacy binary message, which Voila read as v1)."""
    with pytest.raises(InvalidStatus) as refused, connect(ws_url(_kernel_id(viewer, "chart.ipynb")),
                                                         subprotocols=subprotocols, open_timeout=20):
        pass
    assert refused.value.response.status_code == 400
    assert refused.value.response.body.decode().strip() == f"400: the kernel websocket speaks {V1} only"
    assert_alive(viewer)


def test_the_widgets_states_with_their_buffers_come_back_and_nothing_freezes(viewer, ws_url):
    """``request_states`` on ``jupyter.widget.control`` (what froze the server over the legacy protocol): over v1
    the states arrive, binary buffers (the figures' arrays) included, and the server goes on answering."""
    before = viewer.rss_mb()
    with connect(ws_url(_kernel_id(viewer)), subprotocols=[V1], open_timeout=20, max_size=None) as ws:
        comm = uuids.uuid4().hex
        ws.send(_message("shell", "comm_open", {"comm_id": comm, "target_name": "jupyter.widget.control",
                                                "data": {}}, {"version": "1.0.0"}))
        ws.send(_message("shell", "comm_msg", {"comm_id": comm, "data": {"method": "request_states"}}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = ws.recv(timeout=deadline - time.monotonic())
            if b'"update_states"' in frame:
                break
        else:
            raise AssertionError("no update_states")
    assert int.from_bytes(frame[:8], "little") > 6  # channel, 4 parts and the end: more offsets are buffers
    assert_alive(viewer)
    _kernel_id(viewer)
    assert viewer.rss_mb() - before < MAX_RSS_GROWTH_MB


# --- admin login -------------------------------------------------------------------------------------------------

def test_guessed_tokens_are_limited_per_address_and_the_token_never_echoed(admin, viewer):
    """10 wrong tokens from one address: the 11th attempt, even with the right token, is 429; another address
    still gets in; the login form counts too."""
    page = "/voila/render/admin/charts.ipynb"
    for attempt in range(10):
        answer = send(admin, page, {"Authorization": f"token wrong-{attempt:02d}-0123456789"}, source="127.0.0.2")
        assert answer.status == 302 and answer.headers["location"].startswith("/login?next=")
    for token in ("wrong-10-0123456789", TOKEN):
        blocked = send(admin, f"{page}?token={token}", source="127.0.0.2")
        assert_refused(blocked, 429)
        assert TOKEN.encode() not in blocked.body and b"wrong-10" not in blocked.body
    assert send(admin, page, {"Authorization": f"token {TOKEN}"}, source="127.0.0.3").status == 200

    login = send(admin, "/login", source="127.0.0.4")
    xsrf = re.search(rb'name="_xsrf" value="([^"]+)"', login.body)[1].decode()
    cookie = {"Cookie": login.cookies, "Content-Type": "application/x-www-form-urlencoded"}
    for attempt in range(11):
        answer = send(admin, "/login", cookie, "POST", "127.0.0.4",
                      f"_xsrf={quote(xsrf)}&password=guess-{attempt}".encode())
        assert answer.status == (401 if attempt < 10 else 429), attempt
        assert b"Traceback" not in answer.body and f"guess-{attempt}".encode() not in answer.body
    assert_alive(viewer)


@pytest.mark.parametrize("path, headers, status", [
    (f"/api/kernels/{TRACK}/channels", {}, 403),
    (f"/api/kernels/{TRACK}", {"Authorization": "token "}, 403),
    ("/voila/render/admin/charts.ipynb", {"Cookie": "username-127-0-0-1=2|1:0|10:1|forged"}, 302),
    ("/soundcharts/admin/runs/1/notebook", {}, 302),
    ("/soundcharts/admin/runs/99999999999999999999/notebook", {"Authorization": f"token {TOKEN}"}, 404),
])
def test_the_admin_area_without_its_token(admin, viewer, path, headers, status):
    answer = send(admin, path, headers, source="127.0.0.5")
    assert answer.status == status and len(answer.body) < SHORT and b"Traceback" not in answer.body
    assert_alive(viewer)
