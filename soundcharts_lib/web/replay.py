"""The kernel of a snapshot page (:mod:`.snapshots`): answered from the snapshot until the visitor needs Python.

A snapshot page names a kernel id of its own (a UUID whose version digit is 0, so never one of Jupyter's, which are
version 4). Its front end asks the server for that kernel's model and opens its websocket as for any kernel:

- :class:`ReplayConnection` answers what Voila's front end sends: ``kernel_info_request`` (the rendering kernel's
  reply), the widget control comm's ``request_states`` (the snapshot's states and buffers), ``comm_info_request`` and
  ``request_state``. A change to a model without Python behind it (a tab, a hovered mark) stays in the browser and is
  kept.
- A change to a model with Python behind it (:func:`.widget_state.needs_python`: the date picker, the roster toggle,
  a download button) takes the page live: a kernel renders the same page (:meth:`.Snapshots.live_kernel`; its widgets
  get the same model ids, :func:`.widget_state.number_widgets`), the websocket is handed to it as Jupyter Server
  connects any kernel's, and the kept changes, then the ones waiting, reach it in the order sent. If the data changed
  since the snapshot so that the live page's widgets differ, the socket closes with :data:`RELOAD` and the page reloads
  itself (``static/workbench-page.js``).
- The page's ``beforeunload`` beacon (``POST /voila/api/shutdown/<id>``) ends its session and shuts its live kernel
  down; a session whose websocket never came, or closed and did not come back, ends by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler
from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1, serialize_msg_to_ws_v1
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketClosedError

from soundcharts_lib.web.wsguard import V1, KernelChannelsHandler

SESSIONS = "soundcharts_snapshot_sessions"  # where the handlers find the sessions, in the Tornado settings
VIRTUAL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-0[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
UNCLAIMED_SECONDS = 120.0  # a served page whose websocket never came
GONE_SECONDS = 60.0  # after its websocket closed: the front end reconnects a dropped one within this
RELOAD = 4001  # close code: the page changed since it was served (workbench-page.js reloads it)
RETRY_SECONDS = 2.0  # a visitor taking a page live while the server is full: the next try after this
PENDING_DELAY = 0.5  # seconds from a light page's states to its changes: its front end then holds every widget
MODEL_IDS = "from soundcharts_lib.web.widget_state import print_model_ids as _p; _p(); del _p"


def virtual_id() -> str:
    """A random UUID-shaped kernel id with version digit 0 (Jupyter's kernels are version 4)."""
    digits = secrets.token_hex(16)
    return f"{digits[:8]}-{digits[8:12]}-0{digits[13:16]}-{digits[16:20]}-{digits[20:]}"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Session:
    """One visit of a snapshot page."""

    snapshot: object  # the .snapshots.Snapshot served
    kernel_session: str = field(default_factory=lambda: uuid.uuid4().hex)
    opened: float = field(default_factory=time.monotonic)
    sockets: int = 0
    closed_at: float | None = None
    kernel_id: str | None = None  # the live kernel, once the visitor needed Python
    promoting: asyncio.Future | None = None
    kept: list[bytes] = field(default_factory=list)  # the browser's changes to models without Python
    waiting: list[bytes] = field(default_factory=list)  # frames that came while the page was being taken live
    pending: list[bytes] = field(default_factory=list)  # a light page's changes: the page goes live as it connects


class Sessions:
    """The visits of snapshot pages of one server, by their kernel id."""

    def __init__(self, snapshots):
        self.snapshots = snapshots
        self.by_id: dict[str, Session] = {}

    def open(self, snapshot, pending: list[dict] = ()) -> str:
        """A new session of ``snapshot``: its kernel id. ``pending``: the changes of a light page taken live
        (:func:`.light_page.pending_changes`), handed to the live kernel as soon as the page connects."""
        kernel_id = virtual_id()
        session = self.by_id[kernel_id] = Session(snapshot)
        session.pending = [change_frame(change, session.kernel_session) for change in pending]
        return kernel_id

    def get(self, kernel_id: str) -> Session | None:
        return self.by_id.get(kernel_id)

    def waiting(self) -> int:
        """Sessions holding a light page's changes for a page that has not connected yet."""
        return sum(1 for session in self.by_id.values() if session.pending)

    async def end(self, kernel_id: str) -> None:
        session = self.by_id.pop(kernel_id, None)
        if session is not None and session.kernel_id is not None:
            await self.shutdown(session.kernel_id)

    async def shutdown(self, kernel_id: str) -> None:
        manager = self.snapshots.app.kernel_manager
        if kernel_id in manager:
            await ensure_async(manager.shutdown_kernel(kernel_id))

    async def expire(self) -> None:
        now = time.monotonic()
        for kernel_id, session in list(self.by_id.items()):
            unclaimed = session.closed_at is None and now - session.opened > UNCLAIMED_SECONDS
            gone = session.closed_at is not None and now - session.closed_at > GONE_SECONDS
            if session.sockets == 0 and (unclaimed or gone):
                await self.end(kernel_id)


def change_frame(change: dict, session_id: str) -> bytes:
    """A websocket frame (protocol v1) of the ``comm_msg`` a front end sends for ``change``."""
    if change["method"] == "update":
        data = {"method": "update", "state": change["state"], "buffer_paths": []}
    else:
        data = {"method": "custom", "content": change["content"]}
    header = {"msg_id": uuid.uuid4().hex, "msg_type": "comm_msg", "username": "visitor", "session": session_id,
              "date": _now(), "version": "5.3"}
    content = {"comm_id": change["model_id"], "data": data}
    return serialize_msg_to_ws_v1([json.dumps(header).encode(), b"{}", b"{}", json.dumps(content).encode()], "shell")


def _sessions(handler) -> Sessions:
    return handler.settings[SESSIONS]


class ReplayConnection:
    """Plays the kernel of a snapshot page on its websocket ``handler`` (module docstring)."""

    kernel_ws_protocol = V1

    def __init__(self, handler: VirtualKernelChannels, session: Session):
        self.handler, self.session = handler, session
        self.control: str | None = None  # the widget control comm the front end opened

    async def connect(self) -> None:
        """Nothing to connect to."""

    def disconnect(self) -> None:
        """Nothing to let go of (the session stays, for a reconnecting front end)."""

    # -- what the browser sends ------------------------------------------------------------------------------------

    def handle_incoming_message(self, frame: bytes) -> None:
        if self.session.promoting is not None:
            self.session.waiting.append(frame)
            return
        _channel, parts = deserialize_msg_from_ws_v1(frame)
        header, _parent, _metadata, content = (json.loads(part) for part in parts[:4])
        kind = header["msg_type"]
        if kind == "kernel_info_request":
            self.reply(header, "kernel_info_reply", self.session.snapshot.kernel_info)
        elif kind == "comm_info_request":
            wanted = content.get("target_name")
            comms = {} if wanted not in (None, "jupyter.widget") else {
                model_id: {"target_name": "jupyter.widget"} for model_id in self.session.snapshot.models}
            self.reply(header, "comm_info_reply", {"status": "ok", "comms": comms})
        elif kind == "comm_open":
            if content.get("target_name") == "jupyter.widget.control":
                self.control = content.get("comm_id")
            self.idle(header)
        elif kind == "comm_msg":
            self.comm_msg(frame, header, content)
        elif kind == "comm_close":
            self.idle(header)
        else:  # anything else a front end may ask of a kernel runs in a live one
            self.take_live(frame)

    def comm_msg(self, frame: bytes, header: dict, content: dict) -> None:
        comm, method = content.get("comm_id"), (content.get("data") or {}).get("method")
        snapshot = self.session.snapshot
        if comm == self.control and method == "request_states":
            self.busy(header)
            body = b'{"comm_id":' + json.dumps(comm).encode() + b',"data":' + snapshot.data + b"}"
            self.send("iopub", "comm_msg", header, body, snapshot.buffers)
            self.idle(header)
            if self.session.pending:  # a light page taken live: its changes, once the page holds its widgets
                asyncio.get_running_loop().call_later(PENDING_DELAY, self.take_pending)
        elif comm in snapshot.live and method in ("update", "custom"):
            self.take_live(frame)
        elif comm in snapshot.models and method == "request_state":
            self.busy(header)
            self.send_state(header, comm)
            self.idle(header)
        else:
            if comm in snapshot.models and method == "update":
                self.session.kept.append(frame)
            self.idle(header)

    # -- what the browser gets -------------------------------------------------------------------------------------

    def send(self, channel: str, msg_type: str, parent: dict, content: bytes, buffers=()) -> None:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "kernel",
                  "session": self.session.kernel_session, "date": _now(), "version": "5.3"}
        parts = [json.dumps(header).encode(), json.dumps(parent).encode(), b"{}", content, *buffers]
        with contextlib.suppress(WebSocketClosedError):
            self.handler.write_message(serialize_msg_to_ws_v1(parts, channel), binary=True)

    def reply(self, parent: dict, msg_type: str, content: dict) -> None:
        self.busy(parent)
        self.send("shell", msg_type, parent, json.dumps(content).encode())
        self.idle(parent)

    def busy(self, parent: dict) -> None:
        self.send("iopub", "status", parent, b'{"execution_state":"busy"}')

    def idle(self, parent: dict) -> None:
        self.send("iopub", "status", parent, b'{"execution_state":"idle"}')

    def send_state(self, parent: dict, model_id: str) -> None:
        snapshot = self.session.snapshot
        mine = [(path[2:], buffer) for path, buffer in zip(snapshot.buffer_paths, snapshot.buffers, strict=True)
                if path[0] == model_id]  # [model id, "state", *path in the state]
        data = {"method": "update", "state": snapshot.models[model_id]["state"],
                "buffer_paths": [path for path, _ in mine]}
        self.send("iopub", "comm_msg", parent, json.dumps({"comm_id": model_id, "data": data}).encode(),
                  [buffer for _, buffer in mine])

    # -- going live ----------------------------------------------------------------------------------------------

    def take_pending(self) -> None:
        """A light page's changes (:mod:`.light_page`) go to a live kernel, as the visitor's own would from here."""
        if self.session.pending and self.session.promoting is None and self.session.kernel_id is None:
            pending, self.session.pending = self.session.pending, []
            self.take_live(*pending)

    def take_live(self, *frames: bytes) -> None:
        self.handler.log.info("snapshot page %s goes live", self.handler.kernel_id)
        self.session.waiting.extend(frames)
        self.session.promoting = asyncio.ensure_future(self._go_live())

    async def _go_live(self) -> None:
        session, handler = self.session, self.handler
        snapshots = _sessions(handler).snapshots
        try:
            while session.kernel_id is None:
                kernel_id = await snapshots.live_kernel(session.snapshot.key)
                if kernel_id is None:
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                session.kernel_id = kernel_id
                if not await self._same_widgets(kernel_id):
                    handler.log.info("snapshot page %s changed since it was served: reloading it", handler.kernel_id)
                    handler.close(RELOAD, "the page changed")
                    return
            if handler.ws_connection is None:  # the visitor left meanwhile; the session's end shuts the kernel
                return
            connection = await handler.kernel_connection(session.kernel_id)
            connected = connection.connect()
            if connected is None:
                raise RuntimeError("the live kernel's channels did not open")
            await connected
            for frame in [*session.kept, *session.waiting]:  # no await from here on: nothing comes in between
                connection.handle_incoming_message(frame)
            session.kept, session.waiting = [], []
            handler.connection = connection
        except Exception as exc:  # noqa: BLE001  (a kernel that died, a server shutting down: the page reloads)
            handler.log.warning("snapshot page %s could not go live: %s: %s", handler.kernel_id, type(exc).__name__,
                        str(exc).splitlines()[0][:200] if str(exc) else "")
            handler.close(RELOAD, "the page could not go live")
        finally:
            session.promoting = None

    async def _same_widgets(self, kernel_id: str) -> bool:
        """Whether the live kernel holds the snapshot's models, no more, each of the same kind: the same page built
        from the same data (a changed roster, a new ranking add or remove widgets, which shifts every later id)."""
        client = _sessions(self.handler).snapshots.app.kernel_manager.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            printed: list[str] = []

            def output(msg: dict) -> None:
                if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                    printed.append(msg["content"]["text"])

            await client.execute_interactive(MODEL_IDS, store_history=False, timeout=60, output_hook=output)
        finally:
            client.stop_channels()
        snapshot = {model_id: model["model_name"] for model_id, model in self.session.snapshot.models.items()}
        return json.loads("".join(printed) or "{}") == snapshot


class VirtualKernelChannels(KernelChannelsHandler):
    """``/api/kernels/<virtual id>/channels``: the frame checks of :class:`.wsguard.KernelChannelsHandler`, then a
    :class:`ReplayConnection`, or the live kernel's connection once the page went live."""

    session: Session | None = None

    async def pre_get(self) -> None:
        authorized = await ensure_async(self.authorizer.is_authorized(self, self.current_user, "execute", "kernels"))
        if not authorized:
            raise web.HTTPError(403)
        self.session = _sessions(self).get(self.kernel_id)
        if self.session is None:
            raise web.HTTPError(404, "no such kernel")
        if self.session.kernel_id is not None:
            self.connection = await self.kernel_connection(self.session.kernel_id)
        else:
            self.connection = ReplayConnection(self, self.session)

    async def kernel_connection(self, kernel_id: str):
        """Jupyter Server's connection of this websocket to the kernel ``kernel_id``, prepared."""
        kernel = self.kernel_manager.get_kernel(kernel_id)
        connection = self.kernel_websocket_connection_class(parent=kernel, websocket_handler=self, config=self.config)
        connection.session.session = self.get_argument("session_id", uuid.uuid4().hex)
        await connection.prepare()
        return connection

    async def open(self, kernel_id: str) -> None:
        self.session.sockets += 1
        self.session.closed_at = None
        await super().open(kernel_id)

    def on_close(self) -> None:
        if self.session is not None:
            self.session.sockets -= 1
            self.session.closed_at = time.monotonic()
        if self.connection is not None:
            super().on_close()


class VirtualKernelModel(APIHandler):
    """``GET /api/kernels/<virtual id>``: the kernel model the front end asks for before it connects."""

    @web.authenticated
    def get(self, kernel_id: str) -> None:
        session = _sessions(self).get(kernel_id)
        if session is None:
            raise web.HTTPError(404, "no such kernel")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"id": kernel_id, "name": "python3", "last_activity": _now(),
                                "execution_state": "idle", "connections": session.sockets}))


class VirtualKernelShutdown(APIHandler):
    """``POST /voila/api/shutdown/<virtual id>``: the page's ``beforeunload`` beacon. It carries no XSRF token (the
    page sets no XSRF cookie); the unguessable id is what proves it comes from that page."""

    def check_xsrf_cookie(self) -> None:
        return None

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        if _sessions(self).get(kernel_id) is None:
            raise web.HTTPError(404, "no such kernel")
        await _sessions(self).end(kernel_id)
        self.set_status(204)
        self.finish()


def handlers(server_url: str = "/") -> list[tuple]:
    """``(pattern, handler)`` pairs to put before Voila's own."""
    return [(url_path_join(server_url, rf"/api/kernels/({VIRTUAL_ID})"), VirtualKernelModel),
            (url_path_join(server_url, rf"/api/kernels/(?P<kernel_id>{VIRTUAL_ID})/channels"), VirtualKernelChannels),
            (url_path_join(server_url, rf"/voila/api/shutdown/({VIRTUAL_ID})"), VirtualKernelShutdown)]
