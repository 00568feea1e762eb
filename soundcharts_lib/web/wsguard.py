"""The kernel websocket (``/api/kernels/<id>/channels``), each frame checked before Jupyter Server reads it.

A frame of the ``v1.kernel.websocket.jupyter.org`` protocol is 8 bytes little-endian ``n``, then ``n`` offsets of
8 bytes each, then the channel name and the message's parts: part ``i`` is ``frame[offsets[i]:offsets[i + 1]]``.
Jupyter Server (2.21) builds the list of ``n`` offsets before it looks at the frame's length, so the 8 bytes
``ff ff ff ff ff ff ff 7f`` keep the server looping and allocating until the machine runs out of memory, deaf to
every request and to SIGTERM. The legacy protocol (no subprotocol) has the same flaw in its binary frames (a
32-bit part count), and Voila's handler reads every binary message it sends as a v1 frame, which a legacy binary
message (the widgets' states with their buffers, asked for with ``request_states``) is not: same loop.

So this handler speaks v1 only (a handshake without it is refused with 400), and a frame that is not a
well-formed v1 message closes the socket before Jupyter Server sees it: 1003 for a text frame (v1 sends binary
frames only), 1008 for anything else malformed.
"""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import ws_authenticated
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

V1 = "v1.kernel.websocket.jupyter.org"
CHANNELS = frozenset({"shell", "control", "stdin"})  # the ones a client sends on (iopub only comes from the kernel)
MESSAGE_PARTS = ("header", "parent_header", "metadata", "content")
MAX_OFFSETS = 64  # channel + 4 parts + end = 6; the rest are binary buffers (a widget's arrays)
UNSUPPORTED_DATA, POLICY_VIOLATION = 1003, 1008


def frame_problem(frame: bytes) -> str | None:
    """Why ``frame`` is not a well-formed v1 message a client may send (one line), or ``None`` when it is."""
    if len(frame) < 8:
        return f"{len(frame)} bytes, shorter than the offset count"
    count = int.from_bytes(frame[:8], "little")
    if not len(MESSAGE_PARTS) + 2 <= count <= MAX_OFFSETS:
        return f"offset count {count} is not {len(MESSAGE_PARTS) + 2} to {MAX_OFFSETS}"
    table_end = 8 * (count + 1)
    if table_end > len(frame):
        return f"{count} offsets do not fit in {len(frame)} bytes"
    offsets = [int.from_bytes(frame[8 * i:8 * (i + 1)], "little") for i in range(1, count + 1)]
    if offsets[0] < table_end or offsets[-1] > len(frame):
        return "an offset points outside the frame"
    if offsets != sorted(offsets):
        return "the offsets decrease"
    channel = frame[offsets[0]:offsets[1]]
    if channel.decode("ascii", "replace") not in CHANNELS:
        return "not a channel a client sends on"
    for index, name in enumerate(MESSAGE_PARTS, start=1):
        try:
            part = json.loads(frame[offsets[index]:offsets[index + 1]])
        except (ValueError, RecursionError):
            return f"the {name} is not JSON"
        if not isinstance(part, dict):
            return f"the {name} is not a JSON object"
        if name == "header" and not (isinstance(part.get("msg_type"), str) and isinstance(part.get("msg_id"), str)):
            return "the header has no msg_type and msg_id"
    return None


class KernelChannelsHandler(VoilaKernelWebsocketHandler):
    """Voila's kernel websocket for v1 clients only, every incoming frame checked by :func:`frame_problem`."""

    @ws_authenticated
    async def get(self, kernel_id: str) -> None:
        offered = {name.strip() for name in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")}
        if V1 not in offered:
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(f"400: the kernel websocket speaks {V1} only\n")
            return
        await super().get(kernel_id)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return V1 if V1 in subprotocols else None  # never the legacy protocol, whatever the configuration says

    def on_message(self, message: str | bytes) -> None:
        if isinstance(message, str):
            self.log.warning("kernel websocket closed: a text frame (v1 clients send binary frames)")
            self.close(UNSUPPORTED_DATA, "binary v1 frames only")
            return
        problem = frame_problem(message)
        if problem:
            self.log.warning("kernel websocket closed: malformed frame (%s)", problem)
            self.close(POLICY_VIOLATION, "malformed frame")
            return
        super().on_message(message)

    def write_error(self, status_code: int, **kwargs) -> None:
        """Before the upgrade (no such kernel, no token): the status in one plain line."""
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{status_code}: {self._reason}\n")
