"""`aicost subscriptions`: recurring charges materialized as one ledger row per period."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, parse_id, print_json
from aicost_desktop.cli.format import money, table
from aicost_desktop.manual import SUB_PERIODS, add_subscription, list_subscriptions, remove_subscription

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("subscriptions", help=help_of("subscriptions"))
    ssub = p.add_subparsers(dest="sub_command", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="add a subscription; prints its id")
    add.add_argument("--service", required=True)
    add.add_argument("--amount", required=True)
    add.add_argument("--currency", default="USD")
    add.add_argument("--period", required=True, help=f"one of {', '.join(SUB_PERIODS)}")
    add.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    add.add_argument("--end", metavar="YYYY-MM-DD")
    add.add_argument("--provider")
    add.add_argument("--note")
    add.set_defaults(handler=run_add)
    ls = ssub.add_parser("list", help="list subscriptions")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    rm = ssub.add_parser("remove", help="remove a subscription and the charges it added")
    rm.add_argument("id")
    rm.set_defaults(handler=run_remove)


def run_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    start = parse_date(args.start, "start", usage_day=True)
    end = parse_date(args.end, "end", usage_day=True) if args.end else None
    print(add_subscription(ctx.db, args.service, args.amount, args.period, start, end, args.currency,
                           args.provider, args.note, today=ctx.today()))
    return 0


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    subs = list_subscriptions(ctx.db)
    items = [{"id": s.id, "service": s.service, "amount": s.amount, "currency": s.currency, "period": s.period,
              "start": s.start_date, "end": s.end_date, "provider": s.provider} for s in subs]
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no subscriptions (add one: aicost subscriptions add --service S --amount A --period monthly "
              "--start YYYY-MM-DD)")
        return 0
    for line in table(("id", "service", "provider", "amount", "period", "from", "to"),
                      [(s.id, s.service, s.provider or "", money(s.amount, s.currency), s.period,
                        s.start_date, s.end_date or "") for s in subs], right={0, 3}):
        print(line)
    return 0


def run_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    sub_id = parse_id(args.id)
    remove_subscription(ctx.db, sub_id)
    print(f"removed subscription {sub_id} and its charges")
    return 0
