"""Fixtures: a manager over a real SQLite ledger and an in-memory keychain, with waits recorded, not slept."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.secrets import MemorySecretStore
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.slack import SlackFake


class Waits(list):
    """A RetryPolicy sleep that records the delay instead of sleeping (the fakes answer at once)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def keychain() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def manager(sqlite_db, keychain, waits) -> Iterator[IntegrationManager]:  # type: ignore[no-untyped-def]
    m = IntegrationManager(sqlite_db, keychain, client=httpx.Client(timeout=5),
                           policy=RetryPolicy(sleep=waits, jitter=lambda: 1.0), login_timeout=5)
    yield m
    m.close()


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    with serving(SlackFake()) as fake:
        yield fake
