"""Moonshot (Kimi) balance-only sync: `GET /users/me/balance` in a `{code, data, scode, status}` wrapper."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from aicost_desktop.domain.money import money
from aicost_desktop.sync.base import (AccountInfo, BalanceSnapshot, PageSink, Pricer, Progress,
                                      ProviderError, SyncReport)
from aicost_desktop.sync.http import HttpPolicy, join_url, request_json

PROVIDER = "moonshot"
DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
AUTH_HINT = "use a Moonshot API key from platform.moonshot.ai (or platform.moonshot.cn)"
FIELDS = ("available_balance", "voucher_balance", "cash_balance")


def currency_for(base_url: str) -> str:
    """USD on the international platform (`.ai`); the China platform (`.cn`) bills in CNY."""
    host = httpx.URL(base_url or DEFAULT_BASE_URL).host
    return "CNY" if host.endswith("moonshot.cn") else "USD"


def _value(data: dict[str, Any], name: str) -> Decimal:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProviderError(f"Moonshot /users/me/balance: {name}={value!r} is not a number")
    try:
        return money(value)
    except ArithmeticError:
        raise ProviderError(f"Moonshot /users/me/balance: {name}={value!r} is not a number") from None


def parse_balance(payload: Any, currency: str = "USD") -> BalanceSnapshot:
    """`{code: 0, data: {available_balance, voucher_balance, cash_balance}, scode, status: true}`.

    `available_balance` = voucher + cash and is what API calls draw on; cash may be negative
    (usage beyond the top-ups), which is kept as is.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ProviderError("Moonshot /users/me/balance: response has no 'data' object")
    if payload.get("code", 0) != 0 or payload.get("status", True) is not True:
        raise ProviderError(f"Moonshot /users/me/balance: code={payload.get('code')!r} "
                            f"scode={payload.get('scode')!r} status={payload.get('status')!r}")
    data = payload["data"]
    values = {name: _value(data, name) for name in FIELDS}
    detail = {name: f"{values[name].normalize():f}" for name in ("voucher_balance", "cash_balance")}
    return BalanceSnapshot(currency=currency, remaining=values["available_balance"], detail=detail)


def balance_warnings(balance: BalanceSnapshot) -> list[str]:
    """A negative cash balance means money is owed; say so rather than showing a plain number."""
    cash = Decimal(balance.detail.get("cash_balance", "0"))
    if cash < 0:
        return [f"Moonshot: cash balance is negative ({cash:f} {balance.currency}); "
                "usage has exceeded your top-ups and vouchers are being drawn down."]
    return []


class MoonshotSync:
    """`ProviderSync` for Moonshot: no usage-history endpoint, so balance only."""

    provider = PROVIDER

    def __init__(self, policy: HttpPolicy | None = None) -> None:
        self.policy = policy

    def fetch(self, client: httpx.Client, account: AccountInfo, report: SyncReport | None = None,
              cancel: threading.Event | None = None) -> BalanceSnapshot:
        base = account.base_url or DEFAULT_BASE_URL
        payload = request_json(client, "GET", join_url(base, "/users/me/balance"),
                               provider="Moonshot", auth_hint=AUTH_HINT,
                               headers={"Authorization": f"Bearer {account.api_key}"},
                               policy=self.policy, report=report, cancel=cancel)
        return parse_balance(payload, currency_for(base))

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        report.balance = self.fetch(client, account, report, cancel)
        report.warnings.extend(balance_warnings(report.balance))
        return report

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        b = self.fetch(client, account)
        return (f"Moonshot API key OK: available {b.remaining:.2f} {b.currency} "
                f"(cash {b.detail['cash_balance']}, voucher {b.detail['voucher_balance']})")
