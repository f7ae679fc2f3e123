"""The Integrations dock against the real manager (SQLite ledger, in-memory keychain) and a local Discord fake:
search, category chips, the connect form, Test with a typed error, Disconnect, OAuth waiting, reflow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

from aicost_desktop.integrations import registry
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.ui.docks.integrations import IntegrationsPanel, integrations_dock
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.discord import HOOK_TOKEN, DiscordFake


class Browser(list):
    """Stands in for the system browser: records the sign-in URLs it was asked to open."""

    def __call__(self, url: str) -> bool:
        self.append(url)
        return True


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def manager(ctx, browser) -> Iterator[IntegrationManager]:  # type: ignore[no-untyped-def]
    m = IntegrationManager(ctx.db, ctx.secrets, client=httpx.Client(timeout=5),
                           policy=RetryPolicy(sleep=lambda s: None, jitter=lambda: 1.0), browser=browser,
                           login_timeout=30)
    yield m
    m.close()


@pytest.fixture
def isvc(ctx, pool, bus, runtime, manager):  # type: ignore[no-untyped-def]
    from aicost_desktop.ui.services import build_services

    s = build_services(ctx, runtime, pool=pool, bus=bus, integrations=manager)
    yield s
    runtime.stop(wait_s=10)
    s.close()


@pytest.fixture
def discord() -> Iterator[DiscordFake]:
    with serving(DiscordFake()) as fake:
        yield fake


@pytest.fixture
def panel(qtbot, ctx, isvc) -> IntegrationsPanel:  # type: ignore[no-untyped-def]
    p = IntegrationsPanel(ctx, isvc)
    qtbot.addWidget(p)
    p.resize(740, 520)
    p.show()
    qtbot.waitUntil(lambda: p._loaded and not p.loading)
    return p


def shown(panel: IntegrationsPanel) -> list[str]:
    return [c.kind for c in panel.visible_cards()]


def settle(qtbot, panel: IntegrationsPanel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not panel.loading)


def test_search_filters_the_cards_and_an_empty_result_says_so(qtbot, panel, manager) -> None:
    everything = [s.id for s in registry.specs()]
    assert shown(panel) == everything and len(everything) >= 7
    qtbot.keyClicks(panel.search, "discord")
    qtbot.waitUntil(lambda: shown(panel) == ["discord"])
    panel.search.clear()
    qtbot.keyClicks(panel.search, "sms")  # matches descriptions and the category label, as the core does
    expected = [s.spec.id for s in manager.catalog("sms")]
    assert "twilio" in expected and len(expected) < len(everything)
    qtbot.waitUntil(lambda: shown(panel) == expected)
    panel.search.clear()
    qtbot.keyClicks(panel.search, "zzqx")
    qtbot.waitUntil(lambda: panel.stack.currentIndex() == 1 and panel.empty.isVisible())
    assert "“zzqx”" in panel.empty.headline.text() and shown(panel) == []
    qtbot.mouseClick(panel.empty.findChild(QPushButton, "clearFilters"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown(panel) == everything)
    assert panel.search.text() == ""


def test_category_chips_show_one_category_at_a_time(qtbot, panel) -> None:
    chips = {b.objectName(): b for b in panel.chips.buttons()}
    assert {"chip_all", "chip_messaging", "chip_email_sms", "chip_dev_tools", "chip_docs_sheets",
            "chip_payments"} == set(chips)
    assert chips["chip_email_sms"].text() == "Email && SMS"  # shown as "Email & SMS", not a mnemonic
    for chip, category in (("chip_messaging", "messaging"), ("chip_dev_tools", "dev_tools")):
        qtbot.mouseClick(chips[chip], Qt.MouseButton.LeftButton)
        expected = [s.id for s in registry.specs() if s.category.value == category]
        qtbot.waitUntil(lambda expected=expected: shown(panel) == expected)
        assert expected and chips[chip].isChecked()
    qtbot.keyClicks(panel.search, "discord")  # search within the category
    qtbot.waitUntil(lambda: shown(panel) == [])
    assert "Dev tools" in panel.empty.detail.text()
    qtbot.mouseClick(chips["chip_all"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown(panel) == ["discord"])


def test_connect_form_checks_fields_then_stores_the_credential(qtbot, panel, discord, ctx, manager) -> None:
    card = panel.cards["discord"]
    assert card.badge.status == "not_connected" and card.badge.text() == "Not connected"
    qtbot.mouseClick(card.connect_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None and dialog.isVisible()
    row = dialog.field("webhook_url")
    assert dialog.errors() == {}  # nothing is wrong before the user typed
    assert row.edit.echoMode() == QLineEdit.EchoMode.Password
    qtbot.mouseClick(row.toggle, Qt.MouseButton.LeftButton)
    assert row.edit.echoMode() == QLineEdit.EchoMode.Normal
    qtbot.keyClicks(row.edit, "https://example.com/nope")
    assert "Discord webhook URL" in dialog.errors()["webhook_url"]  # checked as typed, once typed in
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    assert discord.requests == [] and dialog.isVisible()  # an invalid form is not sent
    row.edit.clear()
    qtbot.keyClicks(row.edit, discord.webhook_url())
    assert dialog.errors() == {}
    with qtbot.waitSignal(dialog.connected, timeout=10_000) as got:
        qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    rec = got.args[0]
    assert rec.name == "discord" and rec.kind == "discord" and not dialog.isVisible()
    assert discord.requests[-1].method == "GET" and discord.messages == []  # proved without posting
    assert ctx.secrets.get(f"{rec.secret_ref}:webhook_url") == discord.webhook_url()
    qtbot.waitUntil(lambda: card.badge.status == "connected")
    assert card.badge.text() == "Connected" and "Connected as discord" in card.result_text()
    assert card.test_button.isVisible() and card.disconnect_button.isVisible()
    assert card.connect_button.text() == "Add another"
    # A second connection of the kind gets a free name and the card a chooser.
    qtbot.mouseClick(card.connect_button, Qt.MouseButton.LeftButton)
    assert panel.dialog.field("name").edit.text() == "discord-2"
    panel.dialog.reject()


def test_every_invalid_field_is_marked_at_once(qtbot, panel) -> None:
    dialog = panel.open_connect("sendgrid")
    assert dialog.errors() == {}
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    errors = dialog.errors()
    assert set(errors) == {"api_key", "from_email"}  # from_name is optional
    assert "required" in errors["api_key"] and "required" in errors["from_email"]
    qtbot.keyClicks(dialog.field("from_email").edit, "alerts@example.com")
    assert set(dialog.errors()) == {"api_key"}
    dialog.field("name").edit.clear()
    qtbot.keyClicks(dialog.field("name").edit, " ")
    assert "name" in dialog.errors()
    dialog.reject()


def test_a_failing_test_shows_the_typed_error_redacted(qtbot, panel, discord, manager) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    panel.refresh()
    card = panel.cards["discord"]
    qtbot.waitUntil(lambda: card.badge.status == "connected")
    with qtbot.waitSignal(panel.tested, timeout=10_000) as ok:
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    assert ok.args[:2] == ["ops", True] and "Spend alerts" in card.result_text()
    discord.hooks.clear()  # the webhook was deleted in Discord
    with qtbot.waitSignal(panel.tested, timeout=10_000) as failed:
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    name, passed, line = failed.args
    assert (name, passed) == ("ops", False)
    assert "Unknown Webhook" in line and "create a new one" in line  # the typed error's message and hint
    assert HOOK_TOKEN not in line and HOOK_TOKEN not in card.result_text()
    assert card.result_text() == line
    qtbot.waitUntil(lambda: card.badge.status == "error")
    assert HOOK_TOKEN not in card.connection_line.full_text()


def test_disconnect_asks_first_and_removes_the_secrets(qtbot, panel, discord, manager, ctx) -> None:
    rec = manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    panel.refresh()
    card = panel.cards["discord"]
    qtbot.waitUntil(lambda: card.badge.status == "connected")
    asked: list[str] = []
    panel.confirm = lambda title, text: asked.append(text) or False
    qtbot.mouseClick(card.disconnect_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and "ops" in asked[0] and "keychain" in asked[0]
    assert [c.name for c in manager.connections()] == ["ops"]  # declined: nothing removed
    panel.confirm = lambda title, text: asked.append(text) or True
    with qtbot.waitSignal(panel.changed, timeout=10_000):
        qtbot.mouseClick(card.disconnect_button, Qt.MouseButton.LeftButton)
    assert manager.connections() == [] and ctx.secrets.get(f"{rec.secret_ref}:webhook_url") is None
    qtbot.waitUntil(lambda: card.badge.status == "not_connected")
    assert not card.test_button.isVisible() and card.connect_button.text() == "Connect"


def test_oauth_waits_for_the_browser_and_can_be_cancelled(qtbot, panel, browser, manager) -> None:
    dialog = panel.open_connect("slack")
    dialog.method.setCurrentIndex(dialog.method.findData("oauth_pkce"))
    assert dialog.submit.text() == "Sign in with the browser"
    qtbot.keyClicks(dialog.field("client_id").edit, "client-123")
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(browser) == 1)
    assert browser[0].startswith("https://slack.com/oauth/v2/authorize?") and "code_challenge=" in browser[0]
    assert dialog.waiting() and "Waiting for the browser" in dialog.status.text()
    assert dialog.cancel_button.text() == "Cancel sign-in" and not dialog.submit.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.waiting(), timeout=10_000)
    assert dialog.isVisible() and "cancelled" in dialog.error.text() and dialog.submit.isEnabled()
    assert manager.connections() == []
    dialog.reject()


def test_setup_guide_opens_the_local_docs_page(qtbot, panel) -> None:
    opened: list = []
    panel.open_url = lambda url: opened.append(url) or True
    qtbot.mouseClick(panel.cards["discord"].guide_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 1 and opened[0].isLocalFile()
    page = Path(opened[0].toLocalFile())
    assert page.parts[-3:] == ("docs", "integrations", "discord.md") and page.is_file()


def test_cards_reflow_with_the_width_and_are_never_clipped(qtbot, panel) -> None:
    for width, columns in ((380, 1), (740, 2), (1100, 3)):
        panel.resize(width, 520)
        qtbot.waitUntil(lambda columns=columns: panel.grid.columns == columns)
        cards = panel.visible_cards()
        lefts = {c.geometry().left() for c in cards}
        assert len(lefts) == columns
        for c in cards:  # each card is as tall as its wrapped text needs at its width
            assert c.layout().hasHeightForWidth()
            assert c.height() >= c.layout().totalHeightForWidth(c.width()) > 80, (width, c.kind)
            assert c.geometry().right() <= panel.grid.width()


def test_a_connection_made_elsewhere_shows_after_the_bus_says_so(qtbot, panel, discord, manager, bus) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="from-cli")  # e.g. aicost connect
    assert panel.cards["discord"].badge.status == "not_connected"
    bus.notify_sync_state_changed()  # what the runtime's ledger watch reports for another process's commit
    qtbot.waitUntil(lambda: panel.cards["discord"].badge.status == "connected")
    assert "from-cli" in panel.cards["discord"].connection_line.full_text()


def test_the_dock_builds_its_panel_when_first_shown(qtbot, ctx, isvc) -> None:
    dock = integrations_dock(ctx, isvc)
    qtbot.addWidget(dock)
    assert dock.windowTitle() == "Integrations"
    holder = dock.content
    assert not holder.built and holder.findChild(IntegrationsPanel) is None  # not at window start
    holder.refresh()  # a refresh of every dock before it was shown builds nothing
    assert not holder.built
    dock.show()
    qtbot.waitUntil(lambda: holder.built)
    panel = holder.panel()
    assert isinstance(panel, IntegrationsPanel) and holder.findChild(IntegrationsPanel) is panel
    qtbot.waitUntil(lambda: not panel.loading)
    assert set(panel.cards) == {s.id for s in registry.specs()}


def test_several_connections_of_a_kind_get_a_chooser_and_test_the_chosen_one(qtbot, panel, discord, manager) -> None:
    for name in ("ops", "team"):
        manager.connect("discord", {"webhook_url": discord.webhook_url()}, name=name)
    panel.refresh()
    card = panel.cards["discord"]
    qtbot.waitUntil(lambda: card.chooser.count() == 2)
    assert card.chooser.isVisible() and card.current_connection() == "ops"
    card.chooser.setCurrentIndex(1)
    with qtbot.waitSignal(panel.tested, timeout=10_000) as got:
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    assert got.args[:2] == ["team", True]
    qtbot.waitUntil(lambda: not panel.loading)
    assert card.current_connection() == "team"  # a reload keeps the user's choice
