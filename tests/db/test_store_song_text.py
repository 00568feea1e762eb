"""A song's metadata holding text no PostgreSQL column can take (a NUL character, a lone surrogate as JSON's
"\\ud800" decodes to), in a text column or inside a JSON one (labels, genres): refused before any write with a
PayloadError naming the field, on both databases (PostgreSQL used to abort with a DataError), so the metadata job
fails that song alone; the next song stores."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from soundcharts_lib.api.payloads import Song
from soundcharts_lib.db.store_tracks import store_song
from soundcharts_lib.db.tables import T
from soundcharts_lib.errors import PayloadError

UUID = "00000000-0000-4000-8000-0000000b0001"


@pytest.mark.parametrize("field, value, words", [
    ("labels", ["Sony\x00Music"], "object.labels holds a NUL character"),
    ("labels", json.loads('["\\ud800 Records"]'), "object.labels holds a lone surrogate"),
    ("genres", ["pop", "\x00"], "object.genres holds a NUL character"),
    ("name", json.loads('"Song \\udfff"'), "object.name holds a lone surrogate"),
])
def test_unstorable_text_fails_the_song_alone_before_any_write(engine, field, value, words):
    song = Song(**{"uuid": UUID, "name": "Song", field: value})
    with pytest.raises(PayloadError, match=words):
        store_song(engine, song, [])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(T)).scalar() == 0
    store_song(engine, Song(uuid=UUID, name="Song", labels=["Sony Music", "😀 Émoji"], genres=["pop"]), [])
    with engine.connect() as conn:
        assert conn.execute(select(T.c.labels).where(T.c.uuid == UUID)).scalar() == ["Sony Music", "😀 Émoji"]
