"""Injection: SQL and HTML/JS payloads in track, artist and chart names from the API, and in search terms and
query strings, are stored and shown as text and never executed (SQLite and PostgreSQL).

The payloads come from a small real API; the real sync and audience fetch store them; then they are read back
byte for byte, searched for, shown by the dashboards (as escaped text, never markup) and served by the JSON
endpoint (as JSON strings), while every table stays whole.
"""

from __future__ import annotations

import html
import os
import re

import pytest
import requests
from cli.test_bad_input import CHART, MARKUP, crafted_api, entry, page, ranking, render_dashboard
from conftest import FAST
from reliability.test_snapshot import migrated
from sqlalchemy import func, inspect, select

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.api.payloads import local_date
from soundcharts_lib.db.models import Base, Chart, ChartRankingEntry, Track, TrackAudience
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.warehouse import admin_pages as admin_data
from soundcharts_lib.warehouse import analytics
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

pytestmark = pytest.mark.slow  # Voila pages and the endpoints

PAYLOADS = (
    "Robert'); DROP TABLE track; --",
    "1; DELETE FROM chart_ranking WHERE 1=1; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "\"><svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}} ${7*7} %s %(name)s \\x27",
    "Ça ira — 愛してる 🎵 \u202e",
)
UUIDS = [f"00000000-0000-4000-8000-0000000001{i:02d}" for i in range(len(PAYLOADS))]
CHART_NAME = "<b>Top</b> 100'; DROP TABLE chart; --"
DAY = "2025-03-14T00:00:00+00:00"


def song_entry(i: int) -> dict:
    item = entry(i + 1, uuid=UUIDS[i], name=PAYLOADS[i])
    item["song"]["creditName"] = PAYLOADS[-1 - i]
    return item


INJECTED = {"inject": [
    (r"/api/v2/chart/song/by-platform/deezer", page([{**CHART, "name": CHART_NAME}])),
    (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([song_entry(i) for i in range(len(PAYLOADS))])),
]}


def stored_names(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {u: (n, c) for u, n, c in conn.execute(select(Track.uuid, Track.name, Track.credit_name))}


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in inspect(conn).get_table_names()}


@pytest.fixture
def injected(db_url):
    """The database after a real sync and audience fetch of payload-named tracks on a payload-named chart."""
    with (crafted_api(INJECTED) as api, migrated(db_url) as engine,
          SoundchartsClient(f"{api}/inject", "soundcharts", "soundcharts", rate_limit_per_minute=FAST) as client):
        result = ChartSync(client, engine, progress=False).run(platforms=["deezer"], on_date=local_date(DAY))
        assert result.status == "success", result.errors
        fetched = AudienceDataProcessor(client, engine, progress=False).run(
            track_uuids=UUIDS[:3], platforms=["spotify"], start=local_date(DAY), end=local_date(DAY))
        assert fetched.status == "success", fetched.errors
        yield engine


def test_payloads_are_stored_as_text_and_every_table_stays_whole(injected):
    names = stored_names(injected)
    assert names == {u: (PAYLOADS[i], PAYLOADS[-1 - i]) for i, u in enumerate(UUIDS)}
    with injected.connect() as conn:
        assert conn.execute(select(Chart.name)).scalar_one() == CHART_NAME
        assert conn.execute(select(func.count()).select_from(ChartRankingEntry)).scalar_one() == len(PAYLOADS)
        assert conn.execute(select(func.count()).select_from(TrackAudience)).scalar_one() == 3
    counts = table_counts(injected)
    assert set(counts) == {t.name for t in Base.metadata.sorted_tables}  # no table dropped
    for payload in PAYLOADS[:8]:  # a search for an SQL or HTML payload finds the tracks holding it, as text
        holding = {u for u, texts in names.items() if any(payload.lower() in t.lower() for t in texts)}
        assert set(admin_data.tracks(injected, search=payload)["rows"]["uuid"]) == holding, payload
    for probe in ("' OR 1=1 --", "x'; DROP TABLE track; --", "') OR ('a'='a"):  # held by no name
        assert admin_data.tracks(injected, search=probe)["total"] == 0
        with pytest.raises(analytics.UnknownEntity):
            analytics.track_page(injected, probe)
        with pytest.raises(analytics.UnknownEntity):
            analytics.chart_page(injected, probe)
    assert table_counts(injected) == counts
    print(f"payloads: {len(PAYLOADS)} names + 1 chart name, stored byte for byte: yes, searches and lookups "
          f"with SQL: {3 * 3} run as text, tables intact: {len(counts)} of {len(counts)}")


def test_dashboards_show_payloads_as_escaped_text(injected, db_url, monkeypatch):
    shown = []
    with injected.connect() as conn:
        slug = conn.execute(select(Chart.slug)).scalar_one()
    pages = [("chart.ipynb", f"slug={slug}&date=2025-03-14")] + [("track.ipynb", f"uuid={u}") for u in UUIDS]
    for notebook, query in pages:
        widgets = render_dashboard(notebook, query, db_url, monkeypatch)
        states = [w for w in widgets if {"error-state", "notfound-state"} & set(w._dom_classes)]
        assert states == [], (notebook, query, [s.value for s in states])
        values = [str(w.value) for w in widgets if isinstance(getattr(w, "value", None), str)]
        assert not [v for v in values if MARKUP.search(v)], "a payload reached a page as markup"
        shown.append("\n".join(values))
    text = "\n".join(shown)
    for payload in PAYLOADS + (CHART_NAME,):
        assert html.escape(payload) in text or html.escape(payload, quote=False) in text, payload
    print(f"pages rendered: {len(pages)}, payloads shown escaped: {len(PAYLOADS) + 1}, raw markup: none")


def test_the_endpoint_serves_payloads_as_json_strings(injected, db_url, tmp_path):
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        proc = start_voila(port, env={**os.environ, "SOUNDCHARTS_DB_URL": db_url}, log=log)
        try:
            base = wait_ready(proc, port)
            for i, uuid in enumerate(UUIDS[:3]):
                resp = requests.get(f"{base}/soundcharts/audience/chart/{uuid}/spotify/", timeout=30)
                assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
                assert resp.json()["track"] == {"uuid": uuid, "name": PAYLOADS[i], "credit_name": PAYLOADS[-1 - i]}
            page_html = requests.get(f"{base}/voila/render/track.ipynb?uuid={UUIDS[4]}", timeout=120).text
            assert not re.search(r"<script>alert\('xss'\)", page_html)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    print("endpoint: payload names returned as JSON strings, exactly; the page HTML holds no payload markup")


def test_a_track_search_matches_names_as_plain_text(injected):
    with_8, with_9 = {UUIDS[8], UUIDS[1]}, {UUIDS[9], UUIDS[0]}  # track i's name and track 9 - i's credit
    holding = {PAYLOADS[8]: with_8, PAYLOADS[9]: with_9, "%": with_8, "%S %(": with_8, "\\x27": with_8, "_": with_8,
               "ça IRA": with_9, "ÇA ira": with_9, "愛してる": with_9, "DROP_TABLE": set()}
    for search, tracks in holding.items():
        assert set(admin_data.tracks(injected, search=search)["rows"]["uuid"]) == tracks, search


def test_a_search_with_other_letters_takes_glob_characters_literally(engine):
    """Non-ASCII letters take SQLite's GLOB path: its wildcards ``*``, ``?`` and ``[`` are plain text there too."""
    names = {"Ça *[live]?": UUIDS[0], "Ça live x": UUIDS[1], "ÉTÉ": UUIDS[2], "été indien": UUIDS[3]}
    with engine.begin() as conn:
        conn.execute(Track.__table__.insert(), [{"uuid": u, "name": n} for n, u in names.items()])
    holding = {"ÇA *[LIVE]?": {UUIDS[0]}, "ça *[l": {UUIDS[0]}, "ça *": {UUIDS[0]}, "ça ?": set(), "ça [": set(),
               "ça l": {UUIDS[1]}, "été": {UUIDS[2], UUIDS[3]}, "ÉTÉ I": {UUIDS[3]}, "e]?": {UUIDS[0]}}
    for search, tracks in holding.items():
        found = admin_data.tracks(engine, search=search)
        assert set(found["rows"]["uuid"]) == tracks and found["total"] == len(tracks), search
