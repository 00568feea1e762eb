"""Every API route, in matching order, and :func:`resolve` (a raw request path -> route and its parameters).

The song lookups (by ISRC, by platform id) come first, then the chart, song and usage routes of :mod:`.handlers`,
the song-reach routes of :mod:`.reach_routes` and the artist routes of :mod:`.artist_routes`. Each is billed one
unit of quota but ``/api/v2/team/usage``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from . import artist_routes, handlers, reach_routes
from .handlers import Route

ROUTES = [
    *(Route(re.compile(pattern), handler) for pattern, handler in reach_routes.LOOKUP_ROUTES),
    *handlers.ROUTES,
    *(Route(re.compile(pattern), handler) for pattern, handler in reach_routes.ROUTES + artist_routes.ROUTES),
]


def resolve(path: str) -> tuple[Route, list[str]] | None:
    """The route matching a raw request path and its percent-decoded path parameters."""
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match:
            return route, [unquote(group) for group in match.groups()]
    return None
