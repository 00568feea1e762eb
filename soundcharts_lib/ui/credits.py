"""Artist names linked to the artist page (``artist.ipynb?uuid=``): a track's stored artists (``track_artist``, read
by :func:`soundcharts_lib.warehouse.artist_pages.credits`) linked where its credit names them, the others after it; a
track without any shows its credit as plain text (a credit is only a name, no page). Links carry the class
``artist-link``."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from soundcharts_lib.ui.common import Column, dashboard_link, first, missing, text


def artist_link(uuid: str, name, prefix: str = "") -> str:
    """``name`` (the UUID when it has none) linking to the artist's page; ``prefix`` leads from a page in a
    sub-folder (``../`` from the admin pages)."""
    href = html.escape(f"{prefix}{dashboard_link('artist.ipynb', uuid=uuid)}", quote=True)
    return f'<a class="artist-link" href="{href}">{text(first(name, uuid))}</a>'


def artists_html(artists: Sequence[Mapping] | None, credit=None, prefix: str = "") -> str:
    """The artists (``{"uuid", "name"}`` each) as links: inside ``credit`` where it spells their names (the credit's
    own words kept), those it does not name after it (" · "); all of them, comma-separated, without a credit; the
    credit as text when there are none."""
    credit = "" if missing(credit) else str(credit)
    if not artists:
        return text(credit)
    spans: list[tuple[int, int, Mapping]] = []
    rest = []
    for artist in sorted(artists, key=lambda a: -len(str(first(a["name"], "")))):  # "Jay-Z" before "Jay"
        name = str(first(artist["name"], ""))
        at = credit.find(name) if name else -1
        while at >= 0 and any(at < end and at + len(name) > start for start, end, _ in spans):
            at = credit.find(name, at + 1)
        if at < 0:
            rest.append(artist)
        else:
            spans.append((at, at + len(name), artist))
    parts, done = [], 0
    for start, end, artist in sorted(spans, key=lambda span: span[0]):
        parts += [text(credit[done:start]), artist_link(artist["uuid"], artist["name"], prefix)]
        done = end
    parts.append(text(credit[done:]))
    others = ", ".join(artist_link(a["uuid"], a["name"], prefix) for a in artists if a in rest)
    return "".join(parts) + (" · " if credit and others else "") + others


def artists_column(credits: Mapping[str, Sequence[Mapping]], header: str = "Artist", prefix: str = "",
                   track: str = "uuid", credit: str = "artist") -> Column:
    """A table column of each row's credit (column ``credit``) with its track's artists linked (``credits``:
    ``{track uuid: artists}``); ``track`` names the track UUID column."""
    return Column(header, lambda r: artists_html(credits.get(r[track]), r[credit], prefix))
