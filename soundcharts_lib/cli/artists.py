"""The ``soundcharts fetch-artists`` command.

    soundcharts fetch-artists --artist-uuid <uuid> --platform spotify
    soundcharts fetch-artists --roster
    soundcharts fetch-artists --limit 200
"""

from __future__ import annotations

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import run_and_report


def register(sub) -> None:
    """Add ``fetch-artists`` to the ``soundcharts`` subcommands (``sub`` from ``add_subparsers``)."""
    s = sub.add_parser("fetch-artists", help="fetch artists' metadata, followers and monthly listeners")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--artist-uuid", action="append", type=cliargs.uuid, help="one artist (repeatable)")
    which.add_argument("--roster", action="store_true", help="only the roster's artists")
    s.add_argument("--limit", type=cliargs.limit,
                   help="at most N artists of the selection (the roster's first, then the stalest)")
    s.add_argument("--platform", action="append", type=cliargs.platform,
                   help="platform code (repeatable; default: every platform with followers or listeners)")
    s.add_argument("--start-date", type=cliargs.iso_date,
                   help="first date, from 2000-01-01 (default: incremental or 90 days)")
    s.add_argument("--end-date", type=cliargs.iso_date, help="last date (default: today, UTC)")
    s.add_argument("--force", action="store_true", help="refetch the whole range (not incremental)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_fetch_artists)


def cmd_fetch_artists(args, settings) -> int:
    from soundcharts_lib.jobs.artists import ArtistParams, fetch_artists

    return run_and_report(fetch_artists, settings, ArtistParams(
        artist_uuid=args.artist_uuid, roster=args.roster, limit=args.limit, platform=args.platform,
        start_date=args.start_date, end_date=args.end_date, force=args.force, progress=not args.quiet))
