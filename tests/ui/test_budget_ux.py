"""Budgets you can't get wrong: scope picked from the ledger, typos warned, one alert for a budget born over its
limit, 'over budget by $X (232%)' with a warning icon, no error before typing, all invalid fields at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialogButtonBox

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.notify.alerts import list_alerts
from aicost_desktop.ui.dialogs.budget_dialog import BudgetDialog
from aicost_desktop.ui.docks.budgets import BudgetsWidget
from aicost_desktop.ui.models.budget_model import COL
from tests.unit.budgets.helpers import spend_on


def ok(d: BudgetDialog) -> bool:
    return d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def widget(qtbot, ctx, services) -> BudgetsWidget:
    w = BudgetsWidget(ctx, services)
    qtbot.addWidget(w)
    w.refresh()
    qtbot.waitUntil(lambda: not w._loads.loading, timeout=10_000)
    return w


def test_scope_values_come_from_the_ledger_and_a_typo_is_warned(qtbot, ctx, services) -> None:
    today = datetime.now(ctx.tz).date()
    spend_on(ctx.db, today, "3", "a", provider="openai", model="gpt-4o", project="alpha")
    spend_on(ctx.db, today, "2", "b", provider="anthropic", model="claude-sonnet-4")
    w = widget(qtbot, ctx, services)
    d = w.open_dialog()
    qtbot.addWidget(d)
    d.scope_kind.setCurrentIndex(d.scope_kind.findData("provider"))
    offered = [d.scope_combo.itemText(i) for i in range(d.scope_combo.count())]
    assert offered == ["anthropic", "openai"]
    d.scope_kind.setCurrentIndex(d.scope_kind.findData("model"))
    assert "claude-sonnet-4" in [d.scope_combo.itemText(i) for i in range(d.scope_combo.count())]
    d.scope_kind.setCurrentIndex(d.scope_kind.findData("provider"))
    d.name.setText("OpenAI")
    d.amount.setText("10")
    d.scope_value.setText("opnai")
    assert d.scope_hint.isVisibleTo(d)
    assert "nothing in the ledger matches 'opnai' — did you mean openai?" in d.scope_hint.text().lower()
    assert ok(d)  # free text stays allowed: a provider may have no rows yet
    d.scope_combo.setCurrentIndex(d.scope_combo.findText("openai"))
    assert d.scope_value.text() == "openai" and not d.scope_hint.isVisibleTo(d)
    assert str(d._build().scope) == "provider:openai"
    d.reject()  # (accepting would save in the background after the test's runtime stopped)


def test_a_budget_born_over_its_limit_logs_one_alert_and_reads_over_budget(qtbot, ctx, services) -> None:
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "23.20", "a", provider="anthropic", model="claude")
    add_budget(ctx.db, BudgetSpec.build(name="Claude", amount="10", scope="provider:anthropic"))
    with qtbot.waitSignal(services.alerts.evaluated, timeout=10_000):
        services.alerts.evaluate_now()
    w = widget(qtbot, ctx, services)
    budget_alerts = [a for a in list_alerts(ctx.db) if a.budget == "Claude"]
    assert len(budget_alerts) == 1 and budget_alerts[0].threshold == 100
    assert w.alert_model.rowCount() == 1
    assert "over budget by $13.20 (232%)" in budget_alerts[0].message and "this month on Anthropic" in \
        budget_alerts[0].message
    state = w.model.index(0, COL["state"])
    assert state.data() == "Over budget by $13.20 (232%)"
    assert isinstance(state.data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert w.model.index(0, COL["scope"]).data() == "Anthropic"


def test_no_error_before_typing_then_every_invalid_field_at_once(qtbot) -> None:
    d = BudgetDialog()
    qtbot.addWidget(d)
    assert d.error.text() == "" and not ok(d)  # nothing typed yet: nothing is wrong, but nothing to save
    d.name.setText("x" * 121)
    d.amount.setText("-3")
    d.thresholds.setText("80,50")
    lines = d.error.text().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["Name", "Amount", "Alert at"]
    assert all(w.property("invalid") for w in (d.name, d.amount, d.thresholds))
    assert not d.emails.property("invalid")


def test_decimal_comma_where_the_locale_uses_it(qtbot) -> None:
    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        d = BudgetDialog()
        qtbot.addWidget(d)
        d.name.setText("B")
        d.amount.setText("1.234,50")
        assert ok(d)
        d.accept()
        assert str(d.spec.amount.normalize()) == "1234.5"
    finally:
        QLocale.setDefault(old)
    d = BudgetDialog()  # a point locale does not read 12,50 as 1250
    qtbot.addWidget(d)
    d.name.setText("B")
    d.amount.setText("12,50")
    assert not ok(d)
    d.amount.setText("1,250.5")
    assert ok(d)


def test_email_row_only_once_email_is_configured(qtbot, ctx, services) -> None:
    w = widget(qtbot, ctx, services)
    d = w.open_dialog()
    qtbot.addWidget(d)
    assert not d.emails.isVisibleTo(d)
    d.reject()
    ctx.settings.set("smtp", {"host": "127.0.0.1", "port": 2525, "security": "none"})
    w.refresh()
    qtbot.waitUntil(lambda: not w._loads.loading and w.email_configured, timeout=10_000)
    d = w.open_dialog()
    qtbot.addWidget(d)
    assert d.emails.isVisibleTo(d)
