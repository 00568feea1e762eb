"""Writes for track metadata: the track's fields, its artists and its platform identifiers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from soundcharts_lib.api.payloads import Identifier, Song
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import TA, TPI, A, T
from soundcharts_lib.db.upsert import id_map, misfit, upsert
from soundcharts_lib.errors import PayloadError


def _rows(song: Song, identifiers: Sequence[Identifier]) -> tuple[dict, list[dict], list[dict]]:
    """The song's track row, its artists' rows and its identifiers' rows (without their track id)."""
    track = {"uuid": song.uuid, "name": song.name, "credit_name": song.credit_name, "isrc": song.isrc,
             "release_date": song.release_date, "image_url": song.image_url, "duration": song.duration,
             "explicit": song.explicit, "genres": list(song.genres), "labels": list(song.labels)}
    artists = [{"uuid": a.uuid, "slug": a.slug, "name": a.name, "app_url": a.app_url, "image_url": a.image_url}
               for a in song.artists]
    idents = [{"platform_code": i.platform_code, "identifier": i.identifier, "url": i.url, "is_default": i.default}
              for i in identifiers]
    return track, artists, idents


def check_song(track: dict, artists: Sequence[dict], identifiers: Sequence[dict]) -> None:
    """``PayloadError`` naming the first field the tables cannot hold as sent (a text longer than its column or with a
    NUL character, a number beyond its column's range): the song then fails alone, before any write."""
    rows = [("object", T, track), *((f"object.artists[{i}]", A, a) for i, a in enumerate(artists)),
            *((f"identifiers.items[{i}]", TPI, r) for i, r in enumerate(identifiers))]
    for path, table, row in rows:
        problem = misfit(table, row)
        if problem:
            raise PayloadError(f"the metadata of {track['uuid']} cannot be stored: {path}.{problem}", field=path)


def store_song(engine: Engine, song: Song, identifiers: Sequence[Identifier]) -> None:
    """Store one song's metadata, artists and identifiers in one transaction (re-running changes nothing);
    ``PayloadError`` before any write when the tables cannot hold them (see :func:`check_song`)."""
    track, artists, idents = _rows(song, identifiers)
    check_song(track, artists, idents)
    with engine.begin() as conn:
        upsert(conn, T, [track], ["uuid"])
        track_id = conn.execute(select(T.c.id).where(T.c.uuid == song.uuid)).scalar_one()
        upsert(conn, A, artists, ["uuid"])
        artist_ids = id_map(conn, A, "uuid", [a.uuid for a in song.artists])
        conn.execute(TA.delete().where(TA.c.track_id == track_id,
                                                   TA.c.artist_id.not_in(list(artist_ids.values()))))
        upsert(conn, TA, [{"track_id": track_id, "artist_id": artist_ids[a.uuid], "position": i}
                                      for i, a in enumerate(song.artists)], ["track_id", "artist_id"])
        upsert(conn, TPI, [{"track_id": track_id, **row} for row in idents],
               ["track_id", "platform_code", "identifier"])
        conn.execute(update(T).where(T.c.id == track_id).values(metadata_fetched_at=utcnow()))


def track_uuids(engine: Engine, *, missing_only: bool) -> list[str]:
    """Every track's UUID, or only those whose metadata was never fetched; oldest first."""
    q = select(T.c.uuid).order_by(T.c.first_seen_at, T.c.id)
    if missing_only:
        q = q.where(T.c.metadata_fetched_at.is_(None))
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())
