"""Labels on the charts (SQLite + PostgreSQL): grouping of the API's spellings, hostile ``track.labels`` values, the
share of entries, the top labels table with its trend, the roster's labels, scopes and their errors."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert, update

from soundcharts_lib.api.payloads import Song
from soundcharts_lib.curation import roster
from soundcharts_lib.db.engine import make_engine
from soundcharts_lib.db.models import Chart, ChartRanking, ChartRankingEntry, Platform, Track
from soundcharts_lib.db.store_tracks import store_song
from soundcharts_lib.warehouse import labels
from soundcharts_lib.warehouse.analytics import UnknownEntity

END = date(2026, 3, 10)
U = {i: f"00000000-0000-4000-8000-0000000000{i:02d}" for i in range(1, 9)}
TRACK_LABELS = {
    1: ["Universal Music"],
    2: ["UNIVERSAL MUSIC "],
    3: ["universal  music", "XL Recordings"],
    4: None,
    5: [],
    6: ["", "  ", None, 5, {"name": "x"}, ["nested"], "<b>Bad</b> & Co"],
    7: "Sub Pop",  # a bare string where a list belongs
    8: ["xl recordings", "XL Recordings"],  # one label twice
}
# (chart id, days before END, status, track ids by position)
RANKINGS = [
    (1, 0, "success", [1, 3, 4, 6]), (1, 1, "success", [1, 2, 5, 7]), (2, 0, "success", [3, 1]),
    (3, 0, "success", [8, 2]), (1, 2, "success", [1, 8]), (1, 4, "success", [7, 1]),
    (2, 1, "failed", [2, 6]),  # a ranking an integrity repair failed: its entries never count
]


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify"},
                                        {"id": 2, "slug": "deezer", "name": "Deezer"}])
        conn.execute(insert(Chart), [
            {"id": 1, "slug": "sp-global", "name": "Spotify Global", "platform_id": 1, "last_ranking_date": END},
            {"id": 2, "slug": "sp-us", "name": "Spotify US", "platform_id": 1, "last_ranking_date": END},
            {"id": 3, "slug": "dz-fr", "name": "Deezer France", "platform_id": 2, "last_ranking_date": END},
            {"id": 4, "slug": "sp-empty", "name": "Spotify Empty", "platform_id": 1, "last_ranking_date": None}])
        conn.execute(insert(Track), [{"id": i, "uuid": U[i], "name": f"Song {i}", "labels": raw}
                                     for i, raw in TRACK_LABELS.items()])
        for rid, (chart, ago, status, tracks) in enumerate(RANKINGS, start=1):
            day = END - timedelta(days=ago)
            conn.execute(insert(ChartRanking), [{"id": rid, "chart_id": chart, "ranking_date": day,
                                                 "date_raw": str(day), "status": status,
                                                 "entry_count": len(tracks)}])
            conn.execute(insert(ChartRankingEntry), [
                {"ranking_id": rid, "chart_id": chart, "ranking_date": day, "track_id": t, "position": pos}
                for pos, t in enumerate(tracks, start=1)])
    return engine


def rows(frame) -> list[list]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def test_names_are_grouped_by_their_words_in_any_case_and_junk_names_none():
    assert labels.label_key("  Sony \t Music ") == labels.label_key("SONY MUSIC") == "sony music"
    assert [labels.label_key(v) for v in ("", "   ", None, 5, ["x"])] == [None] * 5
    assert labels.label_key("Straße") == labels.label_key("STRASSE")  # case-folded, not only lower-cased
    assert labels.track_labels([None, "", " ", 5, {"name": "x"}, ["n"], " A ", "a", "  a  ", "B"]) == ["A", "B"]
    assert labels.track_labels("Sub Pop") == ["Sub Pop"]
    assert labels.track_labels(None) == labels.track_labels({"name": "x"}) == labels.track_labels(7) == []


def test_every_chart_the_share_table_and_trend(db):
    roster.add(db, "track", U[7], actor="test")
    page = labels.label_share(db, days=2)
    assert (page["start"], page["end"], page["days"]) == (END - timedelta(days=1), END, 2)
    assert page["entries"] == 12 and page["unlabelled"] == 2 and page["roster"] is True and page["before_stored"]
    assert page["scope"] == {"platform": None, "chart": None, "chart_name": None}
    assert page["labels"].columns.tolist() == labels.LABEL_COLUMNS
    assert rows(page["labels"]) == [
        # the most frequent spelling; entries in full, share split; trend vs the 2 days before
        ["Universal Music", 7, 0.5, 3, 1, 1, 600.0, False],
        ["XL Recordings", 3, 2 / 12, 2, 1, 1, 200.0, False],
        ["<b>Bad</b> & Co", 1, 1 / 12, 1, 4, 0, None, False],   # nothing before: no trend
        ["Sub Pop", 1, 1 / 12, 1, 4, 0, None, True]]            # outside both windows before; on the roster
    shares = page["shares"]
    assert shares.columns.tolist() == labels.SHARE_COLUMNS
    assert [(d, label, kind, round(s, 4)) for d, label, kind, s in rows(shares)] == [
        (END - timedelta(days=1), "Universal Music", "label", 0.5), (END - timedelta(days=1), "Sub Pop", "label", 0.25),
        (END - timedelta(days=1), labels.NO_LABEL, "none", 0.25),
        (END, "Universal Music", "label", 0.5), (END, "XL Recordings", "label", 0.25),
        (END, "<b>Bad</b> & Co", "label", 0.125), (END, labels.NO_LABEL, "none", 0.125)]
    assert shares.groupby("date")["share"].sum().round(9).tolist() == [1.0, 1.0]


def test_labels_past_the_top_are_one_band(db, monkeypatch):
    monkeypatch.setattr(labels, "TOP_LABELS", 1)
    shares = labels.label_share(db, days=2)["shares"]
    assert [(label, kind, round(s, 4)) for d, label, kind, s in rows(shares) if d == END] == [
        ("Universal Music", "label", 0.5), (labels.OTHER, "other", 0.375), (labels.NO_LABEL, "none", 0.125)]


def test_a_label_named_like_a_band_stays_a_label(db):
    with db.begin() as conn:
        conn.execute(Track.__table__.update().where(Track.id == 6).values(labels=[labels.OTHER]))
    shares = labels.label_share(db, days=1)["shares"]
    assert (END, labels.OTHER, "label", 0.125) in [(d, lab, k, round(s, 4)) for d, lab, k, s in rows(shares)]


@pytest.mark.parametrize("scope, entries, expected", [
    ({"platform": "deezer"}, 2, [["UNIVERSAL MUSIC", 1, 0.5], ["xl recordings", 1, 0.5]]),  # the scope's spellings
    ({"chart": "sp-us"}, 2, [["Universal Music", 2, 0.75], ["XL Recordings", 1, 0.25]]),  # not the failed ranking
    ({"chart": "sp-us", "platform": "spotify"}, 2, [["Universal Music", 2, 0.75], ["XL Recordings", 1, 0.25]]),
])
def test_a_platform_or_a_chart(db, scope, entries, expected):
    page = labels.label_share(db, days=2, **scope)
    assert page["entries"] == entries and page["roster"] is False
    assert [row[:3] for row in rows(page["labels"])] == expected
    assert page["scope"]["chart"] == scope.get("chart")
    assert page["before_stored"] is False  # none of these charts has a ranking in the two days before


@pytest.mark.parametrize("scope, words", [
    ({"chart": "sp-us", "platform": "deezer"}, "chart 'sp-us' is a chart of 'spotify', not of 'deezer'"),
    ({"chart": "nope"}, "no chart 'nope' is stored"),
    ({"platform": "nope"}, "no platform 'nope' is stored"),
])
def test_an_unknown_or_mismatched_scope_says_which(db, scope, words):
    with pytest.raises(UnknownEntity, match=words):
        labels.label_share(db, **scope)


def test_a_chart_or_a_warehouse_without_rankings(db, engine):
    page = labels.label_share(db, chart="sp-empty")
    assert page["end"] is None and page["entries"] == 0 and page["labels"].empty and page["shares"].empty


def test_an_empty_warehouse(engine):
    page = labels.label_share(engine)
    assert page["end"] is None and page["labels"].empty and labels.scopes(engine).empty


def test_scopes_are_the_charts_with_rankings(db):
    assert rows(labels.scopes(db)) == [["deezer", "Deezer", "dz-fr", "Deezer France"],
                                       ["spotify", "Spotify", "sp-global", "Spotify Global"],
                                       ["spotify", "Spotify", "sp-us", "Spotify US"]]


# --- the label rollup (db.label_rollup): what the jobs keep is the page built from the entries, read only while current


def same_page(held: dict, live: dict) -> None:
    for key in ("start", "end", "entries", "unlabelled", "before_stored", "roster"):
        assert held[key] == live[key], key
    assert rows(held["labels"]) == rows(live["labels"])
    assert rows(held["shares"]) == rows(live["shares"])


@contextmanager
def entry_reads(engine):
    """The statements that read chart entries while the block runs."""
    found: list[str] = []

    def seen(conn, cursor, statement, *args):
        if "chart_ranking_entry" in statement:
            found.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@pytest.mark.parametrize("scope", [{}, {"platform": "spotify"}, {"platform": "deezer"}])
def test_the_rollup_holds_each_page_as_built_from_the_entries_and_is_read_instead(db, scope):
    roster.add(db, "track", U[7], actor="test")
    live = labels.label_share(db, days=2, **scope)
    assert labels.refresh(db, days=2) == ["every chart", "deezer", "spotify"]
    assert labels.refresh(db, days=2) == []  # nothing changed: nothing rebuilt
    with entry_reads(db) as reads:
        held = labels.label_share(db, days=2, **scope)
    assert reads == []
    same_page(held, live)
    with entry_reads(db) as reads:  # another window length is not kept: built from the entries
        labels.label_share(db, days=3, **scope)
    assert reads


def test_a_ranking_stored_after_the_rollup_shows_at_once_and_the_next_refresh_keeps_it(db):
    labels.refresh(db, days=2)
    day = END + timedelta(days=1)
    with db.begin() as conn:
        conn.execute(insert(ChartRanking), [{"id": 50, "chart_id": 3, "ranking_date": day, "date_raw": str(day),
                                             "status": "success", "entry_count": 2}])
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": 50, "chart_id": 3, "ranking_date": day,
                                                  "track_id": t, "position": p} for p, t in ((1, 7), (2, 4))])
    page = labels.label_share(db, days=2)
    # the window moves a day: END's 8 entries and the new ranking's 2 (track 4 without a label)
    assert page["end"] == day and page["entries"] == 8 + 2 and page["unlabelled"] == 1 + 1
    assert "Sub Pop" in page["labels"]["label"].tolist()
    assert labels.refresh(db, days=2) == ["every chart", "deezer"]  # Spotify's rankings did not change
    same_page(labels.label_share(db, days=2), page)


def test_labels_stored_by_a_metadata_fetch_after_the_rollup_show_at_once(db):
    labels.refresh(db)
    song = Song(uuid=U[4], name="Song 4", labels=["Warp Records"])
    store_song(db, song, [])  # track 4 had no label stored
    page = labels.label_share(db)
    assert "Warp Records" in page["labels"]["label"].tolist()
    assert labels.refresh(db) == ["every chart", "deezer", "spotify"]
    same_page(labels.label_share(db), page)


def test_a_ranking_deleted_or_failed_after_the_rollup_leaves_it(db):
    labels.refresh(db, days=2)
    with db.begin() as conn:
        conn.execute(update(ChartRanking).where(ChartRanking.id == 3).values(status="failed"))
    page = labels.label_share(db, platform="spotify", days=2)
    assert page["entries"] == 10 - 2  # sp-us's ranking of END no longer counts


def test_the_roster_stars_change_without_a_refresh(db):
    labels.refresh(db, days=2)
    assert not labels.label_share(db, days=2)["labels"]["roster"].any()
    roster.add(db, "track", U[8], actor="test")
    page = labels.label_share(db, days=2)
    assert page["labels"].set_index("label").loc["XL Recordings", "roster"]


def test_a_read_only_viewer_reads_the_rollup_and_never_writes(db, db_url):
    labels.refresh(db, days=2)
    viewer = make_engine(db_url, read_only=True)
    try:
        same_page(labels.label_share(viewer, days=2), labels.label_share(db, days=2))
        with db.begin() as conn:
            conn.execute(update(ChartRanking).where(ChartRanking.id == 1).values(status="failed"))
        assert labels.label_share(viewer, days=2)["entries"] == 12 - 4  # stale row unused, nothing written
    finally:
        viewer.dispose()
