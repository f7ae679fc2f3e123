"""Text of a notification: a title, a plain-text body and an HTML body for one alert."""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from aicost_desktop.domain.spend_words import over_text
from aicost_desktop.domain.money import format_money
from aicost_desktop.notify.alerts import AlertView

TITLES = {"threshold": "Budget alert", "forecast": "Budget forecast", "sync_failure": "Sync failed",
          "unpriced_model": "Unpriced model", "anomaly": "Unusual spend"}


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    html: str


def title_of(a: AlertView) -> str:
    """'Team: 80% of budget', 'Team: over budget by $234.50 (123%)', 'Team: budget reached' (exactly 100%)."""
    if a.type == "threshold" and a.budget:
        pct = int(a.threshold or 0)
        if pct < 100:
            return f"{a.budget}: {pct}% of budget"
        if a.current_usage is not None and a.budget_limit:
            over = over_text(a.current_usage, a.budget_limit, a.currency)
            return f"{a.budget}: {over}" if over else f"{a.budget}: budget reached"
        # No amounts kept: a threshold above 100% was passed by spend, 100% itself only reached.
        return f"{a.budget}: over budget" if pct > 100 else f"{a.budget}: budget reached"
    if a.type == "forecast" and a.budget:
        return f"{a.budget}: projected to exceed"
    return TITLES.get(a.type, "AI Cost Tracker")


def render(a: AlertView) -> Rendered:
    """Title and bodies naming the budget, the amount and the percentage where there is one."""
    title = title_of(a)
    lines = [a.message]
    if a.current_usage is not None and a.budget_limit is not None and a.type in ("threshold", "forecast"):
        pct = (a.current_usage / a.budget_limit * 100) if a.budget_limit else Decimal(0)
        lines.append(f"Spent {format_money(a.current_usage, a.currency)} of {format_money(a.budget_limit, a.currency)}"
                     f" ({pct:.0f}%).")
    if a.period_start is not None:
        lines.append(f"Period starting {a.period_start:%Y-%m-%d %H:%M} UTC.")
    text = "\n".join(lines) + "\n\n-- AI Cost Tracker (alert #%d)\n" % a.id
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    html_doc = (f"<html><body><h2>{html.escape(title)}</h2>{body}"
                f"<p style=\"color:#666\">AI Cost Tracker, alert #{a.id}</p></body></html>")
    return Rendered(title, text, html_doc)
