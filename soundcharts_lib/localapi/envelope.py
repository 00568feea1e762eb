"""Response envelopes: the error body, and offset/limit pagination with ``page.next``/``page.previous``.

Pagination: ``offset`` (0-based, default 0) and ``limit`` (default 100). A ``limit`` above 100 is clamped
to 100 (``page.limit`` then shows 100) rather than rejected; ``limit < 1``, a negative ``offset`` or a
non-integer value is a 400. An empty value counts as absent. ``page.next``/``page.previous`` are
root-relative paths (``/api/...?...&offset=..&limit=..``) keeping the request's other query parameters,
or ``null`` at the ends; ``page.total`` counts every item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

MAX_LIMIT = 100


class HttpError(Exception):
    """An error answered with the contract's envelope; ``billed=False`` gives back the request's unit of quota
    (the contract's "not deducted from quota" answers)."""

    def __init__(self, status: int, message: str, key: str | None = None, billed: bool = True):
        super().__init__(message)
        self.status, self.message, self.billed = status, message, billed
        self.key = key or KEYS.get(status, "error")


KEYS = {400: "badRequest", 401: "access", 403: "plan", 404: "notFound", 405: "method", 410: "gone", 429: "quota",
        500: "server", 502: "server", 503: "server", 504: "server"}


def error_body(status: int, message: str, key: str | None = None) -> dict:
    return {"errors": [{"key": key or KEYS.get(status, "error"), "code": status, "message": message}]}


@dataclass(frozen=True)
class Query:
    """A request's path (as sent, still percent-encoded) and its decoded query pairs in order."""

    path: str
    pairs: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """The last non-empty value of ``name`` (``None`` if absent or empty)."""
        values = [value for key, value in self.pairs if key == name and value != ""]
        return values[-1] if values else None


def _int_param(query: Query, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise HttpError(400, f"Query parameter '{name}' must be an integer, got '{raw}'") from None


def page_window(query: Query) -> tuple[int, int]:
    """``(offset, limit)`` after validation and clamping."""
    offset, limit = _int_param(query, "offset", 0), _int_param(query, "limit", MAX_LIMIT)
    if offset < 0:
        raise HttpError(400, "Query parameter 'offset' must be >= 0")
    if limit < 1:
        raise HttpError(400, f"Query parameter 'limit' must be between 1 and {MAX_LIMIT}")
    return offset, min(limit, MAX_LIMIT)


def _link(query: Query, offset: int, limit: int) -> str:
    kept = [(key, value) for key, value in query.pairs if key not in ("offset", "limit")]
    return f"{query.path}?{urlencode([*kept, ('offset', offset), ('limit', limit)])}"


def paginate(query: Query, items: list, related: object = None,
             convert: Callable = lambda item: item) -> dict:
    """The collection envelope for one page of ``items`` (each passed through ``convert``; ``related`` first
    when given)."""
    offset, limit = page_window(query)
    total = len(items)
    page = {"offset": offset, "limit": limit,
            "next": _link(query, offset + limit, limit) if offset + limit < total else None,
            "previous": _link(query, max(0, offset - limit), limit) if offset > 0 else None,
            "total": total}
    body = {"related": related} if related is not None else {}
    body.update(items=[convert(item) for item in items[offset:offset + limit]], page=page, errors=[])
    return body
