"""Cost tracker dock: empty state vs populated, header figures, live refresh on ledger writes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.ui.docks.cost_tracker import EMPTY_HEADLINE, cost_tracker_dock
from tests.ui.ledger_rows import rec, write


@pytest.fixture
def dock(qtbot, services):
    d = cost_tracker_dock(services.ctx, services)
    qtbot.addWidget(d)
    return d


def _refresh(qtbot, dock):
    with qtbot.waitSignal(dock.tracker.refreshed, timeout=10_000):
        dock.refresh()


def test_empty_state_offers_next_steps(qtbot, dock):
    _refresh(qtbot, dock)
    t = dock.tracker
    assert t.is_empty_state()
    assert t.empty.headline.text() == EMPTY_HEADLINE
    assert "load sample data" in t.empty.detail.text().lower()
    for name in ("addAccountButton", "importLogsButton", "manualEntryButton"):
        assert t.empty.findChild(object, name) is not None
    assert t.month_figure.value.text() == "$0.00"


def test_populated_table_and_header(qtbot, dock, ctx):
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    write(ctx, rec("a", at=now, computed="2.50"), rec("b", at=now, source=DataSource.LOG, provider="anthropic",
                                                      model="unknown-x", computed=None))
    _refresh(qtbot, dock)
    t = dock.tracker
    assert not t.is_empty_state()
    assert t.model.rowCount() == 2
    assert t.month_figure.value.text() == "$2.50"
    assert "unpriced" in t.status.text()
    assert "2 of 2 rows" in t.footer.text()


def test_source_chip_filters_rows(qtbot, dock, ctx):
    now = datetime.now(timezone.utc)
    write(ctx, rec("a", at=now), rec("b", at=now, source=DataSource.LOG))
    _refresh(qtbot, dock)
    t = dock.tracker
    chip = next(b for b in t.chips.buttons() if b.property("source") == "log")
    chip.click()
    assert t.proxy.rowCount() == 1
    t.search.setText("nothing-matches")
    assert t.proxy.rowCount() == 0
    assert "0 of 2 rows" in t.footer.text()


def test_ledger_write_refreshes_dock(qtbot, dock, ctx):
    _refresh(qtbot, dock)
    assert dock.tracker.is_empty_state()
    with qtbot.waitSignal(dock.tracker.refreshed, timeout=10_000):
        write(ctx, rec("late", at=datetime.now(timezone.utc)))  # listener -> bus -> refresh
    assert not dock.tracker.is_empty_state()


def test_summary_slot_accepts_cards(qtbot, dock):
    from PySide6.QtWidgets import QLabel

    card = QLabel("usage vs budget")
    dock.add_summary_widget(card)
    assert dock.tracker.summary_slot.indexOf(card) == 0
