"""`aicost demo`: fill the ledger with deterministic sample data, or clear it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_int

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("demo", help=help_of("demo"))
    p.add_argument("--days", default="90")
    p.add_argument("--seed", default="1")
    p.add_argument("--clear", action="store_true", help="remove all demo data")
    p.set_defaults(handler=run)


def _where(ctx: "AppContext") -> str:
    """The ledger's file, or its database URL without the password."""
    if ctx.db.file is not None:
        return str(ctx.db.file)
    # lazy: loaded when the command runs, not by `aicost --help`
    from sqlalchemy.engine import make_url

    return make_url(ctx.db_url).render_as_string(hide_password=True)


def run(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.demo import clear_demo, load_demo

    if args.clear:
        print(f"removed {clear_demo(ctx.db)} demo rows")
        return 0
    days = parse_int(args.days, "days", minimum=1, maximum=3660)
    n = load_demo(ctx, days=days, seed=parse_int(args.seed, "seed"))
    # Say where: without --home this is the user's real ledger (the rows are marked demo and removable).
    print(f"loaded {n:,} demo rows ({days} days) into {_where(ctx)}; remove with: aicost demo --clear")
    return 0
