"""The gateway binds to loopback only, by construction; its token lives in the keychain and is redacted."""

from __future__ import annotations

import dataclasses

import pytest

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError
from aicost_desktop.gateway import token as tokens
from aicost_desktop.gateway.config import GatewayConfig
from aicost_desktop.secrets import MemorySecretStore


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "localhost", "example.com", ""])
def test_a_non_loopback_bind_cannot_be_configured(host: str) -> None:
    with pytest.raises(InputError, match="loopback"):
        GatewayConfig(host=host)
    with pytest.raises(InputError, match="loopback"):  # nor sneaked in by copying a valid config
        dataclasses.replace(GatewayConfig(), host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_addresses_are_accepted(host: str) -> None:
    assert GatewayConfig(host=host, port=0).host == host


@pytest.mark.parametrize("port", [-1, 65536, True, "80"])
def test_bad_ports_are_refused(port: object) -> None:
    with pytest.raises(InputError, match="port"):
        GatewayConfig(port=port)  # type: ignore[arg-type]


def test_upstreams_must_be_http_base_urls() -> None:
    with pytest.raises(InputError, match="upstream-openai"):
        GatewayConfig(upstreams={"openai": "ftp://x"})
    with pytest.raises(InputError):
        GatewayConfig(upstreams={"mistral": "https://api.mistral.ai/v1"})
    assert GatewayConfig(upstreams={"openai": "http://127.0.0.1:9/v1/"}).upstreams["openai"] == "http://127.0.0.1:9/v1"


def test_token_is_created_once_kept_in_the_store_and_redacted() -> None:
    store = MemorySecretStore()
    first = tokens.load_or_create(store)
    assert first.startswith("aicgw_") and len(first) > 40
    assert tokens.load_or_create(store) == first == store.get(tokens.TOKEN_REF)
    assert first not in redact.redact(f"token is {first}")
    rotated = tokens.rotate(store)
    assert rotated != first and store.get(tokens.TOKEN_REF) == rotated
    assert rotated not in redact.redact(f"token is {rotated}")


def test_token_comparison() -> None:
    t = tokens.new_token()
    assert tokens.matches(t, t)
    assert not tokens.matches(t[:-1], t) and not tokens.matches(t + "x", t)
    assert not tokens.matches(None, t) and not tokens.matches("", t)
    assert not tokens.matches("\udcff" + t, t)  # surrogate-escaped header bytes do not raise
