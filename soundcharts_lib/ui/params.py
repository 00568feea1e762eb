"""A dashboard's query string (Voila passes it as ``QUERY_STRING``), read and checked value by value.

A bad value raises :class:`BadQuery`, whose one-line message the page shows as its error state.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs

from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.vocab import SLUG_RE, UUID_RE, parse_date
from soundcharts_lib.web.preheat import wait_for_request

MAX_QUERY = 4000
FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def request_query_string() -> str:
    """This kernel's query string. A kernel Voila preheated (``--preheat_kernel``) ran the notebook's imports before
    any request: it waits here, once, for the request that gets it, which sets ``QUERY_STRING``."""
    wait_for_request()  # sets QUERY_STRING and the request's other variables (nothing outside a preheated kernel)
    return os.environ.get("QUERY_STRING", "")


class BadQuery(SoundchartsError, ValueError):
    """A query-string value the page cannot use (one-line message)."""


def _shown(raw: str) -> str:
    return repr(raw[:60])


@dataclass(frozen=True)
class Query:
    """The parsed query string; getters check and convert one parameter each."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None = None) -> Query:
        """``raw`` defaults to this kernel's ``QUERY_STRING`` (see :func:`request_query_string`)."""
        raw = request_query_string() if raw is None else raw
        if len(raw) > MAX_QUERY:
            raise BadQuery(f"the query string is longer than {MAX_QUERY} characters")
        return cls(parse_qs(raw.lstrip("?"), keep_blank_values=True))

    def text(self, name: str) -> str | None:
        """The last value of ``name`` (stripped), or None when absent or blank."""
        found = self.values.get(name)
        value = found[-1].strip() if found else ""
        return value or None

    def _required(self, name: str, example: str) -> str:
        value = self.text(name)
        if value is None:
            raise BadQuery(f"the link has no {name}: open this page from another dashboard, "
                           f"or add ?{name}={example} to its address")
        return value

    def slug(self, name: str = "slug", example: str = "spotify-top-200-global-daily") -> str:
        value = self._required(name, example)
        if len(value) > 255 or not SLUG_RE.match(value):
            raise BadQuery(f"{name} must be a code of lowercase letters, digits, - and _, got {_shown(value)}")
        return value

    def uuid(self, name: str = "uuid") -> str:
        value = self._required(name, "00000000-0000-4000-8000-000000000000")
        if not UUID_RE.match(value):
            raise BadQuery(f"{name} is not a SoundCharts UUID: {_shown(value)}")
        return value.lower()

    def date(self, name: str = "date") -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise BadQuery(f"{name} must be a date as YYYY-MM-DD, got {_shown(value)}") from None

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
            raise BadQuery(f"{name} must be a whole number from {low} to {high}, got {_shown(value)}")
        return int(value)

    def flag(self, name: str) -> bool:
        """On for 1 / true / yes / on, off when absent or 0 / false / no / off (any case)."""
        value = (self.text(name) or "0").lower()
        if value not in FLAGS:
            raise BadQuery(f"{name} must be 1 or 0, got {_shown(value)}")
        return FLAGS[value]

    def slugs(self, name: str) -> list[str] | None:
        """Comma-separated or repeated codes, in order without repeats; None when absent."""
        found = [part.strip() for raw in self.values.get(name, []) for part in raw.split(",") if part.strip()]
        for value in found:
            if len(value) > 64 or not SLUG_RE.match(value):
                raise BadQuery(f"{name} must be codes separated by commas, got {_shown(value)}")
        return list(dict.fromkeys(found)) or None

    @property
    def theme(self) -> str:
        """``dark`` or ``light`` (anything else is light: a theme never stops a page)."""
        return "dark" if self.text("theme") == "dark" else "light"
