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
    assert t.footer.text() == "Total $2.50 · 2 rows"


def test_source_chip_filters_rows(qtbot, dock, ctx):
    now = datetime.now(timezone.utc)
    write(ctx, rec("a", at=now), rec("b", at=now, source=DataSource.LOG))
    _refresh(qtbot, dock)
    t = dock.tracker
    chip = next(b for b in t.chips if b.property("source") == "log")
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        chip.click()  # the filter is the query's: the table reloads
    assert t.proxy.rowCount() == 1
    # The search reloads once typing pauses (SEARCH_DELAY_MS): a reload already due (the write's bus signal, throttled)
    # may report first, with the chip's rows. Wait for what the user sees, not for the next signal.
    t.search.setText("nothing-matches")
    qtbot.waitUntil(lambda: t.footer.text() == "No rows match the filter", timeout=10_000)
    assert t.proxy.rowCount() == 0 and not t.is_empty_state()


def test_ledger_write_refreshes_dock(qtbot, dock, ctx):
    _refresh(qtbot, dock)
    assert dock.tracker.is_empty_state()
    with qtbot.waitSignal(dock.tracker.refreshed, timeout=10_000):
        write(ctx, rec("late", at=datetime.now(timezone.utc)))  # listener -> bus -> refresh
    assert not dock.tracker.is_empty_state()


def test_the_budget_card_is_the_docks_own_and_asks_for_the_budget_dialog_by_request(qtbot, dock, services):
    from PySide6.QtWidgets import QLabel

    assert dock.tracker.summary_slot.indexOf(dock.tracker.card) == 0
    card = QLabel("another card")
    dock.add_summary_widget(card)
    assert dock.tracker.summary_slot.indexOf(card) == 1
    qtbot.waitUntil(lambda: dock.tracker.card.data is not None, timeout=10_000)
    with qtbot.waitSignal(services.requests.edit_budget, timeout=1000) as asked:
        dock.tracker.card.set_budget.click()
    assert asked.args == [None]  # no budget yet: a new one


def test_rows_load_page_by_page_as_the_view_asks(qtbot, dock, ctx, services, monkeypatch):
    """Only the newest page is read on a refresh; the rest arrives page by page when the table reaches its end
    (the view asks on its own while its viewport is not full, and when the user scrolls down)."""
    from datetime import timedelta

    from PySide6.QtCore import QModelIndex

    from aicost_desktop.ui.docks import cost_tracker

    reads: list[tuple[int, object, object]] = []
    real = cost_tracker.ledger_page

    def recording(db, tz, filters=None, *, limit=1000, before=None, through=None, **kw):  # type: ignore[no-untyped-def]
        reads.append((limit, before, through))
        return real(db, tz, filters, limit=limit, before=before, through=through, **kw)

    monkeypatch.setattr(cost_tracker, "PAGE", 3)
    monkeypatch.setattr(cost_tracker, "ledger_page", recording)
    _refresh(qtbot, dock)  # let the load the dock started when built (empty ledger) finish first
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with qtbot.waitSignal(services.bus.ledger_changed, timeout=5000):  # its reload must not land mid-scroll
        write(ctx, *[rec(f"r{i}", at=now - timedelta(minutes=i)) for i in range(7)])
    _refresh(qtbot, dock)
    reads.clear()
    _refresh(qtbot, dock)
    t = dock.tracker
    assert reads[0][:2] == (3, None)
    for _ in range(20):  # scroll to the end until nothing more can be fetched
        qtbot.waitUntil(lambda: not t.model.fetching, timeout=5000)  # a page the view asked for on its own
        if not t.proxy.canFetchMore(QModelIndex()):
            break
        n = t.model.rowCount()
        t.proxy.fetchMore(QModelIndex())  # the proxy forwards it to the model, as for the view
        qtbot.waitUntil(lambda: t.model.rowCount() > n, timeout=5000)  # that page (or the view's own) arrived
    assert t.model.rowCount() == 7 and not t.proxy.canFetchMore(QModelIndex())
    pages = [r[1] for r in reads if r[1] is not None]  # each page reads before the oldest row shown
    assert pages == [now - timedelta(minutes=2), now - timedelta(minutes=5)]
    assert t.footer.text() == "Total $7.00 · 7 rows"
    assert len({t.model.row_at(i).id for i in range(7)}) == 7
    shown = [t.proxy.index(r, 0).data() for r in range(t.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)  # newest first across pages
    _refresh(qtbot, dock)  # a refresh keeps what was scrolled into view
    assert t.model.rowCount() == 7 and reads[-1] == (3, None, now - timedelta(minutes=6))


def test_footer_says_more_rows_can_be_scrolled_in(qtbot, dock, ctx, monkeypatch):
    from datetime import timedelta

    from aicost_desktop.ui.docks import cost_tracker

    monkeypatch.setattr(cost_tracker, "PAGE", 2)
    t = dock.tracker
    _refresh(qtbot, dock)  # let the load the dock started when built finish first
    t.model.more_requested.disconnect()  # hold further pages back to read the footer in between
    now = datetime.now(timezone.utc).replace(microsecond=0)
    write(ctx, *[rec(f"r{i}", at=now - timedelta(minutes=i)) for i in range(5)])
    _refresh(qtbot, dock)
    assert t.model.rowCount() == 2
    assert t.footer.text() == "Total $5.00 · 2 rows · older rows load as you scroll down"


def test_a_failed_load_still_runs_the_refresh_folded_into_it(qtbot, dock, ctx, monkeypatch):
    """A ledger change during a load that fails is not dropped: the folded load runs and shows the new row
    (cost_widget's old `_busy/_again` pair lost it when the load failed)."""
    import threading

    from aicost_desktop.ui.docks import cost_tracker

    _refresh(qtbot, dock)
    gate = threading.Event()
    calls: list[int] = []
    real = cost_tracker.ledger_page

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
            raise OSError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(cost_tracker, "ledger_page", flaky)
    failures: list[object] = []
    dock.tracker.load_failed.connect(failures.append)
    dock.refresh()
    qtbot.waitUntil(lambda: calls == [1], timeout=5000)
    write(ctx, rec("during", at=datetime.now(timezone.utc)))  # a change while the failing load runs
    dock.refresh()
    with qtbot.waitSignal(dock.tracker.refreshed, timeout=10_000):
        gate.set()
    assert len(failures) == 1 and len(calls) >= 2
    assert not dock.tracker.is_empty_state() and dock.tracker.model.rowCount() == 1


def test_ledger_rows_are_shown_in_the_display_currency_like_every_other_figure(qtbot, dock, ctx):
    from dataclasses import replace

    from aicost_desktop.ui.models.ledger_model import COL

    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    # $10.80 of API spend and 5.00 EUR typed by hand.
    write(ctx, rec("usd", at=now, computed="10.80", reported="10.80"),
          replace(rec("eur", at=now, source=DataSource.MANUAL, model=None, computed=None, reported="5.00"),
                  currency="EUR"))
    ctx.settings.set("fx_rates", {"EUR": "1.08"})
    ctx.settings.set("display_currency", "EUR")
    _refresh(qtbot, dock)
    m = dock.tracker.model
    shown = {m.index(r, COL["cost"]).data(): m.index(r, COL["cost"]).data(0x03) for r in range(m.rowCount())}
    assert set(shown) == {"10.00 EUR", "5.00 EUR"}, shown  # $10.80 / 1.08
    assert "(billed $10.80)" in shown["10.00 EUR"] and "billed" not in shown["5.00 EUR"]
    usd_row = next(r for r in range(m.rowCount()) if m.index(r, COL["cost"]).data() == "10.00 EUR")
    assert m.index(usd_row, COL["reported"]).data() == "10.00 EUR"
    assert dock.tracker.footer.text() == "Total 15.00 EUR · 2 rows"
    ctx.settings.set("display_currency", "USD")
    _refresh(qtbot, dock)
    assert {m.index(r, COL["cost"]).data() for r in range(m.rowCount())} == {"$10.80", "$5.40"}


def test_money_a_rate_is_missing_for_stays_as_billed_and_sorts_by_worth() -> None:
    from decimal import Decimal

    from aicost_desktop.ui.models.ledger_model import ShownMoney

    eur = ShownMoney("EUR", {"EUR": Decimal("1.08")})
    assert eur.text(Decimal("10.80"), "USD") == "10.00 EUR" and eur.billed(Decimal("10.80"), "USD") == \
        " (billed $10.80)"
    assert eur.text(Decimal("3"), "CHF") == "3.00 CHF" and eur.billed(Decimal("3"), "CHF") == ""  # never at 1:1
    assert eur.value(Decimal("10.80"), "USD") == Decimal("10") and eur.value(None, "USD") is None
    # 9 EUR is worth more than $9.50: the sort value is the converted one.
    assert eur.value(Decimal("9"), "EUR") > eur.value(Decimal("9.50"), "USD")  # type: ignore[operator]
