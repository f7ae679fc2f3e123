"""About: version, price snapshot date, where the data and the log live."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from aicost_desktop import APP_NAME, __version__

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

log = logging.getLogger("aicost.ui.about")


def snapshot_text(ctx: "AppContext") -> str:
    try:
        info = ctx.catalog.snapshot_info
    except Exception as exc:  # catalog unreadable: say so instead of failing the dialog
        log.warning("price catalog unavailable: %s", exc)
        return "unavailable"
    when = info.snapshot_date.isoformat() if getattr(info, "snapshot_date", None) else "unknown date"
    kind = "bundled" if getattr(info, "bundled", True) else "user-installed"
    return f"{when} ({kind}, {getattr(info, 'model_count', '?')} models)"


class AboutDialog(QDialog):
    def __init__(self, ctx: "AppContext", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        rows = [
            ("Version", __version__),
            ("Price snapshot", snapshot_text(ctx)),
            ("Data directory", str(ctx.paths.home)),
            ("Database", ctx.db_url if not ctx.db_url.startswith("sqlite") else str(ctx.paths.database)),
            ("Log file", str(ctx.paths.log_file)),
            ("Time zone", ctx.tz_name),
            ("Qt for Python", pyside_version),
        ]
        body = "".join(f"<tr><td style='padding-right:12px'><b>{html.escape(k)}</b></td>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in rows)
        label = QLabel(f"<h3>{APP_NAME}</h3><p>One local ledger for all your AI spend.</p><table>{body}</table>")
        label.setObjectName("aboutText")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = label.text()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(label)
        lay.addWidget(buttons)
