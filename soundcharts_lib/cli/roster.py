"""The ``soundcharts roster``, ``alerts`` and ``annotations`` commands.

    soundcharts roster add (--track UUID | --artist UUID) [--label TEXT]
    soundcharts roster remove (--track UUID | --artist UUID)
    soundcharts roster list
    soundcharts alerts rules add NAME --kind KIND [--top N] [--chart SLUG] [--platform SLUG] [--pct X] [--days N]
                                 [--roster-only] [--webhook URL] [--disabled]
    soundcharts alerts rules list | rules remove NAME
    soundcharts alerts evaluate [--no-deliver]       exit 1 when a rule or a delivery failed
    soundcharts alerts list [--days N] [--limit N]
    soundcharts annotations add --track UUID --date YYYY-MM-DD --text TEXT [--kind KIND]
    soundcharts annotations list --track UUID | remove ID

Bad input is one line on stderr and exit 2 (``ConfigError`` through ``cli.main``).
"""

from __future__ import annotations

import getpass
import sys

from soundcharts_lib import vocab
from soundcharts_lib.cli import args as cliargs

ALERT_KINDS = ("top_entry", "re_entry", "audience_growth", "chart_stale")  # alerts.KINDS, without importing pandas


def _actor() -> str:
    """Who the audit log names for a command: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _engine(settings):
    from soundcharts_lib.jobs.runtime import migrated_engine

    return migrated_engine(settings)


def _reader(settings):
    from soundcharts_lib.jobs.runtime import reading_engine

    return reading_engine(settings)


def register(sub) -> None:
    """Add ``roster``, ``alerts`` and ``annotations`` to the ``soundcharts`` subcommands."""
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

    a = sub.add_parser("alerts", help="alert rules, their evaluation and the alerts fired")
    actions = a.add_subparsers(dest="action", required=True, parser_class=cliargs.OneLineParser)
    rules = actions.add_parser("rules", help="add, list or remove alert rules")
    rule_actions = rules.add_subparsers(dest="rule_action", required=True, parser_class=cliargs.OneLineParser)
    s = rule_actions.add_parser("add", help="add a rule")
    s.add_argument("name", type=cliargs.text, help="a unique name")
    s.add_argument("--kind", required=True, choices=ALERT_KINDS)
    s.add_argument("--top", type=cliargs.limit, metavar="N", help="top_entry / re_entry: the top N")
    s.add_argument("--chart", type=cliargs.slug, help="one chart (default: every chart)")
    s.add_argument("--platform", type=cliargs.platform, help="audience_growth: one platform (default: every one)")
    s.add_argument("--pct", type=cliargs.number(0, vocab.MAX_LIMIT), help="audience_growth: growth above this %%")
    s.add_argument("--days", type=cliargs.days, help="audience_growth: over this many days (default 7)")
    s.add_argument("--roster-only", action="store_true", help="only tracks on the roster")
    s.add_argument("--webhook", type=cliargs.text, metavar="URL", help="POST each alert there as JSON")
    s.add_argument("--disabled", action="store_true", help="store the rule without evaluating it yet")
    s.set_defaults(func=cmd_rule_add)
    rule_actions.add_parser("list", help="the rules").set_defaults(func=cmd_rule_list)
    s = rule_actions.add_parser("remove", help="remove a rule and its alerts")
    s.add_argument("name", type=cliargs.text)
    s.set_defaults(func=cmd_rule_remove)
    s = actions.add_parser("evaluate", help="evaluate the rules now (a sync job does it at its end)")
    s.add_argument("--no-deliver", action="store_true", help="do not POST to webhooks")
    s.set_defaults(func=cmd_evaluate)
    s = actions.add_parser("list", help="alerts fired recently")
    s.add_argument("--days", type=cliargs.days, default=7)
    s.add_argument("--limit", type=cliargs.limit, default=50)
    s.set_defaults(func=cmd_alerts_list)

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


def _kind_uuid(args) -> tuple[str, str]:
    return ("track", args.track) if args.track else ("artist", args.artist)


def cmd_roster_add(args, settings) -> int:
    from soundcharts_lib.curation import roster

    kind, uuid = _kind_uuid(args)
    item = roster.add(_engine(settings), kind, uuid, label=args.label, actor=_actor())
    state = "" if item["stored"] else " (not stored yet: it counts once a sync stores it)"
    verb = "added" if item["added"] else "already on the roster:"
    print(f"{verb} {kind} {uuid} {item['label'] or ''}".rstrip() + state)
    return 0


def cmd_roster_remove(args, settings) -> int:
    from soundcharts_lib.curation import roster

    kind, uuid = _kind_uuid(args)
    roster.remove(_engine(settings), kind, uuid, actor=_actor())
    print(f"removed {kind} {uuid}")
    return 0


def cmd_roster_list(args, settings) -> int:
    from soundcharts_lib.curation import roster

    items = roster.items(_reader(settings))
    if items.empty:
        print("the roster is empty: soundcharts roster add --track UUID")
    for row in items.itertuples():
        brings = f"{row.tracks} stored tracks" if row.kind == "artist" else "stored" if row.stored else ""
        print(f"{row.kind:<6}  {row.uuid}  {row.label if isinstance(row.label, str) else '':<40}  "
              f"{brings or 'not stored yet'}".rstrip())
    return 0


def cmd_rule_add(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    params = {"n": args.top, "chart": args.chart, "platform": args.platform, "pct": args.pct, "days": args.days}
    rule_id = alerts.add_rule(_engine(settings), args.name, args.kind, params, roster_only=args.roster_only,
                              webhook_url=args.webhook, enabled=not args.disabled, actor=_actor())
    print(f"rule {rule_id} {args.name!r} added ({args.kind})")
    return 0


def cmd_rule_list(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    rules = alerts.rules(_reader(settings))
    if rules.empty:
        print("no alert rules: soundcharts alerts rules add NAME --kind top_entry --top 10")
    for r in rules.itertuples():
        params = ", ".join(f"{k}={v}" for k, v in (r.params or {}).items())
        extra = "".join([" roster only" if r.roster_only else "", f" -> {r.webhook}" if r.webhook else "",
                         "" if r.enabled else " (disabled)"])
        print(f"{r.name}: {r.kind}({params}){extra}; {r.alerts} alerts")
    return 0


def cmd_rule_remove(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    alerts.remove_rule(_engine(settings), args.name, actor=_actor())
    print(f"rule {args.name!r} removed")
    return 0


def cmd_evaluate(args, settings) -> int:
    from soundcharts_lib.curation import alerts, webhooks

    engine = _engine(settings)
    result = alerts.evaluate(engine)
    print(result.summary())
    for fired in result.fired:
        print(f"  {fired['rule']}: {fired['subject']}")
    for error in result.errors:
        print(f"  failed: {error}", file=sys.stderr)
    failed = bool(result.errors)
    if not args.no_deliver:
        delivery = webhooks.deliver(engine)
        print(f"webhooks: {delivery.summary()}")
        failed = failed or bool(delivery.failed)
    return 1 if failed else 0


def cmd_alerts_list(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    fired = alerts.recent_alerts(_reader(settings), days=args.days, limit=args.limit)
    if fired.empty:
        print(f"no alerts in the last {args.days} days")
    for a in fired.itertuples():
        delivered = {True: " [delivered]", False: " [not delivered]"}.get(a.delivered, "")
        print(f"{a.fired_at:%Y-%m-%d %H:%M} {a.rule}: {a.message}{delivered}")
    return 0


def cmd_note_add(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    note_id = annotations.add(_engine(settings), args.track, args.date, args.text, kind=args.kind,
                              actor=_actor())
    print(f"annotation {note_id} added to {args.track} on {args.date}")
    return 0


def cmd_note_list(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    notes = annotations.for_track(_reader(settings), args.track)
    if notes.empty:
        print(f"no annotations on {args.track}")
    for n in notes.itertuples():
        print(f"{n.id:>5}  {n.date}  {n.kind:<10} {n.text}")
    return 0


def cmd_note_remove(args, settings) -> int:
    from soundcharts_lib.curation import annotations

    annotations.remove(_engine(settings), args.id, actor=_actor())
    print(f"annotation {args.id} removed")
    return 0
