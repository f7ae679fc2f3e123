"""Entry point of `aicost`: global options, error-to-exit-code mapping, and the command modules."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import re
import sys
import traceback
from typing import NoReturn, Sequence

from aicost_desktop import __version__
from aicost_desktop.app_context import AppContext
from aicost_desktop.cli.commands import COMMAND_TABLE
from aicost_desktop.config import check_home, check_timezone
from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError, OperationError

# Each module exposes `register(subparsers)`; its parsers set `handler(args, ctx) -> int`.
COMMAND_MODULES = tuple(dict.fromkeys(module for module, _help in COMMAND_TABLE.values()))
# Each top-level command and the module that registers it (a test keeps this equal to what the
# modules register).
COMMANDS = {command: module for command, (module, _help) in COMMAND_TABLE.items()}
_GLOBAL_VALUE_OPTIONS = ("--home", "--db", "--tz")


class _HelpFormatter(argparse.HelpFormatter):
    """Help that keeps every command's description on its name's line ('subscriptions' included)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        # argparse measures command names one indent short, then wraps the longest onto a line of its own.
        if isinstance(action, argparse._SubParsersAction) and action.choices:
            longest = max(len(name) for name in action.choices)
            self._action_max_length = max(self._action_max_length,
                                          longest + self._current_indent + self._indent_increment)


class UsageError(Exception):
    """argparse usage errors, turned into exit 2 with an `error:` line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def print_error(message: object) -> None:
    """The one place the CLI prints an error: `error: ...` on stderr, every secret redacted."""
    print(f"error: {redact.redact(message)}", file=sys.stderr)


# SQLAlchemy appends the statement, its parameters and a link to its docs to every DBAPI error; a
# user needs the driver's own words only.
_SQLA_NOISE = re.compile(r"\s*(?:\[SQL: |\[parameters: |\(Background on this error at: ).*", re.S)
_DRIVER_PREFIX = re.compile(r"\((?:sqlite3|psycopg|psycopg2|asyncpg)[\w.]*\) ")
MAX_MESSAGE = 400


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` as one short line: SQLAlchemy's SQL/parameters/link dropped, newlines folded, long text cut."""
    text = _DRIVER_PREFIX.sub("", _SQLA_NOISE.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shown(value: object) -> str:
    """A value as an error shows it: repr, with the middle of a long one left out."""
    text = repr(value)
    return text if len(text) <= 240 else f"{text[:120]}…{text[-40:]} ({len(str(value)):,} characters)"


def error_exit(exc: BaseException) -> tuple[int, str] | None:
    """Exit code and message for an error the CLI reports in one line (None: let it propagate).

    Bad input (usage, InputError) is 2; a failed operation, a file or database error is 1."""
    if isinstance(exc, UsageError):
        return 2, one_line(str(exc))
    if isinstance(exc, InputError):
        if str(exc) == f"{exc.field}={exc.value!r}: {exc.reason}":  # rebuilt so a huge value stays short
            return 2, one_line(f"{exc.field}={_shown(exc.value)}: {exc.reason}")
        return 2, one_line(str(exc))
    if isinstance(exc, OperationError):
        return 1, one_line(str(exc))
    if isinstance(exc, KeyboardInterrupt):
        return 1, "interrupted"
    if isinstance(exc, OSError):
        where = f": {_shown(exc.filename)}" if exc.filename else ""
        return 1, one_line(f"{exc.strerror or exc.__class__.__name__}{where}")
    if isinstance(exc, MemoryError):
        return 1, "out of memory"
    if isinstance(exc, OverflowError):  # a sum past the 64-bit columns (the ledger's range)
        return 1, one_line(f"a number is too large for the ledger: {exc}")
    # Only look for database errors when a database module was loaded (keeps `aicost --help` light).
    sa = sys.modules.get("sqlalchemy.exc")
    if sa is not None and isinstance(exc, sa.DBAPIError):
        return 1, one_line(f"database error: {exc.orig if exc.orig is not None else exc}")
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return 1, one_line(f"database error: {exc}")
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `aicost` parser; given the command line, only the invoked command's module is loaded."""
    parser = _Parser(prog="aicost", description="AI Cost Tracker: what does it cost, what did I spend.",
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"aicost {__version__}")
    parser.add_argument("--home", metavar="DIR", help="data directory (env AICOST_HOME)")
    parser.add_argument("--db", metavar="URL", help="database URL (env AICOST_DATABASE_URL); default SQLite in home")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone for days and periods (env AICOST_TZ)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    command = _command_word(argv) if argv is not None else None
    first = _first_word(argv) if argv is not None else None
    if command in COMMANDS:
        modules: Sequence[str] = (COMMANDS[command],)
    elif first == "--version":
        modules = ()  # argparse prints the version and exits at the option: no command is parsed
    elif argv is not None and (first in (None, "-h", "--help") or command is not None):
        # Only the list of commands is needed: `aicost`, `aicost --help`, or a command that does not exist
        # (argparse names the choices). Listed from the table, no command module loads (1.1 s -> ~0.1 s).
        for name, (_module, text) in COMMAND_TABLE.items():
            sub.add_parser(name, help=text)
        return parser
    else:
        modules = COMMAND_MODULES
    for name in modules:
        importlib.import_module(f"aicost_desktop.cli.{name}").register(sub)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The command of a command line whose global options are all spelled out in full, else None.

    With it only that command's module is imported: a scheduled `aicost import` with nothing new
    is mostly interpreter start and imports, and every module pulls in its own dependencies.
    Anything unusual (abbreviated or unknown options, help) parses with every command."""
    word = _first_word(argv)
    return None if word is None or word.startswith("-") else word


def _first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not a global option spelled out in full (or its value)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _GLOBAL_VALUE_OPTIONS:
            i += 2
        elif arg.split("=", 1)[0] in _GLOBAL_VALUE_OPTIONS or arg in ("-v", "--verbose"):
            i += 1
        else:
            return arg
    return None


def _check_text(argv: list[str]) -> None:
    """Arguments must be text: bytes that are not UTF-8 (surrogate-escaped by Python) cannot be stored,
    printed or compared, and a NUL cannot come from a real command line."""
    for arg in argv:
        if "\x00" in arg:
            raise UsageError(f"argument {_shown(arg)} contains a NUL byte")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            raise UsageError(f"argument '{shown[:60]}' is not valid UTF-8 text") from None


def _charge_due_subscriptions(ctx: AppContext, added: list[str]) -> None:
    """A command that shows spend (its parser sets `reads_spend`) first writes the subscription charges that fell
    due since anything last ran: a charge is due on its day, whether or not the app was open then. `added` gets
    their keys, so that a command that then fails can take them back (`_take_back_charges`)."""
    from aicost_desktop.manual import materialize  # lazy: the ledger's machinery loads only for these commands

    materialize(ctx.db, today=ctx.today(), added=added)


def _take_back_charges(ctx: AppContext, added: list[str]) -> None:
    """A command that failed (a bad flag found by its handler, an unknown provider...) writes nothing: the
    charges written before it ran are removed again. Best effort: its own error is the one reported."""
    from aicost_desktop.manual import unmaterialize  # lazy: loaded only when such a command failed

    try:
        unmaterialize(ctx.db, added)
    except Exception:  # noqa: BLE001 - e.g. the database that made the command fail; the charges stay (they are due)
        logging.getLogger("aicost.cli").debug("charges written before a failed command were left", exc_info=True)


def main(argv: Sequence[str] | None = None) -> int:
    ctx: AppContext | None = None
    verbose = False
    charged: list[str] = []  # subscription charges this command wrote before its handler ran
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        _check_text(argv)
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        verbose = args.verbose
        if not getattr(args, "handler", None):  # bare `aicost`: the commands, and a failing exit
            parser.print_help()
            raise UsageError("choose a command (listed above)")
        if args.tz:
            check_timezone(args.tz, "--tz")
        if args.home is not None:
            check_home(args.home, "--home")
        elif os.environ.get("AICOST_HOME") is not None:  # set but empty is refused too, not the real data folder
            check_home(os.environ["AICOST_HOME"], "AICOST_HOME (environment)")
        logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        redact.install_on_logger()  # stderr log lines (and -v debug output) never show a secret
        if not args.verbose:  # a lost PostgreSQL connection is one `error:` line, not a driver warning as well
            logging.getLogger("psycopg").setLevel(logging.ERROR)
        ctx = AppContext(home=args.home, db_url=args.db, tz=args.tz)
        ctx.tz  # noqa: B018 - a bad zone (settings, AICOST_TZ, TZ) fails every command, not only those reading dates
        if getattr(args, "reads_spend", False):
            _charge_due_subscriptions(ctx, charged)
        try:
            return int(args.handler(args, ctx) or 0)
        except BaseException as exc:
            if charged and not isinstance(exc, BrokenPipeError):
                _take_back_charges(ctx, charged)
            raise
    except BrokenPipeError:
        # The reader went away (`aicost ... | head`): not an error of ours. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        mapped = error_exit(exc)
        if mapped is None:
            # A bug of ours: still one line (the traceback with -v), so scripts see a clean failure.
            if verbose:
                traceback.print_exc()
            mapped = 1, one_line(f"internal error: {exc.__class__.__name__}: {exc} (run with -v for details)")
        print_error(mapped[1])
        return mapped[0]
    except KeyboardInterrupt:
        print_error("interrupted")
        return 1
    finally:
        if ctx is not None:
            ctx.close()


def run() -> int:
    """The `aicost` executable: `main`, in a process that ends when it returns."""
    code = main()
    # Python's shutdown collects garbage over every object still loaded (SQLAlchemy, the catalog:
    # ~40 ms after an import, the whole tail of a re-import). Nothing the CLI leaves needs a cycle
    # collection to be finalized (the ledger is closed, logging flushes at exit), so those objects
    # are frozen out of it. Not in `main`, which tests and scripts call in a process that goes on.
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
