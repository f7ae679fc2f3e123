"""`aicost report`: spend over local days grouped by time and ledger dimensions."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from aicost_desktop.analytics.report import COST_MODES, GROUP_FIELDS, ReportRow, parse_group_by, spend_report
from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, print_json
from aicost_desktop.cli.format import money, table
from aicost_desktop.storage.query import LedgerFilter

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("report", help=help_of("report"))
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first local day (default: 1st of this month)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last local day (default: today)")
    p.add_argument("--group-by", metavar="FIELD[,FIELD...]", help=f"any of {', '.join(GROUP_FIELDS)}")
    p.add_argument("--provider")
    p.add_argument("--account")
    p.add_argument("--model")
    p.add_argument("--source")
    p.add_argument("--mode", choices=COST_MODES, default=None, help="cost mode (default: setting, auto)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run, reads_spend=True)


def run(args: argparse.Namespace, ctx: "AppContext") -> int:
    tz = ctx.tz
    today = datetime.now(tz).date()
    end = parse_date(args.end, "to") if args.end else today
    start = parse_date(args.start, "from") if args.start else end.replace(day=1)
    group_by = parse_group_by(args.group_by)
    report = spend_report(ctx.db, tz, start, end, group_by,
                          LedgerFilter.of(provider=args.provider, account=args.account, model=args.model,
                                          source=args.source),
                          mode=args.mode or ctx.settings.get("cost_mode"), fx=ctx.settings.fx_rates(),
                          week_start=ctx.settings.get("week_start"))
    if args.json:
        print_json(report.as_json())
        return 0
    print(f"Spend {start} .. {end} ({report.tz}): {money(report.total, report.currency)}")
    if group_by:
        # Rows without a value (manual entries and subscriptions have no model) are named and listed last.
        rows = sorted(report.rows, key=lambda r: tuple((not r.keys[f], r.keys[f]) for f in group_by))
        n = len(group_by)
        lines = table([*group_by, "cost", "tokens", ""],
                      [[r.keys[f] or f"(no {f})" for f in group_by]
                       + [money(r.cost, report.currency), f"{_tokens(r):,}",
                          "(unpriced rows)" if r.unpriced_rows else ""] for r in rows],
                      right={n, n + 1})
        for line in lines:
            print(line)
    return 0


def _tokens(r: ReportRow) -> int:
    return r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens
