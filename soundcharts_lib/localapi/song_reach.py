"""Song lookups by ISRC (8.2) and by platform id (8.3), and the per-song quirks of the reach endpoints.

- One song, several ISRCs: 30% of the songs with an ISRC have one alternate, 8% two more (same country and year);
  by-ISRC with an alternate answers the song, whose ``isrc`` stays its representative one.
- Blacklisted ISRCs (410 "ISRC Blacklisted due to multiple tracks identified from DSP"): the representative ISRC of
  3% of the songs with one (their by-platform lookups answer 410 as well; their uuid still works), 5% of the
  alternates, and :data:`ORPHANS` ISRCs that belong to no song. Tidy or not: it is the API's behaviour, not mess.
- By-ISRC normalises the query (upper case, dashes and spaces dropped); what is then not 12 ISRC characters, or
  unknown, is a 404 "Song not found".
- By-platform knows every platform id of every song (``isrc`` rows aside), ids that stopped reporting included.
- Untidy quirks (``catalog.lookups.reach[uuid].quirks``): ``ranks-older`` 8%: 8.1 answers in the older spec's shape
  (no ``peakPosition``/``peakDate``, no ``chart.webUrl``, no ``related.imageUrl``); ``no-exit-key`` 10%: 8.5's
  current placements come without an ``exitDate`` key.

RNG streams: ``Random(f"{seed}:reach:{index}")`` per song, ``Random(f"{seed}:reach:orphans")``.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass

from .songs import Song

ORPHANS = 6
ALT_SHARES = (0.3, 0.08)
BLACKLIST_SHARE, ALT_BLACKLIST_SHARE = 0.03, 0.05
UNTIDY_SHARES = {"ranks-older": 0.08, "no-exit-key": 0.1}
ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}\d{7}")


@dataclass(frozen=True)
class Reach:
    alt_isrcs: tuple[str, ...]
    blacklisted: frozenset[str]  # this song's ISRCs (representative or alternate) answered with a 410
    quirks: frozenset[str]


def _isrc(rng: random.Random, country: str, year: str) -> str:
    registrant = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(3))
    return f"{country}{registrant}{year}{rng.randint(0, 99999):05d}"


def _reach(seed: int, song: Song, tidy: bool) -> Reach:
    rng = random.Random(f"{seed}:reach:{song.index}")
    alternates: list[str] = []
    if song.isrc:
        count = 2 if rng.random() < ALT_SHARES[1] else 1 if rng.random() < ALT_SHARES[0] else 0
        alternates = [_isrc(rng, song.isrc[:2], song.isrc[5:7]) for _ in range(count)]
    blacklisted = {isrc for isrc in alternates if rng.random() < ALT_BLACKLIST_SHARE}
    if song.isrc and rng.random() < BLACKLIST_SHARE:
        blacklisted.add(song.isrc)
    quirks = {name for name, share in UNTIDY_SHARES.items() if rng.random() < share}
    return Reach(tuple(alternates), frozenset(blacklisted), frozenset() if tidy else frozenset(quirks))


def normalise_isrc(raw: str) -> str:
    return raw.upper().replace("-", "").replace(" ", "")


class Lookups:
    """``reach`` per song uuid, the ISRC index (``isrcs``, ``blacklist``, ``orphans``) and ``song_ids``
    (``(platform, identifier) -> Song``)."""

    def __init__(self, seed: int, songs: list[Song], tidy: bool):
        self.reach = {song.uuid: _reach(seed, song, tidy) for song in songs}
        rng = random.Random(f"{seed}:reach:orphans")
        self.orphans = tuple(_isrc(rng, rng.choice(("US", "GB", "FR")), f"{rng.randint(0, 25):02d}")
                             for _ in range(ORPHANS))
        self.blacklist = set(self.orphans).union(*(reach.blacklisted for reach in self.reach.values()))
        self.isrcs: dict[str, Song] = {}
        self.song_ids: dict[tuple[str, str], Song] = {}
        for song in songs:
            for isrc in (song.isrc, *self.reach[song.uuid].alt_isrcs):
                if isrc:
                    self.isrcs.setdefault(isrc, song)
            for ident in song.identifiers:
                if ident.platform != "isrc":
                    self.song_ids.setdefault((ident.platform, ident.identifier), song)

    def by_isrc(self, raw: str) -> tuple[Song | None, bool]:
        """``(song or None, blacklisted)`` for a by-ISRC query."""
        isrc = normalise_isrc(raw)
        if not ISRC.fullmatch(isrc):
            return None, False
        return self.isrcs.get(isrc), isrc in self.blacklist

    def by_platform(self, platform: str, identifier: str) -> tuple[Song | None, bool]:
        """``(song or None, its representative ISRC is blacklisted)`` for a by-platform query."""
        song = self.song_ids.get((platform, identifier))
        return song, bool(song and song.isrc in self.blacklist)
