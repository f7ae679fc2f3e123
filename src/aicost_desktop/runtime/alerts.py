"""`AlertService`: budget evaluation and alert delivery after syncs, imports and edits, and on a timer.

Evaluation runs on a runtime job (`budgets.service.run_check`), one at a time: requests during a
run fold into one more run after it. The tray channel exists only while someone listens to
`delivered` (the GUI); a headless host leaves tray deliveries pending for the next GUI.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from aicost_desktop.budgets.service import CheckResult, run_check
from aicost_desktop.notify.alerts import pending_acknowledgement
from aicost_desktop.notify.message import render
from aicost_desktop.notify.outbox import CallbackChannel, Channel, Delivery
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.folding import Folded
from aicost_desktop.runtime.jobs import Cancelled, Jobs
from aicost_desktop.runtime.sync import Ticker

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

log = logging.getLogger("aicost.runtime.alerts")
EVALUATE_EVERY_S = 5 * 60.0


class AlertService:
    """Evaluates budgets and delivers alerts.

    Events (runtime threads):
        evaluated(CheckResult): an evaluation finished (new alerts raised, deliveries sent).
        delivered(title, text): a tray delivery; the GUI shows it as a notification.
        ack_pending(int): how many alerts wait for acknowledgement (require_ack budgets) changed.
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs, interval_s: float = EVALUATE_EVERY_S) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.interval_s = interval_s
        self.evaluated: Event[[CheckResult]] = Event("alerts.evaluated")
        self.delivered: Event[[str, str]] = Event("alerts.delivered")
        self.ack_pending: Event[[int]] = Event("alerts.ack_pending")
        self._runs = Folded(self._start)
        self._lock = threading.Lock()
        self._pending_ack = 0
        self._ticker = Ticker(self._timer_fired, "aicost-alerts-ticker")

    @property
    def pending_ack(self) -> int:
        return self._pending_ack

    def start(self) -> None:
        """Evaluate now and then every `interval_s`."""
        self.evaluate_now()
        self._ticker.start(int(self.interval_s * 1000))

    def stop(self) -> None:
        self._ticker.close()

    def _timer_fired(self) -> None:
        self._ticker.start(int(self.interval_s * 1000))
        self.evaluate_now()

    def evaluate_now(self) -> None:
        """Evaluate budgets and deliver what is due (folded: one run at a time, one more after it)."""
        self._runs.request()

    def _start(self) -> None:
        self.jobs.submit(self._job, name="evaluate budgets", on_done=self._done, on_error=self._failed)

    def _deliver(self, d: Delivery) -> None:  # job thread
        self.delivered.emit(render(d.alert).title, d.alert.message)

    def _job(self) -> tuple[CheckResult, int]:
        channels: dict[str, Channel] = {"tray": CallbackChannel(self._deliver)} if self.delivered else {}
        res = run_check(self.ctx, channels=channels)
        return res, len(pending_acknowledgement(self.ctx.db))

    def _done(self, result: tuple[CheckResult, int]) -> None:
        res, pending = result
        self._set_ack(pending)
        self.evaluated.emit(res)
        self._runs.done()

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Cancelled):
            log.error("budget evaluation failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self._runs.done()  # a failed run still runs the folded one

    def refresh_ack_state(self) -> None:
        """Re-count alerts waiting for acknowledgement (after the user acknowledged some)."""
        self.jobs.submit(lambda: len(pending_acknowledgement(self.ctx.db)), name="pending acknowledgements",
                         on_done=self._set_ack)

    def _set_ack(self, n: int) -> None:
        with self._lock:
            changed, self._pending_ack = n != self._pending_ack, n
        if changed:
            self.ack_pending.emit(n)
