"""A visitor of a Voila page that speaks the page's protocol without drawing anything: the page over HTTP (the busy
page retried after its ``Retry-After``, as the page itself does), the kernel model, then the kernel websocket
(``v1.kernel.websocket.jupyter.org``) as Voila's front end uses it: ``kernel_info_request``, then the widget control
comm's ``request_states``. A light snapshot page (``soundcharts_lib.web.light_page``) carries its states: no kernel,
until :meth:`PageClient.go_live` does what the page's script does when a control needs Python. The light client of
``bench_load.py``, and the tests' view of a page's protocol."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime

V1 = "v1.kernel.websocket.jupyter.org"
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S)
VIEW = re.compile(r'"application/vnd\.jupyter\.widget-view\+json": \{"model_id": "([^"]+)"')
LIGHT = re.compile(r'<script type="application/json" id="workbench-light">(.*?)</script>', re.S)
LIGHT_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
LIGHT_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">\{"model_id":"([^"]+)"')
CONTROL_VERSION = {"version": "1.0.0"}  # the widget control comm's protocol (ipywidgets 8)


def run_apart(coro):
    """``asyncio.run(coro)`` on a thread of its own, its result or its exception: the caller's thread may be running
    an event loop already (Playwright's sync API does, for as long as a session-wide browser lives in the tests)."""
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller as is)
            box["error"] = exc

    worker = threading.Thread(target=target, name="page-client")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> tuple[str, bytes]:
    """``(msg_id, v1 frame)`` of a shell message as Voila's front end sends it."""
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "bench", "session": session,
              "date": datetime.now(UTC).isoformat(), "version": "5.3"}
    parts = [json.dumps(part).encode() for part in (header, {}, metadata or {}, content)]
    return header["msg_id"], serialize_msg_to_ws_v1(parts, "shell")


def _parse(frame: bytes) -> tuple[str, dict, dict, list[bytes]]:
    """(channel, header, content, buffers) of a v1 frame from the server."""
    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

    channel, parts = deserialize_msg_from_ws_v1(frame)
    return channel, json.loads(parts[0]), json.loads(parts[3]), parts[4:]


class Busy(Exception):
    """The server answered the busy page past the visitor's deadline."""


class PageClient:
    """One visitor speaking a Voila page's protocol without drawing: the page over HTTP (the busy page retried after
    its ``Retry-After``), the kernel model, then the kernel websocket (v1) as Voila's front end uses it."""

    def __init__(self, base: str, deadline: float):
        from tornado.httpclient import AsyncHTTPClient

        self.base, self.deadline, self.http = base, deadline, AsyncHTTPClient()
        self.busy, self.kernel_id, self.html, self.socket = 0, "", "", None
        self.session = uuid.uuid4().hex
        self.light: dict | None = None  # a light page's settings (its states are then in self.embedded)
        self.embedded: dict = {}

    def left(self) -> float:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        return left

    async def open(self, path: str, headers: dict | None = None) -> None:
        """GET the page (retrying busy answers) and the kernel model it names, or a light page's embedded states;
        ``RuntimeError`` for anything else."""
        while True:
            response = await self.http.fetch(self.base + path, raise_error=False, request_timeout=self.left(),
                                             headers=headers)
            if response.code == 503 and "Retry-After" in response.headers:
                self.busy += 1
                await asyncio.sleep(min(float(response.headers["Retry-After"]), self.left()))
                continue
            if response.code != 200:
                raise RuntimeError(f"HTTP {response.code} for the page")
            break
        self.html = response.body.decode()
        light = LIGHT.search(self.html)
        if light:
            self.light = json.loads(light.group(1))
            self.embedded = json.loads(LIGHT_STATE.search(self.html).group(1))["state"]
            if not LIGHT_VIEW.search(self.html):
                raise RuntimeError("the light page has no widget")
            return
        self.light = None
        found = CONFIG.search(self.html)
        if not found or not VIEW.search(self.html):
            raise RuntimeError("the page has no kernel or no widget")
        self.kernel_id = json.loads(found.group(1))["kernelId"]
        model = await self.http.fetch(f"{self.base}/api/kernels/{self.kernel_id}", raise_error=False)
        if model.code != 200:
            raise RuntimeError(f"HTTP {model.code} for the kernel model")

    async def go_live(self, path: str, changes: list[dict]) -> int:
        """What a light page does when a control needs Python: post its ``changes`` with the page and its stamp,
        then load the page again with the session's cookie, and connect. The answer's status (204: live; 409: the
        data changed, the page was loaded again as a fresh light page)."""
        body = json.dumps({"page": path, "stamp": self.light["stamp"], "changes": changes})
        answer = await self.http.fetch(self.base + self.light["goLive"], method="POST", body=body, raise_error=False,
                                       headers={"Content-Type": "application/json"}, request_timeout=self.left())
        cookies = "; ".join(found.split(";", 1)[0] for found in answer.headers.get_list("Set-Cookie"))
        await self.open(path, headers={"Cookie": cookies} if cookies else None)
        if answer.code == 204:
            await self.connect()
        return answer.code

    async def connect(self) -> None:
        """The kernel websocket (nothing for a light page)."""
        if self.light is not None:
            return
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"{self.base.replace('http://', 'ws://', 1)}/api/kernels/{self.kernel_id}/channels?session_id=" \
              f"{self.session}"
        self.socket = await websocket_connect(HTTPRequest(url, request_timeout=self.left()), subprotocols=[V1],
                                              max_message_size=256 * 2**20)

    async def send(self, msg_type: str, content: dict, metadata: dict | None = None) -> str:
        msg_id, frame = _message(msg_type, content, self.session, metadata)
        await self.socket.write_message(frame, binary=True)
        return msg_id

    async def read(self) -> tuple[str, dict, dict, list[bytes]]:
        """The next message; ``ConnectionError`` when the socket closed."""
        frame = await asyncio.wait_for(self.socket.read_message(), self.left())
        if frame is None:
            raise ConnectionError(f"the kernel websocket closed ({self.socket.close_code})")
        return _parse(frame)

    async def states(self) -> dict:
        """``kernel_info``, then the widget control comm's ``request_states``: ``{model id: model}`` (a light page's
        embedded states)."""
        if self.light is not None:
            return self.embedded
        control = uuid.uuid4().hex
        await self.send("kernel_info_request", {})
        await self.send("comm_open", {"comm_id": control, "data": {}, "target_name": "jupyter.widget.control"},
                        CONTROL_VERSION)
        await self.send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
        while True:
            _channel, header, content, _buffers = await self.read()
            data = content.get("data") or {}
            if header["msg_type"] == "comm_msg" and content.get("comm_id") == control \
                    and data.get("method") == "update_states":
                return data["states"]

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
