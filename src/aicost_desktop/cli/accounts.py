"""`aicost accounts` and `aicost sync`: provider accounts (keys in the keychain) and syncing them."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime, time, timezone
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, parse_int, print_json
from aicost_desktop.cli.format import table
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.registry import PROVIDERS, make_sync

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("accounts", help=help_of("accounts"))
    asub = p.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    add = asub.add_parser("add", help="add an account; the key goes to the OS keychain")
    add.add_argument("--provider", required=True, help=f"one of {', '.join(PROVIDERS)}")
    add.add_argument("--name", required=True)
    add.add_argument("--base-url", help="API base URL (gateways, tests); default: the provider's")
    key = add.add_mutually_exclusive_group()
    key.add_argument("--key-env", metavar="VAR", help="read the key from this environment variable")
    key.add_argument("--key-stdin", action="store_true", help="read the key from standard input")
    add.add_argument("--workspace")
    add.add_argument("--sync-interval", metavar="MINUTES")
    add.set_defaults(handler=run_add)
    ls = asub.add_parser("list", help="accounts, their status and last sync")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    for name, helptext in (("test", "check the key against the provider"), ("remove", "forget an account and its key"),
                           ("enable", "resume syncing"), ("disable", "stop syncing (history stays)")):
        c = asub.add_parser(name, help=helptext)
        c.add_argument("account", metavar="NAME")
        c.set_defaults(handler={"test": run_test, "remove": run_remove, "enable": run_enable,
                                "disable": run_disable}[name])
    s = sub.add_parser("sync", help=help_of("sync"))
    s.add_argument("--account", metavar="NAME")
    s.add_argument("--since", metavar="YYYY-MM-DD")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=run_sync)


def _read_key(args: argparse.Namespace) -> str:
    if args.key_env:
        value = os.environ.get(args.key_env)
        if not value:
            raise InputError("key-env", args.key_env, "environment variable is not set or empty")
        return value
    if args.key_stdin:
        return sys.stdin.readline().strip()
    raise InputError("key", "<none>", "give the key with --key-env VAR or --key-stdin (never on the command line)")


def run_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import add_account

    if args.provider not in PROVIDERS:
        raise InputError("provider", args.provider, f"use one of {', '.join(PROVIDERS)}")
    interval = parse_int(args.sync_interval, "sync-interval", minimum=1, maximum=525_600) if args.sync_interval else None
    key = _read_key(args)
    acc_id = add_account(ctx.db, ctx.secrets, args.provider, args.name, key, args.base_url, args.workspace, interval)
    print(f"added account {args.name} (id {acc_id}); key stored in {ctx.secrets.describe()}")
    return 0


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import list_accounts
    from aicost_desktop.account_sync import retention_notes

    accounts = list_accounts(ctx.db)
    notes = retention_notes(ctx.db)  # standing holes in history (OpenRouter's 30-day activity window)
    if args.json:
        print_json([{**a.as_json(), "history_note": notes.get(a.id)} for a in accounts])
        return 0
    if not accounts:
        print("no accounts; add one with: aicost accounts add --provider openai --name org --key-env OPENAI_ADMIN_KEY")
        return 0
    rows = [(a.id, a.name, a.provider, a.status if a.enabled else "disabled",
             f"{a.last_sync_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}" if a.last_sync_at else "never",  # local time
             a.status_message if a.status_message and a.status != "ok" else "") for a in accounts]
    for line in table(("id", "name", "provider", "status", "last sync", "message"), rows, right={0}):
        print(line)
    for a in accounts:
        if a.id in notes:
            print(f"note: {notes[a.id]} ({a.name})")
    return 0


def run_test(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import account_key, get_account, make_client

    acc = get_account(ctx.db, args.account)
    info = AccountInfo(acc.id, acc.name, acc.provider, acc.base_url, acc.workspace_id,
                       account_key(ctx.db, ctx.secrets, acc.id))
    with make_client() as client:
        try:
            print(make_sync(acc.provider).test_connection(client, info))
        except (AuthError, ProviderError) as exc:
            raise OperationError(f"{acc.name}: {exc}") from None
        except Exception as exc:  # network errors: one line, no traceback
            raise OperationError(f"{acc.name}: {exc.__class__.__name__}: {exc}") from None
    return 0


def run_remove(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import get_account, remove_account

    acc = get_account(ctx.db, args.account)
    remove_account(ctx.db, ctx.secrets, acc.id)
    print(f"removed account {acc.name}; its ledger history is kept")
    return 0


def _set_enabled(args: argparse.Namespace, ctx: "AppContext", enabled: bool) -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import get_account, update_account

    acc = get_account(ctx.db, args.account)
    update_account(ctx.db, acc.id, enabled=enabled)
    print(f"account {acc.name} {'enabled' if enabled else 'disabled (its history stays)'}")
    return 0


def run_enable(args: argparse.Namespace, ctx: "AppContext") -> int:
    return _set_enabled(args, ctx, True)


def run_disable(args: argparse.Namespace, ctx: "AppContext") -> int:
    return _set_enabled(args, ctx, False)


def run_sync(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.accounts import get_account, list_accounts
    from aicost_desktop.account_sync import OUTCOME_LOGGED, sync_account

    since = None
    if args.since:
        since = datetime.combine(parse_date(args.since, "since"), time(0), tzinfo=timezone.utc)
    if args.account:
        targets = [get_account(ctx.db, args.account)]
    else:
        targets = [a for a in list_accounts(ctx.db) if a.enabled and a.status != "demo"]
    if not targets:
        print("no accounts to sync")
        return 0
    failed = 0
    results = []

    def said_below(record: logging.LogRecord) -> bool:  # each failure is printed below as one `error:` line
        return args.verbose or not getattr(record, OUTCOME_LOGGED, False)

    handlers = logging.getLogger().handlers
    for h in handlers:
        h.addFilter(said_below)
    try:
        for acc in targets:
            outcome = sync_account(ctx, acc.id, since=since)
            results.append({"account": acc.name, "ok": outcome.ok, "message": outcome.message,
                            "added": outcome.written.added, "updated": outcome.written.updated,
                            "unchanged": outcome.written.unchanged})
            if not outcome.ok:
                failed += 1
                print(f"error: {acc.name}: {outcome.message}", file=sys.stderr)
            elif not args.json:
                print(f"{acc.name}: {outcome.message}")
    finally:
        for h in handlers:
            h.removeFilter(said_below)
    if args.json:
        print_json(results)
    return 1 if failed else 0
