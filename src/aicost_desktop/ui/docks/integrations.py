"""The Integrations dock: a small marketplace of cards (search, category chips, status badges, the last delivery
failure) over the Qt-free `IntegrationManager`, the rules that send alerts and reports to them, and the alert
delivery log; every manager and ledger call runs on the pool and each tab reloads through a Refresher."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractButton, QButtonGroup, QDockWidget, QFrame, QLabel, QLineEdit, QMessageBox,
                               QScrollArea, QSizePolicy, QStackedWidget, QTabWidget, QToolButton, QVBoxLayout,
                               QWidget)

import aicost_desktop
from aicost_desktop.integrations import registry
from aicost_desktop.integrations.delivery import FailureView, delivery_failures
from aicost_desktop.integrations.spec import Category
from aicost_desktop.ui.dialogs.integration_dialog import ConnectDialog, message_of
from aicost_desktop.ui.docks import make_dock
from aicost_desktop.ui.widgets.empty_state import EmptyState, scrollable
from aicost_desktop.ui.widgets.integration_card import CardGrid, FlowLayout, IntegrationCard
from aicost_desktop.ui.widgets.routes_view import DeliveryLogView, RulesView
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.integrations.manager import IntegrationManager, IntegrationStatus, TestResult
    from aicost_desktop.integrations.spec import IntegrationSpec
    from aicost_desktop.integrations.store import ConnectionRecord
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.integrations")
# Pills in palette roles: the checked chip must stand out in the dark theme too (Fusion's pressed look did not).
CHIP_STYLE = """
QToolButton[chip="true"] { border: 1px solid palette(mid); border-radius: 11px; padding: 3px 7px;
                           background: palette(button); color: palette(button-text); }
QToolButton[chip="true"]:hover { border-color: palette(highlight); }
QToolButton[chip="true"]:checked { background: palette(highlight); color: palette(highlighted-text);
                                   border-color: palette(highlight); }
QToolButton[chip="true"]:focus { border: 2px solid palette(highlight); padding: 2px 6px; }
"""


def doc_roots() -> list[Path]:
    """Where the project's docs/ may be: a source checkout's root, a frozen bundle's data directory."""
    roots = [Path(aicost_desktop.__file__).resolve().parents[2]]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle))
    return roots


def guide_url(spec: "IntegrationSpec") -> QUrl | None:
    """The setup guide: the spec's docs link when it is a web address, else the local docs/integrations page."""
    if spec.docs.startswith(("http://", "https://")):
        return QUrl(spec.docs)
    for root in doc_roots():
        page = root / spec.docs
        if page.is_file():
            return QUrl.fromLocalFile(str(page))
    return None


class IntegrationsPanel(QWidget):
    """Three tabs: search box and category chips over a reflowing grid of integration cards (or an empty-search
    state), the rules (alerts and reports -> destinations), and the alert delivery log.

    Signals:
        refreshed(): the cards were reloaded (no further load folded in).
        tested(str, bool, str): Test of a connection finished (name, ok, the line shown on the card).
        changed(str): a connection was added or removed (its name).
    """

    refreshed = Signal()
    tested = Signal(str, bool, str)
    changed = Signal(str)

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("integrationsPanel")
        self.services = services
        assert services.integrations is not None, "build_services makes the integration manager"
        self.manager: "IntegrationManager" = services.integrations
        self.category: str | None = None
        self.dialog: ConnectDialog | None = None
        self.confirm: Callable[[str, str], bool] = self._confirm_dialog  # tests replace it
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl  # tests replace it
        self._loaded = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("integrationTabs")
        self.tabs.setDocumentMode(True)  # no frame around the pages: the cards keep the dock's width
        outer.addWidget(self.tabs)
        market = QWidget()
        market.setObjectName("marketplace")
        lay = QVBoxLayout(market)
        lay.setContentsMargins(4, 6, 4, 4)
        lay.setSpacing(6)
        bar = QWidget()
        bar.setObjectName("integrationsFilters")
        bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        flow = FlowLayout(bar, spacing=5)  # search and chips on one line in the 1366 px compact layout
        self.search = QLineEdit()
        self.search.setObjectName("integrationSearch")
        self.search.setPlaceholderText("Search integrations")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(150)
        self.search.setToolTip("Filter by name, what it does or its category")
        self.search.textChanged.connect(lambda _t: self._query_changed())
        flow.add(self.search)
        self.chips = QButtonGroup(self)
        self.chips.setExclusive(True)
        for value, label in [("", "All"), *[(c.value, c.label) for c in Category]]:
            chip = QToolButton()  # compact: a QPushButton's style minimum width wraps the chips at 1366 px
            chip.setText(label.replace("&", "&&"))  # "Email & SMS", not a mnemonic
            chip.setObjectName(f"chip_{value or 'all'}")
            chip.setCheckable(True)
            chip.setProperty("chip", "true")
            chip.setProperty("category", value)
            chip.setChecked(not value)
            self.chips.addButton(chip)
            flow.add(chip)
        self.chips.buttonClicked.connect(self._chip_clicked)
        bar.setStyleSheet(CHIP_STYLE)
        lay.addWidget(bar)

        self.error = QLabel()
        self.error.setObjectName("integrationsError")
        self.error.setProperty("banner", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

        self.grid = CardGrid()
        self.cards: dict[str, IntegrationCard] = {}
        for spec in registry.specs():
            self._add_card(spec)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("integrationCards")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        holder = QWidget()
        holder_lay = QVBoxLayout(holder)
        holder_lay.setContentsMargins(0, 0, 0, 0)
        holder_lay.addWidget(self.grid)
        holder_lay.addStretch(1)
        self.scroll.setWidget(holder)
        self.empty = EmptyState("No integration matches", "")
        self.empty.setObjectName("integrationsNoMatch")
        self.empty.add_button("Show all integrations", self.clear_filters, name="clearFilters")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(scrollable(self.empty))
        # Short docks (1366x768: tabbed under the chart, ~200 px) scroll the cards here, not the whole panel.
        self.stack.setMinimumHeight(90)
        lay.addWidget(self.stack, 1)
        self.tabs.addTab(market, "Integrations")
        self.rules = RulesView(services, self.manager)
        self.tabs.addTab(self.rules, "Rules")
        self.log = DeliveryLogView(services)
        self.tabs.addTab(self.log, "Delivery log")
        self.rules.refreshed.connect(self._name_tabs)
        self.log.problems.connect(lambda _n: self._name_tabs())
        self.rules.changed.connect(self.log.refresh)
        self.changed.connect(lambda _name: self.rules.refresh())  # the dialog's connections
        self.failures: dict[str, FailureView] = {}

        # On the general pool: the catalog asks the keychain, which may wait for the user to unlock it.
        self._loads = Refresher(services.pool, self._catalog, self._apply, owner=self, failed=self._load_failed,
                                args=lambda: (self.search.text(), self.category),
                                settled=lambda _ok: self.refreshed.emit())
        # Another process (the CLI) connecting or removing, and deliveries marking a card failed, reach the
        # window as these bus signals (the runtime's ledger watch).
        services.bus.sync_state_changed.connect(self.refresh_all)
        services.bus.alerts_changed.connect(self.refresh_all)
        # This process's own deliveries run after each budget evaluation (the runtime's alert service).
        services.alerts.evaluated.connect(lambda _r: self.refresh_all())
        self.refresh_all()

    # -- loading ----------------------------------------------------------------------------------
    def _catalog(self, search: str, category: str | None) -> tuple[list["IntegrationStatus"], dict[str, FailureView]]:
        return self.manager.catalog(search, category), delivery_failures(self.services.ctx.db)  # on the pool

    def refresh(self) -> None:
        self._loads.request()

    def refresh_all(self) -> None:
        """The cards, the rules and the delivery log (something changed the ledger or delivered)."""
        self.refresh()
        self.rules.refresh()
        self.log.refresh()

    def _name_tabs(self) -> None:
        n = len(self.rules.rules())
        self.tabs.setTabText(1, f"Rules ({n})" if n else "Rules")
        failed = sum(1 for d in self.log.rows() if d.status == "failed")
        self.tabs.setTabText(2, f"Delivery log ({failed} failed)" if failed else "Delivery log")

    def _query_changed(self) -> None:
        self._loads.request(restart=True)  # the user replaced the query: the running answer is stale

    def _chip_clicked(self, chip: QAbstractButton) -> None:
        self.category = chip.property("category") or None
        self._query_changed()

    def clear_filters(self) -> None:
        self.search.clear()
        self.chips.buttons()[0].setChecked(True)
        self.category = None
        self._query_changed()

    @property
    def loading(self) -> bool:
        return self._loads.loading

    def _apply(self, loaded: tuple[list["IntegrationStatus"], dict[str, FailureView]]) -> None:
        statuses, self.failures = loaded
        self._loaded = True
        self.error.hide()
        shown = {s.spec.id: s for s in statuses}
        for s in statuses:
            if s.spec.id not in self.cards:  # a spec registered after the dock was built
                self._add_card(s.spec)
        for kind, card in self.cards.items():
            status = shown.get(kind)
            if status is not None:
                card.set_connections(list(status.connections), status.status)
                card.set_delivery_failure(self._failure_text(status))
            card.setVisible(status is not None)
        self.grid.relayout()
        if statuses:
            self.stack.setCurrentWidget(self.scroll)
            return
        text = self.search.text().strip()
        where = next((c.label for c in Category if c.value == self.category), None)
        what = f"“{text}”" if text else ""
        self.empty.headline.setText(f"No integration matches {what}".strip() if text else
                                    f"No {where} integration yet" if where else "No integrations")
        self.empty.detail.setText(f"in {where}. Try another word, or All categories." if text and where else
                                  "Try another word: a service, or what it does (email, issue, sheet)." if text
                                  else "More integrations are coming.")
        self.empty.detail.show()
        self.stack.setCurrentIndex(1)

    def _failure_text(self, status: "IntegrationStatus") -> str | None:
        """'Delivery failed (alert #12, rule budget 80%): Slack: ... channel_not_found; check ...'."""
        failed = [self.failures[c.name] for c in status.connections if c.name in self.failures]
        if not failed:
            return None
        f = failed[0]
        who = f"{f.connection}: " if len(status.connections) > 1 else ""
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return f"{who}Delivery failed, {f.what}: {f.reason}{more}"

    def _load_failed(self, exc: BaseException) -> None:
        self.error.setText(f"Could not read the integrations: {message_of(exc)}")
        self.error.show()

    def visible_cards(self) -> list[IntegrationCard]:
        return [c for c in self.cards.values() if not c.isHidden()] if self.stack.currentIndex() == 0 else []

    def _add_card(self, spec: "IntegrationSpec") -> IntegrationCard:
        card = IntegrationCard(spec)
        card.connect_requested.connect(self.open_connect)
        card.test_requested.connect(self.test)
        card.disconnect_requested.connect(self.disconnect)
        card.guide_requested.connect(self.open_guide)
        self.cards[spec.id] = card
        self.grid.add(card)
        return card

    # -- actions ----------------------------------------------------------------------------------
    def connection_names(self) -> set[str]:
        return {c.name for card in self.cards.values() for c in card.connections}

    def open_connect(self, kind: str) -> ConnectDialog:
        """The connect form for `kind` (window-modal, not blocking: the sign-in runs on the pool)."""
        card = self.cards[kind]
        if self.dialog is not None and not self.dialog.waiting():
            self.dialog.deleteLater()
        dialog = ConnectDialog(card.spec, self.manager, self.services.run, taken=self.connection_names(),
                               open_guide=lambda: self.open_guide(kind), parent=self)
        dialog.connected.connect(lambda rec: self._connected(card, rec))
        dialog.finished.connect(lambda _r: self.refresh())
        self.dialog = dialog
        dialog.open()
        return dialog

    def _connected(self, card: IntegrationCard, rec: "ConnectionRecord") -> None:
        card.set_result(True, f"Connected as {rec.name}" + (f": {rec.status_message}" if rec.status_message else ""))
        self.changed.emit(rec.name)
        self.refresh()

    def test(self, kind: str, name: str) -> None:
        card = self.cards[kind]
        card.set_busy(f"Testing {name}…")

        def done(result: "TestResult") -> None:
            line = f"Works: {result.detail}" if result.ok else f"Failed: {result.detail}"
            card.set_result(result.ok, line)
            self.tested.emit(name, result.ok, line)
            self.refresh()

        def failed(exc: BaseException) -> None:
            line = f"Failed: {message_of(exc)}"
            card.set_result(False, line)
            self.tested.emit(name, False, line)
            self.refresh()

        self.services.run(self.manager.test, name, on_done=done, on_error=failed, owner=self)

    def disconnect(self, kind: str, name: str) -> None:
        card = self.cards[kind]
        if not self.confirm(f"Disconnect {card.spec.name}?",
                            f"Forget the connection “{name}” and delete its secrets from the keychain? "
                            "Alerts and reports routed to it stop."):
            return
        card.set_busy(f"Disconnecting {name}…")

        def done(_rec: Any) -> None:
            card.set_result(True, f"Disconnected {name}; its secrets were removed from the keychain.")
            self.changed.emit(name)
            self.refresh()

        def failed(exc: BaseException) -> None:
            card.set_result(False, f"Could not disconnect: {message_of(exc)}")
            self.refresh()

        self.services.run(self.manager.disconnect, name, on_done=done, on_error=failed, owner=self)

    def open_guide(self, kind: str) -> None:
        card = self.cards[kind]
        url = guide_url(card.spec)
        if url is None:
            card.set_result(False, f"The setup guide ({card.spec.docs}) is not included in this installation.")
            return
        if not self.open_url(url):
            card.set_result(False, f"Could not open {url.toDisplayString()}")

    def _confirm_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


class LazyIntegrations(QWidget):
    """The dock's content: builds the IntegrationsPanel the first time the dock is shown (or `panel()` asks).

    The dock starts behind Accounts, and its cards, chips and two tab views were the costliest part of
    opening the window (160-220 ms of the GUI thread, a third of it) for a tab most starts never open."""

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("integrationsHolder")
        self._args = ctx, services
        self._panel: IntegrationsPanel | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

    @property
    def built(self) -> bool:
        return self._panel is not None

    def panel(self) -> IntegrationsPanel:
        """The panel, built (and loading) now if it was not yet."""
        if self._panel is None:
            self._panel = IntegrationsPanel(*self._args, parent=self)
            layout = self.layout()
            assert layout is not None
            layout.addWidget(self._panel)
        return self._panel

    def refresh(self) -> None:
        """Reload the cards, once built (building loads them)."""
        if self._panel is not None:
            self._panel.refresh()


def integrations_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    holder = LazyIntegrations(ctx, services)
    dock = make_dock("Integrations", holder)
    dock.content = holder  # type: ignore[attr-defined]
    dock.visibilityChanged.connect(lambda visible: visible and holder.panel())
    return dock
