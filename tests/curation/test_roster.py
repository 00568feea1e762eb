"""Roster (watchlist): add / remove / list, UUID checks, audit, and the track filters dashboards use."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert, select

from soundcharts_lib.curation import roster
from soundcharts_lib.db.models import Artist, AuditEvent, Track, TrackArtist
from soundcharts_lib.errors import ConfigError

T1 = "11111111-1111-1111-1111-111111111111"
T2 = "22222222-2222-2222-2222-222222222222"
T3 = "33333333-3333-3333-3333-333333333333"
AR = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
UNKNOWN = "99999999-9999-9999-9999-999999999999"


@pytest.fixture
def db(engine):
    """Tracks T1 (by artist AR), T2 (by AR too), T3 (no artist)."""
    with engine.begin() as conn:
        conn.execute(insert(Track), [{"id": 1, "uuid": T1, "name": "One", "credit_name": "Ari"},
                                     {"id": 2, "uuid": T2, "name": "Two", "credit_name": "Ari"},
                                     {"id": 3, "uuid": T3, "name": "Three", "credit_name": None}])
        conn.execute(insert(Artist), [{"id": 1, "uuid": AR, "name": "Ari"}])
        conn.execute(insert(TrackArtist), [{"track_id": 1, "artist_id": 1}, {"track_id": 2, "artist_id": 1}])
    return engine


def audits(engine) -> list[tuple[str, str, str]]:
    q = select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def test_add_labels_from_the_warehouse_and_is_idempotent(db, monkeypatch):
    monkeypatch.setenv("SOUNDCHARTS_ADMIN_NAME", "ana")
    first = roster.add(db, "track", T1.upper())
    assert first == {"kind": "track", "uuid": T1, "label": "One - Ari", "stored": True, "added": True}
    again = roster.add(db, "track", T1, label="renamed")
    assert again["added"] is False and again["label"] == "One - Ari"
    assert roster.add(db, "artist", AR)["label"] == "Ari"
    unknown = roster.add(db, "track", UNKNOWN, label="  Future single  ", actor="cli:bo")
    assert unknown["stored"] is False and unknown["label"] == "Future single"
    assert audits(db) == [("ana", "roster.add", f"track:{T1}"), ("ana", "roster.add", f"artist:{AR}"),
                          ("cli:bo", "roster.add", f"track:{UNKNOWN}")]
    assert roster.items(db)["added_by"].tolist() == ["cli:bo", "ana", "ana"]  # "Future single", "One - Ari", "Ari"


@pytest.mark.parametrize(("kind", "uuid", "message"), [
    ("song", T1, "roster items are tracks or artists, not 'song'"),
    ("track", "not-a-uuid", "not a SoundCharts UUID: 'not-a-uuid'"),
    ("artist", T1[:-1], "not a SoundCharts UUID"),
])
def test_bad_items_are_one_line_errors(db, kind, uuid, message):
    with pytest.raises(ConfigError, match=message) as info:
        roster.add(db, kind, uuid)
    assert "\n" not in str(info.value)
    assert roster.items(db).empty


def test_remove(db):
    roster.add(db, "track", T3)
    roster.remove(db, "track", T3)
    assert roster.items(db).empty
    with pytest.raises(ConfigError, match=f"track {T3} is not on the roster"):
        roster.remove(db, "track", T3)
    assert audits(db)[-1] == ("admin", "roster.remove", f"track:{T3}")


def test_items_list_tracks_then_artists_with_what_they_bring(db):
    roster.add(db, "artist", AR)
    roster.add(db, "track", T3)
    roster.add(db, "track", UNKNOWN)
    roster.add(db, "artist", UNKNOWN)
    frame = roster.items(db)
    assert frame[["kind", "uuid", "stored", "tracks"]].values.tolist() == [
        ["track", UNKNOWN, False, 0], ["track", T3, True, 1],  # by label ("Three"), else by UUID
        ["artist", UNKNOWN, False, 0], ["artist", AR, True, 2]]
    assert frame["added_at"].notna().all()


def test_track_filters_follow_artists(db):
    assert roster.roster_track_ids(db) == set() and not roster.has_roster(db)
    roster.add(db, "track", T3)
    assert roster.roster_track_ids(db) == {3}
    roster.add(db, "artist", AR)
    roster.add(db, "track", T1)  # also via the artist: counted once
    assert roster.roster_track_ids(db) == {1, 2, 3} and roster.has_roster(db)
    assert roster.roster_track_uuids(db) == [T1, T2, T3]
    frame = pd.DataFrame({"uuid": [T3, UNKNOWN, T2, T1], "n": [1, 2, 3, 4]})
    assert roster.only_roster(db, frame)["n"].tolist() == [1, 3, 4]
    with db.connect() as conn:  # the query form, for IN filters inside analytics queries
        ids = conn.execute(select(Track.id).where(Track.id.in_(roster.track_ids_query()))).scalars().all()
    assert sorted(ids) == [1, 2, 3]


def test_follow_state_of_one_track(db):
    assert roster.follow_state(db, T1) == {"roster": False, "track": False, "artists": []}
    roster.add(db, "track", T3)
    assert roster.follow_state(db, T1) == {"roster": True, "track": False, "artists": []}
    roster.add(db, "artist", AR)
    assert roster.follow_state(db, T1.upper()) == {"roster": True, "track": False, "artists": ["Ari"]}
    roster.add(db, "track", T1)
    assert roster.follow_state(db, T1) == {"roster": True, "track": True, "artists": ["Ari"]}
    assert roster.follow_state(db, T3) == {"roster": True, "track": True, "artists": []}
