"""Voila's page handlers, made safe to face any visitor.

- :class:`RenderHandler` renders a dashboard as Voila does, but the kernel never sees the ``token`` of the URL
  (the admin start-up link carries it): ``QUERY_STRING`` and ``VOILA_REQUEST_URL`` lose it once the request is
  authenticated; and a long-running page is kept alive without inline script.
- :class:`TemplateFiles` serves ``/voila/templates/<name>/static/<file>`` and answers 404 to any other shape
  (Voila's own answered 500).
- :data:`CONTENT_SECURITY_POLICY` goes with every Jupyter handler's answer: scripts from this server only, no
  inline script (the project's template, ``templates/index.html.j2``, has none; its helpers are
  ``static/workbench-page.js``), no plugins, no framing, no ``<base>`` elsewhere.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote_plus

from tornado import httputil, web
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # JupyterLab and the widgets set style attributes and <style> elements
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",  # the kernel's websocket
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]+")
VOILA_HEARTBEAT = "<script>window.voila_heartbeat()</script>\n"  # voila.handler.VoilaHandler.get_generator's
KEEP_ALIVE = "<!-- the page is still running -->\n"


def without_token(request: httputil.HTTPServerRequest) -> None:
    """Drop every ``token`` parameter from ``request.query`` and ``request.uri``, the others left as sent.
    (``request.arguments`` keep it: authentication has read it already.)"""
    kept = [part for part in request.query.split("&") if part and unquote_plus(part.split("=", 1)[0]) != "token"]
    request.query = "&".join(kept)
    request.uri = request.path + (f"?{request.query}" if request.query else "")


class RenderHandler(TornadoVoilaHandler):
    """``/voila/render/<notebook>``: Voila's handler, the token kept from the kernel, and its keep-alive (sent while
    a cell runs longer than ``http_keep_alive_timeout``) an HTML comment instead of an inline script."""

    async def prepare(self) -> None:
        await super().prepare()
        without_token(self.request)

    @web.authenticated
    async def get(self, path: str | None = None) -> None:
        async for html in self.get_generator(path=path):
            self.write(KEEP_ALIVE if html == VOILA_HEARTBEAT else html)
            self.flush()


class TemplateFiles(TemplateStaticFileHandler):
    """Voila's template static files; a path that is not ``<template>/static/<file>`` is 404."""

    def parse_url_path(self, url_path: str) -> str:
        parts = os.path.normpath(url_path).split(os.path.sep, 2)
        if len(parts) != 3 or parts[1] != "static" or not TEMPLATE_NAME.fullmatch(parts[0]):
            raise web.HTTPError(404)
        return super().parse_url_path(url_path)
