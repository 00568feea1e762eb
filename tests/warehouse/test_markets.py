"""One track across markets: per market, the peak grid and positions by day, from a known chart history."""

from __future__ import annotations

from datetime import date

import pandas as pd

from soundcharts_lib.db import make_engine
from soundcharts_lib.warehouse import analytics
from soundcharts_lib.warehouse import markets as compare

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def history() -> pd.DataFrame:
    rows = [  # date, chart, platform, country_code, position
        (D1, "sp-us-daily", "spotify", "US", 12), (D2, "sp-us-daily", "spotify", "US", 8),
        (D3, "sp-us-daily", "spotify", "US", 9), (D2, "sp-us-weekly", "spotify", "US", 5),
        (D1, "sp-global", "spotify", None, 40), (D3, "sp-global", "spotify", None, 31),
        (D2, "am-fr", "apple-music", "FR", 3), (D3, "am-global", "apple-music", "", 70)]
    frame = pd.DataFrame(rows, columns=["date", "chart", "platform", "country_code", "position"])
    return frame.assign(chart_name=frame["chart"])


def test_markets():
    out = compare.markets(history())
    assert out.columns.tolist() == compare.MARKET_COLUMNS
    assert out.values.tolist() == [
        ["FR", "apple-music", 1, 1, D2, D2, 3, 3],
        ["US", "spotify", 2, 4, D1, D3, 5, 9],  # two charts; the last date's best position
        ["Global", "spotify", 1, 2, D1, D3, 31, 31],
        ["Global", "apple-music", 1, 1, D3, D3, 70, 70]]


def test_peak_grid_and_positions_by_day():
    grid = compare.peak_grid(history())
    assert grid.index.tolist() == ["Global", "FR", "US"] and grid.columns.tolist() == ["apple-music", "spotify"]
    assert grid.astype(object).where(grid.notna(), None).values.tolist() == [[70, 31], [3, None], [None, 5]]
    days = compare.positions_by_day(history())
    assert days.index.tolist() == [D1, D2, D3]
    assert days["US · spotify"].tolist() == [12, 5, 9] and days["FR · apple-music"].isna().tolist() == [True, False,
                                                                                                        True]


def test_no_history():
    empty = history().iloc[0:0]
    assert compare.markets(empty).empty and compare.peak_grid(empty).empty and compare.positions_by_day(empty).empty


def test_on_a_synced_track(synced_sqlite_url):
    engine = make_engine(synced_sqlite_url, read_only=True)
    uuid = analytics.top_tracks(engine, days=30, limit=1)["uuid"].iloc[0]
    hist = analytics.track_chart_history(engine, uuid)
    engine.dispose()
    out = compare.markets(hist)
    assert out["entries"].sum() == len(hist) and out["charts"].sum() == hist["chart"].nunique()
    assert (out["peak_position"] <= out["last_position"]).all()
    grid = compare.peak_grid(hist)
    assert int(grid.min().min()) == int(hist["position"].min())
