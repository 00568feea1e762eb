"""Snapshot pages: a viewer page rendered once by a real kernel, then served to every visitor without one.

A snapshot is what Voila's front end gets from a live page: the page's HTML and, over the kernel websocket, the state
of every widget (:mod:`.widget_state`), bqplot figures and tables included. The server renders it by asking itself
for the page (a kernel runs the notebook as for any visit), captures the kernel's widget states, shuts the kernel
down and keeps the result. A visitor then gets its light page (:mod:`.light_page`, the default): the HTML with the
states in it, drawn by Jupyter's standalone widget manager, no kernel and no Voila front end. With
``SOUNDCHARTS_SNAPSHOTS=voila`` (or without the light page's files) a visitor gets the HTML with a kernel id of its
own that names no kernel: the server answers its kernel websocket from the snapshot (:mod:`.replay`). Either way a
live kernel starts only when the visitor uses a control that needs Python (a date picker, the roster toggle, a
download button): the page says nothing of the difference.

Freshness: a snapshot carries the data version read before its render (:func:`.freshness.data_version`: job runs,
audit events, alerts); a visit checks the version as it is at that moment, so a page is never older than the last
sync (the page's "Updated" time is its render's). A snapshot older than ``SOUNDCHARTS_SNAPSHOT_MINUTES`` is rendered
again too; the background renders a page visitors keep opening before it gets that old, and after each change of
the data version renders the common pages again (the overview, with the roster's view when there is a roster, each
platform, then the pages visited since the last time, most visited first), at most ``SOUNDCHARTS_SNAPSHOT_PAGES``
of them, which is also how many snapshots are kept. Pages that show an error state are served but not kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from jupyter_core.utils import ensure_async
from jupyter_server.utils import url_path_join
from tornado import web

from soundcharts_lib.web.capacity import LiveGate, Orphans, busy_page, default_live_kernels, pools_ready
from soundcharts_lib.web.embed_assets import installed
from soundcharts_lib.web.launch import PREHEATED_PAGES
from soundcharts_lib.web.light_page import FRONT_COOKIE, LIVE_COOKIE, light_page
from soundcharts_lib.web.pages import RenderHandler
from soundcharts_lib.web.replay import SESSIONS, Sessions

SERVICE = "soundcharts_snapshots"  # where the handlers find the service, in the Tornado settings
RENDER_HEADER = "X-Soundcharts-Render"  # the server's own requests: its secret, so no visitor can pass for them
BACKGROUND_HEADER = "X-Soundcharts-Background"  # a render nobody waits for: it leaves the preheated kernels alone
PAGES = PREHEATED_PAGES  # the viewer pages served as snapshots
VISITOR_WAIT = 30.0  # seconds a visitor waits for its page's render (a live page takes as long) before the busy page
QUIET_POLL = 0.5  # the background looks this often whether visitors still wait
REAP_SECONDS = 5.0  # visitors' kernels left alone (capacity.Orphans) are looked for this often
RENDER_TIMEOUT = 120.0
POLL_SECONDS = 10.0  # the background checks the data version this often
REFRESH_SHARE = 0.8  # a snapshot visited since its render is rendered again at this share of its maximum age
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S)
CAPTURE = "from soundcharts_lib.web.widget_state import capture as _c; _c(); del _c"
BAD_STATES = frozenset({"error-state"})  # a page that could not load (a database error): served, never kept


def page_key(path: str, query: str) -> tuple[str, str]:
    """``(notebook, query)`` with the parameters in name order (repeated ones kept in their order)."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True), key=lambda pair: pair[0])
    return path, urlencode(pairs)


@dataclass
class Snapshot:
    """One rendered page: its HTML cut at its kernel id, its widgets' states (what ``request_states`` answers: the
    JSON of the message's data and its binary buffers), which models need Python, the kernel's ``kernel_info``."""

    key: tuple[str, str]
    parts: list[str]
    data: bytes
    buffers: list[bytes]
    models: dict
    buffer_paths: list
    live: frozenset[str]
    kernel_info: dict
    version: tuple
    rendered_at: float = field(default_factory=time.monotonic)
    served: int = 0
    stamp: str = field(default_factory=lambda: secrets.token_hex(8))  # names this render to its light pages
    light: str | None = None  # its light page, once made (web.light_page), "" when it has none

    @classmethod
    def from_render(cls, key, page_html: str, kernel_id: str, found: dict, kernel_info: dict,
                    version: tuple) -> Snapshot:
        import base64

        data = {"method": "update_states", "states": found["states"], "buffer_paths": found["buffer_paths"]}
        return cls(key=key, parts=page_html.split(kernel_id), data=json.dumps(data, separators=(",", ":")).encode(),
                   buffers=[base64.b64decode(b) for b in found["buffers"]], models=found["states"],
                   buffer_paths=found["buffer_paths"], live=frozenset(found["live"]), kernel_info=kernel_info,
                   version=version)

    def page(self, kernel_id: str) -> str:
        return kernel_id.join(self.parts)

    @property
    def failed(self) -> bool:
        """Whether the page shows that it could not load (then it is not kept)."""
        return any(BAD_STATES & set(model["state"].get("_dom_classes") or ()) for model in self.models.values())

    def age(self) -> float:
        return time.monotonic() - self.rendered_at


class Freshness:
    """The data version, read in a thread by ``read``; concurrent callers share a read that started after they asked
    (so each gets the version as it was when it asked, or later), never one that was already running."""

    def __init__(self, read):
        self._read, self._task, self._started = read, None, float("-inf")

    async def current(self) -> tuple:
        asked = time.monotonic()
        while True:
            task = self._task
            if task is not None and self._started >= asked:
                return await asyncio.shield(task)
            if task is None or task.done():
                self._started = time.monotonic()
                self._task = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, self._read))
                continue
            await asyncio.wait([task])  # an older read: wait for it, then start (or join) a newer one


class Snapshots:
    """The snapshot service of one viewers' server ``app`` (a :class:`~soundcharts_lib.web.app.WorkbenchVoila`)."""

    def __init__(self, app, *, enabled: bool, keep: int, max_age: float, live_kernels: int, read_version,
                 read_subjects, light: bool = False):
        self.app, self.enabled, self.keep, self.max_age, self.light = app, enabled, keep, max_age, light
        self.secret = secrets.token_urlsafe(24)
        self.store: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        self.visits: Counter = Counter()  # per page since the last warm-up
        self.freshness = Freshness(read_version)
        self.read_subjects = read_subjects
        self.gate = LiveGate(app.kernel_manager, live_kernels)
        self.sessions = Sessions(self)
        self._rendering: set[str] = set()  # kernels rendering a snapshot now (this server shuts them down)
        self.orphans = Orphans(app.kernel_manager, kept=self._kept)
        self._renders: dict[tuple[str, str], asyncio.Future] = {}
        self._visitor_renders = asyncio.Semaphore(os.cpu_count() or 1)
        self._visitors = 0  # renders and live kernels visitors wait for now: the background waits for them
        self._warmed_version = None
        self._tasks: set[asyncio.Task] = set()

    # -- what a visit gets ---------------------------------------------------------------------------------------

    def internal(self, request) -> bool:
        """Whether ``request`` is the server's own render of a page."""
        import hmac

        given = request.headers.get(RENDER_HEADER, "")
        return bool(given) and hmac.compare_digest(given.encode(), self.secret.encode())

    def background(self, request) -> bool:
        """Whether ``request`` is the server's own render that nobody waits for."""
        return self.internal(request) and request.headers.get(BACKGROUND_HEADER) == "1"

    @staticmethod
    def eligible(path: str | None) -> bool:
        return path in PAGES

    def current(self, path: str, query: str) -> Snapshot | None:
        """The page's stored snapshot, whatever its age (a light page taken live names the one it was served)."""
        return self.store.get(page_key(path, query))

    def light_page(self, snap: Snapshot, base_url: str) -> str | None:
        """``snap``'s light page (:mod:`.light_page`), made once; ``None`` when light pages are off or it has none."""
        if not self.light:
            return None
        if snap.light is None:
            snap.light = light_page(snap, url_path_join(base_url, "voila/static/"), base_url) or ""
        return snap.light or None

    async def snapshot(self, path: str, query: str) -> Snapshot | None:
        """The page's current snapshot, rendered now if there is none (waiting at most ``VISITOR_WAIT``). ``None``
        when it could not be had (the data version unreadable, the render failed): the visit goes live.
        ``TimeoutError`` when the render takes longer: the visitor gets the busy page, and the render goes on."""
        key = page_key(path, query)
        try:
            version = await self.freshness.current()
        except Exception as exc:  # noqa: BLE001  (a database that does not answer: the live page says so)
            self.app.log.warning("snapshots: data version not readable (%s); serving live", type(exc).__name__)
            return None
        self.visits[key] += 1
        if len(self.visits) > 2 * self.keep:  # many one-off addresses between two syncs: keep the most visited
            self.visits = Counter(dict(self.visits.most_common(self.keep)))
        found = self.store.get(key)
        if found is None or found.version != version or found.age() > self.max_age:
            found = await asyncio.wait_for(asyncio.shield(self.render(key, visitor=True)), VISITOR_WAIT)
            if found is None:
                return None
        found.served += 1
        if key in self.store:
            self.store.move_to_end(key)
        return found

    # -- rendering -------------------------------------------------------------------------------------------------

    def render(self, key: tuple[str, str], *, visitor: bool = False) -> asyncio.Future:
        """The page's render, one at a time per page: a caller arriving while one runs shares it."""
        running = self._renders.get(key)
        if running is None:
            running = self._renders[key] = asyncio.ensure_future(self._render(key, visitor))
            running.add_done_callback(lambda _: self._renders.pop(key, None))
        return running

    async def _render(self, key: tuple[str, str], visitor: bool) -> Snapshot | None:
        if not visitor:
            await self._quiet()
            return await self._render_now(key, pooled=False)
        with self._visitor_waits():
            async with self._visitor_renders:
                return await self._render_now(key, pooled=True)

    @contextmanager
    def _visitor_waits(self) -> Iterator[None]:
        self._visitors += 1
        try:
            yield
        finally:
            self._visitors -= 1

    async def _quiet(self) -> None:
        """Until no visitor waits for a render or a live kernel, and Voila's preheated kernels are all there."""
        while self._visitors or not pools_ready(self.app.kernel_manager):
            await asyncio.sleep(QUIET_POLL)

    async def _render_now(self, key: tuple[str, str], *, pooled: bool) -> Snapshot | None:
        started = time.monotonic()
        try:
            version = await self.freshness.current()
            page_html, kernel_id = await self.kernel_page(*key, pooled=pooled)
            self._rendering.add(kernel_id)
            try:
                found, info = await self.capture(kernel_id)
            finally:
                await ensure_async(self.app.kernel_manager.shutdown_kernel(kernel_id))
                self._rendering.discard(kernel_id)
        except Exception as exc:  # noqa: BLE001  (any failure: the visit goes live, which shows what is wrong)
            self.app.log.warning("snapshot of %s not rendered: %s: %s", self.address(key), type(exc).__name__,
                                 str(exc).splitlines()[0][:200] if str(exc) else "")
            return None
        snap = Snapshot.from_render(key, page_html, kernel_id, found, info, version)
        if not snap.failed:
            self.store[key] = snap
            self.store.move_to_end(key)
            while len(self.store) > self.keep:
                self.store.popitem(last=False)
        self.app.log.info("snapshot of %s rendered in %.1f s", self.address(key), time.monotonic() - started)
        return snap

    @staticmethod
    def address(key: tuple[str, str]) -> str:
        return f"{key[0]}?{key[1]}" if key[1] else key[0]

    async def kernel_page(self, path: str, query: str, *, pooled: bool = True) -> tuple[str, str]:
        """Ask this server for the page (Voila runs it in a kernel: a preheated one when ``pooled`` and there is one);
        its HTML and the id of its kernel, which keeps running."""
        from tornado.httpclient import AsyncHTTPClient

        url = f"http://127.0.0.1:{self.app.port}{self.app.base_url}voila/render/{self.address((path, query))}"
        headers = {RENDER_HEADER: self.secret, **({} if pooled else {BACKGROUND_HEADER: "1"})}
        response = await AsyncHTTPClient().fetch(url, headers=headers, request_timeout=RENDER_TIMEOUT)
        page_html = response.body.decode()
        found = CONFIG.search(page_html)
        if not found:
            raise RuntimeError("the rendered page names no kernel")
        return page_html, json.loads(found.group(1))["kernelId"]

    async def capture(self, kernel_id: str) -> tuple[dict, dict]:
        """The kernel's widget states (:func:`.widget_state.capture`) and its ``kernel_info`` reply's content."""
        client = self.app.kernel_manager.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=RENDER_TIMEOUT)
            info = (await client.kernel_info(reply=True, timeout=RENDER_TIMEOUT))["content"]
            printed: list[str] = []

            def output(msg: dict) -> None:
                if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                    printed.append(msg["content"]["text"])

            reply = await client.execute_interactive(CAPTURE, store_history=False, timeout=RENDER_TIMEOUT,
                                                     output_hook=output)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"capturing the widgets failed: {reply['content'].get('ename')}")
            return json.loads("".join(printed)), info
        finally:
            client.stop_channels()

    async def live_kernel(self, key: tuple[str, str]) -> str | None:
        """A kernel running the page for a visitor who needs Python: its id, or ``None`` when no room came within the
        gate's wait (the caller tries again)."""
        with self._visitor_waits():
            async with self.gate.admitted() as room:
                if not room:
                    return None
                return (await self.kernel_page(*key))[1]

    # -- the background --------------------------------------------------------------------------------------------

    def common_pages(self, subjects: dict) -> list[tuple[str, str]]:
        """The overview (and its roster view), each platform, then the pages visited since the last warm-up, most
        visited first; at most ``keep``."""
        pages = [page_key("overview.ipynb", "")] + ([page_key("overview.ipynb", "roster=1")] if subjects["roster"]
                                                     else [])
        pages += [page_key("platform.ipynb", urlencode({"slug": slug})) for slug in subjects["platforms"]]
        pages += [key for key, _ in self.visits.most_common()]
        return list(dict.fromkeys(pages))[:self.keep]

    async def warm(self) -> None:
        """Render the common pages again once the data version changed (and at start); every snapshot visitors keep
        opening before it reaches its maximum age."""
        version = await self.freshness.current()
        if version != self._warmed_version:
            subjects = await asyncio.get_running_loop().run_in_executor(None, self.read_subjects)
            pages = self.common_pages(subjects)
            self.visits.clear()
            for key in pages:
                if self._current(key, version) is None:
                    await self.render(key)
            self._warmed_version = version
        for key, snap in list(self.store.items()):
            if snap.served and snap.age() > REFRESH_SHARE * self.max_age:
                snap.served = 0
                await self.render(key)

    def _current(self, key, version) -> Snapshot | None:
        snap = self.store.get(key)
        return snap if snap is not None and snap.version == version and snap.age() < self.max_age else None

    def _kept(self, kernel_id: str) -> bool:
        """Whether a kernel is this server's (a render) or a snapshot page's gone live (its session ends it)."""
        return kernel_id in self._rendering or any(session.kernel_id == kernel_id
                                                   for session in self.sessions.by_id.values())

    async def reap(self) -> None:
        """Every ``REAP_SECONDS``: the visitors' kernels no page is connected to any more shut down."""
        while True:
            try:
                gone = await self.orphans.reap()
            except Exception as exc:  # noqa: BLE001  (a kernel that went meanwhile: the next round sees)
                self.app.log.warning("kernels left alone not reaped: %s", type(exc).__name__)
            else:
                if gone:
                    self.app.log.info("shut down %d kernel(s) no page is connected to", len(gone))
            await asyncio.sleep(REAP_SECONDS)

    async def run(self) -> None:
        """The background loop: :meth:`warm` every ``POLL_SECONDS``, expired visitor sessions dropped."""
        while True:
            try:
                await self.warm()
            except Exception as exc:  # noqa: BLE001  (a database that does not answer now may later)
                self.app.log.warning("snapshots: warm-up failed: %s: %s", type(exc).__name__,
                                     str(exc).splitlines()[0][:200] if str(exc) else "")
            await self.sessions.expire()
            await asyncio.sleep(POLL_SECONDS)

    def start(self) -> None:
        """The background: the orphaned kernels' reaper, and the snapshots' loop when snapshots are on."""
        for loop in [self.reap(), *([self.run()] if self.enabled else [])]:
            task = asyncio.get_event_loop().create_task(loop)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


def snapshot_service(app, settings) -> Snapshots:
    """The service of the viewers' server ``app``, by ``settings``, its background started with the server's loop."""
    from tornado.ioloop import IOLoop

    from soundcharts_lib.warehouse.freshness import data_version, page_subjects
    from soundcharts_lib.web.handlers import read_only_engine

    light = settings.snapshots == "on" and installed()
    if settings.snapshots == "on" and not light:
        app.log.warning("snapshots: the light page's files are not installed (python -m %s): Voila's front end "
                        "draws snapshot pages", installed.__module__)
    service = Snapshots(app, enabled=settings.snapshots in ("on", "voila"), light=light,
                        keep=settings.snapshot_pages,
                        max_age=60.0 * settings.snapshot_minutes,
                        live_kernels=settings.live_kernels or default_live_kernels(),
                        read_version=lambda: data_version(read_only_engine()),
                        read_subjects=lambda: page_subjects(read_only_engine()))
    app.app.settings[SESSIONS] = service.sessions  # for the snapshot pages' kernel handlers (web.replay)
    IOLoop.current().add_callback(service.start)
    return service


class PageHandler(RenderHandler):
    """``/voila/render/<notebook>`` of the viewers' server: a viewer page's snapshot when snapshots are on; else (or
    for any other page) a live page once :class:`.capacity.LiveGate` has room; else the busy page. The server's own
    renders go straight to Voila."""

    @web.authenticated
    async def get(self, path: str | None = None) -> None:
        snapshots: Snapshots | None = self.settings.get(SERVICE)
        if snapshots is None or snapshots.internal(self.request):
            return await super().get(path)
        if snapshots.enabled and snapshots.eligible(path):
            try:
                snap = await snapshots.snapshot(path, self.request.query)
            except TimeoutError:
                return self.busy()
            if snap is not None:
                self.set_header("Content-Type", "text/html")
                self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
                light = None if self.wants_voila() else snapshots.light_page(snap, self.base_url)
                return self.finish(self.live_session(snap) or light or snap.page(snapshots.sessions.open(snap)))
        async with snapshots.gate.admitted() as room:
            if not room:
                return self.busy()
            _ = self.xsrf_token  # its cookie: the page's beforeunload beacon may then shut its kernel down
            await super().get(path)

    def wants_voila(self) -> bool:
        """Whether the light page could not be drawn in this browser a moment ago (its script's cookie)."""
        if self.get_cookie(FRONT_COOKIE) != "voila":
            return False
        self.clear_cookie(FRONT_COOKIE, path=self.request.path)
        return True

    def live_session(self, snap: Snapshot) -> str | None:
        """The page with Voila's front end on the session a light page taken live opened (its cookie), if it is this
        page's and was not used yet: the session hands the page's changes to a live kernel."""
        kernel_id = self.get_cookie(LIVE_COOKIE)
        if not kernel_id:
            return None
        self.clear_cookie(LIVE_COOKIE, path=self.request.path)
        session = self.settings[SESSIONS].get(kernel_id)
        if session is None or session.snapshot.key != snap.key or not session.pending:
            return None
        return session.snapshot.page(kernel_id)

    def should_use_rendered_notebook(self, *args, **kwargs) -> bool:
        """Voila's choice of a preheated kernel, except for the server's background renders: those leave them to
        visitors (a visitor taking a page live gets one at once)."""
        snapshots = self.settings.get(SERVICE)
        if snapshots is not None and snapshots.background(self.request):
            return False
        return super().should_use_rendered_notebook(*args, **kwargs)

    def busy(self) -> None:
        status, headers, body = busy_page(self.request.uri)
        self.set_status(status)
        for name, value in headers.items():
            self.set_header(name, value)
        self.finish(body)
