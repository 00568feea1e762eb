"""Tornado handlers of the JSON endpoints. Errors are ``{"error": "<one line>"}``; never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
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
from soundcharts_lib.web import artist_payload, payload
from soundcharts_lib.web.query import ArtistQuery, BadParameter, ChartQuery, NoRoute, parse, parse_artist

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


class SeriesHandler(JsonHandler):
    """A GET whose path (after the endpoint's prefix) and query are checked by ``parse`` (400 / 404) and whose body
    ``build`` makes from the database on a worker thread (404 for what is not stored, 503 without a database)."""

    def parse(self, rest: str, args: dict[str, str | None]):
        raise NotImplementedError

    def build(self, query) -> Callable[[Engine, object], dict]:
        raise NotImplementedError

    async def get(self, rest: str) -> None:
        args = {name: self.get_query_argument(name, None, strip=False)  # " 2026-01-01\n" is not a date
                for name in ("start_date", "end_date", "limit")}
        try:
            query = self.parse(rest, args)
        except BadParameter as exc:
            return self.write_json({"error": str(exc)}, 400)
        except NoRoute as exc:
            return self.write_json({"error": str(exc)}, 404)
        try:
            body = await asyncio.get_running_loop().run_in_executor(None, self.build(query), read_only_engine(),
                                                                    query)
        except NotStored as exc:
            return self.write_json({"error": str(exc)}, 404)
        except (ConfigError, SQLAlchemyError) as exc:  # details go to the server log, not to viewers
            log.error("%s: database not available: %s", self.request.path[:100], str(exc).splitlines()[0][:300])
            return self.write_json({"error": "database not available"}, 503)
        self.write_json(body)


class AudienceChartHandler(SeriesHandler):
    """``GET /soundcharts/audience/chart/{track_uuid}/[{platform_slug}/]``."""

    def parse(self, rest: str, args: dict[str, str | None]) -> ChartQuery:
        return parse(rest, args)

    def build(self, query: ChartQuery) -> Callable:
        return payload.one_platform if query.platform else payload.all_platforms


class ArtistHandler(SeriesHandler):
    """``GET /soundcharts/artist/{artist_uuid}/[audience/{platform_slug}/]``."""

    def parse(self, rest: str, args: dict[str, str | None]) -> ArtistQuery:
        return parse_artist(rest, args)

    def build(self, query: ArtistQuery) -> Callable:
        return artist_payload.one_platform if query.platform else artist_payload.artist


class OpenApiHandler(JsonHandler):
    """``GET /soundcharts/openapi.json``: the document describing these endpoints."""

    def get(self) -> None:
        self.write_json(openapi_document())


def handlers(server_url: str = "/") -> list[tuple]:
    """``(pattern, handler)`` pairs to put before Voila's own."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(server_url, rf"{PREFIX}/audience/chart/(.*)"), AudienceChartHandler),
            (url_path_join(server_url, rf"{PREFIX}/artist/(.*)"), ArtistHandler),
            (url_path_join(server_url, rf"{PREFIX}/openapi.json"), OpenApiHandler)]
