"""Light and dark palettes on the Fusion style (the `theme` setting), banners and line icons drawn from the palette."""

from __future__ import annotations

import gc
import math
from importlib import resources

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

G = QPalette.ColorGroup
R = QPalette.ColorRole

LIGHT = {
    R.Window: "#f4f5f7", R.WindowText: "#1d2026", R.Base: "#ffffff", R.AlternateBase: "#f0f2f5",
    R.ToolTipBase: "#ffffe6", R.ToolTipText: "#1d2026", R.PlaceholderText: "#6b717c", R.Text: "#1d2026",
    R.Button: "#e9ebef", R.ButtonText: "#1d2026", R.BrightText: "#ffffff", R.Highlight: "#2f6fdb",
    R.HighlightedText: "#ffffff", R.Link: "#1f5fc4", R.Mid: "#c3c7ce", R.Midlight: "#dfe2e7",
    R.Dark: "#a0a5ad", R.Shadow: "#6b717c", R.Light: "#ffffff",
}
DARK = {
    R.Window: "#23262d", R.WindowText: "#e6e8eb", R.Base: "#1b1d22", R.AlternateBase: "#262930",
    R.ToolTipBase: "#30343c", R.ToolTipText: "#e6e8eb", R.PlaceholderText: "#9097a1", R.Text: "#e6e8eb",
    R.Button: "#30343c", R.ButtonText: "#e6e8eb", R.BrightText: "#ffffff", R.Highlight: "#3d7be6",
    R.HighlightedText: "#ffffff", R.Link: "#7aa7ff", R.Mid: "#454a54", R.Midlight: "#3a3e47",
    R.Dark: "#15171b", R.Shadow: "#000000", R.Light: "#4a4f59",
}
# Disabled text stays readable (planned integrations, greyed actions): muted, not invisible.
DISABLED = {"light": "#8a8f98", "dark": "#7d838d"}

STYLESHEET = """
QLabel#figureCaption { color: palette(placeholder-text); }
QLabel#emptyDetail { color: palette(placeholder-text); }
QLabel#ledgerFooter { color: palette(placeholder-text); }
QDockWidget::title { padding: 4px 6px; font-weight: 600; }
"""


def is_dark_system() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        return scheme() == Qt.ColorScheme.Dark
    return QGuiApplication.palette().color(R.Window).lightness() < 128


def resolve(mode: str) -> str:
    """'light' or 'dark' for a setting value ('system' follows the desktop)."""
    if mode in ("light", "dark"):
        return mode
    return "dark" if is_dark_system() else "light"


def palette(kind: str) -> QPalette:
    pal = QPalette()
    colors = DARK if kind == "dark" else LIGHT
    for role, color in colors.items():
        pal.setColor(role, QColor(color))
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, QColor(DISABLED[kind]))
    return pal


class AppStyle(QProxyStyle):
    """Fusion, with radio buttons and check boxes ringed in a colour between the window's and its text's.

    Fusion outlines them in a darker shade of the window colour and fills them with the base colour: on
    the dark palette both are near black, so an unchecked radio button was all but invisible.
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,  # noqa: N802
                      widget: QWidget | None = None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        PE = QStyle.PrimitiveElement
        if element not in (PE.PE_IndicatorRadioButton, PE.PE_IndicatorCheckBox):
            return
        pal = option.palette  # type: ignore[attr-defined]
        ring = _mix(pal.color(R.Window), pal.color(R.WindowText), 0.45)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(ring, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)  # type: ignore[attr-defined]
        if element == PE.PE_IndicatorRadioButton:
            side = min(rect.width(), rect.height())
            painter.drawEllipse(QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side))
        else:
            painter.drawRoundedRect(rect, 2, 2)
        painter.restore()


def apply_theme(app: QApplication, mode: str = "system") -> str:
    """Fusion style (AppStyle) with our light or dark palette; returns the kind applied."""
    kind = resolve(mode)
    # Qt restyles every widget here, calling back into Python: a cycle collection in the middle could free
    # a widget left in a reference cycle (a closed dialog) while Qt walks the list. Free them first, then
    # hold the collector until Qt is done.
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    try:
        app.setStyle(AppStyle())
        pal = palette(kind)
        app.setPalette(pal)
        app.setStyleSheet(STYLESHEET + banner_stylesheet(pal))
    finally:
        if collecting:
            gc.enable()
    return kind


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """`t` of the way from a to b."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


BANNER_HUES = {"warning": "#e0a000", "error": "#d32f2f", "info": "#2f6fdb"}


def banner_colors(pal: QPalette, kind: str = "warning") -> tuple[QColor, QColor, QColor]:
    """(background, text, border) of a banner: a tint of the window colour, text in the window's text colour,
    so a banner reads in light and dark alike."""
    hue = QColor(BANNER_HUES.get(kind, BANNER_HUES["warning"]))
    window = pal.color(R.Window)
    return _mix(window, hue, 0.22), pal.color(R.WindowText), _mix(window, hue, 0.7)


def banner_stylesheet(pal: QPalette | None = None) -> str:
    """Rules for QLabel[banner="warning|error|info"] (set the property, not a fixed-colour stylesheet)."""
    pal = pal or QApplication.palette()
    out = []
    for kind in BANNER_HUES:
        bg, fg, border = banner_colors(pal, kind)
        out.append(f'QLabel[banner="{kind}"] {{ background: {bg.name()}; color: {fg.name()}; '
                   f"border: 1px solid {border.name()}; border-radius: 4px; padding: 6px; }}")
    return "\n".join(out) + "\n"


def banner_style(kind: str = "warning", pal: QPalette | None = None) -> str:
    """The same banner as a widget stylesheet, for a label that must carry its own."""
    bg, fg, border = banner_colors(pal or QApplication.palette(), kind)
    return (f"QLabel {{ background: {bg.name()}; color: {fg.name()}; border: 1px solid {border.name()}; "
            "border-radius: 4px; padding: 6px; }")


# -- line icons in the palette's text colour (the style's stock pixmaps are dark-on-dark in the dark theme) --

def _draw(name: str, p: QPainter, s: float) -> None:
    """Draw icon `name` on a 24x24 design grid scaled by `s`; the pen is already set."""
    p.scale(s, s)
    if name == "sync":
        rect = QRectF(4.5, 4.5, 15, 15)
        for start in (30.0, 210.0):  # two arcs, each ending in an arrowhead
            path = QPainterPath()
            path.arcMoveTo(rect, start)
            path.arcTo(rect, start, 140.0)
            p.drawPath(path)
            end = math.radians(start + 140.0)
            tip = QPointF(12 + 7.5 * math.cos(end), 12 - 7.5 * math.sin(end))
            tangent = QPointF(-math.sin(end), -math.cos(end))  # direction of travel (counter-clockwise)
            normal = QPointF(-tangent.y(), tangent.x())
            head = QPainterPath(tip + tangent * 0.5)
            head.lineTo(tip - tangent * 3.5 + normal * 3.0)
            head.moveTo(tip + tangent * 0.5)
            head.lineTo(tip - tangent * 3.5 - normal * 3.0)
            p.drawPath(head)
    elif name == "pause":
        p.setBrush(p.pen().color())
        p.drawRoundedRect(QRectF(7, 5, 3, 14), 1, 1)
        p.drawRoundedRect(QRectF(14, 5, 3, 14), 1, 1)
    elif name == "export":
        path = QPainterPath(QPointF(5, 13))
        path.lineTo(5, 19)
        path.lineTo(19, 19)
        path.lineTo(19, 13)
        path.moveTo(12, 15)
        path.lineTo(12, 4)
        path.moveTo(8, 8)
        path.lineTo(12, 4)
        path.lineTo(16, 8)
        p.drawPath(path)
    elif name == "settings":
        p.drawEllipse(QPointF(12, 12), 3.2, 3.2)
        p.drawEllipse(QPointF(12, 12), 6.5, 6.5)
        for i in range(8):
            a = math.radians(i * 45)
            p.drawLine(QPointF(12 + 6.5 * math.cos(a), 12 + 6.5 * math.sin(a)),
                       QPointF(12 + 9.5 * math.cos(a), 12 + 9.5 * math.sin(a)))
    elif name == "help":
        p.drawEllipse(QPointF(12, 12), 8.5, 8.5)
        path = QPainterPath(QPointF(9.3, 9.6))
        path.cubicTo(9.3, 6.2, 14.8, 6.2, 14.8, 9.6)
        path.cubicTo(14.8, 11.8, 12, 11.6, 12, 14.2)
        p.drawPath(path)
        p.drawPoint(QPointF(12, 17.2))
    else:
        raise KeyError(name)


ICONS = ("sync", "pause", "export", "settings", "help")


def line_icon(name: str, pal: QPalette | None = None) -> QIcon:
    """Icon `name` (ICONS) drawn in the palette's button text colour, its disabled look in the disabled one."""
    pal = pal or QApplication.palette()
    icon = QIcon()
    for mode, group in ((QIcon.Mode.Normal, G.Active), (QIcon.Mode.Disabled, G.Disabled)):
        color = pal.color(group, R.ButtonText)
        for size in (16, 24, 32, 48):
            pm = QPixmap(size, size)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(color, 1.8)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            _draw(name, p, size / 24)
            p.end()
            icon.addPixmap(pm, mode)
    return icon


def app_icon() -> QIcon:
    """The app icon from the packaged resources, or a drawn fallback when they are absent."""
    icon = QIcon()
    try:
        folder = resources.files("aicost_desktop") / "resources" / "icons"
        for size in (16, 24, 32, 48, 64, 128, 256, 512):
            f = folder / f"aicost-desktop-{size}.png"
            if f.is_file():
                icon.addFile(str(f))
    except (ModuleNotFoundError, OSError, TypeError):
        pass
    if icon.isNull():  # resources missing (dev checkout): a plain "$" badge
        pm = QPixmap(64, 64)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor("#2f6fdb"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(2, 2, 60, 60)
        p.setPen(QColor("white"))
        f = p.font()
        f.setPixelSize(40)
        f.setBold(True)
        p.setFont(f)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "$")
        p.end()
        icon = QIcon(pm)
    return icon
