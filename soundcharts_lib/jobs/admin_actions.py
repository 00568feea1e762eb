"""Admin actions: sync charts now, backfill them, fetch tracks' metadata or audience.

Each action calls the job the CLI calls (:func:`~soundcharts_lib.jobs.sync.sync_charts`,
:func:`~soundcharts_lib.jobs.metadata.fetch_metadata`, :func:`~soundcharts_lib.jobs.audience.fetch_audience`) with
trigger ``admin``, in a background thread, while its progress is read from the database. One action of a
kind runs at a time: a second start is refused (in the same kernel by a lock, in another kernel or process by
:func:`~soundcharts_lib.jobs.lock.job_lock`). Every start, refusal and outcome is an ``AuditEvent``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.engine import Engine

from soundcharts_lib.config import Settings
from soundcharts_lib.curation import audit
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.lock import JobLocked, job_lock
from soundcharts_lib.jobs.result import JobFailed, RunResult
from soundcharts_lib.logs import mask
from soundcharts_lib.warehouse import admin_pages as admin_data

log = logging.getLogger(__name__)

TRIGGER = "admin"
TITLES = {"sync_charts": "Sync now", "backfill_charts": "Backfill", "fetch_metadata": "Fetch metadata",
          "fetch_audience": "Fetch audience"}
MAX_TARGETS = 500
MAX_BACKFILL_DAYS = 731
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Outcome:
    """How an action ended: ``status`` (success, partial, failed), a one-line ``message``, its ``SyncRun``."""

    status: str
    message: str
    run_id: int | None = None


@dataclass(frozen=True)
class Action:
    """What to run (``work``), on what (``target``, for people), and how to measure it: ``total`` units, of
    which ``progress(engine, since)`` are done (read from the database)."""

    kind: str
    target: str
    params: dict
    unit: str
    total: int
    work: Callable[[Settings], Outcome]
    progress: Callable[[Engine, datetime], int]

    @property
    def title(self) -> str:
        return f"{TITLES[self.kind]} · {self.target}"


@dataclass(frozen=True)
class Status:
    """An action's state for the page: ``running`` (with ``done`` of ``total``), ``finished`` (with
    ``outcome``) or ``refused`` (with ``message``)."""

    state: str
    action: Action
    done: int = 0
    total: int = 0
    message: str = ""
    outcome: Outcome | None = None
    started_at: datetime | None = None
    elapsed: float = 0.0


def one_line(exc: BaseException) -> str:
    """An exception as one line a person can act on, secrets masked."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return mask(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)[:300]


def _distinct(values: Sequence[str], what: str) -> list[str]:
    found = list(dict.fromkeys(v for v in values if v))
    if not found:
        raise ConfigError(f"select at least one {what}")
    if len(found) > MAX_TARGETS:
        raise ConfigError(f"select at most {MAX_TARGETS} {what}s at once, got {len(found)}")
    return found


def _named(values: list[str], what: str) -> str:
    if len(values) == 1:
        return f"{what} {values[0]}"
    return f"{len(values)} {what}s"


def _run(job: Callable[[Settings, object], RunResult], settings: Settings, params) -> Outcome:
    """``job(settings, params)`` started by the admin area: its status, its summary with the first thing that failed
    (or was skipped), its run."""
    try:
        result = job(replace(settings, trigger=TRIGGER, job_notebook=""), params)
    except JobFailed as exc:
        result = exc.result
    first = [f"first error: {e}" for e in result.failures[:1]] or list(result.skipped[:1])
    return Outcome(result.status, mask("; ".join([result.summary, *first]))[:500], result.run_id)


def sync_charts(slugs: Sequence[str]) -> Action:
    """Fetch the latest ranking of each chart (``soundcharts sync-charts --chart ...``)."""
    slugs = _distinct(slugs, "chart")

    def work(settings: Settings) -> Outcome:
        from soundcharts_lib.jobs.sync import SyncParams
        from soundcharts_lib.jobs.sync import sync_charts as sync

        return _run(sync, settings, SyncParams(charts=slugs, progress=False))

    return Action("sync_charts", _named(slugs, "chart"), {"charts": slugs}, "charts", len(slugs), work,
                  lambda engine, since: admin_data.charts_synced_since(engine, slugs, since))


def backfill_charts(slugs: Sequence[str], start: date | None, end: date | None) -> Action:
    """Fetch every ranking of ``start``..``end`` not stored yet (``sync-charts --start-date --end-date``)."""
    slugs = _distinct(slugs, "chart")
    if start is None or end is None:
        raise ConfigError("a backfill needs a first and a last date")
    if start > end:
        raise ConfigError(f"the first date {start} is after the last date {end}")
    days = (end - start).days + 1
    if days > MAX_BACKFILL_DAYS:
        raise ConfigError(f"a backfill covers at most {MAX_BACKFILL_DAYS} days, got {days}")

    def work(settings: Settings) -> Outcome:
        from soundcharts_lib.jobs.sync import SyncParams
        from soundcharts_lib.jobs.sync import sync_charts as sync

        return _run(sync, settings, SyncParams(charts=slugs, start_date=start, end_date=end, progress=False))

    target = f"{_named(slugs, 'chart')}, {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    params = {"charts": slugs, "start": start.isoformat(), "end": end.isoformat()}
    return Action("backfill_charts", target, params, "rankings", days * len(slugs), work,
                  lambda engine, since: admin_data.rankings_fetched_since(engine, slugs, start, end, since))


def fetch_metadata(uuids: Sequence[str]) -> Action:
    """Fetch and store the tracks' metadata, artists and identifiers (``fetch-metadata --track-uuid ...``)."""
    uuids = _distinct(uuids, "track")

    def work(settings: Settings) -> Outcome:
        from soundcharts_lib.jobs.metadata import MetadataParams
        from soundcharts_lib.jobs.metadata import fetch_metadata as fetch

        return _run(fetch, settings, MetadataParams(track_uuids=uuids, all_tracks=True, progress=False))

    return Action("fetch_metadata", _named(uuids, "track"), {"tracks": uuids}, "tracks", len(uuids), work,
                  lambda engine, since: admin_data.metadata_fetched_since(engine, uuids, since))


def fetch_audience(uuids: Sequence[str], platforms: Sequence[str] | None = None, *, force: bool = False,
                   known_platforms: int = 1) -> Action:
    """Fetch the tracks' audience on ``platforms`` (default: every audience platform), incrementally unless
    ``force`` (``fetch-audience --track-uuid ... --platform ... [--force]``). ``known_platforms`` sizes the
    progress bar when no platform is chosen."""
    uuids = _distinct(uuids, "track")
    chosen = list(dict.fromkeys(platforms or []))

    def work(settings: Settings) -> Outcome:
        from soundcharts_lib.jobs.audience import AudienceParams
        from soundcharts_lib.jobs.audience import fetch_audience as fetch

        return _run(fetch, settings, AudienceParams(track_uuid=uuids, platform=chosen, force=force, progress=False))

    on = f" on {', '.join(chosen)}" if chosen else " on every audience platform"
    params = {"tracks": uuids, "platforms": chosen, "force": force}
    total = len(uuids) * max(len(chosen) or known_platforms, 1)
    target = _named(uuids, "track") + on + (" (forced)" if force else "")
    return Action("fetch_audience", target, params, "series", total, work,
                  lambda engine, since: admin_data.audience_checked_since(engine, uuids, chosen, since))


@dataclass
class _Slot:
    """The running action of one kind in this process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    status: Status | None = None


class Runner:
    """Starts admin actions in background threads and reports each one's :class:`Status` to ``on_update``.

    ``engine`` (writable) holds the audit log and answers the progress queries; the actions open their own
    engine and client from ``settings`` (default: the environment), as the CLI does.
    """

    def __init__(self, engine: Engine, *, settings: Settings | None = None, actor: str | None = None,
                 poll_seconds: float = 0.5):
        self.engine = engine
        self.settings = settings
        self.actor = actor or audit.actor_from_env()
        self.poll_seconds = poll_seconds
        self._slots = {kind: _Slot() for kind in TITLES}
        self._threads: list[threading.Thread] = []

    def start(self, action: Action, on_update: Callable[[Status], None]) -> Status:
        """Start ``action`` unless one of its kind is running (here or elsewhere): the ``running`` status, or
        the ``refused`` one. ``on_update`` then gets each progress step and the ``finished`` status, from the
        action's thread."""
        slot = self._slots[action.kind]
        if not slot.lock.acquire(blocking=False):
            running = slot.status
            since = f", started {running.started_at:%H:%M:%S} UTC" if running and running.started_at else ""
            what = running.action.target if running else "another one"
            return self._refuse(action, f"{TITLES[action.kind]} is already running ({what}{since}); "
                                        "this click was ignored")
        ready = threading.Event()
        thread = threading.Thread(target=self._run, args=(action, on_update, slot, ready),
                                  name=f"admin-{action.kind}", daemon=True)
        self._threads.append(thread)
        thread.start()
        if not ready.wait(START_TIMEOUT) or slot.status is None:
            return Status("refused", action, message=f"the action did not start within {START_TIMEOUT:.0f} s "
                                                     "(database busy?); see the server log")
        return slot.status

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every started action to end (tests, scripts); True when all did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
        return not any(t.is_alive() for t in self._threads)

    def _refuse(self, action: Action, message: str) -> Status:
        audit.record(self.engine, actor=self.actor, action=action.kind, target=action.target,
                     outcome="refused", details={"params": action.params, "message": message})
        return Status("refused", action, message=message)

    def _run(self, action: Action, on_update: Callable[[Status], None], slot: _Slot,
             ready: threading.Event) -> None:
        """The action's thread: the ``finished`` status is reported once both locks are released, so a click
        that follows it starts a new run."""
        try:
            settings = self.settings or Settings.from_env()
            with job_lock(f"admin-{action.kind}", settings):
                self._locked(action, settings, lambda status: _tell(on_update, status), slot, ready)
        except JobLocked:
            elsewhere = audit.latest_running(self.engine, action.kind)
            who = (f" ({elsewhere['target']}, started {elsewhere['at']:%H:%M:%S} UTC by {elsewhere['actor']})"
                   if elsewhere else "")
            slot.status = self._refuse(action, f"{TITLES[action.kind]} is already running in another page or "
                                               f"process{who}; this click was ignored")
        except Exception as exc:  # the page shows one line; the server log has the traceback
            log.exception("admin action %s failed", action.kind)
            if slot.status is not None and slot.status.action is action and slot.status.state == "running":
                outcome = Outcome("failed", one_line(exc))
                slot.status = replace(slot.status, state="finished", outcome=outcome, message=outcome.message)
            else:
                slot.status = Status("refused", action, message=f"could not start: {one_line(exc)}")
        finally:
            slot.lock.release()
            ready.set()
        if slot.status is not None and slot.status.action is action and slot.status.state == "finished":
            _tell(on_update, slot.status)

    def _locked(self, action: Action, settings: Settings, on_update: Callable[[Status], None], slot: _Slot,
                ready: threading.Event) -> None:
        since = utcnow()
        event = audit.record(self.engine, actor=self.actor, action=action.kind, target=action.target,
                             outcome="running", details={"params": action.params})
        status = slot.status = Status("running", action, 0, action.total, started_at=since)
        ready.set()
        on_update(status)
        begun = time.monotonic()
        with ThreadPoolExecutor(1, thread_name_prefix=f"admin-{action.kind}-work") as pool:
            future = pool.submit(action.work, settings)
            while True:
                try:
                    outcome = future.result(timeout=self.poll_seconds)
                    break
                except FutureTimeout:
                    status = slot.status = replace(status, done=self._progress(action, since, status.done),
                                                   elapsed=time.monotonic() - begun)
                    on_update(status)
                except Exception as exc:
                    log.error("admin action %s failed: %s", action.kind, one_line(exc))
                    outcome = Outcome("failed", one_line(exc))
                    break
        elapsed = time.monotonic() - begun
        audit.finish(self.engine, event, outcome.status, {
            "params": action.params, "message": outcome.message, "run_id": outcome.run_id,
            "seconds": round(elapsed, 1)})
        slot.status = replace(status, state="finished", done=action.total, outcome=outcome,
                              message=outcome.message, elapsed=elapsed)

    def _progress(self, action: Action, since: datetime, last: int) -> int:
        try:
            return min(max(action.progress(self.engine, since), last), action.total)
        except Exception as exc:  # a busy database only delays the bar
            log.warning("progress of %s not read: %s", action.kind, one_line(exc))
            return last


def _tell(on_update: Callable[[Status], None], status: Status) -> None:
    """Report to the page; a failing page callback is logged and never stops the action."""
    try:
        on_update(status)
    except Exception:
        log.exception("admin action %s: the page could not show its status", status.action.kind)
