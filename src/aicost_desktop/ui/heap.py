"""The desktop process's garbage-collector policy: no collections while startup builds its long-lived objects,
then those objects frozen out of every later collection.

Startup imports Qt, pyqtgraph, SQLAlchemy and builds the window: ~150,000 objects that live as long as the
process. Collecting while they are made finds nothing and costs ~10 % of startup; scanning them on every
later collection makes each refresh's young garbage slower to collect, on the GUI thread as on the workers.
Only cyclic garbage among the frozen objects is never collected; anything whose last reference goes is
still freed at once.

    with startup_heap() as settle:
        window = build_window()
        window.show()
        settle()          # startup's objects frozen, collections back on
        app.exec()
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def startup_heap() -> Iterator[Callable[[], None]]:
    """Collections off until `settle()` (or the block's end, if startup failed first), then what exists is
    frozen and collections are as the caller had them. Frozen objects stay frozen when the block ends: a
    caller running the app in-process (a test) freezes its own heap the same way after each test."""
    enabled = gc.isenabled()
    gc.disable()
    settled = False

    def settle() -> None:
        nonlocal settled
        if not settled:
            settled = True
            gc.freeze()
            if enabled:
                gc.enable()

    try:
        yield settle
    finally:
        settle()
