"""`Recorder`: collects runtime events from any thread and lets a test wait on a condition over them."""

from __future__ import annotations

import threading
from typing import Any, Callable

from aicost_desktop.runtime.events import Event


class Recorder:
    """`rec.listen(event, "name")` records (name, *args) tuples; `rec.wait(pred)` waits until pred(rec) holds."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: list[tuple[Any, ...]] = []

    def listen(self, event: Event[Any], name: str) -> None:
        event.connect(lambda *args: self.add(name, *args))

    def add(self, name: str, *args: Any) -> None:
        with self.cond:
            self.events.append((name, *args))
            self.cond.notify_all()

    def of(self, name: str) -> list[tuple[Any, ...]]:
        with self.cond:
            return [e[1:] for e in self.events if e[0] == name]

    def names(self) -> list[str]:
        with self.cond:
            return [e[0] for e in self.events]

    def wait(self, pred: Callable[["Recorder"], bool], timeout: float = 15.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: pred(self), timeout):
                raise AssertionError(f"timed out; events so far: {[e[0] for e in self.events]}")
