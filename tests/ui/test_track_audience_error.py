"""A track whose stored audience cannot be summed (a day's identifiers past 64-bit integers) still shows its page:
the error is said in the audience card only, on first load as after a control reloads it."""

from __future__ import annotations

import re
from datetime import date

from crawl.pages import build
from sqlalchemy import insert

from soundcharts_lib.db.models import Platform, Track, TrackAudience
from ui.test_ui import html_of

UUID = "11111111-2222-4333-a444-555555555555"
# PostgreSQL's raw read names the day; SQLite's own sum overflows without saying where
MESSAGE = re.compile(r"Could not load the audience:</b> the audience of (spotify on 2026-12-01|a platform) sums its "
                     r"identifiers past 64-bit integers</div>")


def test_an_audience_past_64_bit_integers_is_said_in_its_card_only(engine, db_url):
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"slug": "spotify", "name": "Spotify", "supports_audience": True,
                                         "supports_charts": True}])
        track_id = conn.execute(insert(Track).returning(Track.id), [{"uuid": UUID, "name": "Overflowing Song",
                                                                    "credit_name": "Some Artist"}]).scalar_one()
        platform_id = conn.execute(Platform.__table__.select()).first().id
        conn.execute(insert(TrackAudience), [
            {"track_id": track_id, "platform_id": platform_id, "platform_identifier": ident, "date": day,
             "audience_value": value}
            for ident, day, value in (("a", date(2026, 12, 1), 2**62 + 5), ("b", date(2026, 12, 1), 2**62 + 5),
                                      ("a", date(2026, 12, 2), 7))])
    built = build("track.ipynb", f"uuid={UUID}", db_url)
    shown = html_of(built.widget)
    assert len(MESSAGE.findall(shown)) == 1
    assert "Could not load this page" not in shown
    assert "Overflowing Song" in shown and "Some Artist" in shown  # the summary card
    assert "Playlists" in shown  # the cards after the audience's
    assert [p for p in built.problems if "error-state" not in p] == []
