"""The audit log: who did what, to what, when, with what outcome (one ``AuditEvent`` per admin action).

An action's event is written when it starts (outcome ``running``) and completed when it ends, so an action
whose kernel died still shows. A click refused because the same action was running is an event too
(``refused``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from soundcharts_lib.config import Settings
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import AUDIT

ACTOR_HEADER = "X-Soundcharts-User"  # set by an authenticating proxy; Voila hands it to the kernel as below
ACTOR_HEADER_ENV = "HTTP_X_SOUNDCHARTS_USER"
DEFAULT_ACTOR = "admin"
OUTCOMES = ("running", "success", "partial", "failed", "refused")
_NOT_NAME = re.compile(r"[^\w.@+ -]")


def actor_from_env(env: Mapping[str, str] | None = None) -> str:
    """The admin's name: the ``X-Soundcharts-User`` request header (Voila puts it in the kernel's environment),
    else the settings' ``admin_name`` (``SOUNDCHARTS_ADMIN_NAME``), else "admin". ``env`` (default: this process's
    environment) holds both."""
    header = os.environ.get(ACTOR_HEADER_ENV, "") if env is None else env.get(ACTOR_HEADER_ENV, "")
    for given in (header, Settings.from_env(env).admin_name):
        value = _NOT_NAME.sub("", given).strip()[:100]
        if value:
            return value
    return DEFAULT_ACTOR


def record(engine: Engine, *, actor: str, action: str, target: str, outcome: str,
           details: dict | None = None) -> int:
    """Write one event; its id."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    with engine.begin() as conn:
        return conn.execute(AUDIT.insert().values(
            at=utcnow(), actor=actor[:200], action=action[:200], target=target[:500], outcome=outcome,
            details=details).returning(AUDIT.c.id)).scalar_one()


def finish(engine: Engine, event_id: int, outcome: str, details: dict) -> None:
    """Complete a ``running`` event with its outcome and details (replacing those it started with)."""
    if outcome not in OUTCOMES[1:]:
        raise ValueError(f"an event finishes as one of {', '.join(OUTCOMES[1:])}, got {outcome!r}")
    with engine.begin() as conn:
        conn.execute(update(AUDIT).where(AUDIT.c.id == event_id).values(outcome=outcome, details=details))


def latest_running(engine: Engine, action: str) -> dict | None:
    """The newest ``running`` event of ``action`` (at, actor, target), or None."""
    q = (select(AUDIT.c.at, AUDIT.c.actor, AUDIT.c.target)
         .where(AUDIT.c.action == action, AUDIT.c.outcome == "running")
         .order_by(AUDIT.c.id.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return dict(row._mapping) if row else None


def actions(engine: Engine) -> list[str]:
    """Every action name in the log (admin actions and the jobs' own, e.g. ``maintenance.cleanup``)."""
    with engine.connect() as conn:
        return list(conn.execute(select(AUDIT.c.action).distinct().order_by(AUDIT.c.action)).scalars())


def events(engine: Engine, *, action: str | None = None, outcome: str | None = None,
           limit: int = 200) -> pd.DataFrame:
    """The newest events first: id, at, actor, action, target, outcome, message, run_id."""
    q = select(AUDIT.c.id, AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.target,
               AUDIT.c.outcome, AUDIT.c.details).order_by(AUDIT.c.id.desc()).limit(limit)
    if action:
        q = q.where(AUDIT.c.action == action)
    if outcome:
        q = q.where(AUDIT.c.outcome == outcome)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for row in rows:
        details = row.pop("details") or {}
        row["message"] = details.get("message")
        row["run_id"] = details.get("run_id")
    columns = ["id", "at", "actor", "action", "target", "outcome", "message", "run_id"]
    return pd.DataFrame(rows, columns=columns)
