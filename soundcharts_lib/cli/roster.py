"""``soundcharts roster``: the tracks and artists you follow.

    soundcharts roster add (--track UUID | --artist UUID) [--label TEXT]
    soundcharts roster remove (--track UUID | --artist UUID)
    soundcharts roster list
"""

from __future__ import annotations

from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import actor, reader, writer


def register(sub) -> None:
    """Add ``roster`` to the ``soundcharts`` subcommands."""
    r = sub.add_parser("roster", help="the tracks and artists you follow (dashboards can filter to them)")
    actions = r.add_subparsers(dest="action", required=True, parser_class=cliargs.OneLineParser)
    for name, helptext in (("add", "follow a track or an artist"), ("remove", "stop following it")):
        s = actions.add_parser(name, help=helptext)
        which = s.add_mutually_exclusive_group(required=True)
        which.add_argument("--track", type=cliargs.uuid, metavar="UUID", help="a track's SoundCharts UUID")
        which.add_argument("--artist", type=cliargs.uuid, metavar="UUID", help="an artist's SoundCharts UUID")
        if name == "add":
            s.add_argument("--label", type=cliargs.text, help="a name to show (default: the stored name)")
        s.set_defaults(func=cmd_roster_add if name == "add" else cmd_roster_remove)
    actions.add_parser("list", help="what you follow").set_defaults(func=cmd_roster_list)


def _kind_uuid(args) -> tuple[str, str]:
    return ("track", args.track) if args.track else ("artist", args.artist)


def cmd_roster_add(args, settings) -> int:
    from soundcharts_lib.curation import roster

    kind, uuid = _kind_uuid(args)
    item = roster.add(writer(settings), kind, uuid, label=args.label, actor=actor())
    state = "" if item["stored"] else " (not stored yet: it counts once a sync stores it)"
    verb = "added" if item["added"] else "already on the roster:"
    print(f"{verb} {kind} {uuid} {item['label'] or ''}".rstrip() + state)
    return 0


def cmd_roster_remove(args, settings) -> int:
    from soundcharts_lib.curation import roster

    kind, uuid = _kind_uuid(args)
    roster.remove(writer(settings), kind, uuid, actor=actor())
    print(f"removed {kind} {uuid}")
    return 0


def cmd_roster_list(args, settings) -> int:
    from soundcharts_lib.curation import roster

    items = roster.items(reader(settings))
    if items.empty:
        print("the roster is empty: soundcharts roster add --track UUID")
    for row in items.itertuples():
        brings = f"{row.tracks} stored tracks" if row.kind == "artist" else "stored" if row.stored else ""
        print(f"{row.kind:<6}  {row.uuid}  {row.label if isinstance(row.label, str) else '':<40}  "
              f"{brings or 'not stored yet'}".rstrip())
    return 0
