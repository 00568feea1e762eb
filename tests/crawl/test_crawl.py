"""Every dashboard page for every stored entity, on SQLite and PostgreSQL.

The warehouse is synced from the local API (:mod:`crawl.site`: whatever its catalog serves, nulls, histories that
start before the window, position-0 items), then every viewer page (overview, each platform, each chart on its
latest and its first stored date, every track; the roster view of each list) and every admin page (the lists,
each chart, each chart's latest ranking and every ranking of the chart with most rankings, each track) is built
by running its notebook's code as Voila does (:mod:`crawl.pages`). An exception, an error, not-found or loading
state, or a page without its main content fails the test, which lists every failed page, with the traceback of
the first page of each distinct failure.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from conftest import _fresh_pg_database

from soundcharts_lib.db import make_engine

from .pages import build
from .site import populate, survey


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
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


def viewer_pages(stored) -> list[tuple[str, str]]:
    pages = [("overview.ipynb", ""), ("overview.ipynb", "roster=1")]
    pages += [("platform.ipynb", f"slug={p}{mine}") for p in stored.platforms for mine in ("", "&roster=1")]
    for slug, (first, _last) in stored.charts.items():
        pages += [("chart.ipynb", f"slug={slug}"), ("chart.ipynb", f"slug={slug}&roster=1"),
                  ("chart.ipynb", f"slug={slug}&date={first}")]
    return pages + [("track.ipynb", f"uuid={uuid}") for uuid in stored.tracks]


def admin_pages(stored) -> list[tuple[str, str]]:
    pages = [("admin/charts.ipynb", ""), ("admin/tracks.ipynb", ""), ("admin/tracks.ipynb", "missing=metadata"),
             ("admin/tracks.ipynb", "missing=audience"), ("admin/roster.ipynb", ""), ("admin/runs.ipynb", ""),
             ("admin/audit.ipynb", "")]
    pages += [(f"admin/{nb}", f"slug={slug}") for slug in stored.charts for nb in ("chart.ipynb", "ranking.ipynb")]
    pages += [("admin/ranking.ipynb", f"slug={slug}&date={day}") for slug, days in stored.rankings.items()
              for day in days]
    return pages + [("admin/track.ipynb", f"uuid={uuid}") for uuid in stored.tracks]


def crawl(pages: list[tuple[str, str]], url: str) -> tuple[int, str]:
    """Build every page; (pages built, a report of the failures: empty when every page rendered)."""
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
    return len(pages), "\n\n".join(report)


@pytest.mark.parametrize("kind", ["viewer", "admin"])
def test_every_page_renders_for_every_stored_entity(site, kind, record_property):
    backend, url, stored, counts = site
    assert len(stored.tracks) == counts["tracks"] > 100 and len(stored.charts) > 10 and len(stored.platforms) > 3
    pages = viewer_pages(stored) if kind == "viewer" else admin_pages(stored)
    started = time.monotonic()
    crawled, report = crawl(pages, url)
    seconds = time.monotonic() - started
    record_property(f"{kind}_pages_{backend}", crawled)
    print(f"\n{backend}: {crawled} {kind} pages in {seconds:.0f} s ({len(stored.tracks)} tracks, "
          f"{len(stored.charts)} charts, {len(stored.platforms)} platforms)")
    assert not report, f"{backend}: pages that did not render:\n{report}"
