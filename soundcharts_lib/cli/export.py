"""The ``soundcharts export`` command: a dashboard table as CSV or Excel.

    soundcharts export overview-tracks --format csv -o tracks.csv
    soundcharts export chart-ranking --chart spotify-top-200-global-daily --date 2026-11-20 -o ranking.xlsx
    soundcharts export audience --track-uuid <uuid> --platform spotify --platform youtube
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.exits import EXIT_OK
from soundcharts_lib.warehouse.exports import (
    FORMATS,
    OPTION_NAMES,
    PAGES,
    TABLES,
    ExportError,
    Params,
    check,
    read_table,
    render,
)


def _epilog() -> str:
    lines = ["tables:"]
    for t in TABLES.values():
        needs = " ".join(OPTION_NAMES[f] for f in PAGES[t.page].needs)
        lines.append(f"  {t.name:<26} {t.description}{f'  [{needs}]' if needs else ''}")
    return "\n".join(lines)


def register(sub) -> None:
    """Add ``export`` to the ``soundcharts`` subcommands (``sub`` from ``add_subparsers``)."""
    s = sub.add_parser("export", help="write a dashboard table as CSV or Excel", epilog=_epilog(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("table", choices=list(TABLES), metavar="TABLE", help="a table name (listed below)")
    s.add_argument("--format", choices=FORMATS, help="csv or xlsx (default: from the -o suffix, else csv)")
    s.add_argument("-o", "--output", default="-", type=cliargs.file_path,
                   help="output file (default: CSV on standard output)")
    s.add_argument("--chart", type=cliargs.slug, help="chart slug (chart-* tables)")
    s.add_argument("--date", type=cliargs.iso_date, help="ranking date of chart-* tables (default: the latest)")
    s.add_argument("--track-uuid", type=cliargs.uuid, help="track UUID (track-* and audience tables)")
    s.add_argument("--platform", action="append", type=cliargs.platform, default=[],
                   help="platform code: one for platform-* tables; audience platforms (repeatable)")
    s.add_argument("--start-date", type=cliargs.iso_date, help="first audience date")
    s.add_argument("--end-date", type=cliargs.iso_date, help="last audience date")
    s.add_argument("--limit", type=cliargs.limit, help="the most recent N audience points per platform")
    s.set_defaults(func=cmd_export)


def cmd_export(args, settings) -> int:
    from soundcharts_lib.errors import ConfigError
    from soundcharts_lib.jobs.runtime import reading_engine

    fmt = args.format or ("xlsx" if args.output.lower().endswith(".xlsx") else "csv")
    if fmt == "xlsx" and args.output == "-":
        raise ConfigError("xlsx needs -o FILE")
    if args.start_date and args.end_date and args.start_date > args.end_date:
        raise ConfigError("--start-date is after --end-date")
    params = Params(chart=args.chart, date=args.date, track_uuid=args.track_uuid, platforms=tuple(args.platform),
                    start=args.start_date, end=args.end_date, limit=args.limit)
    try:
        check(args.table, params)
        engine = reading_engine(settings)
    except ExportError as exc:
        raise ConfigError(str(exc)) from None
    try:
        frame = read_table(engine, args.table, params)
    except ExportError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        engine.dispose()
    body = render(frame, fmt, args.table)
    if args.output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return EXIT_OK
    try:
        Path(args.output).write_bytes(body)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"{args.table}: {len(frame)} rows written to {args.output} ({fmt})", file=sys.stderr)
    return EXIT_OK
