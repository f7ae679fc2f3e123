"""Analytics dock and its charts/models with demo data (offscreen)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aicost_desktop.analytics.series import BreakdownRow
from aicost_desktop.ui.models.breakdown_model import SORT_ROLE, BreakdownModel, make_proxy

TODAY = date(2026, 3, 20)


@pytest.fixture
def demo_ctx(ctx):
    from aicost_desktop.demo import load_demo

    load_demo(ctx, days=90, seed=1, today=TODAY)
    return ctx


def test_breakdown_model_sorts_by_raw_values(qtmodeltester) -> None:
    model = BreakdownModel()
    model.set_rows([BreakdownRow("b", "x", Decimal("9.50"), 0.1, 10, 1), BreakdownRow("a", "y", Decimal("100"), 0.8, 5, 2),
                    BreakdownRow("c", "z", Decimal("10.25"), 0.1, 7, 3)])
    qtmodeltester.check(model)
    proxy = make_proxy(model)
    proxy.sort(2)
    assert [proxy.index(i, 0).data() for i in range(3)] == ["b", "c", "a"]  # 9.50 < 10.25 < 100 (not as text)
    assert proxy.index(0, 2).data(SORT_ROLE) == Decimal("9.50")


def test_dock_loads_demo_and_shows_everything(qtbot, demo_ctx, services, tmp_path) -> None:
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget

    w = AnalyticsWidget(demo_ctx, services)
    w.today_override = TODAY
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    # Until the first load lands the dock shows its skeleton, not empty charts; then the content page.
    assert w.stack.currentWidget() is w.skeleton and w.data is None
    with qtbot.waitSignal(w.refreshed, timeout=20_000) as sig:
        w.refresh()
    data = sig.args[0]
    assert w.stack.currentWidget() is not w.skeleton and w.stack.currentIndex() == 1 and data.series.total > 0
    assert data.forecast is not None and len(w.chart._fc_mean.getData()[0]) == 13
    # The demo's injected spike (12 days before today) is marked.
    assert TODAY - timedelta(days=12) in {a.day for a in data.anomalies}
    assert len(w.chart._anom.getData()[0]) >= 1
    assert w.breakdown_model.rowCount() > 3 and w.anomaly_table.rowCount() >= 1
    # Crosshair label shows exact values of the bucket under the mouse.
    text = w.chart.show_crosshair_at(w.chart._data and __import__("aicost_desktop.ui.charts.style", fromlist=["ts"]).ts(TODAY - timedelta(days=12)))
    assert "total" in text and "$" in text and "⚠" in text
    # Re-query updates the same plot items (setData), it does not rebuild them.
    bars_before = dict(w.chart._bars)
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.granularity.setCurrentIndex(1)  # week
    assert all(w.chart._bars[k] is v for k, v in bars_before.items())
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.chart_style.setCurrentIndex(1)
        w.group_by.setCurrentIndex(1)  # model
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.source_actions["manual"].setChecked(False)
    assert w.sources_btn.text() == "Sources: 5"
    out = tmp_path / "chart.png"
    assert w.save_png(str(out)) and out.stat().st_size > 1000


def test_a_reload_with_the_same_figures_draws_nothing_again(qtbot, demo_ctx, services, monkeypatch) -> None:
    """Charts and tables are redrawn only where a reload changed a figure (GUI-thread time after every sync)."""
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget

    w = AnalyticsWidget(demo_ctx, services)
    w.today_override = TODAY
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.refresh()
    drawn: list[str] = []
    monkeypatch.setattr(w.chart, "set_data", lambda d: drawn.append("chart"))
    monkeypatch.setattr(w.mom, "set_data", lambda d: drawn.append("mom"))
    monkeypatch.setattr(w, "_fill_anomalies", lambda d: drawn.append("anomalies"))
    monkeypatch.setattr(w, "_fill_recon", lambda d: drawn.append("recon"))
    summary = w.status.text()
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.refresh()
        during = (w.status.text(), w.status.toolTip())  # the load has started: its args were taken
    assert drawn == [] and during == (summary, "Updating…")  # no one-line "Updating…" relayout meanwhile
    from aicost_desktop.manual import ManualEntry, add_entry

    add_entry(demo_ctx.db, ManualEntry(service="Extra", amount="123.45", entry_date=TODAY))
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.refresh()
    assert "chart" in drawn and "mom" in drawn  # today's spend changed: the charts follow


def test_dock_factory_plugs_in_and_periods(qtbot, demo_ctx, services) -> None:
    from aicost_desktop.analytics.dashboard import period_range
    from aicost_desktop.ui.docks.analytics import analytics_dock

    dock = analytics_dock(demo_ctx, services)
    qtbot.addWidget(dock)
    w = dock.widget()
    qtbot.waitUntil(lambda: w.data is not None, timeout=20_000)
    assert period_range("mtd", TODAY) == (date(2026, 3, 1), TODAY)
    assert period_range("quarter", date(2026, 5, 9)) == (date(2026, 4, 1), date(2026, 5, 9))
    assert period_range("year", TODAY)[0] == date(2026, 1, 1)
    assert period_range("7d", TODAY)[0] == TODAY - timedelta(days=6)
    assert period_range("custom", TODAY, (TODAY, TODAY - timedelta(days=3))) == (TODAY - timedelta(days=3), TODAY)


def test_changes_during_a_load_fold_into_one_more_and_another_query_cancels_it(qtbot, demo_ctx, services,
                                                                               monkeypatch) -> None:
    """The UI's refresh policy in the Analytics dock: ledger changes while a load runs fold into exactly one more
    load after it (the figures after a sync come from a load after its last write, and a long sync still shows
    each finished load); a different query (the user picked another period) cancels the running load, which
    stops at its next stage and is never shown."""
    import threading

    from aicost_desktop.analytics import dashboard
    from aicost_desktop.ui.docks import analytics as dock_module

    gate = threading.Event()
    started: list[str] = []
    cancelled: list[bool] = []
    real = dashboard.load_analytics

    def slow(db, tz, q, fx=None, cancel=None):  # type: ignore[no-untyped-def]
        started.append(q.period)
        gate.wait(10)
        out = real(db, tz, q, fx=fx, cancel=cancel)
        cancelled.append(out is None)
        return out

    monkeypatch.setattr(dock_module, "load_analytics", slow)
    w = dock_module.AnalyticsWidget(demo_ctx, services)
    w.today_override = TODAY
    qtbot.addWidget(w)
    applied: list[str] = []
    w.refreshed.connect(lambda d: applied.append(d.query.period))
    w.refresh()
    qtbot.waitUntil(lambda: started == ["30d"])
    for _ in range(5):
        w._ledger_changed()  # what services.bus.ledger_changed calls
    w.refresh()  # the same query: folds too
    gate.set()
    qtbot.waitUntil(lambda: applied == ["30d", "30d"] and not w._loads.loading, timeout=20_000)
    assert started == ["30d", "30d"] and cancelled == [False, False]
    # Another period cancels the running load; only the new query's figures are shown.
    gate.clear()
    w.refresh()
    qtbot.waitUntil(lambda: len(started) == 3)
    w.period.setCurrentIndex(2)  # 90 days
    gate.set()
    qtbot.waitUntil(lambda: applied[-1] == "90d" and not w._loads.loading, timeout=20_000)
    assert started[2:] == ["30d", "90d"] and cancelled[2:] == [True, False] and applied == ["30d", "30d", "90d"]
    # A sync's last change (the bus's final flush) cancels a load begun before it, as another query does: its
    # figures would be stale on arrival. An ordinary change during a sync does not (a long sync shows progress).
    gate.clear()
    w.refresh()
    qtbot.waitUntil(lambda: len(started) == 5)
    services.bus.notify_ledger_changed()
    services.bus.flush_soon()
    qtbot.waitUntil(lambda: not services.bus._timer.isActive() and not services.bus.final)
    gate.set()
    qtbot.waitUntil(lambda: len(cancelled) == 6 and not w._loads.loading, timeout=20_000)
    assert cancelled[4:] == [True, False] and applied[3:] == ["90d"]


def test_set_price_in_the_dock_reprices_in_a_worker_and_the_cli_report_sees_it(qtbot, ctx, services,
                                                                               capsys) -> None:
    """"Set price" on an unpriced model: the dialog answers by signal, repricing.set_price (the path of
    `aicost prices set`) runs on a pool thread, and the dock, the running catalog and `aicost report` in the same
    home all show the model priced without a restart."""
    import json
    import threading
    from datetime import datetime, timezone

    from PySide6.QtWidgets import QDialogButtonBox

    from aicost_desktop.cli.main import main
    from aicost_desktop.domain import DataSource, UsageRecord
    from aicost_desktop.domain.enums import ServiceTier
    from aicost_desktop.domain.usage import TokenUsage
    from aicost_desktop.storage import ledger
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget

    model = "acme-coder-9"
    when = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=100_000, requests=1)
    ledger.upsert_records(ctx.db, [
        UsageRecord(DataSource.LOG, f"r{i}", "anthropic", when, when, usage=usage, model=model) for i in range(3)])
    w = AnalyticsWidget(ctx, services)
    w.today_override = TODAY
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.refresh()
    assert w.unpriced_table.rowCount() == 1 and w.unpriced_table.item(0, 0).text() == model
    assert w.set_price_btn.isEnabled()
    writers: list[threading.Thread] = []
    statuses: list[str] = []
    w.priced.connect(lambda _r: statuses.append(w.status.text()))
    listener = lambda hours: writers.append(threading.current_thread())  # noqa: E731
    ledger.add_listener(listener)
    try:
        w.unpriced_table.selectRow(0)
        w.set_price_btn.click()
        dlg = w.price_dialog
        assert dlg is not None and dlg.isVisible()
        dlg.input.setText("2")
        dlg.output.setText("abc")
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        assert dlg.isVisible() and "output price" in dlg.error.text()  # refused, nothing started
        dlg.output.setText("10")
        with qtbot.waitSignal(w.priced, timeout=20_000) as sig:
            dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: w.data is not None and w.unpriced_table.rowCount() == 0, timeout=20_000)
    finally:
        ledger.remove_listener(listener)
    done = sig.args[0]
    assert (done.model_key, done.rows_changed, done.still_unpriced) == (model, 3, 0)
    assert writers and threading.main_thread() not in writers  # the writes ran in the worker
    assert statuses == ["Priced acme-coder-9: 3 ledger rows repriced"]
    qtbot.waitUntil(lambda: {r.key: r.cost for r in w.data.breakdown}.get(model) == Decimal(9), timeout=20_000)
    # 1M x $2 + 0.1M x $10 = $3 a row. The running catalog prices new usage of the model too.
    assert ctx.catalog.cost_of(model, usage, ServiceTier.STANDARD, when.date()) == Decimal(3)
    assert main(["--home", str(ctx.paths.home), "report", "--mode", "computed", "--group-by", "model", "--json",
                 "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    report = json.loads(capsys.readouterr().out)
    row = {r["model"]: r for r in report["rows"]}[model]
    assert (Decimal(row["cost_exact"]), row["unpriced_rows"]) == (Decimal(9), 0)  # whatever scale the CLI prints
