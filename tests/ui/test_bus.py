"""LedgerBus: ledger writes from worker threads become few, coalesced GUI-thread signals."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from aicost_desktop.storage import ledger


def test_many_notifications_from_a_thread_coalesce(qtbot, bus):
    hours = [datetime(2025, 1, 1, h, tzinfo=timezone.utc) for h in range(24)]
    emitted: list[int] = []
    bus.ledger_changed.connect(lambda: emitted.append(threading.get_ident()))

    def writer():
        for h in hours:
            for fn in list(ledger._listeners):
                fn({h})

    with qtbot.waitSignal(bus.hours_changed) as blocker:
        t = threading.Thread(target=writer)
        t.start()
        t.join()
    assert blocker.args[0] == set(hours)
    assert emitted == [threading.get_ident()]  # once, on the GUI thread


def test_close_unregisters_listener(qtbot):
    from aicost_desktop.ui.bus import LedgerBus

    before = len(ledger._listeners)
    b = LedgerBus()
    assert len(ledger._listeners) == before + 1
    b.close()
    assert len(ledger._listeners) == before


def test_alert_and_sync_notifications_cross_threads(qtbot, bus):
    with qtbot.waitSignal(bus.alerts_changed):
        threading.Thread(target=bus.notify_alerts_changed).start()
    with qtbot.waitSignal(bus.sync_state_changed):
        threading.Thread(target=bus.notify_sync_state_changed).start()
