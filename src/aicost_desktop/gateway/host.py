"""GatewayHost: the gateway's server on its own event-loop thread, startable and stoppable from any thread.

The CLI runs it in the foreground, the GUI and a headless service start it beside their own loop;
nothing here touches Qt. Rows go to the ledger through one writer thread; budgets are re-read there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from aiohttp import web

from aicost_desktop.accounts import account_key
from aicost_desktop.domain.errors import OperationError
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.gateway import token as tokens
from aicost_desktop.gateway.config import GatewayConfig
from aicost_desktop.gateway.guard import BudgetGuard
from aicost_desktop.gateway.meter import Pricer
from aicost_desktop.gateway.proxy import GatewayState, Proxy
from aicost_desktop.gateway.writer import Item, LedgerWriter
from aicost_desktop.manual import materialize
from aicost_desktop.secrets import SecretStore
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account

log = logging.getLogger("aicost.gateway")
START_TIMEOUT = 30.0


class GatewayHost:
    """`start()` binds (raising OperationError if it cannot), `stop()` drains and writes every row.

    `price` is the catalog's Pricer (`PriceCatalog.cost_of`, or importers' RequestPricer over it).
    `extra_routes(app)` lets the analytics API add its routes on the same server and token.
    On the writer thread: `on_recorded(calls)` after each committed batch (the calls as kept in
    `state.recent`), `on_budgets()` after each commit and budget re-read (what `blocking()` says may change).
    """

    def __init__(self, config: GatewayConfig, *, db: Database, price: Pricer, secrets: SecretStore,
                 tz: ZoneInfo, fx: dict[str, Decimal] | None = None, week_start: int = 0,
                 enforce: bool = True, token: str | None = None,
                 extra_routes: Callable[[web.Application, GatewayState], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 budget_refresh_seconds: float = 5.0,
                 on_recorded: Callable[[Sequence[dict[str, Any]]], None] | None = None,
                 on_budgets: Callable[[], None] | None = None) -> None:
        self.config, self.db, self.secrets = config, db, secrets
        self.guard = BudgetGuard(db, tz, fx=fx, week_start=week_start, clock=clock) if enforce else None
        self._on_recorded, self._on_budgets = on_recorded, on_budgets
        self.writer = LedgerWriter(db, on_committed=self._committed, idle=self._reload,
                                   idle_seconds=budget_refresh_seconds)
        self._price, self._token, self._extra, self._clock = price, token, extra_routes, clock
        self._tz = tz
        self._charged_day: date | None = None  # the user's day whose due subscription charges are written
        self.state: GatewayState | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        token = self._token or tokens.load_or_create(self.secrets)
        keys, accounts = self._injected_keys()
        self._charge_due()
        if self.guard is not None:
            self.guard.reload()
        self.state = GatewayState(self.config, token, self._price, self.guard, self._submit, keys, accounts,
                                  clock=self._clock, settle=self.writer.flush)
        self.writer.start()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="gateway-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise OperationError("gateway: the server did not start in time")
        err = self._failure()
        if err is not None:
            self._thread.join(5)
            self._thread = None
            self.writer.stop()
            raise OperationError(f"gateway: cannot listen on {self.config.host}:{self.config.port}: {err}") from err
        log.info("gateway listening on %s", self.base_url)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving (in-flight requests get a few seconds), then write every queued row."""
        loop, thread = self._loop, self._thread
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self.writer.stop(timeout)
        log.info("gateway stopped")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        return self.config.base_url(self.port)

    @property
    def token(self) -> str | None:
        return self.state.token if self.state else None

    def reload_budgets(self, wait: float | None = 10.0) -> None:
        """Re-read block budgets now (a budget raised or its action changed); runs on the writer thread."""
        if self.guard is not None:
            self.writer.call(self._reload, wait=wait)

    def blocking(self) -> list[str]:
        """Names of the block budgets refusing calls right now."""
        return self.guard.blocking() if self.guard is not None else []

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every request that got through has its row in the ledger."""
        if self.state is not None and not self.state.wait_idle(timeout):
            return False
        return self.writer.flush(timeout)

    # -- internals ---------------------------------------------------------------------------
    def _failure(self) -> BaseException | None:
        """The server thread's start-up error (set on that thread before `_ready`)."""
        return self._error

    def _injected_keys(self) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
        keys: dict[str, str] = {}
        accounts: dict[str, tuple[int, str]] = {}
        for provider, account_id in self.config.inject_accounts.items():
            with self.db.session() as s:
                acc = s.get(Account, account_id)
                name = acc.name if acc else None
            if name is None:
                raise OperationError(f"gateway: no account {account_id} to take the {provider} key from")
            keys[provider] = account_key(self.db, self.secrets, account_id)  # registered with the redactor
            accounts[provider] = (account_id, name)
        return keys, accounts

    def _submit(self, record: UsageRecord, charges: list[tuple[int, Decimal]], call: dict[str, Any]) -> None:
        self.writer.put(record, charges, call)

    def _committed(self, items: Sequence[Item]) -> None:
        if self.guard is not None:
            self.guard.committed([i.after for i in items if i.after])
        if self._on_recorded is not None:
            self._on_recorded([i.call for i in items if i.call is not None])
        if self._on_budgets is not None:
            self._on_budgets()

    def _reload(self) -> None:  # the writer thread, every few seconds
        self._charge_due()
        if self.guard is None:
            return
        self.guard.reload()
        if self._on_budgets is not None:
            self._on_budgets()

    def _charge_due(self) -> None:
        """Write the subscription charges that fell due, once per day of the user's: a gateway runs for
        weeks, and a renewal during the run counts in the budgets it enforces (and the spend its API
        reports) from the day it falls due, not from the next start."""
        today = self._clock().astimezone(self._tz).date()
        if today == self._charged_day:
            return
        try:
            materialize(self.db, today=today)
        except Exception:  # noqa: BLE001 - a locked or full ledger: tried again at the next re-read
            log.exception("gateway: could not write the subscription charges due by %s", today)
            return
        self._charged_day = today

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _serve(self) -> None:
        assert self.state is not None
        proxy = Proxy(self.state)
        app = proxy.app()
        if self._extra is not None:
            self._extra(app, self.state)
        # No access log: request lines are the user's business, and nothing that could hold a key is logged.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port, backlog=1024)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server: Any = site._server  # the bound socket tells the port when 0 asked for any free one
        self.port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
