"""Light and dark palettes on the Fusion style, chosen by the `theme` setting (system, light, dark)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

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


def apply_theme(app: QApplication, mode: str = "system") -> str:
    """Fusion style with our light or dark palette; returns the kind applied."""
    kind = resolve(mode)
    app.setStyle("Fusion")
    app.setPalette(palette(kind))
    app.setStyleSheet(STYLESHEET)
    return kind


def app_icon() -> QIcon:
    """The app icon from the packaged resources, or a drawn fallback when they are absent."""
    from importlib import resources

    from PySide6.QtGui import QPainter, QPixmap

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
