"""DeepSeek balance-only sync: `GET /user/balance` (string amounts, one entry per currency)."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aicost_desktop.domain.money import money
from aicost_desktop.sync.base import (AccountInfo, BalanceSnapshot, PageSink, Pricer, Progress,
                                      ProviderError, SyncReport)
from aicost_desktop.sync.http import HttpPolicy, join_url, request_json

PROVIDER = "deepseek"
DEFAULT_BASE_URL = "https://api.deepseek.com"
AUTH_HINT = "use a DeepSeek API key from platform.deepseek.com"
NOT_AVAILABLE = "DeepSeek: the balance is not sufficient for API calls (is_available=false)."
# Amount fields of each balance_infos entry; DeepSeek sends them as decimal strings.
AMOUNTS = ("total_balance", "granted_balance", "topped_up_balance")


def _amount(entry: dict[str, Any], name: str) -> Decimal | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ProviderError(f"DeepSeek /user/balance: {name}={value!r} is not an amount")
    try:
        return money(value)
    except (InvalidOperation, ValueError):
        raise ProviderError(f"DeepSeek /user/balance: {name}={value!r} is not an amount") from None


def parse_balances(payload: Any) -> tuple[bool | None, list[BalanceSnapshot]]:
    """`{is_available, balance_infos: [{currency, total_balance, ...}]}` -> one snapshot per currency."""
    if not isinstance(payload, dict) or not isinstance(payload.get("balance_infos"), list):
        raise ProviderError("DeepSeek /user/balance: response has no 'balance_infos' list")
    out: list[BalanceSnapshot] = []
    for entry in payload["balance_infos"]:
        if not isinstance(entry, dict) or not entry.get("currency"):
            raise ProviderError(f"DeepSeek /user/balance: entry {entry!r} has no currency")
        values = {name: _amount(entry, name) for name in AMOUNTS}
        # Keep the wire strings ("110.00") for display; the Decimals carry the arithmetic.
        detail = {name: str(entry[name]) for name, v in values.items() if v is not None}
        out.append(BalanceSnapshot(currency=str(entry["currency"]).upper(),
                                   remaining=values["total_balance"], detail=detail))
    available = payload.get("is_available")
    return (available if isinstance(available, bool) else None), out


def primary_balance(balances: list[BalanceSnapshot], is_available: bool | None) -> BalanceSnapshot | None:
    """The first currency holding money (else the first listed); the others go into `detail`."""
    if not balances:
        return None
    main = next((b for b in balances if b.remaining), balances[0])
    detail = dict(main.detail)
    if is_available is not None:
        detail["is_available"] = str(is_available).lower()
    for other in balances:
        if other is not main:
            for name, value in other.detail.items():
                detail[f"{other.currency}.{name}"] = value
    return BalanceSnapshot(currency=main.currency, total=main.total, remaining=main.remaining,
                           used=main.used, limit=main.limit, detail=detail)


class DeepSeekSync:
    """`ProviderSync` for DeepSeek: no usage-history endpoint exists, so balance only."""

    provider = PROVIDER

    def __init__(self, policy: HttpPolicy | None = None) -> None:
        self.policy = policy

    def fetch(self, client: httpx.Client, account: AccountInfo, report: SyncReport | None = None,
              cancel: threading.Event | None = None) -> tuple[bool | None, list[BalanceSnapshot]]:
        payload = request_json(client, "GET", join_url(account.base_url or DEFAULT_BASE_URL, "/user/balance"),
                               provider="DeepSeek", auth_hint=AUTH_HINT,
                               headers={"Authorization": f"Bearer {account.api_key}"},
                               policy=self.policy, report=report, cancel=cancel)
        return parse_balances(payload)

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        available, balances = self.fetch(client, account, report, cancel)
        report.balance = primary_balance(balances, available)
        if available is False:
            report.warnings.append(NOT_AVAILABLE)
        if report.balance is None:
            report.warnings.append("DeepSeek: the account reported no balance entries.")
        return report

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        available, balances = self.fetch(client, account)
        shown = ", ".join(f"{b.remaining or 0:.2f} {b.currency}" for b in balances) or "no balance entries"
        suffix = "" if available is not False else " (not enough for API calls)"
        return f"DeepSeek API key OK: balance {shown}{suffix}"
