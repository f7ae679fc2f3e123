"""`aicost routes` (alert rules -> integration destinations) and `aicost reports` (scheduled spend reports)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_int, print_json
from aicost_desktop.cli.format import table
from aicost_desktop.domain.errors import InputError, OperationError

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.integrations.routing import DestinationSpec
    from aicost_desktop.integrations.rules import RuleDraft

# rules.TRIGGER_CHOICES (routing's alert triggers, then the report triggers), spelled out so --help loads no core.
TRIGGERS = ("threshold", "exceeded", "forecast", "sync_failure", "anomaly", "unpriced",
            "report:daily", "report:weekly", "report:monthly")


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


def _destination_args(p: argparse.ArgumentParser, many: bool, required: bool = True) -> None:
    p.add_argument("--integration", action=_Dest, metavar="NAME", required=required,
                   help="a connection (aicost integrations list)" + ("; repeat for more destinations" if many else "")
                   + ("" if required else "; given, they replace the rule's destinations"))
    p.add_argument("--action", action=_Dest, metavar="ACTION", help="its action, e.g. post_message, create_issue")
    p.add_argument("--param", action=_Dest, metavar="KEY=VALUE", help="an action parameter, e.g. channel=#ai-costs")
    p.set_defaults(dests=[])


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("routes", help=help_of("routes"))
    rs = p.add_subparsers(dest="routes_command", metavar="ACTION", required=True)
    a = rs.add_parser("add", help="when an alert of a kind is raised (or a report is due), run integration actions")
    a.add_argument("--on", required=True, choices=TRIGGERS, help="the alert kind, or report:daily/weekly/monthly")
    _rule_args(a)
    _destination_args(a, many=True)
    a.set_defaults(handler=run_add)
    e = rs.add_parser("edit", help="change a rule: only the options given change")
    e.add_argument("route", metavar="NAME|ID")
    e.add_argument("--on", choices=TRIGGERS, help="a new trigger of the same kind (alert or report)")
    _rule_args(e)
    e.add_argument("--any-budget", action="store_true", help="match every budget again (drops --budget)")
    on = e.add_mutually_exclusive_group()
    on.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    on.add_argument("--disable", dest="enabled", action="store_const", const=False,
                    help="keep the rule but route nothing through it")
    _destination_args(e, many=True, required=False)
    e.set_defaults(handler=run_edit)
    ls = rs.add_parser("list", help="the rules and reports, and their recent deliveries")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    lg = rs.add_parser("log", help="the alert delivery log: sent, retrying, waiting, failed and why")
    lg.add_argument("--json", action="store_true")
    lg.add_argument("--limit", default="50", metavar="N", help="newest N deliveries (default 50)")
    lg.add_argument("--problems", action="store_true", help="only failed, retrying and waiting deliveries")
    lg.set_defaults(handler=run_log)
    for name, text, fn in (("remove", "delete a rule or report (waiting deliveries are skipped)", run_remove),
                           ("test", "send a sample alert (a report: the last period) to each destination now",
                            run_test)):
        t = rs.add_parser(name, help=text)
        t.add_argument("route", metavar="NAME|ID")
        t.set_defaults(handler=fn)

    r = sub.add_parser("reports", help=help_of("reports"))
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


def _rule_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", metavar="NAME", help="only this budget (threshold, exceeded, forecast)")
    p.add_argument("--at", metavar="PERCENT|HOUR",
                   help="threshold: only at or above this share of the limit (off: any); report: the local hour "
                        "it is due from, 0-23 (default 9)")
    p.add_argument("--name", help="the rule's name (default: from trigger and destinations)")
    p.add_argument("--quiet-hours", metavar="HH:MM-HH:MM",
                   help="local time when deliveries wait until the window ends, e.g. 22:00-07:00 (off: none)")
    p.add_argument("--max-per-hour", metavar="N",
                   help="at most N messages an hour to each destination; the alerts over it go out together in "
                        "one message when the hour allows (off: no limit)")
    p.add_argument("--day", metavar="WEEKDAY", help="report:weekly: the day it runs (default: the week_start setting)")
    p.add_argument("--group-by", metavar="FIELD",
                   help="report: model, provider, account, project, source, workspace or day (default model)")


def _draft(args: argparse.Namespace, trigger: str, given: set[str]) -> "RuleDraft":
    """The options given on the command line as one draft; `--at` is a percentage or, for a report, the hour."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.rules import RuleDraft, is_report

    report = is_report(trigger)
    hour = parse_int(args.at, "at", maximum=23) if report and args.at is not None else None
    dests = _specs(args.dests) if args.dests else []
    fields = {"name": args.name, "budget": args.budget, "min_percent": None if report else args.at,
              "quiet_hours": args.quiet_hours, "max_per_hour": args.max_per_hour, "weekday": args.day,
              "hour": hour, "group_by": args.group_by}
    picked = {k for k, v in fields.items() if v is not None} | given
    if report and args.at is not None:
        picked.discard("min_percent")
    if dests:
        picked.add("destinations")
    return RuleDraft(trigger, dests, **fields, given=frozenset(picked))


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


def _said(rule: Any, ctx: "AppContext") -> str:
    """'rule NAME: when ... -> dest; dest (quiet 22:00-07:00, at most 3 an hour)' / a report's line."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.rules import is_report, limits

    if is_report(rule.trigger):
        return f"report {rule.name}: {rule.describe()} -> {rule.destination.describe()} ({ctx.tz.key})"
    extra = limits(rule)
    return (f"rule {rule.name}: when {rule.describe()} -> " + "; ".join(d.describe() for d in rule.destinations)
            + (f" ({extra}, {ctx.tz.key})" if extra and rule.quiet_hours else f" ({extra})" if extra else "")
            + ("" if rule.enabled else " [disabled]"))


def run_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.rules import add_rule

    rule = add_rule(ctx.db, ctx.tz, _draft(args, args.on, set()), week_start=ctx.settings.get("week_start"))
    print(_said(rule, ctx))
    return 0


def run_edit(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.rules import find_rule, update_rule

    old = find_rule(ctx.db, args.route)
    given = {"enabled"} if args.enabled is not None else set()
    if args.any_budget:
        if args.budget is not None:
            raise InputError("any-budget", True, "give --budget NAME or --any-budget, not both")
        given.add("budget")
    draft = _draft(args, args.on or old.trigger, given)
    if args.enabled is not None:
        draft = replace(draft, enabled=args.enabled)
    if not draft.given and args.on is None:
        raise InputError("route", args.route, "give what to change (see aicost routes edit --help)")
    rule = update_rule(ctx.db, ctx.tz, args.route, draft, week_start=ctx.settings.get("week_start"))
    print(_said(rule, ctx))
    return 0


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import delivery_log
    from aicost_desktop.integrations.rules import list_rules, ref_of, rule_json

    rules, log = list_rules(ctx.db), delivery_log(ctx.db, limit=20)
    if args.json:
        print_json({"routes": [rule_json(r) for r in rules], "deliveries": [d.as_json() for d in log]})
        return 0
    rows = []
    for r in rules:
        quiet = getattr(r, "quiet_hours", None) or ""
        per_hour = str(getattr(r, "max_per_hour", None) or "")
        when = r.describe() + ("" if r.enabled else " [disabled]")
        rows += [(ref_of(r), r.name, when, d.describe(), quiet, per_hour) for d in r.destinations]
    print("\n".join(table(("id", "name", "when", "destination", "quiet", "max/hour"), rows)))
    if log:
        print("\nrecent deliveries")
        print("\n".join(table(("alert", "destination", "status", "tries", "reason"),
                              [(str(d.alert_id), d.destination, d.status, str(d.attempts), d.reason or "")
                               for d in log])))
    return 0


def run_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.rules import is_report, remove_rule

    rule = remove_rule(ctx.db, args.route)
    if is_report(rule.trigger):
        print(f"removed report {rule.name}")
        return 0
    n = len(rule.destinations)
    print(f"removed rule {rule.name} ({n} destination{'s' if n != 1 else ''})")
    return 0


def run_test(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import send
    from aicost_desktop.integrations.reports import run_report_now as send_report
    from aicost_desktop.integrations.messages import alert_message
    from aicost_desktop.integrations.routing import sample_alert
    from aicost_desktop.integrations.rules import find_rule, is_report
    from aicost_desktop.runtime.alerts import report_spend

    rule = find_rule(ctx.db, args.route)
    m = _manager(ctx)
    failed = 0
    try:
        for d in rule.destinations:
            try:
                if is_report(rule.trigger):
                    send_report(ctx, m, str(rule.id), report_spend(ctx))
                else:
                    send(m, d, alert_message(sample_alert()))
                print(f"{d.connection}: {d.action}: sent")
            except Exception as exc:  # noqa: BLE001 - each destination's outcome is reported
                failed += 1
                print(f"{d.connection}: {d.action}: failed: {exc}")
    finally:
        m.close()
    return 1 if failed else 0


def run_log(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.delivery import delivery_log

    log = delivery_log(ctx.db, limit=parse_int(args.limit, "limit", minimum=1, maximum=10_000),
                       problems=args.problems)
    if args.json:
        print_json([d.as_json() for d in log])
        return 0
    if not log:
        print("no deliveries yet" if not args.problems else "no failed, retrying or waiting deliveries")
        return 0
    rows = [((d.created_at.astimezone(ctx.tz).strftime("%m-%d %H:%M") if d.created_at else ""),
             f"#{d.alert_id} {d.alert_title}", d.route or "(removed)", d.destination, d.status, d.detail(ctx.tz))
            for d in log]
    print("\n".join(table(("queued", "alert", "rule", "destination", "status", "detail"), rows)))
    return 0


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
