"""How the client talks HTTP: one request with typed errors, JSON bodies, secrets scrubbed from errors, OAuth
bearer tokens renewed before they expire, the response cache, connection pools, dates as the API writes them and
the 90-day windows of the audience endpoints."""


from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from soundcharts_lib.api.payloads import (
    parse_error_body,
)
from soundcharts_lib.config import Secret
from soundcharts_lib.errors import (
    ApiError,
    AuthError,
    BadRequest,
    Gone,
    NotFound,
    PayloadError,
    PlanError,
    QuotaExhausted,
    RateLimited,
    ServerError,
)

log = logging.getLogger("soundcharts_lib.api.client")

WINDOW_DAYS = 90                 # longest audience/popularity range asked in one request
TOKEN_EARLY_REFRESH = 45.0       # seconds before expiry a bearer token is renewed
DEFAULT_TOKEN_LIFETIME = 3600.0
CACHE_DISABLED = ("", "none", "off")

_AUTH_HEADERS = ("x-app-id", "x-api-key", "Authorization")
_STATUS_ERRORS: dict[int, type[ApiError]] = {400: BadRequest, 401: AuthError, 403: PlanError, 404: NotFound,
                                             410: Gone}


def as_secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(str(value or ""))


def _float_or_none(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def error_from_response(resp: requests.Response, endpoint: str) -> ApiError:
    """The typed error for a non-2xx response (``endpoint`` = path without query)."""
    key, message = parse_error_body(resp.text)
    kw: dict[str, Any] = {"status": resp.status_code, "endpoint": endpoint, "key": key,
                          "headers": dict(resp.headers)}
    if resp.status_code == 429:
        reset = resp.headers.get("x-ratelimit-reset")
        if reset is not None or "maximum request count" in message.lower():
            return RateLimited(message, retry_after=_float_or_none(reset), **kw)
        return QuotaExhausted(message, **kw)
    if resp.status_code >= 500:
        return ServerError(message, **kw)
    return _STATUS_ERRORS.get(resp.status_code, ApiError)(message, **kw)


def send(session: requests.Session, method: str, url: str, endpoint: str, timeout: float,
          **kw: Any) -> requests.Response:
    """One HTTP exchange; transport failures become ServerError without the request's details."""
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kw)
    except requests.Timeout:
        raise ServerError(f"timed out after {timeout:g}s", endpoint=endpoint) from None
    except requests.RequestException as exc:
        raise ServerError(f"connection failed ({type(exc).__name__})", endpoint=endpoint) from None


def json_body(resp: requests.Response, endpoint: str) -> Any:
    if not resp.ok:
        raise error_from_response(resp, endpoint)
    try:
        return json.loads(resp.content)
    except (ValueError, RecursionError):  # RecursionError: a body nested deeper than the parser goes
        raise ServerError("response body is not valid JSON", status=resp.status_code, endpoint=endpoint,
                          key="malformed", headers=dict(resp.headers)) from None


def scrubbed(exc: ApiError, secrets: list[str]) -> ApiError:
    """``exc`` with every secret (and a bearer token's value) masked in its message."""
    message = exc.api_message
    for secret in secrets:
        message = message.replace(secret, "***")
        if secret.startswith("Bearer "):
            message = message.replace(secret[7:], "***")
    if message == exc.api_message:
        return exc
    kw = {"status": exc.status, "endpoint": exc.endpoint, "key": exc.key, "headers": exc.headers}
    if isinstance(exc, RateLimited):
        kw["retry_after"] = exc.retry_after
    return type(exc)(message, **kw)


def atom(when: str | date | datetime) -> str:
    """The ``{datetime}`` path value: a string is used verbatim, a date is its UTC midnight."""
    if isinstance(when, str):
        return when
    if isinstance(when, datetime):
        return when.isoformat(timespec="seconds") if when.tzinfo else f"{when:%Y-%m-%dT%H:%M:%S}+00:00"
    return f"{when.isoformat()}T00:00:00+00:00"


def as_date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def date_windows(start: date, end: date, days: int = WINDOW_DAYS) -> list[tuple[date, date]]:
    """Consecutive inclusive windows of at most ``days`` days covering start..end, no gap or overlap."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    windows = []
    while start <= end:
        stop = min(start + timedelta(days=days - 1), end)
        windows.append((start, stop))
        start = stop + timedelta(days=1)
    return windows


def page_offset(query: dict[str, str]) -> int:
    """The ``offset`` of a page query; -1 when absent or not a number (never seen as advancing)."""
    try:
        return int(query.get("offset", "-1"))
    except ValueError:
        return -1


def segment(segment: str, safe: str = "") -> str:
    """One percent-encoded path segment (a ``+`` always becomes %2B)."""
    return quote(segment, safe=safe)


class OAuth:
    """Client-credentials bearer token, fetched lazily, renewed before expiry. Thread-safe."""

    def __init__(self, session: requests.Session, url: str, client_id: str, client_secret: Secret,
                 team_id: str, timeout: float):
        self._session = session
        self._url = url
        self._endpoint = urlsplit(url).path or "/"
        self._client_id = client_id
        self._client_secret = client_secret
        self._team_id = team_id
        self._timeout = timeout
        self._token = Secret("")
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        with self._lock:
            if not self._token or time.monotonic() >= self._renew_at:
                self._fetch()
            return {"Authorization": f"Bearer {self._token.get()}"}

    def invalidate(self) -> None:
        with self._lock:
            self._token = Secret("")

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self._team_id:
            form["team_id"] = self._team_id
        resp = send(self._session, "POST", self._url, self._endpoint, self._timeout, data=form,
                     auth=(self._client_id, self._client_secret.get()))
        body = json_body(resp, self._endpoint)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token or not isinstance(token, str):
            raise PayloadError(f"{self._endpoint}: access_token missing", endpoint=self._endpoint,
                               field="access_token")
        lifetime = _float_or_none(str(body.get("expires_in"))) or DEFAULT_TOKEN_LIFETIME
        self._token = Secret(token)
        self._renew_at = time.monotonic() + lifetime - min(TOKEN_EARLY_REFRESH, lifetime / 2)


def cache_session(cache: Any) -> requests.Session | None:
    """A requests-cache session from settings-like ``cache`` (cache_backend, cache_path,
    cache_expire_seconds), or None when caching is off."""
    if cache is None or str(cache.cache_backend).lower() in CACHE_DISABLED:
        return None
    import requests_cache

    backend = str(cache.cache_backend).lower()
    if backend in ("sqlite", "filesystem"):
        Path(cache.cache_path).parent.mkdir(parents=True, exist_ok=True)
    return requests_cache.CachedSession(
        cache_name=str(cache.cache_path), backend=backend, expire_after=int(cache.cache_expire_seconds),
        allowable_methods=("GET",), allowable_codes=(200,), match_headers=False,
        ignored_parameters=_AUTH_HEADERS, filter_fn=_is_json)


def _is_json(resp: requests.Response) -> bool:
    """Only well-formed bodies are cached (a garbled 200 must not be served again)."""
    try:
        json.loads(resp.content)
    except (TypeError, ValueError, RecursionError):  # TypeError: no body (the cache's own 504 for a miss)
        return False
    return True


def mount_pool(session: requests.Session) -> requests.Session:
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
