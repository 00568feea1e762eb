"""Voila with the JSON endpoints on one port: ``python -m soundcharts_lib.web.app DASHBOARDS [voila args]``.

A ``voila.app.Voila`` subclass whose handlers start with ours; nothing of the Jupyter REST API is exposed.

Viewers (the default): the ``admin/`` folder does not exist for them (not listed, 404 on every path into it).
Admin (``--WorkbenchVoila.admin=True``): every page, the admin area and the archived run notebooks, behind the
token in ``SOUNDCHARTS_ADMIN_TOKEN``, which the server takes out of its environment so kernels never see it.

Both face any visitor: requests pass :mod:`.gate` (host names, themes, the template), the kernel websocket checks
every frame (:mod:`.wsguard`), pages carry no inline script and a Content-Security-Policy (:mod:`.pages`), and the
token is compared in constant time with failed logins limited (:mod:`.login`).
"""

from __future__ import annotations

import gc
from pathlib import Path

from jupyter_server.services.contents.largefilemanager import LargeFileManager
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Bool
from voila.app import Voila
from voila.static_file_handler import TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from soundcharts_lib.config import Settings, take_admin_token
from soundcharts_lib.web.embed_assets import folder as embed_folder
from soundcharts_lib.web.embed_assets import nbextensions
from soundcharts_lib.web.gate import RequestGate, allowed_hosts
from soundcharts_lib.web.handlers import PREFIX, handlers
from soundcharts_lib.web.launch import MIN_TOKEN_LENGTH, TOKEN_ENV
from soundcharts_lib.web.light_page import handlers as light_page_handlers
from soundcharts_lib.web.login import WorkbenchIdentityProvider
from soundcharts_lib.web.pages import CONTENT_SECURITY_POLICY, RenderHandler, TemplateFiles
from soundcharts_lib.web.replay import handlers as snapshot_kernel_handlers
from soundcharts_lib.web.snapshots import SERVICE, PageHandler, snapshot_service
from soundcharts_lib.web.wsguard import KernelChannelsHandler

ADMIN_FOLDER = "admin"
TEMPLATES = Path(__file__).with_name("templates")  # found before Voila's own
STATIC = Path(__file__).with_name("static")  # served at /voila/static/, before Voila's files
SAFER_HANDLERS = {VoilaKernelWebsocketHandler: KernelChannelsHandler, TornadoVoilaHandler: RenderHandler,
                  TemplateStaticFileHandler: TemplateFiles}
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Referrer-Policy": "same-origin"}


class ViewerContents(LargeFileManager):
    """The dashboards folder as viewers see it: ``admin/`` is neither listed nor served."""

    def _get_os_path(self, path: str) -> str:
        os_path = super()._get_os_path(path)
        hidden = Path(self.root_dir, ADMIN_FOLDER).resolve()
        if Path(os_path).resolve().is_relative_to(hidden):
            raise web.HTTPError(404, "file or directory does not exist")
        return os_path

    def should_list(self, name: str) -> bool:
        return name != ADMIN_FOLDER and super().should_list(name)


class NotFoundHandler(web.RequestHandler):
    """A plain 404 for any method: paths viewers must not reach."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish("404: Not Found\n")


class WorkbenchVoila(Voila):
    """Voila serving the dashboards plus ``/soundcharts/...`` JSON endpoints (see the module docstring)."""

    admin = Bool(False, config=True,
                 help=f"Serve dashboards/admin/ and archived run notebooks behind the token in {TOKEN_ENV}")

    def initialize(self, argv=None) -> None:
        super().initialize(argv)
        self.voila_configuration.allow_template_override = "NO"  # the gate refuses any other template

    def init_settings(self) -> dict:
        self.identity_provider_class = WorkbenchIdentityProvider
        self.tornado_settings = {**self.tornado_settings,
                                 "headers": {**self.tornado_settings.get("headers", {}), **HEADERS}}
        if self.admin:
            token = take_admin_token().get()  # out of this process's environment: no kernel inherits it
            if len(token) < MIN_TOKEN_LENGTH:
                raise SystemExit(f"the admin server needs {TOKEN_ENV}, {MIN_TOKEN_LENGTH}+ characters")
            self.token = token
        settings = super().init_settings()
        if not self.admin:
            self.contents_manager = settings["contents_manager"] = ViewerContents(parent=self)
        return settings

    def setup_template_dirs(self) -> None:
        """Voila's templates and static files, behind ours (``templates/``: the lab page, ``static/``: its script)."""
        super().setup_template_dirs()
        self.template_paths.insert(0, str(TEMPLATES))
        self.static_paths.insert(0, str(STATIC))
        self.static_paths += [str(embed_folder()), str(nbextensions())]  # the light snapshot page's (web.light_page)

    def init_handlers(self) -> list:
        ours = handlers(self.server_url)
        if self.admin:
            from soundcharts_lib.web.archive import handlers as archive_handlers

            ours += archive_handlers(self.server_url)
        else:
            hidden = rf"/voila/(?:render|tree|files|api/contents)/{ADMIN_FOLDER}(?:/.*)?"
            ours.append((url_path_join(self.server_url, hidden), NotFoundHandler))
            ours += snapshot_kernel_handlers(self.server_url)  # the kernels of snapshot pages (web.replay)
            ours += light_page_handlers(self.server_url)  # a light snapshot page taken live
        safer = SAFER_HANDLERS if self.admin else {**SAFER_HANDLERS, TornadoVoilaHandler: PageHandler}
        voila = [(pattern, safer.get(handler, handler), *rest) for pattern, handler, *rest
                 in super().init_handlers()]
        return ours + voila

    def listen(self) -> None:
        self.app.default_router = RequestGate(
            self.app, self.app.default_router, hosts=allowed_hosts(Settings.from_env()),
            template=self.voila_configuration.template, endpoints_prefix=url_path_join(self.server_url, PREFIX))
        if not self.admin:  # snapshot pages and the visitors' kernels gate (web.snapshots, web.capacity)
            self.app.settings[SERVICE] = snapshot_service(self, Settings.from_env())
        super().listen()

    def start(self) -> None:
        # What start-up imported (Jupyter, pandas, SQLAlchemy) leaves the garbage collector's view, so a full
        # collection no longer walks it: that removed ~130 ms pauses from large responses (tests/bench).
        gc.freeze()
        super().start()


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":
    main()
