"""Chart sync: discover charts, fetch the latest ranking, one date, or a backfill, and store them whole.

:func:`sync_charts` is the job (``sync-charts``, ``scheduled/sync_charts.ipynb``, the admin area's sync and backfill);
:class:`ChartSync` does the work with a client and an engine it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.api.payloads import ChartInfo, Ranking, local_date
from soundcharts_lib.config import Settings
from soundcharts_lib.db import store
from soundcharts_lib.db.runs import as_int, finish_run, start_run
from soundcharts_lib.db.tables import C
from soundcharts_lib.errors import ApiError, ConfigError, PayloadError, QuotaExhausted
from soundcharts_lib.jobs import rollups
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult, Tally
from soundcharts_lib.vocab import check_not_after, today_utc

log = logging.getLogger(__name__)

FETCH_WORKERS = 4  # rankings of one chart fetched at once during a backfill (the rate limiter still paces them)
RANKING_BATCH = 50  # rankings of one chart stored per transaction during a backfill (each one still whole)


@dataclass
class SyncTally(Tally):
    charts: int = 0
    rankings_stored: int = 0
    rankings_skipped: int = 0
    entries_stored: int = 0
    no_ranking: int = 0  # charts without any ranking on the date (or in the range) asked for
    stored_dates: set[date] = field(default_factory=set)  # ranking dates stored (new or replaced)
    window: tuple[date, date] | None = None  # the date or range asked for

    COUNTS = ("charts", "rankings_stored", "rankings_skipped", "entries_stored", "no_ranking", "failures")

    def did_work(self) -> bool:
        return bool(self.rankings_stored or self.rankings_skipped)

    def summary(self) -> str:
        line = (f"{self.status}: {self.charts} charts, {self.rankings_stored} rankings stored "
                f"({self.entries_stored} entries), {self.rankings_skipped} already stored, "
                f"{self.failures} failures")
        if self.no_ranking and self.window:
            lo, hi = self.window
            when = f"on {lo}" if lo == hi else f"from {lo} to {hi}"
            line += f"; no ranking {when} for {self.no_ranking} chart{'s' if self.no_ranking > 1 else ''}"
        return line


class ChartSync:
    """Runs chart syncs with one client into one database. Progress bars unless ``progress=False``."""

    def __init__(self, client, engine: Engine, *, trigger: str = "cli", notebook: str | None = None,
                 progress: bool = True, workers: int = FETCH_WORKERS):
        self.workers = workers
        self.client = client
        self.engine = engine
        self.trigger = trigger
        self.notebook = notebook  # the archived job notebook of a ``run-job`` run
        self.progress = progress
        self.unfit: dict[str, str] = {}  # charts discovery left out: slug -> why (see store.unfit_charts)

    # -- discovery -------------------------------------------------------------------------------------
    def discover(self, platforms: Sequence[str] | None = None, country: str | None = None) -> list[ChartInfo]:
        """Upsert the chart lists of ``platforms`` (default: every song-chart platform)."""
        chart_platforms = self.client.chart_platforms()
        store.upsert_platforms(self.engine, chart_platforms, charts=True)
        wanted = list(platforms) if platforms else [p.code for p in chart_platforms]
        found: list[ChartInfo] = []
        for slug in wanted:
            charts = self.client.charts_by_platform(slug, country_code=country)
            unfit = store.unfit_charts(charts)
            self.unfit.update(unfit)
            charts = [c for c in charts if c.slug not in unfit]
            store.upsert_charts(self.engine, charts, platform=slug, country=country)
            found.extend(charts)
        return found

    # -- a whole run -------------------------------------------------------------------------------------
    def run(self, *, platforms: Sequence[str] | None = None, charts: Sequence[str] | None = None,
            country: str | None = None, on_date: date | None = None, backfill_days: int | None = None,
            start: date | None = None, end: date | None = None, force: bool = False) -> SyncTally:
        """Sync the chosen charts: the latest ranking (default), ``on_date``, or a range of dates.

        A range is ``backfill_days`` ending today, or ``start``..``end``. Only dates the chart has
        (its available rankings) and that are not stored yet are fetched, unless ``force``.
        """
        params = {"platforms": platforms, "charts": charts, "country": country, "date": on_date,
                  "backfill_days": backfill_days, "start": start, "end": end, "force": force}
        result = SyncTally()
        result.run_id = start_run(self.engine, "sync_charts", self.trigger, params, notebook_path=self.notebook)
        try:
            targets = self._targets(platforms, charts, country)
            result.charts = len(targets)
            for slug, why in self.unfit.items():
                result.failures += 1
                result.errors.append(f"chart {slug!r} left out: {why}")
            if backfill_days:
                end = today_utc()
                start = end - timedelta(days=backfill_days - 1)
            if on_date or start:
                result.window = (on_date, on_date) if on_date else (start, end)
            bar = tqdm(targets, desc="charts", unit="chart", disable=not self.progress)
            for chart_id, slug in bar:
                bar.set_postfix_str(slug[:40])
                self._sync_chart(chart_id, slug, on_date, start, end, force, result)
        except QuotaExhausted as exc:
            result.failures += 1
            result.errors.append(f"quota exhausted: {exc}")
        except (ApiError, PayloadError) as exc:
            result.failures += 1
            result.errors.append(f"discovery failed: {exc}")
        except BaseException as exc:  # a crash or Ctrl-C: the run is recorded as failed, then re-raised
            result.failures += 1
            result.errors.append(f"interrupted: {type(exc).__name__}: {str(exc)[:300]}")
            raise
        finally:
            self._refresh_rollup(result)
            result.quota_remaining = as_int(getattr(self.client, "quota_remaining", None))
            finish_run(self.engine, result.run_id, status=result.status, counts=result.counts(),
                       errors=result.errors, quota_remaining=result.quota_remaining)
        return result

    def _targets(self, platforms, charts, country) -> list[tuple[int, str]]:
        if not charts:
            found = self.discover(platforms, country)
            ids = _chart_ids(self.engine, [c.slug for c in found])
            return [(ids[c.slug], c.slug) for c in found]
        ids = _chart_ids(self.engine, charts)
        missing = [s for s in charts if s not in ids]
        if missing:  # charts named by slug and never discovered: their ranking names their metadata
            store.upsert_charts(self.engine, [self.client.ranking_latest(s).chart for s in missing])
            ids = _chart_ids(self.engine, charts)
        return [(ids[s], s) for s in charts]

    def _sync_chart(self, chart_id: int, slug: str, on_date: date | None, start: date | None,
                    end: date | None, force: bool, result: SyncTally) -> None:
        try:
            if on_date is None and start is None:
                ranking = storable(self.client.ranking_latest(slug))
                self._store(chart_id, ranking, force, result)
                return
            stored = set() if force else store.stored_ranking_dates(self.engine, chart_id)
            lo, hi = (on_date, on_date) if on_date else (start, end)
            available = [raw for raw in self.client.available_rankings(slug) if lo <= local_date(raw) <= hi]
            wanted = [raw for raw in available if local_date(raw) not in stored]
            result.rankings_skipped += len(stored & _days(lo, hi))
            result.no_ranking += not available
            if not wanted:
                store.mark_chart_checked(self.engine, chart_id)
            wanted.sort(key=local_date)
            for i in range(0, len(wanted), RANKING_BATCH):
                fetched = []
                try:
                    for raw, got in self._fetch_dates(slug, wanted[i:i + RANKING_BATCH]):
                        if isinstance(got, QuotaExhausted):
                            raise got
                        if isinstance(got, Exception):
                            self._fail(chart_id, slug, got, result, local_date(raw), raw)
                        else:
                            fetched.append(got)
                finally:  # what was fetched before a quota stop is kept
                    self._store(chart_id, fetched, force, result)
        except QuotaExhausted:
            raise
        except (ApiError, PayloadError) as exc:
            self._fail(chart_id, slug, exc, result)

    def _fetch_dates(self, slug: str, raws: list[str]):
        """``(raw date, Ranking or the error)`` in order, fetched by ``workers`` threads: the client's rate limiter
        paces them, so the API's per-minute limit is used fully while each response is parsed and stored."""
        def one(raw):
            try:
                return raw, storable(self.client.ranking_for_date(slug, raw), local_date(raw))
            except (ApiError, PayloadError) as exc:
                return raw, exc

        if self.workers <= 1 or len(raws) <= 1:
            return [one(raw) for raw in raws]
        with ThreadPoolExecutor(min(self.workers, len(raws))) as pool:
            return list(pool.map(one, raws))

    def _store(self, chart_id: int, rankings, force: bool, result: SyncTally) -> None:
        rankings = rankings if isinstance(rankings, list) else [rankings]
        if not rankings:
            return
        written = store.store_rankings(self.engine, [(chart_id, r) for r in rankings], force=force)
        for ranking, n in zip(rankings, written, strict=True):
            if n:
                result.rankings_stored += 1
                result.entries_stored += n
                result.stored_dates.add(ranking.date)
            else:
                result.rankings_skipped += 1
        if not any(written):
            store.mark_chart_checked(self.engine, chart_id)

    def _refresh_rollup(self, result: SyncTally) -> None:
        """The rollups catch up with the rankings stored (see :mod:`soundcharts_lib.jobs.rollups`)."""
        if result.stored_dates:
            rollups.catch_up(self.engine, result.stored_dates)

    def _fail(self, chart_id, slug, exc, result, ranking_date=None, raw=None) -> None:
        message = f"{slug}: {exc}"
        log.warning("chart sync failed: %s", message)
        result.failures += 1
        result.errors.append(message)
        store.record_chart_failure(self.engine, chart_id, str(exc), ranking_date, raw)


def storable(ranking: Ranking, asked: date | None = None) -> Ranking:
    """``ranking`` if it is the one asked for and the tables can hold it, else ``PayloadError`` (it fails alone)."""
    if asked is not None and ranking.date != asked:
        raise PayloadError(f"asked for the ranking of {asked}, got the one of {ranking.date}", field="related.date")
    store.check_ranking(ranking)
    return ranking


def check_dates(on_date: date | None, start: date | None, end: date | None,
                today: date) -> tuple[date | None, date | None]:
    """The range asked for, its end capped at ``today``; ``ConfigError`` for half a range, a reversed one, or a date
    after ``today`` (the API has no ranking for it yet)."""
    if bool(start) != bool(end):
        raise ConfigError("--start-date and --end-date go together")
    if start and end and start > end:
        raise ConfigError("--start-date is after --end-date")
    check_not_after(on_date, today, "date")
    check_not_after(start, today, "start date")
    return start, min(end, today) if end else end


def _days(lo: date, hi: date) -> set[date]:
    return {lo + timedelta(days=i) for i in range((hi - lo).days + 1)}


def _chart_ids(engine: Engine, slugs: Sequence[str]) -> dict[str, int]:
    from soundcharts_lib.db.upsert import id_map

    with engine.connect() as conn:
        return id_map(conn, C, "slug", slugs)


@dataclass(frozen=True)
class SyncParams(Params):
    """``scheduled/sync_charts.ipynb``'s parameters, and the ``sync-charts`` command's range and progress bar.

    No chart and no platform: every chart of every platform. No date, range or backfill: the latest rankings."""

    JOB = "sync_charts"
    platforms: tuple[str, ...] = param(vocab.platform, many=True)
    charts: tuple[str, ...] = param(vocab.slug, many=True)
    country: str | None = param(vocab.country)  # chart discovery in one country
    date: date | None = param(vocab.iso_date)  # the ranking of that day
    backfill_days: int | None = param(vocab.days)  # every ranking of the last N days
    start_date: date | None = param(vocab.iso_date)  # a range, with end_date
    end_date: date | None = param(vocab.iso_date)
    force: bool = param(flag, False)  # refetch rankings already stored
    progress: bool = param(flag, True)  # progress bars

    def __post_init__(self):
        super().__post_init__()
        if sum(map(bool, (self.date, self.backfill_days, self.start_date))) > 1:
            raise vocab.BadValue("date, backfill_days and start_date/end_date exclude each other")


def sync_charts(settings: Settings, params: SyncParams | Mapping | None = None) -> RunResult:
    """The chart sync job, recorded as started by ``settings.trigger``: rankings stored, then the alert rules
    evaluated and their webhooks called (the result's note says what happened).

    Bad parameters or dates, and missing credentials, raise ``ConfigError`` before the database is created or
    migrated; charts that failed raise :class:`~soundcharts_lib.jobs.result.JobFailed` (their run and the charts
    record what).
    """
    from soundcharts_lib.curation import alerts
    from soundcharts_lib.jobs.runtime import job_context

    params = SyncParams.of(params)
    start, end = check_dates(params.date, params.start_date, params.end_date, today_utc())
    with job_context(settings) as (client, engine):
        tally = ChartSync(client, engine, trigger=settings.trigger, notebook=settings.job_notebook or None,
                          progress=params.progress).run(
            platforms=list(params.platforms) or None, charts=list(params.charts) or None, country=params.country,
            on_date=params.date, backfill_days=params.backfill_days, start=start, end=end, force=params.force)
        notes = (alerts.after_sync(engine),)  # never raises: alerts do not change the sync's outcome
    return tally.run_result(SyncParams.JOB, notes=notes, notebook=settings.job_notebook).raise_if_failed()
