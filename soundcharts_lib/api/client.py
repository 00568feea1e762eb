"""SoundchartsClient: the only module that speaks HTTP to SoundCharts.

Synchronous ``requests`` (so it works inside a running Jupyter kernel), one request method with
typed errors, retries with full-jitter backoff, rate-limit 429 waits, a client-side rate limiter,
quota tracking, pagination through ``page.next`` and 90-day windows for the time series. The artist and song-reach
endpoints live in :mod:`~soundcharts_lib.api.artist_endpoints` and :mod:`~soundcharts_lib.api.reach_endpoints`.

Retry rules: 5xx, connection errors, timeouts and a 200 whose body is not JSON (a truncated or
garbled answer; raised as ``ServerError`` with ``status=200``, key ``"malformed"``) are retried with
exponential backoff and full jitter, bounded by ``max_retries`` and ``max_retry_seconds``. A 429
with ``x-ratelimit-reset`` (or "maximum request count" in its message) waits the reset plus a small
margin if that is at most ``max_ratelimit_wait``, else raises ``RateLimited``. Any other 429 is
``QuotaExhausted`` and never retried. With OAuth, a 401 refreshes the token once.

Credentials live in :class:`~soundcharts_lib.config.Secret` objects and are only put into request
headers; redirects are not followed (custom headers would follow them to another host).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests

from soundcharts_lib.api.artist_endpoints import ArtistEndpoints
from soundcharts_lib.api.payloads import (
    AudienceDay,
    ChartInfo,
    Identifier,
    Platform,
    Ranking,
    Song,
    page_next,
    parse_audience,
    parse_available_rankings,
    parse_charts,
    parse_identifiers,
    parse_platforms,
    parse_ranking,
    parse_song,
)
from soundcharts_lib.api.ratelimit import RateLimiter
from soundcharts_lib.api.reach_endpoints import ReachEndpoints
from soundcharts_lib.api.transport import (
    OAuth,
    as_date,
    as_secret,
    atom,
    cache_session,
    date_windows,
    json_body,
    mount_pool,
    page_offset,
    scrubbed,
    segment,
    send,
)
from soundcharts_lib.config import DEFAULT_API_URL, DEFAULT_AUTH_URL, Secret, Settings
from soundcharts_lib.errors import (
    ApiError,
    AuthError,
    ConfigError,
    PayloadError,
    RateLimited,
    ServerError,
)
from soundcharts_lib.logs import mask

log = logging.getLogger("soundcharts_lib.api.client")

T = TypeVar("T")

PAGE_LIMIT = 100                 # the API's maximum page size
WINDOW_DAYS = 90                 # longest audience/popularity range asked in one request
RATELIMIT_MARGIN = 0.5           # seconds added to x-ratelimit-reset
# Header names exactly as sent: requests-cache matches ignored names case-sensitively, and
# redacts them from what it stores.
class SoundchartsClient(ArtistEndpoints, ReachEndpoints):
    """A SoundCharts API client holding its own configuration (several can coexist).

    Legacy ``x-app-id``/``x-api-key`` headers, or OAuth2 client credentials when ``client_id`` and
    ``client_secret`` are given. ``cache`` is settings-like (see :func:`cache_session`) and only
    used for song and artist metadata, song lookups and identifiers. ``sleep`` is injectable for tests.
    """

    def __init__(self, base_url: str = DEFAULT_API_URL, app_id: str = "", api_key: str | Secret = "", *,
                 client_id: str = "", client_secret: str | Secret = "", auth_url: str | None = None,
                 team_id: str = "", session: requests.Session | None = None, timeout: float = 30,
                 max_retries: int = 5, max_retry_seconds: float = 120, backoff_base: float = 0.5,
                 max_ratelimit_wait: float = 90, rate_limit_per_minute: float = 4500, cache: Any = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._api_key = as_secret(api_key)
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
        self.max_ratelimit_wait = max_ratelimit_wait
        self._sleep = sleep
        self._owns_session = session is None
        self._session = session if session is not None else mount_pool(requests.Session())
        self._cached = cache_session(cache)
        if self._cached is not None:
            mount_pool(self._cached)
        self.limiter = RateLimiter(rate_limit_per_minute, sleep=sleep)
        secret = as_secret(client_secret)
        self._oauth: OAuth | None = None
        if client_id and secret:
            self._oauth = OAuth(self._session, auth_url or DEFAULT_AUTH_URL, client_id, secret, team_id,
                                 timeout)
        elif not (app_id and self._api_key):
            raise ConfigError("no SoundCharts credentials: give app_id and api_key, "
                              "or client_id and client_secret")
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._request_count = 0
        self._quota: int | str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SoundchartsClient:
        kw: dict[str, Any] = dict(
            base_url=settings.api_url, app_id=settings.app_id, api_key=settings.api_key,
            client_id=settings.client_id, client_secret=settings.client_secret, auth_url=settings.auth_url,
            team_id=settings.team_id, timeout=settings.timeout, max_retries=settings.max_retries,
            max_retry_seconds=settings.max_retry_seconds, max_ratelimit_wait=settings.max_ratelimit_wait,
            rate_limit_per_minute=settings.rate_limit_per_minute, cache=settings)
        kw.update(overrides)
        return cls(**kw)

    def __repr__(self) -> str:
        auth = "oauth" if self._oauth else "api-key"
        return (f"SoundchartsClient(base_url={mask(self.base_url)!r}, app_id={self.app_id!r}, auth={auth!r}, "
                f"cache={'on' if self._cached is not None else 'off'})")

    def __enter__(self) -> SoundchartsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()
        if self._cached is not None:
            self._cached.close()

    @property
    def quota_remaining(self) -> int | str | None:
        """Last ``x-quota-remaining`` seen (int; the raw string if it was not an integer)."""
        return self._quota

    @property
    def request_count(self) -> int:
        """HTTP requests sent to the API (retries included; cache hits and token fetches excluded)."""
        return self._request_count

    # --- the one request method ------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if self._oauth is not None:
            return self._oauth.headers()
        return {"x-app-id": self.app_id, "x-api-key": self._api_key.get()}

    def _note(self, resp: requests.Response) -> None:
        raw = resp.headers.get("x-quota-remaining")
        with self._lock:
            if raw is not None:
                try:
                    self._quota = int(raw)
                except ValueError:
                    self._quota = raw

    def _get_once(self, path: str, params: dict | None, cached: bool) -> Any:
        url = self.base_url + path
        session = self._cached if cached and self._cached is not None else self._session
        if session is self._cached:
            hit = session.get(url, params=params, only_if_cached=True)
            if getattr(hit, "from_cache", False) and hit.status_code == 200:
                return json.loads(hit.content)
        headers = self._auth_headers()
        self.limiter.acquire()
        with self._lock:
            self._request_count += 1
        resp = send(session, "GET", url, path, self.timeout, params=params, headers=headers)
        self._note(resp)
        log.debug("GET %s -> %s", path, resp.status_code)
        try:
            return json_body(resp, path)
        except ApiError as exc:  # an API that echoes what it was sent must not make our credentials travel on
            raise scrubbed(exc, [v for v in headers.values() if len(v) >= 6 and v != self.app_id]) from None

    def _retry_wait(self, exc: ApiError, attempt: int, started: float) -> float | None:
        """Seconds to wait before retrying after ``exc``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            if exc.retry_after > self.max_ratelimit_wait:
                return None
            wait = exc.retry_after + RATELIMIT_MARGIN
        else:
            wait = self._rng.uniform(0, self.backoff_base * 2 ** attempt)
        if time.monotonic() - started + wait > self.max_retry_seconds:
            return None
        return wait

    def request(self, path: str, params: dict | None = None, *, cached: bool = False) -> Any:
        """GET ``path`` (starting with ``/api``) and return its JSON body, retrying by the rules above."""
        started = time.monotonic()
        attempt = 0
        refreshed = False
        while True:
            try:
                return self._get_once(path, params, cached)
            except AuthError:
                if self._oauth is None or refreshed:
                    raise
                refreshed = True
                self._oauth.invalidate()
            except (RateLimited, ServerError) as exc:
                wait = self._retry_wait(exc, attempt, started)
                if wait is None:
                    raise
                attempt += 1
                log.info("waiting %.2fs before retrying %s (%s)", wait, path,
                         f"HTTP {exc.status}" if exc.status else "no response")
                if isinstance(exc, RateLimited):
                    self.limiter.defer(wait)  # every thread of this client holds back; acquire() waits
                else:
                    self._sleep(wait)

    # --- pagination -----------------------------------------------------------------------------

    def _pages(self, path: str, params: dict | None = None, *, cached: bool = False) -> Iterator[Any]:
        """Every page of a collection, following ``page.next`` until it is null."""
        given = {**(params or {}), "offset": 0, "limit": PAGE_LIMIT}
        query = {k: str(v) for k, v in given.items() if v is not None}
        page_path = path
        seen = {(page_path, tuple(sorted(query.items())))}
        while True:
            body = self.request(page_path, query, cached=cached)
            yield body
            nxt = page_next(body)
            if nxt is None or not body.get("items"):
                return
            parts = urlsplit(nxt)
            next_query = {**query, **dict(parse_qsl(parts.query, keep_blank_values=True))}
            key = (parts.path or page_path, tuple(sorted(next_query.items())))
            if key in seen or page_offset(next_query) <= page_offset(query):
                raise PayloadError(f"{path}: page.next does not advance ({parts.path})", endpoint=path,
                                   field="page.next")
            seen.add(key)
            page_path, query = key[0], next_query

    def _windows(self, path: str, start: str | date, end: str | date, params: dict | None = None) -> Iterator[Any]:
        """Every page of a time series for start..end inclusive, asked in windows of at most 90 days."""
        for lo, hi in date_windows(as_date(start), as_date(end)):
            yield from self._pages(path, {**(params or {}), "startDate": lo.isoformat(), "endDate": hi.isoformat()})

    def _iter(self, path: str, parse: Callable[[Any], list[T]], params: dict | None = None, *,
              cached: bool = False) -> Iterator[T]:
        for body in self._pages(path, params, cached=cached):
            yield from self._parsed(parse, body, path)

    @staticmethod
    def _parsed(parse: Callable[[Any], T], body: Any, path: str) -> T:
        try:
            return parse(body)
        except PayloadError as exc:
            raise PayloadError(f"{path}: {exc}", endpoint=path, field=exc.field) from None

    def fetch_many(self, fn: Callable[[Any], T], args: Iterable[Any], workers: int = 4) -> list[T]:
        """``[fn(a) for a in args]`` on ``workers`` threads, in order; the rate limiter is shared.
        The first error is raised after cancelling what has not started."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(fn, a) for a in args]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    # --- referential ----------------------------------------------------------------------------

    def platforms(self) -> list[Platform]:
        return list(self._iter("/api/v2/referential/platforms", parse_platforms))

    def social_platforms(self) -> list[Platform]:
        return list(self._iter("/api/v2/referential/platforms/social", parse_platforms))

    def streaming_platforms(self) -> list[Platform]:
        """Platforms with artist listening figures (contract 7.5)."""
        return list(self._iter("/api/v2/referential/platforms/streaming", parse_platforms))

    def chart_platforms(self) -> list[Platform]:
        return list(self._iter("/api/v2/chart/song/platforms", parse_platforms))

    def team_usage(self) -> dict:
        body = self.request("/api/v2/team/usage")
        if not isinstance(body, dict):
            raise PayloadError("/api/v2/team/usage: body is not an object", endpoint="/api/v2/team/usage")
        return body

    # --- charts ---------------------------------------------------------------------------------

    def iter_charts_by_platform(self, platform: str, country_code: str | None = None) -> Iterator[ChartInfo]:
        path = f"/api/v2/chart/song/by-platform/{segment(platform)}"
        return self._iter(path, parse_charts, {"countryCode": country_code})

    def charts_by_platform(self, platform: str, country_code: str | None = None) -> list[ChartInfo]:
        return list(self.iter_charts_by_platform(platform, country_code))

    def iter_available_rankings(self, slug: str) -> Iterator[str]:
        return self._iter(f"/api/v2/chart/song/{segment(slug)}/available-rankings", parse_available_rankings)

    def available_rankings(self, slug: str) -> list[str]:
        """Ranking timestamps as the API wrote them; pass one to :meth:`ranking_for_date` verbatim."""
        return list(self.iter_available_rankings(slug))

    def _ranking(self, path: str) -> Ranking:
        first: Ranking | None = None
        entries = []
        for body in self._pages(path):
            page = self._parsed(parse_ranking, body, path)
            if first is None:
                first = page
            elif page.date_raw != first.date_raw:
                raise PayloadError(f"{path}: ranking changed while paging ({first.date_raw} then "
                                   f"{page.date_raw})", endpoint=path, field="related.date")
            entries.extend(page.entries)
        assert first is not None  # _pages yields at least one page
        return first.model_copy(update={"entries": entries})

    def ranking_latest(self, slug: str) -> Ranking:
        return self._ranking(f"/api/v2.14/chart/song/{segment(slug)}/ranking/latest")

    def ranking_for_date(self, slug: str, when: str | date | datetime) -> Ranking:
        """The ranking for ``when``: an available-rankings string (sent verbatim, ``+`` as %2B) or a
        date (its ``T00:00:00+00:00``)."""
        return self._ranking(f"/api/v2.14/chart/song/{segment(slug)}/ranking/{segment(atom(when), safe=':')}")

    # --- songs ----------------------------------------------------------------------------------

    def song(self, uuid: str) -> Song:
        path = f"/api/v2.25/song/{segment(uuid)}"
        return self._parsed(parse_song, self.request(path, cached=True), path)

    def song_identifiers(self, uuid: str, platform: str | None = None,
                         only_default: bool | None = None) -> list[Identifier]:
        params = {"platform": platform,
                  "onlyDefault": None if only_default is None else str(bool(only_default)).lower()}
        return list(self._iter(f"/api/v2/song/{segment(uuid)}/identifiers", parse_identifiers, params,
                               cached=True))

    def song_audience(self, uuid: str, platform: str, start: str | date, end: str | date,
                      identifier: str | None = None) -> list[AudienceDay]:
        """Audience (cumulative totals) for start..end inclusive, asked in windows of <= 90 days,
        merged, one day per date (first seen kept), ascending."""
        path = f"/api/v2/song/{segment(uuid)}/audience/{segment(platform)}"
        by_date: dict[date, AudienceDay] = {}
        for body in self._windows(path, start, end, {"identifier": identifier}):
            for day in self._parsed(parse_audience, body, path):
                by_date.setdefault(day.date, day)
        return [by_date[d] for d in sorted(by_date)]
