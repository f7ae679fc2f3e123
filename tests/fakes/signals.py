"""Signal set-up for the long-running CLI processes the tests stop with Ctrl-C (SIGINT)."""

from __future__ import annotations

import signal


def ctrl_c_works() -> None:
    """Popen preexec_fn: SIGINT back to its default, as in a terminal. A test run started in the
    background by a non-interactive shell inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so the server under test would not stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
