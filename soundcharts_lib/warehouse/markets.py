"""One track across countries and platforms, side by side, from its chart history
(:func:`warehouse.analytics.track_chart_history`): per market, a peak-position grid, and positions by day."""

from __future__ import annotations

import pandas as pd

GLOBAL = "Global"
MARKET_COLUMNS = ["country", "platform", "charts", "entries", "first_date", "last_date", "peak_position",
                  "last_position"]


def _with_country(history: pd.DataFrame) -> pd.DataFrame:
    return history.assign(country=history["country_code"].fillna(GLOBAL).replace("", GLOBAL))


def markets(history: pd.DataFrame) -> pd.DataFrame:
    """One row per (country, platform) the track charted in: charts, entries (stored chart positions),
    first_date, last_date, peak_position, last_position (its best position on the last date); best peak first."""
    if history.empty:
        return pd.DataFrame(columns=MARKET_COLUMNS)
    rows = _with_country(history)
    keys = ["country", "platform"]
    out = rows.groupby(keys).agg(
        charts=("chart", "nunique"), entries=("position", "size"), first_date=("date", "min"),
        last_date=("date", "max"), peak_position=("position", "min")).reset_index()
    latest = rows[rows["date"] == rows.groupby(keys)["date"].transform("max")]
    out = out.merge(latest.groupby(keys)["position"].min().rename("last_position").reset_index(), on=keys)
    return out.sort_values(["peak_position", "country", "platform"])[MARKET_COLUMNS].reset_index(drop=True)


def peak_grid(history: pd.DataFrame) -> pd.DataFrame:
    """Best position ever per country (rows, "Global" first) and platform (columns); NA where it never charted."""
    if history.empty:
        return pd.DataFrame()
    grid = _with_country(history).pivot_table(index="country", columns="platform", values="position", aggfunc="min")
    order = sorted(grid.index, key=lambda c: (c != GLOBAL, c))
    return grid.loc[order].astype("Int64").rename_axis(index="country", columns="platform")


def positions_by_day(history: pd.DataFrame) -> pd.DataFrame:
    """Best position per day (rows) in each market "country · platform" (columns); NA where it was not charting."""
    if history.empty:
        return pd.DataFrame()
    rows = _with_country(history)
    rows["market"] = rows["country"] + " · " + rows["platform"]
    wide = rows.pivot_table(index="date", columns="market", values="position", aggfunc="min")
    return wide.astype("Int64").rename_axis(index="date", columns="market")
