"""DeepSeek and Moonshot balance-only syncs: parsing of providers.md examples and runs against fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.deepseek import NOT_AVAILABLE, DeepSeekSync, parse_balances, primary_balance
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.sync.moonshot import MoonshotSync, currency_for, parse_balance
from tests.fakes.balance_fakes import (
    DEEPSEEK_CNY, DEEPSEEK_EMPTY, DEEPSEEK_KEY, DEEPSEEK_MULTI, MOONSHOT_KEY, MOONSHOT_NEGATIVE, MOONSHOT_OK,
    DeepSeekFake, MoonshotFake,
)

POLICY = HttpPolicy(max_attempts=2, sleep=lambda s: None)
SINCE = datetime(2025, 8, 1, tzinfo=timezone.utc)
UNTIL = datetime(2025, 9, 1, tzinfo=timezone.utc)


def no_price(*_: object) -> Decimal | None:
    return None


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def acct(base_url: str, key: str, provider: str) -> AccountInfo:
    return AccountInfo(id=1, name=provider, provider=provider, base_url=base_url, workspace_id=1, api_key=key)


# ---- DeepSeek -----------------------------------------------------------------------------------

def test_deepseek_parse_string_amounts() -> None:
    available, [cny] = parse_balances(DEEPSEEK_CNY)
    assert available is True
    assert cny.currency == "CNY" and cny.remaining == Decimal("110.00")
    assert cny.detail == {"total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"}


def test_deepseek_multiple_currencies_picks_the_funded_one() -> None:
    available, balances = parse_balances(DEEPSEEK_MULTI)
    assert [b.currency for b in balances] == ["CNY", "USD"]
    main = primary_balance(balances, available)
    assert main is not None and main.currency == "USD" and main.remaining == Decimal("12.34")
    assert main.detail["CNY.total_balance"] == "0.00" and main.detail["granted_balance"] == "2.00"
    assert main.detail["is_available"] == "true"


@pytest.mark.parametrize("payload", [
    {"is_available": True},
    {"is_available": True, "balance_infos": [{"total_balance": "1.00"}]},
    {"is_available": True, "balance_infos": [{"currency": "USD", "total_balance": "lots"}]},
])
def test_deepseek_rejects_malformed(payload: dict[str, object]) -> None:
    with pytest.raises(ProviderError):
        parse_balances(payload)


def test_deepseek_sync_against_fake(client: httpx.Client) -> None:
    pages: list[list[UsageRecord]] = []
    with DeepSeekFake(DEEPSEEK_MULTI) as fake:
        report = DeepSeekSync(POLICY).run(client, acct(fake.base_url, DEEPSEEK_KEY, "deepseek"),
                                          SINCE, UNTIL, pages.append, no_price)
        [req] = fake.requests_to("/user/balance")
    assert pages == [] and report.records == 0 and report.requests == 1
    assert report.balance is not None and report.balance.currency == "USD"
    assert report.balance.remaining == Decimal("12.34") and report.warnings == []
    assert req.header("authorization") == f"Bearer {DEEPSEEK_KEY}"


def test_deepseek_unavailable_warns(client: httpx.Client) -> None:
    with DeepSeekFake(DEEPSEEK_EMPTY) as fake:
        account = acct(fake.base_url, DEEPSEEK_KEY, "deepseek")
        report = DeepSeekSync(POLICY).run(client, account, SINCE, UNTIL, lambda p: None, no_price)
        assert report.warnings == [NOT_AVAILABLE]
        assert report.balance is not None and report.balance.remaining == Decimal("0")
        assert "not enough for API calls" in DeepSeekSync(POLICY).test_connection(client, account)


def test_deepseek_bad_key(client: httpx.Client) -> None:
    with DeepSeekFake() as fake:
        with pytest.raises(AuthError, match="Authentication Fails"):
            DeepSeekSync(POLICY).test_connection(client, acct(fake.base_url, "sk-wrong", "deepseek"))
        ok = DeepSeekSync(POLICY).test_connection(client, acct(fake.base_url, DEEPSEEK_KEY, "deepseek"))
    assert ok == "DeepSeek API key OK: balance 110.00 CNY"


# ---- Moonshot -----------------------------------------------------------------------------------

def test_moonshot_parse_doc_example() -> None:
    bal = parse_balance(MOONSHOT_OK)
    assert bal.currency == "USD" and bal.remaining == Decimal("49.58894")
    assert bal.detail == {"voucher_balance": "46.58893", "cash_balance": "3.00001"}


def test_moonshot_wrapper_errors() -> None:
    with pytest.raises(ProviderError, match="code=5"):
        parse_balance({"code": 5, "data": MOONSHOT_OK["data"], "scode": "0x5", "status": False})
    with pytest.raises(ProviderError):
        parse_balance({"code": 0, "data": {"available_balance": 1.0}, "scode": "0x0", "status": True})


def test_moonshot_currency_by_platform() -> None:
    assert currency_for("https://api.moonshot.ai/v1") == "USD"
    assert currency_for("https://api.moonshot.cn/v1") == "CNY"


def test_moonshot_sync_negative_cash(client: httpx.Client) -> None:
    with MoonshotFake(MOONSHOT_NEGATIVE) as fake:
        report = MoonshotSync(POLICY).run(client, acct(fake.api_base, MOONSHOT_KEY, "moonshot"),
                                          SINCE, UNTIL, lambda p: None, no_price)
        assert len(fake.requests_to("/v1/users/me/balance")) == 1
    assert report.balance is not None and report.balance.remaining == Decimal("5.5")
    assert report.balance.detail["cash_balance"] == "-2.5" and report.records == 0
    assert len(report.warnings) == 1 and "negative" in report.warnings[0] and "-2.5" in report.warnings[0]


def test_moonshot_sync_ok_and_bad_key(client: httpx.Client) -> None:
    with MoonshotFake() as fake:
        report = MoonshotSync(POLICY).run(client, acct(fake.api_base, MOONSHOT_KEY, "moonshot"),
                                          SINCE, UNTIL, lambda p: None, no_price)
        assert report.warnings == [] and report.balance is not None
        assert report.balance.remaining == Decimal("49.58894")
        with pytest.raises(AuthError, match="Invalid Authentication"):
            MoonshotSync(POLICY).run(client, acct(fake.api_base, "sk-bad", "moonshot"),
                                     SINCE, UNTIL, lambda p: None, no_price)
