"""`soundcharts follow` and `soundcharts fetch-reach` as a user runs them (subprocesses) against the local API, and
the admin roster page's follow box: any song by ISRC, Spotify link or platform id is stored, followed and fetched (one
that never charted gets a whole track page); a malformed one is exit 2 before any request; 404 and 410 are one line
with nothing stored."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import ipywidgets as w
import pytest
from jobs.test_reach import checks, items, served_popularity
from localapi_http import session
from sqlalchemy import select

from soundcharts_lib.curation import roster
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.tables import REACH, RUN, TPI, T
from soundcharts_lib.jobs.follow import follow_given
from soundcharts_lib.ui.admin.roster import RosterView
from soundcharts_lib.ui.track import TrackView
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse import admin_pages as admin_data
from soundcharts_lib.warehouse import analytics, reach_pages
from soundcharts_lib.warehouse import viewer_pages as viewer_data


def soundcharts(*args: str, db_url: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ, SOUNDCHARTS_DB_URL=db_url), timeout=timeout)


def lookup(localapi, path: str) -> dict:
    """The song object a lookup serves, read over HTTP."""
    with session() as http:
        resp = http.get(localapi.base_url + path, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["object"]


def never_charted(localapi):
    """A song no chart draws from, with an ISRC the API does not blacklist and a Spotify id."""
    lookups = localapi.catalog.lookups
    return next(s for s in localapi.catalog.extra_songs
                if s.isrc and s.isrc not in lookups.blacklist and s.identifiers_on("spotify"))


def one_line_error(res: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert res.returncode == code, (res.stdout, res.stderr)
    assert res.stderr.count("\n") == 1 and words in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert res.stdout == ""


def test_follow_by_isrc_a_song_that_never_charted_gives_a_whole_track_page(api_env, db_url):
    song = never_charted(api_env)
    served = lookup(api_env, f"/api/v2.25/song/by-isrc/{song.isrc}")
    given = f"{song.isrc[:2]}-{song.isrc[2:5]}-{song.isrc[5:7]}-{song.isrc[7:]}".lower()  # as people write it
    res = soundcharts("follow", "--isrc", given, "-q", db_url=db_url)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{served['name']} by {served['creditName']} ({served['uuid']}): added to the roster")
    assert lines[1].startswith("fetch_audience: success") and lines[2].startswith("fetch_reach: success")

    engine = make_engine(db_url)
    uuid = served["uuid"]
    with engine.connect() as conn:
        name, isrc = conn.execute(select(T.c.name, T.c.isrc).where(T.c.uuid == uuid)).one()
        idents = conn.execute(select(TPI.c.platform_code, TPI.c.identifier).join(T, T.c.id == TPI.c.track_id)
                              .where(T.c.uuid == uuid)).all()
        runs = conn.execute(select(RUN.c.kind, RUN.c.trigger, RUN.c.status).order_by(RUN.c.id)).all()
        charted = conn.execute(select(REACH.c.id)).all()
    assert (name, isrc) == (served["name"], served["isrc"]["value"])
    assert sorted(idents) == sorted((i["platformCode"], i["identifier"])
                                    for i in items(api_env, f"/api/v2/song/{uuid}/identifiers"))
    assert roster.items(engine)[["kind", "uuid"]].values.tolist() == [["track", uuid]]
    assert runs == [("fetch_audience", "cli", "success"), ("fetch_reach", "cli", "success")]
    today = today_utc()
    popularity = served_popularity(api_env, uuid, "spotify", today - timedelta(days=89), today)
    stored = reach_pages.popularity(engine, uuid)["spotify"]
    assert popularity and dict(zip(stored["date"], stored["value"], strict=True)) == popularity
    assert charted == [] and checks(engine, uuid)[("spotify", "charts")] == (False, None)  # asked: charts nowhere

    # its page: the page data and the page itself, without a chart entry anywhere
    data = viewer_data.track_page(engine, uuid)
    assert data["track"]["name"] == served["name"] and data["follow"]["track"] is True
    assert data["charts"].empty and data["history"].empty and data["now"].empty
    assert "spotify" in data["audience"]["available"] and reach_pages.charting_now(engine, uuid).empty
    view = TrackView(lambda **kw: viewer_data.track_page(engine, uuid, **kw),
                     lambda **kw: analytics.track_audience(engine, uuid, **kw),
                     lambda: analytics.track_chart_history(engine, uuid))
    assert len(view.render().children) >= 4
    engine.dispose()

    again = soundcharts("follow", "--isrc", song.isrc, "-q", db_url=db_url)
    assert again.returncode == 0 and "already on the roster" in again.stdout.splitlines()[0], again.stderr


def test_follow_by_spotify_link_then_by_platform_id_is_the_same_song(api_env, tmp_path):
    song = next(s for s in api_env.catalog.song_list if s.identifiers_on("spotify") and s.identifiers_on("deezer")
                and s.isrc not in api_env.catalog.lookups.blacklist)
    spotify, deezer = song.identifiers_on("spotify")[0].identifier, song.identifiers_on("deezer")[0].identifier
    served = lookup(api_env, f"/api/v2.25/song/by-platform/spotify/{spotify}")
    assert lookup(api_env, f"/api/v2.25/song/by-platform/deezer/{deezer}")["uuid"] == served["uuid"]
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    res = soundcharts("follow", "--spotify", f"https://open.spotify.com/track/{spotify}?si=4c1e2f", "-q",
                      db_url=db_url)
    assert res.returncode == 0 and f"({served['uuid']}): added to the roster" in res.stdout, res.stderr
    res = soundcharts("follow", "--platform", "deezer", "--id", deezer, "--label", "mine", "-q", db_url=db_url)
    assert res.returncode == 0 and f"({served['uuid']}): already on the roster" in res.stdout, res.stderr
    assert roster.items(make_engine(db_url))["uuid"].tolist() == [served["uuid"]]


def test_404_and_410_are_one_line_and_nothing_is_stored(api_env, tmp_path):
    lookups = api_env.catalog.lookups
    blacklisted = sorted(lookups.blacklist)[0]
    unknown_isrc = next(f"ZZ0AA26{n:05d}" for n in range(100) if f"ZZ0AA26{n:05d}" not in lookups.isrcs)
    cases = [(["--isrc", blacklisted], f"ISRC {blacklisted} is blacklisted by SoundCharts (HTTP 410"),
             (["--isrc", unknown_isrc], f"no song with ISRC {unknown_isrc} (HTTP 404: Song not found); nothing stored"),
             (["--spotify", "0" * 22], f"no song with Spotify track {'0' * 22} (HTTP 404"),
             (["--platform", "deezer", "--id", "1"], "no song with deezer id 1 (HTTP 404")]
    for i, (args, words) in enumerate(cases):
        db = tmp_path / f"{i}.db"
        before = api_env.stats()["requests"]
        res = soundcharts("follow", *args, "-q", db_url=f"sqlite:///{db}")
        one_line_error(res, 1, words)
        assert api_env.stats()["requests"] == before + 1  # the lookup, nothing after it
        assert not db.exists()  # nothing stored: the database was not even opened


@pytest.mark.parametrize("args, words", [
    (["--isrc", "USAT2200315"], "argument --isrc: not an ISRC"),
    (["--isrc", "USAT22003158X"], "argument --isrc: not an ISRC"),
    (["--isrc", "ÜSAT22003158"], "argument --isrc: not an ISRC"),
    (["--isrc", "US-AT2-20-0315!"], "argument --isrc: not an ISRC"),
    (["--spotify", "https://open.spotify.com/album/7A9rdAz2M6AjRwOa34jxIP"], "argument --spotify: not a Spotify track"),
    (["--spotify", "7A9rdAz2M6AjRwOa34jx"], "argument --spotify: not a Spotify track"),
    (["--platform", "deezer", "--id", " 12"], "argument --id: not a platform identifier"),
    (["--platform", "deezer", "--id", "12\n"], "argument --id: not a platform identifier"),
    (["--platform", "deezer", "--id", "1" * 256], "argument --id: not a platform identifier"),
    (["--platform", "spotify", "--id", "not-a-spotify-id"], "id: not a Spotify track id or link"),
    (["--platform", "Deezer!", "--id", "12"], "argument --platform: not a slug"),
    (["--platform", "deezer"], "a platform identifier needs both the platform and the id"),
    (["--id", "12"], "one of the arguments --isrc --spotify --platform is required"),
    (["--isrc", "USAT22003158", "--id", "12"], "name the song one way"),
    (["--isrc", "USAT22003158", "--spotify", "7A9rdAz2M6AjRwOa34jxIP"], "not allowed with argument"),
])
def test_malformed_input_is_exit_2_before_any_request(api_env, tmp_path, args, words):
    db = tmp_path / "bad.db"
    before = api_env.stats()["requests"]
    res = soundcharts("follow", *args, db_url=f"sqlite:///{db}")
    one_line_error(res, 2, words)
    assert api_env.stats()["requests"] == before and not db.exists()


@pytest.mark.parametrize("args, words", [
    (["--limit", "0"], "at least 1"),
    (["--track-uuid", "not-a-uuid"], "not a SoundCharts UUID"),
    (["--track-uuid", "2de8a947-170f-48ae-af3e-39e245f55687", "--roster"], "not allowed with"),
    (["--track-uuid", "2de8a947-170f-48ae-af3e-39e245f55687", "--limit", "3"], "limit applies to the stale-first"),
    (["--platform", "Spotify;drop"], "not a slug"),
])
def test_fetch_reach_bad_input_is_exit_2_before_any_request(api_env, tmp_path, args, words):
    before = api_env.stats()["requests"]
    res = soundcharts("fetch-reach", *args, db_url=f"sqlite:///{tmp_path / 'r.db'}")
    one_line_error(res, 2, words)
    assert api_env.stats()["requests"] == before


@pytest.mark.slow
def test_fetch_reach_for_the_roster_by_command_and_by_its_job_notebook(api_env, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'roster.db'}"
    song = never_charted(api_env)
    assert soundcharts("follow", "--isrc", song.isrc, "-q", db_url=db_url).returncode == 0
    res = soundcharts("fetch-reach", "--roster", "-q", db_url=db_url)
    assert res.returncode == 0 and res.stdout.startswith("success: 1 tracks"), res.stderr
    res = soundcharts("run-job", "fetch_reach", "-p", "roster", "true", db_url=db_url)
    assert res.returncode == 0 and "job fetch_reach done" in res.stdout, res.stderr
    engine = make_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(select(RUN.c.kind, RUN.c.trigger, RUN.c.status).order_by(RUN.c.id)).all()
    assert runs[-2:] == [("fetch_reach", "cli", "success"), ("fetch_reach", "manual", "success")]


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_the_admin_roster_page_follows_a_song_by_its_box(localapi, api_settings, tmp_path):
    settings = replace(api_settings, db_url=f"sqlite:///{tmp_path / 'admin.db'}")
    engine = make_engine(settings.db_url)
    upgrade(engine)
    view = RosterView(lambda: roster.items(engine), lambda q: admin_data.tracks(engine, search=q)["rows"],
                      lambda kind, uuid, label: roster.add(engine, kind, uuid, label, actor="ana"),
                      lambda kind, uuid: roster.remove(engine, kind, uuid, actor="ana"),
                      lambda by, value, platform: follow_given(settings, by, value, platform, actor="ana"))
    view.render()
    follow = next(b for b in _walk(view.widget) if isinstance(b, w.Button) and b.description == "Follow")

    before = localapi.stats()["requests"]
    view.follow_by.value, view.follow_value.value = "isrc", "USAT2200315"
    follow.click()
    assert 'action-invalid">isrc: not an ISRC' in view.notice.value
    view.follow_by.value, view.follow_value.value = "platform", "3036185131"
    follow.click()
    assert 'action-invalid">a platform identifier needs both the platform and the id' in view.notice.value
    assert localapi.stats()["requests"] == before  # refused before any request

    blacklisted = sorted(localapi.catalog.lookups.blacklist)[0]
    view.follow_by.value, view.follow_value.value = "isrc", blacklisted
    follow.click()
    assert f'action-failed">ISRC {blacklisted} is blacklisted by SoundCharts (HTTP 410' in view.notice.value
    assert localapi.stats()["requests"] == before + 1 and roster.items(engine).empty

    song = never_charted(localapi)
    served = lookup(localapi, f"/api/v2.25/song/by-isrc/{song.isrc}")
    view.follow_by.value, view.follow_platform.value = "platform", "spotify"
    view.follow_value.value = f"spotify:track:{song.identifiers_on('spotify')[0].identifier}"
    follow.click()
    assert f'action-success">followed {html.escape(served["name"], quote=True)}' in view.notice.value
    assert "its audience and reach fetched" in view.notice.value and view.follow_value.value == ""
    assert roster.items(engine)[["uuid", "added_by"]].values.tolist() == [[served["uuid"], "ana"]]
    with engine.connect() as conn:
        assert conn.execute(select(RUN.c.kind, RUN.c.trigger).order_by(RUN.c.id)).all() == [
            ("fetch_audience", "admin"), ("fetch_reach", "admin")]
    assert served["uuid"] in view.data.children[0].children[2].value  # the list reloaded
    engine.dispose()
