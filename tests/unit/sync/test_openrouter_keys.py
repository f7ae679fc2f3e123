"""OpenRouter key pause/limit: the pure PATCH request and `update_key` against the fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.sync.openrouter import build_key_update_request, update_key
from tests.fakes.openrouter_fake import INFERENCE_HASH, INFERENCE_KEY, MANAGEMENT_KEY, OpenRouterFake

BASE = "https://openrouter.ai/api/v1"
POLICY = HttpPolicy(max_attempts=2, sleep=lambda s: None)


def test_build_pause_request() -> None:
    req = build_key_update_request(BASE, INFERENCE_HASH, True, None)
    assert req.method == "PATCH"
    assert req.url == f"https://openrouter.ai/api/v1/keys/{INFERENCE_HASH}"
    assert req.json == {"disabled": True}


def test_build_limit_request_json_numbers() -> None:
    assert build_key_update_request(BASE + "/", "h", None, Decimal("75")).json == {"limit": 75}
    req = build_key_update_request(BASE, "h", False, Decimal("12.34"))
    assert req.json == {"disabled": False, "limit": 12.34}
    assert json.dumps(req.json) == '{"disabled": false, "limit": 12.34}'
    assert build_key_update_request(BASE, "h", None, None, clear_limit=True).json == {"limit": None}


@pytest.mark.parametrize("kwargs", [
    {"key_hash": "", "disabled": True, "limit": None},
    {"key_hash": "a/b", "disabled": True, "limit": None},
    {"key_hash": "h", "disabled": None, "limit": None},
    {"key_hash": "h", "disabled": None, "limit": Decimal("-1")},
    {"key_hash": "h", "disabled": None, "limit": Decimal("NaN")},
])
def test_build_rejects_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_key_update_request(BASE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[OpenRouterFake]:
    with OpenRouterFake() as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def acct(fake: OpenRouterFake, key: str) -> AccountInfo:
    return AccountInfo(id=1, name="or", provider="openrouter", base_url=fake.api_base, workspace_id=1, api_key=key)


def test_pause_and_resume_key(fake: OpenRouterFake, client: httpx.Client) -> None:
    info = update_key(client, acct(fake, MANAGEMENT_KEY), INFERENCE_HASH, disabled=True, policy=POLICY)
    assert info.disabled is True and info.hash == INFERENCE_HASH
    assert fake.keys[INFERENCE_KEY].disabled is True
    [req] = fake.requests_to(f"/api/v1/keys/{INFERENCE_HASH}")
    assert req.method == "PATCH" and req.json() == {"disabled": True}
    assert req.header("authorization") == f"Bearer {MANAGEMENT_KEY}"
    assert update_key(client, acct(fake, MANAGEMENT_KEY), INFERENCE_HASH, disabled=False,
                      policy=POLICY).disabled is False


def test_set_and_clear_limit(fake: OpenRouterFake, client: httpx.Client) -> None:
    info = update_key(client, acct(fake, MANAGEMENT_KEY), INFERENCE_HASH, limit=Decimal("30.25"), policy=POLICY)
    assert info.limit == Decimal("30.25") and info.limit_remaining == Decimal("4.75")  # 25.50 used
    info = update_key(client, acct(fake, MANAGEMENT_KEY), INFERENCE_HASH, clear_limit=True, policy=POLICY)
    assert info.limit is None and info.limit_remaining is None


def test_inference_key_cannot_update(fake: OpenRouterFake, client: httpx.Client) -> None:
    with pytest.raises(AuthError, match="Only management keys"):
        update_key(client, acct(fake, INFERENCE_KEY), INFERENCE_HASH, disabled=True, policy=POLICY)
    assert fake.keys[INFERENCE_KEY].disabled is False


def test_unknown_hash_is_provider_error(fake: OpenRouterFake, client: httpx.Client) -> None:
    with pytest.raises(ProviderError, match="404"):
        update_key(client, acct(fake, MANAGEMENT_KEY), "nope", disabled=True, policy=POLICY)
