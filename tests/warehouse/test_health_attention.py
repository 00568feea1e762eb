"""The overview's "charts needing attention" on any set of charts: active ones only, failing or stale by their
frequency's period plus the grace days (odd frequency words, no ranking at all, a ranking in the future), worst first
then by slug, cut at the limit; checked against the test's own model of the rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import OUTPUT, migrated_copies
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import insert

from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import Chart, Platform
from soundcharts_lib.warehouse import health

TODAY = date(2026, 12, 6)
FREQUENCIES = ["daily", "Daily", "weekly", "WEEK", "monthly", "month", "", None, "every 3 days", "hourly"]


def _period(frequency: str | None) -> int:
    """The test's own reading of a frequency: days for "day…", 7 for "week…", 31 for "month…", else 1."""
    text = (frequency or "").lower()
    return 7 if text.startswith("week") else 31 if text.startswith("month") else 1


def _model(charts: list[dict], limit: int) -> list[tuple]:
    bad = []
    for c in charts:
        last = c["last_ranking_date"]
        stale = last is None or (TODAY - last).days > _period(c["frequency"]) + health.GRACE_DAYS
        if c["is_active"] and (stale or c["consecutive_failures"] > 0):
            bad.append((c["slug"], c["consecutive_failures"], stale))
    return sorted(bad, key=lambda row: (-row[1], row[0]))[:limit]


@st.composite
def chart_sets(draw):
    slugs = draw(st.lists(st.text("ab-Z9", min_size=1, max_size=4), min_size=0, max_size=25, unique=True))
    return [{"slug": slug, "name": f"Chart {slug}", "platform_id": 1, "frequency": draw(st.sampled_from(FREQUENCIES)),
             "is_active": draw(st.booleans()), "consecutive_failures": draw(st.integers(0, 3)),
             "last_ranking_date": draw(st.none() | st.integers(-3, 40).map(lambda ago: TODAY - timedelta(days=ago)))}
            for slug in slugs]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    new = migrated_copies(tmp_path_factory.mktemp("attention"))
    return lambda: make_engine(new())


@settings(max_examples=60, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(charts=chart_sets(), limit=st.integers(1, 12))
def test_charts_needing_attention_follow_the_rule_on_any_charts(fresh, charts, limit):
    engine = fresh()
    try:
        with engine.begin() as conn:
            conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify"}])
            if charts:
                conn.execute(insert(Chart), charts)
        found = health.charts_needing_attention(engine, TODAY, limit)
        assert list(found.columns) == health.ATTENTION_COLUMNS
        assert [(r.slug, r.consecutive_failures, r.stale) for r in found.itertuples()] == _model(charts, limit)
        by_slug = {c["slug"]: c for c in charts}
        assert all(by_slug[r.slug]["last_ranking_date"] == r.last_ranking_date
                   and by_slug[r.slug]["name"] == r.name and r.platform == "spotify" for r in found.itertuples())
    finally:
        engine.dispose()
