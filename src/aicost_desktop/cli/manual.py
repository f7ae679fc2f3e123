"""`aicost manual`: add, edit, list and delete manual spend entries."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from aicost_desktop.cli.common import parse_date, parse_id, parse_tokens, print_json
from aicost_desktop.manual import ManualEntry, add_entry, delete_entry, update_entry
from aicost_desktop.storage.tables import UsageRow


def _entry_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--service", required=required, help="what was paid for (e.g. Midjourney)")
    p.add_argument("--amount", required=required, help="positive decimal amount")
    p.add_argument("--currency", default="USD")
    p.add_argument("--date", required=required, metavar="YYYY-MM-DD")
    p.add_argument("--provider")
    p.add_argument("--model")
    p.add_argument("--input-tokens", default="0")
    p.add_argument("--output-tokens", default="0")
    p.add_argument("--note")
    p.add_argument("--refund", action="store_true", help="record a refund (reduces spend)")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("manual", help="manual spend entries")
    msub = p.add_subparsers(dest="manual_command", metavar="ACTION", required=True)
    add = msub.add_parser("add", help="add an entry; prints its id")
    _entry_args(add)
    add.set_defaults(handler=run_add)
    edit = msub.add_parser("edit", help="replace an entry's values")
    edit.add_argument("id")
    _entry_args(edit)
    edit.set_defaults(handler=run_edit)
    rm = msub.add_parser("delete", help="delete an entry")
    rm.add_argument("id")
    rm.set_defaults(handler=run_delete)
    ls = msub.add_parser("list", help="list manual entries")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)


def _entry(args: argparse.Namespace) -> ManualEntry:
    return ManualEntry(service=args.service, amount=args.amount, entry_date=parse_date(args.date, "date"),
                       currency=args.currency, provider=args.provider, model=args.model, note=args.note,
                       refund=args.refund, input_tokens=parse_tokens(args.input_tokens, "input-tokens"),
                       output_tokens=parse_tokens(args.output_tokens, "output-tokens"))


def run_add(args: argparse.Namespace, ctx) -> int:  # type: ignore[no-untyped-def]
    entry = _entry(args)  # validate before touching the database
    print(add_entry(ctx.db, entry))
    return 0


def run_edit(args: argparse.Namespace, ctx) -> int:  # type: ignore[no-untyped-def]
    update_entry(ctx.db, parse_id(args.id), _entry(args))
    return 0


def run_delete(args: argparse.Namespace, ctx) -> int:  # type: ignore[no-untyped-def]
    delete_entry(ctx.db, parse_id(args.id))
    return 0


def run_list(args: argparse.Namespace, ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        rows = list(s.scalars(select(UsageRow).where(UsageRow.source == "manual").order_by(UsageRow.bucket_start)))
    items = [{"id": r.id, "date": r.bucket_start.date().isoformat(), "service": r.project, "provider": r.provider,
              "model": r.model, "amount": r.reported_cost, "currency": r.currency, "type": r.line_item,
              "note": r.note} for r in rows]
    if args.json:
        print_json(items)
    else:
        for i in items:
            print(f"{i['id']:>6}  {i['date']}  {i['service']:<20} {i['amount']:>12f} {i['currency']}  {i['note'] or ''}")
    return 0
