"""Every dashboard page for every stored entity, on SQLite and PostgreSQL.

The warehouse is synced from the local API (:mod:`crawl.site`: whatever its catalog serves, nulls, histories that
start before the window, position-0 items), then every viewer page (overview, each platform, each chart on its
latest and its first stored date, every track, every artist; the roster view of each list) and every admin page (the
lists, each chart, each chart's latest ranking and every ranking of the chart with most rankings, each track) is
built by running its notebook's code as Voila does (:mod:`crawl.pages`). An exception, an error, not-found or loading
state, or a page without its main content fails the test, which lists every failed page, with the traceback of
the first page of each distinct failure.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from conftest import BACKENDS, _fresh_pg_database

from soundcharts_lib.db import make_engine

from .pages import build
from .site import populate, survey

pytestmark = pytest.mark.slow  # every page of every stored entity


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, localapi, tmp_path_factory):
    """(backend, database URL, what it stores, the runs' counts)."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('crawl') / 'crawl.db'}", None
    else:
        url, drop = _fresh_pg_database()
    try:
        counts = populate(url, localapi)
        engine = make_engine(url)
        stored = survey(engine)
        engine.dispose()
        yield request.param, url, stored, counts
    finally:
        if drop:
            drop()


def viewer_lists(stored) -> list[tuple[str, str]]:
    pages = [("overview.ipynb", ""), ("overview.ipynb", "roster=1")]
    pages += [("platform.ipynb", f"slug={p}{mine}") for p in stored.platforms for mine in ("", "&roster=1")]
    for slug, (first, _last) in stored.charts.items():
        pages += [("chart.ipynb", f"slug={slug}"), ("chart.ipynb", f"slug={slug}&roster=1"),
                  ("chart.ipynb", f"slug={slug}&date={first}")]
    pages += [("labels.ipynb", ""), ("labels.ipynb", "days=7")]
    pages += [("labels.ipynb", f"platform={p}") for p in stored.chart_platforms]
    pages += [("labels.ipynb", f"chart={slug}&days=365") for slug in stored.charts]
    busiest, least = stored.tracks[:6], stored.tracks[-1]
    return pages + [("compare.ipynb", f"tracks={','.join(busiest)}"),
                    ("compare.ipynb", f"tracks={busiest[0]},{least}&mode=indexed"),
                    ("compare.ipynb", f"artists={','.join(stored.compared_artists)}")]


def admin_lists(stored) -> list[tuple[str, str]]:
    pages = [("admin/charts.ipynb", ""), ("admin/tracks.ipynb", ""), ("admin/tracks.ipynb", "missing=metadata"),
             ("admin/tracks.ipynb", "missing=audience"), ("admin/roster.ipynb", ""), ("admin/runs.ipynb", ""),
             ("admin/audit.ipynb", "")]
    pages += [(f"admin/{nb}", f"slug={slug}") for slug in stored.charts for nb in ("chart.ipynb", "ranking.ipynb")]
    return pages + [("admin/ranking.ipynb", f"slug={slug}&date={day}") for slug, days in stored.rankings.items()
                    for day in days]


GROUPS = {  # one test each (a time limit each): lists and charts, then a page per stored track and artist
    "viewer": viewer_lists,
    "viewer-tracks": lambda stored: [("track.ipynb", f"uuid={uuid}") for uuid in stored.tracks],
    "viewer-artists": lambda stored: [("artist.ipynb", f"uuid={uuid}") for uuid in stored.artists],
    "admin": admin_lists,
    "admin-tracks": lambda stored: [("admin/track.ipynb", f"uuid={uuid}") for uuid in stored.tracks],
}


def crawl(pages: list[tuple[str, str]], url: str) -> str:
    """Build every page; a report of the failures (empty when every page rendered)."""
    failed: dict[str, list] = defaultdict(list)
    for notebook, query in pages:
        built = build(notebook, query, url)
        if built.problems:
            last_line = built.problems[0].strip().splitlines()[-1]
            failed[f"{notebook}: {last_line}"].append(built)
    report = []
    for what, builds in failed.items():
        report.append(f"{len(builds)} pages: {what}\n  e.g. {', '.join(b.address for b in builds[:5])}\n"
                      + "\n".join(builds[0].problems))
    return "\n\n".join(report)


@pytest.mark.timeout(1200)  # ~500 pages on a machine other test runs share
@pytest.mark.parametrize("group", GROUPS)
def test_every_page_renders_for_every_stored_entity(site, group, record_property):
    backend, url, stored, counts = site
    assert len(stored.tracks) == counts["tracks"] > 100 and len(stored.charts) > 10 and len(stored.platforms) > 3
    assert len(stored.artists) == counts["artists"] > 50
    assert stored.null_tracks["identifier url"], "the catalog served no identifier without a URL"
    pages = GROUPS[group](stored)
    started, cpu = time.monotonic(), time.process_time()
    report = crawl(pages, url)
    record_property("pages", len(pages))
    print(f"\n{backend}: {len(pages)} {group} pages in {time.monotonic() - started:.0f} s "
          f"({time.process_time() - cpu:.0f} s CPU); {len(stored.tracks)} tracks, {len(stored.charts)} charts, "
          f"{len(stored.platforms)} platforms")
    assert not report, f"{backend}: pages that did not render:\n{report}"
