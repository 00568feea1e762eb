"""The admin pages' builders without a browser: the action bar driven by a real runner, views on given data
(escaping, states, links), the row picker."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import insert, select

from soundcharts_lib.config import Settings
from soundcharts_lib.curation import annotations, roster
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import Artist, AuditEvent, Track, TrackArtist
from soundcharts_lib.jobs import admin_actions as admin
from soundcharts_lib.ui.admin.charts import ChartsView
from soundcharts_lib.ui.admin.common import ActionBar, View, facts
from soundcharts_lib.ui.admin.history import RunsView
from soundcharts_lib.ui.admin.notes import NotesEditor
from soundcharts_lib.ui.admin.roster import RosterView
from soundcharts_lib.ui.admin.track import Picker, TrackView
from soundcharts_lib.warehouse import admin_pages as admin_data

MARKUP = "<script>alert(1)</script>"


@pytest.fixture
def runner(tmp_path):
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings.from_env({"SOUNDCHARTS_DB_URL": url, "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")})
    yield admin.Runner(engine, settings=settings, actor="ui", poll_seconds=0.02)
    engine.dispose()


def _held_action(release: threading.Event) -> admin.Action:
    """A real action whose work waits for ``release`` and reports one unit of two done meanwhile."""
    def work(_settings):
        release.wait(10)
        return admin.Outcome("success", "success: 2 of 2")

    return admin.Action("fetch_metadata", "2 tracks", {}, "tracks", 2, work, lambda engine, since: 1)


def test_action_bar_shows_progress_refusal_and_outcome_after_the_reload(runner):
    release, reloaded = threading.Event(), []
    bar = ActionBar(runner, lambda: reloaded.append(bar.message.value))
    bar.run(lambda: _held_action(release))
    assert bar.bar.layout.display == "" and bar.bar.max == 2
    assert "action-running" in bar.message.value
    assert "Fetch metadata · 2 tracks: 0 of 2 tracks" in bar.message.value
    bar.run(lambda: _held_action(release))
    assert "action-refused" in bar.notice.value and "already running (2 tracks" in bar.notice.value
    release.set()
    assert runner.wait(10)
    assert bar.bar.value == 2 and bar.bar.bar_style == "success"
    assert "action-success" in bar.message.value and "success: 2 of 2" in bar.message.value
    assert len(reloaded) == 1 and "action-running" in reloaded[0]  # the reload came before the outcome


def test_action_bar_shows_bad_input_and_runs_nothing(runner):
    bar = ActionBar(runner, lambda: None)
    bar.run(lambda: admin.backfill_charts(["a"], date(2026, 2, 1), date(2026, 1, 1)))
    assert bar.notice.value == ('<span class="action-state action-invalid">the first date 2026-02-01 is '
                                "after the last date 2026-01-01</span>")
    assert bar.bar.layout.display == "none" and bar.message.value == ""


class Failing(View):
    def __init__(self):
        self.calls = 0
        super().__init__([])

    def build(self):
        self.calls += 1
        raise RuntimeError("boom") if self.calls > 1 else ValueError("first")


def test_a_view_raises_on_first_render_and_shows_errors_on_reload():
    view = Failing()
    with pytest.raises(ValueError):
        view.render()
    view.reload()
    assert "error-state" in view.data.children[0]._dom_classes
    assert "unexpected error (RuntimeError)" in view.data.children[0].value


def test_picker_keeps_the_selection_of_rows_still_offered():
    picker = Picker("tracks", "track-select")
    picker.offer([("A", "a"), ("B", "b"), ("C", "c")])
    picker.select.value = ("a", "c")
    picker.offer([("C", "c"), ("D", "d")])
    assert picker.selected() == ["c"]


def test_facts_show_a_dash_for_missing_values():
    assert facts([("ISRC", ""), ("Name", "x")]) == (
        '<dl class="sc-facts"><dt>ISRC</dt><dd><span class=sc-sub>—</span></dd><dt>Name</dt><dd>x</dd></dl>')


def test_charts_view_filters_escapes_and_offers_the_charts_shown(runner):
    rows = pd.DataFrame([
        {"slug": "a-chart", "name": MARKUP, "platform": "spotify", "country_code": None,
         "frequency": "daily", "is_active": True, "last_ranking_date": date(2026, 1, 2),
         "last_success_at": datetime(2026, 1, 2, 3, 4), "last_error": None, "last_error_at": None,
         "consecutive_failures": 0, "stale": False, "state": "ok"},
        {"slug": "b-chart", "name": "B", "platform": "deezer", "country_code": "FR", "frequency": "daily",
         "is_active": True, "last_ranking_date": None, "last_success_at": None,
         "last_error": "HTTP 500 " + MARKUP, "last_error_at": datetime(2026, 1, 2), "consecutive_failures": 3,
         "stale": True, "state": "failing"}])
    asked = []
    filters = {"platforms": ["deezer", "spotify"], "countries": ["FR"]}
    view = ChartsView(lambda **kw: asked.append(kw) or rows, filters, runner, platform="deezer",
                      state="nonsense")
    html = view.render().children[-1].children[0].children[2].value
    assert asked == [{"platform": "deezer", "country": None, "state": None}]  # an unknown value is "All"
    assert MARKUP not in html and "&lt;script&gt;" in html
    assert 'href="chart.ipynb?slug=a-chart"' in html and "global" in html
    assert view.picker.select.options == (("<script>alert(1)</script> · global (a-chart)", "a-chart"),
                                          ("B · FR (b-chart)", "b-chart"))


def test_track_view_shows_each_audience_state(runner):
    audience = pd.DataFrame([
        {"platform": "spotify", "name": "Spotify", "identifiers": 2, "first_date": date(2026, 1, 1),
         "last_date": date(2026, 1, 10), "days": 10, "gaps": 0, "fetched_at": datetime(2026, 1, 10),
         "checked_at": datetime(2026, 1, 10), "had_data": True},
        {"platform": "deezer", "name": "Deezer", "identifiers": 1, "first_date": date(2026, 1, 1),
         "last_date": date(2026, 1, 10), "days": 8, "gaps": 2, "fetched_at": None, "checked_at": None,
         "had_data": None},
        {"platform": "tiktok", "name": "TikTok", "identifiers": None, "first_date": None, "last_date": None,
         "days": None, "gaps": None, "fetched_at": None, "checked_at": datetime(2026, 1, 9),
         "had_data": False},
        {"platform": "shazam", "name": "Shazam", "identifiers": None, "first_date": None, "last_date": None,
         "days": None, "gaps": None, "fetched_at": None, "checked_at": None, "had_data": None}])
    track = {"uuid": "u-1", "name": MARKUP, "credit_name": "X", "isrc": None, "release_date": None,
             "duration": 185, "explicit": None, "genres": None, "labels": ["L"], "metadata_fetched_at": None,
             "artists": [],
             "identifiers": pd.DataFrame(columns=["platform", "identifier", "url", "is_default"])}
    data = {"track": track, "audience": audience, "appearances": 3}
    view = TrackView(lambda: data, [("spotify", "Spotify")], "u-1", runner)
    body = view.render().children[-1].children[0]
    about = body.children[0].children[0].children[1].value
    assert "&lt;script&gt;" in about and MARKUP not in about and "3:05" in about and "never fetched" in about
    status = body.children[1].children[1].value
    for label in ("ok", "2 missing days", "no data from the API", "never fetched"):
        assert f">{label}</span>" in status
    assert view.actions.platforms.options == (("Spotify (spotify)", "spotify"),)


def test_runs_view_links_only_archived_notebooks(monkeypatch):
    monkeypatch.setenv("VOILA_BASE_URL", "/base/")
    runs = pd.DataFrame([
        {"id": 7, "kind": "sync_charts", "trigger": "cron", "started_at": datetime(2026, 1, 1, 1),
         "finished_at": datetime(2026, 1, 1, 1, 0, 30), "status": "partial",
         "counts": {"rankings_stored": 1200},
         "errors": [MARKUP, "second"], "quota_remaining": 900, "notebook_path": "/runs/x.ipynb"},
        {"id": 6, "kind": "fetch_metadata", "trigger": "dashboard", "started_at": datetime(2026, 1, 1),
         "finished_at": None, "status": "running", "counts": None, "errors": None, "quota_remaining": None,
         "notebook_path": None}])
    view = RunsView(lambda kind, status: runs, ["sync_charts"])
    html = view.render().children[-1].children[0].children[1].value
    assert html.count('class="run-notebook"') == 1
    assert 'href="/base/soundcharts/admin/runs/7/notebook"' in html
    assert "rankings stored 1,200" in html and "30.0 s" in html and "(+1 more)" in html
    assert MARKUP not in html


T1, T2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
ARTIST = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"


@pytest.fixture
def stored(runner):
    """The runner's database with two tracks by one artist (the first with markup in its name)."""
    engine = runner.engine
    with engine.begin() as conn:
        conn.execute(insert(Track), [{"id": 1, "uuid": T1, "name": MARKUP, "credit_name": "Ari"},
                                     {"id": 2, "uuid": T2, "name": "Second song", "credit_name": "Ari"}])
        conn.execute(insert(Artist), [{"id": 1, "uuid": ARTIST, "name": "Ari"}])
        conn.execute(insert(TrackArtist), [{"track_id": 1, "artist_id": 1}, {"track_id": 2, "artist_id": 1}])
    return engine


def _audit(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.target)
                                               .order_by(AuditEvent.id))]


def test_roster_view_adds_by_uuid_and_from_a_search_then_removes(stored):
    view = RosterView(lambda: roster.items(stored), lambda q: admin_data.tracks(stored, search=q)["rows"],
                      lambda kind, uuid, label: roster.add(stored, kind, uuid, label, actor="ana"),
                      lambda kind, uuid: roster.remove(stored, kind, uuid, actor="ana"))
    view.render()
    assert "Nothing is followed yet" in view.data.children[0].children[1].value

    view.uuid.value = "not-a-uuid"
    view.widget.children[0].children[1].children[3].click()  # Add
    assert 'action-invalid">not a SoundCharts UUID: &#x27;not-a-uuid&#x27;' in view.notice.value
    view.kind.value, view.uuid.value, view.label.value = "artist", ARTIST.upper(), "Ari <the artist>"
    view.widget.children[0].children[1].children[3].click()
    assert 'action-success">added 1 to the roster: Ari &lt;the artist&gt;' in view.notice.value
    assert view.uuid.value == "" and roster.items(stored)["uuid"].tolist() == [ARTIST]

    view.search.value = "second"
    assert view.found.select.options == (("Second song — Ari", T2),) and "1 track found" in view.found_count.value
    view.found.select.value = (T2,)
    view.widget.children[0].children[3].children[1].click()  # Add the tracks selected
    assert "added 1 to the roster: Second song - Ari" in view.notice.value
    listed = view.data.children[0].children[2].value
    assert f'href="../track.ipynb?uuid={T2}"' in listed and "Ari &lt;the artist&gt;" in listed
    assert "2 items followed" in view.data.children[0].children[1].value
    view.search.value = "nothing like it"
    assert view.found.select.options == () and "No track matches nothing like it." in view.found_count.value

    remove = view.widget.children[1].children[1].children[1]
    remove.click()
    assert "choose what to remove first" in view.notice.value
    view.picker.select.value = tuple(v for _, v in view.picker.select.options)
    remove.click()
    assert "removed 2 items from the roster" in view.notice.value and roster.items(stored).empty
    assert _audit(stored) == [("ana", "roster.add", f"artist:{ARTIST}"), ("ana", "roster.add", f"track:{T2}"),
                              ("ana", "roster.remove", f"track:{T2}"), ("ana", "roster.remove", f"artist:{ARTIST}")]


def test_notes_editor_adds_lists_and_removes(stored):
    editor = NotesEditor(lambda: annotations.for_track(stored, T1),
                         lambda day, kind, text: annotations.add(stored, T1, day, text, kind, actor="ana"),
                         lambda note: annotations.remove(stored, note, actor="ana"))
    editor.reload()
    assert "No notes yet" in editor.list.children[0].value
    add, remove = editor.widget.children[2].children[3], editor.widget.children[3].children[1]
    editor.text.value = "Video <out>"
    add.click()
    assert "action-invalid\">an annotation&#x27;s date must be a date, got None" in editor.notice.value
    editor.day.value, editor.kind.value = date(2026, 3, 5), "Campaign"
    add.click()
    assert "note added on 2026-03-05 (campaign)" in editor.notice.value and editor.text.value == ""
    assert "Video &lt;out&gt;" in editor.list.children[0].value
    assert editor.choice.options[0][0] == "2026-03-05 campaign: Video <out>"
    remove.click()
    assert "note removed" in editor.notice.value and annotations.for_track(stored, T1).empty
    assert [a for _, a, _ in _audit(stored)] == ["annotation.add", "annotation.remove"]
