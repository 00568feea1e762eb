"""Artist names linked to the artist page (``artist.ipynb?uuid=``): a track's stored artists (``track_artist``, read
by :func:`soundcharts_lib.warehouse.artist_pages.credits`) each linked, in credit order; a track without any shows its
credit as plain text (a credit is only a name, no page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from soundcharts_lib.ui.common import Column, dashboard_link, first, link, text


def artist_link(uuid: str, name, prefix: str = "") -> str:
    """``name`` (the UUID when it has none) linking to the artist's page; ``prefix`` leads from a page in a
    sub-folder (``../`` from the admin pages)."""
    return link(f"{prefix}{dashboard_link('artist.ipynb', uuid=uuid)}", first(name, uuid))


def artists_html(artists: Sequence[Mapping] | None, credit=None, prefix: str = "") -> str:
    """The artists (``{"uuid", "name"}`` each) linked, or ``credit`` as text when there are none."""
    if artists:
        return ", ".join(artist_link(a["uuid"], a["name"], prefix) for a in artists)
    return text(credit)


def artists_column(credits: Mapping[str, Sequence[Mapping]], header: str = "Artist", prefix: str = "",
                   track: str = "uuid", credit: str = "artist") -> Column:
    """A table column of each row's track artists (``credits``: ``{track uuid: artists}``), linked, else the row's
    credit (column ``credit``) as text; ``track`` names the track UUID column."""
    return Column(header, lambda r: artists_html(credits.get(r[track]), r[credit], prefix))
