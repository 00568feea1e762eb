"""The local SoundCharts server read over plain HTTP (no client code): its sandbox credentials, a session that sends
them, and a test module's own server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from soundcharts_lib.localapi import LocalApiConfig, running

AUTH = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}


def session() -> requests.Session:
    """A session that sends the sandbox credentials (``with session() as http``)."""
    http = requests.Session()
    http.headers.update(AUTH)
    return http


def server_fixtures(config: LocalApiConfig):
    """A test module's fixtures ``srv`` (the local server with ``config``) and ``http`` (a ``session()``), both
    module-scoped: ``srv, http = server_fixtures(LocalApiConfig(...))``."""

    @pytest.fixture(scope="module")
    def srv():
        with running(config) as server:
            yield server

    @pytest.fixture(scope="module")
    def http() -> Iterator[requests.Session]:
        with session() as http:
            yield http

    return srv, http
