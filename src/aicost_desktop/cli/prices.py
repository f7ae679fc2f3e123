"""`aicost prices`: show a model's price, set a user price from a date, install a newer price map."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, print_json
from aicost_desktop.cli.cost import price_or_error, source_label, unknown_model
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import parse_amount, to_str
from aicost_desktop.pricing.update import install_catalog, validate_update

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.pricing.model import ModelPrice
    from aicost_desktop.pricing.sources import OverrideRow

PRICE_FLAGS = (
    ("--input-per-mtok", "input_per_mtok", "USD per million uncached input tokens", True),
    ("--output-per-mtok", "output_per_mtok", "USD per million output tokens", True),
    ("--cache-read-per-mtok", "cache_read_per_mtok", "USD per million cache-read tokens", False),
    ("--cache-write-per-mtok", "cache_write_5m_per_mtok", "USD per million cache-write tokens (5m TTL)", False),
    ("--cache-write-1h-per-mtok", "cache_write_1h_per_mtok", "USD per million cache-write tokens (1h TTL)", False),
)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("prices", help=help_of("prices"))
    ps = p.add_subparsers(dest="prices_command", metavar="ACTION", parser_class=type(p), required=True)

    show = ps.add_parser("show", help="a model's rates and where they come from")
    show.add_argument("model")
    show.add_argument("--at", metavar="YYYY-MM-DD", help="price on this date (default today)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    st = ps.add_parser("set", help="set your own price for a model from a date on (stored in the ledger)")
    st.add_argument("model")
    for flag, dest, text, required in PRICE_FLAGS:
        st.add_argument(flag, dest=dest, required=required, metavar="USD", help=text)
    st.add_argument("--from", dest="effective_from", metavar="YYYY-MM-DD",
                    help="first day the price applies (default: all dates); ledger rows from then on are repriced")
    st.add_argument("--note", help="free text kept with the price")
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=run_set)

    up = ps.add_parser("update", help="install a newer LiteLLM-format price map (replaces the bundled one)")
    up.add_argument("--from", dest="from_file", required=True, metavar="FILE")
    up.add_argument("--force", action="store_true", help="install even if many models vanish or prices move 10x")
    up.add_argument("--json", action="store_true")
    up.set_defaults(handler=run_update)


def _rates_json(price: "ModelPrice") -> list[dict[str, Any]]:
    return [{"kind": k.kind, "tier": k.tier.value, "above_tokens": k.above_tokens or None, "per_mtok": to_str(v)}
            for k, v in sorted(price.rates.items())]


def _override_json(row: "OverrideRow") -> dict[str, Any]:
    return {"model_key": row.model_key, "effective_from": row.effective_from,
            **{dest: to_str(getattr(row, dest)) for _, dest, _, _ in PRICE_FLAGS}, "note": row.note}


def run_show(args: argparse.Namespace, ctx: "AppContext") -> int:
    at = parse_date(args.at, "--at") if args.at else datetime.now(ctx.tz).date()
    catalog = ctx.catalog
    if catalog.resolve_key(args.model) is None:
        raise unknown_model(catalog, args.model)
    price = price_or_error(catalog, args.model, at)
    overrides = catalog.overrides_for(args.model)
    info = catalog.snapshot_info
    # Curated prices start on a model's launch (or first published price); an earlier date gets the first
    # price, which was not in force then: the model did not exist yet, or had no published price.
    early = price.effective_from is not None and at < price.effective_from
    # A snapshot price has no history: an earlier date gets the snapshot's rates, which it may not have had.
    undated = price.effective_from is None and info.snapshot_date is not None and at < info.snapshot_date
    if args.json:
        print_json({"model": args.model, "resolved_model": price.key, "priced": True, "at": at,
                    "source": price.source, "source_label": source_label(price, info),
                    "before_first_price": early, "history_unknown": undated,
                    "effective_from": price.effective_from, "provider": price.provider,
                    "mode": price.mode, "note": price.note, "rates": _rates_json(price),
                    "overrides": [_override_json(r) for r in overrides], "snapshot": info.as_dict()})
        return 0
    since = f", effective {price.effective_from}" if price.effective_from else ""
    print(f"{args.model} -> {price.key}")
    print(f"source    {source_label(price, info)}{since}")
    if price.provider:
        print(f"provider  {price.provider}")
    if price.note:
        print(f"note      {price.note}")
    if early:
        print(f"note      {price.key} had no published price on {at}: its first price is from "
              f"{price.effective_from} (the model did not exist yet); the rates below are that first price")
        print(f"rates from {price.effective_from}, USD per million tokens:")
    elif undated:
        print(f"note      the price snapshot of {info.snapshot_date} records no launch date or price history "
              f"for {price.key}: the rates below are its rates on {info.snapshot_date}, not necessarily on {at}")
        print(f"rates on {info.snapshot_date}, USD per million tokens:")
    else:
        print(f"rates on {at}, USD per million tokens:")
    labels = [(k.label(), to_str(v) or "") for k, v in sorted(price.rates.items())]
    width = max(len(lbl) for lbl, _ in labels)
    for lbl, value in labels:
        print(f"  {lbl:<{width}}  {value}")
    if overrides:
        print("your prices:")
        for r in overrides:
            extra = f"  ({r.note})" if r.note else ""
            print(f"  from {r.effective_from}: input {to_str(r.input_per_mtok)}, output {to_str(r.output_per_mtok)}"
                  f"{extra}")
    return 0


def run_set(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.repricing import ALL_DATES, set_price

    values: dict[str, Decimal | None] = {}
    for flag, dest, _, _ in PRICE_FLAGS:
        raw = getattr(args, dest)
        values[dest] = None if raw is None else parse_amount(raw, flag, allow_zero=True)
    effective_from = parse_date(args.effective_from, "--from") if args.effective_from else ALL_DATES
    input_rate, output_rate = values["input_per_mtok"], values["output_per_mtok"]
    if input_rate is None or output_rate is None:  # argparse requires both flags: narrowed for the types
        raise InputError("--input-per-mtok" if input_rate is None else "--output-per-mtok", None, "is required")
    done = set_price(ctx.db, ctx.catalog, args.model, effective_from=effective_from, note=args.note,
                     input_per_mtok=input_rate, output_per_mtok=output_rate,
                     cache_read_per_mtok=values["cache_read_per_mtok"],
                     cache_write_5m_per_mtok=values["cache_write_5m_per_mtok"],
                     cache_write_1h_per_mtok=values["cache_write_1h_per_mtok"])
    if args.json:
        print_json(done.as_json())
        return 0
    since = "all dates" if effective_from == ALL_DATES else f"{effective_from} on"
    # Rates, not amounts: plain numbers, as `prices show` lists them (an amount would be rounded to cents).
    parts = [f"{flag.removeprefix('--').removesuffix('-per-mtok')} {to_str(v)}"
             for flag, dest, _, _ in PRICE_FLAGS if (v := values[dest]) is not None]
    verb = "replaced" if done.replaced else "set"
    print(f"{verb} price of {done.model_key} for {since} (USD per million tokens): {', '.join(parts)}")
    if done.rows_checked:
        left = f"; {done.still_unpriced} still unpriced" if done.still_unpriced else ""
        print(f"repriced {done.rows_changed} of {done.rows_checked} ledger rows of {', '.join(done.models)}{left}")
    return 0


def run_update(args: argparse.Namespace, ctx: "AppContext") -> int:
    source = Path(args.from_file).expanduser()
    summary = validate_update(ctx.catalog, source, force=args.force)
    install_catalog(source, ctx.paths.price_catalog)
    if args.json:
        print_json({"installed": str(ctx.paths.price_catalog), **summary.as_dict()})
        return 0
    print(f"installed {source} as {ctx.paths.price_catalog}")
    print(f"models {summary.models_before} -> {summary.models_after}: {len(summary.added)} added, "
          f"{len(summary.removed)} removed, {len(summary.changed)} with changed input/output prices")
    print(f"sha256 {summary.sha256}")
    if summary.forced and summary.big_moves:
        print(f"warning: installed with --force despite {len(summary.big_moves)} price move(s) over 10x",
              file=sys.stderr)
    return 0
