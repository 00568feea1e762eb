"""Annotations: dated notes on a track (a release, a campaign, a playlist add) drawn on its charts.

Writes are audited under ``actor`` (default: :func:`soundcharts_lib.curation.audit.actor_from_env`).
``ui.annotations`` draws them on a track's figures.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from soundcharts_lib.curation import audit
from soundcharts_lib.curation.roster import check
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import N, T
from soundcharts_lib.errors import ConfigError

SUGGESTED_KINDS = ("release", "campaign", "playlist", "press", "note")
KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
TEXT_MAX = 1000
COLUMNS = ["id", "date", "kind", "text", "created_at", "created_by"]


def add(engine: Engine, uuid: str, on: date, text: str, kind: str = "note", *, actor: str | None = None) -> int:
    """Note ``text`` on a stored track at ``on``; its id. ``ConfigError`` (one line) for an unknown track, an
    empty or too long text, or a kind that is not a short lower-case word."""
    _kind, uuid = check("track", uuid)
    actor = actor or audit.actor_from_env()
    if not isinstance(on, date):
        raise ConfigError(f"an annotation's date must be a date, got {on!r}")
    if not KIND_RE.match(kind or ""):
        raise ConfigError(f"annotation kind must be a short lower-case word (e.g. {', '.join(SUGGESTED_KINDS)}), "
                          f"got {kind!r}")
    text = (text or "").strip()
    if not text or len(text) > TEXT_MAX:
        raise ConfigError(f"annotation text must be 1 to {TEXT_MAX} characters, got {len(text)}")
    with engine.begin() as conn:
        track_id = conn.execute(select(T.c.id).where(T.c.uuid == uuid)).scalar()
        if track_id is None:
            raise ConfigError(f"no track {uuid} is stored (sync its charts or fetch its audience first)")
        new_id = conn.execute(N.insert().values(track_id=track_id, date=on, kind=kind, text=text,
                                                created_at=utcnow(), created_by=actor)
                              .returning(N.c.id)).scalar_one()
    audit.record(engine, actor=actor, action="annotation.add", target=f"track:{uuid}", outcome="success",
                 details={"id": new_id, "date": on.isoformat(), "kind": kind})
    return new_id


def remove(engine: Engine, annotation_id: int, *, actor: str | None = None) -> None:
    """Delete one annotation; ``ConfigError`` when there is none with that id."""
    with engine.begin() as conn:
        uuid = conn.execute(select(T.c.uuid).join(N, N.c.track_id == T.c.id)
                            .where(N.c.id == annotation_id)).scalar()
        if uuid is None:
            raise ConfigError(f"no annotation {annotation_id}")
        conn.execute(delete(N).where(N.c.id == annotation_id))
    audit.record(engine, actor=actor or audit.actor_from_env(), action="annotation.remove", target=f"track:{uuid}",
                 outcome="success", details={"id": annotation_id})


def for_track(engine: Engine, uuid: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """A track's annotations from ``start`` to ``end`` (each optional), by date: id, date, kind, text,
    created_at, created_by (empty for an unknown track)."""
    q = (select(*(N.c[c] for c in COLUMNS)).join(T, T.c.id == N.c.track_id).where(T.c.uuid == uuid.lower())
         .order_by(N.c.date, N.c.id))
    if start is not None:
        q = q.where(N.c.date >= start)
    if end is not None:
        q = q.where(N.c.date <= end)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).fetchall(), columns=COLUMNS)
