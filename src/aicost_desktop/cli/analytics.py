"""`aicost analytics`: spend forecast, anomalous days, and reported-vs-computed reconciliation."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, print_json
from aicost_desktop.cli.format import money, table
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import parse_amount

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("analytics", help=help_of("analytics"))
    asub = p.add_subparsers(dest="analytics_command", metavar="ACTION", required=True)
    f = asub.add_parser("forecast", help="forecast daily spend and this month's total")
    f.add_argument("--days", type=int, choices=(7, 30), default=7)
    f.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    f.add_argument("--json", action="store_true")
    f.set_defaults(handler=run_forecast, reads_spend=True)
    a = asub.add_parser("anomalies", help="unusual days per provider, model and account")
    a.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="default: 30 days ago")
    a.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="default: today")
    a.add_argument("--min-dollars", default="5", help="ignore differences below this amount (default 5)")
    a.add_argument("--alert", action="store_true", help="also raise `anomaly` alerts")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=run_anomalies, reads_spend=True)
    r = asub.add_parser("reconcile", help="provider-reported vs computed cost per day, account and model")
    r.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="default: 30 days ago")
    r.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="default: today")
    r.add_argument("--all", action="store_true", help="list every compared day and model, not only flagged ones")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=run_reconcile, reads_spend=True)


def _today(ctx: "AppContext") -> date:
    return ctx.today()


def _range(args: argparse.Namespace, ctx: "AppContext") -> tuple[date, date]:
    end = parse_date(args.end, "to") if args.end else _today(ctx)
    start = parse_date(args.start, "from") if args.start else end - timedelta(days=29)
    if end < start:
        raise InputError("to", end.isoformat(), f"is before from={start.isoformat()}")
    return start, end


def run_forecast(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.analytics.forecast import spend_forecast

    today = parse_date(args.today, "today") if args.today else _today(ctx)
    fc = spend_forecast(ctx.db, ctx.tz, today, days=args.days, fx=ctx.settings.fx_rates())
    if args.json:
        print_json(fc.as_json())
        return 0
    print(f"Forecast from {today} ({fc.method}, {fc.history_days} days of history), 80% band")
    cur = fc.currency
    for line in table(("day", "", "forecast", "low", "high"),
                      [(d, d.strftime("%a"), money(m, cur), money(lo, cur), money(hi, cur))
                       for d, m, lo, hi in zip(fc.days, fc.mean, fc.lower, fc.upper)], right={2, 3, 4}, indent="  "):
        print(line)
    print(f"Next {args.days} days: {money(fc.total, cur)} [{money(fc.total_lower, cur)} .. "
          f"{money(fc.total_upper, cur)}]")
    print(f"This month: {money(fc.month_to_date, cur)} so far, projected {money(fc.month_projection, cur)} "
          f"[{money(fc.month_lower, cur)} .. {money(fc.month_upper, cur)}]")
    return 0


def run_anomalies(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.analytics.anomalies import find_anomalies, raise_alerts

    start, end = _range(args, ctx)
    floor = float(parse_amount(args.min_dollars, "min-dollars", allow_zero=True))
    found = find_anomalies(ctx.db, ctx.tz, start, end, min_dollars=floor, fx=ctx.settings.fx_rates())
    raised = raise_alerts(ctx.db, found) if args.alert else 0
    if args.json:
        print_json({"from": start, "to": end, "anomalies": [a.as_json() for a in found], "alerts_raised": raised})
        return 0
    if not found:
        print(f"No anomalies from {start} to {end}.")
    for a in found:
        print(f"{a.day}  {a.kind:<5}  {a.explanation}")
    if args.alert:
        print(f"{raised} new alert(s) raised.")
    return 0


def run_reconcile(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.analytics.reconcile import DRIFT_LIMIT, model_family, reconcile

    start, end = _range(args, ctx)
    rec = reconcile(ctx.db, ctx.tz, start, end, resolve=model_family(ctx.catalog))
    if args.json:
        print_json(rec.as_json())
        return 0
    limit = f"{DRIFT_LIMIT:g}%"
    rows = rec.models if args.all else rec.flagged
    print(f"Reported vs computed per day and model, {start} .. {end} (flag above {limit}):")
    if not rec.models:
        print("  no model has both a provider-reported and a computed cost in this range")
    elif rows:
        def drift(d: float | None) -> str:
            return "n/a" if d is None or d == float("inf") else f"{d:+,.1f}%"

        for line in table(("day", "account", "model", "reported", "computed", "drift", ""),
                          [(r.day, r.account, r.model, money(r.reported), money(r.computed), drift(r.drift_pct),
                            "FLAG" if r.flagged else "") for r in rows], right={3, 4, 5}, indent="  "):
            print(line)
    if rec.models:
        n = len(rec.flagged)
        print(f"  {len(rec.models)} model-days compared, {n or 'none'} drift above {limit}")
    if rec.reported_only:
        print("Reported cost with nothing computed to compare (set a price with `aicost prices set` to compare):")
        for o in rec.reported_only:
            print(f"  {o.account} {o.model}: {money(o.reported)} reported on {o.days} day(s)")
    if rec.unpriced:
        print("Unpriced models (set a price with `aicost prices set`):")
        for u in rec.unpriced:
            print(f"  {u.provider}/{u.model}: {u.rows} rows, {u.tokens:,} tokens, {u.first_day} .. {u.last_day}")
    return 0
