"""Budget definitions: validation of every field (InputError naming it) and create / update / remove."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from sqlalchemy import select

from aicost_desktop.budgets.periods import PERIODS
from aicost_desktop.budgets.spend import Scope, known_names
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import parse_amount, validate_currency
from aicost_desktop.notify.email import parse_email
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account, Budget, utcnow

ON_EXCEED = ("notify", "require_ack", "pause_key", "block")  # block: the gateway refuses requests (gateway/guard.py)
DEFAULT_THRESHOLDS = (Decimal(50), Decimal(80), Decimal(100))
_HM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_thresholds(text: str | Iterable[Any], field_: str = "thresholds") -> tuple[Decimal, ...]:
    """'50,80,100' -> (50, 80, 100): each 1..1000 percent, strictly increasing, at least one."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else [str(p).strip() for p in text]
    if not parts or any(not p for p in parts):
        raise InputError(field_, text, "give comma-separated percentages such as 50,80,100")
    out: list[Decimal] = []
    for p in parts:
        try:
            d = Decimal(p.rstrip("%"))
        except InvalidOperation:
            raise InputError(field_, text, f"{p!r} is not a number") from None
        if not d.is_finite() or d < 1 or d > 1000:
            raise InputError(field_, text, f"{p} is outside 1..1000 percent")
        if d != d.quantize(Decimal("0.01")):
            raise InputError(field_, text, f"{p} has more than 2 decimal places")
        out.append(d.normalize() if d == d.to_integral_value() else d)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise InputError(field_, text, "must be sorted ascending without repeats")
    return tuple(Decimal(int(d)) if d == d.to_integral_value() else d for d in out)


def format_thresholds(ts: Iterable[Decimal]) -> str:
    return ",".join(f"{t.normalize():f}" for t in ts)


def parse_hm(text: str | None, field_: str) -> str | None:
    if text in (None, ""):
        return None
    if not _HM.match(str(text)):
        raise InputError(field_, text, "must be a local time HH:MM (00:00..23:59)")
    return str(text)


@dataclass(frozen=True)
class BudgetSpec:
    """A validated budget definition (what the dialog and `aicost budgets add` produce)."""

    name: str
    amount: Decimal
    period: str = "monthly"
    scope: Scope = field(default_factory=Scope)
    currency: str = "USD"
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    forecast_alert: bool = False
    emails: tuple[str, ...] = ()
    on_exceed: str = "notify"
    quiet_start: str | None = None
    quiet_end: str | None = None
    pause_account_id: int | None = None
    pause_key_hash: str | None = None
    enabled: bool = True

    @classmethod
    def build(cls, *, name: str, amount: Any, period: str = "monthly", scope: str | Scope | None = None,
              currency: str = "USD", thresholds: Any = None, forecast_alert: bool = False,
              emails: Iterable[str] = (), on_exceed: str = "notify", quiet_start: str | None = None,
              quiet_end: str | None = None, pause_account_id: int | None = None,
              pause_key_hash: str | None = None, enabled: bool = True) -> "BudgetSpec":
        """Validate every field; InputError names the first bad one (CLI flag names)."""
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise InputError("name", name, "must be 1..120 characters")
        amt = parse_amount(amount, "amount")
        if period not in PERIODS:
            raise InputError("period", period, f"use one of {', '.join(PERIODS)}")
        sc = scope if isinstance(scope, Scope) else Scope.parse(scope)
        cur = validate_currency(currency)
        ts = DEFAULT_THRESHOLDS if thresholds in (None, "") else parse_thresholds(thresholds)
        mails: list[str] = []
        for e in emails:
            e = parse_email(e, "email")
            if e not in mails:
                mails.append(e)
        if on_exceed not in ON_EXCEED:
            raise InputError("on-exceed", on_exceed, f"use one of {', '.join(ON_EXCEED)}")
        qs, qe = parse_hm(quiet_start, "quiet-start"), parse_hm(quiet_end, "quiet-end")
        if (qs is None) != (qe is None):
            raise InputError("quiet-end" if qe is None else "quiet-start", qe or qs, "give both quiet-start and quiet-end")
        if on_exceed == "pause_key":
            if pause_account_id is None or not pause_key_hash:
                raise InputError("on-exceed", on_exceed, "pause_key needs an OpenRouter account and the key's hash")
            if "/" in pause_key_hash or len(pause_key_hash) > 200:
                raise InputError("pause-key", pause_key_hash, "must be the key's hash from the OpenRouter keys list")
        return cls(name, amt, period, sc, cur, ts, bool(forecast_alert), tuple(mails), on_exceed, qs, qe,
                   pause_account_id if on_exceed == "pause_key" else None,
                   pause_key_hash if on_exceed == "pause_key" else None, enabled)

    @classmethod
    def from_row(cls, b: Budget) -> "BudgetSpec":
        return cls(b.name, b.amount, b.period, Scope(b.scope_kind, b.scope_value), b.currency,
                   parse_thresholds(b.thresholds), b.forecast_alert,
                   tuple(e for e in (b.emails or "").split(",") if e), b.on_exceed, b.quiet_start, b.quiet_end,
                   b.pause_account_id, b.pause_key_hash, b.enabled)

    def with_(self, **changes: Any) -> "BudgetSpec":
        return replace(self, **changes)


def _check_scope(db: Database, spec: BudgetSpec) -> None:
    if spec.scope.kind in ("account", "workspace"):
        names = known_names(db)[spec.scope.kind]
        if spec.scope.value not in names:
            raise InputError("scope", str(spec.scope), f"no such {spec.scope.kind}")
    if spec.pause_account_id is not None:
        with db.session() as s:
            acc = s.get(Account, spec.pause_account_id)
            if acc is None or acc.provider != "openrouter":
                raise InputError("pause-account", spec.pause_account_id, "must be an OpenRouter account")


def _apply(b: Budget, spec: BudgetSpec) -> None:
    b.name, b.amount, b.period, b.currency = spec.name, spec.amount, spec.period, spec.currency
    b.scope_kind, b.scope_value = spec.scope.kind, spec.scope.value
    b.thresholds = format_thresholds(spec.thresholds)
    b.forecast_alert, b.on_exceed, b.enabled = spec.forecast_alert, spec.on_exceed, spec.enabled
    b.emails = ",".join(spec.emails) or None
    b.quiet_start, b.quiet_end = spec.quiet_start, spec.quiet_end
    b.pause_account_id, b.pause_key_hash = spec.pause_account_id, spec.pause_key_hash
    b.updated_at = utcnow()


def add_budget(db: Database, spec: BudgetSpec, workspace_id: int | None = None) -> int:
    """Store a new budget; InputError('name') when the name is taken."""
    _check_scope(db, spec)
    with db.write_session() as s:
        if s.scalar(select(Budget.id).where(Budget.name == spec.name)) is not None:
            raise InputError("name", spec.name, "a budget with this name already exists")
        b = Budget(workspace_id=workspace_id or db.default_workspace_id(), created_at=utcnow())
        _apply(b, spec)
        s.add(b)
        s.flush()
        return b.id


def update_budget(db: Database, budget_id: int, spec: BudgetSpec) -> None:
    """Replace a budget's definition. Raising the amount re-arms thresholds no longer crossed (engine)."""
    _check_scope(db, spec)
    with db.write_session() as s:
        b = s.get(Budget, budget_id)
        if b is None:
            raise InputError("budget", budget_id, "no such budget")
        other = s.scalar(select(Budget.id).where(Budget.name == spec.name, Budget.id != budget_id))
        if other is not None:
            raise InputError("name", spec.name, "a budget with this name already exists")
        _apply(b, spec)


def find_budget(db: Database, name_or_id: str | int) -> Budget:
    with db.session() as s:
        b = None
        text = str(name_or_id)
        if text.isascii() and text.isdigit() and len(text) <= 18:  # a 64-bit id; longer can only be a name
            b = s.get(Budget, int(text))
        if b is None:
            b = s.scalar(select(Budget).where(Budget.name == str(name_or_id)))
        if b is None:
            raise InputError("budget", name_or_id, "no such budget")
        return b


def remove_budget(db: Database, name_or_id: str | int) -> str:
    b = find_budget(db, name_or_id)
    with db.write_session() as s:
        row = s.get(Budget, b.id)
        if row is not None:
            s.delete(row)
    return b.name


def list_budgets(db: Database, enabled_only: bool = False) -> list[Budget]:
    q = select(Budget).order_by(Budget.name)
    if enabled_only:
        q = q.where(Budget.enabled.is_(True))
    with db.session() as s:
        return list(s.scalars(q))


def snooze_budget(db: Database, budget_id: int, until: datetime | None) -> None:
    """Mute a budget's notifications until `until` (None: unsnooze); alerts are still logged."""
    with db.write_session() as s:
        b = s.get(Budget, budget_id)
        if b is None:
            raise InputError("budget", budget_id, "no such budget")
        b.snoozed_until = until
