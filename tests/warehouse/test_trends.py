"""Trend fields: the API's own fields are the truth (its spellings, hand-made frames with "", null and 0, scripted
rankings, and a database synced from the local API compared page by page with what the server sends over HTTP);
stored history gives the rest (peak, streak, drop-outs when the API sent none) and stands in only where the API
sent nothing."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import local_client
from served_ranking import expected, ranking_dates, served
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry, SongRef
from soundcharts_lib.db import make_engine, store, upgrade
from soundcharts_lib.db.models import ChartRanking, ChartRankingDropout, ChartRankingEntry, Track
from soundcharts_lib.errors import PayloadError
from soundcharts_lib.jobs.admin_actions import Runner
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.ui.admin.charts import RankingView
from soundcharts_lib.ui.chart import ChartView
from soundcharts_lib.warehouse import admin_pages as admin_data
from soundcharts_lib.warehouse import exports
from soundcharts_lib.warehouse import viewer_pages as viewer_data
from soundcharts_lib.warehouse.analytics import chart_dates
from soundcharts_lib.warehouse.trends import (
    api_state,
    api_unit,
    chart_dropouts,
    chart_movers,
    chart_trends,
    needs_history,
    resolve,
)

CHART = ChartInfo(slug="scripted", name="Scripted", platform="spotify", type="top", frequency="daily",
                  country_code=None, country_name=None, city_name=None, max_results=3, web_url=None,
                  metric_type=None, metric_description=None)
D = [date(2026, 3, 1) + timedelta(days=i) for i in range(5)]


def na(value) -> bool:
    return value is None or pd.isna(value)


def plain(value):
    return None if na(value) else value


def _entry(uuid: str, position: int, **api) -> RankingEntry:
    return RankingEntry(song=SongRef(uuid=uuid, name=f"Song {uuid}", credit_name="X", image_url=None),
                        position=position, **api)


def _ranking(day, uuids, chart=CHART):
    """A ranking without any of the API's trend fields (stored history must stand in)."""
    return Ranking(chart=chart, date=day, date_raw=f"{day}T00:00:00+00:00",
                   entries=[_entry(u, i + 1) for i, u in enumerate(uuids)])


# -- the API's spellings and the rules, on hand-made frames ---------------------------------------------------------

@pytest.mark.parametrize("sent, state", [
    ("new", "NEW"), ("NEW", "NEW"), ("re-entry", "RE-ENTRY"), ("Re-Entry", "RE-ENTRY"), ("reentry", "RE-ENTRY"),
    ("RE_ENTRY", "RE-ENTRY"), ("up", "UP"), ("Down", "DOWN"), ("SAME", "SAME"), (" same ", "SAME"),
    ("", None), (None, None), (float("nan"), None), ("climbing", None), (0, None),
])
def test_entry_state_spellings(sent, state):
    assert api_state(sent) == state


@pytest.mark.parametrize("sent, unit", [
    ("day", "day"), ("Days", "day"), ("DOC", "day"), ("doc", "day"), ("week", "week"), ("WEEKS", "week"),
    ("WOC", "week"), ("", None), (None, None), ("month", None),
])
def test_time_on_chart_units(sent, unit):
    assert api_unit(sent) == unit


DAY = date(2026, 10, 14)
BEFORE = date(2026, 9, 1)
# position, entry_state, old_position, entry_date, time_on_chart, unit sent, stored previous, stored count,
# a previous ranking stored -> previous_position, status, status_from, on_chart, on_chart_unit, on_chart_from
RULES = [
    (1, "new", None, DAY, 1, "day", None, 1, True, None, "NEW", "api", 1, "day", "api"),
    (2, "RE-ENTRY", 0, BEFORE, 40, "DOC", None, 1, False, None, "RE-ENTRY", "api", 40, "day", "api"),
    (3, "", 5, BEFORE, 21, "days", 9, 1, True, 5, "UP", "api-derived", 21, "day", "api"),
    (4, None, 2, BEFORE, 3, "WOC", None, 1, True, 2, "DOWN", "api-derived", 3, "week", "api"),
    (7, "", 7, BEFORE, 2, "weeks", None, 2, True, 7, "SAME", "api-derived", 2, "week", "api"),
    (8, "", 0, DAY, 1, "day", None, 1, False, None, "NEW", "api-derived", 1, "day", "api"),
    (9, None, None, BEFORE, 300, "Day", 3, 2, True, None, "RE-ENTRY", "api-derived", 300, "day", "api"),
    (10, "climbing", 12, BEFORE, 5, "month", None, 1, True, 12, "UP", "api-derived", 5, "day", "api"),
    (11, "up", 0, BEFORE, 6, None, None, 1, True, None, "UP", "api", 6, "day", "api"),
    # the API sent nothing about the entry's past: stored history decides
    (12, None, None, None, None, None, 14, 5, True, 14, "UP", "stored", 5, "day", "stored"),
    (13, "", None, None, None, None, None, 3, True, None, "RE-ENTRY", "stored", 3, "day", "stored"),
    (14, None, None, None, None, None, None, 1, True, None, "NEW", "stored", 1, "day", "stored"),
    (15, None, None, None, None, None, None, 1, False, None, None, "stored", 1, "day", "stored"),
    # oldPosition 0 alone: not in the previous ranking, says the API; NEW or RE-ENTRY from stored history
    (16, "", 0, None, 8, "day", 3, 2, True, None, "RE-ENTRY", "stored", 8, "day", "api"),
]


def test_resolve_takes_the_apis_fields_first_then_derives_then_falls_back_to_stored_history():
    frame = pd.DataFrame(
        [r[:9] for r in RULES],
        columns=["position", "entry_state", "old_position", "entry_date", "time_on_chart", "time_on_chart_unit",
                 "stored_previous", "stored_count", "has_previous"]).assign(date=DAY, unit="day")
    out = resolve(frame)
    got = [[plain(v) for v in row] for row in out[["previous_position", "status", "status_from", "on_chart",
                                                   "on_chart_unit", "on_chart_from"]].itertuples(index=False)]
    assert got == [list(r[9:]) for r in RULES]
    movement = [plain(m) for m in out["movement"]]
    assert movement == [None if r[9] is None else r[9] - r[0] for r in RULES]
    # stored history is read for exactly the rows that need it
    assert needs_history(frame).tolist() == [r[11] == "stored" or r[14] == "stored" for r in RULES]


# -- scripted rankings --------------------------------------------------------------------------------------------

@pytest.fixture
def scripted(engine):
    chart_id = store.upsert_charts(engine, [CHART])["scripted"]
    history = [["a", "b", "c"], ["b", "a", "c"], ["b", "c", "d"], ["a", "b", "d"], ["a", "b", "d"]]
    for day, uuids in zip(D, history, strict=True):
        store.store_ranking(engine, chart_id, _ranking(day, uuids))
    return engine


def test_without_the_apis_fields_stored_history_stands_in(scripted):
    t = chart_trends(scripted, "scripted", D[3]).set_index("uuid")
    assert t.loc["a", "status"] == "RE-ENTRY" and t.loc["a", "stored_streak"] == 1 and t.loc["a", "on_chart"] == 3
    assert t.loc["a", "stored_peak_position"] == 1 and t.loc["a", "stored_peak_date"] == D[0]
    assert na(t.loc["a", "previous_position"]) and na(t.loc["a", "movement"])
    assert t.loc["b", "status"] == "DOWN" and t.loc["b", "movement"] == -1 and t.loc["b", "stored_streak"] == 4
    assert t.loc["b", "stored_peak_date"] == D[1] and t.loc["b", "previous_position"] == 1
    assert t.loc["d", "status"] == "SAME" and t.loc["d", "movement"] == 0 and t.loc["d", "on_chart"] == 2
    assert set(t["status_from"]) == {"stored"} and set(t["on_chart_from"]) == {"stored"}
    assert set(t["history_start"]) == {D[0]}
    assert list(chart_dropouts(scripted, "scripted", D[3])["uuid"]) == ["c"]
    assert list(chart_dropouts(scripted, "scripted", D[2])["uuid"]) == ["a"]
    assert set(chart_dropouts(scripted, "scripted", D[2])["source"]) == {"stored history"}
    # the first stored ranking: no earlier one and no API state, so the state is unknown (not 3 x NEW)
    t0 = chart_trends(scripted, "scripted", D[0])
    assert t0["status"].isna().all() and t0["previous_position"].isna().all()
    assert chart_dropouts(scripted, "scripted", D[0]).empty
    latest = chart_trends(scripted, "scripted").set_index("uuid")  # default: the latest stored ranking
    assert latest.loc["a", "stored_streak"] == 2 and latest.loc["a", "status"] == "SAME"
    movers = chart_movers(scripted, "scripted", D[2])
    assert list(movers["new_entries"]["uuid"]) == ["d"] and list(movers["climbers"]["uuid"]) == ["c"]
    assert movers["dropouts_from"] == "stored history"
    assert chart_trends(scripted, "scripted", date(2020, 1, 1)).empty
    assert chart_trends(scripted, "no-such-chart").empty


def test_failed_rankings_gaps_peak_ties_and_an_empty_ranking(engine):
    """A failed ranking is no gap (only stored rankings count); a streak restarts after an absence; a peak reached
    twice dates from the first time; an empty stored ranking drops every track; a weekly chart counts weeks."""
    weekly = CHART.model_copy(update={"slug": "gaps", "frequency": "weekly"})
    chart_id = store.upsert_charts(engine, [weekly])["gaps"]
    w = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(7)]
    history = {0: ["a", "b", "c"], 1: ["b", "a"], 3: ["c", "a", "b"], 4: ["a", "c", "b"], 5: ["a", "c"], 6: []}
    for i, uuids in history.items():
        store.store_ranking(engine, chart_id, _ranking(w[i], uuids, weekly))
    store.record_chart_failure(engine, chart_id, "HTTP 500", w[2], None)
    fields = ["position", "previous_position", "movement", "stored_peak_position", "stored_peak_date", "on_chart",
              "stored_streak", "status"]

    def rows(day):
        t = chart_trends(engine, "gaps", day)
        assert set(t["on_chart_unit"]) <= {"week"}
        return {r.uuid: [plain(v) for v in r[1:]] for r in t[["uuid", *fields]].itertuples(index=False)}

    assert rows(w[3]) == {"c": [1, None, None, 1, w[3], 2, 1, "RE-ENTRY"],
                          "a": [2, 2, 0, 1, w[0], 3, 3, "SAME"],
                          "b": [3, 1, -2, 1, w[1], 3, 3, "DOWN"]}
    assert rows(w[5]) == {"a": [1, 1, 0, 1, w[0], 5, 5, "SAME"], "c": [2, 2, 0, 1, w[3], 4, 3, "SAME"]}
    assert rows(w[2]) == {}  # the failed date has no ranking
    assert list(chart_dropouts(engine, "gaps", w[5])["uuid"]) == ["b"]
    movers = chart_movers(engine, "gaps", w[4])
    assert list(movers["climbers"]["uuid"]) == ["a"] and list(movers["fallers"]["uuid"]) == ["c"]
    pd.testing.assert_frame_equal(movers["ranking"], chart_trends(engine, "gaps", w[4]))
    empty = chart_movers(engine, "gaps")  # the latest: stored with no entries
    assert empty["ranking"].empty and empty["new_entries"].empty
    assert empty["dropouts"][["uuid", "previous_position"]].values.tolist() == [["a", 1], ["c", 2]]


def test_the_first_stored_ranking_shows_the_apis_states_and_its_drop_outs(engine):
    """A chart synced from its 300th day on: the API's states, previous positions, time on chart and entry dates
    hold on the first stored ranking; stored history only knows that one ranking; the position-0 items (two with
    position 0, one with oldPosition 0) are stored apart from the entries and are the drop-outs."""
    chart_id = store.upsert_charts(engine, [CHART])["scripted"]
    day = D[0]
    ranking = Ranking(chart=CHART, date=day, date_raw=f"{day}T00:00:00+00:00", entries=[
        _entry("a", 1, entry_state="", old_position=2, entry_date=date(2025, 5, 1), time_on_chart=300,
               time_on_chart_unit="DOC"),
        _entry("b", 2, entry_state="re-entry", old_position=None, entry_date=date(2025, 6, 1), time_on_chart=41,
               time_on_chart_unit="day"),
        _entry("c", 3, entry_state=None, old_position=0, entry_date=day, time_on_chart=1, time_on_chart_unit="day"),
        _entry("x", 0, entry_state="down", old_position=3, entry_date=date(2025, 1, 1), time_on_chart=90,
               time_on_chart_unit="day"),
        _entry("y", 0, entry_state="", old_position=0, time_on_chart=4, time_on_chart_unit="day"),
    ])
    assert store.store_ranking(engine, chart_id, ranking) == 3
    t = chart_trends(engine, "scripted", day).set_index("uuid")
    assert [[plain(v) for v in t.loc[u, ["previous_position", "status", "status_from", "on_chart", "entry_date",
                                          "stored_peak_position", "stored_streak"]]] for u in "abc"] == [
        [2, "UP", "api-derived", 300, date(2025, 5, 1), 1, 1],
        [None, "RE-ENTRY", "api", 41, date(2025, 6, 1), 2, 1],
        [None, "NEW", "api-derived", 1, day, 3, 1]]
    gone = chart_dropouts(engine, "scripted", day)
    assert [[u, plain(p), s] for u, p, s in gone[["uuid", "previous_position", "source"]].values] == [
        ["x", 3, "api"], ["y", None, "api"]]
    with engine.connect() as conn:
        assert conn.execute(select(ChartRanking.entry_count)).scalar_one() == 3
        assert conn.execute(select(func.count()).select_from(ChartRankingDropout)).scalar_one() == 2
    # the next day without position-0 items: drop-outs from stored history, and a replaced ranking loses its own
    store.store_ranking(engine, chart_id, _ranking(D[1], ["c", "a"]))
    assert chart_dropouts(engine, "scripted", D[1])[["uuid", "source"]].values.tolist() == [["b", "stored history"]]
    store.store_ranking(engine, chart_id, _ranking(day, ["a", "b"]), force=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChartRankingDropout)).scalar_one() == 0
    assert chart_dropouts(engine, "scripted", day).empty


def test_a_position_other_than_0_twice_or_a_bad_drop_out_is_refused_before_any_write(engine):
    chart_id = store.upsert_charts(engine, [CHART])["scripted"]
    twice = _ranking(D[0], ["a", "b"]).model_copy(update={"entries": [_entry("a", 1), _entry("b", 1),
                                                                      _entry("c", 0), _entry("d", 0)]})
    with pytest.raises(PayloadError, match="position 1 twice"):
        store.check_ranking(twice)
    store.check_ranking(twice.model_copy(update={"entries": twice.entries[1:]}))  # two position-0 items are fine
    too_long = twice.model_copy(update={"entries": [twice.entries[0], _entry("c", 0, entry_state="x" * 40)]})
    with pytest.raises(PayloadError, match=r"items\[1\]\.entry_state"):  # a drop-out is checked like an entry
        store.check_ranking(too_long)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChartRanking)).scalar_one() == 0
    assert chart_id


def test_a_ranking_whose_drop_outs_cannot_be_written_is_not_stored_at_all(engine):
    """The drop-outs go in the ranking's transaction: when writing them fails (here a metric beyond BIGINT, which
    the pre-write check would have refused), neither the ranking, nor its entries, nor its tracks remain."""
    chart_id = store.upsert_charts(engine, [CHART])["scripted"]
    bad = _ranking(D[0], ["a", "b"]).model_copy(update={"entries": [_entry("a", 1), _entry("b", 2),
                                                                    _entry("c", 0, metric=2**63)]})
    with pytest.raises(DBAPIError):  # the driver's overflow, raised while writing the drop-outs
        store.store_ranking(engine, chart_id, bad)
    with engine.connect() as conn:
        counts = [conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (ChartRanking, ChartRankingEntry, ChartRankingDropout, Track)]
    assert counts == [0, 0, 0, 0]


# -- against the local API: every entry of every page ---------------------------------------------------------------

def table_cells(widget, css_class: str) -> list[list[str]]:
    """The body cells (as text) of the table in the part of ``widget`` that has ``css_class``."""
    def walk(node):
        yield node
        for child in getattr(node, "children", ()):
            yield from walk(child)

    part = next(node for node in walk(widget) if css_class in node._dom_classes)
    markup = "".join(node.value for node in walk(part) if isinstance(getattr(node, "value", None), str))
    body = markup[markup.index("<tbody>"):]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


FLAGS = {"NEW": "NEW", "RE": "RE-ENTRY", "=": "SAME", "▲": "UP", "▼": "DOWN"}


def shown(frame: pd.DataFrame) -> dict[int, tuple]:
    return {int(r.position): (r.uuid, r.status, plain(r.previous_position), int(r.on_chart), r.on_chart_unit,
                              r.entry_date) for r in frame.itertuples()}


@pytest.mark.slow
def test_pages_agree_with_each_other_and_with_what_the_server_sends(db_url, localapi):
    """Charts synced for their last days only, so their history starts before the stored window: for every stored
    ranking and every entry, the chart page's data, the admin ranking page's data and the export hold the server's
    own state, previous position, time on chart and entry date; the drop-outs are the server's position-0 items
    when it sent any (a chart whose rankings carry them is synced too, when the catalog has one)."""
    engine = make_engine(db_url)
    upgrade(engine)
    with local_client(localapi) as client:
        charts = [c for p in client.chart_platforms() for c in client.charts_by_platform(p.code)]
        daily = next(c for c in charts if c.slug == "spotify-top-200-us-daily")
        weekly = next(c for c in charts if (c.frequency or "").startswith("week") and (c.max_results or 0) >= 50)
        slugs = [daily.slug, weekly.slug]
        with_dropouts = next((c.slug for c in charts if (c.frequency or "").startswith("d") and any(
            not e.position for e in client.ranking_latest(c.slug).entries)), None)
        slugs += [with_dropouts] if with_dropouts and with_dropouts not in slugs else []
        result = ChartSync(client, engine, progress=False).run(charts=slugs, backfill_days=15)
        assert result.status == "success" and result.rankings_stored >= 12, result.errors
    statuses, checked, sent_dropouts = set(), 0, 0
    for slug in slugs:
        days = chart_dates(engine, slug)
        assert min(ranking_dates(localapi, slug)) < days[0]  # the chart's history starts before the stored window
        for day in days:
            items = served(localapi, slug, day)
            api = {i["position"]: expected(i, day) for i in items if i["position"]}
            page = viewer_data.chart_page(engine, slug, day)  # what ui/chart.py shows
            admin = admin_data.ranking_entries(engine, slug, day)
            export = exports.read_table(engine, "chart-ranking", exports.Params(chart=slug, date=day))
            assert shown(page["ranking"]) == shown(admin["entries"]) == shown(export) == api, (slug, day)
            if day == days[0]:  # as the two pages draw them: #, Prev, the flag / the state, time on chart
                drawn = ChartView(lambda on, data=page: data).render()
                listed = RankingView(lambda data=admin: data, [], Runner(engine)).render()
                assert [[c[0], c[1], FLAGS[c[2].split(" ")[0]], c[5]] for c in table_cells(drawn, "chart-ranking")] \
                    == [[c[0], c[1], c[2], c[6]] for c in table_cells(listed, "entry-list")], (slug, day)
                sent = sum(not i["position"] for i in items)
                if sent:  # both pages list the API's position-0 items
                    assert len(table_cells(drawn, "dropouts")) == len(table_cells(listed, "dropout-list")) == sent
            assert set(page["ranking"]["status_from"]) <= {"api", "api-derived"}
            gone = {(i["song"]["uuid"], i.get("oldPosition") or None) for i in items if not i["position"]}
            if gone:
                sent_dropouts += 1
                assert page["dropouts_from"] == admin["dropouts_from"] == "api"
                for frame in (page["dropouts"], admin["dropouts"]):
                    assert {(r.uuid, plain(r.previous_position)) for r in frame.itertuples()} == gone
            statuses |= set(page["ranking"]["status"])
            checked += len(api)
        first = viewer_data.chart_page(engine, slug, days[0])["ranking"]
        assert set(first["status"]) != {"NEW"} and first["on_chart"].max() > len(days)
    assert checked >= 12 * 50 and {"UP", "DOWN", "RE-ENTRY"} <= statuses
    assert bool(sent_dropouts) == bool(with_dropouts)
    engine.dispose()


def _independent(engine, slug, on):
    """Stored-history figures of the ranking of ``on`` recomputed in plain Python from the stored rows."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select r.ranking_date, t.uuid, e.position from chart_ranking_entry e join chart_ranking r "
            "on r.id = e.ranking_id join chart c on c.id = r.chart_id join track t on t.id = e.track_id "
            "where c.slug = :s and r.status = 'success'"), {"s": slug}).all()
    rows = [(date.fromisoformat(str(r[0])), r[1], r[2]) for r in rows]
    dates = sorted({r[0] for r in rows if r[0] <= on})
    pos = {(r[0], r[1]): r[2] for r in rows if r[0] <= on}
    out = {}
    for day, uuid in pos:
        if day != on:
            continue
        seen = [d for d in dates if (d, uuid) in pos]
        streak = 0
        for d in reversed(dates):
            if (d, uuid) not in pos:
                break
            streak += 1
        best = min(pos[(d, uuid)] for d in seen)
        out[uuid] = {"position": pos[(on, uuid)], "streak": streak, "peak": best,
                     "peak_date": min(d for d in seen if pos[(d, uuid)] == best)}
    return out


def test_stored_history_figures_equal_an_independent_computation(tmp_path):
    """Sync 45 days of a chart, then recompute its last rankings' peaks, peak dates and streaks independently."""
    eng = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(eng)
    with running(LocalApiConfig(seed=11, history_days=45)) as srv, local_client(srv) as client:
        chart = next(c for p in client.chart_platforms() for c in client.charts_by_platform(p.code)
                     if (c.frequency or "").lower().startswith("d"))
        result = ChartSync(client, eng, progress=False).run(charts=[chart.slug], backfill_days=60)
        assert result.status == "success" and result.rankings_stored >= 40
    dates = chart_dates(eng, chart.slug)
    streaks = set()
    for day in dates[-10:]:
        expected_ = _independent(eng, chart.slug, day)
        trends = chart_trends(eng, chart.slug, day)
        assert len(trends) == len(expected_) > 0 and set(trends["history_start"]) == {dates[0]}
        for row in trends.itertuples():
            e = expected_[row.uuid]
            assert (row.position, row.stored_streak, row.stored_peak_position, row.stored_peak_date) == \
                (e["position"], e["streak"], e["peak"], e["peak_date"])
        streaks |= set(trends["stored_streak"])
    assert 1 in streaks and max(streaks) >= 10  # fresh entries and long runs both occur
