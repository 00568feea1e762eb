"""The roster (watchlist): tracks and artists the user follows, and filters that keep a page to them.

A roster artist brings every stored track credited to them. A UUID may be added before the track or artist is
stored (it matches once a sync stores it). Changes are audited under ``actor`` (default: the admin's name,
:func:`soundcharts_lib.curation.audit.actor_from_env`).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, delete, exists, func, literal, select, union
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from soundcharts_lib.curation import audit
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import TA, WATCH, A, T
from soundcharts_lib.db.upsert import dialect_insert
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.vocab import UUID_RE

KINDS = ("track", "artist")
LABEL_MAX = 500


def check(kind: str, uuid: str) -> tuple[str, str]:
    """``(kind, lower-case uuid)``; ``ConfigError`` (one line) for an unknown kind or a malformed UUID."""
    if kind not in KINDS:
        raise ConfigError(f"roster items are tracks or artists, not {kind!r}")
    if not isinstance(uuid, str) or not UUID_RE.match(uuid):
        raise ConfigError(f"not a SoundCharts UUID: {uuid!r}")
    return kind, uuid.lower()


def stored_name(engine: Engine, kind: str, uuid: str) -> str | None:
    """The stored track's or artist's name (a track with its credit), None when not stored."""
    if kind == "track":
        q = select(T.c.name, T.c.credit_name).where(T.c.uuid == uuid)
    else:
        q = select(A.c.name, literal(None)).where(A.c.uuid == uuid)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    return f"{row[0]} - {row[1]}" if row[1] else row[0]


def add(engine: Engine, kind: str, uuid: str, label: str | None = None, *, actor: str | None = None) -> dict:
    """Follow a track or an artist; adding it again keeps the first entry (``added`` is then False).

    Returns kind, uuid, label, stored (whether the item is in the warehouse yet) and added.
    """
    kind, uuid = check(kind, uuid)
    actor = actor or audit.actor_from_env()
    name = stored_name(engine, kind, uuid)
    label = (label or "").strip()[:LABEL_MAX] or name
    with engine.begin() as conn:
        stmt = dialect_insert(conn, WATCH).values(kind=kind, uuid=uuid, label=label, added_at=utcnow(),
                                              added_by=actor).on_conflict_do_nothing()
        added = conn.execute(stmt.returning(WATCH.c.id)).first() is not None
        label = conn.execute(select(WATCH.c.label).where(WATCH.c.kind == kind, WATCH.c.uuid == uuid)).scalar_one()
    if added:
        audit.record(engine, actor=actor, action="roster.add", target=f"{kind}:{uuid}", outcome="success",
                     details={"label": label})
    return {"kind": kind, "uuid": uuid, "label": label, "stored": name is not None, "added": added}


def remove(engine: Engine, kind: str, uuid: str, *, actor: str | None = None) -> None:
    """Stop following; ``ConfigError`` when the item is not on the roster."""
    kind, uuid = check(kind, uuid)
    with engine.begin() as conn:
        gone = conn.execute(delete(WATCH).where(WATCH.c.kind == kind, WATCH.c.uuid == uuid)).rowcount
    if not gone:
        raise ConfigError(f"{kind} {uuid} is not on the roster")
    audit.record(engine, actor=actor or audit.actor_from_env(), action="roster.remove", target=f"{kind}:{uuid}",
                 outcome="success")


def items(engine: Engine) -> pd.DataFrame:
    """The roster: kind, uuid, label, stored (in the warehouse yet), tracks (stored tracks it brings), added_at,
    added_by; tracks first, then artists, by label."""
    is_track = WATCH.c.kind == "track"
    own = select(func.count()).select_from(T).where(T.c.uuid == WATCH.c.uuid).scalar_subquery()
    credited = (select(func.count()).select_from(TA.join(A, A.c.id == TA.c.artist_id))
                .where(A.c.uuid == WATCH.c.uuid).scalar_subquery())
    artist = select(func.count()).select_from(A).where(A.c.uuid == WATCH.c.uuid).scalar_subquery()
    q = (select(WATCH.c.kind, WATCH.c.uuid, WATCH.c.label, (case((is_track, own), else_=artist) > 0).label("stored"),
                case((is_track, own), else_=credited).label("tracks"), WATCH.c.added_at, WATCH.c.added_by)
         .order_by(WATCH.c.kind.desc(), func.coalesce(WATCH.c.label, WATCH.c.uuid), WATCH.c.uuid))
    with engine.connect() as conn:
        result = conn.execute(q)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frame.astype({"stored": bool, "tracks": int})


def track_ids_query() -> Select:
    """``SELECT track id`` of every stored roster track (its own or by a roster artist), for ``IN`` filters."""
    direct = select(T.c.id.label("track_id")).join(WATCH, (WATCH.c.uuid == T.c.uuid) & (WATCH.c.kind == "track"))
    by_artist = (select(TA.c.track_id).join(A, A.c.id == TA.c.artist_id)
                 .join(WATCH, (WATCH.c.uuid == A.c.uuid) & (WATCH.c.kind == "artist")))
    return select(union(direct, by_artist).subquery().c.track_id)


def artist_ids_query() -> Select:
    """``SELECT artist id`` of every stored roster artist: followed, or credited on a followed track."""
    followed = select(A.c.id.label("artist_id")).join(WATCH, (WATCH.c.uuid == A.c.uuid) & (WATCH.c.kind == "artist"))
    on_tracks = (select(TA.c.artist_id).join(T, T.c.id == TA.c.track_id)
                 .join(WATCH, (WATCH.c.uuid == T.c.uuid) & (WATCH.c.kind == "track")))
    return select(union(followed, on_tracks).subquery().c.artist_id)


def roster_track_ids(engine: Engine) -> set[int]:
    """Stored track ids on the roster (directly or through a roster artist)."""
    with engine.connect() as conn:
        return set(conn.execute(track_ids_query()).scalars())


def roster_track_uuids(engine: Engine) -> list[str]:
    """UUIDs of the stored roster tracks, sorted."""
    q = select(T.c.uuid).where(T.c.id.in_(track_ids_query())).order_by(T.c.uuid)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def has_roster(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(WATCH.c.id).limit(1)).first() is not None


def only_roster(engine: Engine, frame: pd.DataFrame, column: str = "uuid") -> pd.DataFrame:
    """The rows of ``frame`` whose track UUID (``column``) is on the roster, index reset (a dashboard's
    "my roster" filter over any analytics frame with track UUIDs)."""
    return keep_tracks(frame, set(roster_track_uuids(engine)), column)


def keep_tracks(frame: pd.DataFrame, uuids: set[str], column: str = "uuid") -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is in ``uuids``, index reset."""
    return frame[frame[column].isin(uuids)].reset_index(drop=True)


def follow_state(engine: Engine, uuid: str) -> dict:
    """How the roster follows one track: ``roster`` (whether there is a roster at all), ``track`` (the track
    itself is on it) and ``artists`` (names of its credited artists that are on it, in credit order)."""
    uuid = uuid.lower()
    direct = exists().where(WATCH.c.kind == "track", WATCH.c.uuid == uuid)
    artists = (select(A.c.name).select_from(TA.join(A, A.c.id == TA.c.artist_id).join(T, T.c.id == TA.c.track_id))
               .join(WATCH, (WATCH.c.uuid == A.c.uuid) & (WATCH.c.kind == "artist")).where(T.c.uuid == uuid)
               .order_by(TA.c.position, A.c.name))
    with engine.connect() as conn:
        followed, anything = conn.execute(select(direct, select(WATCH.c.id).exists())).one()
        names = list(conn.execute(artists).scalars()) if anything else []
    return {"roster": bool(anything), "track": bool(followed), "artists": names}
