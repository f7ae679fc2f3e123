"""`aicost cost`: what a given number of tokens of a model costs, line by line."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_date, parse_tokens, print_json
from aicost_desktop.cli.format import money
from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import to_str
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.compute import compute_cost, rate_for
from aicost_desktop.pricing.model import SPEEDS, check_speed

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.pricing.catalog import PriceCatalog
    from aicost_desktop.pricing.model import ModelPrice

TOKEN_FLAGS = (
    ("--input-tokens", "input_tokens", "uncached input (prompt) tokens"),
    ("--output-tokens", "output_tokens", "output tokens, reasoning included"),
    ("--cache-read-tokens", "cache_read_tokens", "prompt tokens read from the cache"),
    ("--cache-write-tokens", "cache_write_5m_tokens", "tokens written to the cache (5-minute TTL)"),
    ("--cache-write-1h-tokens", "cache_write_1h_tokens", "tokens written to the cache (1-hour TTL)"),
)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("cost", help=help_of("cost"),
                       description="Compute the cost of one request's tokens with the price catalog (overrides, "
                                   "curated provider prices, snapshot). Input tokens are uncached input only; a "
                                   "prompt (input + cache) above a model's long-context threshold bills at its "
                                   "long-context rates.")
    p.add_argument("--model", required=True, help="model id as any provider, router or log spells it")
    for flag, dest, text in TOKEN_FLAGS:
        p.add_argument(flag, dest=dest, default="0", metavar="N", help=f"{text} (default 0)")
    p.add_argument("--tier", default="standard", help="standard, batch, priority or flex (default standard)")
    p.add_argument("--speed", default="standard",
                   help="standard or fast (Anthropic fast mode; a MODEL-fast name means fast too)")
    p.add_argument("--at", metavar="YYYY-MM-DD", help="price on this date (default: today in --tz)")
    p.add_argument("--json", action="store_true", help="print JSON (money as strings)")
    p.set_defaults(handler=run)


def parse_tier(text: str) -> ServiceTier:
    try:
        return ServiceTier(text.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in ServiceTier)
        raise InputError("--tier", text, f"must be one of {choices}") from None


def parse_speed(text: str) -> str:
    try:
        return check_speed(text)
    except ValueError:
        raise InputError("--speed", text, f"must be one of {', '.join(SPEEDS)}") from None


def unknown_model(catalog: "PriceCatalog", model: str) -> InputError:
    """The error for a model no source knows, with close matches when there are any."""
    hints = catalog.suggest(model, n=5)
    if hints:
        return InputError("model", model, f"unknown model; did you mean: {', '.join(hints)}?")
    return InputError("model", model, "unknown model (no close match in the catalog); set a price with "
                                      "`aicost prices set MODEL --input-per-mtok X --output-per-mtok Y`")


def price_or_error(catalog: "PriceCatalog", model: str, at: Any, speed: str | None = None) -> "ModelPrice":
    """The model's price on `at` (at `speed`), or an InputError saying why there is none."""
    price = catalog.lookup(model, at, speed=speed)
    if price is not None:
        return price
    key = catalog.resolve_key(model)
    if key is None:
        raise unknown_model(catalog, model)
    raise InputError("model", model, f"catalog entry {key!r} has no per-token price; "
                                     f"set one with `aicost prices set {key} --input-per-mtok X --output-per-mtok Y`")


def source_label(price: "ModelPrice", info: Any = None) -> str:
    """Where a price comes from, in words (long form with the snapshot's `info`). Source 'retired' is the
    curated table of provider-published prices: retired models and current ones whose published rates the
    snapshot lacks, so it is not labelled 'retired'."""
    if price.source == "retired":
        page = price.extra.get("source") if price.extra else None
        if info is None:
            return "provider-published price"
        return "provider-published price (curated table" + (f", {page})" if page else ")")
    if info is None:  # short form
        return {"user_file": "your price file", "override": "your price"}.get(price.source, price.source)
    return {"snapshot": f"snapshot {info.source} ({info.snapshot_date})", "user_file": f"price file {info.source}",
            "override": "your price"}.get(price.source, price.source)


def run(args: argparse.Namespace, ctx: "AppContext") -> int:
    counts = {dest: parse_tokens(getattr(args, dest), flag) for flag, dest, _ in TOKEN_FLAGS}
    tier = parse_tier(args.tier)
    speed = parse_speed(args.speed)
    at = parse_date(args.at, "--at") if args.at else datetime.now(ctx.tz).date()
    # One request: its own prompt size decides long context.
    usage = TokenUsage(input_tokens=counts["input_tokens"], output_tokens=counts["output_tokens"],
                       cache_read_tokens=counts["cache_read_tokens"],
                       cache_write_5m_tokens=counts["cache_write_5m_tokens"],
                       cache_write_1h_tokens=counts["cache_write_1h_tokens"], requests=1)
    catalog = ctx.catalog
    price = price_or_error(catalog, args.model, at, speed)
    result = compute_cost(price, usage, tier)
    if result is None:
        missing = [k for k, n in (("input", usage.input_tokens), ("output", usage.billable_output_tokens))
                   if n and rate_for(price, k, tier) is None]
        raise InputError("model", args.model, f"catalog price of {price.key!r} has no rate for "
                                              f"{' or '.join(missing) or 'these'} tokens")
    if args.json:
        print_json({
            "model": args.model, "resolved_model": price.key, "priced": True, "total_usd": to_str(result.total),
            "tier": tier.value, "speed": result.speed, "at": at, "source": price.source,
            "effective_from": price.effective_from,
            "long_context_above_tokens": result.above_tokens or None, "notes": result.notes,
            "lines": [{"kind": ln.kind, "tokens": ln.tokens, "per_mtok": to_str(ln.per_mtok),
                       "amount": to_str(ln.amount), **({"note": ln.note} if ln.note else {})}
                      for ln in result.lines],
        })
        return 0
    since = f" from {price.effective_from}" if price.effective_from else ""
    fast = ", fast mode" if result.speed != "standard" else ""
    print(f"model  {args.model} -> {price.key} ({source_label(price)}{since}), {tier.value} tier{fast}, {at}")
    rows = [("kind", "tokens", "$/MTok", "amount")]
    rows += [(ln.kind, f"{ln.tokens:,}", to_str(ln.per_mtok) or "", money(ln.amount)) for ln in result.lines]
    rows.append(("total", "", "", money(result.total)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}".rstrip())
    for note in result.notes + [f"{ln.kind}: {ln.note}" for ln in result.lines if ln.note]:
        print(f"note: {note}")
    return 0
