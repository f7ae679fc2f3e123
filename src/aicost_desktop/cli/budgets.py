"""`aicost budgets` commands: add, list, status, remove, pause-key / resume-key."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import print_json
from aicost_desktop.cli.format import money, percent, table
from aicost_desktop.domain.errors import InputError

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.budgets.engine import BudgetStatus
    from aicost_desktop.budgets.spend import Scope


def _pause_account(ctx: "AppContext", text: str | None) -> int | None:
    if not text:
        return None
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import get_account

    try:
        return get_account(ctx.db, text).id
    except InputError:
        raise InputError("pause-account", text, "no such account") from None


def cmd_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.model import BudgetSpec, add_budget

    spec = BudgetSpec.build(name=args.name, amount=args.amount, period=args.period, scope=args.scope,
                            currency=args.currency, thresholds=args.thresholds, forecast_alert=args.forecast,
                            emails=args.email or (), on_exceed=args.on_exceed, quiet_start=args.quiet_start,
                            quiet_end=args.quiet_end, pause_account_id=_pause_account(ctx, args.pause_account),
                            pause_key_hash=args.pause_key)
    _check_scope(ctx, spec.scope, args.scope)
    bid = add_budget(ctx.db, spec)
    print(f"budget {spec.name} added (id {bid}): {money(spec.amount, spec.currency)} {spec.period}, "
          f"{spec.scope}, alerts at {', '.join(f'{t}%' for t in spec.thresholds)}")
    return 0


def _check_scope(ctx: "AppContext", scope: "Scope", text: str | None) -> None:
    """A scope naming a provider, model, account... that nothing has is a typo: refused with close matches
    (a budget on it would read $0.00 for ever)."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.spend import scope_filter
    from aicost_desktop.storage.query import where_clauses

    try:
        where_clauses(ctx.db, scope_filter(scope), ctx.tz)
    except InputError as exc:
        raise InputError("scope", text, exc.reason) from None


def cmd_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.model import list_budgets

    rows = list_budgets(ctx.db)
    if args.json:
        print_json([{"id": b.id, "name": b.name, "scope": "everything" if b.scope_kind == "all"
                     else f"{b.scope_kind}:{b.scope_value}", "amount": b.amount.normalize(), "currency": b.currency,
                     "period": b.period, "thresholds": b.thresholds.split(","), "forecast_alert": b.forecast_alert,
                     "emails": [e for e in (b.emails or "").split(",") if e], "on_exceed": b.on_exceed,
                     "enabled": b.enabled} for b in rows])
        return 0
    if not rows:
        print("no budgets (add one: aicost budgets add --name N --amount A --period monthly)")
        return 0
    for line in table(("id", "name", "limit", "period", "scope", "alerts at %", "when exceeded", ""),
                      [(b.id, b.name, money(b.amount, b.currency), b.period,
                        "everything" if b.scope_kind == "all" else f"{b.scope_kind}:{b.scope_value}",
                        b.thresholds, b.on_exceed, "" if b.enabled else "(disabled)") for b in rows],
                      right={0, 2}):
        print(line)
    return 0


def cmd_status(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.service import context_statuses

    sts = context_statuses(ctx)
    if args.json:
        print_json([status_json(st) for st in sts])
        return 0
    if not sts:
        print("no budgets")
        return 0
    for line in status_lines(sts):
        print(line)
    return 0


def status_json(st: "BudgetStatus") -> dict[str, object]:
    """A budget's status as JSON: the limit exact (as_json rounds it to cents; a $0.001 limit is not $0)."""
    return {**st.as_json(), "limit": st.amount}


def status_lines(sts: "list[BudgetStatus]") -> list[str]:
    """The table `budgets status` and `check` print: spent against limit, state, and the forecast with its
    80% band (the figures the window's card and Budgets table show)."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.wording import STATE_WORDS

    return table(("budget", "spent", "limit", "used", "state", "forecast", "80% band", "by", "days left"),
                 [(st.name, money(st.spent, st.currency), money(st.amount, st.currency), percent(st.percent),
                   STATE_WORDS.get(st.state, st.state).lower(), money(st.forecast.amount, st.currency),
                   st.forecast_band(), st.period_end(), st.days_left) for st in sts],
                 right={1, 2, 3, 5, 6, 8})


def cmd_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.model import remove_budget

    print(f"budget {remove_budget(ctx.db, args.budget)} removed (its alerts stay in the log)")
    return 0


def cmd_key(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.budgets.actions import OpenRouterKeys, set_key_paused
    from aicost_desktop.budgets.model import find_budget

    b = find_budget(ctx.db, args.budget)
    act = set_key_paused(ctx.db, b.id, args.pause, OpenRouterKeys(ctx.db, ctx.secrets))
    print(act.detail)
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("budgets", help=help_of("budgets"))
    bs = p.add_subparsers(dest="budgets_command", metavar="ACTION", required=True)
    a = bs.add_parser("add", help="add a budget")
    a.add_argument("--name", required=True)
    a.add_argument("--amount", required=True, help="limit per period, e.g. 100 or 12.50")
    a.add_argument("--period", default="monthly", help="daily, weekly, monthly, quarterly or yearly")
    a.add_argument("--scope", default=None, metavar="KIND:VALUE",
                   help="everything (default) or provider:/account:/workspace:/project:/model:/source:VALUE")
    a.add_argument("--thresholds", default=None, help="alert percentages, sorted (default 50,80,100)")
    a.add_argument("--email", action="extend", nargs="+", metavar="ADDR", help="send alerts to these addresses")
    a.add_argument("--forecast", action="store_true", help="also alert when projected to exceed")
    a.add_argument("--currency", default="USD")
    a.add_argument("--on-exceed", default="notify",
                   help="notify, require_ack, pause_key or block; block: the local gateway (aicost gateway) "
                        "refuses calls with HTTP 429 once the period's spend, with calls in flight, reaches the amount")
    a.add_argument("--pause-account", metavar="NAME", help="OpenRouter account whose key pause_key pauses")
    a.add_argument("--pause-key", metavar="HASH", help="hash of the OpenRouter key to pause")
    a.add_argument("--quiet-start", metavar="HH:MM", help="local time notifications are held from")
    a.add_argument("--quiet-end", metavar="HH:MM")
    a.set_defaults(handler=cmd_add)
    for name, fn, text in (("list", cmd_list, "list budgets"), ("status", cmd_status, "spent, limit, forecast, state")):
        q = bs.add_parser(name, help=text)
        q.add_argument("--json", action="store_true")
        q.set_defaults(handler=fn, reads_spend=True)
    r = bs.add_parser("remove", help="remove a budget (its alerts stay in the log)")
    r.add_argument("budget", metavar="NAME")
    r.set_defaults(handler=cmd_remove)
    for name, pause in (("pause-key", True), ("resume-key", False)):
        k = bs.add_parser(name, help=f"{name.split('-')[0]} the budget's OpenRouter key now")
        k.add_argument("budget", metavar="NAME")
        k.set_defaults(handler=cmd_key, pause=pause)
