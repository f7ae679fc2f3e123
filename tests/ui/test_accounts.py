"""Accounts dock, model and dialog: validation naming fields, add + sync against the OpenRouter fake, keychain banner."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from aicost_desktop.accounts import add_account, get_account, list_accounts
from aicost_desktop.storage.tables import BalanceReading
from aicost_desktop.sync.registry import PROVIDERS
from aicost_desktop.ui.dialogs.account_dialog import AccountDialog
from aicost_desktop.ui.docks.accounts import NO_KEYCHAIN, AccountsPanel, accounts_dock
from aicost_desktop.ui.models.accounts_model import COL, SORT_ROLE, AccountsProxy, AccountsTableModel, \
    load_account_rows
from aicost_desktop.ui.widgets.sync_status import SyncStatusWidget
from tests.fakes.openrouter_fake import MANAGEMENT_KEY
from tests.unit.runtime.sync_fixtures import NOW


@pytest.fixture
def fake(openrouter):
    return openrouter


@pytest.fixture
def scheduler(services):
    return services.sync


@pytest.fixture
def panel(qtbot, ctx, services):
    p = AccountsPanel(ctx, services)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.refreshed, timeout=5000):
        p.refresh()
    return p


def no_modal_boxes() -> bool:
    return not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


# -- model -----------------------------------------------------------------------------------

def test_model_passes_qtmodeltester_and_sorts_on_raw_values(qtmodeltester, ctx):
    a = add_account(ctx.db, ctx.secrets, "openrouter", "Zeta", "sk-or-1", "http://127.0.0.1:9/api/v1")
    b = add_account(ctx.db, ctx.secrets, "deepseek", "alpha", "sk-2")
    with ctx.db.write_session() as s:
        s.add(BalanceReading(account_id=a, taken_at=NOW, currency="USD", remaining=Decimal("74.75"),
                             total=Decimal("100.5")))
        s.add(BalanceReading(account_id=b, taken_at=NOW, currency="CNY", remaining=Decimal("9.5")))
    model = AccountsTableModel(ctx.tz)
    model.set_rows(load_account_rows(ctx, now=NOW))
    qtmodeltester.check(model)
    model.set_live(a, (1, 3))
    qtmodeltester.check(model)
    row = model.row_of(a)
    assert model.data(model.index(row, COL["status"])) == "Syncing 1/3…"
    assert model.data(model.index(row, COL["balance"]), SORT_ROLE) == Decimal("74.75")
    assert model.data(model.index(row, COL["balance"])) == "$74.75"
    assert "not spend" in model.data(model.index(row, COL["balance"]), 3)  # ToolTipRole
    model.clear_live(a)
    assert model.data(model.index(row, COL["status"])) == "Not synced yet"
    proxy = AccountsProxy()
    proxy.setSourceModel(model)
    proxy.sort(COL["name"])
    assert [proxy.index(i, 0).data() for i in range(2)] == ["alpha", "Zeta"]  # case-insensitive raw sort
    proxy.sort(COL["balance"])
    assert [proxy.index(i, 0).data() for i in range(2)] == ["alpha", "Zeta"]  # 9.5 < 74.75 as numbers


# -- dialog validation -----------------------------------------------------------------------

def test_dialog_names_the_field_for_bad_url_and_empty_key(qtbot, services):
    dlg = AccountDialog(services)
    qtbot.addWidget(dlg)
    dlg.name.setText("prod")
    dlg.base_url.setText("ftp://example.com")
    with qtbot.waitSignal(dlg.save_failed, timeout=1000):
        dlg.save()
    assert dlg.errors.text("base-url").startswith("Base URL")
    assert dlg.errors.text("key") == "API key is required"
    assert dlg.errors.text("name") == ""
    assert list_accounts(services.ctx.db) == []


def test_dialog_prefills_provider_default_url_and_key_hint(qtbot, services):
    dlg = AccountDialog(services)
    qtbot.addWidget(dlg)
    assert dlg.key.echoMode() == dlg.key.EchoMode.Password
    dlg.provider.setCurrentIndex(dlg.provider.findData("anthropic"))
    assert dlg.base_url.text() == PROVIDERS["anthropic"].base_url
    assert "sk-ant-admin" in dlg.key_hint.text()
    dlg.provider.setCurrentIndex(dlg.provider.findData("openrouter"))
    assert dlg.base_url.text() == "https://openrouter.ai/api/v1"
    dlg.base_url.setText("http://gateway.local/v1")  # a gateway URL survives a provider change
    dlg.provider.setCurrentIndex(dlg.provider.findData("openai"))
    assert dlg.base_url.text() == "http://gateway.local/v1"


def test_duplicate_name_is_reported_under_the_name_field(qtbot, ctx, services):
    add_account(ctx.db, ctx.secrets, "openai", "prod", "sk-admin-1")
    dlg = AccountDialog(services)
    qtbot.addWidget(dlg)
    dlg.name.setText("prod")
    dlg.key.setText("sk-admin-secret-value")
    with qtbot.waitSignal(dlg.save_failed, timeout=5000) as failed:
        dlg.save()
    assert "exists" in dlg.errors.text("name") and dlg.errors.text("name").startswith("Display name")
    assert "sk-admin-secret-value" not in failed.args[0]
    assert len(list_accounts(ctx.db)) == 1


def test_dialog_test_connection_runs_in_a_worker_and_shows_the_result(qtbot, services, fake):
    dlg = AccountDialog(services)
    qtbot.addWidget(dlg)
    dlg.provider.setCurrentIndex(dlg.provider.findData("openrouter"))
    dlg.base_url.setText(fake.api_base)
    dlg.key.setText("sk-or-v1-not-a-known-key")
    with qtbot.waitSignal(dlg.tested, timeout=10_000) as bad:
        dlg.test_connection()
    assert bad.args[0] is False and "sk-or-v1-not-a-known-key" not in bad.args[1]
    assert dlg.test_result.text().startswith("✗")
    dlg.key.setText(MANAGEMENT_KEY)
    with qtbot.waitSignal(dlg.tested, timeout=10_000) as good:
        dlg.test_connection()
    assert good.args[0] is True and dlg.test_result.text().startswith("✓")


# -- add + sync end to end -------------------------------------------------------------------

def test_add_account_then_it_syncs_in_the_background_and_the_panel_follows(qtbot, ctx, services, bus, panel,
                                                                         scheduler, fake):
    assert panel.stack.currentWidget() is panel.empty_page
    status = SyncStatusWidget(scheduler)
    qtbot.addWidget(status)
    fake.inject_delay(0.3, times=1)
    dlg = panel.add_account()
    qtbot.addWidget(dlg)
    dlg.provider.setCurrentIndex(dlg.provider.findData("openrouter"))
    dlg.name.setText("router")
    dlg.key.setText(MANAGEMENT_KEY)
    dlg.base_url.setText(fake.api_base)
    with qtbot.waitSignal(scheduler.started, timeout=10_000):
        dlg.save()  # saving starts the first sync at once
    acc = get_account(ctx.db, "router")
    assert ctx.secrets.get("x") is None and MANAGEMENT_KEY not in repr(acc)
    qtbot.waitUntil(lambda: panel.model.row_of(acc.id) >= 0, timeout=5000)
    assert panel.model.status_of(panel.model.row_at(panel.model.row_of(acc.id))) in ("syncing", "ok")
    with qtbot.waitSignal(scheduler.finished, timeout=15_000), qtbot.waitSignal(bus.ledger_changed, timeout=15_000):
        pass
    qtbot.waitUntil(lambda: panel.model.rows() and panel.model.rows()[0].view.status == "ok", timeout=5000)
    row = panel.model.rows()[0]
    assert row.balance is not None and row.balance.remaining == Decimal("74.75")
    assert status.label.text().startswith("Last sync ")
    assert panel.stack.currentWidget() is panel.content
    assert no_modal_boxes()


def test_background_failure_shows_on_the_row_not_in_a_dialog(qtbot, ctx, panel, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "bad", "sk-or-v1-wrong", fake.api_base)
    with qtbot.waitSignal(scheduler.finished, timeout=15_000):
        scheduler.sync_account(acc)
    qtbot.waitUntil(lambda: bool(panel.model.rows()) and panel.model.rows()[0].view.status == "needs_attention",
                    timeout=5000)
    r = panel.model.rows()[0]
    tip = panel.model.data(panel.model.index(0, COL["status"]), 3)
    assert panel.model.status_of(r) == "needs_attention" and r.view.status_message in tip
    panel.select(acc)
    assert r.view.status_message.split()[0] in panel.detail.text()
    assert no_modal_boxes()


def test_enable_disable_and_confirmed_remove(qtbot, ctx, panel):
    acc = add_account(ctx.db, ctx.secrets, "deepseek", "ds", "sk-ds")
    with qtbot.waitSignal(panel.refreshed, timeout=5000):
        panel.refresh()
    assert panel.select(acc)
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.toggle_selected()
    qtbot.waitUntil(lambda: panel.model.rows()[0].base_status == "disabled", timeout=5000)
    assert panel.enable_button.text() == "&Enable" and not panel.sync_button.isEnabled()
    panel.confirm = lambda title, text: False
    panel.remove_selected()
    assert len(list_accounts(ctx.db)) == 1
    panel.confirm = lambda title, text: True
    with qtbot.waitSignal(panel.changed, timeout=5000):
        panel.remove_selected()
    qtbot.waitUntil(lambda: panel.stack.currentWidget() is panel.empty_page, timeout=5000)
    assert list_accounts(ctx.db) == [] and ctx.secrets.get("account:x") is None


def test_empty_state_is_purposeful(panel):
    assert "Add your first account" in panel.empty.headline.text()
    for name in ("OpenAI", "Anthropic", "OpenRouter", "DeepSeek", "Moonshot", "Claude Code", "Codex"):
        assert name in panel.empty.detail.text()


def test_no_keychain_shows_a_banner_and_disables_add(qtbot, tmp_path, pool, bus):
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.secrets import KeyringSecretStore
    from aicost_desktop.ui.services import build_services

    # The suite sets PYTHON_KEYRING_BACKEND to keyring's fail backend: the real store must say "no keychain".
    ctx = AppContext(home=tmp_path / "nokeychain", tz="UTC", secrets=KeyringSecretStore())
    runtime = Runtime(ctx)
    services = build_services(ctx, runtime, pool=pool, bus=bus)
    dock = accounts_dock(ctx, services)
    qtbot.addWidget(dock)
    p = dock.panel
    with qtbot.waitSignal(p.keychain_checked, timeout=5000) as checked:
        pass
    assert checked.args == [False]
    assert p.banner.isVisibleTo(p) and "No OS keychain" in p.banner.text()
    assert not p.add_button.isEnabled() and "keychain" in p.add_button.toolTip()
    assert not p.empty_add.isEnabled()
    assert p.add_account() is None
    assert NO_KEYCHAIN.split("<b>")[1][:10] in p.banner.text()
    runtime.stop()
    services.close()
    pool.waitForDone(5000)
    ctx.close()


def test_memory_store_has_no_banner(qtbot, panel):
    qtbot.waitUntil(lambda: panel.keychain_ok is not None, timeout=5000)
    assert panel.keychain_ok and not panel.banner.isVisibleTo(panel) and panel.add_button.isEnabled()
