"""`AlertService`: budget evaluation and alert delivery after syncs, imports and edits, and on a timer.

Evaluation runs on a runtime job (`budgets.service.run_check`), one at a time: requests during a
run fold into one more run after it. The tray channel exists only while someone listens to
`delivered` (the GUI); a headless host leaves tray deliveries pending for the next GUI. Each run also
routes new alerts to the rules' integration destinations and sends due rule deliveries and scheduled
reports (`integrations.delivery`, `integrations.reports`); a retry due sooner than the timer wakes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable

from aicost_desktop.analytics.report import spend_report
from aicost_desktop.budgets.service import CheckResult, run_check
from aicost_desktop.integrations.delivery import RouteDelivery, delivery_policy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.reports import Spend, SpendReport, reports_next_due, run_due_reports
from aicost_desktop.notify.alerts import pending_acknowledgement
from aicost_desktop.notify.message import render
from aicost_desktop.notify.outbox import CallbackChannel, Channel, Delivery, DispatchResult
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.folding import Folded
from aicost_desktop.runtime.jobs import Cancelled, Jobs
from aicost_desktop.runtime.sync import Ticker
from aicost_desktop.storage.tables import utcnow

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

log = logging.getLogger("aicost.runtime.alerts")
EVALUATE_EVERY_S = 5 * 60.0
MIN_WAKE_S = 5.0  # a retry due "now" still waits this long: no busy loop on a delivery that keeps deferring


def report_spend(ctx: "AppContext") -> Spend:
    """Scheduled reports' numbers: `aicost report --from --to --group-by` with the same settings."""
    def spend(start: date, end: date, group: str) -> SpendReport:
        return spend_report(ctx.db, ctx.tz, start, end, [group], mode=ctx.settings.get("cost_mode"),
                            fx=ctx.settings.fx_rates(), week_start=ctx.settings.get("week_start"))
    return spend


@dataclass
class IntegrationRun:
    routes: DispatchResult
    reports: list[str]
    next_due: datetime | None  # the earliest retry or report still to send


def deliver_integrations(ctx: "AppContext", manager: IntegrationManager) -> IntegrationRun:
    """One pass: route new alerts to the rules' destinations, send due rule deliveries and due scheduled
    reports (after each evaluation of the runtime, and by `aicost check`)."""
    routes = RouteDelivery(ctx.db, ctx.tz, manager)
    sent = routes.run_once()
    reports = run_due_reports(ctx, manager, report_spend(ctx))
    due = [d for d in (routes.next_due(), reports_next_due(ctx)) if d is not None]
    return IntegrationRun(sent, reports, min(due) if due else None)


class AlertService:
    """Evaluates budgets and delivers alerts.

    Events (runtime threads):
        evaluated(CheckResult): an evaluation finished (new alerts raised, deliveries sent).
        delivered(title, text): a tray delivery; the GUI shows it as a notification.
        ack_pending(int): how many alerts wait for acknowledgement (require_ack budgets) changed.
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs, interval_s: float = EVALUATE_EVERY_S,
                 manager_factory: "Callable[[], IntegrationManager] | None" = None) -> None:
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
        self._wake = Ticker(self.evaluate_now, "aicost-alerts-retry")
        self._manager_factory = manager_factory or (
            lambda: IntegrationManager(ctx.db, ctx.secrets, policy=delivery_policy()))
        self._manager: IntegrationManager | None = None

    @property
    def pending_ack(self) -> int:
        return self._pending_ack

    def start(self) -> None:
        """Evaluate now and then every `interval_s`."""
        self.evaluate_now()
        self._ticker.start(int(self.interval_s * 1000))

    def stop(self) -> None:
        self._ticker.close()
        self._wake.close()
        if self._manager is not None:
            self._manager.close()

    def _timer_fired(self) -> None:
        self._ticker.start(int(self.interval_s * 1000))
        self.evaluate_now()

    def evaluate_now(self) -> None:
        """Evaluate budgets and deliver what is due (folded: one run at a time, one more after it); nothing once
        the runtime is stopped (the GUI asks after every ledger change, the last as the app quits)."""
        self._runs.request()

    def _start(self) -> None:
        self.jobs.submit_if_open(self._job, name="evaluate budgets", on_done=self._done, on_error=self._failed)

    def _deliver(self, d: Delivery) -> None:  # job thread
        self.delivered.emit(render(d.alert).title, d.alert.message)

    def _job(self) -> tuple[CheckResult, int, datetime | None]:
        channels: dict[str, Channel] = {"tray": CallbackChannel(self._deliver)} if self.delivered else {}
        res = run_check(self.ctx, channels=channels)
        return res, len(pending_acknowledgement(self.ctx.db)), self._integrations()

    def _integrations(self) -> datetime | None:  # job thread
        """Rule deliveries and scheduled reports; when the next one is due. Never fails the evaluation."""
        try:
            if self._manager is None:
                self._manager = self._manager_factory()
            return deliver_integrations(self.ctx, self._manager).next_due
        except Exception as exc:  # noqa: BLE001 - a broken integration must not stop budget alerts
            log.error("integration deliveries failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
            return None

    def _done(self, result: tuple[CheckResult, int, datetime | None]) -> None:
        res, pending, due = result
        self._set_ack(pending)
        if due is not None:
            wait = max(MIN_WAKE_S, (due - utcnow()).total_seconds())
            if wait < self.interval_s:
                self._wake.start(int(wait * 1000))
        self.evaluated.emit(res)
        self._runs.done()

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Cancelled):
            log.error("budget evaluation failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self._runs.done()  # a failed run still runs the folded one

    def refresh_ack_state(self) -> None:
        """Re-count alerts waiting for acknowledgement (after the user acknowledged some); nothing once
        the runtime is stopped (a window's last queued refresh may arrive while the app quits)."""
        self.jobs.submit_if_open(lambda: len(pending_acknowledgement(self.ctx.db)), name="pending acknowledgements",
                                 on_done=self._set_ack)

    def _set_ack(self, n: int) -> None:
        with self._lock:
            changed, self._pending_ack = n != self._pending_ack, n
        if changed:
            self.ack_pending.emit(n)
