"""Spend against a limit in words: "232%", "over budget by $13.20 (232%)" (budgets, alerts, tray, tables)."""

from __future__ import annotations

from decimal import Decimal

from aicost_desktop.domain.money import format_money


def percent_text(spent: Decimal, limit: Decimal) -> str:
    """Spend as a whole percentage of the limit; "—" without a limit."""
    return f"{(spent / limit * 100):.0f}%" if limit else "—"


def over_text(spent: Decimal, limit: Decimal, currency: str) -> str | None:
    """'over budget by $13.20 (232%)' once spend passes the limit, else None."""
    if spent <= limit:
        return None
    return f"over budget by {format_money(spent - limit, currency)} ({percent_text(spent, limit)})"
