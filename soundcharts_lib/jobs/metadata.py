"""Track metadata: artists, ISRC, release date, genres and platform identifiers, fetched and stored.

:func:`fetch_metadata` is the job (``fetch-metadata``, ``scheduled/fetch_metadata.ipynb``, the admin area);
:func:`store_metadata` does the work with a client and an engine it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.config import Settings
from soundcharts_lib.db.runs import as_int, finish_run, start_run
from soundcharts_lib.db.store_tracks import store_song, track_uuids
from soundcharts_lib.errors import ApiError, PayloadError, QuotaExhausted
from soundcharts_lib.jobs import rollups
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult, Tally

log = logging.getLogger(__name__)


@dataclass
class MetadataTally(Tally):
    tracks: int = 0
    stored: int = 0

    COUNTS = ("tracks", "stored", "failures")

    def did_work(self) -> bool:
        return bool(self.stored)

    def summary(self) -> str:
        return f"{self.status}: metadata stored for {self.stored} of {self.tracks} tracks"


def store_metadata(client, engine: Engine, uuids: Sequence[str] | None = None, *, missing_only: bool = True,
                   trigger: str = "cli", notebook: str | None = None, progress: bool = True) -> MetadataTally:
    """Fetch and store metadata for ``uuids`` (default: tracks never fetched, or all with ``missing_only=False``).

    One failing track is recorded and skipped; quota exhaustion stops the run.
    """
    tally = MetadataTally()
    tally.run_id = start_run(engine, "fetch_metadata", trigger, {"uuids": list(uuids or [])[:50],
                                                                 "missing_only": missing_only}, notebook_path=notebook)
    targets = list(uuids) if uuids else track_uuids(engine, missing_only=missing_only)
    tally.tracks = len(targets)
    try:
        for uuid in tqdm(targets, desc="metadata", unit="track", disable=not progress):
            try:
                store_song(engine, client.song(uuid), client.song_identifiers(uuid))
                tally.stored += 1
            except QuotaExhausted as exc:
                _fail(tally, f"quota exhausted: {exc}")
                break
            except (ApiError, PayloadError) as exc:
                log.warning("metadata of %s failed: %s", uuid, exc)
                _fail(tally, f"{uuid}: {exc}")
        if tally.stored:
            rollups.catch_up(engine, rankings=False)  # the labels pages read the labels stored
    finally:
        tally.quota_remaining = as_int(getattr(client, "quota_remaining", None))
        finish_run(engine, tally.run_id, status=tally.status, counts=tally.counts(), errors=tally.errors,
                   quota_remaining=tally.quota_remaining)
    return tally


def _fail(tally: MetadataTally, message: str) -> None:
    tally.failures += 1
    tally.errors.append(message)


@dataclass(frozen=True)
class MetadataParams(Params):
    """``scheduled/fetch_metadata.ipynb``'s parameters, those of the ``fetch-metadata`` command."""

    JOB = "fetch_metadata"
    all_tracks: bool = param(flag, False)  # every stored track; else only the tracks never fetched
    track_uuids: tuple[str, ...] = param(vocab.uuid, many=True)  # these tracks only
    progress: bool = param(flag, True)  # progress bars


def fetch_metadata(settings: Settings, params: MetadataParams | Mapping | None = None) -> RunResult:
    """The metadata job, recorded as started by ``settings.trigger``. Bad parameters and missing credentials raise
    ``ConfigError`` before the database is created or migrated; a track that failed raises
    :class:`~soundcharts_lib.jobs.result.JobFailed` (the run records which)."""
    from soundcharts_lib.jobs.runtime import job_context

    params = MetadataParams.of(params)
    with job_context(settings) as (client, engine):
        tally = store_metadata(client, engine, list(params.track_uuids) or None, missing_only=not params.all_tracks,
                               trigger=settings.trigger, notebook=settings.job_notebook or None,
                               progress=params.progress)
    return tally.run_result(MetadataParams.JOB, notebook=settings.job_notebook).raise_if_failed()
