"""`check`: evaluate budgets with the context's settings and deliver due outbox rows (CLI, GUI, timer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Mapping

from sqlalchemy import func, select

from aicost_desktop.budgets.actions import KeyController, OpenRouterKeys
from aicost_desktop.budgets.engine import BudgetStatus, EvaluationResult, evaluate, statuses
from aicost_desktop.notify.email import EmailChannel, SmtpConfig, secret_password
from aicost_desktop.notify.outbox import Channel, DispatchResult, Dispatcher
from aicost_desktop.storage.tables import Budget, OutboxMessage

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


@dataclass
class CheckResult:
    evaluation: EvaluationResult
    dispatch: DispatchResult
    waiting_email: int = 0  # email deliveries held because no SMTP server is configured


def email_channel(ctx: "AppContext") -> EmailChannel | None:
    cfg = SmtpConfig.from_setting(ctx.settings.get("smtp"))
    return EmailChannel(cfg, secret_password(ctx.secrets)) if cfg else None


def key_controller(ctx: "AppContext") -> KeyController | None:
    with ctx.db.session() as s:
        n = s.scalar(select(func.count()).select_from(Budget).where(Budget.on_exceed == "pause_key"))
    return OpenRouterKeys(ctx.db, ctx.secrets) if n else None


def context_statuses(ctx: "AppContext", now: datetime | None = None) -> list[BudgetStatus]:
    return statuses(ctx.db, ctx.tz, now=now, week_start=ctx.settings.get("week_start"),
                    fx=ctx.settings.fx_rates())


def dispatcher(ctx: "AppContext", extra: Mapping[str, Channel] | None = None) -> Dispatcher:
    channels: dict[str, Channel] = dict(extra or {})
    email = email_channel(ctx)
    if email is not None:
        channels.setdefault("email", email)
    return Dispatcher(ctx.db, channels, ctx.tz)


def run_check(ctx: "AppContext", *, now: datetime | None = None, channels: Mapping[str, Channel] | None = None,
              keys: KeyController | None = None, deliver: bool = True) -> CheckResult:
    """Evaluate every budget now, then deliver what is due on the available channels."""
    ev = evaluate(ctx.db, ctx.tz, now=now, week_start=ctx.settings.get("week_start"),
                  fx=ctx.settings.fx_rates(), keys=keys or key_controller(ctx))
    disp = dispatcher(ctx, channels)
    res = disp.run_once() if deliver else DispatchResult()
    waiting = 0
    if "email" not in disp.channels:
        with ctx.db.session() as s:
            waiting = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.channel == "email", OutboxMessage.status == "pending")) or 0
    return CheckResult(ev, res, waiting)
