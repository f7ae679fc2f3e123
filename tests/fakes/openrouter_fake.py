"""Fake OpenRouter API (/key, /credits, /activity, /generation, PATCH /keys/{hash}) with a fixed dataset."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

TODAY = date(2025, 9, 1)  # the fake's clock: /activity covers 2025-08-02 .. 2025-08-31
INFERENCE_KEY = "sk-or-v1-inference-0000000000000000"
MANAGEMENT_KEY = "sk-or-v1-management-000000000000000"
INFERENCE_HASH = "f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943"
MANAGEMENT_HASH = "0e6f44a47a05f1dad2ad7e88c4c1d6b77688157716fb1a5271146f7464951c96"
MANAGEMENT_ONLY = "Only management keys can perform this operation"


def _row(day: str, model: str, provider: str, usage: float, requests: int, prompt: int,
         completion: int, reasoning: int = 0, byok: float = 0.0, endpoint: str = "e1") -> dict[str, Any]:
    """One /activity item with every required field of OR-SPEC, in its field order."""
    return {"date": day, "model": model, "model_permaslug": f"{model}-2025-04-14",
            "endpoint_id": f"550e8400-e29b-41d4-a716-4466554400{endpoint[-2:].zfill(2)}",
            "provider_name": provider, "usage": usage, "byok_usage_inference": byok,
            "requests": requests, "prompt_tokens": prompt, "completion_tokens": completion,
            "reasoning_tokens": reasoning}


# Deterministic dataset. The first row is OR-SPEC's example verbatim (apart from endpoint_id).
ACTIVITY: list[dict[str, Any]] = [
    _row("2025-08-24", "openai/gpt-4.1", "OpenAI", 0.015, 5, 50, 125, 25, byok=0.012),
    _row("2025-08-24", "openai/gpt-4.1", "Azure", 0.1 + 0.2, 10, 1000, 2000),  # 0.30000000000000004
    _row("2025-08-24", "anthropic/claude-sonnet-4", "Anthropic", 1.2345, 7, 20000, 3000),
    _row("2025-08-30", "anthropic/claude-sonnet-4", "Amazon Bedrock", 2.5, 12, 100000, 5000),
    # Same day/model/provider through a second endpoint: the sync adds it to the row above.
    _row("2025-08-30", "anthropic/claude-sonnet-4", "Amazon Bedrock", 0.25, 1, 1000, 100, endpoint="e2"),
    _row("2025-08-31", "google/gemini-2.5-pro", "Google Vertex", 0.5470000000000001, 3, 3000, 4000, 1500),
    _row("2025-08-31", "meta-llama/llama-3.3-70b-instruct:free", "Chutes", 0, 2, 100, 200),
    _row("2025-07-15", "openai/gpt-4.1", "OpenAI", 9.99, 99, 9, 9),    # older than 30 days: hidden
    _row("2025-09-01", "openai/gpt-4.1", "OpenAI", 4.44, 44, 4, 4),    # today, not completed: hidden
]

# What a full sync of the window must produce (hand-computed, to the cent and beyond).
EXPECTED_TOTAL = Decimal("4.8465")
EXPECTED_RECORDS = 6          # the two Bedrock rows merge
EXPECTED_DAYS = 3             # pages: 2025-08-24, 2025-08-30, 2025-08-31
EXPECTED_REQUESTS = 40
EXPECTED_BY_DAY = {date(2025, 8, 24): Decimal("1.5495"), date(2025, 8, 30): Decimal("2.75"),
                   date(2025, 8, 31): Decimal("0.547")}
CREDITS = {"total_credits": 100.5, "total_usage": 25.75}  # remaining 74.75


def key_data(label: str, *, limit: float | None, usage: float, management: bool,
             old_shape: bool = False) -> dict[str, Any]:
    """`/key` data in the current OR-SPEC shape, or the older shape without byok/daily fields."""
    if old_shape:
        return {"label": label, "usage": usage, "limit": limit, "is_free_tier": False,
                "limit_remaining": None if limit is None else limit - usage,
                "rate_limit": {"requests": 200, "interval": "10s"}}
    return {"label": label, "limit": limit,
            "limit_remaining": None if limit is None else round(limit - usage, 10),
            "limit_reset": "monthly" if limit is not None else None, "usage": usage,
            "usage_daily": 1.25, "usage_weekly": 6.5, "usage_monthly": usage,
            "byok_usage": 17.38, "byok_usage_daily": 0.0, "byok_usage_weekly": 1.0,
            "byok_usage_monthly": 17.38, "include_byok_in_limit": False, "is_free_tier": False,
            "is_management_key": management, "is_provisioning_key": management,
            "creator_user_id": "user_2dHFtVWx2n56w6HkM0000000000", "expires_at": None,
            "rate_limit": {"requests": 1000, "interval": "1h",
                           "note": "This field is deprecated and safe to ignore."}}


@dataclass
class FakeKey:
    """A key the fake knows: its secret, keys-API hash, kind and `/key` data."""

    secret: str
    hash: str
    management: bool
    data: dict[str, Any]
    name: str = "My Key"
    disabled: bool = False


def error(code: int, message: str) -> FakeResponse:
    """OpenRouter's error envelope: `{"error": {"code": <int>, "message": str}}`."""
    return FakeResponse.json_({"error": {"code": code, "message": message}, "user_id": None}, code)


def rate_limited(headers: dict[str, str] | None = None) -> FakeResponse:
    """The documented 429 body (whether OpenRouter sends Retry-After is unconfirmed: pass headers)."""
    return FakeResponse.json_({"error": {"code": 429, "message": "Rate limit exceeded"}}, 429,
                              {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", **(headers or {})})


@dataclass
class _Generation:
    data: dict[str, Any]
    misses_left: int


class OpenRouterFake(FakeHTTPServer):
    """Serves `/api/v1/...` like openrouter.ai. Point an account's base_url at `fake.api_base`.

    * keys: `INFERENCE_KEY` ($100 limit, $25.50 used) and `MANAGEMENT_KEY` (unlimited); add more
      with `add_key`. Inference keys get 403 "Only management keys..." on /credits, /activity
      and PATCH /keys/{hash}. `legacy_credits=True` lets inference keys read /credits (old docs).
    * `/activity`: rows of the last 30 completed UTC days before `today`, optional `date` filter
      (400 outside the window), optional `group_by=workspace` (adds `workspace_id`).
    * `/generation?id=`: 404 for the first `misses` polls after `add_generation`.
    """

    def __init__(self, *, today: date = TODAY, activity: list[dict[str, Any]] | None = None,
                 credits: dict[str, float] | None = None, old_key_shape: bool = False,
                 legacy_credits: bool = False) -> None:
        super().__init__()
        self.today = today
        self.activity = copy.deepcopy(ACTIVITY if activity is None else activity)
        self.credits = dict(CREDITS if credits is None else credits)
        self.legacy_credits = legacy_credits
        self.keys: dict[str, FakeKey] = {}
        self.generations: dict[str, _Generation] = {}
        self.add_key(FakeKey(INFERENCE_KEY, INFERENCE_HASH, False, key_data(
            "sk-or-v1-inf...000", limit=100, usage=25.5, management=False, old_shape=old_key_shape)))
        self.add_key(FakeKey(MANAGEMENT_KEY, MANAGEMENT_HASH, True, key_data(
            "sk-or-v1-man...000", limit=None, usage=0, management=True, old_shape=old_key_shape),
            name="Management"))

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v1"

    def add_key(self, key: FakeKey) -> FakeKey:
        self.keys[key.secret] = key
        return key

    def key_by_hash(self, key_hash: str) -> FakeKey | None:
        return next((k for k in self.keys.values() if k.hash == key_hash), None)

    def add_generation(self, gen_id: str, data: dict[str, Any], misses: int = 1) -> None:
        self.generations[gen_id] = _Generation({"id": gen_id, **data}, misses)

    def window(self) -> tuple[date, date]:
        """First and last day /activity covers: 30 completed UTC days before `today`."""
        return self.today - timedelta(days=30), self.today - timedelta(days=1)

    # ---- dispatch ------------------------------------------------------------------------
    def handle(self, req: FakeRequest) -> FakeResponse:
        if not req.path.startswith("/api/v1/"):
            return error(404, "Not Found")
        auth = req.header("authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return error(401, "No auth credentials found")
        key = self.keys.get(auth[7:].strip())
        if key is None:
            return error(401, "User not found.")
        path = req.path[len("/api/v1"):]
        if req.method == "GET" and path in ("/key", "/auth/key"):
            return FakeResponse.json_({"data": key.data})
        if req.method == "GET" and path == "/credits":
            if not key.management and not self.legacy_credits:
                return error(403, MANAGEMENT_ONLY)
            return FakeResponse.json_({"data": self.credits})
        if req.method == "GET" and path == "/activity":
            return self._activity(req, key)
        if req.method == "GET" and path == "/generation":
            return self._generation(req)
        if req.method == "PATCH" and path.startswith("/keys/"):
            return self._update_key(req, key, path[len("/keys/"):])
        return error(404, "Not Found")

    def _activity(self, req: FakeRequest, key: FakeKey) -> FakeResponse:
        if not key.management:
            return error(403, MANAGEMENT_ONLY)
        first, last = self.window()
        wanted = req.param("date")
        if wanted is not None:
            try:
                day = date.fromisoformat(wanted)
            except ValueError:
                return error(400, "Invalid request parameters")
            if not first <= day <= last:
                return error(400, "Invalid request parameters")
            first = last = day
        group_by = req.param("group_by")
        if group_by not in (None, "workspace"):
            return error(400, "Invalid request parameters")
        rows = []
        for row in self.activity:
            if first <= date.fromisoformat(row["date"]) <= last:
                item = dict(row)
                if group_by == "workspace":
                    item["workspace_id"] = "0df9e665-d932-5740-b2c7-b52af166bc11"
                rows.append(item)
        return FakeResponse.json_({"data": rows})

    def _generation(self, req: FakeRequest) -> FakeResponse:
        gen_id = req.param("id")
        if not gen_id:
            return error(400, "Invalid request parameters")
        gen = self.generations.get(gen_id)
        if gen is None or gen.misses_left > 0:
            if gen is not None:
                gen.misses_left -= 1
            return error(404, f"Generation {gen_id} not found")
        return FakeResponse.json_({"data": gen.data})

    def _update_key(self, req: FakeRequest, caller: FakeKey, key_hash: str) -> FakeResponse:
        if not caller.management:
            return error(403, MANAGEMENT_ONLY)
        target = self.key_by_hash(key_hash)
        if target is None:
            return error(404, "Not Found")
        try:
            body = req.json()
        except ValueError:
            return error(400, "Invalid request parameters")
        allowed = {"name", "disabled", "limit", "limit_reset", "include_byok_in_limit"}
        if not isinstance(body, dict) or set(body) - allowed:
            return error(400, "Invalid request parameters")
        if "disabled" in body and not isinstance(body["disabled"], bool):
            return error(400, "Invalid request parameters")
        limit = body.get("limit", target.data.get("limit"))
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0):
            return error(400, "Invalid request parameters")
        target.disabled = body.get("disabled", target.disabled)
        target.name = body.get("name", target.name)
        usage = target.data.get("usage") or 0
        target.data["limit"] = limit
        target.data["limit_remaining"] = None if limit is None else round(limit - usage, 10)
        return FakeResponse.json_({"data": {
            "hash": target.hash, "name": target.name, "label": target.data.get("label"),
            "disabled": target.disabled, "limit": limit,
            "limit_remaining": target.data["limit_remaining"],
            "limit_reset": target.data.get("limit_reset"), "include_byok_in_limit": False,
            "usage": usage, "usage_daily": target.data.get("usage_daily", 0),
            "usage_weekly": target.data.get("usage_weekly", 0),
            "usage_monthly": target.data.get("usage_monthly", 0),
            "byok_usage": target.data.get("byok_usage", 0), "byok_usage_daily": 0,
            "byok_usage_weekly": 0, "byok_usage_monthly": 0,
            "created_at": "2025-08-24T10:30:00Z", "updated_at": "2025-09-01T12:00:00Z"}})
