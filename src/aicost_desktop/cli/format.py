"""How `aicost` prints money, percentages and tables: one format in every command, text and JSON."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Collection, Iterable, Sequence

from aicost_desktop.domain.money import format_money, money_json

__all__ = ["MONEY_KEYS", "money", "money_json", "json_money", "percent", "table"]

# JSON keys that hold an amount of money, in any command's document. The domain objects' as_json give
# cents ('9.00'), ledger scale ('9.0000000000'), normalized ('1E+2' -> '100') or floats (anomaly
# contributors); the CLI prints all of them in the one JSON money format (money_json).
MONEY_KEYS = frozenset({
    "amount", "cost", "cost_exact", "total", "total_exact", "total_usd", "spent", "spent_exact", "limit",
    "forecast", "current_usage", "budget_limit", "reported", "computed", "actual", "expected", "delta",
    "mean", "lower", "upper", "to_date", "projection", "forecast_lower", "forecast_upper",
})


def money(value: Decimal | None, currency: str = "USD") -> str:
    """An amount as tables and messages show it ('$1,234.56', '$0.0012', '12.50 EUR')."""
    return format_money(value, currency)


def percent(value: Decimal | float) -> str:
    """A percentage with one decimal and thousands separators ('80.0%', '1,684,333.1%')."""
    return f"{Decimal(str(value)).quantize(Decimal('0.1')):,f}%"


def _json_amount(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (Decimal, int, float, str)):
        try:
            d = Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation:
            return value  # not a number ('n/a'): left as it is
        if d.is_finite():
            return money_json(d)
    return value


def json_money(data: Any) -> Any:
    """`data` with every amount under a MONEY_KEYS key (at any depth) as a money_json string."""
    if isinstance(data, dict):
        return {k: (json_money(v) if isinstance(v, (dict, list)) else _json_amount(v)) if k in MONEY_KEYS
                else json_money(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_money(v) for v in data]
    if isinstance(data, Decimal):  # a bare Decimal elsewhere is an amount too (every one the CLI prints is)
        return money_json(data)
    return data


def table(header: Sequence[str], rows: Iterable[Sequence[object]], right: Collection[int] = (),
          indent: str = "", gap: str = "  ") -> list[str]:
    """Lines of a table with a header row; columns whose index is in `right` (numbers, money) right-aligned."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append((indent + gap.join(parts)).rstrip())
    return lines
