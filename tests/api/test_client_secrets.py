"""Canary scan: credentials never reach a log record (any logger, DEBUG), an error, a repr or the cache."""

from __future__ import annotations

import logging
import traceback
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.config import Secret, Settings
from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = date(2025, 3, 14)


def leaks(canaries: list[str], caplog, errors: list[BaseException], *objects: object) -> list[str]:
    """Every place a canary shows up: log records, exceptions (text, repr, traceback, attributes)."""
    texts = []
    for r in caplog.records:
        texts += [r.getMessage(), repr(r.args), r.exc_text or ""]
    for exc in errors:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]
    texts += [repr(o) for o in objects] + [str(o) for o in objects]
    return [t for t in texts for c in canaries if c in t]


def failing_calls(client: SoundchartsClient, uuid_: str) -> list[BaseException]:
    """Run calls that fail (or succeed) in many ways; return the errors raised."""
    errors: list[BaseException] = []
    calls = [
        lambda: client.platforms(),
        lambda: client.song(uuid_),
        lambda: client.song(uuid_),  # from the cache when one is configured
        lambda: client.song_identifiers(uuid_),
        lambda: client.song("00000000-0000-0000-0000-000000000000"),
        lambda: client.ranking_latest("no-such-chart"),
        lambda: client.song_audience(uuid_, "spotify", TODAY - timedelta(days=100), TODAY),
        lambda: client.request("/api/v2/no/such/route"),
    ]
    for call in calls:
        try:
            call()
        except SoundchartsError as exc:
            errors.append(exc)
    return errors


@pytest.fixture()
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3, requests-cache, the client, the server
    return caplog


def test_api_key_canary_with_every_kind_of_failure(debug_logs, tmp_path: Path):
    canary = f"canary-{uuid.uuid4().hex}"
    app_id = "workbench-app"
    cache = Settings(cache_backend="sqlite", cache_path=str(tmp_path / "http_cache"), cache_expire_seconds=60)
    errors: list[BaseException] = []
    clients = []
    # the server knows the canary as its key: successes, 404s, cache writes, quota and faults
    with running(LocalApiConfig(seed=1, today=TODAY, app_id=app_id, api_key=canary, quota=6, fault_rate=0.3,
                                fault_seed=2, timeout_seconds=1.0)) as srv:
        with SoundchartsClient(srv.base_url, app_id, Secret(canary), cache=cache, timeout=0.5, max_retries=2,
                               rate_limit_per_minute=60000, sleep=lambda s: None) as client:
            clients.append(client)
            uuid_ = client.ranking_latest("spotify-top-200-global-daily").entries[0].song.uuid
            errors += failing_calls(client, uuid_)
        with SoundchartsClient(srv.base_url, app_id, canary + "-wrong", max_retries=0) as wrong:  # 401s
            clients.append(wrong)
            errors += failing_calls(wrong, uuid_)
    with SoundchartsClient(srv.base_url, app_id, canary, max_retries=1, sleep=lambda s: None) as gone:
        clients.append(gone)  # connection refused: the server has stopped
        errors += failing_calls(gone, uuid_)

    kinds = {type(e).__name__ for e in errors}
    assert {"NotFound", "AuthError", "QuotaExhausted", "ServerError"} <= kinds, kinds
    assert any("GET " in r.getMessage() for r in debug_logs.records)  # DEBUG records were captured
    assert leaks([canary], debug_logs, errors, *clients) == []
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert stored and canary.encode() not in stored


def test_oauth_secret_and_bearer_token_canary(debug_logs):
    secret = f"canary-{uuid.uuid4().hex}"
    with running(LocalApiConfig(seed=1, today=TODAY, client_secret=secret, token_ttl=2)) as srv:
        auth_url = f"{srv.base_url}/oauth/token"
        with SoundchartsClient(srv.base_url, client_id="soundcharts", client_secret=Secret(secret),
                               auth_url=auth_url, rate_limit_per_minute=60000, max_retries=0) as client:
            uuid_ = client.ranking_latest("spotify-top-200-global-daily").entries[0].song.uuid
            token = client._oauth._token.get()  # the bearer is a secret too
            errors = failing_calls(client, uuid_)
            client._oauth._token = Secret(f"canary-token-{uuid.uuid4().hex}")  # the server rejects it: 401
            revoked = client._oauth._token.get()
            errors += failing_calls(client, uuid_)
        with SoundchartsClient(srv.base_url, client_id="soundcharts", client_secret=secret + "-wrong",
                               auth_url=auth_url, max_retries=0) as wrong:
            errors += failing_calls(wrong, uuid_)
    assert token and any(type(e).__name__ == "AuthError" and e.endpoint == "/oauth/token" for e in errors)
    assert leaks([secret, token, revoked], debug_logs, errors, client, wrong) == []
