"""Marketplace pieces: an integration's card (monogram icon, name, description, status badge, actions) and the
grid that reflows cards with the dock's width. Colours come from the palette (tints of the window colour)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPalette, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QLayout, QLayoutItem,
                               QPushButton, QSizePolicy, QVBoxLayout, QWidget, QWidgetItem)

R = QPalette.ColorRole
CARD_MIN_WIDTH = 300  # four buttons side by side; the grid fits as many columns of this as the width allows
CARD_SPACING = 8
# Hues only ever tint the window colour (text stays the palette's), so light and dark read alike.
CATEGORY_HUES = {"messaging": "#7b4fd6", "email_sms": "#c2570c", "dev_tools": "#2f6fdb",
                 "docs_sheets": "#13866f", "payments": "#c0357a"}
STATUS_HUES = {"connected": "#2e9d4f", "error": "#d32f2f", "not_connected": ""}
STATUS_TEXT = {"connected": "Connected", "error": "Error", "not_connected": "Not connected"}


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`t` of the way from a to b."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def error_color(pal: QPalette) -> QColor:
    """A red that keeps its contrast on the light and the dark window colour (text mixed towards red)."""
    return mix(pal.color(R.WindowText), QColor("#d32f2f"), 0.7)


def success_color(pal: QPalette) -> QColor:
    return mix(pal.color(R.WindowText), QColor("#2e9d4f"), 0.7)


def monogram(name: str, category: str, pal: QPalette, size: int = 32) -> QPixmap:
    """The service's initial on a rounded square tinted by its category (no brand artwork is bundled)."""
    hue = QColor(CATEGORY_HUES.get(category, "#5b6472"))
    window = pal.color(R.Window)
    ratio = 2.0  # drawn at 2x so it stays crisp on high-DPI screens
    pm = QPixmap(int(size * ratio), int(size * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(mix(window, hue, 0.75), 1.2))
    p.setBrush(mix(window, hue, 0.28))
    p.drawRoundedRect(QRectF(0.6, 0.6, size - 1.2, size - 1.2), size * 0.22, size * 0.22)
    font = p.font()
    font.setPixelSize(int(size * 0.5))
    font.setBold(True)
    p.setFont(font)
    p.setPen(pal.color(R.WindowText))
    p.drawText(QRect(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, (name[:1] or "?").upper())
    p.end()
    return pm


def monogram_icon(name: str, category: str, pal: QPalette) -> QIcon:
    return QIcon(monogram(name, category, pal, 32))


def wrapping_policy() -> QSizePolicy:
    """For wrapped text in a card: any width (the card decides), the height that width needs."""
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)  # replacing a word-wrapped label's policy drops this flag
    return policy


def link_look(button: QPushButton) -> None:
    """A flat button whose text has the palette's link colour (reads as "open a page", in both themes)."""
    pal = button.palette()
    pal.setColor(R.ButtonText, button.parentWidget().palette().color(R.Link) if button.parentWidget()
                 else pal.color(R.Link))
    button.setPalette(pal)
    button.setFlat(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)


class StatusBadge(QLabel):
    """A rounded pill saying connected / not connected / error; painted from the current palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBadge")
        self.status = ""
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setContentsMargins(8, 2, 8, 2)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_status("")

    def set_status(self, status: str) -> None:
        self.status = status
        self.setText(STATUS_TEXT.get(status, "…"))
        self.setToolTip("" if status else "Checking…")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        pal = self.palette()
        window = pal.color(R.Window)
        hue = STATUS_HUES.get(self.status, "")
        fill = mix(window, QColor(hue), 0.25) if hue else pal.color(R.AlternateBase)
        border = mix(window, QColor(hue), 0.75) if hue else pal.color(R.Mid)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(border, 1.0))
        p.setBrush(fill)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        p.end()
        super().paintEvent(event)


class Spinner(QWidget):
    """A small rotating arc in the highlight colour; runs only while shown."""

    def __init__(self, parent: QWidget | None = None, size: int = 16) -> None:
        super().__init__(parent)
        self.setObjectName("spinner")
        self.setFixedSize(size, size)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self._step)
        self.hide()

    def _step(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: Any) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(R.Highlight), 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        p.drawArc(r, -self._angle * 16, 270 * 16)
        p.end()


class ElidedLabel(QLabel):
    """One line of text cut with an ellipsis to the label's width; the whole text in the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(20, self.width())
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class IntegrationCard(QFrame):
    """One integration: icon, name, category, description, badge, connection line, inline result and actions.

    Signals:
        connect_requested(str): Connect was clicked (the spec id).
        test_requested(str, str): Test was clicked (spec id, connection name).
        disconnect_requested(str, str): Disconnect was clicked (spec id, connection name).
        guide_requested(str): Setup guide was clicked (the spec id).
    """

    connect_requested = Signal(str)
    test_requested = Signal(str, str)
    disconnect_requested = Signal(str, str)
    guide_requested = Signal(str)

    def __init__(self, spec: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.kind: str = spec.id
        self.category: str = spec.category.value
        self.status = ""
        self.connections: list[Any] = []
        self.setObjectName(f"card_{spec.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(R.Base)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(4)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.icon = QLabel()
        self.icon.setObjectName("cardIcon")
        self.icon.setFixedSize(32, 32)
        head.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name = QLabel(spec.name)
        self.name.setObjectName("cardName")
        font = self.name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.08)
        self.name.setFont(font)
        names.addWidget(self.name)
        self.category_label = QLabel(spec.category.label)
        self.category_label.setObjectName("cardCategory")
        self.category_label.setForegroundRole(R.PlaceholderText)
        names.addWidget(self.category_label)
        head.addLayout(names, 1)
        self.badge = StatusBadge()
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(head)

        self.description = QLabel(spec.description)
        self.description.setObjectName("cardDescription")
        self.description.setWordWrap(True)
        self.description.setSizePolicy(wrapping_policy())
        lay.addWidget(self.description)

        conn_row = QHBoxLayout()
        conn_row.setSpacing(6)
        self.chooser = QComboBox()  # only when the kind has several connections (the CLI can add more)
        self.chooser.setObjectName("connectionChooser")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.currentIndexChanged.connect(lambda _i: self._show_connection())
        self.chooser.hide()
        conn_row.addWidget(self.chooser)
        self.connection_line = ElidedLabel()
        self.connection_line.setObjectName("connectionLine")
        self.connection_line.setForegroundRole(R.PlaceholderText)
        conn_row.addWidget(self.connection_line, 1)
        lay.addLayout(conn_row)
        # The last rule delivery or report that failed on this card's connections (cleared once one works).
        self.failure = QLabel()
        self.failure.setObjectName("deliveryFailure")
        self.failure.setWordWrap(True)
        self.failure.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failure.setSizePolicy(wrapping_policy())
        self.failure.hide()
        lay.addWidget(self.failure)
        self._failure_status: str | None = None

        result_row = QHBoxLayout()
        result_row.setSpacing(6)
        self.spinner = Spinner()
        result_row.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignTop)
        self.result = QLabel()
        self.result.setObjectName("cardResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setSizePolicy(wrapping_policy())
        self.result.hide()
        result_row.addWidget(self.result, 1)
        lay.addLayout(result_row)
        self._result_ok: bool | None = None

        lay.addStretch(1)  # a card taller than its content (its row's tallest sets the height) keeps it on top
        # The actions wrap onto a second line in a narrow card instead of being cut (a connected card's four
        # buttons need ~370 px in some fonts; three columns of 300 px fit a 1,000 px dock).
        actions = QWidget()
        actions.setObjectName("cardActions")
        buttons = FlowLayout(actions, spacing=6)
        self.connect_button = self._button("Connect", "connectButton", lambda: self.connect_requested.emit(self.kind))
        self.connect_button.setToolTip(f"Connect {spec.name}")
        self.test_button = self._button("Test", "testButton",
                                        lambda: self.test_requested.emit(self.kind, self.current_connection()))
        self.test_button.setToolTip(f"Prove the credential works ({spec.test.request})")
        self.disconnect_button = self._button(
            "Disconnect", "disconnectButton",
            lambda: self.disconnect_requested.emit(self.kind, self.current_connection()))
        self.guide_button = self._button("Setup guide", "guideButton", lambda: self.guide_requested.emit(self.kind))
        self.guide_button.setFlat(True)
        self.guide_button.setToolTip(f"How to get the credential for {spec.name}, scopes, troubleshooting")
        for b in (self.connect_button, self.test_button, self.disconnect_button, self.guide_button):
            buttons.add(b)
        lay.addWidget(actions)
        self._restyle()
        self.set_connections([], None)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setAutoDefault(False)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # -- state ------------------------------------------------------------------------------------
    def set_connections(self, connections: list[Any], status: str | None) -> None:
        """The kind's stored connections (ConnectionRecords) and its card status (None: not loaded yet)."""
        current = self.current_connection()
        self.connections = list(connections)
        self.status = status or ""
        self.badge.set_status(self.status)
        names = [c.name for c in self.connections]
        self.chooser.blockSignals(True)
        self.chooser.clear()
        self.chooser.addItems(names)
        if current in names:
            self.chooser.setCurrentIndex(names.index(current))
        self.chooser.blockSignals(False)
        self.chooser.setVisible(len(names) > 1)
        has = bool(names)
        self.test_button.setVisible(has)
        self.disconnect_button.setVisible(has)
        self.connect_button.setText("Add another" if has else "Connect")
        self._show_connection()
        self._show_failure()

    def set_delivery_failure(self, text: str | None) -> None:
        """A failed delivery on one of the card's connections: the Error badge and the reason (None clears)."""
        self._failure_status = text
        self._show_failure()

    def _show_failure(self) -> None:
        text = self._failure_status if self.connections else None
        self.failure.setText(text or "")
        self.failure.setToolTip(text or "")
        self.failure.setVisible(bool(text))
        status = "error" if text else self.status
        self.badge.set_status(status)
        if text:
            self.badge.setToolTip(text)

    def current_connection(self) -> str:
        if not self.connections:
            return ""
        i = self.chooser.currentIndex()
        return self.connections[i if 0 <= i < len(self.connections) else 0].name

    def _record(self) -> Any:
        name = self.current_connection()
        return next((c for c in self.connections if c.name == name), None)

    def _show_connection(self) -> None:
        rec = self._record()
        if rec is None:
            self.connection_line.set_full_text("")
            self.connection_line.hide()
            return
        label = "" if len(self.connections) > 1 else f"{rec.name}: "
        message = rec.status_message or {"new": "not tested yet", "ok": "connected"}.get(rec.status, rec.status)
        self.connection_line.set_full_text(f"{label}{message}")
        self.connection_line.setForegroundRole(R.WindowText if rec.status == "error" else R.PlaceholderText)
        self.connection_line.show()

    def set_busy(self, text: str) -> None:
        """Spinner and a line saying what runs (the Test and Disconnect buttons wait for it)."""
        self.spinner.show()
        self._set_result(text, None)
        for b in (self.test_button, self.disconnect_button, self.connect_button):
            b.setEnabled(False)

    def set_result(self, ok: bool, text: str) -> None:
        """The outcome of Test / Connect / Disconnect, inline under the description."""
        self.spinner.hide()
        self._set_result(text, ok)
        for b in (self.test_button, self.disconnect_button, self.connect_button):
            b.setEnabled(True)

    def clear_result(self) -> None:
        self.spinner.hide()
        self.result.hide()
        self._result_ok = None

    def _set_result(self, text: str, ok: bool | None) -> None:
        self._result_ok = ok
        self.result.setText(text)
        self.result.setVisible(bool(text))
        self._color_result()

    def result_text(self) -> str:
        return self.result.text() if not self.result.isHidden() else ""

    # -- palette ----------------------------------------------------------------------------------
    def _color_result(self) -> None:
        pal = self.result.palette()
        base = self.palette()
        color = (success_color(base) if self._result_ok else error_color(base) if self._result_ok is False
                 else base.color(R.WindowText))
        pal.setColor(R.WindowText, color)
        self.result.setPalette(pal)

    def _restyle(self) -> None:
        self.icon.setPixmap(monogram(self.spec.name, self.category, self.palette(), 32))
        self._color_result()
        pal = self.failure.palette()
        pal.setColor(R.WindowText, error_color(self.palette()))
        self.failure.setPalette(pal)
        link_look(self.guide_button)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "result"):  # theme switched: redraw
            self._restyle()


class CardGrid(QWidget):
    """Cards in as many equal columns as the width allows (at least CARD_MIN_WIDTH each), each row as tall as
    its tallest card at that width; hidden cards take no cell. Placed by hand: a QGridLayout sizes rows from
    size hints, not from the height wrapped text needs at the column's width, and clipped the descriptions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardGrid")
        self.cards: list[QWidget] = []
        self._columns = 1
        self._height = 0
        self._pending = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def add(self, card: QWidget) -> None:
        self.cards.append(card)
        card.setParent(self)
        card.installEventFilter(self)  # its content changed size (a result line, a second connection)
        card.show()
        self.relayout()

    def columns_for(self, width: int) -> int:
        return max(1, (width + CARD_SPACING) // (CARD_MIN_WIDTH + CARD_SPACING))

    @property
    def columns(self) -> int:
        return self._columns

    def visible_cards(self) -> list[QWidget]:
        return [c for c in self.cards if not c.isHidden()]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Hide) and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self.relayout)
        return False

    def relayout(self) -> None:
        self._pending = False
        width = max(self.width(), CARD_MIN_WIDTH)
        cols = self.columns_for(width)
        cell = (width - (cols - 1) * CARD_SPACING) // cols
        shown = self.visible_cards()
        y = 0
        for start in range(0, len(shown), cols):
            row = shown[start:start + cols]
            height = max(_height_for(c, cell) for c in row)
            for i, card in enumerate(row):
                card.setGeometry(i * (cell + CARD_SPACING), y, cell, height)
            y += height + CARD_SPACING
        self._columns = cols
        total = max(0, y - CARD_SPACING)
        if total != self._height:
            self._height = total
            self.setFixedHeight(total)  # the scroll area scrolls what does not fit

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.relayout()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(CARD_MIN_WIDTH, self._height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(CARD_MIN_WIDTH, self._height)


def _height_for(card: QWidget, width: int) -> int:
    lay = card.layout()
    if lay is not None and lay.hasHeightForWidth():
        return max(lay.totalHeightForWidth(width), lay.totalMinimumSize().height())
    return card.sizeHint().height()


class FlowLayout(QLayout):
    """Widgets left to right, wrapping onto the next line when the width runs out (the filter chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def add(self, widget: QWidget) -> None:
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        """Everything on one line: a parent layout takes its height from the hint's width (not the narrowest)."""
        shown = [i.sizeHint() for i in self._items if not (i.widget() is not None and i.widget().isHidden())]
        m = self.contentsMargins()
        width = sum(h.width() for h in shown) + self.spacing() * max(0, len(shown) - 1)
        height = max((h.height() for h in shown), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        gap = self.spacing()
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line > 0:
                x, y, line = area.x(), y + line + gap, 0
            if move:
                item.setGeometry(QRect(x, y, hint.width(), hint.height()))
            x += hint.width() + gap
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()
