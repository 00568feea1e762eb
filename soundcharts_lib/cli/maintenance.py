"""The ``soundcharts maintenance`` and ``soundcharts health`` commands.

    soundcharts maintenance cleanup [--older-than DAYS] [--rankings-days N ...] [--dry-run]
    soundcharts maintenance check [--repair]          exit 1 while defects remain
    soundcharts maintenance backup --to FILE [--force]
    soundcharts maintenance restore --from FILE [--force]
    soundcharts health [--max-stale N] [--min-quota N] [--max-running-hours H] [--skip-api]

``health`` exits 0 when healthy, 1 when unhealthy, 2 on bad input (for monitoring).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import run_and_report
from soundcharts_lib.cli.exits import EXIT_OK, EXIT_UNHEALTHY
from soundcharts_lib.config import Settings
from soundcharts_lib.errors import ServerError, SoundchartsError
from soundcharts_lib.logs import mask

# maintenance.TABLES and the archives, named here so that building the parser does not import the database layer
RETENTION_TARGETS = ("rankings", "audience", "runs", "audit", "archives")
MIN_QUOTA = cliargs.whole_number(0, 1_000_000_000)  # requests left: the API's "unlimited" reads 1,000,000,000


def register(sub) -> None:
    """Add ``maintenance`` (with its actions) and ``health`` to the ``soundcharts`` subcommands."""
    m = sub.add_parser("maintenance", help="retention cleanup, integrity check, backup and restore")
    actions = m.add_subparsers(dest="action", required=True, parser_class=cliargs.OneLineParser)

    s = actions.add_parser("cleanup", help="delete data older than its retention (never tracks or charts)")
    s.add_argument("--older-than", type=cliargs.days, metavar="DAYS",
                   help="retention for every table and the archived runs (overrides the environment)")
    for target in RETENTION_TARGETS:
        s.add_argument(f"--{target}-days", type=cliargs.days, metavar="DAYS",
                       help=f"retention for {target} (overrides --older-than)")
    s.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    s.set_defaults(func=cmd_cleanup)

    s = actions.add_parser("check", help="orphans, entry counts, dead runs, audience gaps, duplicate ISRCs")
    s.add_argument("--repair", action="store_true", help="fix what is safe, report the rest")
    s.set_defaults(func=cmd_check)

    s = actions.add_parser("backup", help="back up the database (SQLite online backup, or pg_dump)")
    s.add_argument("--to", required=True, type=cliargs.file_path, metavar="FILE", help="the backup file to write")
    s.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    s.set_defaults(func=cmd_backup)

    s = actions.add_parser("restore", help="restore a backup into SOUNDCHARTS_DB_URL (empty unless --force)")
    s.add_argument("--from", dest="source", required=True, type=cliargs.file_path, metavar="FILE",
                   help="a file written by backup")
    s.add_argument("--force", action="store_true", help="replace a database that is not empty")
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("health", help="database, charts, jobs and API summary; exit 1 when unhealthy")
    s.add_argument("--max-stale", type=cliargs.count, default=0, metavar="N",
                   help="stale active charts allowed (0)")
    s.add_argument("--min-quota", type=MIN_QUOTA, default=1000, metavar="N",
                   help="fewest API requests left in the billing term (1000)")
    s.add_argument("--max-running-hours", type=cliargs.hours, default=6, metavar="H",
                   help="a job still running after H hours counts as failed (6)")
    s.add_argument("--timeout", type=cliargs.seconds, default=10, metavar="SECONDS",
                   help="API check timeout (10)")
    s.add_argument("--skip-api", action="store_true", help="no API check (no credentials needed)")
    s.set_defaults(func=cmd_health)


def cmd_cleanup(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.maintenance import cleanup, retention_policy
    from soundcharts_lib.jobs.runtime import migrated_engine, reading_engine

    overrides = {t: getattr(args, f"{t}_days") for t in RETENTION_TARGETS}
    retention = retention_policy(settings, older_than=args.older_than, overrides=overrides)
    engine = reading_engine(settings) if args.dry_run else migrated_engine(settings)
    result = cleanup(engine, retention, runs_dir=settings.runs_dir, dry_run=args.dry_run)
    print(result.summary())
    return EXIT_OK


def cmd_check(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.maintenance import check_database
    from soundcharts_lib.jobs.runtime import migrated_engine, reading_engine

    engine = migrated_engine(settings) if args.repair else reading_engine(settings)
    report = check_database(engine, repair=args.repair)
    for line in report.lines():
        print(line)
    hint = " (--repair fixes what is safe)" if report.errors and not args.repair else ""
    print(report.verdict() + hint)
    return EXIT_UNHEALTHY if report.errors else EXIT_OK


def cmd_backup(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.backup import BackupParams, backup

    return run_and_report(backup, settings, BackupParams(to=args.to, force=args.force))


def cmd_restore(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.backup import restore

    result = restore(settings.db_url, args.source, force=args.force)
    print(f"{result.summary()}\ninto {mask(settings.db_url)}")
    return EXIT_OK


# --- health --------------------------------------------------------------------------------------------------------

@dataclass
class HealthCheck:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name:<9} {'ok' if self.ok else 'FAIL':<5} {self.detail}"


def one_line(exc: BaseException) -> str:
    """An exception as one masked line (a driver's own first line for database errors)."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines()
    return mask(lines[0] if lines else type(exc).__name__)


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    hours = (now - when).total_seconds() / 3600
    if hours < 1:
        return f"{hours * 60:.0f} min ago"
    return f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.0f} d ago"


def _database(settings: Settings) -> tuple[Engine | None, HealthCheck]:
    """Reachable, at this release's revision (not behind it, not a newer release's), read-only."""
    from soundcharts_lib.db.schema import head
    from soundcharts_lib.jobs.runtime import reading_engine

    try:
        engine = reading_engine(settings)
    except (SoundchartsError, SQLAlchemyError) as exc:
        return None, HealthCheck("database", False, one_line(exc))
    return engine, HealthCheck("database", True, f"{mask(settings.db_url)} (revision {head()})")


def _charts(engine: Engine, max_stale: int) -> HealthCheck:
    from soundcharts_lib.warehouse.health import chart_health

    charts = chart_health(engine)
    active = charts[charts["is_active"].astype(bool)]
    if active.empty:
        return HealthCheck("charts", True, "no active charts yet (run `soundcharts sync-charts`)")
    stale = list(active.loc[active["stale"], "slug"])
    failing = int((active["consecutive_failures"] > 0).sum())
    detail = f"{len(active)} active, {len(stale)} stale (allowed {max_stale}), {failing} failing"
    if stale:
        detail += ": " + ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else "")
    return HealthCheck("charts", len(stale) <= max_stale, detail)


def _jobs(engine: Engine, max_running_hours: int) -> HealthCheck:
    import pandas as pd

    from soundcharts_lib.db.models import utcnow
    from soundcharts_lib.warehouse.health import last_runs

    runs, now = last_runs(engine), utcnow()
    if runs.empty:
        return HealthCheck("jobs", True, "no job has run yet")
    parts, ok = [], True
    for run in runs.itertuples():
        started = pd.Timestamp(run.started_at).to_pydatetime()
        if run.status == "running" and (now - started).total_seconds() > max_running_hours * 3600:
            ok = False
            parts.append(f"{run.kind} still running, started {_ago(started, now)} (stuck?)")
        else:
            ok = ok and run.status not in ("failed", "interrupted")
            parts.append(f"{run.kind} {run.status} {_ago(started, now)}")
    return HealthCheck("jobs", ok, "; ".join(parts))


def _forecast(engine: Engine) -> HealthCheck:
    """The quota figures job runs recorded: unhealthy when, at the current pace, it runs out before month end."""
    from soundcharts_lib.warehouse.quota import quota_check

    ok, line = quota_check(engine)
    return HealthCheck("quota", ok, line.removeprefix("API quota: "))


def _quota(usage: dict, header) -> int | None:
    """Requests left: the usage body's ``object.quota.remaining``, else the ``x-quota-remaining`` header."""
    from soundcharts_lib.db.runs import as_int

    body = usage.get("object") if isinstance(usage.get("object"), dict) else usage
    quota = body.get("quota") if isinstance(body.get("quota"), dict) else {}
    if "remaining" in quota:
        return as_int(quota["remaining"])
    return as_int(header)


def _api(settings: Settings, min_quota: int, timeout: int) -> HealthCheck:
    from soundcharts_lib.api.client import SoundchartsClient

    try:
        with SoundchartsClient.from_settings(settings, cache=None, timeout=timeout, max_retries=1,
                                             max_retry_seconds=timeout) as client:
            usage = client.team_usage()
            remaining = _quota(usage, client.quota_remaining)
    except ServerError as exc:
        return HealthCheck("api", False, f"unreachable: {mask(str(exc))} ({mask(settings.api_url)})")
    except SoundchartsError as exc:
        return HealthCheck("api", False, f"refused: {mask(str(exc))} ({mask(settings.api_url)})")
    if remaining is None:
        return HealthCheck("api", True, f"reachable, quota unlimited ({mask(settings.api_url)})")
    return HealthCheck("api", remaining > 0 and remaining >= min_quota,
                       f"reachable, {remaining:,} requests left (minimum {min_quota:,}) ({mask(settings.api_url)})")


def health_checks(settings: Settings, *, max_stale: int = 0, min_quota: int = 1000, max_running_hours: int = 6,
                  api: bool = True, timeout: int = 10) -> list[HealthCheck]:
    """Database reachable and migrated; stale charts within ``max_stale``; no last job failed or stuck; the
    recorded quota lasting the month; API reachable with at least ``min_quota`` requests left (``team/usage``
    is free)."""
    engine, db = _database(settings)
    checks = [db]
    if engine is not None:
        try:
            checks += [_charts(engine, max_stale), _jobs(engine, max_running_hours), _forecast(engine)]
        except SQLAlchemyError as exc:
            checks.append(HealthCheck("database", False, one_line(exc)))
        finally:
            engine.dispose()
    if api:
        checks.append(_api(settings, min_quota, timeout))
    return checks


def cmd_health(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.runtime import require_credentials

    if not args.skip_api:
        require_credentials(settings)
    checks = health_checks(settings, max_stale=args.max_stale, min_quota=args.min_quota,
                           max_running_hours=args.max_running_hours, api=not args.skip_api, timeout=args.timeout)
    for check in checks:
        print(check.line())
    failed = [c.name for c in checks if not c.ok]
    print(f"UNHEALTHY: {', '.join(failed)}" if failed else "healthy")
    return EXIT_UNHEALTHY if failed else EXIT_OK
