"""Tornado handlers of the JSON endpoints. Errors are ``{"error": "<one line>"}``; never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from functools import cache
from http.client import responses
from pathlib import Path

import yaml
from jupyter_server.base.handlers import APIHandler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from tornado import web

from soundcharts_lib.errors import ConfigError
from soundcharts_lib.warehouse.audience_series import NotStored
from soundcharts_lib.web import payload
from soundcharts_lib.web.query import BadParameter, NoRoute, parse

log = logging.getLogger(__name__)
OPENAPI = Path(__file__).with_name("openapi.yaml")
PREFIX = "/soundcharts"


@cache
def read_only_engine() -> Engine:
    """The configured database opened read-only, built on first use and shared (a failure is not kept)."""
    from soundcharts_lib.db import engine_from_env

    return engine_from_env(read_only=True)


@cache
def openapi_document() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


class JsonHandler(APIHandler):
    """JSON in every answer, errors included; authenticated like the dashboards (Voila's token, if set)."""

    def write_json(self, body: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else None
        message = message or responses.get(status_code, "error")
        self.write_json({"error": message}, status_code)


class AudienceChartHandler(JsonHandler):
    """``GET /soundcharts/audience/chart/{track_uuid}/[{platform_slug}/]``."""

    async def get(self, rest: str) -> None:
        args = {name: self.get_query_argument(name, None, strip=False)  # " 2026-01-01\n" is not a date
                for name in ("start_date", "end_date", "limit")}
        try:
            query = parse(rest, args)
        except BadParameter as exc:
            return self.write_json({"error": str(exc)}, 400)
        except NoRoute as exc:
            return self.write_json({"error": str(exc)}, 404)
        build = payload.one_platform if query.platform else payload.all_platforms
        try:
            body = await asyncio.get_running_loop().run_in_executor(None, build, read_only_engine(), query)
        except NotStored as exc:
            return self.write_json({"error": str(exc)}, 404)
        except (ConfigError, SQLAlchemyError) as exc:  # details go to the server log, not to viewers
            log.error("audience endpoint: database not available: %s", str(exc).splitlines()[0][:300])
            return self.write_json({"error": "database not available"}, 503)
        self.write_json(body)


class OpenApiHandler(JsonHandler):
    """``GET /soundcharts/openapi.json``: the document describing these endpoints."""

    def get(self) -> None:
        self.write_json(openapi_document())


def handlers(server_url: str = "/") -> list[tuple]:
    """``(pattern, handler)`` pairs to put before Voila's own."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(server_url, rf"{PREFIX}/audience/chart/(.*)"), AudienceChartHandler),
            (url_path_join(server_url, rf"{PREFIX}/openapi.json"), OpenApiHandler)]
