"""`GatewayService`: the local metering gateway as a runtime service, started from the settings (off by default)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from aicost_desktop.accounts import get_account
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.gateway.config import PROVIDERS, GatewayConfig
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.jobs import Jobs

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.gateway.host import GatewayHost

log = logging.getLogger("aicost.runtime.gateway")
RECENT = 20


@dataclass(frozen=True)
class GatewayOptions:
    """What one start takes instead of the settings (the `aicost gateway` flags). `port` None keeps the
    setting (0 picks a free port); `inject` maps a provider to an account name, '' passing the client's key."""

    host: str = "127.0.0.1"
    port: int | None = None
    upstreams: Mapping[str, str] = field(default_factory=dict)
    inject: Mapping[str, str] = field(default_factory=dict)


class GatewayService:
    """Starts and stops one `GatewayHost` over the app's ledger, catalog, keychain and settings.

    The GUI's toggle and `Runtime.start` use `want(on)`: the start or stop runs on a job (binding, the
    keychain and the first budget read stay off the caller's thread) and the last wish wins. The CLI
    calls `start()` / `stop()` directly. A start that fails leaves the reason in `error`.

    Events (runtime threads):
        call_recorded(call): a metered call's row is in the ledger (the gateway's writer thread). `call`
            is a dict: at, provider, endpoint, model, status, tokens, cost (exact string or None when
            unpriced), latency_ms, project, cancelled; `recent()` lists the last ones.
        state_changed(): started, stopped, failed to start, or the budgets that block changed (`blocking()`).
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs | None = None, *, options: GatewayOptions | None = None,
                 budget_refresh_seconds: float = 5.0) -> None:
        self.ctx, self.jobs = ctx, jobs
        self.options = options or GatewayOptions()
        self.call_recorded: Event[[dict[str, Any]]] = Event("gateway.call_recorded")
        self.state_changed: Event[[]] = Event("gateway.state_changed")
        self._refresh = budget_refresh_seconds
        self._lock = threading.RLock()  # one start or stop at a time
        self._host: "GatewayHost | None" = None
        self._want = False
        self._closed = False
        self._blocking: tuple[str, ...] = ()
        self.error: str | None = None

    # -- what the GUI and the CLI read ---------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """The `gateway_enabled` setting: the gateway runs whenever the app runs."""
        return bool(self.ctx.settings.get("gateway_enabled"))

    @property
    def running(self) -> bool:
        host = self._host
        return host is not None and host.running

    @property
    def base_url(self) -> str | None:
        """`http://127.0.0.1:PORT` while running."""
        host = self._host
        return host.base_url if host is not None and host.running else None

    @property
    def host(self) -> "GatewayHost | None":
        """The server of the last start (kept after a stop: its counts and recent calls stay readable)."""
        return self._host

    @property
    def written(self) -> int:
        """Rows the last start wrote to the ledger."""
        host = self._host
        return host.writer.written if host is not None else 0

    def blocking(self) -> list[str]:
        """Names of the block budgets refusing calls now (empty while stopped)."""
        host = self._host
        return host.blocking() if host is not None and host.running else []

    def recent(self, limit: int = RECENT) -> list[dict[str, Any]]:
        """The last calls, newest first (see `call_recorded`)."""
        host = self._host
        if host is None or host.state is None:
            return []
        calls = list(host.state.recent)
        return calls[::-1][:limit]

    # -- switching ---------------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        """Save the setting and start or stop to match (the settings dialog's and tray's toggle)."""
        self.ctx.settings.set("gateway_enabled", bool(on))
        self.want(on)

    def want(self, on: bool) -> None:
        """Run (True) or not: done on a job when the service has one, else now. Never raises; see `error`."""
        with self._lock:
            if self._closed:
                return
            self._want = bool(on)
        if self.jobs is None:
            self._apply()
        else:
            self.jobs.submit(self._apply, name="gateway on" if on else "gateway off")

    def _apply(self) -> None:
        with self._lock:
            if self._want and not self._closed and not self.running:
                try:
                    self.start()
                except Exception as exc:  # noqa: BLE001 - a bad setting or a taken port is shown, not raised
                    self.error = str(exc)
                    if isinstance(exc, (InputError, OperationError)):
                        log.warning("gateway not started: %s", exc)
                    else:
                        log.exception("gateway not started")
                    self.state_changed.emit()
            elif not self._want and self.running:
                self.stop()

    def start(self, options: GatewayOptions | None = None) -> None:
        """Bind and serve now; InputError for a bad setting or option (naming it), OperationError when the
        port is taken. Does nothing while running."""
        with self._lock:
            if self._closed:
                raise OperationError("gateway: the app is stopping")
            if self.running:
                return
            # lazy: aiohttp loads here, not with the runtime: the gateway is off by default.
            from aicost_desktop.gateway.analytics_api import analytics_routes
            from aicost_desktop.gateway.host import GatewayHost
            from aicost_desktop.importers.request_pricer import RequestPricer

            cfg = self.config(options)
            ctx = self.ctx
            fx, week_start = ctx.settings.fx_rates(), ctx.settings.get("week_start")
            api = analytics_routes(ctx.db, ctx.tz, fx=fx, week_start=week_start, mode=ctx.settings.get("cost_mode"))
            host = GatewayHost(cfg, db=ctx.db, price=RequestPricer(ctx.catalog.cost_of), secrets=ctx.secrets,
                               tz=ctx.tz, fx=fx, week_start=week_start, extra_routes=api,
                               budget_refresh_seconds=self._refresh, on_recorded=self._recorded,
                               on_budgets=self._budgets_changed)
            host.start()
            self._host, self.error, self._blocking = host, None, tuple(host.blocking())
        self.state_changed.emit()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving and write every queued row. Idempotent."""
        with self._lock:
            host = self._host
            if host is None or not host.running:
                return
            host.stop(timeout)
            self._blocking = ()
        self.state_changed.emit()

    def close(self, timeout: float = 30.0) -> None:
        """Stop for good (`Runtime.stop`): a start still queued on a job does nothing."""
        with self._lock:
            self._closed, self._want = True, False
            self.stop(timeout)

    def reload_budgets(self) -> None:
        """Re-read block budgets soon (one was added, raised or its action changed); does not wait."""
        host = self._host
        if host is not None and host.running:
            host.reload_budgets(wait=None)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every call that went through has its row in the ledger."""
        host = self._host
        return host.flush(timeout) if host is not None else True

    # -- the configuration -------------------------------------------------------------------
    def config(self, options: GatewayOptions | None = None) -> GatewayConfig:
        """The settings with `options` over them; errors name the setting or the flag."""
        o = options or self.options
        settings = self.ctx.settings
        port = settings.get("gateway_port") if o.port is None else o.port
        upstreams = {p: o.upstreams.get(p) or settings.get(f"gateway_upstream_{p}") for p in PROVIDERS}
        inject: dict[str, int] = {}
        for p in PROVIDERS:
            where, name = (f"inject-{p}", o.inject[p]) if p in o.inject else \
                (f"gateway_inject_{p}", settings.get(f"gateway_inject_{p}"))
            if name:
                inject[p] = self._account(where, p, name)
        return GatewayConfig(host=o.host, port=port, upstreams=upstreams, inject_accounts=inject)

    def _account(self, where: str, provider: str, name: str) -> int:
        try:
            acc = get_account(self.ctx.db, name)
        except InputError:
            raise InputError(where, name, "no such account (aicost accounts list)") from None
        if acc.provider != provider:
            raise InputError(where, name,
                             f"holds a {acc.provider} key; the {provider} route needs a {provider} account")
        return acc.id

    # -- the writer thread -------------------------------------------------------------------
    def _recorded(self, calls: Sequence[dict[str, Any]]) -> None:
        for call in calls:
            self.call_recorded.emit(call)

    def _budgets_changed(self) -> None:
        host = self._host
        now = tuple(host.blocking()) if host is not None else ()
        if now != self._blocking:
            self._blocking = now
            log.info("gateway blocking: %s", ", ".join(now) or "none")
            self.state_changed.emit()
