"""The artist page's widgets on its data (SQLite + PostgreSQL, no browser): who they are with an image or a
placeholder, their tracks, chart positions, followers and listeners with growth or "not enough history", notes and
downloads; hostile artists (null or empty image, empty country, no genres, no tracks, markup in every string) render
whole and escaped; the notebook as Voila runs it for a stored, an unknown and a malformed UUID; the artist links."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from urllib.parse import unquote

import bqplot as bq
import pandas as pd
import pytest
from crawl.pages import build, shown_problems
from warehouse.test_artist_pages import AR, D0, HOSTILE, UNKNOWN, T, d, filled_warehouse

from soundcharts_lib.curation import roster
from soundcharts_lib.ui import artist as artist_ui
from soundcharts_lib.ui import chart as chart_ui
from soundcharts_lib.ui import overview
from soundcharts_lib.ui import platform as platform_ui
from soundcharts_lib.ui.admin import charts as admin_charts
from soundcharts_lib.ui.admin import roster as admin_roster
from soundcharts_lib.ui.admin import track as admin_track
from soundcharts_lib.ui.common import html_table
from soundcharts_lib.ui.credits import artist_link, artists_column, artists_html
from soundcharts_lib.ui.figures import lines_chart
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.warehouse import admin_pages, artist_pages, exports, viewer_pages
from soundcharts_lib.warehouse.analytics import UnknownEntity
from ui.test_ui import classes, html_of, walk


@pytest.fixture
def db(engine):
    return filled_warehouse(engine)


def page(engine, uuid: str):
    return artist_ui.build_artist(artist_pages.artist_page(engine, uuid),
                                  lambda: artist_pages.chart_history(engine, uuid))


def card_of(root, css: str):
    found = [node for node in walk(root) if css in getattr(node, "_dom_classes", ())]
    assert len(found) == 1, css
    return found[0]


def downloads_in(root) -> dict[str, bytes]:
    """``{table: CSV bytes}`` of every CSV link under ``root``."""
    links = re.findall(r'data-table="([^"]+)" download="[^"]+\.csv" href="data:text/csv;base64,([^"]+)"',
                       html_of(root))
    return {table: base64.b64decode(body) for table, body in links}


def test_a_charting_artist_shows_who_their_tracks_positions_and_series(db):
    root = page(db, AR[1])
    found = classes(root)
    assert {"artist-summary", "artist-kpis", "compare-picker", "artist-tracks", "artist-positions",
            "artist-followers", "artist-listeners", "artist-notes"} <= found
    summary = html_of(card_of(root, "artist-summary"))
    assert "<h2 " in summary and ">A1</h2>" in summary and "pop, electro" in summary and "Developing" in summary
    assert "url('https://img.example/a1.jpg')" in summary and "artist-placeholder" in summary
    assert "Metadata not fetched yet: run <code>soundcharts fetch-artists --artist-uuid " + AR[1] in summary
    kpis = re.findall(r'class="sc-kpi">([^<]+)<', html_of(card_of(root, "artist-kpis")))
    assert kpis == ["3", "2", "3", "8", "1", "2"]  # tracks stored, charted, charts, entries, best, charting now
    tracks = html_of(card_of(root, "artist-tracks"))
    assert tracks.index(">Song<") < tracks.index(">Duet<") < tracks.index(">Lonely<")  # most entries first
    assert f'href="track.ipynb?uuid={T[1]}"' in tracks and "(best #1)" in tracks
    positions = card_of(root, "artist-positions")
    lines = [m for node in walk(positions) if isinstance(node, bq.Figure) for m in node.marks
             if isinstance(m, bq.Lines) and m.line_style != "dashed"]
    assert sorted(m.labels[0] for m in lines) == ["Deezer France", "Spotify Global", "Spotify US"]
    assert any(isinstance(m, bq.Lines) and m.line_style == "dashed" for node in walk(positions)
               if isinstance(node, bq.Figure) for m in node.marks)  # the note on Duet, drawn on
    assert f"since {d(5)}" in html_of(positions)
    followers = html_of(card_of(root, "artist-followers"))
    assert "Followers are running totals" in followers and "a day without a stored point is a gap" in followers
    growth = html_of(card_of(root, "artist-followers-growth"))
    assert "+490 (+49.00%)" in growth and growth.count("not enough history") == 4  # spotify's 90; instagram's 3
    listeners = html_of(card_of(root, "artist-listeners"))
    assert "they go up and down" in listeners and "not enough history" in listeners
    notes = html_of(card_of(root, "artist-notes"))
    assert "playlist add" in notes and ">Duet<" in notes and "not theirs" not in notes


def test_each_table_downloads_what_the_page_read(db):
    data = artist_pages.artist_page(db, AR[1])
    offered = downloads_in(page(db, AR[1]))
    assert {"artist-tracks", "artist-charts", "artist-followers", "artist-followers-growth", "artist-listeners",
            "artist-listeners-growth", "artist-notes"} <= set(offered)
    assert offered["artist-tracks"] == exports.to_csv(data["tracks"])
    assert offered["artist-followers"] == exports.to_csv(data["followers"]["wide"].reset_index())
    header = offered["artist-followers-growth"].decode().splitlines()[0]
    assert header == "platform,days,from_date,to_date,units,pct"


@pytest.mark.parametrize("who", [3, 4])
def test_an_artist_with_nothing_or_hostile_values_renders_whole(db, who):
    root = page(db, AR[who])
    markup = html_of(root)
    assert not shown_problems(root) and "<script" not in markup and "<b>Robert" not in markup
    summary = html_of(card_of(root, "artist-summary"))
    assert "artist-placeholder" in summary and "artist-image" not in summary  # no image, or an empty address
    assert "<dt>Country</dt>" not in summary and "<dt>Genres</dt>" not in summary  # "" country, no usable genre
    assert "No followers stored for this artist yet" in html_of(card_of(root, "artist-followers"))
    assert "fetch-artists --artist-uuid " + AR[who] in html_of(card_of(root, "artist-listeners"))
    assert "None of their stored tracks has a stored chart entry." in html_of(card_of(root, "artist-positions"))
    if who == 3:
        assert "No track of this artist is stored" in html_of(card_of(root, "artist-tracks"))
        assert "artist-notes" not in classes(root)
    else:
        assert "&lt;b&gt;Robert&#x27;); DROP TABLE artist;--&lt;/b&gt; &amp; &quot;Co&quot;" in summary
        assert ">&lt;i&gt;x&lt;/i&gt;<" in summary and ">L<" not in summary  # the stage escaped; initial "<"
        assert ">&lt;</span>" in summary


@pytest.mark.parametrize("url, shown", [(None, False), ("", False), ("javascript:alert(1)", False),
                                        ("https://x.example/a'b.jpg", False), ("http://x.example/a.png", True)])
def test_only_a_web_address_is_drawn_as_the_image(url, shown):
    markup = artist_ui.avatar({"name": "", "image_url": url})
    assert ("artist-image" in markup) is shown and ">?</span>" in markup


def test_the_page_as_voila_runs_it(db):
    url = db.url.render_as_string(hide_password=False)
    assert not build("artist.ipynb", f"uuid={AR[1].upper()}", url).problems  # any case of a stored UUID
    assert not build("artist.ipynb", f"uuid={AR[3]}", url).problems
    for query, words in ((f"uuid={UNKNOWN}", f"no artist &#x27;{UNKNOWN}&#x27; is stored"),
                         ("uuid=abc%3Cb%3E", "no artist &#x27;abc&lt;b&gt;&#x27; is stored (not a SoundCharts UUID)"),
                         ("", "the link has no uuid")):
        built = build("artist.ipynb", query, url)
        state = "notfound-state" if query else "error-state"
        assert f"shows the {state}" in built.problems and words in html_of(built.widget), query
        assert not any("Traceback" in node.value for node in walk(built.widget) if hasattr(node, "value")
                       and isinstance(node.value, str))


def test_a_malformed_uuid_is_an_artist_not_stored():
    with pytest.raises(UnknownEntity, match=r"no artist 'x{60}' is stored \(not a SoundCharts UUID\)"):
        artist_ui.artist_uuid(Query.parse("uuid=" + "x" * 80))
    with pytest.raises(BadQuery, match="the link has no uuid"):
        artist_ui.artist_uuid(Query.parse("uuid="))
    assert artist_ui.artist_uuid(Query.parse(f"uuid={AR[1].upper()}")) == AR[1]


def test_artist_names_link_to_their_page_inside_their_credit():
    a, b, c = ({"uuid": AR[i], "name": n} for i, n in ((1, "Jay"), (2, "Jay-Z"), (3, "<b>B</b>")))
    link = {key: f'<a class="artist-link" href="artist.ipynb?uuid={AR[i]}">{label}</a>'
            for key, i, label in (("a", 1, "Jay"), ("b", 2, "Jay-Z"), ("c", 3, "&lt;b&gt;B&lt;/b&gt;"))}
    # the credit's own words kept, each name linked where it is spelt (the longer first: "Jay" is not "Jay-Z")
    assert artists_html([a, b], "Jay-Z feat. Jay") == f"{link['b']} feat. {link['a']}"
    assert artists_html([a, c], "<b>B</b> & Jay") == f"{link['c']} &amp; {link['a']}"
    assert artists_html([a, b], "Jay & Co") == f"{link['a']} &amp; Co · {link['b']}"  # not in the credit: after it
    assert artists_html([a, b], None) == f"{link['a']}, {link['b']}"  # no credit: the artists
    assert artists_html(None, "Some <i>credit</i>") == "Some &lt;i&gt;credit&lt;/i&gt;"  # a name alone: no link
    assert artists_html([], float("nan")) == ""
    assert artist_link(AR[4], "", prefix="../") == f'<a class="artist-link" href="../artist.ipynb?uuid={AR[4]}">' \
                                                   f"{AR[4]}</a>"
    column = artists_column({T[1]: [a]})
    rows = pd.DataFrame({"uuid": [T[1], T[2]], "artist": ["Jay", "credit 2"]})
    assert [column.cell(row) for _, row in rows.iterrows()] == [link["a"], "credit 2"]


def test_lines_break_at_gaps_and_values_tick_round_numbers():
    frame = pd.DataFrame({"date": [d(9), d(8), d(5), d(4), D0], "value": [1.0, 2.0, 3.0, 4.0, 1234.0]})
    figure = lines_chart({"a": frame}, "value", gaps=True).children[0]
    line, = figure.marks
    assert [unquote(str(x))[:10] for x in line.x] == [str(d(9)), str(d(8)), str(d(7)), str(d(5)), str(d(4)),
                                                      str(d(3)), str(D0)]
    assert [None if v != v else v for v in line.y] == [1.0, 2.0, None, 3.0, 4.0, None, 1234.0]
    assert figure.axes[1].tick_values.tolist() == [0, 500, 1000, 1500] and figure.axes[1].scale.max == 1500
    joined = lines_chart({"a": frame}, "value").children[0].marks[0]
    assert len(joined.x) == 5  # without gaps=True every point joins the next


def test_every_viewer_table_of_tracks_links_their_artists(db):
    at = datetime.combine(D0, datetime.min.time())
    link = {i: f'<a class="artist-link" href="artist.ipynb?uuid={AR[i]}">A{i}</a>' for i in (1, 2)}
    home = overview.build_overview(viewer_pages.overview(db, today=D0, now=at))
    top = html_of(card_of(home, "top-artists"))
    assert top.index(link[1]) < top.index(link[2]) and '<td class="num">8</td>' in top  # A1: 8 appearances
    tracks = html_of(card_of(home, "top-tracks"))
    assert f"<td>{link[2]} &amp; {link[1]}</td>" in tracks and "<td>Nobody stored</td>" not in tracks
    assert f"<td>{link[1]}</td>" in tracks  # Song, credited "A1"
    ranking = html_of(chart_ui.ranking_table(viewer_pages.chart_page(db, "sp-global", D0)))
    assert f"<td>{link[2]}</td>" in ranking and f"<td>{link[1]}</td>" in ranking
    spotify = html_of(platform_ui.build_platform(viewer_pages.platform_page(db, "spotify", today=D0)))
    assert link[1] in spotify and link[2] in spotify
    mine = overview.top_artists(pd.DataFrame(columns=["uuid", "name", "appearances", "tracks"]), mine=True)
    assert "None of your roster&#x27;s artists" in html_of(mine)


def test_alerts_link_the_artist_they_are_about(db):
    alerts = pd.DataFrame({
        "fired_at": [datetime(2026, 3, 10, 9)] * 3, "rule": ["fans", "top", "stale"],
        "kind": ["artist_growth", "top_entry", "chart_stale"], "subject": ["s"] * 3, "message": ["m"] * 3,
        "details": [{"artist_uuid": AR[4], "artist": HOSTILE, "series": "followers"},
                    {"track_uuid": T[2], "track": "Duet", "artist": "A2 & A1", "chart": "sp-us"},
                    {"chart": "dz-fr"}]})
    shown = html_of(overview.recent_alerts(alerts, credits=artist_pages.credits(db, [T[2]])))
    assert f'href="artist.ipynb?uuid={AR[4]}">&lt;b&gt;Robert' in shown and "<b>Robert" not in shown
    assert f'href="artist.ipynb?uuid={AR[2]}">A2</a> &amp; <a class="artist-link" href="artist.ipynb?uuid={AR[1]}"' \
        in shown


def test_admin_pages_link_artists_to_the_viewer_page(db):
    entries = admin_pages.ranking_entries(db, "sp-global", D0)
    table = html_table(entries["entries"], admin_charts.entry_columns(entries["credits"]))
    assert f'href="../artist.ipynb?uuid={AR[2]}">A2</a>' in table
    found = admin_pages.tracks(db, search="Duet")
    assert f'href="../artist.ipynb?uuid={AR[1]}">A1</a>' in html_table(found["rows"],
                                                                      admin_track.track_columns(found["credits"]))
    assert admin_pages.tracks(db, search="Ghost")["credits"] == {}
    roster.add(db, "artist", AR[3], actor="test")
    roster.add(db, "artist", UNKNOWN, actor="test")
    listed = html_table(roster.items(db), admin_roster.ROSTER_COLUMNS)
    assert f'href="../artist.ipynb?uuid={AR[3]}">Only a name</a>' in listed  # stored: its label linked
    assert f"artist.ipynb?uuid={UNKNOWN}" not in listed  # followed before it is stored: no page yet
