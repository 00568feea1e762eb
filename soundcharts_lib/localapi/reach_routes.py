"""The song-reach routes (contract 8.1-8.5; 8.4 popularity is in :mod:`.handlers`): patterns -> handlers.

Choices the contract leaves open, made here:
- 8.1 ``/api/v2/song/{uuid}/charts/ranks/{platform}``: chart platforms only, else 400 "Invalid request";
  ``currentOnly`` defaults to 1, ``sortBy`` (position | rankDate) to position, ``sortOrder`` to asc (see
  :func:`.ranks.order`); a song that never charted there answers 200 with no item.
- 8.2 by-ISRC (``/api/v2.25``; ``/api/v2`` answers the older song object): a blacklisted ISRC is a 410 "ISRC
  Blacklisted due to multiple tracks identified from DSP"; unknown or malformed a 404 "Song not found", billed.
- 8.3 by-platform: a code outside the referential is a 400 "Invalid platform code"; an unknown id a 404 "Song not
  found", not billed; the id of a song whose ISRC is blacklisted a 410 (same text). Ids may be percent-encoded.
- 8.5 ``/api/v2.20/song/{uuid}/playlist/current/{platform}`` (``/api/v2`` answers playlists without ``imageUrl``
  and ``type``): platforms spotify, apple-music, deezer, youtube; another code is a 400 "Invalid request".
  ``type`` defaults to ``all``, ``currentOnly`` to 1, ``sortBy`` (position | positionDate | entryDate |
  subscriberCount) to position, ``sortOrder`` to asc, ties by playlist uuid; ``countryCode`` keeps the
  playlists of that country ("" global ones never match); ``playlistUuids`` (comma-separated) keeps those.
"""

from __future__ import annotations

from .envelope import HttpError, Query, paginate
from .handlers import SEG, Context, find_song
from .params import bad, choice, country, descending, flag
from .playlists import PLAYLIST_PLATFORMS, PLAYLIST_TYPES, Placement
from .ranks import order
from .reach_views import placement_json, rank_json
from .referential import CHART_PLATFORMS, PLATFORMS
from .songs import Song
from .views import song_v2, song_v225

BLACKLISTED = "ISRC Blacklisted due to multiple tracks identified from DSP"
PLACEMENT_SORTS = {"position": lambda p: p.position, "positionDate": lambda p: p.position_date,
                   "entryDate": lambda p: p.entry_date, "subscriberCount": lambda p: p.playlist.subscribers}


def _related(song: Song, with_image: bool = True) -> dict:
    body = {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name, "imageUrl": song.image_url}
    if not with_image:
        del body["imageUrl"]
    return body


def song_ranks(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
    song = find_song(ctx, uuid)
    if platform not in CHART_PLATFORMS:
        raise bad(f"'{platform[:40]}' is not a chart platform")
    current_only = flag(query, "currentOnly", True)
    sort_by, desc = choice(query, "sortBy", ("position", "rankDate"), "position"), descending(query)
    items = [item for item in ctx.catalog.ranks.of_song(song, platform) if item.current or not current_only]
    older = "ranks-older" in ctx.catalog.lookups.reach[uuid].quirks
    return paginate(query, order(items, sort_by, desc), _related(song, with_image=not older),
                    lambda item: rank_json(item, with_song=False, older=older))


def _song_body(song: Song, legacy: bool) -> dict:
    return {"type": "song", "object": song_v2(song) if legacy else song_v225(song), "errors": []}


def _by_isrc(legacy: bool):
    def handler(ctx: Context, query: Query, isrc: str) -> dict:
        song, blacklisted = ctx.catalog.lookups.by_isrc(isrc)
        if blacklisted:
            raise HttpError(410, BLACKLISTED)
        if song is None:
            raise HttpError(404, "Song not found")
        return _song_body(song, legacy)
    return handler


def _by_platform(legacy: bool):
    def handler(ctx: Context, query: Query, platform: str, identifier: str) -> dict:
        if platform not in PLATFORMS:
            raise HttpError(400, f"Invalid platform code '{platform[:40]}'")
        song, blacklisted = ctx.catalog.lookups.by_platform(platform, identifier)
        if song is None:
            raise HttpError(404, "Song not found", billed=False)
        if blacklisted:
            raise HttpError(410, BLACKLISTED)
        return _song_body(song, legacy)
    return handler


def _wanted(query: Query) -> tuple:
    """The filters of 8.5: type, currentOnly, countryCode, playlistUuids."""
    kind = choice(query, "type", ("all", *PLAYLIST_TYPES), "all")
    current_only, place = flag(query, "currentOnly", True), country(query)
    raw = query.get("playlistUuids")
    uuids = {uuid.strip() for uuid in raw.split(",") if uuid.strip()} if raw else None
    return kind, current_only, place, uuids


def _keep(placement: Placement, kind: str, current_only: bool, place: str | None, uuids: set | None) -> bool:
    playlist = placement.playlist
    return ((kind == "all" or playlist.type == kind) and (placement.exit_date is None or not current_only)
            and (place is None or playlist.country_code == place) and (uuids is None or playlist.uuid in uuids))


def _playlists(legacy: bool):
    def handler(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
        song = find_song(ctx, uuid)
        if platform not in PLAYLIST_PLATFORMS:
            raise bad(f"'{platform[:40]}' is not a playlist platform; use one of {', '.join(PLAYLIST_PLATFORMS)}")
        wanted = _wanted(query)
        sort_by, desc = choice(query, "sortBy", tuple(PLACEMENT_SORTS), "position"), descending(query)
        kept = [p for p in ctx.catalog.placements(uuid, platform) if _keep(p, *wanted)]
        ordered = sorted(kept, key=PLACEMENT_SORTS[sort_by], reverse=desc)  # already by playlist uuid
        exit_key = "no-exit-key" not in ctx.catalog.lookups.reach[uuid].quirks
        return paginate(query, ordered, _related(song), lambda p: placement_json(p, legacy, exit_key))
    return handler


# The lookups come before the song routes of :mod:`.handlers`, whose ``{uuid}`` would otherwise take "by-isrc".
LOOKUP_ROUTES = (
    (rf"/api/v2\.25/song/by-isrc/{SEG}", _by_isrc(legacy=False)),
    (rf"/api/v2/song/by-isrc/{SEG}", _by_isrc(legacy=True)),
    (rf"/api/v2\.25/song/by-platform/{SEG}/(.+)", _by_platform(legacy=False)),
    (rf"/api/v2/song/by-platform/{SEG}/(.+)", _by_platform(legacy=True)),
)
ROUTES = (
    (rf"/api/v2/song/{SEG}/charts/ranks/{SEG}", song_ranks),
    (rf"/api/v2\.20/song/{SEG}/playlist/current/{SEG}", _playlists(legacy=False)),
    (rf"/api/v2/song/{SEG}/playlist/current/{SEG}", _playlists(legacy=True)),
)
