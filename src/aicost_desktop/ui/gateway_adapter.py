"""GatewayAdapter: the Qt face of the runtime's `GatewayService` (its events as signals on the GUI thread).

The runtime starts, stops and meters; this adapter only relays. `call_recorded` fires on the gateway's
writer thread, `state_changed` on a job or the writer: both post to a private signal, so every public
signal is emitted on the GUI thread, and a recorded call tells the `LedgerBus` the ledger changed (the
Cost tracker's table, the cards and the tray reload through their usual refresh policy).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable

from PySide6.QtCore import QObject, Signal, Slot

if TYPE_CHECKING:
    from aicost_desktop.runtime.gateway import GatewayService
    from aicost_desktop.runtime.jobs import Jobs
    from aicost_desktop.ui.bus import LedgerBus

log = logging.getLogger("aicost.ui.gateway")
# Settings whose change needs a running gateway restarted (enabled is the toggle itself).
RESTART_KEYS = ("gateway_port", "gateway_upstream_openai", "gateway_upstream_anthropic",
                "gateway_inject_openai", "gateway_inject_anthropic")


class GatewayAdapter(QObject):
    """Relays the gateway service; reads (`running`, `base_url`, `error`, `blocking()`, `recent()`) go through.

    Signals (GUI thread):
        call_recorded(object): a metered call's row is in the ledger (the call dict of `GatewayService`).
        state_changed(): started, stopped, failed to start, or the blocking budgets changed.
    """

    call_recorded = Signal(object)
    state_changed = Signal()
    _posted = Signal(str, object)

    def __init__(self, service: "GatewayService", bus: "LedgerBus | None" = None, jobs: "Jobs | None" = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.bus, self.jobs = service, bus, jobs
        self._posted.connect(self._deliver)
        self._disconnect: list[Callable[[], None]] = [
            service.call_recorded.connect(self._poster("call_recorded")),
            service.state_changed.connect(self._poster("state_changed")),
        ]

    def _poster(self, name: str) -> Callable[..., None]:
        def post(*args: Any) -> None:
            try:
                self._posted.emit(name, args)
            except RuntimeError:  # the adapter was destroyed while the gateway still reports
                log.debug("gateway event %s after the adapter was destroyed", name)
        return post

    @Slot(str, object)
    def _deliver(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "call_recorded":
            self.call_recorded.emit(*args)
            if self.bus is not None:
                self.bus.notify_ledger_changed()
        else:
            self.state_changed.emit()

    # -- what the GUI reads (cheap: no I/O) -----------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.service.enabled

    @property
    def running(self) -> bool:
        return self.service.running

    @property
    def base_url(self) -> str | None:
        return self.service.base_url

    @property
    def error(self) -> str | None:
        return self.service.error

    def blocking(self) -> list[str]:
        return self.service.blocking()

    def recent(self, limit: int = 8) -> list[dict[str, Any]]:
        return self.service.recent(limit)

    def status_text(self) -> str:
        """'Gateway: on at http://127.0.0.1:8788', 'Gateway: off', 'Gateway: not started: <why>', 'Gateway: starting…'."""
        url = self.base_url
        if url is not None:
            return f"Gateway: on at {url}"
        if self.error:
            return f"Gateway: not started: {self.error}"
        return "Gateway: starting…" if self.enabled else "Gateway: off"

    # -- commands (never block the GUI thread: the service starts and stops on a job) ---------
    def set_enabled(self, on: bool) -> None:
        self.service.set_enabled(on)

    def settings_changed(self, keys: Iterable[str]) -> None:
        """After the settings dialog saved `keys`: follow `gateway_enabled`, restart a running gateway whose
        port, upstreams or keys changed."""
        keys, service = set(keys), self.service
        if not service.enabled:
            if "gateway_enabled" in keys:
                service.want(False)
            return
        if "gateway_enabled" in keys or not service.running:
            if "gateway_enabled" in keys or keys & set(RESTART_KEYS):
                service.want(True)  # switched on, or a new port after the old one was taken
            return
        if keys & set(RESTART_KEYS):
            def restart() -> None:  # a job: stopping waits for the queued rows
                service.stop()
                service.want(True)

            if self.jobs is not None:
                self.jobs.submit(restart, name="gateway restart")
            else:
                restart()

    def close(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect = []
