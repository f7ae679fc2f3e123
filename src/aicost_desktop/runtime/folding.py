"""`Folded`: the one refresh-after-change policy (one run in flight, requests meanwhile fold into one more)."""

from __future__ import annotations

import threading
from typing import Callable


class Folded:
    """At most one run of `start` in flight; any number of requests during it fold into exactly one more
    run after it, whether it succeeded or failed (a failed load must not lose the change that came in).

        runs = Folded(start)   # start() launches the job, which calls runs.done() when it ends
        runs.request()         # after a change
        runs.done()            # from the job's success *and* failure path: True when a folded run started

    Thread-safe: `request` and `done` may come from any thread; `start` is called outside the lock.
    """

    def __init__(self, start: Callable[[], object]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def pending(self) -> bool:
        """A request arrived during the running load (one more run follows it)."""
        return self._again

    def request(self) -> bool:
        """Start a run now (True) or fold this request into the one after the running run (False)."""
        with self._lock:
            if self._running:
                self._again = True
                return False
            self._running = True
        self._launch()
        return True

    def done(self) -> bool:
        """Mark the running run finished (success or failure); starts the folded one and returns True if
        a request came in meanwhile."""
        with self._lock:
            if not self._again:
                self._running = False
                return False
            self._again = False  # still running: the folded run takes the slot at once
        self._launch()
        return True

    def _launch(self) -> None:
        try:
            self._start()
        except BaseException:
            # A start that raised never calls done(): free the slot so the next request can run.
            with self._lock:
                self._running = False
                self._again = False
            raise
