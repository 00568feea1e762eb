"""The archived notebook of a job run, for the admin server only (behind its token).

``GET /soundcharts/admin/runs/{id}/notebook`` renders it read-only as HTML (scripts blocked by the page's
Content-Security-Policy); ``.../notebook.ipynb`` downloads the file. Only notebooks under the configured runs
folder are served, and only through the ``SyncRun`` that recorded them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from sqlalchemy.exc import SQLAlchemyError
from tornado import web

from soundcharts_lib.errors import ConfigError, SoundchartsError
from soundcharts_lib.vocab import MAX_ID
from soundcharts_lib.web.handlers import PREFIX, read_only_engine

log = logging.getLogger(__name__)
NO_SCRIPTS = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
              "sandbox; base-uri 'none'; form-action 'none'")


class NoNotebook(SoundchartsError, LookupError):
    """A run without a notebook that can be served (the message is one line)."""


def archived_notebook(run_id: int) -> Path:
    """The run's archived notebook, checked to be an existing ``.ipynb`` inside the runs folder."""
    from soundcharts_lib.config import Settings
    from soundcharts_lib.warehouse.admin_pages import run_notebook
    from soundcharts_lib.warehouse.analytics import UnknownEntity

    if run_id > MAX_ID:  # no database stores it (SQLite would raise OverflowError)
        raise NoNotebook(f"no run {run_id} is stored")
    try:
        recorded = run_notebook(read_only_engine(), run_id)
    except UnknownEntity as exc:
        raise NoNotebook(str(exc)) from None
    if not recorded:
        raise NoNotebook(f"run {run_id} has no archived notebook (it was not started by run-job)")
    path = Path(recorded).resolve()
    runs = Path(Settings.from_env().runs_dir).resolve()
    if path.suffix != ".ipynb" or not path.is_relative_to(runs):
        raise NoNotebook(f"run {run_id}'s notebook is outside the runs folder")
    if not path.is_file():
        raise NoNotebook(f"run {run_id}'s notebook is no longer archived (removed by the retention cleanup?)")
    return path


def as_html(path: Path) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_filename(str(path))
    return body


class RunNotebookHandler(JupyterHandler):
    """``GET /soundcharts/admin/runs/{id}/notebook[.ipynb]``: HTML view or download; 404 with one line."""

    @web.authenticated
    async def get(self, run_id: str, download: str | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            path = await loop.run_in_executor(None, archived_notebook, int(run_id))
            if download:
                body = await loop.run_in_executor(None, path.read_bytes)
                self.set_header("Content-Type", "application/x-ipynb+json")
                self.set_header("Content-Disposition", f'attachment; filename="{path.name}"')
            else:
                body = await loop.run_in_executor(None, as_html, path)
                self.set_header("Content-Type", "text/html; charset=UTF-8")
                self.set_header("Content-Security-Policy", NO_SCRIPTS)
        except NoNotebook as exc:
            raise web.HTTPError(404, str(exc)) from None
        except (ConfigError, SQLAlchemyError) as exc:
            log.error("run notebook: database not available: %s", str(exc).splitlines()[0][:300])
            raise web.HTTPError(503, "database not available") from None
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{status_code}: {message}\n")


def handlers(server_url: str = "/") -> list[tuple]:
    return [(url_path_join(server_url, rf"{PREFIX}/admin/runs/(\d+)/notebook(\.ipynb)?"), RunNotebookHandler)]
