"""The light snapshot page: a snapshot (:mod:`.snapshots`) drawn by Jupyter's standalone widget manager, no kernel.

Voila's front end costs a browser about 1.2 s of work and 5.8 MB on every visit (JupyterLab's notebook, editor and
extension bundles: measured with ``tests/bench/bench_load.py``). A snapshot page needs none of it: its widgets'
states are known. The light page is the snapshot's own HTML (same template, styles and cells) with

- Voila's script and its kernel configuration taken out;
- each cell's widget output written as the widget view tag that ``@jupyter-widgets/html-manager`` draws
  (:mod:`.embed_assets`), and the snapshot's states embedded as the manager's widget state (buffers in base64);
- ``static/workbench-light.js``, which draws the widgets, and takes the page live when the visitor uses a control
  with Python behind it (:func:`.widget_state.needs_python`): it posts the page's changes to
  ``/voila/api/snapshot-live`` (:class:`GoLive`), which opens a session of the snapshot holding them
  (:mod:`.replay`) and names it in a short-lived cookie; the page loads again, gets Voila's front end on that
  session (the snapshot's states, as for any snapshot page), and once the page holds its widgets the session hands
  the changes to a live kernel running the same page, as the visitor's own would go.

A snapshot whose cells hold anything else than widgets (a traceback, text) has no light page: it is served with
Voila's front end. So is a page the script could not draw (a module that did not load): it sets
:data:`FRONT_COOKIE` for a minute and loads again.
"""

from __future__ import annotations

import base64
import json
import re

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from soundcharts_lib.web.replay import SESSIONS

CELL_OUTPUT = re.compile(r'<script type="application/vnd\.voila\.cell-output\+json">\s*(.*?)\s*</script>', re.S)
CONFIG_SCRIPT = re.compile(r'\s*<script id="jupyter-config-data" type="application/json">.*?</script>', re.S)
VOILA_SCRIPT = re.compile(r'<script src="[^"]*/voila\.js"></script>')
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LIVE_COOKIE = "soundcharts_live"  # the session a page taken live gets on its next load (web.snapshots.PageHandler)
LIVE_COOKIE_SECONDS = 60
FRONT_COOKIE = "soundcharts_front"  # "voila": the page's script could not draw it light; the next load is Voila's
MAX_CHANGES = 500  # models a page taken live may carry changes of
MAX_BODY = 64 * 1024  # a page's changes are its controls' values: a few hundred bytes
MAX_WAITING = 200  # sessions of pages taken live whose page has not connected yet; past that, 503 (retry)


SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _script_json(value) -> str:
    """JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` at all (the same JSON once parsed), so no
    text of the page's data (a visitor's query shown in a message) can end the element or start a comment."""
    return json.dumps(value, separators=(",", ":")).translate(SCRIPT_SAFE)


def manager_state(snapshot) -> dict:
    """The snapshot's states as the widget manager's embedded state (``application/vnd.jupyter.widget-state+json``,
    version 2): each model with its binary buffers in base64 at their paths."""
    buffers: dict[str, list[dict]] = {}
    for path, data in zip(snapshot.buffer_paths, snapshot.buffers, strict=True):  # [model id, "state", *path]
        buffers.setdefault(path[0], []).append({"path": path[2:], "encoding": "base64",
                                                "data": base64.b64encode(data).decode("ascii")})
    state = {}
    for model_id, model in snapshot.models.items():
        state[model_id] = {**model, **({"buffers": buffers[model_id]} if model_id in buffers else {})}
    return {"version_major": 2, "version_minor": 0, "state": state}


def _view(match: re.Match) -> str:
    output = json.loads(match.group(1))
    view = (output.get("data") or {}).get(WIDGET_VIEW) if output.get("output_type") == "display_data" else None
    if not isinstance(view, dict) or not isinstance(view.get("model_id"), str):
        raise ValueError("a cell output that is not a widget")
    return f'<script type="{WIDGET_VIEW}">{_script_json(view)}</script>'


def light_page(snapshot, static_url: str, base_url: str) -> str | None:
    """The light page of ``snapshot`` (module docstring), or ``None`` when it has none."""
    page = "".join(snapshot.parts)  # the kernel id only appears in the configuration taken out below
    if not VOILA_SCRIPT.search(page) or not CONFIG_SCRIPT.search(page):
        return None
    try:
        page = CELL_OUTPUT.sub(_view, page)
    except (ValueError, json.JSONDecodeError):
        return None
    if any(view not in snapshot.models for view in re.findall(r'"model_id":"([^"]+)"', page)):
        return None
    settings = {"static": static_url.rstrip("/"), "goLive": url_path_join(base_url, "voila/api/snapshot-live"),
                "stamp": snapshot.stamp, "live": sorted(snapshot.live), "frontCookie": FRONT_COOKIE}
    scripts = "".join(f'<script src="{static_url.rstrip("/")}/{name}"></script>'
                      for name in ("require.js", "libembed-amd.js"))
    page = CONFIG_SCRIPT.sub("", page, count=1)
    page = VOILA_SCRIPT.sub(lambda _: scripts, page, count=1)
    embedded = (f'<script type="application/vnd.jupyter.widget-state+json">{_script_json(manager_state(snapshot))}'
                f'</script>\n<script type="application/json" id="workbench-light">{_script_json(settings)}</script>\n'
                f'<script src="{static_url.rstrip("/")}/workbench-light.js"></script>\n')
    at = page.rfind("</body>")
    return page[:at] + embedded + page[at:] if at >= 0 else None


def pending_changes(body: object, snapshot) -> list[dict]:
    """The changes a light page posts when it goes live (``body``: its parsed JSON), checked against ``snapshot``: a
    list of ``{"model_id", "method": "update", "state": {...}}`` or ``{"model_id", "method": "custom", "content":
    {...}}``, each naming a model of the snapshot (and, for an update, only traits it has). ``ValueError``
    otherwise."""
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, list) or not changes or len(changes) > MAX_CHANGES:
        raise ValueError(f"'changes' must be a list of 1 to {MAX_CHANGES} changes")
    kept = []
    for change in changes:
        model = snapshot.models.get(change.get("model_id")) if isinstance(change, dict) else None
        if model is None:
            raise ValueError("a change names no model of this page")
        method = change.get("method")
        if method == "update" and isinstance(change.get("state"), dict) and set(change["state"]) <= set(model["state"]):
            kept.append({"model_id": change["model_id"], "method": method, "state": change["state"]})
        elif method == "custom" and isinstance(change.get("content"), dict):
            kept.append({"model_id": change["model_id"], "method": method, "content": change["content"]})
        else:
            raise ValueError("a change must be an update of the model's own traits or a custom message")
    return kept


class GoLive(APIHandler):
    """``POST /voila/api/snapshot-live``: a light page's visitor used a control that needs Python. Body:
    ``{"page": "/voila/render/<notebook>?<query>", "stamp": <the snapshot's>, "changes": [...]}``. 204 with the
    session in :data:`LIVE_COOKIE` when the page's snapshot is still the one served; 409 when the data changed since
    (the page loads again, fresh); 400 with a JSON error for anything malformed; 503 when :data:`MAX_WAITING` such
    sessions wait for their page already (each holds up to :data:`MAX_BODY` until it connects or expires)."""

    def check_xsrf_cookie(self) -> None:
        return None  # a page served without a session has no XSRF cookie; opening a page needs none either

    @web.authenticated
    async def post(self) -> None:
        sessions = self.settings.get(SESSIONS)
        snapshots = sessions.snapshots if sessions is not None else None
        if len(self.request.body) > MAX_BODY:
            raise web.HTTPError(413, "the changes are too large")
        try:
            found = json.loads(self.request.body)
            page, stamp = found["page"], found["stamp"]
            if not isinstance(page, str) or not isinstance(stamp, str):
                raise TypeError
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise web.HTTPError(400, "the body must be JSON with 'page', 'stamp' and 'changes'") from None
        prefix = url_path_join(self.base_url, "voila/render/")
        path, _, query = page.partition("?")
        if snapshots is None or not path.startswith(prefix):
            raise web.HTTPError(400, "'page' is not a dashboard page of this server")
        snap = snapshots.current(path[len(prefix):], query)
        if snap is None or snap.stamp != stamp:
            raise web.HTTPError(409, "the page changed since it was served: load it again")
        try:
            changes = pending_changes(found, snap)
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        if sessions.waiting() >= MAX_WAITING:
            self.set_status(503)
            self.set_header("Retry-After", "5")
            self.set_header("Content-Type", "application/json")
            return self.finish(json.dumps({"message": "too many pages are being taken live: try again"}))
        kernel_id = sessions.open(snap, pending=changes)
        self.set_cookie(LIVE_COOKIE, kernel_id, path=path, expires_days=None, max_age=LIVE_COOKIE_SECONDS,
                        httponly=True, samesite="Strict")
        self.set_status(204)
        self.finish()


def handlers(server_url: str = "/") -> list[tuple]:
    return [(url_path_join(server_url, "/voila/api/snapshot-live"), GoLive)]
