"""The artist routes (contract 7.1-7.6): path patterns (version segments included) -> handlers.

Choices the contract leaves open, made here:
- 7.1 ``/api/v2.9/artist/{uuid}`` answers every key (the older key set for artists with the ``older-keys`` quirk);
  ``/api/v2/artist/{uuid}`` the older object (uuid, slug, name, appUrl, imageUrl, countryCode). The batch
  ``/api/v2.9/artist/{uuid},{uuid},...`` (at most 10, else 400) answers a collection of the known artists in the
  order asked (unknown uuids left out; 404 "Artist not found" when none is known), billed as one call.
- 7.2 platform codes: the referential's and ``isni`` / ``ipi``; another code is a 400 "Invalid platform code". An
  unknown id is a 404 "No artist found for this platform identifier", not billed. The identifier may be
  percent-encoded (``%2F``) or carry its slashes raw (``youtube-artist`` ids such as ``/g/11abcdefgh``).
- 7.3 ``sortBy`` defaults to ``name``, ``sortOrder`` to ``asc``; ``mainPerformer`` 1 = main performer only, 0 =
  featured only, absent = both. Sort values: ``spotifyStream`` / ``shazamCount`` / ``youtubeViews`` = the song's
  latest audience total there (its ids summed), ``spotifyPopularity`` = its latest Spotify popularity (best id),
  ``soundchartsScore`` = its strength today; a song without a value there counts as 0; a null ``releaseDate``
  sorts last both ways; ties by uuid. ``/api/v2/artist/{uuid}/songs`` = the same items without ``releaseDate``.
- 7.4 platforms: the social list; a known code outside it is a 404 "'x' is not a social platform", an unknown
  code a 400. No account there: 200 with no item (``related.lastCrawlDate`` null), or, for artists with the
  ``no-account-404`` quirk, 404 "No social account found for artist". Windows as the song audience (``endDate``
  defaults to today, ``startDate`` to ``endDate`` - 30 days, at most 90 days apart, else 400). Items oldest first.
  ``related.lastCrawlDate`` = the date of the artist's latest point on that platform (whatever the window).
- 7.5 platforms: the streaming list (404 "not a streaming platform" for another known code); data on spotify and
  pandora (monthly listeners), youtube (views) and audiomack (plays); the other streaming platforms answer 200
  with no item. Same windows and order as 7.4.
- 7.6 platforms: the chart platforms, else 400 "Invalid platform code provided". ``currentOnly`` defaults to 1,
  ``sortBy`` (position | rankDate) to position, ``sortOrder`` to asc (see :func:`.ranks.order`).
"""

from __future__ import annotations

from .artist_views import artist_ref, artist_song_json, artist_v2, artist_v29, day_writer
from .artists import Profile
from .envelope import HttpError, Query, paginate
from .handlers import SEG, Context, date_window
from .params import choice, descending, flag
from .ranks import order
from .reach_views import rank_json
from .referential import AUDIENCE_PLATFORMS, CHART_PLATFORMS, PLATFORMS, STREAMING_PLATFORMS
from .songs import Song

BATCH_MAX = 10
LOOKUP_CODES = (*PLATFORMS, "isni", "ipi")
SONG_SORTS = ("name", "releaseDate", "spotifyStream", "shazamCount", "youtubeViews", "spotifyPopularity",
              "soundchartsScore")
AUDIENCE_SORTS = {"spotifyStream": "spotify", "shazamCount": "shazam", "youtubeViews": "youtube"}


def find_artist(ctx: Context, uuid: str) -> Profile:
    profile = ctx.catalog.profiles.get(uuid)
    if profile is None:
        raise HttpError(404, "Artist not found")
    return profile


def metadata(ctx: Context, query: Query, uuids: str) -> dict:
    if "," not in uuids:
        return {"type": "artist", "object": artist_v29(find_artist(ctx, uuids)), "errors": []}
    asked = [uuid.strip() for uuid in uuids.split(",") if uuid.strip()]
    if len(asked) > BATCH_MAX:
        raise HttpError(400, f"Invalid request: {BATCH_MAX} artists max, got {len(asked)}")
    known = [ctx.catalog.profiles[uuid] for uuid in dict.fromkeys(asked) if uuid in ctx.catalog.profiles]
    if not known:
        raise HttpError(404, "Artist not found")
    return paginate(query, known, convert=artist_v29)


def metadata_legacy(ctx: Context, query: Query, uuid: str) -> dict:
    return {"type": "artist", "object": artist_v2(find_artist(ctx, uuid)), "errors": []}


def by_platform(ctx: Context, query: Query, platform: str, identifier: str) -> dict:
    if platform not in LOOKUP_CODES:
        raise HttpError(400, f"Invalid platform code '{platform[:40]}'")
    profile = ctx.catalog.artist_ids.get((platform, identifier))
    if profile is None:
        raise HttpError(404, "No artist found for this platform identifier", billed=False)
    return {"type": "artist", "object": artist_v29(profile), "errors": []}


def _sort_value(ctx: Context, song: Song, sort_by: str) -> object:
    catalog = ctx.catalog
    if sort_by == "name":
        return song.name.casefold()
    if sort_by == "releaseDate":
        return song.release if song.release_known else None
    if sort_by == "soundchartsScore":
        return song.strength(catalog.today.toordinal())
    kind = "popularity" if sort_by == "spotifyPopularity" else "audience"
    points = catalog.series(song.uuid, AUDIENCE_SORTS.get(sort_by, "spotify"), kind)
    values = [value for _, value in points[0][1]] if points else [0]
    return max(values) if kind == "popularity" else sum(values)


def _songs(ctx: Context, query: Query, uuid: str, with_release: bool) -> dict:
    profile = find_artist(ctx, uuid)
    sort_by, desc = choice(query, "sortBy", SONG_SORTS, "name"), descending(query)
    main = None if query.get("mainPerformer") is None else flag(query, "mainPerformer", True)
    songs = sorted((song for song, is_main in profile.songs if main in (None, is_main)), key=lambda s: s.uuid)
    valued = [(_sort_value(ctx, song, sort_by), song) for song in songs]
    known = sorted(((value, song) for value, song in valued if value is not None), key=lambda pair: pair[0],
                   reverse=desc)
    ordered = [song for _, song in known] + [song for value, song in valued if value is None]
    return paginate(query, ordered, artist_ref(profile.artist), lambda song: artist_song_json(song, with_release))


def songs(ctx: Context, query: Query, uuid: str) -> dict:
    return _songs(ctx, query, uuid, True)


def songs_legacy(ctx: Context, query: Query, uuid: str) -> dict:
    return _songs(ctx, query, uuid, False)


def _platform(platform: str, allowed: tuple[str, ...], kind: str) -> None:
    if platform not in PLATFORMS:
        raise HttpError(400, f"Invalid platform code '{platform[:40]}'")
    if platform not in allowed:
        raise HttpError(404, f"'{platform}' is not a {kind} platform")


def audience(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
    profile = find_artist(ctx, uuid)
    _platform(platform, AUDIENCE_PLATFORMS, "social")
    start, end = date_window(query, ctx.catalog.today)
    if platform not in profile.accounts and "no-account-404" in profile.quirks:
        raise HttpError(404, "No social account found for artist")
    points, when = ctx.catalog.followers(uuid, platform), day_writer(profile)
    items = [{"date": when(day), **counts} for day, counts in points if start <= day <= end]
    related = {"artist": artist_ref(profile.artist), "platform": platform,
               "lastCrawlDate": when(points[-1][0]) if points else None}
    return paginate(query, items, related)


def listening(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
    profile = find_artist(ctx, uuid)
    _platform(platform, STREAMING_PLATFORMS, "streaming")
    start, end = date_window(query, ctx.catalog.today)
    points, when = ctx.catalog.listening(uuid, platform), day_writer(profile)
    items = [{"date": when(day), "value": value} for day, value in points if start <= day <= end]
    related = {"artist": artist_ref(profile.artist), "platform": platform,
               "lastCrawlDate": when(points[-1][0]) if points else None}
    return paginate(query, items, related)


def chart_ranks(ctx: Context, query: Query, uuid: str, platform: str) -> dict:
    profile = find_artist(ctx, uuid)
    if platform not in CHART_PLATFORMS:
        raise HttpError(400, "Invalid platform code provided")
    current_only = flag(query, "currentOnly", True)
    sort_by, desc = choice(query, "sortBy", ("position", "rankDate"), "position"), descending(query)
    items = [item for song, _ in profile.songs for item in ctx.catalog.ranks.of_song(song, platform)
             if item.current or not current_only]
    older = "ranks-older" in profile.quirks
    return paginate(query, order(items, sort_by, desc), artist_ref(profile.artist),
                    lambda item: rank_json(item, with_song=True, older=older))


ROUTES = (
    (rf"/api/v2\.9/artist/by-platform/{SEG}/(.+)", by_platform),
    (rf"/api/v2\.9/artist/{SEG}", metadata),
    (rf"/api/v2/artist/{SEG}", metadata_legacy),
    (rf"/api/v2\.21/artist/{SEG}/songs", songs),
    (rf"/api/v2/artist/{SEG}/songs", songs_legacy),
    (rf"/api/v2/artist/{SEG}/audience/{SEG}", audience),
    (rf"/api/v2/artist/{SEG}/streaming/{SEG}/listening", listening),
    (rf"/api/v2/artist/{SEG}/charts/song/ranks/{SEG}", chart_ranks),
)
