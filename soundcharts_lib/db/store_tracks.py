"""Writes for track metadata: the track's fields, its artists and its platform identifiers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..payloads import Identifier, Song
from .models import Artist, Track, TrackArtist, TrackPlatformIdentifier, utcnow
from .upsert import id_map, upsert

TRACK_T = Track.__table__
ARTIST_T = Artist.__table__
TRACK_ARTIST_T = TrackArtist.__table__
IDENT_T = TrackPlatformIdentifier.__table__


def store_song(engine: Engine, song: Song, identifiers: Sequence[Identifier]) -> None:
    """Store one song's metadata, artists and identifiers in one transaction (re-running changes nothing)."""
    with engine.begin() as conn:
        upsert(conn, TRACK_T, [{"uuid": song.uuid, "name": song.name, "credit_name": song.credit_name,
                                "isrc": song.isrc, "release_date": song.release_date, "image_url": song.image_url,
                                "duration": song.duration, "explicit": song.explicit, "genres": list(song.genres),
                                "labels": list(song.labels)}], ["uuid"])
        track_id = conn.execute(select(TRACK_T.c.id).where(TRACK_T.c.uuid == song.uuid)).scalar_one()
        upsert(conn, ARTIST_T, [{"uuid": a.uuid, "slug": a.slug, "name": a.name, "app_url": a.app_url,
                                 "image_url": a.image_url} for a in song.artists], ["uuid"])
        artist_ids = id_map(conn, ARTIST_T, "uuid", [a.uuid for a in song.artists])
        conn.execute(TRACK_ARTIST_T.delete().where(TRACK_ARTIST_T.c.track_id == track_id,
                                                   TRACK_ARTIST_T.c.artist_id.not_in(list(artist_ids.values()))))
        upsert(conn, TRACK_ARTIST_T, [{"track_id": track_id, "artist_id": artist_ids[a.uuid], "position": i}
                                      for i, a in enumerate(song.artists)], ["track_id", "artist_id"])
        upsert(conn, IDENT_T, [{"track_id": track_id, "platform_code": i.platform_code, "identifier": i.identifier,
                                "url": i.url, "is_default": i.default} for i in identifiers],
               ["track_id", "platform_code", "identifier"])
        conn.execute(update(TRACK_T).where(TRACK_T.c.id == track_id).values(metadata_fetched_at=utcnow()))


def track_uuids(engine: Engine, *, missing_only: bool) -> list[str]:
    """Every track's UUID, or only those whose metadata was never fetched; oldest first."""
    q = select(TRACK_T.c.uuid).order_by(TRACK_T.c.first_seen_at, TRACK_T.c.id)
    if missing_only:
        q = q.where(TRACK_T.c.metadata_fetched_at.is_(None))
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())
