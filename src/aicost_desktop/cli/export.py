"""`aicost export`: stream ledger rows to CSV, JSON or NDJSON with filters and a column choice."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date
from aicost_desktop.export.writer import (ALL_COLUMNS, DEFAULT_COLUMNS, FORMATS, ExportSpec, export, parse_columns,
                                          with_currency)
from aicost_desktop.storage.query import LedgerFilter

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("export", help=help_of("export"),
                       description="Export ledger rows (streamed; a cancelled or failed export leaves no file). "
                                   "Amounts are exported as recorded, in each row's own currency (the currency "
                                   "column, always included with an amount column), not converted to the display "
                                   f"currency. Columns: {', '.join(ALL_COLUMNS)}.")
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="csv")
    p.add_argument("--out", required=True, metavar="FILE", help="target file (replaced atomically)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first local day (default: all)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last local day (default: all)")
    for name in ("provider", "account", "model", "source", "workspace"):
        p.add_argument(f"--{name}")
    p.add_argument("--columns", metavar="C1,C2",
                   help=f"default: {','.join(DEFAULT_COLUMNS)} (currency is added to amount columns)")
    p.add_argument("--bom", action="store_true", help="start the file with a UTF-8 BOM (Excel)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=run_export, reads_spend=True)


def run_export(args: argparse.Namespace, ctx: "AppContext") -> int:
    spec = ExportSpec(
        fmt=args.fmt, path=Path(args.out),
        start=parse_date(args.start, "from") if args.start else None,
        end=parse_date(args.end, "to") if args.end else None,
        filters=LedgerFilter.of(provider=args.provider, account=args.account, model=args.model,
                                source=args.source, workspace=args.workspace),
        columns=with_currency(parse_columns(args.columns)), bom=args.bom)
    spec.validate()
    show = not args.quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        print(f"\r{done:,}/{total:,} rows", end="", file=sys.stderr, flush=True)

    result = export(ctx.db, ctx.tz, spec, progress=progress if show else None)
    if show:
        print(file=sys.stderr)
    # One total per currency: the file keeps each row's own currency, and amounts in two currencies are not added.
    print(f"exported {result.rows:,} rows to {result.path} (sum of cost: {result.cost_text()})")
    return 0
