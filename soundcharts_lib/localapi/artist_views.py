"""JSON shapes of artists (7.1-7.5), as the contract names them (camelCase)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .artists import Profile
from .songs import Artist, Song
from .timefmt import atom_utc, paris_midnight
from .views import release_date

LATER_KEYS = ("webUrl", "careerStage", "growthLevel", "cityName")  # absent from the older v2.9 key set


def artist_ref(artist: Artist) -> dict:
    """The flat artist of ``related`` (7.3, 7.6) and of ``related.artist`` (7.4, 7.5)."""
    return {"uuid": artist.uuid, "slug": artist.slug, "name": artist.name, "appUrl": artist.app_url,
            "imageUrl": artist.image_url}


def genres_json(profile: Profile) -> list:
    """``[{"root", "sub"}]`` for artists with the ``genre-objects`` quirk, else the DEF's strings (each root, then
    its subgenres)."""
    if "genre-objects" in profile.quirks:
        return [{"root": root, "sub": list(sub)} for root, sub in profile.genres]
    return [name for root, sub in profile.genres for name in (root, *sub)]


def day_writer(profile: Profile) -> Callable[[dt.date], str]:
    """How the artist's audience and listening dates are written."""
    return paris_midnight if "paris-dates" in profile.quirks else atom_utc


def artist_v29(profile: Profile) -> dict:
    """The ``/api/v2.9/artist/{uuid}`` object."""
    body = {**artist_ref(profile.artist), "countryCode": profile.country_code, "webUrl": profile.web_url,
            "genres": genres_json(profile), "biography": profile.biography, "isni": profile.isni,
            "ipi": profile.ipi, "gender": profile.gender, "type": profile.kind,
            "birthDate": atom_utc(profile.birth) if profile.birth else None, "careerStage": profile.career_stage,
            "growthLevel": profile.growth_level, "cityName": profile.city_name}
    if "older-keys" in profile.quirks:
        for key in LATER_KEYS:
            del body[key]
    return body


def artist_v2(profile: Profile) -> dict:
    """The older ``/api/v2/artist/{uuid}`` object."""
    return {**artist_ref(profile.artist), "countryCode": profile.country_code}


def artist_song_json(song: Song, with_release: bool = True) -> dict:
    """An item of an artist's songs; the older ``/api/v2`` list has no ``releaseDate``."""
    body = {"uuid": song.uuid, "name": song.name, "creditName": song.credit_name}
    if with_release:
        body["releaseDate"] = release_date(song)
    return body
