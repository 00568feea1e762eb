"""The ``soundcharts fetch-audience`` command.

    soundcharts fetch-audience --track-uuid <uuid> --platform spotify
    soundcharts fetch-audience --all-tracks --platform spotify --limit 50
    soundcharts fetch-audience --limit 100
"""

from __future__ import annotations

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import run_and_report


def register(sub) -> None:
    """Add ``fetch-audience`` to the ``soundcharts`` subcommands (``sub`` from ``add_subparsers``)."""
    s = sub.add_parser("fetch-audience", help="fetch tracks' audience series (streams, views, ...)")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--track-uuid", action="append", type=cliargs.uuid, help="one track (repeatable)")
    which.add_argument("--all-tracks", action="store_true",
                       help="stored tracks, charting and stalest first (the default)")
    s.add_argument("--platform", action="append", type=cliargs.platform,
                   help="audience platform code (repeatable; default: every audience platform)")
    s.add_argument("--limit", type=cliargs.limit, help="at most N tracks of the stale-first selection")
    s.add_argument("--start-date", type=cliargs.iso_date,
                   help="first date, from 2000-01-01 (default: incremental or 90 days)")
    s.add_argument("--end-date", type=cliargs.iso_date, help="last date (default: today, UTC)")
    s.add_argument("--force", action="store_true", help="refetch the whole range (not incremental)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_fetch_audience)


def cmd_fetch_audience(args, settings) -> int:
    from soundcharts_lib.jobs.audience import AudienceParams, fetch_audience

    return run_and_report(fetch_audience, settings, AudienceParams(
        track_uuid=args.track_uuid, platform=args.platform, all_tracks=args.all_tracks, limit=args.limit,
        start_date=args.start_date, end_date=args.end_date, force=args.force, progress=not args.quiet))
