"""A ranking exactly as the local server sends it, read over plain HTTP (no client code), and what the contract
says its items mean: the tests' own reading, to hold the trend pages against."""

from __future__ import annotations

import json
import urllib.request
from datetime import date
from urllib.parse import quote

SPELLINGS = {"new": "NEW", "re-entry": "RE-ENTRY", "reentry": "RE-ENTRY", "re_entry": "RE-ENTRY", "up": "UP",
             "down": "DOWN", "same": "SAME"}
UNITS = {"day": "day", "days": "day", "doc": "day", "week": "week", "weeks": "week", "woc": "week"}
HEADERS = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}


def _pages(srv, path: str) -> list:
    items = []
    while path:
        with urllib.request.urlopen(urllib.request.Request(srv.base_url + path, headers=HEADERS),
                                    timeout=30) as response:
            body = json.loads(response.read())
        items += body["items"]
        path = body["page"]["next"]
    return items


def ranking_dates(srv, slug: str) -> dict[date, str]:
    """The chart's ranking dates, each with its timestamp as served."""
    return {date.fromisoformat(raw[:10]): raw
            for raw in _pages(srv, f"/api/v2/chart/song/{slug}/available-rankings?offset=0&limit=100")}


def served(srv, slug: str, day: date) -> list[dict]:
    """The items of the chart's ranking of ``day`` as served, every page."""
    raw = ranking_dates(srv, slug)[day]
    return _pages(srv, f"/api/v2.14/chart/song/{slug}/ranking/{quote(raw, safe='')}?offset=0&limit=100")


def expected(item: dict, day: date) -> tuple:
    """(uuid, state, previous position, time on chart, unit, entry date) as the contract reads a ranked item: the
    state from ``entryState`` in any spelling, else from ``oldPosition`` (0 and null: none) and ``entryDate``."""
    old = item.get("oldPosition") or None
    state = SPELLINGS.get((item.get("entryState") or "").strip().lower())
    entered = date.fromisoformat(item["entryDate"][:10])
    if state is None:
        position = item["position"]
        state = ("UP" if old > position else "DOWN" if old < position else "SAME") if old else \
            "NEW" if entered == day else "RE-ENTRY"
    return (item["song"]["uuid"], state, old, item["timeOnChart"], UNITS[item["timeOnChartUnit"].lower()], entered)
