"""A sample of the crawl (tests/crawl) in Voila + headless Chromium, on the synced database with metadata fetched for
every track: the 5 busiest tracks (their audience fetched too), 5 tracks with fields the API left null (an identifier
without a URL, no ISRC, no image, no duration, no release date) and 3 charts. Each page shows its main content and
no error, not-found or loading state; an identifier without a URL is shown as text."""

from __future__ import annotations

import pytest
from conftest import copy_db, local_client
from crawl.site import survey
from playwright.sync_api import expect

from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata

from .conftest import expect_rendered, screenshot, sql

pytestmark = pytest.mark.browser

NULL_FIELDS = ("identifier url", "isrc", "image", "duration", "release date")
SAMPLE = ([f"busiest-{i}" for i in range(5)] + [f"null {field}" for field in NULL_FIELDS]
          + [f"chart-{i}" for i in range(3)])


@pytest.fixture(scope="module")
def sample(synced_sqlite_url, localapi, tmp_path_factory) -> dict:
    """The database URL and, per SAMPLE name, the page to open."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("crawl-sample") / "sample.db")
    engine = make_engine(url)
    with local_client(localapi) as client:
        meta = store_metadata(client, engine, progress=False)
        assert meta.status == "success" and meta.stored == meta.tracks, meta.errors
        stored = survey(engine)
        AudienceDataProcessor(client, engine, progress=False).run(track_uuids=stored.tracks[:5])
    engine.dispose()
    pages = {f"busiest-{i}": f"track.ipynb?uuid={uuid}" for i, uuid in enumerate(stored.tracks[:5])}
    taken = set(stored.tracks[:5])
    for field in NULL_FIELDS:  # a different track for each field where the catalog has one
        found = stored.null_tracks[field]
        assert found, f"the catalog served no track without {field}"
        uuid = next((u for u in found if u not in taken), found[0])
        taken.add(uuid)
        pages[f"null {field}"] = f"track.ipynb?uuid={uuid}"
    slugs = list(stored.charts)
    charts = list(dict.fromkeys([*stored.rankings, slugs[0], slugs[len(slugs) // 2], slugs[-1]]))[:3]
    pages.update({f"chart-{i}": f"chart.ipynb?slug={slug}" for i, slug in enumerate(charts)})
    return {"url": url, "pages": pages}


def identifiers(db_url: str, uuid: str, *, linked: bool) -> list[str]:
    """The track's identifiers with (``linked``) or without a URL, in the page's order."""
    return [i for (i,) in sql(db_url, f"""
        SELECT i.identifier FROM track_platform_identifier i JOIN track t ON t.id = i.track_id
        WHERE t.uuid = ? AND i.url IS {'NOT ' if linked else ''}NULL
        ORDER BY i.platform_code, i.is_default DESC, i.identifier""", uuid)]


@pytest.mark.parametrize("mode", ["snapshot", "live"])
@pytest.mark.parametrize("name", SAMPLE)
def test_sampled_page_renders_in_chromium(voila, sample, page, name, mode):
    address = sample["pages"][name]
    server = voila(sample["url"], env={"SOUNDCHARTS_SNAPSHOTS": "on" if mode == "snapshot" else "off"})
    page.goto(f"{server}/voila/render/{address}")
    if address.startswith("chart.ipynb"):
        expect_rendered(page, ".chart-ranking")
        expect(page.locator(".chart-summary")).to_be_visible()
        assert page.locator(".chart-ranking tbody tr").count() > 0
    else:
        expect_rendered(page, ".track-summary h2")
        for part in (".track-kpis", ".chart-history", ".charting-now", ".audience"):
            expect(page.locator(part)).to_be_visible()
        uuid = address.split("uuid=")[1]
        name_stored = sql(sample["url"], "SELECT name FROM track WHERE uuid = ?", uuid)[0][0]
        expect(page.locator(".track-summary h2")).to_have_text(name_stored)
        if name == "null identifier url":  # every identifier listed; those with a URL linked, the others as text
            assert set(identifiers(sample["url"], uuid, linked=False)) <= set(
                page.locator(".track-summary td").all_inner_texts())
            assert page.locator(".track-summary td a").all_inner_texts() == identifiers(sample["url"], uuid,
                                                                                         linked=True)
    assert page.locator("text=Could not load this page").count() == 0
    screenshot(page, f"crawl-{mode}-{name.replace(' ', '-')}")
