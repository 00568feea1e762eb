"""What a chart sync or an audience fetch reports: its run, counts, failures and quota, and its status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class JobResult:
    run_id: int | None = None
    failures: int = 0
    errors: list[str] = field(default_factory=list)
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


class JobFailed(Exception):
    """A run that recorded failures (its ``SyncRun`` says which); the message lists the first ten."""

    def __init__(self, result: JobResult):
        self.result = result
        super().__init__(result.summary() + "".join(f"\n  {e}" for e in result.errors[:10]))
