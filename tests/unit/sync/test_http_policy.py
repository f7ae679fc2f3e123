"""The shared HTTP policy against a real local server: retries, Retry-After variants, errors, redaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from aicost_desktop.sync.base import AuthError, ProviderError, SyncReport
from aicost_desktop.sync.http import (
    Cancelled, HttpPolicy, backoff_delay, error_message, join_url, parse_retry_after, redact,
    request_json, retry_delay, send,
)
from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse, serving

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)


class EchoFake(FakeHTTPServer):
    def handle(self, req: FakeRequest) -> FakeResponse:
        return FakeResponse.json_({"ok": True, "path": req.path, "group_by": req.params("group_by")})


@pytest.fixture
def fake() -> Iterator[EchoFake]:
    with serving(EchoFake()) as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


class Sleeps(list[float]):
    def __call__(self, delay: float) -> None:
        self.append(delay)


def policy(sleeps: Sleeps, attempts: int = 5) -> HttpPolicy:
    return HttpPolicy(max_attempts=attempts, sleep=sleeps, jitter=lambda: 0.0, clock=lambda: NOW,
                      timeout=5.0)


def get(client: httpx.Client, fake: FakeHTTPServer, pol: HttpPolicy, report: SyncReport | None = None,
        **kw: object) -> object:
    return request_json(client, "GET", fake.base_url + "/v1/x", provider="openai",
                        auth_hint="this endpoint needs an OpenAI Admin key (sk-admin-...)",
                        policy=pol, report=report, **kw)  # type: ignore[arg-type]


def test_success_counts_one_request(fake: EchoFake, client: httpx.Client) -> None:
    sleeps, report = Sleeps(), SyncReport()
    out = get(client, fake, policy(sleeps), report, params=[("group_by[]", "a"), ("group_by[]", "b")])
    assert out == {"ok": True, "path": "/v1/x", "group_by": ["a", "b"]}
    assert (report.requests, report.retries, sleeps) == (1, 0, [])


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),  # ms wins, as in the SDKs
    ({"Retry-After": format_datetime(NOW + timedelta(seconds=42), usegmt=True)}, 42.0),
    ({"Retry-After": "3600"}, 120.0),  # capped
    ({"Retry-After": format_datetime(NOW + timedelta(hours=2), usegmt=True)}, 120.0),
])
def test_429_honours_retry_after(fake: EchoFake, client: httpx.Client, headers: dict[str, str],
                                 expected: float) -> None:
    fake.inject(FakeResponse.json_({"error": {"message": "slow down", "type": "requests",
                                              "param": None, "code": "rate_limit_exceeded"}}, 429, headers))
    sleeps, report = Sleeps(), SyncReport()
    assert get(client, fake, policy(sleeps), report)["ok"] is True  # type: ignore[index]
    assert sleeps == [pytest.approx(expected, abs=1.0)]
    assert (report.requests, report.retries) == (2, 1)


def test_429_without_retry_after_backs_off_exponentially(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"error": {"message": "x"}}, 429), times=3)
    sleeps = Sleeps()
    get(client, fake, policy(sleeps))
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_server_errors_retry_then_succeed(fake: EchoFake, client: httpx.Client, status: int) -> None:
    fake.inject(FakeResponse.json_({"type": "error", "error": {"type": "overloaded_error",
                                                              "message": "Overloaded"}}, status), times=2)
    sleeps = Sleeps()
    assert get(client, fake, policy(sleeps))["ok"] is True  # type: ignore[index]
    assert len(sleeps) == 2


def test_gives_up_after_max_attempts(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"type": "error", "error": {"type": "overloaded_error",
                                                              "message": "Overloaded"}}, 529), times=10)
    sleeps, report = Sleeps(), SyncReport()
    with pytest.raises(ProviderError, match=r"after 3 attempts.*529.*Overloaded"):
        get(client, fake, policy(sleeps, attempts=3), report)
    assert len(fake.requests) == 3 and len(sleeps) == 2 and report.retries == 2


def test_401_names_the_key_needed(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"error": {"message": "Incorrect API key provided: sk-proj-abcdef1234.",
                                              "type": "invalid_request_error", "param": None,
                                              "code": "invalid_api_key"}}, 401))
    sleeps = Sleeps()
    with pytest.raises(AuthError) as ei:
        get(client, fake, policy(sleeps))
    text = str(ei.value)
    assert "sk-admin-" in text and "401" in text and "Incorrect API key" in text
    assert "abcdef1234" not in text  # key echoed by the provider is redacted
    assert sleeps == [] and len(fake.requests) == 1


def test_403_is_auth_error(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"type": "error", "error": {"type": "permission_error",
                                                              "message": "not an admin key"}}, 403))
    with pytest.raises(AuthError, match="not an admin key"):
        get(client, fake, policy(Sleeps()))


def test_other_4xx_carries_provider_message_without_retry(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"error": {"message": "Missing required parameter: 'start_time'.",
                                              "type": "invalid_request_error", "param": "start_time",
                                              "code": None}}, 400))
    sleeps = Sleeps()
    with pytest.raises(ProviderError, match="Missing required parameter: 'start_time'"):
        get(client, fake, policy(sleeps))
    assert sleeps == [] and len(fake.requests) == 1


def test_truncated_json_is_provider_error(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject_truncated()
    with pytest.raises(ProviderError, match="invalid JSON"):
        get(client, fake, policy(Sleeps()))


def test_network_error_retries_then_fails(client: httpx.Client) -> None:
    with serving(EchoFake()) as f:
        url = f.base_url
    sleeps, report = Sleeps(), SyncReport()  # server stopped: connection refused
    with pytest.raises(ProviderError, match="after 3 attempts.*Connect"):
        request_json(client, "GET", url + "/x", provider="p", auth_hint="h",
                     policy=policy(sleeps, attempts=3), report=report)
    assert len(sleeps) == 2 and report.requests == 3


def test_timeout_is_retried(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject_delay(1.0)
    pol = policy(Sleeps())
    pol.timeout = 0.2
    assert get(client, fake, pol)["ok"] is True  # type: ignore[index]
    assert len(fake.requests) == 2


def test_cancel_during_backoff(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({}, 503), times=5)
    cancel = threading.Event()
    pol = policy(Sleeps())
    pol.sleep = lambda d: cancel.set()
    with pytest.raises(Cancelled):
        get(client, fake, pol, cancel=cancel)
    assert len(fake.requests) == 1


def test_should_retry_header_overrides(fake: EchoFake, client: httpx.Client) -> None:
    fake.inject(FakeResponse.json_({"error": {"message": "no"}}, 500, {"x-should-retry": "false"}))
    with pytest.raises(ProviderError, match="HTTP 500"):
        get(client, fake, policy(Sleeps()))
    assert len(fake.requests) == 1


def test_debug_log_redacts_keys(fake: EchoFake, client: httpx.Client,
                                caplog: pytest.LogCaptureFixture) -> None:
    fake.inject(FakeResponse.json_({}, 503))
    with caplog.at_level(logging.DEBUG, logger="aicost.http"):
        send(client, "GET", fake.base_url + "/x?key=sk-live-secret123", provider="p", auth_hint="h",
             headers={"Authorization": "Bearer sk-admin-secret456"}, policy=policy(Sleeps()))
    text = caplog.text
    assert "-> 503" in text and "-> 200" in text and "retrying" in text
    assert "secret123" not in text and "secret456" not in text


def test_pure_helpers() -> None:
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "garbage"}) is None
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    past = format_datetime(NOW - timedelta(minutes=1), usegmt=True)
    assert parse_retry_after({"Retry-After": past}, NOW) == 0.0
    pol = HttpPolicy(jitter=lambda: 1.0, clock=lambda: NOW)
    assert backoff_delay(1, pol) == 0.375 and backoff_delay(20, pol) == 22.5
    assert retry_delay(1, {"Retry-After": "0"}, pol) == 0.375  # 0 falls back to backoff
    assert join_url("https://api.openai.com/v1/", "/organization/costs") == \
        "https://api.openai.com/v1/organization/costs"
    assert redact("key sk-ant-admin01-AbC_d-9 and sk-proj-x1y2z3") == "key [redacted] and [redacted]"
    resp = httpx.Response(400, json={"type": "error", "request_id": "r",
                                     "error": {"type": "invalid_request_error", "message": "bad"}})
    assert error_message(resp) == "bad (invalid_request_error)"
    assert error_message(httpx.Response(429, json={"error": {"code": 429, "message": "Rate limit exceeded"}})) \
        == "Rate limit exceeded"
    assert error_message(httpx.Response(502, text="<html>Bad gateway</html>")) == "<html>Bad gateway</html>"
