"""Artists, songs and their platform identifiers, generated deterministically from the seed.

Each song draws from its own RNG stream (``random.Random(f"{seed}:song:{index}")``), so one song's
attributes never shift another's. A song's chart/audience strength on a day is :meth:`Song.strength`:
an evergreen base plus a release "hype" that ramps up for ``rise`` days and decays with ``tau``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import string
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from . import vocab
from .referential import COUNTRIES

SONG_COUNT = 600
ARTIST_COUNT = 260
APP = "https://app.soundcharts.com/app"
ASSETS = "https://assets.soundcharts.com"


@dataclass(frozen=True, eq=False)
class Artist:
    uuid: str
    slug: str
    name: str
    market: str
    image_url: str | None

    @property
    def app_url(self) -> str:
        return f"{APP}/artist/{self.slug}/overview"


@dataclass(frozen=True, eq=False)
class Identifier:
    """One id of a song on a platform; ``added`` = first day SoundCharts has data for it, ``until`` = the last
    (``None``: still reporting)."""

    platform: str
    identifier: str
    url: str | None
    default: bool
    added: dt.date
    until: dt.date | None = None


@dataclass(frozen=True, eq=False)
class Song:
    index: int
    uuid: str
    name: str
    artists: tuple[Artist, ...]
    market: str
    release: dt.date
    release_known: bool
    isrc: str | None
    iswcs: tuple[str, ...]
    copyright: str
    image_url: str | None
    duration: int | None
    explicit: bool
    genres: tuple[tuple[str, tuple[str, ...]], ...]
    composers: tuple[str, ...]
    producers: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    audio: tuple[tuple[str, float | int], ...] | None
    base: float
    hype: float
    rise: int
    tau: float
    identifiers: tuple[Identifier, ...]
    quirks: frozenset[str] = frozenset()  # what :mod:`.untidy` did to the song beyond its fields' values
    outages: tuple[tuple[str, dt.date, dt.date], ...] = ()  # (platform, first, last day) without data

    @property
    def credit_name(self) -> str:
        return " & ".join(artist.name for artist in self.artists)

    @property
    def app_url(self) -> str:
        return f"{APP}/song/{self.uuid}/overview"

    @cached_property
    def release_ordinal(self) -> int:
        return self.release.toordinal()

    def strength(self, day: int) -> float:
        """Popularity on the day of ordinal ``day`` (``date.toordinal()``); 0 before release."""
        age = day - self.release_ordinal
        if age < 0:
            return 0.0
        ramp = min(1.0, (age + 1) / self.rise)
        return self.base + self.hype * ramp * math.exp(-max(0, age - self.rise) / self.tau)

    def identifiers_on(self, platform: str) -> list[Identifier]:
        return [ident for ident in self.identifiers if ident.platform == platform]


def stable_uuid(*parts: object) -> str:
    """A UUID-shaped id derived from ``parts`` (same parts, same id)."""
    digest = hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_text).split()
    return "-".join(words)


def _pick_market(rng: random.Random) -> str:
    return rng.choices(list(vocab.MARKETS), weights=[w for w, _ in vocab.MARKETS.values()])[0]


def _person(rng: random.Random, market: str) -> str:
    return f"{rng.choice(vocab.FIRST_NAMES[market])} {rng.choice(vocab.LAST_NAMES[market])}"


def _artist_name(rng: random.Random, market: str) -> str:
    roll = rng.random()
    if roll < 0.55:
        return _person(rng, market)
    if roll < 0.8:
        prefix = "The " if rng.random() < 0.5 else ""
        return f"{prefix}{rng.choice(vocab.BAND_WORDS)} {rng.choice(vocab.BAND_NOUNS)}"
    return rng.choice(("Lil ", "DJ ", "MC ", "")) + rng.choice(vocab.FIRST_NAMES[market]).upper()


def build_artists(seed: int) -> list[Artist]:
    rng = random.Random(f"{seed}:artists")
    named = list(vocab.FIXED_ARTISTS)
    seen = {name for name, _ in named}
    while len(named) < ARTIST_COUNT:
        market = _pick_market(rng)
        name = _artist_name(rng, market)
        if name not in seen:
            seen.add(name)
            named.append((name, market))
    artists, slugs = [], set()
    for index, (name, market) in enumerate(named):
        slug = slugify(name) or f"artist-{index}"
        while slug in slugs:
            slug += "-2"
        slugs.add(slug)
        uuid = stable_uuid(seed, "artist", index)
        image = f"{ASSETS}/artist/{uuid}.jpg" if rng.random() < 0.93 else None
        artists.append(Artist(uuid, slug, name, market, image))
    return artists


def _title(rng: random.Random, market: str) -> str:
    if market in vocab.LOCAL_TITLES and rng.random() < 0.35:
        return rng.choice(vocab.LOCAL_TITLES[market])
    form = rng.choice(vocab.TITLE_FORMS)
    return form.format(a=rng.choice(vocab.TITLE_ADJ), n=rng.choice(vocab.TITLE_NOUN),
                       n2=rng.choice(vocab.TITLE_NOUN))


def _digits(rng: random.Random, count: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(count - 1))


def _chars(rng: random.Random, count: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


BASE62 = string.ascii_letters + string.digits
# platform -> (probability the song is there, max ids, id maker, url maker)
ID_SPECS = {
    "spotify": (0.95, 3, lambda r: _chars(r, 22, BASE62), "https://open.spotify.com/track/{}"),
    "apple-music": (0.88, 2, lambda r: _digits(r, 10, "1"), "https://music.apple.com/us/song/{}"),
    "deezer": (0.85, 2, lambda r: _digits(r, r.randint(7, 10)), "https://www.deezer.com/track/{}"),
    "youtube": (0.9, 2, lambda r: _chars(r, 11, BASE62 + "-_"), "https://www.youtube.com/watch?v={}"),
    "tiktok": (0.6, 1, lambda r: _digits(r, 19, "67"), "https://www.tiktok.com/music/-{}"),
    "shazam": (0.8, 1, lambda r: _digits(r, 9), "https://www.shazam.com/track/{}"),
    "soundcloud": (0.45, 1, lambda r: _digits(r, 10, "12"), None),
    "instagram": (0.4, 1, lambda r: _digits(r, 16), None),
    "tidal": (0.65, 2, lambda r: _digits(r, 9), "https://tidal.com/browse/track/{}"),
}


def _identifiers(rng: random.Random, release: dt.date, today: dt.date, isrc: str | None) -> list[Identifier]:
    """Ids per platform: the first (the single) is the default; album/compilation ids come later."""
    out: list[Identifier] = []
    for platform, (chance, most, make, url) in ID_SPECS.items():
        if rng.random() >= chance:
            continue
        days = [0] + [rng.randint(0, 300) for _ in range(rng.randint(1, most) - 1)]
        values = [make(rng) for _ in days]
        group = [Identifier(platform, value, url.format(value) if url else None, k == 0,
                            release + dt.timedelta(days=delay))
                 for k, (value, delay) in enumerate(zip(values, days, strict=True))
                 if release + dt.timedelta(days=delay) <= today]
        rng.shuffle(group)
        out.extend(group)
    if isrc:
        out.append(Identifier("isrc", isrc, f"https://open.spotify.com/search/isrc:{isrc}", True, release))
    return out


def _audio(rng: random.Random) -> tuple[tuple[str, float | int], ...]:
    unit = ("acousticness", "danceability", "energy", "instrumentalness", "liveness")
    return (*((name, round(rng.random(), 3)) for name in unit),
            ("loudness", round(rng.uniform(-14.0, -2.0), 3)),
            ("speechiness", round(rng.uniform(0.02, 0.4), 3)),
            ("tempo", round(rng.uniform(68.0, 182.0), 3)), ("valence", round(rng.random(), 3)),
            ("key", rng.randint(-1, 11)), ("mode", rng.randint(0, 1)),
            ("timeSignature", rng.choice((3, 4, 4, 4))))


def _genres(rng: random.Random, market: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    roots = rng.sample(vocab.MARKET_GENRES[market], k=1 if rng.random() < 0.8 else 2)
    return tuple((root, tuple(rng.sample(vocab.GENRES[root], k=rng.randint(0, 2)))) for root in roots)


def build_song(seed: int, index: int, artists: list[Artist], today: dt.date, history_days: int,
               main: Artist | None = None) -> Song:
    """Song ``index``; its main artist is drawn from ``artists`` unless ``main`` is given."""
    rng = random.Random(f"{seed}:song:{index}")
    fixed = len(vocab.FIXED_ARTISTS)
    if main is not None:
        market = main.market
    else:
        market = artists[index % fixed].market if index < 2 * fixed else _pick_market(rng)
    pool = [a for a in artists if a.market == market]
    if main is None and index < 2 * fixed:  # the non-ASCII fixed artists always have songs
        main = artists[index % fixed]
    elif main is None:  # a few prolific artists per market, a long tail of others
        main = rng.choices(pool, weights=[1 / (rank + 2) for rank in range(len(pool))])[0]
    credited = [main]
    if rng.random() < 0.2:
        other = rng.choice(pool if rng.random() < 0.6 else artists)
        if other is not main:
            credited.append(other)
    recent = rng.random() < 0.45
    age = rng.randint(0, history_days + 30) if recent else rng.randint(history_days + 31, history_days + 4000)
    release = today - dt.timedelta(days=age)
    uuid = stable_uuid(seed, "song", index)
    isrc = None
    if rng.random() < 0.95:
        country = rng.choice(vocab.MARKETS[market][1])
        isrc = f"{country}{_chars(rng, 3, string.ascii_uppercase + string.digits)}{release.year % 100:02d}" \
               f"{_digits(rng, 5, string.digits)}"
    labels = tuple(rng.sample(vocab.LABELS, k=1 if rng.random() < 0.85 else 2))
    return Song(
        index=index, uuid=uuid, name=_title(rng, market), artists=tuple(credited), market=market,
        release=release, release_known=rng.random() < 0.98, isrc=isrc,
        iswcs=tuple(f"T-{_digits(rng, 9, string.digits)}-{rng.randint(0, 9)}"
                    for _ in range(rng.choice((0, 0, 1, 1, 1, 2)))),
        copyright=f"℗ {release.year} {labels[0][0]}" if rng.random() < 0.85 else "",
        image_url=f"{ASSETS}/song/{uuid}.jpg" if rng.random() < 0.94 else None,
        duration=rng.randint(105, 330) if rng.random() < 0.98 else None,
        explicit=rng.random() < 0.25,
        genres=_genres(rng, market) if rng.random() < 0.9 else (),
        composers=tuple(_person(rng, market) for _ in range(rng.randint(0, 3))),
        producers=tuple(_person(rng, market) for _ in range(rng.randint(0, 2))),
        labels=labels,
        audio=_audio(rng) if rng.random() < 0.92 else None,
        base=rng.lognormvariate(-1.3, 1.0),
        hype=rng.lognormvariate(0.2, 0.9),
        rise=rng.randint(1, 21),
        tau=rng.uniform(15.0, 160.0),
        identifiers=tuple(_identifiers(rng, release, today, isrc)),
    )


def isrc_country(isrc: str) -> tuple[str, str]:
    return isrc[:2], COUNTRIES.get(isrc[:2], isrc[:2])
