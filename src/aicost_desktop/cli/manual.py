"""`aicost manual`: add, edit, list and delete manual spend entries."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, parse_id, parse_tokens, print_json
from aicost_desktop.cli.format import money, table
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import parse_amount
from aicost_desktop.manual import ManualEntry, add_entry, delete_entry, update_entry
from aicost_desktop.storage.tables import UsageRow

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


def _entry_args(p: argparse.ArgumentParser, editing: bool = False) -> None:
    # Editing: every flag is optional and a flag not given keeps the entry's value.
    required = not editing
    keep = " (default: unchanged)" if editing else ""
    p.add_argument("--service", required=required, help=f"what was paid for (e.g. Midjourney){keep}")
    p.add_argument("--amount", required=required, help=f"positive decimal amount{keep}")
    p.add_argument("--currency", default=None if editing else "USD", help=f"ISO code{keep or ' (default USD)'}")
    p.add_argument("--date", required=required, metavar="YYYY-MM-DD", help="default: unchanged" if editing else None)
    p.add_argument("--provider")
    p.add_argument("--model")
    p.add_argument("--input-tokens", default=None if editing else "0", metavar="N")
    p.add_argument("--output-tokens", default=None if editing else "0", metavar="N")
    p.add_argument("--note", help="free text; with edit, --note '' clears it")
    if editing:
        p.add_argument("--refund", action=argparse.BooleanOptionalAction, default=None,
                       help="make it a refund (--no-refund: a charge again)")
    else:
        p.add_argument("--refund", action="store_true", help="record a refund (reduces spend)")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("manual", help=help_of("manual"))
    msub = p.add_subparsers(dest="manual_command", metavar="ACTION", required=True)
    add = msub.add_parser("add", help="add an entry; prints its id")
    _entry_args(add)
    add.set_defaults(handler=run_add)
    edit = msub.add_parser("edit", help="change an entry's values (flags not given keep theirs)")
    edit.add_argument("id")
    _entry_args(edit, editing=True)
    edit.set_defaults(handler=run_edit)
    rm = msub.add_parser("delete", help="delete an entry")
    rm.add_argument("id")
    rm.set_defaults(handler=run_delete)
    ls = msub.add_parser("list", help="list manual entries")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)


def _entry(args: argparse.Namespace) -> ManualEntry:
    return ManualEntry(service=args.service, amount=args.amount,
                       entry_date=parse_date(args.date, "date", usage_day=True),
                       currency=args.currency, provider=args.provider, model=args.model, note=args.note,
                       refund=args.refund, input_tokens=parse_tokens(args.input_tokens, "input-tokens"),
                       output_tokens=parse_tokens(args.output_tokens, "output-tokens"))


def run_add(args: argparse.Namespace, ctx: "AppContext") -> int:
    entry = _entry(args)  # validate before touching the database
    print(add_entry(ctx.db, entry))
    return 0


def _stored(ctx: "AppContext", entry_id: int) -> ManualEntry:
    """The entry as it is stored, in the terms `manual add` takes."""
    with ctx.db.session() as s:
        row = s.get(UsageRow, entry_id)
        if row is None or row.source != "manual":
            raise InputError("id", entry_id, "no manual entry with this id")
        amount = row.reported_cost if row.reported_cost is not None else row.cost
        return ManualEntry(service=row.project or "", amount=abs(amount), entry_date=row.bucket_start.date(),
                           currency=row.currency, provider=row.provider, model=row.model, note=row.note,
                           refund=row.line_item == "refund", input_tokens=row.input_tokens,
                           output_tokens=row.output_tokens, workspace_id=row.workspace_id)


def run_edit(args: argparse.Namespace, ctx: "AppContext") -> int:
    entry_id = parse_id(args.id)
    given = {"service": args.service, "amount": args.amount, "currency": args.currency,
             "provider": args.provider, "model": args.model, "note": args.note, "refund": args.refund}
    if args.date is not None:
        given["entry_date"] = parse_date(args.date, "date", usage_day=True)
    for flag, name in (("input-tokens", "input_tokens"), ("output-tokens", "output_tokens")):
        if getattr(args, name) is not None:
            given[name] = parse_tokens(getattr(args, name), flag)
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise InputError("edit", args.id, "give at least one value to change (--amount, --service, --date, ...)")
    entry = replace(_stored(ctx, entry_id), **changes)
    update_entry(ctx.db, entry_id, entry)
    print(f"updated manual entry {entry_id}: {entry.entry_date} {entry.service} "
          f"{money(-parse_amount(entry.amount) if entry.refund else parse_amount(entry.amount), entry.currency)}")
    return 0


def run_delete(args: argparse.Namespace, ctx: "AppContext") -> int:
    entry_id = parse_id(args.id)
    delete_entry(ctx.db, entry_id)
    print(f"deleted manual entry {entry_id}")
    return 0


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    with ctx.db.session() as s:
        rows = list(s.scalars(select(UsageRow).where(UsageRow.source == "manual").order_by(UsageRow.bucket_start)))
    items = [{"id": r.id, "date": r.bucket_start.date().isoformat(), "service": r.project, "provider": r.provider,
              "model": r.model, "amount": r.reported_cost, "currency": r.currency, "type": r.line_item,
              "note": r.note} for r in rows]
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no manual entries (add one: aicost manual add --service S --amount A --date YYYY-MM-DD)")
        return 0
    for line in table(("id", "date", "service", "provider", "model", "amount", "type", "note"),
                      [(r.id, r.bucket_start.date().isoformat(), r.project, r.provider, r.model or "",
                        money(r.reported_cost, r.currency), r.line_item, r.note or "") for r in rows],
                      right={0, 5}):
        print(line)
    return 0
