"""Fake DeepSeek (`/user/balance`) and Moonshot (`/v1/users/me/balance`) balance endpoints."""

from __future__ import annotations

import copy
from typing import Any

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

DEEPSEEK_KEY = "sk-deepseek-0000000000000000"
MOONSHOT_KEY = "sk-moonshot-0000000000000000"

# providers.md section 5, verbatim: amounts are strings, one entry per currency.
DEEPSEEK_CNY = {"is_available": True, "balance_infos": [
    {"currency": "CNY", "total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"}]}
# Two currencies; the CNY wallet is empty, the USD one holds money.
DEEPSEEK_MULTI = {"is_available": True, "balance_infos": [
    {"currency": "CNY", "total_balance": "0.00", "granted_balance": "0.00", "topped_up_balance": "0.00"},
    {"currency": "USD", "total_balance": "12.34", "granted_balance": "2.00", "topped_up_balance": "10.34"}]}
DEEPSEEK_EMPTY = {"is_available": False, "balance_infos": [
    {"currency": "CNY", "total_balance": "0.00", "granted_balance": "0.00", "topped_up_balance": "0.00"}]}

# providers.md section 5, verbatim; then the negative cash case (usage beyond top-ups).
MOONSHOT_OK = {"code": 0, "data": {"available_balance": 49.58894, "voucher_balance": 46.58893,
                                   "cash_balance": 3.00001}, "scode": "0x0", "status": True}
MOONSHOT_NEGATIVE = {"code": 0, "data": {"available_balance": 5.5, "voucher_balance": 8.0,
                                         "cash_balance": -2.5}, "scode": "0x0", "status": True}


def _bearer(req: FakeRequest) -> str | None:
    auth = req.header("authorization") or ""
    return auth[7:].strip() if auth.startswith("Bearer ") else None


class DeepSeekFake(FakeHTTPServer):
    """`GET /user/balance` at the root, like `https://api.deepseek.com`. Set `payload` per test."""

    def __init__(self, payload: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.payload = copy.deepcopy(DEEPSEEK_CNY if payload is None else payload)

    def handle(self, req: FakeRequest) -> FakeResponse:
        if _bearer(req) != DEEPSEEK_KEY:
            # DeepSeek answers bad keys with an OpenAI-style envelope [secondary].
            return FakeResponse.json_({"error": {
                "message": "Authentication Fails, Your api key: ****0000 is invalid",
                "type": "authentication_error", "param": None, "code": "invalid_request_error"}}, 401)
        if req.method == "GET" and req.path == "/user/balance":
            return FakeResponse.json_(self.payload)
        return FakeResponse.json_({"error": {"message": "Not Found", "type": "invalid_request_error",
                                             "param": None, "code": "not_found"}}, 404)


class MoonshotFake(FakeHTTPServer):
    """`GET /v1/users/me/balance`; the account's base_url is `fake.api_base` (`.../v1`)."""

    def __init__(self, payload: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.payload = copy.deepcopy(MOONSHOT_OK if payload is None else payload)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v1"

    def handle(self, req: FakeRequest) -> FakeResponse:
        if _bearer(req) != MOONSHOT_KEY:
            # Moonshot's OpenAI-compatible error envelope [secondary].
            return FakeResponse.json_({"error": {"message": "Invalid Authentication",
                                                 "type": "invalid_authentication_error"}}, 401)
        if req.method == "GET" and req.path == "/v1/users/me/balance":
            return FakeResponse.json_(self.payload)
        return FakeResponse.json_({"error": {"message": "url.not_found", "type": "resource_not_found_error"}}, 404)
