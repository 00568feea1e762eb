"""A track's audience for the next 28 days with an 80 % band, backtested on its own last 4 weeks.

The method, in short (``python tests/bench/bench_forecast.py`` measures it over the local catalog):

- **What is modelled**: audience is a running total, so the model is fitted to its *daily increase*, on a log scale
  (``log(1 + increase)``: listening grows and fades multiplicatively). The forecast adds the predicted increases to
  the last stored value, so it never goes down.
- **Model**: additive damped-trend exponential smoothing (Holt's linear method with a damped trend) of the log
  increase. A hit's fading listening is a falling log rate, which the damped trend follows without running away.
  Its smoothing weights (level ``alpha``, trend ``beta``, damping ``phi``; :data:`GRID`) are the ones whose
  forecasts from every third day of the data best match the increase that followed, up to 28 days ahead: chosen
  for what they forecast, not for the next day (a one-step fit chases the day-to-day noise: over the local catalog
  it did no better than repeating the last increase).
- **Missing days**: not zero growth. The increase across a gap of k days is known only as a whole: it is one
  observation of the average daily increase (the day after the gap), the gap's other days are unobserved (the model
  carries its prediction over them), and errors are measured on stored days only.
- **Falls**: a running total that goes down (an identifier that stopped reporting, a correction) or jumps by more
  than :data:`JUMP` times the usual increase (an identifier added) is a level shift, not listening: that day's
  change is left out of the model; the forecast starts from the last stored value, shift included.
- **Backtest**: the last 4 weeks are held out, forecast from the last stored day before them with weights fitted on
  earlier days, and compared with each stored held-out day. ``backtest_mape`` is the mean absolute percentage error
  of the audience (the running total), ``growth_mape`` the same errors relative to the growth since that day.
- **Band**: the empirical 10 % and 90 % quantiles, per horizon (1-28 days), of the errors of rolling-origin
  backtests: forecasts from every stored day after the first 28 (weights fitted on those 28, the state updated day
  by day), each error divided by the forecast's growth at that horizon. A horizon with fewer than
  :data:`MIN_ERRORS` errors takes the quantiles of the longest horizon before it that has them. The band never goes
  below the last value and never narrows ahead.
- **Enough data**: at least :data:`MIN_POINTS` stored days before the held-out 4 weeks (so never fewer than 28);
  otherwise the record says why instead of forecasting. Only the last :data:`FIT_DAYS` days are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from soundcharts_lib.warehouse.audience_series import audience_by_platform

HORIZON = 28  # days forecast
HELD_OUT = 28  # days held out by the backtest
LEVEL = 0.8  # the band's coverage
MIN_POINTS = 28  # stored days needed before the held-out weeks
FIT_EVERY = 3  # the weights' fit forecasts from every third day
MIN_ERRORS = 8  # backtest errors a horizon needs for its own quantiles
FIT_DAYS = 365  # the last days used
JUMP = 10.0  # an increase over this many times the usual one (median of the 14 around it) is a level shift
WARM_UP = 7  # the weights' fit forecasts from the 7th observation on
METHOD = ("damped-trend exponential smoothing (Holt) of the log daily increase; 80 % band from the errors of "
          "rolling-origin backtests")
_ALPHA, _BETA, _PHI = np.meshgrid([0.1, 0.2, 0.3, 0.5, 0.7], [0.01, 0.05, 0.1, 0.2], [0.8, 0.9, 0.95, 0.98],
                                  indexing="ij")
GRID = np.stack([_ALPHA.ravel(), _BETA.ravel(), _PHI.ravel()], axis=1)  # (alpha, beta, phi) candidates


@dataclass(frozen=True)
class Forecast:
    """One platform's audience forecast for a track, as the track page draws it.

    Drawing it: the stored series as usual, then ``point`` against ``dates`` as a dashed line starting from
    (``last_date``, ``last_value``), and the band between ``lower`` and ``upper`` (shaded) on the same dates; the
    caption says ``method`` and the backtest error, e.g. "backtest error (last 4 weeks held out): 0.4 % of the
    audience, 12 % of its growth".

    - ``platform``: the platform's slug.
    - ``dates``: the forecast days, ``last_date`` + 1 to + 28 (+ ``horizon`` when asked for another; empty when
      there is no forecast).
    - ``point``: the expected audience on each of those days (a running total: never below ``last_value``, never
      decreasing).
    - ``lower``, ``upper``: the band holding the audience with 80 % probability (``level``), as backtested.
    - ``backtest_mape``: mean absolute percentage error of the audience over the last 4 weeks held out (%).
    - ``growth_mape``: the same errors as a percentage of the audience's growth over those weeks (%; None when it did
      not grow), the harder figure: what the dashed line's slope is worth.
    - ``method``: how it was made, one line; ``points_used``: stored days the forecast was fitted on.
    - ``last_date``, ``last_value``: the last stored day and its audience (None when nothing is stored).
    - ``reason``: why there is no forecast (e.g. "only 20 stored days before the last 4 weeks; a forecast needs 28"),
      None when there is one. ``ok`` says the same.
    """

    platform: str
    dates: tuple[date, ...] = ()
    point: tuple[float, ...] = ()
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    backtest_mape: float | None = None
    growth_mape: float | None = None
    method: str = METHOD
    points_used: int = 0
    last_date: date | None = None
    last_value: int | None = None
    level: float = LEVEL
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def frame(self) -> pd.DataFrame:
        """date, point, lower, upper: one row per forecast day."""
        return pd.DataFrame({"date": pd.Series(self.dates, dtype=object), "point": self.point,
                             "lower": self.lower, "upper": self.upper})


@dataclass(frozen=True)
class _Series:
    """A series on the calendar from its first to its last stored day: ``value`` the stored running total (NaN where
    not stored), ``y`` the observed log increase (NaN where unobserved), ``increase`` every day's increase as well as
    it is known (a gap's spread evenly over its days, a level shift's day as the days around it) for the fit."""

    value: np.ndarray
    y: np.ndarray
    increase: np.ndarray

    @property
    def stored(self) -> np.ndarray:
        return np.flatnonzero(~np.isnan(self.value))


def _calendar(dates: Sequence[date], values: Sequence[int]) -> _Series:
    """The stored days on the calendar, each day after a stored one observing its increase, a day after a gap of k
    days observing the gap's average daily increase; falls and jumps left unobserved (level shifts)."""
    days = np.fromiter((d.toordinal() for d in dates), dtype=np.int64, count=len(dates))
    value = np.full(int(days[-1] - days[0]) + 1, np.nan)
    value[days - days[0]] = np.asarray(values, dtype=np.float64)
    spread = np.full(len(value), np.nan)  # each day of a gap: the gap's average
    average = np.diff(value[days - days[0]]) / np.diff(days)
    spread[1:] = np.repeat(average, np.diff(days))
    rate = np.full(len(value), np.nan)
    rate[days[1:] - days[0]] = average
    observed = np.flatnonzero(~np.isnan(rate))
    usual = pd.Series(rate[observed]).rolling(15, center=True, min_periods=3).median().to_numpy()
    shift = observed[(rate[observed] < 0) | ((usual > 0) & (rate[observed] > JUMP * usual))]
    rate[shift] = np.nan
    spread[shift] = np.nan
    known = np.flatnonzero(~np.isnan(spread))
    increase = np.interp(np.arange(len(value)), known, spread[known]) if len(known) else np.zeros(len(value))
    increase[0] = 0.0
    return _Series(value, np.log1p(rate), increase)


def _filter(y: np.ndarray, params: np.ndarray, upto: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped-trend smoothing of ``y[:upto]`` for each row of ``params`` (alpha, beta, phi) at once: the level and
    the trend after each day (``upto`` x ``len(params)``). The state starts at the first observation; an unobserved
    day carries the prediction over."""
    alpha, beta, phi = params[:, 0], params[:, 1], params[:, 2]
    seen = np.flatnonzero(~np.isnan(y[:upto]))
    first = int(seen[0]) if len(seen) else upto
    level = np.full(len(params), y[first] if len(seen) else 0.0)
    trend = np.zeros(len(params))
    levels, trends = np.empty((upto, len(params))), np.empty((upto, len(params)))
    for t in range(upto):
        if t > first:
            predicted = level + phi * trend
            if np.isnan(y[t]):
                level, trend = predicted, phi * trend
            else:
                error = y[t] - predicted
                level, trend = predicted + alpha * error, phi * trend + alpha * beta * error
        levels[t], trends[t] = level, trend
    return levels, trends


def _paths(level: np.ndarray, trend: np.ndarray, phi: np.ndarray, horizon: int) -> np.ndarray:
    """Cumulative increase forecast 1..``horizon`` days ahead from states (one row each; increases never below 0)."""
    steps = np.cumsum(phi[:, None] ** np.arange(1, horizon + 1), axis=1)
    return np.cumsum(np.maximum(np.expm1(np.minimum(level[:, None] + steps * trend[:, None], 700.0)), 0.0), axis=1)


def _fit(series: _Series, upto: int) -> np.ndarray:
    """The (alpha, beta, phi) of :data:`GRID` whose forecasts from every :data:`FIT_EVERY` th day of the first
    ``upto`` days best match the increase that followed within them (squared error of the cumulative increase up to
    28 days ahead, relative to it): the weights are chosen for what they forecast, 28 days, not for the next day."""
    levels, trends = _filter(series.y, GRID, upto)
    done = np.cumsum(series.increase[:upto])
    seen = np.flatnonzero(~np.isnan(series.y[:upto]))
    loss = np.zeros(len(GRID))
    for origin in range(int(seen[0]) + WARM_UP if len(seen) else upto, upto - 1, FIT_EVERY):
        horizon = min(HORIZON, upto - 1 - origin)
        actual = done[origin + 1:origin + 1 + horizon] - done[origin]
        path = _paths(levels[origin], trends[origin], GRID[:, 2], horizon)
        loss += (((path - actual) / np.maximum(actual, 1.0)) ** 2).sum(axis=1)
    return GRID[int(np.argmin(loss))]


def _backtest(series: _Series, first_origin: int, held_origin: int) -> tuple[dict[int, list[float]], list[tuple]]:
    """Rolling-origin errors from every stored day from ``first_origin`` on, weights fitted on the days up to it:
    per horizon, each error divided by the forecast's growth; and (actual, forecast, base) of each held-out day,
    forecast from ``held_origin``."""
    end = len(series.value) - 1
    params = _fit(series, first_origin + 1)
    levels, trends = _filter(series.y, params[None, :], end + 1)
    stored = series.stored
    errors: dict[int, list[float]] = {h: [] for h in range(1, HORIZON + 1)}
    held: list[tuple] = []
    for origin in (int(t) for t in stored[(stored >= first_origin) & (stored < end)]):
        band = stored[(stored > origin) & (stored <= origin + HORIZON)]
        out = stored[stored > end - HELD_OUT] if origin == held_origin else band[:0]
        base = series.value[origin]
        reach = int(max(band.max(initial=origin), out.max(initial=origin)) - origin)
        path = base + _paths(levels[origin], trends[origin], params[2:], reach)[0]
        for target in band:
            h = int(target - origin)
            errors[h].append((series.value[target] - path[h - 1]) / max(path[h - 1] - base, 1.0))
        held += [(series.value[target], path[target - origin - 1], base) for target in out]
    return errors, held


def _quantiles(errors: dict[int, list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Per horizon the band's lower and upper error quantiles (never above, resp. below, 0); a horizon with too few
    errors takes the longest horizon before it that has enough (all errors pooled when none before it has)."""
    tail = (1 - LEVEL) / 2
    low, high = np.quantile([e for values in errors.values() for e in values], [tail, 1 - tail])
    lows, highs = [], []
    for h in range(1, HORIZON + 1):
        if len(errors[h]) >= MIN_ERRORS:
            low, high = np.quantile(errors[h], [tail, 1 - tail])
        lows.append(low)
        highs.append(high)
    return np.minimum(np.array(lows), 0.0), np.maximum(np.array(highs), 0.0)


def _percent(errors: list[float]) -> float | None:
    return round(float(np.mean(errors)) * 100, 3) if errors else None


def forecast_series(frame: pd.DataFrame, platform: str = "", *, horizon: int = HORIZON) -> Forecast:
    """The forecast of one series (``date``, ``value``: one row per stored day, identifiers summed, as
    :func:`~soundcharts_lib.warehouse.audience_series.audience_series` reads it) for ``horizon`` days; see the
    module's docstring."""
    frame = frame.dropna(subset=["value"]).sort_values("date")
    if frame.empty:
        return Forecast(platform, reason="no audience stored")
    last_date, last_value = frame["date"].iloc[-1], int(frame["value"].iloc[-1])
    frame = frame[frame["date"] > last_date - timedelta(days=FIT_DAYS)]
    dates, values = frame["date"].tolist(), frame["value"].astype("int64").tolist()
    before = sum(d <= last_date - timedelta(days=HELD_OUT) for d in dates)
    known = {"platform": platform, "points_used": len(dates), "last_date": last_date, "last_value": last_value}
    if len(dates) < MIN_POINTS:
        return Forecast(**known, reason=f"only {len(dates)} stored days; a forecast needs at least {MIN_POINTS}")
    if before < MIN_POINTS:
        return Forecast(**known, reason=f"only {before} stored days before the last 4 weeks; a forecast needs "
                                        f"{MIN_POINTS} there to be backtested")
    series = _calendar(dates, values)
    end, stored = len(series.value) - 1, series.stored
    held_origin = int(stored[stored <= end - HELD_OUT][-1])
    errors, held = _backtest(series, int(stored[MIN_POINTS - 1]), held_origin)
    if not any(errors.values()):
        return Forecast(**known, reason="no stored day has another within 4 weeks after it: the band cannot be "
                                        "measured")
    low, high = _quantiles(errors)
    params = _fit(series, end + 1)
    levels, trends = _filter(series.y, params[None, :], end + 1)
    growth = _paths(levels[end], trends[end], params[2:], horizon)[0]
    point = last_value + growth
    at = np.minimum(np.arange(horizon), HORIZON - 1)  # a horizon past 28 days keeps the 28th day's quantiles
    lower = np.maximum.accumulate(np.maximum(point + low[at] * np.maximum(growth, 1.0), last_value))
    upper = np.maximum.accumulate(point + high[at] * np.maximum(growth, 1.0))
    return Forecast(
        **known, dates=tuple(last_date + timedelta(days=h) for h in range(1, horizon + 1)),
        point=tuple(point.tolist()), lower=tuple(lower.tolist()), upper=tuple(upper.tolist()),
        backtest_mape=_percent([abs(actual - fc) / abs(actual) for actual, fc, _ in held if actual]),
        growth_mape=_percent([abs(actual - fc) / (actual - base) for actual, fc, base in held if actual > base]))


def track_forecast(engine: Engine, uuid: str, platforms: Sequence[str] | None = None, *,
                   end: date | None = None) -> dict[str, Forecast]:
    """``{platform: Forecast}`` of a stored track's audience (default: every platform holding some; identifiers
    summed per date), from its stored days up to ``end`` (default: all). ``NotStored`` for an unknown track or
    platform."""
    series = audience_by_platform(engine, uuid, platforms, end=end)
    return {slug: forecast_series(frame, slug) for slug, frame in series.items()}
