"""The ``soundcharts`` command. Bad input: one line on stderr and exit 2; failed work: exit 1."""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy.exc import DBAPIError

from soundcharts_lib import logs
from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import reader, run_and_report, writer
from soundcharts_lib.cli.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from soundcharts_lib.config import Settings
from soundcharts_lib.errors import ConfigError, SoundchartsError


def cmd_init_db(args, settings: Settings) -> int:
    from soundcharts_lib.db import make_engine, partition, upgrade

    engine = make_engine(settings.db_url)
    rev = upgrade(engine)
    for done in partition.apply(engine, settings.pg_partitioning):
        print(done)
    print(f"database ready at revision {rev}: {logs.mask(settings.db_url)}")
    return EXIT_OK


def cmd_localapi(args, settings: Settings) -> int:
    from soundcharts_lib.localapi import run_from_args

    return run_from_args(args)


def cmd_sync_charts(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.sync import SyncParams, sync_charts

    return run_and_report(sync_charts, settings, SyncParams(
        platforms=args.platform, charts=args.chart, country=args.country, date=args.date,
        backfill_days=args.backfill_days, start_date=args.start_date, end_date=args.end_date, force=args.force,
        progress=not args.quiet))


def cmd_fetch_metadata(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.metadata import MetadataParams, fetch_metadata

    return run_and_report(fetch_metadata, settings, MetadataParams(
        all_tracks=args.all_tracks, track_uuids=args.track_uuid, progress=not args.quiet))


def cmd_run_job(args, settings: Settings) -> int:
    from soundcharts_lib.jobs.lock import JobLocked
    from soundcharts_lib.jobs.result import JobFailed
    from soundcharts_lib.jobs.runner import check_params, run_job

    params = {key: _param_value(value) for key, value in args.param or []}
    check_params(args.name, dict(args.param or []))  # before anything is opened
    writer(settings).dispose()  # migrated, or refused, before the job's kernel starts
    try:
        result = run_job(args.name, params, settings=settings, trigger=args.trigger, lock_scope=args.lock_scope)
    except JobLocked as exc:
        print(f"soundcharts run-job: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except JobFailed as exc:
        print(f"soundcharts run-job: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary)
    return EXIT_OK


def _param_value(text: str):
    """papermill-style values: ints, floats, true/false/none, else the string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def cmd_serve(args, settings: Settings) -> int:
    from soundcharts_lib.web.launch import refuse_writable_db, serve

    reader(settings).dispose()  # both servers read a database at this release's revision, neither migrates it
    if not args.admin and not args.allow_writable_db:
        refuse_writable_db(settings.db_url)
    return serve(args.port, settings=settings, admin=args.admin)


def cmd_demo(args, settings: Settings) -> int:
    from soundcharts_lib.cli.demo import run_demo

    return run_demo(settings, port=args.port, api_port=args.api_port, backfill_days=args.backfill_days)


def build_parser() -> cliargs.OneLineParser:
    p = cliargs.OneLineParser(prog="soundcharts", description="SoundCharts analytics workbench.")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", required=True, parser_class=cliargs.OneLineParser)

    s = sub.add_parser("init-db", help="create or migrate the database (safe to run again)")
    s.set_defaults(func=cmd_init_db)

    s = sub.add_parser("localapi", help="run the local SoundCharts-compatible API server")
    from soundcharts_lib.localapi import add_arguments

    add_arguments(s)
    s.set_defaults(func=cmd_localapi)

    s = sub.add_parser("sync-charts", help="fetch chart rankings into the database")
    s.add_argument("--platform", action="append", type=cliargs.platform, help="platform code (repeatable)")
    s.add_argument("--chart", action="append", type=cliargs.slug, help="chart slug (repeatable)")
    s.add_argument("--country", type=cliargs.country, help="ISO country code (2 letters) for chart discovery")
    when = s.add_mutually_exclusive_group()
    when.add_argument("--date", type=cliargs.iso_date, help="the ranking of one date (YYYY-MM-DD)")
    when.add_argument("--backfill-days", type=cliargs.days, help="every ranking of the last N days (at most 36500)")
    when.add_argument("--start-date", type=cliargs.iso_date, help="first date of a range (with --end-date)")
    s.add_argument("--end-date", type=cliargs.iso_date, help="last date of a range")
    s.add_argument("--force", action="store_true", help="refetch rankings already stored")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_sync_charts)

    s = sub.add_parser("fetch-metadata", help="fetch track metadata, artists and platform identifiers")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--track-uuid", action="append", type=cliargs.uuid, help="one track (repeatable)")
    which.add_argument("--all-tracks", action="store_true", help="every stored track")
    which.add_argument("--missing", action="store_true", help="tracks never fetched (the default)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_fetch_metadata)

    from soundcharts_lib.cli import alerts as cli_alerts
    from soundcharts_lib.cli import annotations as cli_annotations
    from soundcharts_lib.cli import artists as cli_artists
    from soundcharts_lib.cli import audience as cli_audience
    from soundcharts_lib.cli import digest as cli_digest
    from soundcharts_lib.cli import export as cli_export
    from soundcharts_lib.cli import maintenance as cli_maintenance
    from soundcharts_lib.cli import reach as cli_reach
    from soundcharts_lib.cli import roster as cli_roster

    cli_audience.register(sub)
    cli_artists.register(sub)
    cli_reach.register(sub)
    cli_export.register(sub)
    cli_maintenance.register(sub)
    cli_roster.register(sub)
    cli_alerts.register(sub)
    cli_annotations.register(sub)
    cli_digest.register(sub)

    s = sub.add_parser("run-job", help="run scheduled/NAME.ipynb with papermill, locked and archived")
    s.add_argument("name", type=cliargs.slug)
    s.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"))
    s.add_argument("--trigger", default="manual", choices=["manual", "cron", "airflow"],
                   help="who starts the run, as its record says: manual (default), cron (scheduled/crontab), airflow")
    s.add_argument("--lock-scope", type=cliargs.slug, help="lock only this part of the job (e.g. a platform)")
    s.set_defaults(func=cmd_run_job)

    s = sub.add_parser("serve", help="serve the dashboards and the JSON endpoints on 127.0.0.1")
    s.add_argument("--admin", action="store_true",
                   help="the admin area, behind SOUNDCHARTS_ADMIN_TOKEN (or a token made and shown once)")
    s.add_argument("--port", type=cliargs.port, help="default 8866, or 8867 with --admin")
    s.add_argument("--allow-writable-db", action="store_true",
                   help="serve viewers even when their PostgreSQL role can write (default: refuse)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("demo", help="local API + 28-day sync into the default database + dashboards")
    s.add_argument("--port", type=cliargs.port, default=8866)
    s.add_argument("--api-port", type=cliargs.port, default=8765)
    s.add_argument("--backfill-days", type=cliargs.days, default=28)
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        # a command reports its failures itself, once: stderr shows the records behind them only when asked to
        asked = args.verbose or settings.log_level
        logs.setup(level="INFO" if args.verbose else None, console_level=None if asked else "ERROR",
                   settings=settings)
        code = args.func(args, settings)
        sys.stdout.flush()  # a reader that left (`| head -1`) shows here, not at exit
        return code
    except BrokenPipeError:
        return _reader_left()
    except ConfigError as exc:
        print(f"soundcharts {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"soundcharts {args.command}: error: database: {logs.mask(first)}", file=sys.stderr)
        return EXIT_USAGE
    except SoundchartsError as exc:
        print(f"soundcharts {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _reader_left() -> int:
    """``soundcharts ... | head -1``: the reader closed the pipe. Nothing more to say, and nothing on stderr; the
    buffered rest goes to /dev/null (or Python would complain while exiting). Exit as a process killed by
    SIGPIPE does (141)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
