"""The gateway in the GUI: a real gateway started through the runtime in front of the local fake upstream; its calls
appear live in the Cost tracker, a block budget shows as blocking in the panel and the tray, the settings tab saves
the six gateway settings (refusing port 80), and the budget dialog offers "Block gateway calls"."""

from __future__ import annotations

import os
import socket
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from aicost_desktop.accounts import add_account
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.actions import AppActions
from aicost_desktop.ui.dialogs.budget_dialog import BLOCK_HELP, BudgetDialog
from aicost_desktop.ui.dialogs.settings import SettingsDialog
from aicost_desktop.ui.docks.cost_tracker import cost_tracker_dock
from aicost_desktop.ui.theme import app_icon, apply_theme
from aicost_desktop.ui.tray import Tray
from tests.unit.gateway.fixtures import CHAT, configured, free_port, upstream  # noqa: F401 - fixtures



@pytest.fixture
def tracker(qtbot: Any, configured: Any, services: Any) -> Any:
    dock = cost_tracker_dock(configured, services)
    dock.resize(900, 720)
    qtbot.addWidget(dock)
    return dock


def start_gateway(qtbot: Any, services: Any) -> str:
    """Switch it on as the tray and the settings do (a job starts it); the started state reaches the GUI thread."""
    with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
        services.gateway.set_enabled(True)
    assert services.gateway.running, services.gateway.error
    return str(services.gateway.base_url)


def call(services: Any, project: str, prompt: int = 1000, output: int = 500) -> httpx.Response:
    host = services.runtime.gateway.host
    return httpx.post(f"{services.gateway.base_url}/openai/v1/chat/completions", json=CHAT, timeout=10,
                      headers={"X-AICost-Token": host.token, "X-AICost-Project": project,
                               "X-Fake-Prompt": str(prompt), "X-Fake-Output": str(output)})


def test_a_call_through_the_gateway_shows_in_the_cost_tracker_within_two_seconds(qtbot, tracker, services,
                                                                                     configured) -> None:
    live = tracker.tracker.gateway_live
    assert not live.live and not live.hint.isHidden()  # off by default: one line, no panel
    assert "Gateway off" in live.hint.text() and "Settings › Gateway" in live.hint.text()
    url = start_gateway(qtbot, services)
    assert live.live and live.badge.text() == "● live" and live.url.text() == url
    assert live.blocking_text() == "" and live.rows() == []
    assert f"{url}/openai/v1" in live.waiting.text()  # running, no call yet: where to point a script
    assert call(services, "invoices").status_code == 200
    finished = time.monotonic()
    qtbot.waitUntil(lambda: len(live.rows()) == 1, timeout=2_000)
    assert time.monotonic() - finished < 2.0
    (row,) = live.rows()
    # gpt-4o-mini: $0.15 / $0.60 per million input / output tokens: 1,000 in + 500 out = $0.00045.
    assert row[1] == "gpt-4o-mini" and row[2] == "1,500" and row[3] == format_money(Decimal("0.00045")) == "$0.00045"
    assert row[4].endswith(" ms") and row[5] == "invoices"
    assert call(services, "batch", prompt=2_000_000, output=0).status_code == 200
    qtbot.waitUntil(lambda: len(live.rows()) == 2, timeout=2_000)
    assert [r[5] for r in live.rows()] == ["batch", "invoices"]  # newest first
    assert live.rows()[0][3] == "$0.30"
    # The ledger has the rows too: the bus refreshes the table (source proxy).
    qtbot.waitUntil(lambda: tracker.tracker.model.rowCount() >= 2, timeout=5_000)
    with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
        services.gateway.set_enabled(False)
    assert not live.live and "Gateway off" in live.hint.text()


def test_the_live_calls_follow_the_display_currency(qtbot, tracker, services, configured, tmp_path: Path) -> None:
    configured.settings.set("display_currency", "EUR")
    live = tracker.tracker.gateway_live
    start_gateway(qtbot, services)
    assert call(services, "batch", prompt=2_000_000, output=0).status_code == 200  # $0.30 at the catalog's price
    qtbot.waitUntil(lambda: len(live.rows()) == 1, timeout=2_000)
    fx = configured.settings.fx_rates()
    # The same conversion and format as the cards: $0.30 / 1.08 (the EUR rate to USD) = 0.2777... EUR.
    assert live.rows()[0][3] == format_money(Decimal("0.30") / fx["EUR"], "EUR") == "0.28 EUR"
    assert live.table.item(0, 3).toolTip() == "$0.30 as priced (the catalog is in USD); 1 EUR = 1.08 USD"
    tracker.show()
    card = tracker.tracker.card
    qtbot.waitUntil(lambda: card.data is not None and card.data.tokens == 2_000_000
                    and tracker.tracker.model.rowCount() == 1, timeout=5_000)
    assert card.cost.text() == live.rows()[0][3]  # the card and the strip: one figure, one currency
    out = Path(os.environ.get("AICOST_SCREENSHOTS") or tmp_path)
    assert tracker.grab().save(str(out / "cost_tracker_gateway_eur.png"))
    # Settings saved a new display currency: the window tells every dock through the bus, and the rows follow.
    configured.settings.set("display_currency", "GBP")
    with qtbot.waitSignal(live.updated, timeout=5_000):
        services.bus.notify_ledger_changed()
    assert live.rows()[0][3] == "0.24 GBP"  # 0.30 / 1.27
    configured.settings.set("display_currency", "USD")
    with qtbot.waitSignal(live.updated, timeout=5_000):
        services.bus.notify_ledger_changed()
    assert live.rows()[0][3] == "$0.30" and live.table.item(0, 3).toolTip() == "Priced with the catalog, in USD"
    with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
        services.gateway.set_enabled(False)


def test_a_reached_block_budget_says_blocking_in_the_panel_and_the_tray(qtbot, tracker, services, configured) -> None:
    add_budget(configured.db, BudgetSpec.build(name="cap", amount="0.0001", on_exceed="block"))
    owner = QWidget()
    qtbot.addWidget(owner)
    tray = Tray(services, AppActions(owner), app_icon(), parent=owner)  # goes with the actions it shows
    with qtbot.waitSignal(tray.tooltip_changed, timeout=10_000):
        tray.refresh()
    toggle = tray.gateway_toggle
    assert toggle.text() == "&Gateway on/off" and toggle.isCheckable() and not toggle.isChecked()
    assert "Gateway: off" in tray.menu_lines() and toggle in tray.menu.actions()
    with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
        toggle.trigger()  # the user's click: saves the setting and starts on a job
    assert toggle.isChecked() and configured.settings.get("gateway_enabled") is True
    url = services.gateway.base_url
    assert f"Gateway: on at {url}" in tray.menu_lines() and f"Gateway: on at {url}" in tray.icon.toolTip()
    assert tray.state == "ok"
    live = tracker.tracker.gateway_live
    assert call(services, "a").status_code == 200  # the committed row reaches the limit
    qtbot.waitUntil(lambda: live.blocking_text() == "blocking: cap", timeout=5_000)
    assert live.blocking_label.property("banner") == "warning"
    assert "Blocking: cap" in tray.menu_lines() and "Blocking: cap" in tray.icon.toolTip()
    assert tray.state == "exceeded"
    r = call(services, "a")
    assert r.status_code == 429 and "cap" in r.text
    with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
        toggle.trigger()
    assert not toggle.isChecked() and not services.gateway.running
    assert "Gateway: off" in tray.menu_lines() and not any("Blocking" in ln for ln in tray.menu_lines())
    assert not live.live


def test_a_port_that_is_taken_is_said_in_the_panel_and_the_tray(qtbot, tracker, services, configured) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        configured.settings.set("gateway_port", taken.getsockname()[1])
        with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
            services.gateway.set_enabled(True)
    live = tracker.tracker.gateway_live
    assert not live.live and "Gateway not started:" in live.hint.text()
    assert str(configured.settings.get("gateway_port")) in live.hint.text()
    assert services.gateway.status_text().startswith("Gateway: not started: ")


def test_saved_settings_switch_the_gateway_on_and_restart_it_on_a_new_port(qtbot, services, configured) -> None:
    gw = services.gateway
    configured.settings.set("gateway_enabled", True)  # what the settings dialog saved
    with qtbot.waitSignal(gw.state_changed, timeout=10_000):
        gw.settings_changed(["gateway_enabled"])  # the main window passes the saved keys on
    assert gw.running
    new_port = free_port()
    configured.settings.set("gateway_port", new_port)
    with qtbot.waitSignals([gw.state_changed, gw.state_changed], timeout=10_000):  # stopped, started again
        gw.settings_changed(["gateway_port"])
    qtbot.waitUntil(lambda: gw.base_url == f"http://127.0.0.1:{new_port}", timeout=10_000)
    configured.settings.set("gateway_enabled", False)
    with qtbot.waitSignal(gw.state_changed, timeout=10_000):
        gw.settings_changed(["gateway_enabled"])
    assert not gw.running and gw.status_text() == "Gateway: off"


def _settings(qtbot: Any, ctx: Any) -> SettingsDialog:
    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    return dlg


def test_the_gateway_settings_tab_round_trips_and_refuses_port_80(qtbot, configured) -> None:
    ctx = configured
    add_account(ctx.db, ctx.secrets, "openai", "work", "sk-proj-stored-key-abcdef123456")
    add_account(ctx.db, ctx.secrets, "anthropic", "claude", "sk-ant-api03-stored-key-abcdef123456")
    dlg = _settings(qtbot, ctx)
    g = dlg.gateway_fields
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())][-1] == "Gateway"
    assert not g.enabled.isChecked() and g.port.text() == str(ctx.settings.get("gateway_port"))
    assert g.inject["openai"].currentText() == "Pass the client's key through"
    assert [g.inject["openai"].itemText(i) for i in range(g.inject["openai"].count())] == \
        ["Pass the client's key through", "work"]  # only OpenAI accounts for the OpenAI route
    assert all(not e.isVisible() or not e.text() for e in g.errors.values())  # no error before typing

    g.port.clear()
    qtbot.keyClicks(g.port, "80")
    assert g.errors["gateway_port"].text() == "Port: must be a port number 1024..65535"
    assert g.port.property("invalid") is True
    qtbot.keyClicks(g.upstream["openai"], "?x=1")
    assert "OpenAI base URL" in g.errors["gateway_upstream_openai"].text()
    dlg.accept()
    assert dlg.result() == 0 and ctx.settings.get("gateway_port") != 80  # nothing saved
    assert "gateway_port" in dlg.error.text()

    g.port.clear()
    qtbot.keyClicks(g.port, "9123")
    assert g.errors["gateway_port"].text() == "" and g.port.property("invalid") is False
    g.upstream["openai"].setText("http://127.0.0.1:9/v1")
    g.enabled.setChecked(True)
    g.inject["openai"].setCurrentText("work")
    g.inject["anthropic"].setCurrentText("claude")
    with qtbot.waitSignal(dlg.settings_changed, timeout=1000) as changed:
        dlg.accept()
    assert set(changed.args[0]) == {"gateway_enabled", "gateway_port", "gateway_upstream_openai",
                                    "gateway_inject_openai", "gateway_inject_anthropic"}
    s = ctx.settings
    assert (s.get("gateway_enabled"), s.get("gateway_port"), s.get("gateway_upstream_openai")) == \
        (True, 9123, "http://127.0.0.1:9/v1")
    assert (s.get("gateway_inject_openai"), s.get("gateway_inject_anthropic")) == ("work", "claude")

    again = _settings(qtbot, ctx).gateway_fields  # what was saved is what the tab shows
    assert again.enabled.isChecked() and again.port.text() == "9123"
    assert again.upstream["openai"].text() == "http://127.0.0.1:9/v1"
    assert (again.inject["openai"].currentText(), again.inject["anthropic"].currentText()) == ("work", "claude")
    again.inject["openai"].setCurrentIndex(0)
    assert again.values()["gateway_inject_openai"] == ""  # back to passing the client's key through


def test_the_budget_dialog_saves_block_and_says_what_it_does(qtbot) -> None:
    dlg = BudgetDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.name.setText("cap")
    dlg.amount.setText("20")
    assert dlg.block_help.isHidden()
    i = dlg.on_exceed.findData("block")
    assert dlg.on_exceed.itemText(i) == "Block gateway calls"
    dlg.on_exceed.setCurrentIndex(i)
    assert dlg.block_help.isVisible() and dlg.block_help.text() == BLOCK_HELP and "429" in BLOCK_HELP
    assert dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dlg.accept()
    assert dlg.spec is not None and dlg.spec.on_exceed == "block" and dlg.spec.amount == Decimal("20")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshot_of_the_cost_tracker_with_live_calls(qtbot, tracker, services, configured, tmp_path: Path,
                                                        theme: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    try:
        add_budget(configured.db, BudgetSpec.build(name="cap", amount="0.001", on_exceed="block"))
        start_gateway(qtbot, services)
        live = tracker.tracker.gateway_live
        for project, prompt in (("invoices", 1000), ("ci", 1200), ("invoices", 800)):
            assert call(services, project, prompt=prompt).status_code == 200
        qtbot.waitUntil(lambda: len(live.rows()) == 3 and bool(live.blocking_text()), timeout=5_000)
        tracker.show()
        card = tracker.tracker.card
        qtbot.waitUntil(lambda: tracker.tracker.model.rowCount() == 3 and card.data is not None
                        and card.data.status is not None and card.data.tokens == 4_500, timeout=5_000)
        out = Path(os.environ.get("AICOST_SCREENSHOTS") or tmp_path)
        path = out / f"cost_tracker_gateway_{theme}.png"
        assert tracker.grab().save(str(path)) and path.stat().st_size > 5000
        with qtbot.waitSignal(services.gateway.state_changed, timeout=10_000):
            services.gateway.set_enabled(False)
        assert not live.live and live.hint.isVisible()  # the one line instead
        off = out / f"cost_tracker_gateway_off_{theme}.png"
        assert tracker.grab().save(str(off)) and off.stat().st_size > 5000
        dlg = _settings(qtbot, configured)
        dlg.tabs.setCurrentIndex(dlg.tabs.count() - 1)
        dlg.show()
        dlg.gateway_fields.port.clear()
        qtbot.keyClicks(dlg.gateway_fields.port, "80")
        tab = out / f"settings_gateway_{theme}.png"
        assert dlg.grab().save(str(tab)) and tab.stat().st_size > 3000
    finally:
        apply_theme(app, "light")
