"""Chart sync against the real local server over loopback, on SQLite and on PostgreSQL."""

from datetime import date, timedelta

import pytest
import requests
from conftest import local_client
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry, SongRef
from soundcharts_lib.db import store
from soundcharts_lib.jobs.sync import ChartSync, today_utc

AUTH = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}
DATA_TABLES = ("platform", "track", "chart_ranking", "chart_ranking_entry")


def _get(srv, path, **params):
    r = requests.get(srv.base_url + path, headers=AUTH, params=params, timeout=10)
    r.raise_for_status()
    return r.json()


def _all_items(srv, path, **params):
    body = _get(srv, path, limit=100, offset=0, **params)
    items = list(body["items"])
    while body["page"]["next"]:
        r = requests.get(srv.base_url + body["page"]["next"], headers=AUTH, timeout=10)
        body = r.json()
        items.extend(body["items"])
    return items


@pytest.fixture
def client(localapi):
    with local_client(localapi) as c:
        yield c


@pytest.fixture
def two_charts(localapi):
    """Two charts of one platform, read from the server directly (not through the client)."""
    platform = _all_items(localapi, "/api/v2/chart/song/platforms")[0]["code"]
    charts = _all_items(localapi, f"/api/v2/chart/song/by-platform/{platform}")
    daily = [c["slug"] for c in charts if c["frequency"] and c["frequency"].lower().startswith("d")]
    return platform, (daily or [c["slug"] for c in charts])[:2]


def _dump(engine, table, exclude=()):
    with engine.connect() as conn:
        result = conn.execute(text(f"select * from {table} order by 1"))
        names = list(result.keys())
        cols = [c for c in names if c not in exclude]
        return [tuple(row._mapping[c] for c in cols) for row in result]


def test_backfill_stores_every_ranking_whole_and_equal_to_the_api(localapi, client, engine, two_charts):
    platform, slugs = two_charts
    result = ChartSync(client, engine, progress=False).run(platforms=[platform], charts=slugs, backfill_days=5)
    assert result.status == "success", result.errors
    start = today_utc() - timedelta(days=4)
    for slug in slugs:
        dates = [d for d in _all_items(localapi, f"/api/v2/chart/song/{slug}/available-rankings")
                 if start.isoformat() <= d[:10] <= today_utc().isoformat()]
        with engine.connect() as conn:
            stored = conn.execute(text(
                "select r.ranking_date, r.entry_count, r.id from chart_ranking r join chart c on c.id = r.chart_id "
                "where c.slug = :s and r.status = 'success' order by r.ranking_date"), {"s": slug}).all()
        assert [str(r[0]) for r in stored] == sorted(d[:10] for d in dates)
        raw = dates[0]
        items = _all_items(localapi, f"/api/v2.14/chart/song/{slug}/ranking/{raw}")
        with engine.connect() as conn:
            rows = conn.execute(text(
                "select e.position, t.uuid, t.name, e.metric, e.old_position, e.position_evolution, e.entry_state, "
                "e.time_on_chart from chart_ranking_entry e join track t on t.id = e.track_id "
                "join chart_ranking r on r.id = e.ranking_id join chart c on c.id = r.chart_id "
                "where c.slug = :s and r.ranking_date = :d order by e.position"),
                {"s": slug, "d": date.fromisoformat(raw[:10])}).all()
        ranked = [i for i in items if i["position"]]  # position-0 items are the ranking's drop-outs
        expected = [(i["position"], i["song"]["uuid"], i["song"]["name"], i.get("metric"), i.get("oldPosition"),
                     i.get("positionEvolution"), i.get("entryState") or None, i.get("timeOnChart")) for i in ranked]
        assert [tuple(r) for r in rows] == expected
        assert all(r[1] == len(ranked) for r in stored if str(r[0]) == raw[:10])


def test_second_identical_run_changes_no_row_and_fetches_no_ranking(localapi, client, engine, two_charts):
    platform, slugs = two_charts
    sync = ChartSync(client, engine, progress=False)
    first = sync.run(platforms=[platform], charts=slugs, backfill_days=4)
    assert first.rankings_stored > 0
    before = {t: _dump(engine, t) for t in DATA_TABLES}
    charts_before = _dump(engine, "chart", exclude=("last_seen_at", "last_success_at"))
    requests.post(localapi.base_url + "/__localapi/reset", timeout=5)
    second = sync.run(platforms=[platform], charts=slugs, backfill_days=4)
    assert second.rankings_stored == 0 and second.status == "success"
    assert {t: _dump(engine, t) for t in DATA_TABLES} == before
    assert _dump(engine, "chart", exclude=("last_seen_at", "last_success_at")) == charts_before
    hits = requests.get(localapi.base_url + "/__localapi/stats", timeout=5).json()["by_path"]
    assert not [p for p in hits if "/ranking/" in p], "a stored ranking was fetched again"


def test_latest_mode_and_force(client, engine, two_charts):
    platform, slugs = two_charts
    sync = ChartSync(client, engine, progress=False)
    assert sync.run(platforms=[platform], charts=slugs[:1]).rankings_stored == 1
    again = sync.run(platforms=[platform], charts=slugs[:1])
    assert again.rankings_stored == 0 and again.rankings_skipped == 1
    forced = sync.run(platforms=[platform], charts=slugs[:1], force=True)
    assert forced.rankings_stored == 1
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from chart_ranking")).scalar_one() == 1


def test_every_run_is_recorded(client, engine, two_charts):
    platform, slugs = two_charts
    ChartSync(client, engine, progress=False, trigger="notebook").run(platforms=[platform], charts=slugs[:1])
    with engine.connect() as conn:
        run = conn.execute(text("select kind, trigger, status, counts, params from sync_run")).one()
    assert run[:3] == ("sync_charts", "notebook", "success")
    assert "rankings_stored" in str(run[3]) and slugs[0] in str(run[4])


def test_a_ranking_is_stored_whole_or_not_at_all(engine):
    chart = ChartInfo(slug="c1", name="C", platform="spotify", type=None, frequency="daily", country_code=None,
                      country_name=None, city_name=None, max_results=2, web_url=None, metric_type=None,
                      metric_description=None)
    ids = store.upsert_charts(engine, [chart])

    def entry(pos, uuid):
        return RankingEntry(song=SongRef(uuid=uuid, name=uuid, credit_name=None, image_url=None), position=pos,
                            position_evolution=None, metric=None, entry_state=None, entry_date=None, rank_date=None,
                            old_position=None, time_on_chart=None, time_on_chart_unit=None)

    broken = Ranking(chart=chart, date=date(2026, 1, 2), date_raw="2026-01-02T00:00:00+00:00",
                     entries=[entry(1, "a"), entry(1, "b")])  # duplicate position: the insert fails
    with pytest.raises(IntegrityError):
        store.store_ranking(engine, ids["c1"], broken)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from chart_ranking")).scalar_one() == 0
        assert conn.execute(text("select count(*) from chart_ranking_entry")).scalar_one() == 0
        assert conn.execute(text("select count(*) from track")).scalar_one() == 0


def test_a_chart_the_table_cannot_hold_is_left_out_and_its_platform_still_synced(client, engine, two_charts):
    """A listed chart whose text is longer than its column fails alone, named; the platform's others sync."""
    platform, _ = two_charts
    listed = client.charts_by_platform

    def with_an_unfit_chart(slug, country_code=None):
        charts = listed(slug, country_code=country_code)
        return [charts[0].model_copy(update={"country_name": "x" * 300}), *charts[1:]]

    client.charts_by_platform = with_an_unfit_chart
    result = ChartSync(client, engine, progress=False).run(platforms=[platform])
    unfit, *others = with_an_unfit_chart(platform)
    assert result.failures == 1 and result.status != "success"
    assert result.errors == [f"chart '{unfit.slug}' left out: country_name is longer than 200 characters"]
    assert result.charts == len(others) and result.rankings_stored == len(others)
    with engine.connect() as conn:
        stored = {slug for (slug,) in conn.execute(text("select slug from chart"))}
    assert stored == {c.slug for c in others}
