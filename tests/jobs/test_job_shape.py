"""One shape for a job: ``f(settings, params) -> RunResult``, one ``JobFailed(SoundchartsError)``, one exception root.

Each job function runs against the local API into a fresh SQLite and PostgreSQL database and returns a RunResult whose
status, counts, run and notebook are what its SyncRun records; a failing job raises JobFailed, which
``except SoundchartsError`` catches; every exception class the package defines derives from SoundchartsError.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import warnings
from dataclasses import fields
from datetime import date
from pathlib import Path

import papermill
import pytest
from conftest import FAST
from sqlalchemy import select

import soundcharts_lib
from soundcharts_lib.config import Settings
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import SyncRun, Track
from soundcharts_lib.errors import ConfigError, SoundchartsError
from soundcharts_lib.jobs.artists import ArtistParams, fetch_artists
from soundcharts_lib.jobs.audience import AudienceParams, fetch_audience
from soundcharts_lib.jobs.backup import BackupParams, backup, backup_suffix
from soundcharts_lib.jobs.digest import DigestParams, digest
from soundcharts_lib.jobs.maintenance import MaintenanceParams, run_maintenance
from soundcharts_lib.jobs.metadata import MetadataParams, fetch_metadata
from soundcharts_lib.jobs.reach import ReachParams, fetch_reach
from soundcharts_lib.jobs.result import JobFailed, RunResult
from soundcharts_lib.jobs.runner import JOBS_DIR
from soundcharts_lib.jobs.sync import SyncParams, sync_charts
from soundcharts_lib.vocab import BadValue

CHART = "spotify-top-200-global-daily"
NOTEBOOKS = {"sync_charts": (SyncParams, sync_charts), "fetch_audience": (AudienceParams, fetch_audience),
             "fetch_metadata": (MetadataParams, fetch_metadata), "maintenance": (MaintenanceParams, run_maintenance),
             "fetch_artists": (ArtistParams, fetch_artists), "fetch_reach": (ReachParams, fetch_reach),
             "digest": (DigestParams, digest)}


@pytest.fixture
def settings(localapi, db_url, tmp_path) -> Settings:
    """The local API and a fresh database, as a cron run of ``run-job`` writing ``runs/job.ipynb`` would see them."""
    return Settings.from_env({
        "SOUNDCHARTS_API_URL": localapi.base_url, "SOUNDCHARTS_APP_ID": "soundcharts",
        "SOUNDCHARTS_API_KEY": "soundcharts", "SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_CACHE_BACKEND": "memory",
        "SOUNDCHARTS_RATE_LIMIT": str(FAST), "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"),
        "SOUNDCHARTS_LOG_FILE": "off", "SOUNDCHARTS_TRIGGER": "cron",
        "SOUNDCHARTS_JOB_NOTEBOOK": str(tmp_path / "runs" / "job.ipynb")}, dotenv=False)


def _record(settings: Settings, run_id: int) -> SyncRun:
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(SyncRun.kind, SyncRun.trigger, SyncRun.status, SyncRun.counts,
                                       SyncRun.errors, SyncRun.notebook_path).where(SyncRun.id == run_id)).one()
    finally:
        engine.dispose()


def _recorded_as(result: RunResult, settings: Settings, kind: str) -> None:
    """The result says what its run's record says."""
    assert type(result) is RunResult and result.job == kind
    run = _record(settings, result.run_id)
    assert (run.kind, run.trigger, run.status) == (kind, "cron", result.status)
    assert run.counts == dict(result.counts) and run.notebook_path == settings.job_notebook
    assert result.notebook == Path(settings.job_notebook)


@pytest.mark.slow
def test_every_job_function_takes_settings_and_params_and_returns_what_its_run_records(settings, tmp_path):
    synced = sync_charts(settings, {"charts": CHART, "backfill_days": "3", "progress": False})
    _recorded_as(synced, settings, "sync_charts")
    assert synced.status == "success" and synced.failures == () and synced.counts["rankings_stored"] == 3
    assert synced.counts["entries_stored"] > 3 * 100 and synced.summary.startswith("success: 1 charts, 3 rankings")
    assert len(synced.notes) == 1 and synced.notes[0].startswith("alerts: ")

    meta = fetch_metadata(settings, MetadataParams(progress=False))
    _recorded_as(meta, settings, "fetch_metadata")
    tracks = meta.counts["tracks"]
    assert tracks > 100 and meta.counts == {"tracks": tracks, "stored": tracks, "failures": 0}
    assert meta.summary == f"success: metadata stored for {tracks} of {tracks} tracks"

    engine = make_engine(settings.db_url)
    with engine.connect() as conn:
        two = conn.execute(select(Track.uuid).order_by(Track.id).limit(2)).scalars().all()
    engine.dispose()
    audience = fetch_audience(settings, {"track_uuid": ",".join(two), "platform": ["spotify"], "progress": False})
    _recorded_as(audience, settings, "fetch_audience")
    assert audience.counts["tracks"] == 2 and audience.counts["fetches"] == 2 and audience.counts["points"] > 2 * 80
    assert audience.summary.startswith("success: 2 tracks, 2 track/platform series fetched")

    folder = tmp_path / "backups"
    kept = run_maintenance(settings, {"backup_dir": str(folder), "keep_backups": 1})
    _recorded_as(kept, settings, "maintenance")
    written = Path(kept.counts["backup"])
    assert kept.status == "success" and list(folder.iterdir()) == [written]
    assert kept.summary.startswith("success: deleted ") and f"; backup written: {written}" in kept.summary

    to = tmp_path / f"copy{backup_suffix(settings.db_url)}"
    copied = backup(settings, BackupParams(to=str(to)))
    assert type(copied) is RunResult and copied.run_id is None  # a backup only reads: no run record
    assert copied.status == "success" and copied.counts == {"backup": str(to), "bytes": to.stat().st_size}
    assert copied.summary.startswith(f"backup written: {to} (")


def test_a_failing_job_raises_job_failed_which_except_soundcharts_error_catches(settings):
    unknown = "00000000-0000-4000-8000-000000000000"
    for job, params, words in [(sync_charts, {"charts": ["no-such-chart"], "progress": False}, "discovery failed"),
                               (fetch_metadata, {"track_uuids": unknown, "progress": False}, unknown)]:
        try:
            job(settings, params)
        except SoundchartsError as exc:
            caught = exc
        else:
            pytest.fail(f"{job.__name__} did not fail")
        assert isinstance(caught, JobFailed) and caught.result.status == "failed"
        assert caught.result.failures and caught.result.failures[0].startswith(words)
        assert str(caught).splitlines() == [caught.result.summary, f"  {caught.result.failures[0]}"]
        run = _record(settings, caught.result.run_id)
        assert run.status == "failed" and run.errors == list(caught.result.failures)


def test_parameters_are_the_notebooks_and_checked_in_one_line():
    """A job's parameters are its notebook's (the notebook calls its function with them); text, numbers, dates and
    lists are read alike; a bad value or an unknown name is one line naming it."""
    for name, (params, job) in NOTEBOOKS.items():
        notebook = JOBS_DIR / f"{name}.ipynb"
        taken = set(papermill.inspect_notebook(str(notebook)))
        assert taken <= {f.name for f in fields(params)}, name
        code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
        assert f"{job.__name__}(settings, " in code, name
    assert SyncParams.of({"platforms": "spotify, deezer", "date": "2026-01-02", "force": "true"}) == \
        SyncParams(platforms=("spotify", "deezer"), date=date(2026, 1, 2), force=True)
    assert MaintenanceParams.of({"keep_backups": None, "repair": 0}).keep_backups == 7
    for make, words in [(lambda: SyncParams.of({"days": 3}), "sync_charts has no parameter 'days' (its parameters"),
                        (lambda: SyncParams(force="yes"), "force: not true or false: 'yes'"),
                        (lambda: SyncParams(date="2026-01-01", backfill_days=3), "exclude each other"),
                        (lambda: AudienceParams(track_uuid="x"), "track_uuid: not a SoundCharts UUID"),
                        (lambda: MaintenanceParams(keep_backups="0"), "keep_backups: must be at least 1"),
                        (lambda: BackupParams.of({}), "to: backup needs one")]:
        with pytest.raises(BadValue) as info:
            make()
        assert isinstance(info.value, ConfigError) and words in str(info.value) and "\n" not in str(info.value)


def _modules():
    """Every module of the package but the local API (an independent program) and ``__main__`` ones (they run)."""
    for found in pkgutil.walk_packages(soundcharts_lib.__path__, "soundcharts_lib."):
        if found.name.startswith("soundcharts_lib.localapi") or found.name.rsplit(".", 1)[-1] == "__main__":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield importlib.import_module(found.name)


def test_every_exception_the_package_defines_is_a_soundcharts_error():
    defined = {f"{module.__name__}.{name}": cls for module in _modules()
               for name, cls in vars(module).items()
               if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == module.__name__}
    assert len(defined) > 25 and "soundcharts_lib.jobs.result.JobFailed" in defined
    assert [name for name, cls in defined.items() if not issubclass(cls, SoundchartsError)] == []
    lookups = [n.rsplit(".", 1)[1] for n, cls in defined.items() if issubclass(cls, LookupError)]
    assert {"UnknownEntity", "NotStored", "NoNotebook", "NoRoute"} <= set(lookups)  # callers catch them as such
    values = [n.rsplit(".", 1)[1] for n, cls in defined.items() if issubclass(cls, ValueError)]
    assert {"BadValue", "BadQuery", "BadParameter", "ExportError"} <= set(values)
