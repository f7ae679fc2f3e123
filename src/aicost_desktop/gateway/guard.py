"""Budgets with the action `block`: admit a request only while period spend plus in-flight reservations is
below the limit, reserving the request's estimated cost until its real cost is known.

Spend per budget = `base` (the ledger's spend for the period when last read) + `pending` (gateway requests
finished but not yet committed) + `reserved` (requests in flight). The ledger writer reports each
commit (pending -> base) and re-reads the ledger on its own thread, so a re-read never counts a row
twice or misses one. A request is refused once the budget is reached, so concurrent requests can
overshoot the limit by at most one request's reservation (the last one admitted below it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from aicost_desktop.budgets.model import list_budgets
from aicost_desktop.budgets.periods import BudgetPeriod, current_period
from aicost_desktop.budgets.spend import Scope, scope_spend
from aicost_desktop.domain.money import ZERO, format_money
from aicost_desktop.gateway.meter import RequestInfo
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import display_names

BLOCK = "block"


@dataclass
class BlockBudget:
    """One `block` budget's live state (money in the budget's currency)."""

    id: int
    name: str
    amount: Decimal
    currency: str
    period_kind: str
    scope: Scope
    period: BudgetPeriod
    base: Decimal = ZERO
    pending: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def spent(self) -> Decimal:
        return self.base + self.pending + self.reserved


@dataclass
class Blocked(Exception):
    """A request refused by a budget; `message` is what the client reads."""

    budget: str
    amount: Decimal
    spent: Decimal
    currency: str
    period: str

    @property
    def message(self) -> str:
        return (f"AI Cost Tracker budget '{self.budget}' reached: {format_money(self.spent, self.currency)} of "
                f"{format_money(self.amount, self.currency)} spent this {_PERIOD_WORD.get(self.period, self.period)} "
                f"(including requests "
                f"in flight). Raise the budget or change its action in AI Cost Tracker to let requests through.")


_PERIOD_WORD = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}


@dataclass
class Admission:
    """A request let through: what it reserved on which budget (in that budget's currency)."""

    charges: list[tuple[int, Decimal]] = field(default_factory=list)
    settled: bool = False


class BudgetGuard:
    """Thread-safe: `admit` and `settle` run on the event loop, `committed` and `reload` on the writer."""

    def __init__(self, db: Database, tz: ZoneInfo, *, fx: dict[str, Decimal] | None = None, week_start: int = 0,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.db, self.tz, self.fx, self.week_start, self.clock = db, tz, fx or {"USD": Decimal(1)}, week_start, clock
        self._lock = threading.Lock()
        self._budgets: dict[int, BlockBudget] = {}
        self._workspace: str | None = None

    # -- the writer thread -------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the block budgets and their period spend from the ledger (rows the gateway has not
        committed yet stay in `pending`)."""
        now = self.clock()
        rows = [b for b in list_budgets(self.db, enabled_only=True) if b.on_exceed == BLOCK]
        names = display_names(self.db)
        workspace = names["workspace"].get(self.db.default_workspace_id())
        fresh: dict[int, BlockBudget] = {}
        for b in rows:
            period = current_period(b.period, now, self.tz, self.week_start)
            scope = Scope(b.scope_kind, b.scope_value)
            base = scope_spend(self.db, self.tz, period.first, period.last, scope, b.currency, self.fx).cost
            fresh[b.id] = BlockBudget(b.id, b.name, b.amount, b.currency, b.period, scope, period, base)
        with self._lock:
            for bid, nb in fresh.items():
                old = self._budgets.get(bid)
                if old is not None and old.period == nb.period:
                    nb.pending, nb.reserved = old.pending, old.reserved
            self._budgets, self._workspace = fresh, workspace

    def committed(self, charges: Iterable[list[tuple[int, Decimal]]]) -> None:
        """Rows with these settled charges are in the ledger now: move them from pending to base."""
        with self._lock:
            for rows in charges:
                for bid, amount in rows:
                    b = self._budgets.get(bid)
                    if b is not None:
                        b.pending -= amount
                        b.base += amount

    # -- the event loop ----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        with self._lock:
            return bool(self._budgets)

    def blocking(self) -> list[str]:
        """Names of the budgets that refuse requests right now (for the tray and status)."""
        with self._lock:
            return [b.name for b in self._budgets.values() if b.spent >= b.amount]

    def _matches(self, b: BlockBudget, info: RequestInfo) -> bool:
        kind, value = b.scope.kind, b.scope.value
        if kind == "all":
            return True
        return {"provider": info.provider, "model": info.model, "project": info.project, "source": "proxy",
                "account": info.account_name, "workspace": self._workspace}.get(kind) == value

    def _to(self, b: BlockBudget, usd: Decimal) -> Decimal:
        if b.currency == "USD":
            return usd
        return usd * self.fx.get("USD", Decimal(1)) / self.fx.get(b.currency, Decimal(1))

    def admit(self, info: RequestInfo, estimate_usd: Decimal) -> Admission:
        """Reserve `estimate_usd` on every matching budget, or raise Blocked naming the first one reached."""
        now = self.clock()
        with self._lock:
            matching = [b for b in self._budgets.values() if self._matches(b, info)]
            for b in matching:
                if not b.period.contains(now):  # a new period began: its spend starts afresh until re-read
                    b.period = current_period(b.period_kind, now, self.tz, self.week_start)
                    b.base = b.pending = ZERO
                if b.spent >= b.amount:
                    raise Blocked(b.name, b.amount, b.spent, b.currency, b.period_kind)
            adm = Admission()
            for b in matching:
                est = self._to(b, estimate_usd)
                b.reserved += est
                adm.charges.append((b.id, est))
            return adm

    def settle(self, adm: Admission, cost_usd: Decimal | None) -> list[tuple[int, Decimal]]:
        """The request finished: drop its reservation and count its real cost as pending until committed."""
        out: list[tuple[int, Decimal]] = []
        with self._lock:
            if adm.settled:
                return out
            adm.settled = True
            for bid, est in adm.charges:
                b = self._budgets.get(bid)
                if b is None:
                    continue
                b.reserved -= est
                if cost_usd:
                    amount = self._to(b, cost_usd)
                    b.pending += amount
                    out.append((bid, amount))
        return out

    def snapshot(self) -> list[BlockBudget]:
        with self._lock:
            return [BlockBudget(**{k: getattr(b, k) for k in BlockBudget.__dataclass_fields__})
                    for b in self._budgets.values()]
