"""Audience series: fetch tracks' audience per platform and store every (identifier, day) point.

The client asks in windows of at most 90 days and follows pagination. Fetches are incremental: from the
last stored date minus ``overlap_days`` (the API fills late values), or the whole requested range with
``force``. A first fetch covers the last 90 days. Missing days stay missing and are counted as gaps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.api.payloads import AudienceDay, Platform
from soundcharts_lib.config import Settings
from soundcharts_lib.db import store_audience as store
from soundcharts_lib.db.runs import start_run
from soundcharts_lib.errors import ApiError, BadRequest, ConfigError, PayloadError, QuotaExhausted
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult, Tally, recorded
from soundcharts_lib.jobs.runtime import migrated_engine, require_credentials
from soundcharts_lib.vocab import check_not_after, today_utc

log = logging.getLogger(__name__)

OVERLAP_DAYS = 3
FIRST_FETCH_DAYS = 90
CHARTING_DAYS = 30
BATCH = 8  # (track, platform) fetches handed to the client's workers at a time
EARLIEST = date(2000, 1, 1)  # no audience before; an earlier date is a typo that would spend a call per 90 days


@dataclass
class AudienceTally(Tally):
    tracks: int = 0
    fetches: int = 0
    up_to_date: int = 0
    empty: int = 0
    days: int = 0
    points: int = 0
    gaps: int = 0

    COUNTS = ("tracks", "fetches", "up_to_date", "empty", "days", "points", "gaps", "failures")

    def did_work(self) -> bool:
        return bool(self.fetches)

    def summary(self) -> str:
        return (f"{self.status}: {self.tracks} tracks, {self.fetches} track/platform series fetched "
                f"({self.days} days, {self.points} points, {self.gaps} missing days), "
                f"{self.empty} without data, {self.up_to_date} up to date, {self.failures} failures")


@dataclass
class _Fetch:
    """One track on one platform over start..end; ``days`` or ``error`` once fetched."""

    track_id: int
    uuid: str
    platform: str
    platform_id: int
    start: date
    end: date
    days: list[AudienceDay] = field(default_factory=list)
    error: ApiError | PayloadError | None = None


def choose_platforms(requested: Sequence[str] | None,
                     supported: Sequence[Platform]) -> tuple[list[str], list[str]]:
    """``(wanted, skipped messages)``: every audience platform when none is requested."""
    codes = [p.code for p in supported]
    if not requested:
        return codes, []
    wanted = [slug for slug in dict.fromkeys(requested) if slug in codes]
    skipped = [f"{slug}: no song audience on this platform (audience platforms: {', '.join(codes)})"
               for slug in dict.fromkeys(requested) if slug not in codes]
    return wanted, skipped


def check_request(uuids: Sequence[str] | None, limit: int | None, start: date | None, end: date | None,
                  today: date, subject: str = "tracks") -> tuple[date | None, date]:
    """The range asked for, its end capped at ``today`` (default ``today``); ``ConfigError`` for a reversed
    range, a date before :data:`EARLIEST` or after today, or a bad limit (``uuids``: the ``subject`` named)."""
    if limit is not None and not 1 <= limit <= vocab.MAX_LIMIT:
        raise ConfigError(f"limit must be from 1 to {vocab.MAX_LIMIT}, got {limit}")
    if uuids and limit is not None:
        raise ConfigError(f"limit applies to the stale-first selection, not to named {subject}")
    for name, day in (("start date", start), ("end date", end)):
        if day is not None and day < EARLIEST:
            raise ConfigError(f"{name} {day} is before {EARLIEST}: no audience is that old")
    check_not_after(start, today, "start date")
    end = min(end or today, today)
    if start is not None and start > end:
        raise ConfigError(f"start date {start} is after end date {end}")
    return start, end


def first_day(start: date | None, end: date, stored: tuple[date, date] | None, force: bool, overlap_days: int) -> date:
    """The first day to ask of a series: from the last stored day minus the overlap (incremental) unless ``force``
    or a ``start`` before the first stored day; else ``start``, or the :data:`FIRST_FETCH_DAYS` up to ``end``. A
    day after ``end`` means nothing is left to ask."""
    lo = start or end - timedelta(days=FIRST_FETCH_DAYS - 1)
    if not force and stored is not None and stored[1] is not None and not (start is not None and start < stored[0]):
        lo = max(lo if start else date.min, stored[1] - timedelta(days=overlap_days))
    return lo


def count_gaps(days: Sequence[AudienceDay]) -> int:
    """Days missing between the first and the last day received."""
    dates = sorted({d.date for d in days})
    return sum((b - a).days - 1 for a, b in zip(dates, dates[1:], strict=False))


class AudienceDataProcessor:
    """Fetches and stores audience with one client into one database. Progress bars unless ``progress=False``.

    ``supported`` is the API's audience platform list when the caller already has it.
    """

    def __init__(self, client, engine: Engine, *, trigger: str = "cli", notebook: str | None = None,
                 progress: bool = True, workers: int = 4, overlap_days: int = OVERLAP_DAYS,
                 supported: Sequence[Platform] | None = None):
        self.client = client
        self.engine = engine
        self.trigger = trigger
        self.notebook = notebook  # the archived job notebook of a ``run-job`` run
        self.progress = progress
        self.workers = workers
        self.overlap_days = overlap_days
        self._supported = list(supported) if supported is not None else None

    def supported_platforms(self) -> list[Platform]:
        """Platforms with song audience, from ``/referential/platforms/social`` (asked once)."""
        if self._supported is None:
            self._supported = self.client.social_platforms()
        return self._supported

    def run(self, *, track_uuids: Sequence[str] | None = None, platforms: Sequence[str] | None = None,
            limit: int | None = None, start: date | None = None, end: date | None = None,
            force: bool = False) -> AudienceTally:
        """Fetch ``track_uuids`` (default: stored tracks, stalest first, at most ``limit``) on ``platforms``
        (default: every audience platform). Bad arguments raise ``ConfigError`` before anything is written."""
        today = today_utc()
        start, end = check_request(track_uuids, limit, start, end, today)
        supported = self.supported_platforms()
        wanted, skipped = require_platforms(platforms, supported)
        params = {"track_uuids": list(track_uuids or [])[:50], "platforms": wanted, "limit": limit,
                  "start": start, "end": end, "force": force}
        result = AudienceTally(skipped=list(skipped))
        result.run_id = start_run(self.engine, "fetch_audience", self.trigger, params, notebook_path=self.notebook)
        with recorded(self.engine, self.client, result):
            pids = store.audience_platform_ids(self.engine, [p for p in supported if p.code in wanted])
            targets = self._targets(track_uuids, list(pids.values()), limit, today, result)
            result.tracks = len(targets)
            plans = [self._plan(tid, uuid, slug, pids[slug], start, end, force, result)
                     for tid, uuid in targets for slug in wanted]
            self._fetch_all([p for p in plans if p is not None], result)
        return result

    # -- what to fetch -----------------------------------------------------------------------------------
    def _targets(self, uuids: Sequence[str] | None, platform_ids: list[int], limit: int | None, today: date,
                 result: AudienceTally) -> list[tuple[int, str]]:
        if not uuids:
            return store.stale_tracks(self.engine, platform_ids, today=today, limit=limit,
                                      charting_days=CHARTING_DAYS)
        uuids = list(dict.fromkeys(uuids))
        ids = store.track_ids(self.engine, uuids)
        targets = []
        for uuid in uuids:
            if uuid not in ids:  # not seen in any chart yet: its name comes from the API
                try:
                    song = self.client.song(uuid)
                except QuotaExhausted:
                    raise
                except (ApiError, PayloadError) as exc:
                    self._fail(f"{uuid}: {exc}", result)
                    continue
                ids[uuid] = store.ensure_track(self.engine, uuid, song.name, song.credit_name, song.image_url)
            targets.append((ids[uuid], uuid))
        return targets

    def _plan(self, track_id: int, uuid: str, platform: str, platform_id: int, start: date | None, end: date,
              force: bool, result: AudienceTally) -> _Fetch | None:
        """The window to ask: incremental from the last stored day minus the overlap unless ``force`` or a
        ``start`` before the first stored day; None when nothing is left to ask."""
        stored = None if force else store.stored_range(self.engine, track_id, platform_id)
        lo = first_day(start, end, stored, force, self.overlap_days)
        if lo > end:
            result.up_to_date += 1
            return None
        return _Fetch(track_id, uuid, platform, platform_id, lo, end)

    # -- fetching and storing ----------------------------------------------------------------------------
    def _fetch_one(self, job: _Fetch) -> _Fetch:
        """Runs on a client worker thread; API errors are kept on the job, not raised."""
        try:
            job.days = self.client.song_audience(job.uuid, job.platform, job.start, job.end)
        except (ApiError, PayloadError) as exc:
            job.error = exc
        return job

    def _fetch_all(self, jobs: list[_Fetch], result: AudienceTally) -> None:
        unsupported: set[str] = set()
        with tqdm(total=len(jobs), desc="audience", unit="series", disable=not self.progress) as bar:
            for i in range(0, len(jobs), BATCH):
                batch = [j for j in jobs[i:i + BATCH] if j.platform not in unsupported]
                done = self.client.fetch_many(self._fetch_one, batch, workers=self.workers)
                for job in done:  # what was fetched is stored even when the quota ran out meanwhile
                    if not isinstance(job.error, QuotaExhausted):
                        self._store(job, unsupported, result)
                bar.update(min(BATCH, len(jobs) - i))
                quota = next((j.error for j in done if isinstance(j.error, QuotaExhausted)), None)
                if quota is not None:
                    raise quota

    def _store(self, job: _Fetch, unsupported: set[str], result: AudienceTally) -> None:
        if isinstance(job.error, BadRequest):  # the API's answer for a platform without song audience
            if job.platform not in unsupported:
                unsupported.add(job.platform)
                reason = job.error.api_message or str(job.error)
                result.skipped.append(f"{job.platform}: no song audience ({reason})")
            return
        if job.error is not None:
            self._fail(f"{job.uuid} on {job.platform}: {job.error}", result)
            return
        try:
            points = store.store_points(self.engine, job.track_id, job.platform_id, job.days)
        except PayloadError as exc:  # a point the table cannot hold: this series fails alone, nothing of it written
            self._fail(f"{job.uuid} on {job.platform}: {exc}", result)
            return
        result.fetches += 1
        result.days += len(job.days)
        result.gaps += count_gaps(job.days)
        result.empty += not job.days
        result.points += points

    def _fail(self, message: str, result: AudienceTally) -> None:
        log.warning("audience fetch failed: %s", message)
        result.failures += 1
        result.errors.append(message)


def require_platforms(requested: Sequence[str] | None,
                      supported: Sequence[Platform]) -> tuple[list[str], list[str]]:
    """:func:`choose_platforms`, with ``ConfigError`` when no requested platform has song audience."""
    wanted, skipped = choose_platforms(requested, supported)
    if not wanted:
        raise ConfigError(skipped[0] if skipped else "the API lists no platform with song audience")
    return wanted, skipped


@dataclass(frozen=True)
class AudienceParams(Params):
    """``scheduled/fetch_audience.ipynb``'s parameters, those of the ``fetch-audience`` command.

    No track: stored tracks, charting and stalest first (at most ``limit``). No platform: every audience platform.
    No start date: from the last stored day (a first fetch covers 90 days). No end date: today (UTC)."""

    JOB = "fetch_audience"
    track_uuid: tuple[str, ...] = param(vocab.uuid, many=True)
    platform: tuple[str, ...] = param(vocab.platform, many=True)
    all_tracks: bool = param(flag, False)  # stored tracks, stalest first (the default without track_uuid)
    limit: int | None = param(vocab.limit)
    start_date: date | None = param(vocab.iso_date)
    end_date: date | None = param(vocab.iso_date)
    force: bool = param(flag, False)  # refetch the whole range instead of from the last stored day
    progress: bool = param(flag, True)  # progress bars

    def __post_init__(self):
        super().__post_init__()
        if self.track_uuid and self.all_tracks:
            raise vocab.BadValue("track_uuid and all_tracks exclude each other")


def fetch_audience(settings: Settings, params: AudienceParams | Mapping | None = None) -> RunResult:
    """The audience job, recorded as started by ``settings.trigger``. Parameters, dates and platforms are checked
    (``ConfigError``) before the database is opened or created; a fetch that failed raises
    :class:`~soundcharts_lib.jobs.result.JobFailed` (the run records which)."""
    from soundcharts_lib.api.client import SoundchartsClient

    params = AudienceParams.of(params)
    track_uuids, platforms = list(params.track_uuid) or None, list(params.platform) or None
    check_request(track_uuids, params.limit, params.start_date, params.end_date, today_utc())
    require_credentials(settings)
    with SoundchartsClient.from_settings(settings) as client:
        supported = client.social_platforms()
        require_platforms(platforms, supported)
        engine = migrated_engine(settings)
        try:
            tally = AudienceDataProcessor(client, engine, trigger=settings.trigger,
                                          notebook=settings.job_notebook or None, progress=params.progress,
                                          supported=supported).run(
                track_uuids=track_uuids, platforms=platforms, limit=params.limit, start=params.start_date,
                end=params.end_date, force=params.force)
        finally:
            engine.dispose()
    return tally.run_result(AudienceParams.JOB, notebook=settings.job_notebook).raise_if_failed()
