"""The ``soundcharts digest`` command: the roster's digest of the last days, mailed and posted, or written to a file.

    soundcharts digest --to label@example.com --to ar@example.com
    soundcharts digest --days 7 --webhook https://hooks.slack.com/services/...
    soundcharts digest --dry-run digest.html

Bad input (a malformed address, a webhook that is not http(s), ``--days`` outside 1-31, nowhere to send) is one line
and exit 2; a delivery that failed is one line and exit 1 (it waits for the next run); another run sending digests
at the same time, exit 3.
"""

from __future__ import annotations

import sys

from soundcharts_lib import vocab
from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import run_and_report
from soundcharts_lib.cli.exits import EXIT_LOCKED
from soundcharts_lib.errors import ConfigError


def register(sub) -> None:
    """Add ``digest`` to the ``soundcharts`` subcommands."""
    s = sub.add_parser("digest", help="the roster's digest of the last days (entries, exits, moves, growth, alerts) "
                                      "by mail and webhook")
    s.add_argument("--days", type=cliargs.days, default=1,
                   help="the last N whole days, ending yesterday (UTC; at most 31, default 1)")
    s.add_argument("--to", action="append", type=cliargs.argument_type(vocab.email_address), metavar="EMAIL",
                   help="mail it to this address (repeatable; default SOUNDCHARTS_DIGEST_TO)")
    s.add_argument("--webhook", action="append", type=cliargs.text, metavar="URL",
                   help="post it to this Slack-compatible webhook (repeatable; default SOUNDCHARTS_DIGEST_WEBHOOK)")
    s.add_argument("--dry-run", type=cliargs.file_path, metavar="FILE",
                   help="write the HTML to FILE and send nothing")
    s.set_defaults(func=cmd_digest)


def cmd_digest(args, settings) -> int:
    from soundcharts_lib.jobs.digest import DigestParams, digest
    from soundcharts_lib.jobs.lock import JobLocked

    params = DigestParams(days=args.days, to=args.to, webhook=args.webhook, dry_run=args.dry_run)
    if not (args.to or args.webhook or args.dry_run or settings.digest_to or settings.digest_webhook):
        raise ConfigError("nowhere to send the digest: give --to or --webhook (or set SOUNDCHARTS_DIGEST_TO or "
                          "SOUNDCHARTS_DIGEST_WEBHOOK), or --dry-run FILE")
    try:
        return run_and_report(digest, settings, params)
    except JobLocked as exc:
        print(f"soundcharts digest: {exc}", file=sys.stderr)
        return EXIT_LOCKED
