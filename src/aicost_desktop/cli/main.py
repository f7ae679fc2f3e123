"""Entry point of `aicost`: global options, error-to-exit-code mapping, and the command modules."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Sequence

from aicost_desktop import __version__
from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError, OperationError

# Each module exposes `register(subparsers)`; its parsers set `handler(args, ctx) -> int`.
COMMAND_MODULES = (
    "cost", "prices", "manual", "report", "demo",
    "accounts", "sync", "imports", "subscriptions",
    "budgets", "alerts", "analytics", "export",
)


class UsageError(Exception):
    """argparse usage errors, turned into exit 2 with an `error:` line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def print_error(message: object) -> None:
    """The one place the CLI prints an error: `error: ...` on stderr, every secret redacted."""
    print(f"error: {redact.redact(message)}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aicost", description="AI Cost Tracker: what does it cost, what did I spend.")
    parser.add_argument("--version", action="version", version=f"aicost {__version__}")
    parser.add_argument("--home", metavar="DIR", help="data directory (env AICOST_HOME)")
    parser.add_argument("--db", metavar="URL", help="database URL (env AICOST_DATABASE_URL); default SQLite in home")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone for days and periods (env AICOST_TZ)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"aicost_desktop.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from aicost_desktop.app_context import AppContext

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.tz:
            from aicost_desktop.config import _tz

            _tz(args.tz)
    except UsageError as exc:
        print_error(exc)
        return 2
    except InputError as exc:
        print_error(exc)
        return 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    redact.install_on_logger()  # stderr log lines (and -v debug output) never show a secret
    ctx = AppContext(home=args.home, db_url=args.db, tz=args.tz)
    try:
        return int(args.handler(args, ctx) or 0)
    except InputError as exc:
        print_error(exc)
        return 2
    except OperationError as exc:
        print_error(exc)
        return 1
    except KeyboardInterrupt:
        print_error("interrupted")
        return 1
    except BrokenPipeError:
        # The reader went away (`aicost ... | head`): not an error of ours. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
