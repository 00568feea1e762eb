"""Who may call (legacy key pair or OAuth bearer token) and how much (quota, per-minute rate limit, stats).

Counting rules: ``requests``/``by_path`` count every request outside ``/__localapi``; a request is *billed*
(one unit of quota) when it is authenticated, under ``/api``, matches a route other than
``/api/v2/team/usage`` and passes the rate limit. The rate limit is a sliding 60-second window over the
requests it let through. A request the contract does not bill (``HttpError(billed=False)``, e.g. a 404 of a
by-platform lookup) or that fails on the server side (500) gets its unit back. ``Meter.reset()`` clears the
counters and restores the quota and the rate window.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import threading
import time
from collections import Counter, deque

from .config import UNLIMITED_QUOTA_HEADER, LocalApiConfig

WINDOW_SECONDS = 60.0


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class TokenStore:
    """OAuth client-credentials tokens; each lives ``token_ttl`` seconds."""

    def __init__(self, config: LocalApiConfig):
        self._config = config
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, authorization: str | None, grant_type: str | None) -> str | None:
        """A new token for valid Basic client credentials and ``grant_type=client_credentials``."""
        if grant_type != "client_credentials" or not authorization or not authorization.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, client_secret = decoded.partition(":")
        config = self._config
        if not (_same(client_id, config.client_id) and _same(client_secret, config.client_secret)):
            return None
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._tokens = {key: until for key, until in self._tokens.items() if until > now}
            self._tokens[token] = now + self._config.token_ttl
        return token

    def expires_in(self) -> int:
        return math.ceil(self._config.token_ttl)

    def check(self, headers) -> str | None:
        """``None`` when the request may pass, else the 401 message (never echoing a credential)."""
        authorization = headers.get("Authorization") or ""
        if authorization[:7].lower() == "bearer ":
            with self._lock:
                until = self._tokens.get(authorization[7:].strip())
            if until is not None and until > time.monotonic():
                return None
            bearer_problem = "Access token expired" if until is not None else "Invalid access token"
        else:
            bearer_problem = None
        app_id, api_key = headers.get("x-app-id"), headers.get("x-api-key")
        if _same(app_id, self._config.app_id) and _same(api_key, self._config.api_key):
            return None
        if bearer_problem:
            return bearer_problem
        if app_id is None and api_key is None:
            return "Missing credentials: send x-app-id and x-api-key, or Authorization: Bearer <token>"
        return "Invalid credentials"


class Meter:
    """Quota, rate limit and request statistics, behind one lock."""

    def __init__(self, config: LocalApiConfig):
        self._config = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._remaining = self._config.quota
            self._window: deque[float] = deque()
            self._by_path: Counter[str] = Counter()
            self._requests = self._faults = self._billed = self._rate_limited = 0

    def seen(self, path: str) -> None:
        with self._lock:
            self._requests += 1
            self._by_path[path] += 1

    def fault(self) -> None:
        with self._lock:
            self._faults += 1

    def quota_header(self) -> str:
        with self._lock:
            return str(UNLIMITED_QUOTA_HEADER if self._remaining is None else self._remaining)

    def _prune(self, now: float) -> None:
        while self._window and self._window[0] <= now - WINDOW_SECONDS:
            self._window.popleft()

    def admit(self) -> tuple[str, int | None] | None:
        """Count one billed request; ``("rate", reset_seconds)`` or ``("quota", None)`` when refused."""
        limit = self._config.rate_limit_per_minute
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            if limit is not None and len(self._window) >= limit:
                self._rate_limited += 1
                return "rate", max(1, math.ceil(self._window[0] + WINDOW_SECONDS - now))
            if self._remaining == 0:
                return "quota", None
            self._window.append(now)
            self._billed += 1
            if self._remaining is not None:
                self._remaining -= 1
            return None

    def refund(self) -> None:
        """Give back the unit of quota of an admitted request the contract does not bill (it still counted
        towards the rate limit)."""
        with self._lock:
            self._billed -= 1
            if self._remaining is not None:
                self._remaining += 1

    def usage(self) -> dict:
        with self._lock:
            self._prune(time.monotonic())
            quota = {"total": self._config.quota, "used": self._billed, "remaining": self._remaining}
            return {"quota": quota,
                    "rateLimit": {"limitPerMinute": self._config.rate_limit_per_minute,
                                  "usedThisMinute": len(self._window)}}

    def stats(self) -> dict:
        with self._lock:
            return {"requests": self._requests, "by_path": dict(self._by_path), "faults": self._faults,
                    "quota_remaining": self._remaining, "billed": self._billed,
                    "rate_limited": self._rate_limited}
