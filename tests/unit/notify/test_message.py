"""Titles and bodies of alert notifications: words and the one money format."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from aicost_desktop.notify.alerts import AlertView
from aicost_desktop.notify.message import render, title_of

NOW = datetime(2026, 3, 20, 9, tzinfo=timezone.utc)


def _alert(threshold: str, spent: str | None, limit: str | None, currency: str = "USD") -> AlertView:
    return AlertView(3, "threshold", "Team", 1, Decimal(threshold), "Team: budget reached - spent ...",
                     None if spent is None else Decimal(spent), None if limit is None else Decimal(limit),
                     currency, None, NOW, False)


def test_over_100_percent_reads_over_budget_by_the_amount() -> None:
    assert title_of(_alert("100", "232", "100")) == "Team: over budget by $132.00 (232%)"
    assert title_of(_alert("100", "1234.5", "1000", "EUR")) == "Team: over budget by 234.50 EUR (123%)"
    r = render(_alert("100", "232", "100"))
    assert r.title == "Team: over budget by $132.00 (232%)" and "Spent $232.00 of $100.00 (232%)." in r.text
    assert "<h2>Team: over budget by $132.00 (232%)</h2>" in r.html


def test_exactly_the_limit_is_reached_and_below_it_a_share() -> None:
    assert title_of(_alert("100", "100", "100")) == "Team: budget reached"
    assert title_of(_alert("80", "85", "100")) == "Team: 80% of budget"
    # Without the amounts: a threshold past 100% was passed by spend, 100% itself only reached.
    assert title_of(_alert("150", None, None)) == "Team: over budget"
    assert title_of(_alert("100", None, None)) == "Team: budget reached"
