"""Query parameters of the artist and song-reach endpoints: 1/0 flags, one-of choices, sort order, a country.

A flag takes ``1``/``0`` (the contract's integers) and, as some clients send, ``true``/``false``; an empty value
counts as absent (the default). Anything else is a 400 "Invalid request: ..." naming the parameter.
"""

from __future__ import annotations

import re

from .envelope import HttpError, Query

FLAGS = {"1": True, "true": True, "0": False, "false": False}


def bad(message: str) -> HttpError:
    return HttpError(400, f"Invalid request: {message}")


def flag(query: Query, name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    if raw.lower() not in FLAGS:
        raise bad(f"query parameter '{name}' must be 1 or 0, got '{raw[:40]}'")
    return FLAGS[raw.lower()]


def choice(query: Query, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise bad(f"query parameter '{name}' must be one of {', '.join(choices)}; got '{raw[:40]}'")
    return raw


def descending(query: Query) -> bool:
    """``sortOrder``: ``asc`` (the default) or ``desc``."""
    return choice(query, "sortOrder", ("asc", "desc"), "asc") == "desc"


def country(query: Query) -> str | None:
    """``countryCode``: two letters (any case), upper-cased; ``None`` when absent."""
    raw = query.get("countryCode")
    if raw is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", raw):
        raise bad(f"countryCode must be an ISO 3166 alpha-2 code, got '{raw[:40]}'")
    return raw.upper()
