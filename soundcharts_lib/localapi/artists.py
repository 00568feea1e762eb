"""Artists as the artist endpoints serve them: profiles (7.1 metadata, 7.2 platform ids, 7.4/7.5 accounts), their
songs (7.3), and the songs of the artists no chart song credits.

Every artist of ``catalog.artists`` is served: the ones credited on the chart songs (``catalog.song_list``) and the
others, who get 1-4 songs of their own (``catalog.extra_songs``: never in any chart's song pool, quieter than chart
songs) or, for about one in five of them, no song at all. Each profile draws from its own RNG stream
(``random.Random(f"{seed}:profile:{index}")``), the extra songs from the song streams past the chart songs, so
nothing served before the artist endpoints changes.

``level`` is the artist's Spotify follower count when the served history starts; the other platforms scale it.
``careerStage`` follows the level (Superstar / Mainstream / Developing / Long-tail, the help-center labels) and
``growthLevel`` the change of the artist's song strength over the last 28 days (Explosive / High / Moderate /
Average growth / Decline).

Untidy (the default; each per artist, independent): ``countryCode`` "" 12% more (tidy: 4%); ``genres`` as
``[{"root", "sub"}]`` objects 50% (tidy: the DEF's ``[str]``, each root followed by its subgenres), ``[]`` 8% more;
``biography`` "" 10%; ``cityName`` "" 10%; the older key set (``older-keys`` 15%: no ``webUrl``, ``careerStage``,
``growthLevel``, ``cityName``); ``careerStage`` and ``growthLevel`` null 15%; ``no-account-404`` 50%: a platform
without an account answers 404 "No social account found for artist" (else, and always when tidy, 200 with no item);
``paris-dates`` 30%: audience and listening dates at Paris midnight (``+01:00``/``+02:00``) instead of
``T00:00:00+00:00``; ``ranks-older`` 10%: chart entries (7.6) without ``peakPosition``/``peakDate`` and
``chart.webUrl``, as the older spec. The song quirk ``popularity-flat`` (40% of the extra songs) serves
popularity items as ``{date, value}``. Tests find each through ``catalog.profiles[uuid].quirks`` and ``song.quirks``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from dataclasses import dataclass, replace

from . import untidy, vocab
from .referential import COUNTRIES
from .songs import BASE62, SONG_COUNT, Artist, Song, build_song

MAX_LEVEL = 60_000_000  # Spotify followers at the start of the history: the biggest artists
EXTRA_SONG_SCALE = (0.03, 0.06)  # base and hype of an extra song, relative to a chart song's draw
SOCIAL_ACCOUNTS = {"spotify": 0.98, "youtube": 0.85, "instagram": 0.85, "tiktok": 0.6, "soundcloud": 0.45,
                   "shazam": 0.75}
PLATFORM_SCALE = {"spotify": 1.0, "youtube": 0.35, "instagram": 0.8, "tiktok": 0.5, "soundcloud": 0.06,
                  "shazam": 0.03}
OTHER_IDS = {"apple-music": 0.85, "deezer": 0.8, "tidal": 0.6}
LISTENING = {"pandora": 0.35, "audiomack": 0.3}  # shares of artists with data there (spotify, youtube: accounts)
CAREER_STAGES = (("Superstar", 5_000_000), ("Mainstream", 500_000), ("Developing", 20_000), ("Long-tail", 0))
GROWTH_LEVELS = (("Explosive", 1.6), ("High", 1.2), ("Moderate", 1.05), ("Average growth", 0.95), ("Decline", 0.0))
MARKET_COUNTRIES = {"INT": ("US", "US", "GB", "CA", "SE"), "FR": ("FR",), "DE": ("DE",), "BR": ("BR",),
                    "LATIN": ("ES", "MX"), "JP": ("JP",), "KR": ("KR",)}
CITIES = {"US": ("Los Angeles", "Atlanta", "New York"), "GB": ("London", "Manchester"), "CA": ("Toronto",),
          "SE": ("Stockholm",), "FR": ("Paris", "Marseille", "Lyon"), "DE": ("Berlin", "Hamburg"),
          "BR": ("São Paulo", "Rio de Janeiro"), "ES": ("Madrid", "Barcelona"), "MX": ("Ciudad de México",),
          "JP": ("Tokyo", "Osaka"), "KR": ("Seoul", "Busan")}
GROUP_SLUGS = {"bts", "maneskin"}
BAND_NOUNS = {noun.lower() for noun in vocab.BAND_NOUNS}
UNTIDY_SHARES = {"blank-country": 0.12, "genre-objects": 0.5, "no-genres": 0.08, "blank-biography": 0.1,
                 "blank-city": 0.1, "older-keys": 0.15, "no-stage": 0.15, "no-account-404": 0.5, "paris-dates": 0.3,
                 "ranks-older": 0.1}


@dataclass(frozen=True, eq=False)
class Profile:
    """What the artist endpoints serve about one artist beyond :class:`~.songs.Artist`."""

    artist: Artist
    index: int
    country_code: str  # "" = unknown
    city_name: str | None
    genres: tuple[tuple[str, tuple[str, ...]], ...]
    biography: str | None
    isni: str | None
    ipi: str | None
    gender: str | None
    kind: str | None  # "person" / "group"
    birth: dt.date | None
    web_url: str | None
    career_stage: str | None
    growth_level: str | None
    level: float
    since: dt.date  # first day the artist has audience data
    accounts: tuple[str, ...]  # social platforms with an account (7.4)
    listening: tuple[str, ...]  # streaming platforms with listening data (7.5)
    identifiers: tuple[tuple[str, str], ...]  # (platform code, id), ISNI and IPI as "isni" / "ipi"
    songs: tuple[tuple[Song, bool], ...]  # (song, is the main performer)
    quirks: frozenset[str] = frozenset()

    @property
    def uuid(self) -> str:
        return self.artist.uuid

    def strength(self, ordinal: int) -> float:
        """The artist's pull on the day of ordinal ``ordinal``: its songs' strengths, featured ones at 40%."""
        return sum(song.strength(ordinal) * (1.0 if main else 0.4) for song, main in self.songs)


def _is_group(slug: str) -> bool:
    """From the slug, which keeps the tidy name: "the-...", "...-tigers" and the fixed bands."""
    return slug in GROUP_SLUGS or slug.startswith("the-") or slug.split("-")[-1] in BAND_NOUNS


def _handle(rng: random.Random, artist: Artist) -> str:
    base = artist.slug.replace("-", rng.choice(("", "_", "."))) or f"artist{rng.randint(100, 999)}"
    return base + rng.choice(("", "", "official", f"{rng.randint(1, 99)}"))


def _identifiers(rng: random.Random, artist: Artist, accounts: tuple[str, ...]) -> list[tuple[str, str]]:
    """Platform ids: one per account, Apple/Deezer/Tidal for most, a Google knowledge-graph id (with slashes)
    beside half of the YouTube channels."""
    makers = {
        "spotify": lambda: "".join(rng.choice(BASE62) for _ in range(22)),
        "youtube": lambda: "UC" + "".join(rng.choice(BASE62 + "-_") for _ in range(22)),
        "instagram": lambda: _handle(rng, artist), "tiktok": lambda: _handle(rng, artist),
        "soundcloud": lambda: artist.slug or f"user-{rng.randint(10**6, 10**7)}",
        "shazam": lambda: str(rng.randint(10**5, 10**9)),
        "apple-music": lambda: str(rng.randint(10**8, 2 * 10**9)), "deezer": lambda: str(rng.randint(10**3, 10**8)),
        "tidal": lambda: str(rng.randint(10**6, 10**8)),
    }
    ids = [(platform, makers[platform]()) for platform in accounts]
    ids += [(platform, makers[platform]()) for platform, share in OTHER_IDS.items() if rng.random() < share]
    if "youtube" in accounts and rng.random() < 0.5:
        ids.append(("youtube-artist", "/g/11" + "".join(rng.choice(string.ascii_lowercase + string.digits)
                                                        for _ in range(8))))
    return ids


def _stage(level: float) -> str:
    return next(name for name, floor in CAREER_STAGES if level >= floor)


def _growth(songs: tuple[tuple[Song, bool], ...], today: dt.date) -> str:
    def pull(day: dt.date) -> float:
        return sum(song.strength(day.toordinal()) * (1.0 if main else 0.4) for song, main in songs)

    now, before = pull(today), pull(today - dt.timedelta(days=28))
    ratio = now / before if before else (2.0 if now else 1.0)
    return next(name for name, floor in GROWTH_LEVELS if ratio >= floor)


def _profile(seed: int, index: int, artist: Artist, songs: tuple[tuple[Song, bool], ...], today: dt.date,
             history_days: int, tidy: bool) -> Profile:
    rng = random.Random(f"{seed}:profile:{index}")
    drawn = {name for name, share in UNTIDY_SHARES.items() if rng.random() < share}
    quirks = set() if tidy else drawn  # drawn either way: the tidy profile is the untidy one without the mess
    charting, fixed = any(song.index < SONG_COUNT for song, _ in songs), index < len(vocab.FIXED_ARTISTS)
    pull = sum((song.base + song.hype) * (1.0 if main else 0.4) for song, main in songs)
    level = math.exp(rng.gauss(9.3, 1.2)) * (1 + pull) ** 1.5 if charting else math.exp(rng.gauss(4.5, 2.0))
    level = min(MAX_LEVEL, level * (20 if fixed else 1))
    group = _is_group(artist.slug)
    home, unknown, known_city = rng.choice(MARKET_COUNTRIES[artist.market]), rng.random() < 0.04, rng.random() < 0.6
    city = rng.choice(CITIES[home]) if known_city and not unknown else None  # an untidy "" country keeps its city
    country = "" if unknown or "blank-country" in quirks else home
    roots = rng.sample(vocab.MARKET_GENRES[artist.market], k=rng.randint(1, 2))
    genres = tuple((root, tuple(rng.sample(vocab.GENRES[root], k=rng.randint(0, 2)))) for root in roots)
    if rng.random() < 0.04 or "no-genres" in quirks:
        genres = ()
    what = "band" if group else "artist"
    where = f" from {COUNTRIES[country]}" if country else ""
    biography = (f"{artist.name} is a {genres[0][0] if genres else 'music'} {what}{where}."
                 if rng.random() < 0.7 else None)
    accounts = tuple(platform for platform, share in SOCIAL_ACCOUNTS.items()
                     if fixed or rng.random() < share)  # the big names have an account everywhere
    listening = tuple(platform for platform in ("spotify", "youtube") if platform in accounts) + tuple(
        platform for platform, share in LISTENING.items() if rng.random() < share)
    isni = "000000" + "".join(rng.choice(string.digits) for _ in range(9)) + rng.choice(string.digits + "X") \
        if rng.random() < 0.55 else None
    ipi = str(rng.randint(10**8, 10**11 - 1)) if rng.random() < 0.45 else None
    identifiers = _identifiers(rng, artist, accounts) + [(code, value) for code, value in (("isni", isni),
                                                                                          ("ipi", ipi)) if value]
    first_release = min((song.release for song, _ in songs), default=today)
    since = first_release - dt.timedelta(days=rng.randint(0, 400)) if charting else \
        today - dt.timedelta(days=rng.randint(20, history_days + 200))
    return Profile(
        artist=artist, index=index, country_code=country,
        city_name="" if "blank-city" in quirks else city, genres=genres,
        biography="" if "blank-biography" in quirks else biography,
        isni=isni, ipi=ipi,
        gender=rng.choice(("mixed", "male", "female", None)) if group else rng.choice(("male", "female")),
        kind="group" if group else "person" if rng.random() < 0.95 else None,
        birth=None if group or rng.random() < 0.2 else dt.date(rng.randint(1965, 2006), rng.randint(1, 12),
                                                                rng.randint(1, 28)),
        web_url=f"https://www.{artist.slug or 'artist'}.com" if rng.random() < 0.5 else None,
        career_stage=None if "no-stage" in quirks else _stage(level),
        growth_level=None if "no-stage" in quirks else _growth(songs, today),
        level=level, since=since, accounts=accounts, listening=listening,
        identifiers=tuple(identifiers), songs=songs, quirks=frozenset(quirks))


def extra_songs(seed: int, artists: list[Artist], chart_songs: list[Song], today: dt.date, history_days: int,
                tidy: bool) -> list[Song]:
    """Songs of the artists no chart song credits (4 in 5 of them get 1-4), numbered after the chart songs."""
    credited = {artist.uuid for song in chart_songs for artist in song.artists}
    out: list[Song] = []
    for position, artist in enumerate(artists):
        rng = random.Random(f"{seed}:extra-songs:{position}")
        if artist.uuid in credited or rng.random() < 0.2:
            continue
        for _ in range(rng.randint(1, 4)):
            index = SONG_COUNT + len(out)
            song = build_song(seed, index, artists, today, history_days, main=artist)
            song = replace(song, base=song.base * EXTRA_SONG_SCALE[0], hype=song.hype * EXTRA_SONG_SCALE[1])
            if not tidy:
                song = untidy.song(seed, song, today)
                if rng.random() < 0.4:
                    song = replace(song, quirks=song.quirks | {"popularity-flat"})
            out.append(song)
    return out


def build_profiles(seed: int, artists: list[Artist], songs: list[Song], today: dt.date, history_days: int,
                   tidy: bool) -> dict[str, Profile]:
    """``{uuid: Profile}`` of every artist, in ``artists`` order."""
    credits: dict[str, list[tuple[Song, bool]]] = {artist.uuid: [] for artist in artists}
    for song in songs:
        for position, artist in enumerate(song.artists):
            credits[artist.uuid].append((song, position == 0))
    return {artist.uuid: _profile(seed, index, artist, tuple(credits[artist.uuid]), today, history_days, tidy)
            for index, artist in enumerate(artists)}
