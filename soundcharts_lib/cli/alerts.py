"""``soundcharts alerts``: alert rules, their evaluation and the alerts fired.

    soundcharts alerts rules add NAME --kind KIND [--top N] [--chart SLUG] [--platform SLUG] [--pct X] [--days N]
                                 [--series followers|listeners] [--roster-only] [--webhook URL] [--disabled]
    soundcharts alerts rules list | rules remove NAME
    soundcharts alerts evaluate [--no-deliver]       exit 1 when a rule or a delivery failed
    soundcharts alerts list [--days N] [--limit N]
"""

from __future__ import annotations

import sys

from soundcharts_lib import vocab
from soundcharts_lib.cli import args as cliargs
from soundcharts_lib.cli.common import actor, reader, writer
from soundcharts_lib.cli.exits import EXIT_FAILED, EXIT_OK


def register(sub) -> None:
    """Add ``alerts`` to the ``soundcharts`` subcommands."""
    a = sub.add_parser("alerts", help="alert rules, their evaluation and the alerts fired")
    actions = a.add_subparsers(dest="action", required=True, parser_class=cliargs.OneLineParser)
    rules = actions.add_parser("rules", help="add, list or remove alert rules")
    rule_actions = rules.add_subparsers(dest="rule_action", required=True, parser_class=cliargs.OneLineParser)
    s = rule_actions.add_parser("add", help="add a rule")
    s.add_argument("name", type=cliargs.text, help="a unique name")
    s.add_argument("--kind", required=True, choices=vocab.ALERT_KINDS)
    s.add_argument("--top", type=cliargs.limit, metavar="N", help="top_entry / re_entry / artist_entry: the top N")
    s.add_argument("--chart", type=cliargs.slug, help="one chart (default: every chart)")
    s.add_argument("--platform", type=cliargs.platform,
                   help="audience_growth / artist_growth: one platform (default: every one)")
    s.add_argument("--pct", type=cliargs.number(0, vocab.MAX_LIMIT),
                   help="audience_growth / artist_growth: growth above this %%")
    s.add_argument("--days", type=cliargs.days, help="audience_growth / artist_growth: over this many days (default 7)")
    s.add_argument("--series", choices=("followers", "listeners"), help="artist_growth: one series (default: both)")
    s.add_argument("--roster-only", action="store_true", help="only tracks (artists) on the roster")
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


def cmd_rule_add(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    params = {"n": args.top, "chart": args.chart, "platform": args.platform, "pct": args.pct, "days": args.days,
              "series": args.series}
    rule_id = alerts.add_rule(writer(settings), args.name, args.kind, params, roster_only=args.roster_only,
                              webhook_url=args.webhook, enabled=not args.disabled, actor=actor())
    print(f"rule {rule_id} {args.name!r} added ({args.kind})")
    return 0


def cmd_rule_list(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    rules = alerts.rules(reader(settings))
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

    alerts.remove_rule(writer(settings), args.name, actor=actor())
    print(f"rule {args.name!r} removed")
    return 0


def cmd_evaluate(args, settings) -> int:
    from soundcharts_lib.curation import alerts, webhooks

    engine = writer(settings)
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
    return EXIT_FAILED if failed else EXIT_OK


def cmd_alerts_list(args, settings) -> int:
    from soundcharts_lib.curation import alerts

    fired = alerts.recent_alerts(reader(settings), days=args.days, limit=args.limit)
    if fired.empty:
        print(f"no alerts in the last {args.days} days")
    for a in fired.itertuples():
        delivered = {True: " [delivered]", False: " [not delivered]"}.get(a.delivered, "")
        print(f"{a.fired_at:%Y-%m-%d %H:%M} {a.rule}: {a.message}{delivered}")
    return 0
