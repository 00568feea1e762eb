"""What every request must pass before any handler sees it (websocket upgrades included).

- Its ``Host`` is 127.0.0.1, localhost or [::1] (any port), or a name in ``SOUNDCHARTS_ALLOWED_HOSTS``
  (comma-separated): a page of another site whose name was rebound to 127.0.0.1 (DNS rebinding) reaches nothing.
- Its path holds no NUL (Voila answered 500 to ``/voila/render/%00``).
- Pages: ``?theme=`` is ``light`` or ``dark`` and ``?template=`` the one template the server renders with. Voila
  wrote any theme into the page unescaped (reflected XSS) and loaded any template name (a traversal answered 500,
  ``?template=..`` started a kernel and never answered).

A refused request gets its status and one plain line that repeats nothing of the request.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from tornado import httputil, web
from tornado.routing import Router

from soundcharts_lib.config import VARIABLES, Settings

ALLOWED_HOSTS_ENV = VARIABLES["allowed_hosts"].name
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
THEMES = ("light", "dark")


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The loopback names plus the settings' ``allowed_hosts`` (``SOUNDCHARTS_ALLOWED_HOSTS``; lower case, ports
    dropped)."""
    listed = (_host_name(name) for name in settings.allowed_hosts)
    return LOCAL_HOSTS | {name for name in listed if name}


def _host_name(host: str) -> str:
    """``host`` of a ``Host`` header without its port and brackets, lower case: ``[::1]:8866`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class PlainRefusal(web.RequestHandler):
    """The status and one plain line, for any method."""

    def initialize(self, status: int, message: str) -> None:
        self.status, self.message = status, message

    def prepare(self) -> None:
        self.set_status(self.status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(f"{self.status}: {self.message}\n")


class RequestGate(Router):
    """Wraps the application's router: a request that fails a check is answered by :class:`PlainRefusal`."""

    def __init__(self, app: web.Application, inner: Router, *, hosts: frozenset[str], template: str,
                 endpoints_prefix: str) -> None:
        self.app, self.inner, self.hosts = app, inner, hosts
        self.template, self.endpoints_prefix = template, endpoints_prefix

    def refusal(self, request: httputil.HTTPServerRequest) -> tuple[int, str] | None:
        """``(status, message)`` for a request that may not go on, else ``None``."""
        if _host_name(request.headers.get("Host", "")) not in self.hosts | {""}:
            return 403, f"this server answers to its own host names only (see {ALLOWED_HOSTS_ENV})"
        if b"\0" in unquote_to_bytes(request.path):
            return 400, "the path holds a NUL character"
        if request.path.startswith(self.endpoints_prefix):
            return None
        args = request.query_arguments
        if any(value not in [name.encode() for name in THEMES] for value in args.get("theme", [])):
            return 400, f"theme must be one of {', '.join(THEMES)}"
        if any(value != self.template.encode() for value in args.get("template", [])):
            return 400, f"template must be {self.template} (or left out)"
        return None

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs):
        refused = self.refusal(request)
        if refused:
            status, message = refused
            return self.app.get_handler_delegate(request, PlainRefusal, {"status": status, "message": message})
        return self.inner.find_handler(request, **kwargs)
