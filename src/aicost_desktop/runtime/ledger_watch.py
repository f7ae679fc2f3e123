"""Telling open views that another process changed the ledger (the CLI, a second window, a teammate's sync)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from aicost_desktop.runtime.events import Event
from aicost_desktop.storage.change_watch import ChangeWatch

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.runtime")

# Views must show an outside change within 2 s: a poll each second leaves room for the reload.
POLL_EVERY_S = 1.0


class LedgerWatchService:
    """Polls the ledger's change marker on its own thread and emits `changed` after an outside commit.

    Events:
        changed(): something was committed by another connection; listeners reload what they show.
    """

    def __init__(self, db: "Database | Callable[[], Database]", interval_s: float = POLL_EVERY_S) -> None:
        self.changed: Event[[]] = Event("ledger.changed")
        self._db = db
        self._interval = interval_s
        self._stop = threading.Event()
        # Set once the first reading is taken: a commit after it is reported (tests wait on it).
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="aicost-ledger-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            watch = ChangeWatch(self._db() if callable(self._db) else self._db)
        except Exception as exc:  # noqa: BLE001 - a ledger we cannot watch still works, just without live refresh
            log.warning("cannot watch the ledger for outside changes: %s", exc)
            return
        try:
            self.ready.set()
            if not watch.active:
                return
            while not self._stop.wait(self._interval):
                if watch.poll():
                    self.changed.emit()
        finally:
            watch.close()

    def stop(self, wait_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_s)
            self._thread = None
