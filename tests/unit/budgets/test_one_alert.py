"""One alert per evaluation: a budget born above several thresholds alerts once, for the highest, in words."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.budgets.engine import evaluate
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.budgets.spend import Scope
from aicost_desktop.budgets.wording import period_words, scope_words
from aicost_desktop.domain.spend_words import over_text
from aicost_desktop.notify.alerts import list_alerts
from aicost_desktop.notify.outbox import outbox_rows
from aicost_desktop.storage.db import Database
from tests.unit.budgets.helpers import spend_on

BEL = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def test_budget_born_over_its_limit_raises_one_alert_for_the_highest(sqlite_db: Database) -> None:
    spend_on(sqlite_db, date(2026, 11, 3), "23.20", "a", provider="anthropic", model="claude")
    add_budget(sqlite_db, BudgetSpec.build(name="Claude", amount="10", scope="provider:anthropic",
                                           emails=["ops@example.com"]))
    r = evaluate(sqlite_db, BEL, now=NOW)
    [a] = list_alerts(sqlite_db)
    assert r.new_alerts == [a.id] and a.threshold == Decimal(100)
    assert a.message == "Claude: over budget by $13.20 (232%) - spent $23.20 of $10.00 this month on Anthropic."
    assert "provider:" not in a.message and "2026-11" not in a.message
    assert sorted(m.channel for m in outbox_rows(sqlite_db)) == ["email", "tray"]
    assert evaluate(sqlite_db, BEL, now=NOW).new_alerts == []  # and never the 50 / 80 afterwards


def test_a_higher_threshold_later_still_alerts_lower_ones_never_follow(sqlite_db: Database) -> None:
    add_budget(sqlite_db, BudgetSpec.build(name="Daily", amount="10", period="daily"))
    spend_on(sqlite_db, date(2026, 11, 20), "8.5", "a")  # 85%: one alert, for 80
    r1 = evaluate(sqlite_db, BEL, now=NOW)
    spend_on(sqlite_db, date(2026, 11, 20), "11", "a")  # 110%: one more, for 100
    r2 = evaluate(sqlite_db, BEL, now=NOW)
    assert len(r1.new_alerts) == 1 and len(r2.new_alerts) == 1
    assert sorted(int(a.threshold or 0) for a in list_alerts(sqlite_db)) == [80, 100]
    newest = list_alerts(sqlite_db)[0]
    assert newest.message.startswith("Daily: over budget by $1.00 (110%)") and "today." in newest.message
    assert "this day" not in newest.message


def test_words() -> None:
    assert scope_words(Scope("provider", "openai")) == "OpenAI"
    # Providers without a sync of their own are written as their makers write them; an unknown one as typed.
    assert scope_words(Scope("provider", "github")) == "GitHub" and scope_words(Scope("provider", "google")) == "Google"
    assert scope_words(Scope("provider", "acme-llm")) == "acme-llm"
    assert scope_words(Scope()) == "everything"
    assert scope_words(Scope("project", "alpha")) == "project alpha"
    assert period_words("daily") == "today" and period_words("weekly") == "this week"
    assert over_text(Decimal("23.2"), Decimal(10), "USD") == "over budget by $13.20 (232%)"
    assert over_text(Decimal(10), Decimal(10), "USD") is None
