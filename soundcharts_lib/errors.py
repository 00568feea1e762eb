"""Typed exceptions. Each API error carries status, endpoint path, the API's key and message.

No exception ever carries a credential: only the path (never the full URL with a query string
that could hold a token) and the API's own error text.
"""

from __future__ import annotations


class SoundchartsError(Exception):
    """Base of every error this library raises on purpose."""


class ConfigError(SoundchartsError):
    """Bad or missing configuration (environment variable, database URL, ...)."""


class PayloadError(SoundchartsError):
    """A response body that does not hold what the code relies on."""

    def __init__(self, message: str, *, endpoint: str = "", field: str = ""):
        self.endpoint = endpoint
        self.field = field
        super().__init__(message)


class ApiError(SoundchartsError):
    """An HTTP error answered by the API."""

    retryable = False

    def __init__(self, message: str = "", *, status: int | None = None, endpoint: str = "",
                 key: str = "", headers: dict | None = None):
        self.status = status
        self.endpoint = endpoint
        self.key = key
        self.api_message = message
        self.headers = dict(headers or {})
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" on {self.endpoint}" if self.endpoint else ""
        status = f"HTTP {self.status}" if self.status is not None else "request failed"
        msg = f": {self.api_message}" if self.api_message else ""
        return f"{status}{where}{msg}"


class BadRequest(ApiError):
    """400: invalid request or platform code."""


class AuthError(ApiError):
    """401: missing or invalid credentials or token."""


class PlanError(ApiError):
    """403: the endpoint is not in the plan."""


class NotFound(ApiError):
    """404: entity not found. Never turned into an empty result."""


class NoPlatformData(NotFound):
    """404 on an artist's audience or listening series whose message is not "Artist not found": the artist
    exists but has no account on that platform, or the platform has no such series (the contract's "no data")."""


class Gone(ApiError):
    """410: permanently refused, e.g. an ISRC blacklisted because several DSP tracks match it. Do not retry;
    look the song up by a platform identifier instead."""


class RateLimited(ApiError):
    """429 per-minute rate limit. Retryable after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class QuotaExhausted(ApiError):
    """429 because the billing-term quota is used up. Terminal: do not retry."""


class ServerError(ApiError):
    """5xx, connection failures and timeouts (status None)."""

    retryable = True
