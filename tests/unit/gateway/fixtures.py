"""Gateway fixtures (imported by conftest.py here and by tests/integration/test_gateway_*.py): a fake upstream
for both APIs and a running gateway over a real SQLite ledger."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.gateway.config import GatewayConfig
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.secrets import MemorySecretStore
from aicost_desktop.storage.db import Database
from tests.unit.gateway.fake_upstream import FakeUpstream


CHAT = {"model": "gpt-4o-mini", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def configured(ctx: Any, upstream: FakeUpstream) -> Any:
    """The ctx with its gateway settings pointing at the fake upstream on a free port (not yet enabled)."""
    ctx.settings.set("gateway_port", free_port())
    ctx.settings.set("gateway_upstream_openai", upstream.openai_url)
    ctx.settings.set("gateway_upstream_anthropic", upstream.anthropic_url)
    return ctx


@pytest.fixture(scope="session")
def catalog() -> PriceCatalog:
    return PriceCatalog.load()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield db
    db.dispose()


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def make_gateway(upstream: FakeUpstream, ledger: Database, secrets: MemorySecretStore,
                 catalog: PriceCatalog) -> Iterator[Callable[..., GatewayHost]]:
    hosts: list[GatewayHost] = []

    def make(**kw: Any) -> GatewayHost:
        cfg = GatewayConfig(port=0, upstreams={"openai": upstream.openai_url, "anthropic": upstream.anthropic_url},
                            inject_accounts=kw.pop("inject_accounts", {}))
        host = GatewayHost(cfg, db=ledger, price=catalog.cost_of, secrets=secrets, tz=ZoneInfo("UTC"), **kw)
        host.start()
        hosts.append(host)
        return host

    yield make
    for h in hosts:
        h.stop()


@pytest.fixture
def gateway(make_gateway: Callable[..., GatewayHost]) -> GatewayHost:
    return make_gateway()
