"""The gateway over real HTTP: forwarding unchanged, one exactly priced ledger row per request, keys and tokens."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any, Callable

import httpx
import pytest
from sqlalchemy import select

from aicost_desktop.accounts import add_account
from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow
from tests.unit.gateway.fake_upstream import FakeUpstream

CLIENT_KEY = "sk-client-own-key-0123456789"


def rows(db: Database) -> list[UsageRow]:
    with db.session() as s:
        return list(s.scalars(select(UsageRow).order_by(UsageRow.id)))


def post(gw: GatewayHost, path: str, body: dict[str, Any], headers: dict[str, str] | None = None,
         token: str | None = "ok") -> httpx.Response:
    h = {"Authorization": f"Bearer {CLIENT_KEY}", **(headers or {})}
    if token is not None:
        h["X-AICost-Token"] = gw.token if token == "ok" else token  # type: ignore[assignment]
    return httpx.post(gw.base_url + path, json=body, headers=h, timeout=10)


def direct(up: FakeUpstream, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    base = up.anthropic_url if path.startswith("/anthropic") else up.openai_url
    return httpx.post(base + path.split("/v1", 1)[1], json=body, headers=headers or {}, timeout=10)


def price(catalog: PriceCatalog, model: str, usage: TokenUsage) -> Decimal:
    got = catalog.cost_of(model, usage, ServiceTier.STANDARD, date.today())
    assert got is not None
    return got


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MSG = {"model": "claude-sonnet-4-5", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_is_forwarded_unchanged_and_metered_exactly(gateway: GatewayHost, upstream: FakeUpstream,
                                                                ledger: Database, catalog: PriceCatalog,
                                                                stream: bool) -> None:
    fake = {"X-Fake-Prompt": "1200", "X-Fake-Cached": "1000", "X-Fake-Output": "300", "X-Fake-Reasoning": "100"}
    body = {**CHAT, "stream": stream}
    got = post(gateway, "/openai/v1/chat/completions", body, {**fake, "X-AICost-Project": "alpha",
                                                              "X-AICost-Tags": "ci, nightly"})
    want = direct(upstream, "/openai/v1/chat/completions", body, fake)
    assert got.status_code == 200
    assert got.content == want.content  # the stream minus the usage chunk the gateway asked for itself
    assert b'"usage"' not in got.content or not stream
    assert gateway.flush()
    [row] = rows(ledger)
    usage = TokenUsage(input_tokens=200, output_tokens=300, cache_read_tokens=1000, reasoning_tokens=100, requests=1)
    assert (row.source, row.provider, row.model, row.line_item, row.project) == (
        "proxy", "openai", "gpt-4o-mini", "chat.completions", "alpha")
    assert (row.input_tokens, row.cache_read_tokens, row.output_tokens, row.reasoning_tokens, row.requests) == (
        200, 1000, 300, 100, 1)
    assert row.computed_cost == row.cost == price(catalog, "gpt-4o-mini", usage)
    assert "status 200" in row.note and "tags ci,nightly" in row.note
    assert (row.bucket_end - row.bucket_start).total_seconds() < 10
    # The upstream saw the client's own key and, for a stream, the usage option added.
    seen = upstream.served[0]
    assert seen.headers["Authorization"] == f"Bearer {CLIENT_KEY}" and "X-AICost-Token" not in seen.headers
    assert seen.body.get("stream_options") == ({"include_usage": True} if stream else None)


def test_a_client_that_asked_for_usage_still_gets_its_usage_chunk(gateway: GatewayHost, upstream: FakeUpstream,
                                                                  ledger: Database) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    got = post(gateway, "/openai/v1/chat/completions", body)
    assert got.content == direct(upstream, "/openai/v1/chat/completions", body).content
    assert b'"choices":[],"usage":{"prompt_tokens":20' in got.content
    assert gateway.flush()
    assert [(r.input_tokens, r.output_tokens) for r in rows(ledger)] == [(20, 10)]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_messages_with_cache_writes_by_ttl(gateway: GatewayHost, upstream: FakeUpstream, ledger: Database,
                                                     catalog: PriceCatalog, stream: bool) -> None:
    fake = {"X-Fake-Prompt": "30", "X-Fake-Cached": "5000", "X-Fake-Write5m": "700", "X-Fake-Write1h": "300",
            "X-Fake-Output": "450"}
    body = {**MSG, "stream": stream}
    got = post(gateway, "/anthropic/v1/messages", body, fake)
    assert got.status_code == 200
    assert got.content == direct(upstream, "/anthropic/v1/messages", body, fake).content
    assert gateway.flush()
    [row] = rows(ledger)
    assert (row.input_tokens, row.cache_read_tokens, row.cache_write_5m_tokens, row.cache_write_1h_tokens,
            row.output_tokens) == (30, 5000, 700, 300, 450)
    usage = TokenUsage(input_tokens=30, output_tokens=450, cache_read_tokens=5000, cache_write_5m_tokens=700,
                       cache_write_1h_tokens=300, requests=1)
    assert row.computed_cost == price(catalog, "claude-sonnet-4-5", usage) and row.computed_cost > 0


@pytest.mark.parametrize("stream", [False, True])
def test_responses_and_embeddings(gateway: GatewayHost, upstream: FakeUpstream, ledger: Database,
                                  catalog: PriceCatalog, stream: bool) -> None:
    fake = {"X-Fake-Prompt": "90", "X-Fake-Cached": "40", "X-Fake-Output": "25", "X-Fake-Reasoning": "5"}
    body = {"model": "gpt-5", "input": "hi", "stream": stream}
    got = post(gateway, "/openai/v1/responses", body, fake)
    assert got.content == direct(upstream, "/openai/v1/responses", body, fake).content
    emb = post(gateway, "/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"},
               {"X-Fake-Prompt": "8"})
    assert emb.json()["usage"] == {"prompt_tokens": 8, "total_tokens": 8}
    assert gateway.flush()
    r, e = rows(ledger)
    assert (r.line_item, r.input_tokens, r.cache_read_tokens, r.output_tokens, r.reasoning_tokens) == (
        "responses", 50, 40, 25, 5)
    assert r.computed_cost == price(catalog, "gpt-5", TokenUsage(input_tokens=50, output_tokens=25,
                                                                 cache_read_tokens=40, reasoning_tokens=5, requests=1))
    assert (e.line_item, e.input_tokens, e.output_tokens) == ("embeddings", 8, 0)
    assert e.computed_cost == price(catalog, "text-embedding-3-small", TokenUsage(input_tokens=8, requests=1))


@pytest.mark.parametrize("token", [None, "wrong", "aicgw_" + "x" * 43])
def test_missing_or_wrong_token_is_401_in_the_providers_envelope(gateway: GatewayHost, upstream: FakeUpstream,
                                                                 ledger: Database, token: str | None) -> None:
    oa = post(gateway, "/openai/v1/chat/completions", CHAT, token=token)
    an = post(gateway, "/anthropic/v1/messages", MSG, token=token)
    assert oa.status_code == an.status_code == 401
    assert oa.json()["error"]["code"] == "invalid_api_key" and set(oa.json()["error"]) == {
        "message", "type", "param", "code"}
    assert an.json()["type"] == "error" and an.json()["error"]["type"] == "authentication_error"
    assert upstream.served == [] and gateway.flush() and rows(ledger) == []


def test_in_pass_through_mode_the_token_is_not_taken_from_the_key_header(gateway: GatewayHost) -> None:
    r = httpx.post(gateway.base_url + "/openai/v1/chat/completions", json=CHAT,
                   headers={"Authorization": f"Bearer {gateway.token}"}, timeout=10)
    assert r.status_code == 401  # the Authorization header is the client's provider key on this route


def test_injected_account_key_replaces_the_token_and_never_reaches_logs_or_ledger(
        make_gateway: Callable[..., GatewayHost], upstream: FakeUpstream, ledger: Database, secrets: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    oa_key, an_key = "sk-proj-stored-account-key-abcdef123456", "sk-ant-api03-stored-key-abcdef123456"
    oa = add_account(ledger, secrets, "openai", "work", oa_key)
    an = add_account(ledger, secrets, "anthropic", "claude", an_key)
    gw = make_gateway(inject_accounts={"openai": oa, "anthropic": an})
    # Unmodified SDK style: the gateway token is the "API key".
    r1 = httpx.post(gw.base_url + "/openai/v1/chat/completions", json=CHAT,
                    headers={"Authorization": f"Bearer {gw.token}"}, timeout=10)
    r2 = httpx.post(gw.base_url + "/anthropic/v1/messages", json=MSG, headers={"x-api-key": gw.token or ""},
                    timeout=10)
    assert r1.status_code == r2.status_code == 200
    assert upstream.served[0].headers["Authorization"] == f"Bearer {oa_key}"
    assert upstream.served[1].headers["x-api-key"] == an_key
    assert gw.token not in json.dumps([s.headers for s in upstream.served])
    assert gw.flush()
    got = rows(ledger)
    assert [r.account_id for r in got] == [oa, an]
    text = json.dumps([{c.name: str(getattr(r, c.name)) for c in UsageRow.__table__.columns} for r in got])
    for secret in (oa_key, an_key, gw.token or "x"):
        assert secret not in text and secret not in caplog.text


def test_upstream_errors_pass_through_and_are_one_row_costing_nothing(gateway: GatewayHost, upstream: FakeUpstream,
                                                                      ledger: Database) -> None:
    r = post(gateway, "/openai/v1/chat/completions", CHAT, {"X-Fake-Status": "500"})
    a = post(gateway, "/anthropic/v1/messages", {**MSG, "stream": True}, {"X-Fake-Status": "529"})
    assert (r.status_code, r.json()["error"]["message"]) == (500, "fake error 500")
    assert (a.status_code, a.json()["error"]["type"]) == (529, "overloaded_error")
    assert gateway.flush()
    got = rows(ledger)
    assert [(x.computed_cost, x.input_tokens, x.requests) for x in got] == [(Decimal(0), 0, 1)] * 2
    assert "status 500" in got[0].note and "status 529" in got[1].note


def test_an_unreachable_upstream_is_a_502_in_the_envelope(make_gateway: Callable[..., GatewayHost],
                                                          upstream: FakeUpstream, ledger: Database) -> None:
    gw = make_gateway()
    upstream.stop()
    r = post(gw, "/anthropic/v1/messages", MSG)
    assert r.status_code == 502 and r.json()["error"]["type"] == "api_error"
    assert gw.flush() and [x.note.split("; ")[1] for x in rows(ledger)] == ["status 502"]


def test_unknown_routes_are_404_and_free_ones_are_forwarded_unmetered(gateway: GatewayHost, ledger: Database) -> None:
    h = {"X-AICost-Token": gateway.token or ""}
    assert httpx.post(gateway.base_url + "/openai/v1/images/generations", json={}, headers=h).status_code == 404
    assert httpx.get(gateway.base_url + "/openai/v1/chat/completions", headers=h).status_code == 405
    models = httpx.get(gateway.base_url + "/openai/v1/models", headers=h)
    assert models.status_code == 200 and models.json()["object"] == "list"
    assert gateway.flush() and rows(ledger) == []


def test_a_client_that_disconnects_mid_stream_still_gets_a_row_with_the_tokens_seen(
        gateway: GatewayHost, upstream: FakeUpstream, ledger: Database) -> None:
    headers = {"X-AICost-Token": gateway.token or "", "X-Fake-Delay": "0.2", "X-Fake-Chunks": "50",
               "X-Fake-Prompt": "33"}
    with httpx.stream("POST", gateway.base_url + "/anthropic/v1/messages", json={**MSG, "stream": True},
                      headers=headers, timeout=10) as resp:
        seen = b""
        for chunk in resp.iter_raw():
            seen += chunk
            if seen.count(b"content_block_delta") >= 4:
                break  # leave the stream after a few deltas: the connection closes
    assert upstream.disconnected.wait(10)  # the gateway dropped its upstream call too (no more generation)
    assert gateway.flush()
    [row] = rows(ledger)
    assert "cancelled by the client" in row.note and "estimated" in row.note
    assert row.input_tokens == 33  # exact, from message_start
    assert 1 <= row.output_tokens < 15  # about the deltas seen, not the full answer
    assert row.computed_cost is not None and row.computed_cost > 0
    assert upstream.served[0].finished is False
