"""A preheated kernel's wait for its request, without importing Voila.

Voila's pooled kernels (``soundcharts serve``, see :mod:`soundcharts_lib.web.launch`) run a page before any request
with ``VOILA_PREHEAT=True``; the page then asks the server's ``voila/query/<kernel id>`` websocket for the request
that got the kernel: its ``QUERY_STRING``, the headers named in ``http_header_envs`` and Voila's other request
variables. ``voila.utils.wait_for_request`` does the same, but importing ``voila`` loads Jupyter Server, JupyterLab
Server and jsonschema's format checkers: ~5 s of CPU in every pooled kernel, spent after the request when the pool
is being refilled.
"""

from __future__ import annotations

import json
import os
import sys

OPEN_TIMEOUT = 10  # seconds to reach the server; the request itself may come much later


def request_info_url(env=os.environ) -> str:
    """The websocket that sends this kernel its request, from the variables Voila gave the kernel."""
    base = env.get("VOILA_WS_BASE_URL") or env.get("VOILA_SERVER_URL", "/")
    return (f"{env.get('VOILA_WS_PROTOCOL', 'ws')}://{env.get('VOILA_APP_IP', '127.0.0.1')}:"
            f"{env.get('VOILA_APP_PORT', '8866')}{base}voila/query/{env['VOILA_KERNEL_ID']}")


def wait_for_request() -> None:
    """In a kernel Voila preheated: block until a request gets this kernel, put the request's variables in the
    environment and leave preheat mode (a second call returns at once). Elsewhere: nothing. If the server cannot
    be reached the page goes on without them (a one-line message on stderr, in the server's log)."""
    if os.environ.get("VOILA_PREHEAT") != "True":
        return
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    try:
        with connect(request_info_url(), open_timeout=OPEN_TIMEOUT) as socket:
            info = json.loads(socket.recv())
    except (OSError, TimeoutError, ValueError, WebSocketException) as exc:
        print(f"preheated kernel: no request information ({type(exc).__name__})", file=sys.__stderr__, flush=True)
        info = {}
    os.environ.update({str(name): str(value) for name, value in info.items()})
    os.environ["VOILA_PREHEAT"] = "False"
