"""`IncomingService`: the incoming-webhook listener as a runtime service, started from the settings (off by default)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.integrations.incoming import (HOST, REVENUE_EVENTS, EventLog, IncomingEvent, IncomingListener,
                                                  Receiver, connection_sources)
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.store import ConnectionStore
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.jobs import Jobs

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

log = logging.getLogger("aicost.runtime.incoming")
RECENT = 50
LOG_NAME = "incoming-webhooks.jsonl"  # in the logs folder: `aicost integrations events` reads it from any process
RESTART_KEYS = ("incoming_webhooks_port",)


@dataclass(frozen=True)
class Revenue:
    """A Stripe connection's revenue (`StripeClient.revenue`: per currency) and when it was read."""

    at: datetime
    by_currency: dict[str, dict[str, Any]]


def event_log(ctx: "AppContext") -> EventLog:
    return EventLog(ctx.paths.logs / LOG_NAME)


class IncomingService:
    """Starts and stops one `IncomingListener` over the app's connections and keychain.

    A Stripe payment event re-reads that connection's revenue on a job (`revenue(name)`); each outcome
    goes to the event log (`aicost integrations events`) and the `received` event. The GUI and
    `Runtime.start` use `want(on)` (on a job, the last wish wins); the CLI calls `start()` / `stop()`.

    Events (runtime threads):
        received(IncomingEvent): a request was accepted, refused or answered as a duplicate.
        revenue_refreshed(str, Revenue): a Stripe connection's revenue was read again after a payment event.
        state_changed(): started, stopped or failed to start (`error`).
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs | None = None, *,
                 manager_factory: "Callable[[], IntegrationManager] | None" = None,
                 clock: "Callable[[], float] | None" = None) -> None:
        self.ctx, self.jobs = ctx, jobs
        self.received: Event[[IncomingEvent]] = Event("incoming.received")
        self.revenue_refreshed: Event[[str, Revenue]] = Event("incoming.revenue_refreshed")
        self.state_changed: Event[[]] = Event("incoming.state_changed")
        self._manager_factory = manager_factory or (lambda: IntegrationManager(ctx.db, ctx.secrets))
        self._clock = clock
        self._lock = threading.RLock()
        self._listener: IncomingListener | None = None
        self._recent: deque[IncomingEvent] = deque(maxlen=RECENT)
        self._revenue: dict[str, Revenue] = {}
        self._want = False
        self._closed = False
        self.error: str | None = None

    # -- what the GUI and the CLI read ---------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """The `incoming_webhooks_enabled` setting: the listener runs whenever the app runs."""
        return bool(self.ctx.settings.get("incoming_webhooks_enabled"))

    @property
    def running(self) -> bool:
        return self._listener is not None and self._listener.running

    @property
    def base_url(self) -> str | None:
        listener = self._listener
        return listener.base_url if listener is not None and listener.running else None

    def recent(self, limit: int = RECENT) -> list[IncomingEvent]:
        """This process's last requests, newest first (`event_log` has every process's)."""
        return list(self._recent)[::-1][:limit]

    def revenue(self, name: str) -> Revenue | None:
        """The revenue a payment event last made us read for Stripe connection `name`."""
        return self._revenue.get(name)

    # -- switching ---------------------------------------------------------------------------
    def want(self, on: bool) -> None:
        """Run (True) or not: on a job when the service has one, else now. Never raises; see `error`."""
        with self._lock:
            if self._closed:
                return
            self._want = bool(on)
        if self.jobs is None:
            self._apply()
        else:
            self.jobs.submit(self._apply, name="incoming webhooks on" if on else "incoming webhooks off")

    def _apply(self) -> None:
        with self._lock:
            if self._want and not self._closed and not self.running:
                try:
                    self.start()
                except (InputError, OperationError) as exc:  # a taken port or a bad setting is shown, not raised
                    self.error = str(exc)
                    log.warning("incoming webhooks not started: %s", exc)
                    self.state_changed.emit()
            elif not self._want and self.running:
                self.stop()

    def settings_changed(self, keys: Iterable[str]) -> None:
        """After the settings dialog saved `keys`: follow the on/off setting, listen again on a new port."""
        keys = set(keys)
        if "incoming_webhooks_enabled" not in keys and not keys & set(RESTART_KEYS):
            return
        if not self.enabled:
            self.want(False)
            return
        if self.running and keys & set(RESTART_KEYS):
            def restart() -> None:
                self.stop()
                self.want(True)

            if self.jobs is not None:
                self.jobs.submit(restart, name="incoming webhooks restart")
                return
            self.stop()
        self.want(True)

    def start(self, port: int | None = None, host: str = HOST) -> None:
        """Listen now on `port` (None: the setting; 0 picks a free one). InputError for a host other than
        127.0.0.1 or a bad port, OperationError when the port is taken. Does nothing while running."""
        with self._lock:
            if self._closed:
                raise OperationError("incoming webhooks: the app is stopping")
            if self.running:
                return
            if port is None:
                port = self.ctx.settings.get("incoming_webhooks_port")
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise InputError("port", port, "must be 0..65535 (0 picks a free port)")
            records = event_log(self.ctx)
            extra = {} if self._clock is None else {"clock": self._clock}
            receiver = Receiver(connection_sources(ConnectionStore(self.ctx.db, self.ctx.secrets)),
                                record=lambda ev: self._record(records, ev), on_event=self._on_event, **extra)
            listener = IncomingListener(receiver, port, host)
            listener.start()
            self._listener, self.error = listener, None
        log.info("incoming webhooks listening on %s", listener.base_url)
        self.state_changed.emit()

    def stop(self) -> None:
        """Stop listening. Idempotent."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is None:
                return
            listener.stop()
        log.info("incoming webhooks stopped")
        self.state_changed.emit()

    def close(self) -> None:
        """Stop for good (`Runtime.stop`): a start still queued on a job does nothing."""
        with self._lock:
            self._closed, self._want = True, False
            self.stop()

    # -- the request threads -----------------------------------------------------------------
    def _record(self, records: EventLog, ev: IncomingEvent) -> None:
        self._recent.append(ev)
        records.append(ev)
        self.received.emit(ev)

    def _on_event(self, ev: IncomingEvent, payload: Any) -> None:
        """A GitHub ping or a Slack handshake needs nothing beyond the reply; a Stripe payment makes the
        revenue figures stale, so they are read again, off the request's thread (Stripe waits for our 200)."""
        if ev.kind != "stripe" or ev.event not in REVENUE_EVENTS:
            return
        if self.jobs is not None:
            self.jobs.submit(self.refresh_revenue, ev.connection, name=f"revenue of {ev.connection}")
        else:
            threading.Thread(target=self.refresh_revenue, args=(ev.connection,), daemon=True,
                             name="aicost-incoming-revenue").start()

    def refresh_revenue(self, name: str, days: int = 30) -> Revenue | None:
        """Read Stripe connection `name`'s revenue of the last `days` again; None (logged) when Stripe refuses."""
        manager = self._manager_factory()
        try:
            data = manager.run(name, "revenue", {"days": days})
        except Exception as exc:  # noqa: BLE001 - a refused key is said in the log and on the card, not raised
            log.warning("revenue of %s not refreshed: %s", name, exc)
            return None
        finally:
            manager.close()
        rev = Revenue(datetime.now(timezone.utc), dict(data))
        self._revenue[name] = rev
        shown = ", ".join(f"{v['net']} {cur} net" for cur, v in sorted(rev.by_currency.items())) or "none"
        log.info("revenue of %s refreshed after a payment event: %s (last %d days)", name, shown, days)
        self.revenue_refreshed.emit(name, rev)
        return rev
