"""``SyncRun`` records: every job run leaves one, with its parameters (never secrets) and outcome."""

from __future__ import annotations

import os

from sqlalchemy import update
from sqlalchemy.engine import Engine

from .models import SyncRun, utcnow

RUN_T = SyncRun.__table__
SECRET_WORDS = ("key", "secret", "token", "password")


def clean_params(params: dict) -> dict:
    """Parameters as JSON-safe values, with anything that looks like a secret left out."""
    out = {}
    for name, value in params.items():
        if any(w in name.lower() for w in SECRET_WORDS):
            continue
        if isinstance(value, (list, tuple, set)):
            value = [str(v) for v in value]
        elif value is not None and not isinstance(value, (int, float, bool, str)):
            value = str(value)
        out[name] = value
    return out


def start_run(engine: Engine, kind: str, trigger: str, params: dict) -> int:
    """Open a run. Inside a scheduled job, ``run-job`` sets the trigger and the archived notebook's path."""
    with engine.begin() as conn:
        return conn.execute(RUN_T.insert().values(
            kind=kind, trigger=os.environ.get("SOUNDCHARTS_TRIGGER") or trigger, started_at=utcnow(),
            status="running", params=clean_params(params),
            notebook_path=os.environ.get("SOUNDCHARTS_JOB_NOTEBOOK")).returning(RUN_T.c.id)).scalar_one()


def finish_run(engine: Engine, run_id: int, *, status: str, counts: dict, errors: list[str],
               quota_remaining: int | None = None, **extra) -> None:
    with engine.begin() as conn:
        conn.execute(update(RUN_T).where(RUN_T.c.id == run_id).values(
            finished_at=utcnow(), status=status, counts=counts, errors=errors[:200],
            quota_remaining=quota_remaining, **extra))


def as_int(value) -> int | None:
    """A quota figure as an int, or None when the API sent something else."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
