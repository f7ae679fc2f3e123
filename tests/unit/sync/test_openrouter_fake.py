"""The OpenRouter fake itself speaks the documented wire format (envelopes, window, filters, 404s)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.openrouter_fake import INFERENCE_KEY, MANAGEMENT_KEY, MANAGEMENT_ONLY, OpenRouterFake


@pytest.fixture
def fake() -> Iterator[OpenRouterFake]:
    with OpenRouterFake() as f:
        yield f


def get(fake: OpenRouterFake, path: str, key: str | None = MANAGEMENT_KEY, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{fake.api_base}{path}", headers=headers, params=params)


def test_error_envelopes(fake: OpenRouterFake) -> None:
    assert get(fake, "/key", key=None).json()["error"] == {"code": 401, "message": "No auth credentials found"}
    r = get(fake, "/activity", key=INFERENCE_KEY)
    assert r.status_code == 403 and r.json()["error"] == {"code": 403, "message": MANAGEMENT_ONLY}
    assert get(fake, "/credits", key=INFERENCE_KEY).status_code == 403


def test_activity_window_and_filters(fake: OpenRouterFake) -> None:
    dates = {row["date"] for row in get(fake, "/activity").json()["data"]}
    assert dates == {"2025-08-24", "2025-08-30", "2025-08-31"}  # not 07-15 (too old), not 09-01 (today)
    one = get(fake, "/activity", date="2025-08-31").json()["data"]
    assert {row["date"] for row in one} == {"2025-08-31"} and len(one) == 2
    for bad in ("2025-09-01", "2025-07-15", "yesterday"):
        r = get(fake, "/activity", date=bad)
        assert r.status_code == 400 and r.json()["error"] == {"code": 400, "message": "Invalid request parameters"}
    grouped = get(fake, "/activity", group_by="workspace").json()["data"]
    assert all("workspace_id" in row for row in grouped)


def test_generation_404_before_it_exists(fake: OpenRouterFake) -> None:
    fake.add_generation("gen-1", {"model": "openai/gpt-4.1", "total_cost": 0.0015}, misses=2)
    assert get(fake, "/generation", key=INFERENCE_KEY, id="gen-1").status_code == 404
    assert get(fake, "/generation", key=INFERENCE_KEY, id="gen-1").status_code == 404
    r = get(fake, "/generation", key=INFERENCE_KEY, id="gen-1")
    assert r.status_code == 200 and r.json()["data"]["total_cost"] == 0.0015
