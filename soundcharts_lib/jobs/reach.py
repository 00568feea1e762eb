"""A song's reach: its chart entries everywhere (contract 8.1, ``currentOnly`` always), its popularity (8.4) and
its current playlists (8.5), fetched and stored (:mod:`soundcharts_lib.db.store_reach`).

Which tracks: the ones named (a track not stored yet is looked up by UUID and stored), else the roster's first
(followed tracks not stored yet are looked up and stored), then the other stored tracks (none with ``roster``),
stalest first. A track whose metadata was never fetched gets it first: its platform identifiers say which platforms
are its own. On its platforms (and those of the synced charts it has been on), chart entries are asked on the
referential's chart platforms, popularity on the contract's popularity platforms (:data:`POPULARITY_PLATFORMS`),
playlists on all of them. A platform the API refuses for a series (a 400) is not asked for that series again in the
run nor for :data:`REFUSED_DAYS` days. A 404 or 410 is recorded on the series' check (``series_check.error``) and
the song's other series go on; any other failure of one series is counted and the rest go on; an exhausted quota
stops the run (what was fetched is stored).

Popularity is incremental like the audience (from the last stored day minus ``overlap_days``; a first fetch covers
90 days). Chart entries and playlists are the day's snapshot (UTC), replaced whole by a second run on the same day.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.config import Settings
from soundcharts_lib.curation import roster
from soundcharts_lib.db import store_reach as store
from soundcharts_lib.db.runs import start_run
from soundcharts_lib.db.store import upsert_platforms
from soundcharts_lib.db.store_tracks import store_song
from soundcharts_lib.errors import ApiError, BadRequest, Gone, NotFound, PayloadError, QuotaExhausted
from soundcharts_lib.jobs.audience import OVERLAP_DAYS, check_request, first_day
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult, Tally, recorded
from soundcharts_lib.jobs.runtime import job_context
from soundcharts_lib.vocab import today_utc

log = logging.getLogger(__name__)

JOB = "fetch_reach"
POPULARITY_PLATFORMS = ("spotify", "deezer", "tidal")  # contract 8.4
REFUSED_DAYS = 7
BATCH = 8  # series fetches handed to the client's workers at a time


@dataclass
class ReachTally(Tally):
    tracks: int = 0
    metadata: int = 0
    fetches: int = 0
    chart_entries: int = 0
    popularity_days: int = 0
    playlists: int = 0
    empty: int = 0
    refused: int = 0

    COUNTS = ("tracks", "metadata", "fetches", "chart_entries", "popularity_days", "playlists", "empty", "refused",
              "failures")

    def did_work(self) -> bool:
        return bool(self.fetches or self.metadata)

    def summary(self) -> str:
        return (f"{self.status}: {self.tracks} tracks, {self.fetches} series fetched ({self.chart_entries} chart "
                f"entries, {self.popularity_days} popularity days, {self.playlists} playlists), {self.empty} "
                f"without data, {self.refused} refused by the API (404/410/400), {self.failures} failures")


@dataclass
class _Fetch:
    """One track's series on one platform; ``found`` or ``error`` once fetched."""

    track_id: int
    uuid: str
    series: str
    platform: str
    platform_id: int
    start: date | None = None  # popularity only
    end: date | None = None
    found: list = field(default_factory=list)
    error: ApiError | PayloadError | None = None


def series_of(platform: str, chart_platforms: set[str]) -> list[str]:
    """The series asked on ``platform``: chart entries on a chart platform, popularity on a popularity platform,
    playlists everywhere."""
    asked = {"charts": platform in chart_platforms, "popularity": platform in POPULARITY_PLATFORMS,
             "playlists": True}
    return [series for series, yes in asked.items() if yes]


def refusal(exc: ApiError) -> str:
    """What a check records of a refusal: ``HTTP <status>: <the API's message>``."""
    return f"HTTP {exc.status}: {exc.api_message or type(exc).__name__}"


class ReachProcessor:
    """Fetches and stores songs' reach with one client into one database. Progress bars unless ``progress=False``."""

    def __init__(self, client, engine: Engine, *, trigger: str = "cli", notebook: str | None = None,
                 progress: bool = True, workers: int = 4, overlap_days: int = OVERLAP_DAYS):
        self.client = client
        self.engine = engine
        self.trigger = trigger
        self.notebook = notebook  # the archived job notebook of a ``run-job`` run
        self.progress = progress
        self.workers = workers
        self.overlap_days = overlap_days

    def run(self, *, track_uuids: Sequence[str] | None = None, roster_only: bool = False,
            platforms: Sequence[str] | None = None, limit: int | None = None) -> ReachTally:
        """Fetch ``track_uuids`` (default: stored tracks, the roster's first, stalest first, at most ``limit``;
        ``roster_only``: only the roster's) on their platforms (only ``platforms`` when given)."""
        today = today_utc()
        check_request(track_uuids, limit, None, None, today)
        result = ReachTally()
        params = {"track_uuids": list(track_uuids or [])[:50], "roster": roster_only, "limit": limit,
                  "platforms": list(platforms or [])}
        result.run_id = start_run(self.engine, JOB, self.trigger, params, notebook_path=self.notebook)
        with recorded(self.engine, self.client, result):
            charts = self.client.chart_platforms()
            upsert_platforms(self.engine, charts, charts=True)
            targets = self._named(track_uuids, result) if track_uuids else self._selection(roster_only, limit, result)
            result.tracks = len(targets)
            self._metadata(targets, result)
            plans = self._plans(targets, {p.code for p in charts}, set(platforms or ()), today)
            self._fetch_all(plans, today, result)
        return result

    # -- which tracks -------------------------------------------------------------------------------------------
    def _stored(self, uuid: str, result: ReachTally) -> int | None:
        """Look a track up by UUID and store it with its metadata; None (counted) when that failed."""
        try:
            store_song(self.engine, self.client.song(uuid), self.client.song_identifiers(uuid))
        except QuotaExhausted:
            raise
        except (ApiError, PayloadError) as exc:
            self._fail(f"{uuid}: {exc}", result)
            return None
        result.metadata += 1
        return store.track_ids(self.engine, [uuid])[uuid]

    def _named(self, uuids: Sequence[str], result: ReachTally) -> list[tuple[int, str]]:
        uuids = list(dict.fromkeys(u.lower() for u in uuids))
        ids = store.track_ids(self.engine, uuids)
        for uuid in uuids:
            if uuid not in ids and (tid := self._stored(uuid, result)) is not None:
                ids[uuid] = tid
        return [(ids[u], u) for u in uuids if u in ids]

    def _selection(self, roster_only: bool, limit: int | None, result: ReachTally) -> list[tuple[int, str]]:
        """Followed tracks not stored yet (stored now), then the stored ones, the roster's first."""
        items = roster.items(self.engine)
        targets = []
        for uuid in items.loc[(items["kind"] == "track") & ~items["stored"], "uuid"][:limit]:
            if (tid := self._stored(uuid, result)) is not None:
                targets.append((tid, uuid))
        stale = store.stale_tracks(self.engine, roster.track_ids_query(), roster_only=roster_only, limit=limit)
        return (targets + [t for t in stale if t not in targets])[:limit]

    def _metadata(self, targets: list[tuple[int, str]], result: ReachTally) -> None:
        """Metadata (and so platform identifiers) of the targets that never had it."""
        missing = store.without_metadata(self.engine, [tid for tid, _ in targets])
        for uuid in tqdm([u for tid, u in targets if tid in missing], desc="metadata", unit="track",
                         disable=not self.progress or not missing):
            self._stored(uuid, result)

    # -- what to fetch ------------------------------------------------------------------------------------------
    def _plans(self, targets: list[tuple[int, str]], chart_platforms: set[str], wanted: set[str],
               today: date) -> list[_Fetch]:
        ids = [tid for tid, _ in targets]
        owned = store.track_platforms(self.engine, ids)
        if wanted:
            owned = {tid: codes & wanted for tid, codes in owned.items()}
        pids = store.reach_platform_ids(self.engine, set().union(*owned.values()))
        refused = store.refused_platforms(self.engine, days=REFUSED_DAYS)
        ranges = store.popularity_ranges(self.engine, ids)
        plans = []
        for tid, uuid in targets:
            for code in sorted(owned[tid]):
                for series in series_of(code, chart_platforms):
                    if (series, code) in refused:
                        continue
                    job = _Fetch(tid, uuid, series, code, pids[code])
                    if series == "popularity":
                        job.start = first_day(None, today, ranges.get((tid, pids[code])), False, self.overlap_days)
                        job.end = today
                    plans.append(job)
        return plans

    # -- fetching and storing -----------------------------------------------------------------------------------
    def _fetch_one(self, job: _Fetch) -> _Fetch:
        """Runs on a client worker thread; API errors are kept on the job, not raised."""
        try:
            if job.series == "charts":
                job.found = self.client.song_chart_entries(job.uuid, job.platform, current_only=True)
            elif job.series == "popularity":
                job.found = self.client.song_popularity(job.uuid, job.platform, job.start, job.end)
            else:
                job.found = self.client.song_playlists(job.uuid, job.platform, current_only=True)
        except (ApiError, PayloadError) as exc:
            job.error = exc
        return job

    def _fetch_all(self, jobs: list[_Fetch], today: date, result: ReachTally) -> None:
        refused: set[tuple[str, str]] = set()  # (series, platform) the API refused as a platform this run
        with tqdm(total=len(jobs), desc="reach", unit="series", disable=not self.progress) as bar:
            for i in range(0, len(jobs), BATCH):
                batch = [j for j in jobs[i:i + BATCH] if (j.series, j.platform) not in refused]
                done = self.client.fetch_many(self._fetch_one, batch, workers=self.workers)
                for job in done:  # what was fetched is stored even when the quota ran out meanwhile
                    if not isinstance(job.error, QuotaExhausted):
                        self._store(job, today, refused, result)
                bar.update(min(BATCH, len(jobs) - i))
                quota = next((j.error for j in done if isinstance(j.error, QuotaExhausted)), None)
                if quota is not None:
                    raise quota

    def _store(self, job: _Fetch, today: date, refused: set[tuple[str, str]], result: ReachTally) -> None:
        where = f"{job.uuid} {job.series} on {job.platform}"
        if isinstance(job.error, (BadRequest, NotFound, Gone)):  # NoPlatformData is a NotFound
            store.record_refusal(self.engine, job.track_id, job.platform_id, job.series, refusal(job.error))
            result.refused += 1
            if not isinstance(job.error, BadRequest):
                result.skipped.append(f"{where}: {refusal(job.error)}")
            elif (job.series, job.platform) not in refused:
                refused.add((job.series, job.platform))
                result.skipped.append(f"{job.platform}: no {job.series} ({refusal(job.error)})")
            return
        if job.error is not None:
            self._fail(f"{where}: {job.error}", result)
            return
        try:
            if job.series == "popularity":
                count = store.store_popularity(self.engine, job.track_id, job.platform_id,
                                               store.popularity_values(job.found))
                result.popularity_days += count
            else:
                rows = store.chart_rows(job.found) if job.series == "charts" else store.playlist_rows(job.found)
                count = store.replace_snapshot(self.engine, job.series, job.track_id, job.platform_id, today, rows)
                if job.series == "charts":
                    result.chart_entries += count
                else:
                    result.playlists += count
        except PayloadError as exc:  # a value the table cannot hold: this series fails alone, nothing of it written
            self._fail(f"{where}: {exc}", result)
            return
        result.fetches += 1
        result.empty += not count

    def _fail(self, message: str, result: ReachTally) -> None:
        log.warning("reach fetch failed: %s", message)
        result.failures += 1
        result.errors.append(message)


@dataclass(frozen=True)
class ReachParams(Params):
    """``scheduled/fetch_reach.ipynb``'s parameters, those of the ``fetch-reach`` command.

    No track: stored tracks, the roster's first (only the roster's with ``roster``), stalest first (at most
    ``limit``). No platform: each track's own platforms."""

    JOB = JOB
    track_uuid: tuple[str, ...] = param(vocab.uuid, many=True)
    roster: bool = param(flag, False)  # only the roster's tracks
    limit: int | None = param(vocab.limit)
    platform: tuple[str, ...] = param(vocab.platform, many=True)
    progress: bool = param(flag, True)  # progress bars

    def __post_init__(self):
        super().__post_init__()
        if self.track_uuid and self.roster:
            raise vocab.BadValue("track_uuid and roster exclude each other")


def fetch_reach(settings: Settings, params: ReachParams | Mapping | None = None) -> RunResult:
    """The reach job, recorded as started by ``settings.trigger``. Parameters are checked (``ConfigError``) before
    the database is opened or created; a series that failed raises :class:`~soundcharts_lib.jobs.result.JobFailed`
    (the run records which)."""
    params = ReachParams.of(params)
    uuids = list(params.track_uuid) or None
    check_request(uuids, params.limit, None, None, today_utc())
    with job_context(settings) as (client, engine):
        tally = ReachProcessor(client, engine, trigger=settings.trigger, notebook=settings.job_notebook or None,
                               progress=params.progress).run(
            track_uuids=uuids, roster_only=params.roster, platforms=list(params.platform) or None,
            limit=params.limit)
    return tally.run_result(JOB, notebook=settings.job_notebook).raise_if_failed()
