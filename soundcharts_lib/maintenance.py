"""Maintenance: pruning archived job runs by retention, and a health report."""

from __future__ import annotations

import time
from pathlib import Path

from .config import Settings


def prune_archives(runs_dir: str | Path, retention_days: int, *, now: float | None = None) -> list[Path]:
    """Delete archived notebooks and logs under ``runs_dir`` older than ``retention_days``; return them.

    Locks and anything outside the ``YYYY/MM/DD`` folders are left alone; emptied folders are removed.
    """
    root = Path(runs_dir)
    cutoff = (now or time.time()) - retention_days * 86400
    removed = []
    for path in sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*")):
        if path.suffix in (".ipynb", ".log") and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    for pattern in ("[0-9]*/[0-9]*/[0-9]*", "[0-9]*/[0-9]*", "[0-9]*"):
        for folder in root.glob(pattern):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return removed


def maintenance_job(*, retention_days: int | None = None, settings: Settings | None = None) -> dict:
    """What ``scheduled/maintenance.ipynb`` runs: prune archives, then report chart health."""
    from .db.runs import finish_run, start_run
    from .health import platform_health
    from .runtime import migrated_engine

    settings = settings or Settings.from_env()
    days = retention_days or settings.runs_retention_days
    engine = migrated_engine(settings)
    run_id = start_run(engine, "maintenance", "notebook", {"retention_days": days})
    removed = prune_archives(settings.runs_dir, days)
    health = platform_health(engine)
    counts = {"archives_removed": len(removed), "stale_charts": int(health["stale"].sum()) if len(health) else 0}
    finish_run(engine, run_id, status="success", counts=counts, errors=[])
    return counts
