"""The ``soundcharts fetch-reach`` and ``soundcharts follow`` commands.

    soundcharts fetch-reach --roster
    soundcharts fetch-reach --track-uuid <uuid> --platform spotify
    soundcharts follow --isrc USAT22003158
    soundcharts follow --spotify https://open.spotify.com/track/7A9rdAz2M6AjRwOa34jxIP
    soundcharts follow --platform deezer --id 3036185131

A malformed ISRC, Spotify link or identifier is exit 2 before any request; a song the API does not know (404) or
whose ISRC it blacklisted (410) is one line and exit 1, with nothing stored.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from soundcharts_lib import vocab
from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import actor, run_and_report
from soundcharts_lib.cli.exits import EXIT_FAILED, EXIT_OK


def register(sub) -> None:
    """Add ``fetch-reach`` and ``follow`` to the ``soundcharts`` subcommands."""
    s = sub.add_parser("fetch-reach", help="fetch songs' chart entries everywhere, popularity and current playlists")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--track-uuid", action="append", type=cliargs.uuid, help="one track (repeatable)")
    which.add_argument("--roster", action="store_true", help="only the roster's tracks")
    s.add_argument("--limit", type=cliargs.limit,
                   help="at most N tracks of the selection (the roster's first, then the stalest)")
    s.add_argument("--platform", action="append", type=cliargs.platform,
                   help="platform code (repeatable; default: each track's own platforms)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_fetch_reach)

    f = sub.add_parser("follow", help="follow any song by ISRC, Spotify link or platform id: stored, on the roster, "
                                      "with its metadata, audience and reach")
    way = f.add_mutually_exclusive_group(required=True)
    way.add_argument("--isrc", type=cliargs.argument_type(vocab.isrc), help="12 characters, dashes allowed")
    way.add_argument("--spotify", type=cliargs.argument_type(vocab.spotify_track_id), metavar="URL_OR_ID",
                     help="a Spotify track link, spotify:track: URI or 22-character id")
    way.add_argument("--platform", type=cliargs.platform, help="a platform code, with --id")
    f.add_argument("--id", type=cliargs.argument_type(vocab.platform_id), help="the song's id on --platform")
    f.add_argument("--label", type=cliargs.text, help="a name for the roster (default: the song's)")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_follow)


def cmd_fetch_reach(args, settings) -> int:
    from soundcharts_lib.jobs.reach import ReachParams, fetch_reach

    return run_and_report(fetch_reach, settings, ReachParams(
        track_uuid=args.track_uuid, roster=args.roster, limit=args.limit, platform=args.platform,
        progress=not args.quiet))


def cmd_follow(args, settings) -> int:
    from soundcharts_lib.jobs.follow import FollowParams, follow_song

    params = FollowParams(isrc=args.isrc, spotify=args.spotify, platform=args.platform, id=args.id, label=args.label,
                          progress=not args.quiet)
    followed = follow_song(replace(settings, trigger="cli", job_notebook=""), params, actor=actor())
    for line in followed.lines():
        print(line)
    for run in followed.runs:
        for message in run.skipped:
            print(f"  skipped {message}", file=sys.stderr)
        for failure in run.failures:
            print(f"  {failure}", file=sys.stderr)
    return EXIT_OK if followed.ok else EXIT_FAILED
