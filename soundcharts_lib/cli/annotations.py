"""``soundcharts annotations``: dated notes on a track, drawn on its charts.

    soundcharts annotations add --track UUID --date YYYY-MM-DD --text TEXT [--kind KIND]
    soundcharts annotations list --track UUID | remove ID
"""

from __future__ import annotations

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import actor, reader, writer


def register(sub) -> None:
    """Add ``annotations`` to the ``soundcharts`` subcommands."""
    n = sub.add_parser("annotations", help="dated notes on a track, drawn on its charts")
    actions = n.add_subparsers(dest="action", required=True, parser_class=cliargs.OneLineParser)
    s = actions.add_parser("add", help="add a note")
    s.add_argument("--track", type=cliargs.uuid, required=True, metavar="UUID")
    s.add_argument("--date", type=cliargs.iso_date, required=True, help="YYYY-MM-DD")
    s.add_argument("--text", type=cliargs.text, required=True)
    s.add_argument("--kind", type=cliargs.text, default="note", help="release, campaign, playlist, press, note, ...")
    s.set_defaults(func=cmd_note_add)
    s = actions.add_parser("list", help="a track's notes")
    s.add_argument("--track", type=cliargs.uuid, required=True, metavar="UUID")
    s.set_defaults(func=cmd_note_list)
    s = actions.add_parser("remove", help="delete a note")
    s.add_argument("id", type=cliargs.row_id)
    s.set_defaults(func=cmd_note_remove)


def cmd_note_add(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    note_id = annotations.add(writer(settings), args.track, args.date, args.text, kind=args.kind,
                              actor=actor())
    print(f"annotation {note_id} added to {args.track} on {args.date}")
    return 0


def cmd_note_list(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    notes = annotations.for_track(reader(settings), args.track)
    if notes.empty:
        print(f"no annotations on {args.track}")
    for n in notes.itertuples():
        print(f"{n.id:>5}  {n.date}  {n.kind:<10} {n.text}")
    return 0


def cmd_note_remove(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    annotations.remove(writer(settings), args.id, actor=actor())
    print(f"annotation {args.id} removed")
    return 0
