"""`aicost alerts list|ack` and `aicost check` (evaluate budgets now and deliver)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_id, print_json

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def cmd_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.notify.alerts import list_alerts

    rows = list_alerts(ctx.db, unacknowledged=args.unacknowledged)
    if args.json:
        print_json([a.as_json() for a in rows])
        return 0
    if not rows:
        print("no alerts")
        return 0
    for a in rows:
        mark = " " if a.acknowledged else "*"
        print(f"{mark}{a.id:>4}  {a.sent_at:%Y-%m-%d %H:%M}  {a.type:<14} {a.message}")
    return 0


def cmd_ack(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.notify.alerts import acknowledge

    alert_id = parse_id(args.id)
    changed = acknowledge(ctx.db, alert_id)
    print(f"alert {alert_id} acknowledged" if changed else f"alert {alert_id} was already acknowledged")
    return 0


def cmd_check(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.service import run_check
    from aicost_desktop.cli.budgets import status_lines

    res = run_check(ctx)
    if res.evaluation.statuses:
        for line in status_lines(res.evaluation.statuses):
            print(line)
    else:
        print("no budgets")
    print(f"{len(res.evaluation.new_alerts)} new alert(s); {len(res.dispatch.sent)} delivered, "
          f"{len(res.dispatch.retried)} to retry, {len(res.dispatch.failed)} failed")
    for line in res.evaluation.actions:
        print(line)
    if res.waiting_email:
        print(f"{res.waiting_email} email(s) waiting: no SMTP server configured (setting smtp)")
    _integrations(ctx)
    return 0


def _integrations(ctx: "AppContext") -> None:
    """Rule deliveries to integrations and due scheduled reports, as the running app sends them."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.cli.routes import deliver_now

    for line in deliver_now(ctx):
        print(line)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("alerts", help=help_of("alerts"))
    al = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    ls = al.add_parser("list", help="list alerts, newest first")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--unacknowledged", action="store_true")
    ls.set_defaults(handler=cmd_list)
    ack = al.add_parser("ack", help="acknowledge an alert")
    ack.add_argument("id", metavar="ID")
    ack.set_defaults(handler=cmd_ack)
    c = sub.add_parser("check", help=help_of("check"))
    c.set_defaults(handler=cmd_check, reads_spend=True)
