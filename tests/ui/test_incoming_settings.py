"""Settings › Webhooks: the incoming-webhook listener's on/off and port round-trip (port 80 refused, marked), and the
main window's saved settings start it on 127.0.0.1 and stop it again."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import httpx

from aicost_desktop.ui.dialogs.settings import SettingsDialog


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_webhooks_tab_round_trips_and_refuses_port_80(qtbot: Any, ctx: Any) -> None:
    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    tabs = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
    assert tabs[-2:] == ["Webhooks", "Gateway"]
    assert not dlg.incoming_enabled.isChecked() and dlg.incoming_port.text() == "8789"  # off by default
    dlg.tabs.setCurrentIndex(tabs.index("Webhooks"))
    dlg.incoming_port.clear()
    qtbot.keyClicks(dlg.incoming_port, "80")
    dlg.incoming_enabled.setChecked(True)
    dlg.accept()
    assert dlg.result() == 0 and dlg.error.text() == \
        "Webhooks › Port: must be a port number 1024..65535 (incoming_webhooks_port)"
    assert dlg.incoming_port.property("invalid") is True and not ctx.settings.get("incoming_webhooks_enabled")
    if os.environ.get("AICOST_SCREENSHOTS"):
        dlg.resize(640, 420)
        dlg.show()
        dlg.grab().save(os.path.join(os.environ["AICOST_SCREENSHOTS"], "settings-webhooks.png"))
    dlg.incoming_port.clear()
    qtbot.keyClicks(dlg.incoming_port, "9876")
    assert dlg.incoming_port.property("invalid") is False  # typing clears the mark
    with qtbot.waitSignal(dlg.settings_changed, timeout=1000) as changed:
        dlg.accept()
    assert set(changed.args[0]) == {"incoming_webhooks_enabled", "incoming_webhooks_port"}
    assert (ctx.settings.get("incoming_webhooks_enabled"), ctx.settings.get("incoming_webhooks_port")) == (True, 9876)


def test_saved_settings_start_and_stop_the_listener_through_the_main_window(qtbot: Any, ctx: Any,
                                                                            make_window: Any) -> None:
    w = make_window()
    incoming = w.runtime.incoming
    assert not incoming.running
    changed = threading.Event()
    incoming.state_changed.connect(changed.set)
    port = _free_port()
    ctx.settings.set("incoming_webhooks_port", port)  # what the dialog saved
    ctx.settings.set("incoming_webhooks_enabled", True)
    w._settings_changed(["incoming_webhooks_enabled", "incoming_webhooks_port"])  # the dialog's signal's slot
    qtbot.waitUntil(lambda: incoming.running, timeout=10_000)
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json()["service"] == "AI Cost Tracker incoming webhooks"
    ctx.settings.set("incoming_webhooks_enabled", False)
    w._settings_changed(["incoming_webhooks_enabled"])
    qtbot.waitUntil(lambda: not incoming.running, timeout=10_000)
