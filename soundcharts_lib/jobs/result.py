"""The one shape of a job: ``f(settings, params) -> RunResult``, raising :class:`JobFailed` when it failed.

Every job (chart sync, audience, metadata, maintenance, backup, and a job notebook run by ``run-job``) reports one
:class:`RunResult`: its status and counts as its ``SyncRun`` records them, the line that sums it up (what the command
prints), and its failures one line each. A run that recorded failures raises :class:`JobFailed` carrying that result,
so ``except SoundchartsError`` catches a failed job like any other error of the project. :class:`Tally` is what a run
counts while it runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from soundcharts_lib.db.runs import as_int, finish_run
from soundcharts_lib.errors import QuotaExhausted, SoundchartsError

SHOWN_FAILURES = 10  # failures listed in a JobFailed's message (the run's record keeps them all)


@dataclass(frozen=True)
class RunResult:
    """What a job run did.

    ``status``: success, partial (some failed, some done) or failed. ``summary``: one line, what the command prints.
    ``counts``: what the run's record stores. ``failures``: what failed, one line each (a job notebook that raised
    says why in its summary). ``skipped``: what was left out on purpose (not a failure). ``notes``: further lines for
    people (alerts evaluated, integrity findings). ``run_id``: its ``SyncRun`` (none for a backup, which writes
    nothing). ``notebook`` and ``log``: the archived job notebook and its log, for a run of ``run-job`` (and for a job
    function called in that notebook).
    """

    job: str
    status: str
    summary: str
    counts: Mapping[str, int | str] = field(default_factory=dict)
    failures: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    run_id: int | None = None
    quota_remaining: int | None = None
    notebook: Path | None = None
    log: Path | None = None

    def raise_if_failed(self) -> RunResult:
        """This result, or :class:`JobFailed` carrying it when anything failed."""
        if self.failures:
            raise JobFailed(self)
        return self


class JobFailed(SoundchartsError):
    """A job that failed: ``result`` says how (its ``SyncRun`` too); the message is its summary and its first ten
    failures, one a line."""

    def __init__(self, result: RunResult):
        self.result = result
        super().__init__(result.summary + "".join(f"\n  {e}" for e in result.failures[:SHOWN_FAILURES]))


@dataclass
class Tally:
    """A run's counts while it runs: its record, failures and their messages, what it skipped, the quota left.

    A job's tally names the fields its record counts (``COUNTS``), says whether anything was done (a run with
    failures is then "partial", else "failed") and sums itself up in one line.
    """

    run_id: int | None = None
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    quota_remaining: int | None = None

    COUNTS: ClassVar[tuple[str, ...]] = ()  # the fields recorded as the run's counts, in order

    def did_work(self) -> bool:
        """Whether anything was fetched or found already stored (a failing run is then "partial")."""
        raise NotImplementedError

    @property
    def status(self) -> str:
        if not self.failures:
            return "success"
        return "partial" if self.did_work() else "failed"

    def counts(self) -> dict:
        return {name: getattr(self, name) for name in self.COUNTS}

    def summary(self) -> str:
        raise NotImplementedError

    def run_result(self, job: str, *, notes: tuple[str, ...] = (), notebook: str | Path | None = None) -> RunResult:
        return RunResult(job, self.status, self.summary(), self.counts(), tuple(self.errors), tuple(self.skipped),
                         tuple(notes), self.run_id, self.quota_remaining, Path(notebook) if notebook else None)


@contextmanager
def recorded(engine, client, tally: Tally) -> Iterator[Tally]:
    """A job's work on its run record (``tally.run_id``): an exhausted quota is a failure that ends the work (what
    was fetched stays stored); any other exception is recorded on the run, then raised (a crash never reads as a
    success); in every case the run is finished with its counts, errors and the quota the client saw left."""
    try:
        yield tally
    except QuotaExhausted as exc:
        tally.failures += 1
        tally.errors.append(f"quota exhausted: {exc}")
    except Exception as exc:
        tally.failures += 1
        tally.errors.append(f"stopped by {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}")
        raise
    finally:
        tally.quota_remaining = as_int(getattr(client, "quota_remaining", None))
        finish_run(engine, tally.run_id, status=tally.status, counts=tally.counts(),
                   errors=tally.skipped + tally.errors, quota_remaining=tally.quota_remaining)
