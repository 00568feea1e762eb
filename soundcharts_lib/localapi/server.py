"""The HTTP server: request pipeline, control endpoints, ``make_server`` and ``running``.

Pipeline for every request outside ``/__localapi``: count it, add ``latency_ms``, then ``/oauth/token`` is
answered directly; anything else may first meet a fault (see :mod:`.faults`), then ``/api`` paths need
credentials (401), a known route (404; 405 for a method other than GET/HEAD), room in the rate limit and
the quota (429s), and finally the handler. Every response carries ``x-quota-remaining``.

Control endpoints (not part of the contract, never faulted or counted): ``GET /__localapi/stats`` ->
``{"requests", "by_path", "faults", "quota_remaining", "billed", "rate_limited"}`` (same as
``server.stats()``); ``POST /__localapi/reset`` -> clears those counters and restores quota and rate window.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .access import Meter, TokenStore
from .catalog import Catalog
from .config import LocalApiConfig
from .envelope import HttpError, Query, error_body
from .faults import MALFORMED_BODY, FaultInjector
from .routes import resolve

log = logging.getLogger(__name__)
CONTROL_PREFIX = "/__localapi/"
Answer = tuple[int, "dict | bytes", dict[str, str]]


def _rate_limited(reset: int, limit: int | None) -> Answer:
    per = f" ({limit})" if limit else ""
    message = f"You have reached the maximum request count per minute{per}; retry in {reset} s"
    return 429, error_body(429, message, "rateLimit"), {"x-ratelimit-reset": str(reset)}


class LocalApiServer(ThreadingHTTPServer):
    """A bound server; ``base_url``, ``catalog``, ``stats()``, ``reset_stats()``."""

    daemon_threads = True

    def __init__(self, config: LocalApiConfig):
        self.config = config
        self.catalog = Catalog(config.seed, config.effective_today(), config.history_days, config.tidy)
        self.meter = Meter(config)
        self.tokens = TokenStore(config)
        self.faults = FaultInjector(config)
        super().__init__((config.host, config.port), _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stats(self) -> dict:
        return self.meter.stats()

    def reset_stats(self) -> None:
        self.meter.reset()

    def usage(self) -> dict:
        return self.meter.usage()

    def control(self, method: str, path: str) -> Answer:
        if (method, path) == ("GET", CONTROL_PREFIX + "stats"):
            return 200, self.stats(), {}
        if (method, path) == ("POST", CONTROL_PREFIX + "reset"):
            self.reset_stats()
            return 200, self.stats(), {}
        return 404, error_body(404, "Unknown control endpoint"), {}

    def oauth(self, method: str, headers, body: bytes) -> Answer:
        if method != "POST":
            return 405, error_body(405, "Use POST for /oauth/token"), {}
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        token = self.tokens.issue(headers.get("Authorization"), form.get("grant_type"))
        if token is None:
            message = "Invalid client credentials or grant_type (expected client_credentials with HTTP Basic)"
            return 401, {"error": "invalid_client", "error_description": message,
                         **error_body(401, message, "access")}, {}
        granted = {"access_token": token, "token_type": "Bearer", "expires_in": self.tokens.expires_in()}
        return 200, granted, {}

    def answer(self, method: str, query: Query, headers) -> Answer:
        """The response to an API request (after faults)."""
        if not query.path.startswith("/api/"):
            return 404, error_body(404, f"No route for {query.path}"), {}
        problem = self.tokens.check(headers)
        if problem:
            return 401, error_body(401, problem, "access"), {}
        found = resolve(query.path)
        if found is None:
            return 404, error_body(404, f"No route for {query.path}"), {}
        route, params = found
        if method not in ("GET", "HEAD"):
            return 405, error_body(405, f"{method} is not allowed on {query.path}"), {}
        refusal = self.meter.admit() if route.billed else None
        if refusal and refusal[0] == "rate":
            return _rate_limited(refusal[1], self.config.rate_limit_per_minute)
        if refusal:
            return 429, error_body(429, "Quota exceeded for the current billing period", "quota"), {}
        try:
            return 200, route.handler(self, query, *params), {}
        except HttpError as problem:
            if route.billed and not problem.billed:
                self.meter.refund()
            return problem.status, error_body(problem.status, problem.message, problem.key), {}
        except Exception:  # a bug must still answer with the envelope; "failed to return the data": not billed
            log.exception("local API handler failed for %s", query.path)
            if route.billed:
                self.meter.refund()
            return 500, error_body(500, "Internal server error"), {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "soundcharts-localapi/1"
    timeout = 120  # idle keep-alive connections are dropped after this
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: LocalApiServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def _serve(self, method: str) -> None:
        srv, config = self.server, self.server.config
        split = urlsplit(self.path)
        query = Query(split.path, tuple(parse_qsl(split.query, keep_blank_values=True)))
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True
            self._send(method, (400, error_body(400, "Invalid Content-Length"), {}))
            return
        body = self.rfile.read(int(length))
        if query.path.startswith(CONTROL_PREFIX):
            self._send(method, srv.control(method, query.path))
            return
        srv.meter.seen(query.path)
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if query.path == "/oauth/token":
            self._send(method, srv.oauth(method, self.headers, body))
            return
        fault = srv.faults.draw()
        if fault:
            srv.meter.fault()
            if fault.kind == "reset":
                self._abort()
                return
            if fault.kind == "5xx":
                phrase = HTTPStatus(fault.status).phrase
                self._send(method, (fault.status, error_body(fault.status, phrase), {}))
                return
            if fault.kind == "malformed":
                self._send(method, (200, MALFORMED_BODY, {}))
                return
            if fault.kind == "ratelimit":
                self._send(method, _rate_limited(1, config.rate_limit_per_minute))
                return
            time.sleep(config.timeout_seconds)  # "timeout": answer normally, but late
        self._send(method, srv.answer(method, query, self.headers))

    def _send(self, method: str, answer: Answer) -> None:
        status, body, headers = answer
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-quota-remaining", self.server.meter.quota_header())
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. after a "timeout" fault)
            self.close_connection = True

    def _abort(self) -> None:
        """Close the connection with a TCP reset and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def make_server(config: LocalApiConfig | None = None) -> LocalApiServer:
    """A bound (not yet serving) server; ``srv.serve_forever()`` to serve."""
    return LocalApiServer(config or LocalApiConfig())


@contextlib.contextmanager
def running(config: LocalApiConfig | None = None) -> Iterator[LocalApiServer]:
    """Serve in a background thread for the ``with`` block, then shut down and close the socket."""
    server = make_server(config)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="localapi", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
