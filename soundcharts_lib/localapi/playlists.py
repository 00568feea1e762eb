"""Playlists per platform and a song's placements on them (8.5).

Each playlist platform (:data:`PLAYLIST_PLATFORMS`) has :data:`PER_PLATFORM` playlists of the contract's types, plus
a "This Is <artist>" playlist for each of the 40 biggest artists. A song is placed only on platforms it has an id
on: currently on a number of playlists growing with its strength today (a hit: hundreds; a quiet song: none or a
few), and formerly (``exitDate`` set) on more. A current placement's ``positionDate`` is its playlist's latest crawl
(``exitDate`` null); a past one's is the day before it left. ``peakPosition`` <= ``position``, and every date lies
between ``entryDate`` and today. Global playlists have ``countryCode`` "" (as recorded), crawl dates are Paris
midnight (``+01:00``/``+02:00``, as recorded). RNG streams: ``Random(f"{seed}:playlists:{platform}")`` for the
playlists and ``Random(f"{seed}:placements:{uuid}:{platform}")`` per song.

Untidy: ``imageUrl`` null on 15% of playlists more (tidy: 5%), ``latestSubscriberCount`` 0 on 5%, a messy name on
8%; songs with the reach quirk ``no-exit-key`` (see :mod:`.song_reach`) serve current placements without an
``exitDate`` key.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from . import untidy as messy
from . import vocab
from .songs import ASSETS, BASE62, Artist, Song, stable_uuid

PLAYLIST_PLATFORMS = ("spotify", "apple-music", "deezer", "youtube")
PLAYLIST_TYPES = ("editorial", "algorithmic", "algotorial", "major", "charts", "curators_listeners", "radios",
                  "this_is")
PER_PLATFORM, THIS_IS_COUNT = 220, 40
TYPE_WEIGHTS = (0.22, 0.12, 0.1, 0.06, 0.06, 0.38, 0.06)  # of the types before "this_is"
PLACES = ("US", "GB", "FR", "DE", "BR", "ES", "MX", "JP", "KR", "SE", "CA", "IT")
NAMES = {
    "editorial": ("Today's Top Hits", "Hot Hits {c}", "New Music Friday {c}", "{g} Rising", "{g} Essentials"),
    "algorithmic": ("Discover Weekly", "Release Radar", "Daily Mix {n}", "{g} Mix", "On Repeat"),
    "algotorial": ("{g} Mix", "Chill {g}", "Workout {g}", "{g} Focus"),
    "major": ("{l} Hits", "Fresh from {l}", "{l} Presents: {g}"),
    "charts": ("Top 50 - {c}", "Viral 50 - {c}", "Top Songs {c}"),
    "curators_listeners": ("{g} vibes", "my {g} playlist", "{g} for the road", "late night {g}", "{g} by {u}"),
    "radios": ("{u} FM", "Radio {c} {g}", "{u} Radio Playlist"),
}


@dataclass(frozen=True, eq=False)
class Playlist:
    uuid: str
    name: str
    identifier: str
    platform: str
    country_code: str  # "" = global
    crawl_date: dt.date
    track_count: int
    subscribers: int
    image_url: str | None
    type: str
    artist_uuid: str | None = None  # the artist of a "this_is" playlist


@dataclass(frozen=True)
class Placement:
    playlist: Playlist
    position: int
    peak_position: int
    entry_date: dt.date
    exit_date: dt.date | None
    position_date: dt.date
    peak_date: dt.date


def _identifier(rng: random.Random, platform: str) -> str:
    if platform == "spotify":
        return "".join(rng.choice(BASE62) for _ in range(22))
    if platform == "apple-music":
        return "pl." + "".join(rng.choice("0123456789abcdef") for _ in range(32))
    if platform == "deezer":
        return str(rng.randint(10**8, 10**10))
    return "PL" + "".join(rng.choice(BASE62 + "-_") for _ in range(32))


def _name(rng: random.Random, kind: str, country: str) -> str:
    return rng.choice(NAMES[kind]).format(c=country or "Global", g=rng.choice(list(vocab.GENRES)).title(),
                                          n=rng.randint(1, 6), l=rng.choice(vocab.LABELS)[0],
                                          u=rng.choice(vocab.FIRST_NAMES["INT"]))


def _playlist(rng: random.Random, seed: int, platform: str, number: int, kind: str, name: str, country: str,
              today: dt.date, tidy: bool, artist: Artist | None = None) -> Playlist:
    uuid = stable_uuid(seed, "playlist", platform, number)
    tidy_no_image, messy_no_image, silent, rename = (rng.random() < share for share in (0.05, 0.15, 0.05, 0.08))
    no_image, silent, rename = tidy_no_image or (messy_no_image and not tidy), silent and not tidy, rename and not tidy
    big = {"editorial": 13.0, "charts": 12.5, "algorithmic": 11.0, "major": 10.0}.get(kind, 7.0)
    return Playlist(
        uuid=uuid, name=messy.messy_name(random.Random(f"{seed}:untidy:playlist:{uuid}"), name,
                                         messy.NAME_KINDS[number % len(messy.NAME_KINDS)]) if rename else name,
        identifier=_identifier(rng, platform), platform=platform, country_code=country,
        crawl_date=today - dt.timedelta(days=rng.randint(0, 6)),
        track_count=rng.choice((50, 100)) if kind == "charts" else rng.randint(15, 350),
        subscribers=0 if silent else int(rng.lognormvariate(big, 1.6)),
        image_url=None if no_image else f"{ASSETS}/playlist/{uuid}.jpg", type=kind,
        artist_uuid=artist.uuid if artist else None)


def build(seed: int, biggest: list[Artist], today: dt.date, tidy: bool) -> dict[str, list[Playlist]]:
    """``{platform: [Playlist]}``; ``biggest`` = the artists who get a "This Is" playlist."""
    out = {}
    for platform in PLAYLIST_PLATFORMS:
        rng = random.Random(f"{seed}:playlists:{platform}")
        lists = []
        for number in range(PER_PLATFORM):
            kind = rng.choices(PLAYLIST_TYPES[:-1], weights=TYPE_WEIGHTS)[0]
            country = "" if rng.random() < 0.4 else rng.choice(PLACES)
            lists.append(_playlist(rng, seed, platform, number, kind, _name(rng, kind, country), country, today,
                                   tidy))
        for number, artist in enumerate(biggest[:THIS_IS_COUNT], start=PER_PLATFORM):
            lists.append(_playlist(rng, seed, platform, number, "this_is", f"This Is {artist.name}", "", today,
                                   tidy, artist))
        out[platform] = lists
    return out


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _placement(rng: random.Random, playlist: Playlist, start: dt.date, today: dt.date, current: bool) -> Placement:
    if current:
        entry = _day_between(rng, start, playlist.crawl_date)
        exit_date, seen = None, playlist.crawl_date
    else:
        entry = _day_between(rng, start, today - dt.timedelta(days=2))
        exit_date = _day_between(rng, entry + dt.timedelta(days=1), today)
        seen = exit_date - dt.timedelta(days=1)
    position = rng.randint(1, playlist.track_count)
    peak = rng.randint(max(1, position // 3), position)
    return Placement(playlist, position, peak, entry, exit_date, seen, _day_between(rng, entry, seen))


def placements(seed: int, song: Song, platform: str, lists: list[Playlist], today: dt.date) -> list[Placement]:
    """Current and past placements of ``song`` on ``platform``, in playlist order."""
    added = [ident.added for ident in song.identifiers_on(platform)]
    if not added or min(added) > today:
        return []
    rng = random.Random(f"{seed}:placements:{song.uuid}:{platform}")
    credited = {artist.uuid for artist in song.artists}
    pool = [p for p in lists if p.artist_uuid is None or p.artist_uuid in credited]
    start = max(song.release, min(added))
    rng.shuffle(pool)
    crawled = [p for p in pool if p.crawl_date >= start]  # a current placement was seen by the latest crawl
    current = min(len(crawled), int(song.strength(today.toordinal()) * 18 * rng.lognormvariate(0.0, 0.5)))
    taken = set(crawled[:current])
    rest = [p for p in pool if p not in taken] if start <= today - dt.timedelta(days=2) else []
    past = min(len(rest), int((current + 2) * rng.uniform(0.2, 1.5)))
    out = [_placement(rng, p, start, today, True) for p in crawled[:current]]
    out += [_placement(rng, p, start, today, False) for p in rest[:past]]
    return sorted(out, key=lambda placement: placement.playlist.uuid)

