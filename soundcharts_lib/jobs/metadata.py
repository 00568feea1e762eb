"""Track metadata: artists, ISRC, release date, genres and platform identifiers, fetched and stored."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from soundcharts_lib import vocab
from soundcharts_lib.db.runs import as_int, finish_run, start_run
from soundcharts_lib.db.store_tracks import store_song, track_uuids
from soundcharts_lib.errors import ApiError, PayloadError, QuotaExhausted

log = logging.getLogger(__name__)


def fetch_metadata(client, engine: Engine, uuids: Sequence[str] | None = None, *, missing_only: bool = True,
                   trigger: str = "cli", notebook: str | None = None, progress: bool = True) -> dict:
    """Fetch and store metadata for ``uuids`` (default: tracks never fetched, or all with ``missing_only=False``).

    One failing track is recorded and skipped; quota exhaustion stops the run. Returns counts and errors.
    """
    run_id = start_run(engine, "fetch_metadata", trigger, {"uuids": list(uuids or [])[:50],
                                                           "missing_only": missing_only}, notebook_path=notebook)
    targets = list(uuids) if uuids else track_uuids(engine, missing_only=missing_only)
    done, errors = 0, []
    try:
        for uuid in tqdm(targets, desc="metadata", unit="track", disable=not progress):
            try:
                store_song(engine, client.song(uuid), client.song_identifiers(uuid))
                done += 1
            except QuotaExhausted as exc:
                errors.append(f"quota exhausted: {exc}")
                break
            except (ApiError, PayloadError) as exc:
                log.warning("metadata of %s failed: %s", uuid, exc)
                errors.append(f"{uuid}: {exc}")
    finally:
        status = "success" if not errors else ("partial" if done else "failed")
        counts = {"tracks": len(targets), "stored": done, "failures": len(errors)}
        finish_run(engine, run_id, status=status, counts=counts, errors=errors,
                   quota_remaining=as_int(getattr(client, "quota_remaining", None)))
    return {"status": status, **counts, "errors": errors}


def metadata_job(*, all_tracks: bool = False, track_uuids=None, trigger: str | None = None, settings=None) -> dict:
    """What ``scheduled/fetch_metadata.ipynb`` runs; raises when any track failed. ``trigger`` defaults to the
    settings' (``run-job`` sets it)."""
    from soundcharts_lib.config import Settings
    from soundcharts_lib.errors import SoundchartsError
    from soundcharts_lib.jobs.runtime import as_list, job_context

    uuids = [vocab.checked("track_uuids", vocab.uuid, u) for u in as_list(track_uuids) or []]
    settings = settings or Settings.from_env()
    with job_context(settings) as (client, engine):
        result = fetch_metadata(client, engine, uuids or None, missing_only=not all_tracks,
                                trigger=trigger or settings.trigger, notebook=settings.job_notebook)
    if result["errors"]:
        raise SoundchartsError(f"{result['status']}: {result['failures']} tracks failed: "
                               + "; ".join(result["errors"][:5]))
    return result
