"""`Event`: listeners called from any thread; the runtime reports through these, the GUI adapts them to signals."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, ParamSpec

P = ParamSpec("P")
log = logging.getLogger("aicost.runtime")


class Event(Generic[P]):
    """A named list of listeners. `emit` calls each on the emitting thread (a runtime worker), so a
    listener must not touch widgets: the GUI connects a Qt signal's `emit`, which queues to its thread.
    A failing listener is logged and never stops the others or the job that emitted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._listeners: list[Callable[P, Any]] = []

    def connect(self, fn: Callable[P, Any]) -> Callable[[], None]:
        """Add a listener; returns the function that removes it again."""
        with self._lock:
            self._listeners.append(fn)
        return lambda: self.disconnect(fn)

    def disconnect(self, fn: Callable[P, Any]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def __bool__(self) -> bool:
        """True while anyone listens (e.g. the tray channel exists only while a GUI listens to deliveries)."""
        with self._lock:
            return bool(self._listeners)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - a listener's bug must not break the job reporting to it
                log.exception("listener of %s failed", self.name)
