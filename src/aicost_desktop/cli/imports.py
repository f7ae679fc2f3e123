"""`aicost import`: Claude Code and Codex logs, and console / generic CSV exports, into the ledger."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import print_json
from aicost_desktop.domain.errors import InputError
from aicost_desktop.importers import claude_files
from aicost_desktop.importers.base import Billing, ImportReport
from aicost_desktop.importers.kinds import CSV_FORMATS
from aicost_desktop.storage.quick_state import files_unchanged

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.importers.claude_read import ReadAhead

BILLINGS = [b.value for b in Billing]


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the top-level `import` command and its three sources."""
    p = sub.add_parser("import", help=help_of("import"))
    isub = p.add_subparsers(dest="import_source", metavar="SOURCE", required=True,
                            parser_class=type(p))
    for name, helptext, default_hint in (
        ("claude-code", "Claude Code transcripts", "~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR"),
        ("codex", "Codex CLI session logs", "$CODEX_HOME or ~/.codex (sessions/ and archived_sessions/)"),
    ):
        lp = isub.add_parser(name, help=f"import {helptext}")
        lp.add_argument("--path", metavar="DIR", help=f"folder to read (default: {default_hint})")
        lp.add_argument("--billing", choices=BILLINGS, default=Billing.PER_TOKEN.value,
                        help="per_token: counts as spend (default); subscription: covered by a plan, "
                             "shown as equivalent API cost, not spend")
        lp.add_argument("--auto", action="store_true",
                        help="also remember this folder and re-import it automatically (requires --path)")
        lp.add_argument("--json", action="store_true", help="print the report as JSON")
        lp.set_defaults(handler=_run_log, kind=name)
    cp = isub.add_parser("csv", help="import a console CSV export or any CSV with a column mapping")
    cp.add_argument("file", metavar="FILE", help="the CSV file")
    cp.add_argument("--format", required=True, choices=CSV_FORMATS, dest="csv_format",
                    help="openai-costs (usage dashboard cost export), anthropic-usage / anthropic-cost "
                         "(Claude Console exports), generic (needs --map)")
    cp.add_argument("--map", action="append", default=[], metavar="COL=FIELD", dest="mapping",
                    help="generic only: map a column to date, amount, currency, provider, model, "
                         "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, note, "
                         "account or project (repeatable)")
    cp.add_argument("--role", choices=["spend", "detail"], default="spend",
                    help="detail: token rows for spend another import already reports (no double count)")
    cp.add_argument("--json", action="store_true", help="print the report as JSON")
    cp.set_defaults(handler=_run_csv)


def _runner() -> ModuleType:
    """The importers' machinery (SQLAlchemy, the price catalog: most of a re-import's time), loaded
    only once there is something to import."""
    return importlib.import_module("aicost_desktop.importers.runner")


def _run_log(args: argparse.Namespace, ctx: "AppContext") -> int:
    path = Path(args.path).expanduser() if args.path else None
    if args.auto and path is None:
        raise InputError("auto", True, "--auto needs --path so the folder can be remembered")
    if args.kind != claude_files.KIND:
        runner = _runner()
        report = runner.import_codex(ctx.db, ctx.catalog.cost_of, path, args.billing)
    else:
        unchanged, ahead = _claude_start(path, args.billing, ctx, quick=not args.auto)
        if unchanged is not None:
            return _print(unchanged, args.json)
        try:
            runner = _runner()
            report = runner.import_claude_code(ctx.db, ctx.catalog.cost_of, path, args.billing, ahead=ahead)
        finally:
            if ahead is not None:
                ahead.close()
    if args.auto and path is not None:
        runner.remember_source(ctx.db, args.kind, path, args.billing)
    return _print(report, args.json)


def _claude_start(path: Path | None, billing: str, ctx: "AppContext",
                  quick: bool) -> tuple[ImportReport | None, "ReadAhead | None"]:
    """Before the ledger's machinery is loaded: the report of an import that finds nothing new when
    the stored file states already prove it (`quick`: every transcript's size and mtime as last
    read, same parser and billing); else the files to read, being read by worker processes
    already when they are many (importers/claude_read.py), or None."""
    roots = claude_files.roots_for_path(path) if path else claude_files.discover_roots()
    if not roots:
        return None, None
    listing = claude_files.list_files(roots)
    if quick:
        files = list(zip(claude_files.state_keys(roots, listing), (full for _root, full, _rel in listing)))
        if files_unchanged(ctx.db_url, claude_files.KIND, files, claude_files.settings_key(billing, None)):
            return ImportReport(files=len(files)), None
    # A re-import with nothing new is mostly interpreter start and imports:
    from aicost_desktop.importers import claude_read  # lazy: the parser, only when there is something to read

    return None, claude_read.read_ahead(roots, listing, billing, ctx.db_url)


def _run_csv(args: argparse.Namespace, ctx: "AppContext") -> int:
    report = _runner().import_csv(ctx.db, ctx.catalog.cost_of, Path(args.file), args.csv_format, args.mapping,
                                  role=args.role, tz=ctx.tz)
    return _print(report, args.json)


def _print(report: ImportReport, as_json: bool) -> int:
    if as_json:
        print_json(report.to_dict())
        return 0
    print(report.summary())
    for row in report.rejected:
        print(f"  {row}")
    if report.rejected_total > len(report.rejected):
        print(f"  ... and {report.rejected_total - len(report.rejected)} more rejected")
    for warning in report.warnings:
        print(f"warning: {warning}")
    return 0
