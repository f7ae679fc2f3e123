"""The Cost tracker's budget card: usage vs budget, current cost, tokens, cost by model, Set budget / View details."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from aicost_desktop.budgets.spend import Scope, scope_spend
from aicost_desktop.budgets.service import context_statuses
from aicost_desktop.budgets.periods import current_period
from aicost_desktop.domain.money import fmt_money, format_money
from aicost_desktop.storage.tables import utcnow
from aicost_desktop.ui.models.budget_model import STATE_STYLE
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.budgets.engine import BudgetStatus
    from aicost_desktop.ui.services import Services


@dataclass
class CardData:
    """What the card shows: the main budget's status, or this month's spend when there is no budget."""

    status: "BudgetStatus | None"
    cost: Decimal = Decimal(0)
    tokens: int = 0
    by_model: dict[str, Decimal] = field(default_factory=dict)
    currency: str = "USD"


def load_card(ctx: Any, now: datetime | None = None) -> CardData:
    """Pick the main budget (scope everything first, then the first by name); worker thread."""
    sts = context_statuses(ctx, now)
    if sts:
        main = sorted(sts, key=lambda s: (s.scope.kind != "all", s.period.kind != "monthly", s.name.lower()))[0]
        return CardData(main, main.spent, main.tokens, main.by_model, main.currency)
    cur = ctx.settings.get("display_currency")
    p = current_period("monthly", now or utcnow(), ctx.tz)
    sp = scope_spend(ctx.db, ctx.tz, p.first, p.last, Scope(), cur, ctx.settings.fx_rates())
    return CardData(None, sp.cost, sp.tokens, dict(sorted(sp.by_model.items(), key=lambda kv: -kv[1])), cur)


NO_MODEL = "(no model)"  # budgets.spend's name for rows without a model: subscriptions, manual entries
TOP_MODELS = 4


def by_model_text(by_model: dict[str, Decimal], currency: str) -> str:
    """The card's "by model" line: the models that cost most, then what had no model ("other": subscriptions,
    manual entries, charges without a model) last, so a $20 subscription never tops the list as "(no model)"."""
    models = sorted(((m, c) for m, c in by_model.items() if m != NO_MODEL and c), key=lambda mc: -mc[1])
    parts = [f"{m}: {format_money(c, currency)}" for m, c in models[:TOP_MODELS]]
    other = by_model.get(NO_MODEL, Decimal(0)) + sum((c for _m, c in models[TOP_MODELS:]), Decimal(0))
    if other:
        parts.append(f"other: {format_money(other, currency)}")
    return "  ·  ".join(parts) or "No spend yet"


def days_left_text(n: int) -> str:
    return "last day" if n == 1 else f"{n} days left"


class CostWidget(QFrame):
    """Signals: set_budget_requested(), details_requested(), loaded(object)."""

    set_budget_requested = Signal()
    details_requested = Signal()
    loaded = Signal(object)

    def __init__(self, services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costWidget")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.services = services
        self._loads = Refresher(services.view_pool, load_card, self.apply, owner=self, failed=self._failed,
                                args=lambda: (services.ctx,))
        self.data: CardData | None = None
        self.title = QLabel("This month")
        self.title.setStyleSheet("font-weight: 600")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.cost = QLabel("—")
        self.cost.setObjectName("costWidgetCost")
        self.cost.setStyleSheet("font-size: 18px; font-weight: 600")
        self.tokens = QLabel("")
        self.models = QLabel("")
        self.models.setObjectName("costWidgetModels")
        self.models.setWordWrap(True)
        self.models.setToolTip("Spend by model this month; \"other\": subscriptions, manual entries, charges "
                               "without a model and the models not listed")
        self.set_budget = QPushButton("Set budget")
        self.details = QPushButton("View details")
        self.set_budget.clicked.connect(self.set_budget_requested)
        self.details.clicked.connect(self.details_requested)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.set_budget)
        top.addWidget(self.details)
        nums = QHBoxLayout()
        nums.addWidget(self.cost)
        nums.addStretch(1)
        nums.addWidget(self.tokens)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(top)
        lay.addWidget(self.bar)
        lay.addLayout(nums)
        lay.addWidget(self.models)
        services.bus.ledger_changed.connect(self.refresh)
        services.bus.alerts_changed.connect(self.refresh)

    def refresh(self) -> None:
        """Reload in a worker (the UI's refresh policy: a change during a load folds into one more, even
        when that load fails)."""
        self._loads.request()

    def _failed(self, exc: BaseException) -> None:
        self.cost.setText(f"could not load: {exc}")

    def apply(self, data: CardData) -> None:
        self.data = data
        st = data.status
        if st is not None:
            self.title.setText(f"{st.name} — {st.period.kind}, {days_left_text(st.days_left)}")
            self.bar.setVisible(True)
            self.bar.setValue(int(min(st.percent, Decimal(100)) * 10))
            self.bar.setFormat(f"{fmt_money(st.spent, st.currency)} of {fmt_money(st.amount, st.currency)} "
                               f"({st.percent:.0f}%) · {st.forecast_text()}")
            color = STATE_STYLE.get(st.state, ("", "#2e7d32"))[1]
            self.bar.setStyleSheet(f"QProgressBar::chunk {{ background-color: {color}; }}")
            self.set_budget.setText("Edit budget")
        else:
            self.title.setText("This month — no budget set")
            self.bar.setVisible(False)
            self.set_budget.setText("Set budget")
        self.cost.setText(fmt_money(data.cost, data.currency))
        self.tokens.setText(f"{data.tokens:,} tokens")
        self.models.setText(by_model_text(data.by_model, data.currency))
        self.loaded.emit(data)
