"""Artists: fetch and store their metadata, followers per social platform and listening figures (Spotify monthly
listeners, YouTube views, ...) per streaming platform (contract 7.1, 7.4, 7.5).

Which artists: the ones named, else stored artists, the roster's first (followed, or credited on a followed track;
followed artists not stored yet are looked up by UUID), stalest first, the most charted first among equally stale
(see :func:`soundcharts_lib.db.store_artists.stale_artists`). Metadata is asked ten artists a call; an artist the
API does not know (404) is recorded on the artist (``metadata_error``) and gets no series call.

Series follow the track audience's rules (:mod:`soundcharts_lib.jobs.audience`): windows of at most 90 days,
incremental from the last stored day minus ``overlap_days``, the whole range with ``force``, a first fetch of 90
days, gaps kept. Followers on the referential's social platforms, listening on its streaming platforms. A series
the API had nothing for and nothing is stored of (no account there) is asked again after
:data:`EMPTY_RECHECK_DAYS` days, or with ``force``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.api.artist_endpoints import BATCH_MAX
from soundcharts_lib.api.payloads import Platform
from soundcharts_lib.api.payloads_artist import ArtistFollowers, ArtistListening, ArtistProfile
from soundcharts_lib.config import Settings
from soundcharts_lib.curation import roster
from soundcharts_lib.db import store_artists as store
from soundcharts_lib.db.base import utcnow
from soundcharts_lib.db.runs import start_run
from soundcharts_lib.errors import (
    ApiError,
    BadRequest,
    ConfigError,
    NoPlatformData,
    NotFound,
    PayloadError,
    QuotaExhausted,
)
from soundcharts_lib.jobs.audience import OVERLAP_DAYS, check_request, count_gaps, first_day
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult, Tally, recorded
from soundcharts_lib.jobs.runtime import migrated_engine, require_credentials
from soundcharts_lib.vocab import today_utc

log = logging.getLogger(__name__)

JOB = "fetch_artists"
CHARTING_DAYS = 30
EMPTY_RECHECK_DAYS = 7
BATCH = 8  # series fetches handed to the client's workers at a time
UNKNOWN = "not known to the API"


@dataclass
class ArtistTally(Tally):
    artists: int = 0
    metadata: int = 0
    unknown: int = 0
    fetches: int = 0
    points: int = 0
    gaps: int = 0
    empty: int = 0
    up_to_date: int = 0
    not_asked: int = 0

    COUNTS = ("artists", "metadata", "unknown", "fetches", "points", "gaps", "empty", "up_to_date", "not_asked",
              "failures")

    def did_work(self) -> bool:
        return bool(self.fetches or self.metadata)

    def summary(self) -> str:
        return (f"{self.status}: {self.artists} artists ({self.metadata} with metadata, {self.unknown} {UNKNOWN}), "
                f"{self.fetches} artist/platform series fetched ({self.points} points, {self.gaps} missing days), "
                f"{self.empty} without data, {self.up_to_date} up to date, {self.not_asked} without data lately "
                f"(not asked), {self.failures} failures")


@dataclass
class _Fetch:
    """One artist's series on one platform over start..end; ``record`` or ``error`` once fetched."""

    artist_id: int
    uuid: str
    series: str
    platform: str
    platform_id: int
    start: date
    end: date
    record: ArtistFollowers | ArtistListening | None = None
    error: ApiError | PayloadError | None = None


def choose_platforms(requested: Sequence[str] | None, social: Sequence[Platform],
                     streaming: Sequence[Platform]) -> dict[str, list[Platform]]:
    """``{"followers": platforms, "listeners": platforms}``: every listed platform when none is requested, else the
    requested ones on the lists that have them; ``ConfigError`` for a requested platform on neither list."""
    lists = {"followers": list(social), "listeners": list(streaming)}
    if not requested:
        return lists
    codes = {p.code for ps in lists.values() for p in ps}
    unknown = [slug for slug in requested if slug not in codes]
    if unknown:
        raise ConfigError(f"{unknown[0]}: no artist followers or listeners on this platform (followers: "
                          f"{', '.join(p.code for p in social)}; listeners: {', '.join(p.code for p in streaming)})")
    return {series: [p for p in ps if p.code in requested] for series, ps in lists.items()}


class ArtistDataProcessor:
    """Fetches and stores artists with one client into one database. Progress bars unless ``progress=False``.

    ``social`` and ``streaming`` are the API's platform lists when the caller already has them.
    """

    def __init__(self, client, engine: Engine, *, trigger: str = "cli", notebook: str | None = None,
                 progress: bool = True, workers: int = 4, overlap_days: int = OVERLAP_DAYS,
                 social: Sequence[Platform] | None = None, streaming: Sequence[Platform] | None = None):
        self.client = client
        self.engine = engine
        self.trigger = trigger
        self.notebook = notebook  # the archived job notebook of a ``run-job`` run
        self.progress = progress
        self.workers = workers
        self.overlap_days = overlap_days
        self.social = list(social) if social is not None else None
        self.streaming = list(streaming) if streaming is not None else None

    def platforms(self, requested: Sequence[str] | None) -> dict[str, list[Platform]]:
        """:func:`choose_platforms` over the referential's social and streaming lists (each asked once)."""
        if self.social is None:
            self.social = self.client.social_platforms()
        if self.streaming is None:
            self.streaming = self.client.streaming_platforms()
        return choose_platforms(requested, self.social, self.streaming)

    def run(self, *, artist_uuids: Sequence[str] | None = None, roster_only: bool = False,
            platforms: Sequence[str] | None = None, limit: int | None = None, start: date | None = None,
            end: date | None = None, force: bool = False) -> ArtistTally:
        """Fetch ``artist_uuids`` (default: stored artists, the roster's first, stalest first, at most ``limit``;
        ``roster_only``: only the roster's) on ``platforms`` (default: every listed one). Bad arguments, and named
        artists neither stored nor known to the API, raise ``ConfigError`` before anything is written."""
        today = today_utc()
        start, end = check_request(artist_uuids, limit, start, end, today, "artists")
        wanted = self.platforms(platforms)
        result = ArtistTally()
        named, profiles = self._named(artist_uuids) if artist_uuids else ([], {})
        params = {"artist_uuids": list(artist_uuids or [])[:50], "roster": roster_only,
                  "platforms": sorted({p.code for ps in wanted.values() for p in ps}), "limit": limit,
                  "start": start, "end": end, "force": force}
        result.run_id = start_run(self.engine, JOB, self.trigger, params, notebook_path=self.notebook)
        with recorded(self.engine, self.client, result):
            pids = store.series_platform_ids(self.engine, [p for ps in wanted.values() for p in ps])
            targets = self._store_named(named, profiles) if artist_uuids else \
                self._selection(roster_only, limit, today, profiles, result)
            result.artists = len(targets)
            known = self._metadata(targets, profiles, result)
            plans = self._plans(known, {s: [(p.code, pids[p.code]) for p in ps] for s, ps in wanted.items()},
                                start, end, force, result)
            self._fetch_all(plans, result)
        return result

    # -- which artists ------------------------------------------------------------------------------------------
    def _profiles(self, uuids: Sequence[str]) -> dict[str, ArtistProfile]:
        """Metadata of ``uuids``, ten a call; an artist absent from the answers is absent here (a batch the API
        refused is left to the one-by-one calls that follow)."""
        found: dict[str, ArtistProfile] = {}
        for i in range(0, len(uuids), BATCH_MAX):
            chunk = list(uuids[i:i + BATCH_MAX])
            try:
                found.update({p.uuid: p for p in self.client.artists(chunk) if p.uuid in chunk})
            except QuotaExhausted:
                raise
            except (ApiError, PayloadError) as exc:  # NotFound: none of them known
                log.info("artist metadata batch of %d not answered: %s", len(chunk), exc)
        return found

    def _profile(self, uuid: str) -> ArtistProfile | None:
        """One artist's metadata; None when the API says it does not know it (404)."""
        try:
            return self.client.artist(uuid)
        except NotFound:
            return None

    def _named(self, uuids: Sequence[str]) -> tuple[list[str], dict[str, ArtistProfile]]:
        """The named UUIDs, and the profiles of those not stored; ``ConfigError`` for one that is neither stored nor
        known to the API (nothing is written)."""
        uuids = list(dict.fromkeys(uuids))
        stored = store.artist_ids(self.engine, uuids)
        missing = [u for u in uuids if u not in stored]
        profiles = self._profiles(missing)
        for uuid in missing:
            profile = profiles.get(uuid) or self._profile(uuid)
            if profile is None:
                raise ConfigError(f"no artist {uuid} is stored, and the API does not know it (404)")
            profiles[uuid] = profile
        return uuids, profiles

    def _store_named(self, uuids: list[str], profiles: dict[str, ArtistProfile]) -> list[tuple[int, str]]:
        ids = store.artist_ids(self.engine, uuids)
        for uuid in uuids:
            if uuid not in ids:
                ids[uuid] = store.ensure_artist(self.engine, profiles[uuid])
        return [(ids[u], u) for u in uuids]

    def _selection(self, roster_only: bool, limit: int | None, today: date, profiles: dict[str, ArtistProfile],
                   result: ArtistTally) -> list[tuple[int, str]]:
        """Stored artists, stale-first (:func:`~soundcharts_lib.db.store_artists.stale_artists`), after storing the
        followed artists not stored yet that the API knows (they are never checked: first of the roster's)."""
        items = roster.items(self.engine)
        missing = list(items.loc[(items["kind"] == "artist") & ~items["stored"], "uuid"])
        profiles.update(self._profiles(missing))
        for uuid in missing:
            try:
                profile = profiles.get(uuid) or self._profile(uuid)
                if profile is None:
                    result.unknown += 1
                    result.skipped.append(f"{uuid}: on the roster, {UNKNOWN} (404)")
                    continue
                profiles[uuid] = profile
                store.ensure_artist(self.engine, profile)
            except QuotaExhausted:
                raise
            except (ApiError, PayloadError) as exc:
                self._fail(f"{uuid} (on the roster) metadata: {exc}", result)
        return store.stale_artists(self.engine, roster.artist_ids_query(), today=today, limit=limit,
                                   charting_days=CHARTING_DAYS, roster_only=roster_only)

    def _metadata(self, targets: list[tuple[int, str]], profiles: dict[str, ArtistProfile],
                  result: ArtistTally) -> list[tuple[int, str]]:
        """Store each target's metadata; the targets the API knows (those whose metadata failed otherwise too)."""
        profiles.update(self._profiles([u for _, u in targets if u not in profiles]))
        known = []
        for artist_id, uuid in tqdm(targets, desc="artist metadata", unit="artist", disable=not self.progress):
            try:
                profile = profiles.get(uuid) or self._profile(uuid)
                if profile is None:
                    store.record_unknown(self.engine, artist_id, f"{UNKNOWN} (404)")
                    result.unknown += 1
                    continue
                store.store_profile(self.engine, artist_id, profile)
                result.metadata += 1
            except QuotaExhausted:
                raise
            except (ApiError, PayloadError) as exc:
                self._fail(f"{uuid} metadata: {exc}", result)
            known.append((artist_id, uuid))
        return known

    # -- what to fetch ------------------------------------------------------------------------------------------
    def _plans(self, targets: list[tuple[int, str]], platforms: dict[str, list[tuple[str, int]]],
               start: date | None, end: date, force: bool, result: ArtistTally) -> list[_Fetch]:
        ids = [artist_id for artist_id, _ in targets]
        ranges = {} if force else store.stored_ranges(self.engine, ids)
        checks = {} if force else store.last_checks(self.engine, ids)
        recent = utcnow() - timedelta(days=EMPTY_RECHECK_DAYS)
        plans = []
        for artist_id, uuid in targets:
            for series, codes in platforms.items():
                for code, platform_id in codes:
                    key = (artist_id, platform_id, series)
                    checked = checks.get(key)
                    if key not in ranges and checked is not None and not checked[1] and checked[0] > recent:
                        result.not_asked += 1
                        continue
                    lo = first_day(start, end, ranges.get(key), force, self.overlap_days)
                    if lo > end:
                        result.up_to_date += 1
                        continue
                    plans.append(_Fetch(artist_id, uuid, series, code, platform_id, lo, end))
        return plans

    # -- fetching and storing -----------------------------------------------------------------------------------
    def _fetch_one(self, job: _Fetch) -> _Fetch:
        """Runs on a client worker thread; API errors are kept on the job, not raised."""
        fetch = self.client.artist_followers if job.series == "followers" else self.client.artist_listeners
        try:
            job.record = fetch(job.uuid, job.platform, job.start, job.end)
        except (ApiError, PayloadError) as exc:
            job.error = exc
        return job

    def _fetch_all(self, jobs: list[_Fetch], result: ArtistTally) -> None:
        refused: set[tuple[str, str]] = set()  # (series, platform) the API refused as a platform code
        with tqdm(total=len(jobs), desc="artist series", unit="series", disable=not self.progress) as bar:
            for i in range(0, len(jobs), BATCH):
                batch = [j for j in jobs[i:i + BATCH] if (j.series, j.platform) not in refused]
                done = self.client.fetch_many(self._fetch_one, batch, workers=self.workers)
                for job in done:  # what was fetched is stored even when the quota ran out meanwhile
                    if not isinstance(job.error, QuotaExhausted):
                        self._store(job, refused, result)
                bar.update(min(BATCH, len(jobs) - i))
                quota = next((j.error for j in done if isinstance(j.error, QuotaExhausted)), None)
                if quota is not None:
                    raise quota

    def _store(self, job: _Fetch, refused: set[tuple[str, str]], result: ArtistTally) -> None:
        where = f"{job.uuid} {job.series} on {job.platform}"
        if isinstance(job.error, BadRequest):  # the platform code itself refused: not asked again this run
            if (job.series, job.platform) not in refused:
                refused.add((job.series, job.platform))
                result.skipped.append(f"{job.platform}: no artist {job.series} ({job.error.api_message or job.error})")
            return
        if job.error is not None and not isinstance(job.error, NoPlatformData):
            self._fail(f"{where}: {job.error}", result)
            return
        points = {} if job.record is None else store.series_points(job.record)
        reason = None if job.error is None else job.error.api_message or str(job.error)
        try:
            result.points += store.store_series(self.engine, job.artist_id, job.platform_id, job.series, points,
                                                error=reason)
        except PayloadError as exc:  # a value the table cannot hold: this series fails alone, nothing of it written
            self._fail(f"{where}: {exc}", result)
            return
        result.fetches += 1
        result.empty += not points
        result.gaps += count_gaps([d for d in job.record.days if d.date in points]) if job.record else 0

    def _fail(self, message: str, result: ArtistTally) -> None:
        log.warning("artist fetch failed: %s", message)
        result.failures += 1
        result.errors.append(message)


@dataclass(frozen=True)
class ArtistParams(Params):
    """``scheduled/fetch_artists.ipynb``'s parameters, those of the ``fetch-artists`` command.

    No artist: stored artists, the roster's first, stalest first (at most ``limit``). No platform: every social
    (followers) and streaming (listeners) platform. No start date: from the last stored day (a first fetch covers
    90 days). No end date: today (UTC)."""

    JOB = JOB
    artist_uuid: tuple[str, ...] = param(vocab.uuid, many=True)
    roster: bool = param(flag, False)  # only the roster's artists
    limit: int | None = param(vocab.limit)
    platform: tuple[str, ...] = param(vocab.platform, many=True)
    start_date: date | None = param(vocab.iso_date)
    end_date: date | None = param(vocab.iso_date)
    force: bool = param(flag, False)  # refetch the whole range instead of from the last stored day
    progress: bool = param(flag, True)  # progress bars

    def __post_init__(self):
        super().__post_init__()
        if self.artist_uuid and self.roster:
            raise vocab.BadValue("artist_uuid and roster exclude each other")


def fetch_artists(settings: Settings, params: ArtistParams | Mapping | None = None) -> RunResult:
    """The artists job, recorded as started by ``settings.trigger``. Parameters, dates and platforms are checked
    (``ConfigError``) before the database is opened or created; a fetch that failed raises
    :class:`~soundcharts_lib.jobs.result.JobFailed` (the run records which)."""
    from soundcharts_lib.api.client import SoundchartsClient

    params = ArtistParams.of(params)
    uuids, platforms = list(params.artist_uuid) or None, list(params.platform) or None
    check_request(uuids, params.limit, params.start_date, params.end_date, today_utc(), "artists")
    require_credentials(settings)
    with SoundchartsClient.from_settings(settings) as client:
        social, streaming = client.social_platforms(), client.streaming_platforms()
        choose_platforms(platforms, social, streaming)
        engine = migrated_engine(settings)
        try:
            tally = ArtistDataProcessor(client, engine, trigger=settings.trigger,
                                        notebook=settings.job_notebook or None, progress=params.progress,
                                        social=social, streaming=streaming).run(
                artist_uuids=uuids, roster_only=params.roster, platforms=platforms, limit=params.limit,
                start=params.start_date, end=params.end_date, force=params.force)
        finally:
            engine.dispose()
    return tally.run_result(JOB, notebook=settings.job_notebook).raise_if_failed()
