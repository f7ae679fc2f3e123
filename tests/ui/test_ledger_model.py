"""LedgerTableModel / LedgerFilterProxy without views: qtmodeltester, raw sort roles, filters, unpriced."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.storage.queries import list_records
from aicost_desktop.ui.models.ledger_model import (COL, SORT_ROLE, UNPRICED_COLOR, LedgerFilterProxy,
                                                   LedgerTableModel)
from tests.ui.ledger_rows import rec, write

T0 = datetime(2025, 5, 1, 10, tzinfo=timezone.utc)


def _rows(ctx):
    write(ctx,
          rec("a", at=T0, computed="9.50", model="gpt-4.1"),
          rec("b", at=T0 + timedelta(hours=1), computed="10.25", model="gpt-5"),
          rec("c", at=T0 + timedelta(hours=2), source=DataSource.LOG, provider="anthropic", model="mystery",
              computed=None, note="laptop"),
          rec("d", at=T0 + timedelta(hours=3), source=DataSource.MANUAL, provider="midjourney", model=None,
              computed="30", tokens=(0, 0)),
          rec("e", at=T0 + timedelta(hours=4), role=CostRole.DETAIL, computed="3"))
    return list_records(ctx.db, ZoneInfo("UTC"))


def test_modeltester(qtmodeltester, ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    qtmodeltester.check(model, force_py=True)
    proxy = LedgerFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_sort_role_returns_raw_values(ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    values = [model.data(model.index(r, COL["cost"]), SORT_ROLE) for r in range(model.rowCount())]
    assert Decimal("10.25") in values and None in values  # the unpriced row sorts as None, not $0
    assert all(isinstance(v, Decimal) or v is None for v in values)
    when = model.data(model.index(0, COL["when"]), SORT_ROLE)
    assert isinstance(when, datetime) and when.tzinfo is not None


def test_proxy_sorts_money_numerically(ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    proxy = LedgerFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(COL["cost"], Qt.SortOrder.DescendingOrder)
    shown = [proxy.index(r, COL["cost"]).data() for r in range(proxy.rowCount())]
    # As strings "$9.50" > "$30.00" > "$10.25"; as Decimals 30 > 10.25 > 9.50 > 0 (detail) > unpriced.
    assert shown == ["$30.00", "$10.25", "$9.50", "—", "unpriced"]


def test_view_sorting_is_done_by_the_model_and_survives_reload_and_filter(ctx, qtbot):
    from PySide6.QtWidgets import QTableView

    rows = _rows(ctx)
    model = LedgerTableModel()
    model.set_rows(rows)
    calls = []

    class Counting(LedgerFilterProxy):
        def lessThan(self, left, right):  # noqa: N802 - a Python comparison per pair is what we avoid
            calls.append(1)
            return super().lessThan(left, right)

    proxy = Counting()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.selectRow(0)
    view.sortByColumn(COL["cost"], Qt.SortOrder.AscendingOrder)  # what a header click does
    shown = [proxy.index(r, COL["cost"]).data() for r in range(proxy.rowCount())]
    assert shown == ["unpriced", "—", "$9.50", "$10.25", "$30.00"]
    model.set_rows(list(reversed(rows)))  # a refresh keeps the user's sort
    assert [proxy.index(r, COL["cost"]).data() for r in range(proxy.rowCount())] == shown
    proxy.set_text_filter("gpt")
    assert [proxy.index(r, COL["cost"]).data() for r in range(proxy.rowCount())] == ["—", "$9.50", "$10.25"]
    assert calls == [] and proxy.sortColumn() == -1


def test_source_and_text_filters(ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    proxy = LedgerFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_source_filter("log")
    assert proxy.rowCount() == 1
    proxy.set_source_filter(None)
    assert proxy.rowCount() == 5
    proxy.set_text_filter("GPT")
    assert proxy.rowCount() == 3
    proxy.set_text_filter("gpt 5")
    assert proxy.rowCount() == 1
    proxy.set_source_filter("manual")
    assert proxy.rowCount() == 0


def test_unpriced_shown_in_amber_never_zero(ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    row = next(r for r in range(model.rowCount()) if model.row_at(r).unpriced)
    idx = model.index(row, COL["cost"])
    assert idx.data() == "unpriced"
    assert idx.data(Qt.ItemDataRole.ForegroundRole) == UNPRICED_COLOR
    assert "set a price" in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_display_formats(ctx):
    model = LedgerTableModel()
    model.set_rows(_rows(ctx))
    manual = next(r for r in range(model.rowCount()) if model.row_at(r).source == "manual")
    assert model.index(manual, COL["input"]).data() == ""
    assert model.index(manual, COL["when"]).data() == "2025-05-01 13:00"
    assert model.index(manual, COL["source"]).data() == "Manual"
    assert model.headerData(COL["cost"], Qt.Orientation.Horizontal) == "Cost"


def test_a_reload_with_the_rows_already_shown_resets_nothing(ctx, qtbot):
    """A sync that wrote nothing new must not reset the table (scroll, repaint): only a change does."""
    from aicost_desktop.ui.models.base import RowsTableModel
    from aicost_desktop.ui.models.ledger_model import ShownMoney

    rows = _rows(ctx)
    model = LedgerTableModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    usd = ShownMoney()
    assert model.update_rows(rows, False, usd) and len(resets) == 1
    model.sort(COL["cost"], Qt.SortOrder.DescendingOrder)  # the user's order is the view's, not a change
    assert not model.update_rows(list(rows), False, ShownMoney()) and len(resets) == 1
    assert model.update_rows(rows[:-1], False, usd) and len(resets) == 2                 # a row went
    assert model.update_rows(rows[:-1], True, usd) and len(resets) == 3                  # more to load
    assert model.update_rows(rows[:-1], True, ShownMoney("EUR", {"EUR": Decimal("1.08")}))  # another currency
    assert model.index(0, COL["cost"]).data().endswith(" EUR")
    model.set_rows(rows)  # shown some other way: the next reload is applied whatever it holds
    assert model.update_rows(rows, False, usd)

    class Plain(RowsTableModel[int]):
        columns = [("n", "N")]

    plain = Plain()
    plain.modelReset.connect(lambda: resets.append(2))
    assert plain.update_rows([3, 1, 2]) and not plain.update_rows([3, 1, 2]) and resets.count(2) == 1
    plain.append_rows([4])
    assert not plain.update_rows([3, 1, 2, 4]) and plain.update_rows([3, 1, 2])
