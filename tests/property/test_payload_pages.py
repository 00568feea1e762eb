"""Payload -> store -> page: any body the contract allows is parsed (``soundcharts_lib.api.payloads``), stored with the
sync's own writes into a fresh SQLite database, and the pages that show it (built as Voila runs the notebooks,
:mod:`crawl.pages`) render: no exception, no error state, their main content, and markup in names shown as text."""

from __future__ import annotations

import html
import re

import ipywidgets as w
import pytest
from conftest import OUTPUT, migrated_copies
from crawl.pages import build, shown_problems, walk
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import func, select

from soundcharts_lib.api import payloads
from soundcharts_lib.db import make_engine, rollup, store
from soundcharts_lib.db.store_audience import audience_platform_ids, store_points, track_ids
from soundcharts_lib.db.store_tracks import store_song
from soundcharts_lib.db.tables import R, T
from soundcharts_lib.errors import PayloadError
from soundcharts_lib.jobs.sync import storable
from soundcharts_lib.ui.track import MODES
from soundcharts_lib.vocab import today_utc

from .contract import audience_bodies, identifier_bodies, ranking_bodies, song_bodies, song_refs

pytestmark = pytest.mark.slow  # hypothesis renders pages many times

TODAY = today_utc()
# No shrinking: an example builds several pages (~1 s), and the failure names the page and shows its traceback.
# Hypothesis' files (failing examples, replayed first next time) go beside the other test output, not in the checkout.
set_hypothesis_home_dir(OUTPUT / "hypothesis")
SETTINGS = settings(max_examples=30, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CHART_PLATFORM = payloads.Platform(code="spotify", name="Spotify")
AUDIENCE_PLATFORMS = [payloads.Platform(code=c, name=n) for c, n in
                      (("spotify", "Spotify"), ("youtube", "YouTube"), ("shazam", "Shazam"))]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``fresh()`` -> the URL of a new, migrated SQLite database (a copy of one migrated once)."""
    return migrated_copies(tmp_path_factory.mktemp("property"))


def store_rankings(url: str, bodies: list[dict]) -> list[payloads.Ranking]:
    """What a chart sync does with the bodies: parse, check, record the platform and chart, store, roll up."""
    rankings = [storable(payloads.parse_ranking(b)) for b in bodies]
    engine = make_engine(url)
    try:
        store.upsert_platforms(engine, [CHART_PLATFORM], charts=True)
        chart_id = store.upsert_charts(engine, [rankings[-1].chart])[rankings[-1].chart.slug]
        store.store_rankings(engine, [(chart_id, r) for r in rankings])
        rollup.refresh(engine, {r.date for r in rankings})
    finally:
        engine.dispose()
    return rankings


def stored_rankings(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(R)).scalar_one()
    finally:
        engine.dispose()


def rendered(notebook: str, query: str, url: str) -> str:
    """The page's markup, after checking it rendered (see :func:`crawl.pages.build`)."""
    built = build(notebook, query, url)
    assert not built.problems, f"{built.address}:\n" + "\n".join(built.problems)
    return "".join(n.value for n in walk(built.widget) if isinstance(n, w.HTML))


def classes(widget: w.Widget) -> set[str]:
    return {c for n in walk(widget) for c in getattr(n, "_dom_classes", ())}


BARE_TAG = re.compile(r"</?[a-z][a-z0-9]*>", re.I)


def assert_escaped(markup: str, names) -> None:
    """No name holding markup appears as markup (each is shown escaped, maybe cut short). A name that is a bare tag
    (``<tr>``, ``</div>``) is in any page's own markup, so its presence tells nothing: such names are checked against
    a page of plain names instead (:func:`test_names_that_are_bare_tags_add_no_tag_to_the_page`)."""
    for name in names:
        if name and re.search(r"<[a-z/]", name, re.I) and not BARE_TAG.fullmatch(name):
            assert name not in markup, f"unescaped: {name!r}"


@SETTINGS
@given(bodies=ranking_bodies(TODAY))
def test_any_ranking_the_contract_allows_renders_its_pages(fresh, bodies):
    url = fresh()
    try:
        rankings = store_rankings(url, bodies)
    except PayloadError as exc:  # a chart text longer than its column: refused in one line, nothing stored
        assert re.fullmatch(r"chart '[^']*': \w+ is longer than \d+ characters", str(exc)), exc
        assert stored_rankings(url) == 0
        return
    slug, first = rankings[-1].chart.slug, rankings[0].date
    shown = [rendered("overview.ipynb", "", url), rendered("platform.ipynb", "slug=spotify", url),
             rendered("chart.ipynb", f"slug={slug}", url), rendered("chart.ipynb", f"slug={slug}&date={first}", url),
             rendered("admin/ranking.ipynb", f"slug={slug}", url)]
    charted = [e for e in rankings[-1].entries if e.position]
    if charted:
        shown.append(rendered("track.ipynb", f"uuid={charted[0].song.uuid}", url))
    names = {e.song.name for r in rankings for e in r.entries} | {e.song.credit_name for r in rankings
                                                                    for e in r.entries} | {rankings[-1].chart.name}
    for markup in shown:
        assert_escaped(markup, names)
    latest = shown[2]
    for entry in charted:  # every song of the latest ranking is listed on the chart page
        assert html.escape(entry.song.name[:40]) in latest


@SETTINGS
@given(data=st.data())
def test_any_song_metadata_the_contract_allows_renders_both_track_pages(fresh, data):
    url = fresh()
    song_ref = data.draw(song_refs())
    charted = data.draw(st.booleans())
    if charted:
        try:
            store_rankings(url, data.draw(ranking_bodies(TODAY, songs=[song_ref])))
        except PayloadError as exc:  # a chart text longer than its column: refused whole, the song stays uncharted
            assert re.fullmatch(r"chart '[^']*': \w+ is longer than \d+ characters", str(exc)), exc
            assert stored_rankings(url) == 0
    uuid = song_ref["uuid"]
    song = payloads.parse_song(data.draw(song_bodies(uuid)))
    identifiers = payloads.parse_identifiers(data.draw(identifier_bodies(uuid)))
    engine = make_engine(url)
    store_song(engine, song, identifiers)
    engine.dispose()
    viewer = rendered("track.ipynb", f"uuid={uuid}", url)
    admin = rendered("admin/track.ipynb", f"uuid={uuid}", url)
    assert "Metadata fetched" in viewer
    for markup in (viewer, admin):
        assert f"<h2>{html.escape(song.name)}</h2>" in markup
        assert_escaped(markup, [song.name, song.credit_name, *(a.name for a in song.artists), *song.genres,
                                *song.labels])
        for ident in identifiers:  # every identifier listed, linked only when it has a URL
            linked = f'href="{html.escape(ident.url, quote=True)}">{ident.identifier}</a>' if ident.url else None
            assert (linked in markup) if linked else f">{ident.identifier}</td>" in markup


@SETTINGS
@given(data=st.data())
def test_any_audience_series_the_contract_allows_renders_both_track_pages(fresh, data):
    url = fresh()
    song_ref = data.draw(song_refs())
    try:
        store_rankings(url, data.draw(ranking_bodies(TODAY, songs=[song_ref])))
    except PayloadError as exc:  # a chart text longer than its column: refused whole, no track to fetch for
        assert re.fullmatch(r"chart '[^']*': \w+ is longer than \d+ characters", str(exc)), exc
        assert stored_rankings(url) == 0
        return
    engine = make_engine(url)
    chosen = data.draw(st.lists(st.sampled_from(AUDIENCE_PLATFORMS), min_size=1, max_size=3,
                                unique_by=lambda p: p.code))
    ids = audience_platform_ids(engine, chosen)
    track_id = track_ids(engine, [song_ref["uuid"]])[song_ref["uuid"]]
    points = 0
    for platform in chosen:
        days = payloads.parse_audience(data.draw(audience_bodies(TODAY)))
        points += store_points(engine, track_id, ids[platform.code], days)
    engine.dispose()
    built = build("track.ipynb", f"uuid={song_ref['uuid']}", url)
    assert not built.problems, "\n".join(built.problems)
    rendered("admin/track.ipynb", f"uuid={song_ref['uuid']}", url)
    viewer = "".join(n.value for n in walk(built.widget) if isinstance(n, w.HTML))
    if not points:
        assert "No audience stored for this track yet" in viewer
        return
    assert "audience-growth" in classes(built.widget) and "daily points on" in viewer
    view = built.namespace["view"]
    for mode in (*MODES, "Values"):  # each mode of the audience figure, then one platform less
        view.modes.value = mode
        assert not shown_problems(view.audience_body), (mode, shown_problems(view.audience_body))
    if len(view.checks) > 1:
        next(iter(view.checks.values())).value = False
        assert not shown_problems(view.audience_body)


@settings(max_examples=30, deadline=None, database=SETTINGS.database)
@given(data=st.data(), field=st.sampled_from(["name", "isrc", "artist", "identifier"]))
def test_song_metadata_the_tables_cannot_hold_fails_alone_and_writes_nothing(fresh, data, field):
    """Too long for its column (PostgreSQL would abort the whole run): that song's PayloadError, nothing stored."""
    url = fresh()
    uuid = data.draw(st.uuids().map(str))
    body, idents = data.draw(song_bodies(uuid)), data.draw(identifier_bodies(uuid))
    song = body["object"]
    if field == "name":
        song["name"] = "n" * data.draw(st.integers(501, 2000))
    elif field == "isrc":
        song["isrc"] = {"value": "US" + "1" * data.draw(st.integers(19, 60)), "countryCode": "US"}
    elif field == "artist":
        song["artists"] = [{"uuid": "a" * 65, "name": "A"}]
    else:
        idents["items"] = [{"platformCode": "spotify", "identifier": "9" * 300, "url": None}]
    engine = make_engine(url)
    try:
        with pytest.raises(PayloadError, match=f"^the metadata of {uuid} cannot be stored: (object|identifiers)"):
            store_song(engine, payloads.parse_song(body), payloads.parse_identifiers(idents))
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(T)).scalar_one() == 0
    finally:
        engine.dispose()


def tagged_song(uuid: str, names: dict[str, str]) -> payloads.Song:
    """A song whose credit, artist, genre and labels are ``names`` (credit, artist, genre, label, second_label)."""
    return payloads.parse_song({"type": "song", "object": {
        "uuid": uuid, "name": "Bare tags", "isrc": None, "iswcs": [], "creditName": names["credit"],
        "artists": [{"uuid": uuid[:-2] + "a" + uuid[-1], "slug": None, "name": names["artist"], "appUrl": None,
                     "imageUrl": None}],
        "releaseDate": None, "copyright": "", "appUrl": None, "imageUrl": None, "duration": None, "explicit": False,
        "genres": [{"root": names["genre"], "sub": []}], "composers": [], "producers": [],
        "labels": [{"name": names["label"], "type": "major"}, {"name": names["second_label"], "type": "indie"}],
        "audio": None}, "errors": []})


def test_names_that_are_bare_tags_add_no_tag_to_the_page(fresh):
    """A credit, artist, genre or label named like a tag the page itself writes (``<tr>``, ``</div>``): both track
    pages hold exactly as many of each such tag as the same pages of a song with plain names (none was written as
    markup), and the viewer's page shows each name escaped."""
    url = fresh()
    tags = {"credit": "</td>", "artist": "<td>", "genre": "</div>", "label": "<tr>", "second_label": "</table>"}
    plain = {key: f"Plain {key}" for key in tags}
    songs = {"tags": "8d37fa7a-8c8c-49f0-b7bb-a1321bc62fd0", "plain": "8d37fa7a-8c8c-49f0-b7bb-a1321bc62fd1"}
    engine = make_engine(url)
    for kind, uuid in songs.items():
        store_song(engine, tagged_song(uuid, tags if kind == "tags" else plain), [])
    engine.dispose()
    for notebook in ("track.ipynb", "admin/track.ipynb"):
        markup = {kind: rendered(notebook, f"uuid={uuid}", url) for kind, uuid in songs.items()}
        for tag in tags.values():
            assert markup["tags"].count(tag) == markup["plain"].count(tag), f"{notebook}: {tag!r} written as markup"
        if notebook == "track.ipynb":
            assert [key for key, tag in tags.items() if html.escape(tag) not in markup["tags"]] == []
