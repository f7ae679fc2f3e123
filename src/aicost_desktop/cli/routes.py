"""`aicost routes` (alert rules -> integration destinations) and `aicost reports` (scheduled spend reports)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Sequence

from aicost_desktop.cli.common import parse_int, print_json
from aicost_desktop.cli.format import table
from aicost_desktop.domain.errors import InputError, OperationError

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.integrations.routing import DestinationSpec

TRIGGERS = ("threshold", "exceeded", "forecast", "sync_failure", "anomaly", "unpriced")  # routing.TRIGGERS


class _Dest(argparse.Action):
    """`--integration N --action A --param k=v ...`, repeatable: each --integration starts a destination."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any,
                 option: str | None = None) -> None:
        dests: list[dict[str, Any]] = list(getattr(ns, "dests", None) or [])
        if self.dest == "integration":
            dests.append({"connection": value, "action": None, "params": []})
        elif not dests:
            raise argparse.ArgumentError(self, "give --integration NAME first")
        elif self.dest == "action":
            dests[-1]["action"] = value
        else:
            dests[-1]["params"].append(value)
        ns.dests = dests


def _destination_args(p: argparse.ArgumentParser, many: bool) -> None:
    p.add_argument("--integration", action=_Dest, metavar="NAME", required=True,
                   help="a connection (aicost integrations list)" + ("; repeat for more destinations" if many else ""))
    p.add_argument("--action", action=_Dest, metavar="ACTION", help="its action, e.g. post_message, create_issue")
    p.add_argument("--param", action=_Dest, metavar="KEY=VALUE", help="an action parameter, e.g. channel=#ai-costs")
    p.set_defaults(dests=[])


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("routes", help="send alerts to Slack, GitHub, Discord... (rules)")
    rs = p.add_subparsers(dest="routes_command", metavar="ACTION", required=True)
    a = rs.add_parser("add", help="when an alert of a kind is raised, run integration actions")
    a.add_argument("--on", required=True, choices=TRIGGERS, help="the alert kind")
    a.add_argument("--budget", metavar="NAME", help="only this budget (threshold, exceeded, forecast)")
    a.add_argument("--at", metavar="PERCENT", help="threshold: only at or above this share of the limit")
    a.add_argument("--name", help="the rule's name (default: from trigger and destinations)")
    _destination_args(a, many=True)
    a.set_defaults(handler=run_add)
    ls = rs.add_parser("list", help="the rules and their recent deliveries")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    for name, text, fn in (("remove", "delete a rule (waiting deliveries are skipped)", run_remove),
                           ("test", "send a sample alert to each destination of a rule now", run_test)):
        t = rs.add_parser(name, help=text)
        t.add_argument("route", metavar="NAME|ID")
        t.set_defaults(handler=fn)

    r = sub.add_parser("reports", help="scheduled spend reports to an integration")
    ps = r.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    ra = ps.add_parser("add", help="every day/week/month, send the last period's spend")
    ra.add_argument("--every", required=True, choices=("daily", "weekly", "monthly"))
    ra.add_argument("--day", metavar="WEEKDAY", help="weekly: the day it runs (default: the week_start setting)")
    ra.add_argument("--at", metavar="HOUR", default="9", help="local hour it is due from, 0-23 (default 9)")
    ra.add_argument("--group-by", default="model", metavar="FIELD",
                    help="model, provider, account, project, source, workspace or day (default model)")
    ra.add_argument("--name", help="the report's name")
    _destination_args(ra, many=False)
    ra.set_defaults(handler=run_report_add)
    rl = ps.add_parser("list", help="the schedules, their last period and status")
    rl.add_argument("--json", action="store_true")
    rl.set_defaults(handler=run_report_list)
    rr = ps.add_parser("remove", help="delete a schedule")
    rr.add_argument("report", metavar="NAME|ID")
    rr.set_defaults(handler=run_report_remove)
    rn = ps.add_parser("run-now", help="send the last complete period's report now (the schedule is unchanged)")
    rn.add_argument("report", metavar="NAME|ID")
    rn.add_argument("--json", action="store_true")
    rn.set_defaults(handler=run_report_now)


def _specs(dests: Sequence[dict[str, Any]]) -> "list[DestinationSpec]":
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.routing import DestinationSpec

    out = []
    for d in dests:
        if not d["action"]:
            raise InputError("action", None, f"give --action for --integration {d['connection']}")
        params: dict[str, str] = {}
        for item in d["params"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError("param", item, "use KEY=VALUE")
            params[key.strip()] = value
        out.append(DestinationSpec(d["connection"], d["action"], params))
    return out


def _manager(ctx: "AppContext") -> "IntegrationManager":
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import delivery_policy
    from aicost_desktop.integrations.manager import IntegrationManager

    return IntegrationManager(ctx.db, ctx.secrets, policy=delivery_policy())


def deliver_now(ctx: "AppContext") -> list[str]:
    """`aicost check`'s integration pass (rule deliveries, due reports); its summary lines, none if idle."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.runtime.alerts import deliver_integrations

    m = _manager(ctx)
    try:
        run = deliver_integrations(ctx, m)
    finally:
        m.close()
    r, out = run.routes, []
    if r.sent or r.retried or r.failed:
        out.append(f"integrations: {len(r.sent)} delivered, {len(r.retried)} to retry, {len(r.failed)} failed"
                   " (aicost routes list shows why)")
    out += [f"report {name} sent" for name in run.reports]
    return out


def run_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.routing import add_route

    route = add_route(ctx.db, args.on, _specs(args.dests), name=args.name, budget=args.budget, min_percent=args.at)
    print(f"rule {route.name}: when {route.describe()} -> " + "; ".join(d.describe() for d in route.destinations))
    return 0


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import delivery_log
    from aicost_desktop.integrations.routing import list_routes

    routes, log = list_routes(ctx.db), delivery_log(ctx.db, limit=20)
    if args.json:
        print_json({"routes": [r.as_json() for r in routes], "deliveries": [d.as_json() for d in log]})
        return 0
    rows = [(str(r.id), r.name, r.describe(), d.describe()) for r in routes for d in r.destinations]
    print("\n".join(table(("id", "name", "when", "destination"), rows)))
    if log:
        print("\nrecent deliveries")
        print("\n".join(table(("alert", "destination", "status", "tries", "reason"),
                              [(str(d.alert_id), d.destination, d.status, str(d.attempts), d.reason or "")
                               for d in log])))
    return 0


def run_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.routing import remove_route

    route = remove_route(ctx.db, args.route)
    print(f"removed rule {route.name} ({len(route.destinations)} destination{'s' if len(route.destinations) != 1 else ''})")
    return 0


def run_test(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import send
    from aicost_desktop.integrations.routing import alert_message, get_route, sample_alert

    route = get_route(ctx.db, args.route)
    m = _manager(ctx)
    failed = 0
    try:
        for d in route.destinations:
            try:
                send(m, d, alert_message(sample_alert()))
                print(f"{d.connection}: {d.action}: sent")
            except Exception as exc:  # noqa: BLE001 - each destination's outcome is reported
                failed += 1
                print(f"{d.connection}: {d.action}: failed: {exc}")
    finally:
        m.close()
    return 1 if failed else 0


def run_report_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.reports import add_report

    (dest, *more) = _specs(args.dests)
    if more:
        raise InputError("integration", more[0].connection, "a report has one destination")
    s = add_report(ctx.db, ctx.tz, args.every, dest, name=args.name, weekday=args.day,
                   hour=parse_int(args.at, "at", maximum=23), group_by=args.group_by,
                   week_start=ctx.settings.get("week_start"))
    print(f"report {s.name}: {s.describe()} -> {s.destination.describe()} ({ctx.tz.key})")
    return 0


def run_report_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.reports import list_reports

    schedules = list_reports(ctx.db)
    if args.json:
        print_json([s.as_json() for s in schedules])
        return 0
    rows = [(str(s.id), s.name, s.describe(), s.destination.describe(), s.last_period or "",
             s.last_status or "", s.last_error or "") for s in schedules]
    print("\n".join(table(("id", "name", "when", "destination", "last period", "status", "reason"), rows)))
    return 0


def run_report_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.reports import remove_report

    print(f"removed report {remove_report(ctx.db, args.report).name}")
    return 0


def run_report_now(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.reports import get_report, run_report_now as send_now
    from aicost_desktop.runtime.alerts import report_spend

    get_report(ctx.db, args.report)  # an unknown name fails before any connection is opened
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.notify.outbox import DeliveryFailure

    m = _manager(ctx)
    try:
        msg = send_now(ctx, m, args.report, report_spend(ctx))
    except DeliveryFailure as exc:  # the service's refusal, in words (exit 1)
        raise OperationError(f"report {args.report} not sent: {exc}") from None
    finally:
        m.close()
    if args.json:
        print_json({"title": msg.title, "report": dict(msg.data)})
    else:
        print(f"sent: {msg.title}\n{msg.text}")
    return 0
