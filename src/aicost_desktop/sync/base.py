"""Contracts shared by every provider sync: account info, pricing hook, page sink, report."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Protocol

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage, UsageRecord

if TYPE_CHECKING:  # only in signatures: importers use Pricer, and httpx costs ~0.1 s to import
    import httpx


class Pricer(Protocol):
    """Prices tokens with our catalog (`PriceCatalog.cost_of`); None means unpriced (never $0).

    `long_context` says which side of a per-request long-context threshold an aggregate is on
    (Anthropic reports a `context_window` per bucket); callers that do not know leave it None.
    """

    def __call__(self, model: str | None, usage: TokenUsage, tier: ServiceTier, at: date, /, *,
                 long_context: bool | None = None) -> Decimal | None: ...


# Receives one parsed page; the caller commits it as one transaction.
PageSink = Callable[[list[UsageRecord]], None]
# (done, total) where total may be 0 when unknown.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AccountInfo:
    """What a sync needs to know about an account. The key is held only in memory."""

    id: int
    name: str
    provider: str
    base_url: str
    workspace_id: int
    api_key: str = field(repr=False)


@dataclass
class BalanceSnapshot:
    """A prepaid balance or credit limit reading (DeepSeek, Moonshot, OpenRouter), not spend."""

    currency: str
    total: Decimal | None = None
    remaining: Decimal | None = None
    used: Decimal | None = None
    limit: Decimal | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class SyncReport:
    """What one sync run did."""

    pages: int = 0
    records: int = 0
    requests: int = 0
    retries: int = 0
    balance: BalanceSnapshot | None = None
    warnings: list[str] = field(default_factory=list)
    # The provider keeps no history before this UTC day (OpenRouter: 30 days), yet the window asked for it.
    unavailable_before: date | None = None


class AuthError(Exception):
    """401/403: the account needs attention; the message says which kind of key is needed."""


class ProviderError(Exception):
    """A provider answered with an error or a malformed page; the sync aborts without writing it."""


class ProviderSync(Protocol):
    """One provider's sync job. Implementations keep build/parse steps as pure functions."""

    provider: str

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport: ...

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        """Return a one-line success description or raise AuthError / ProviderError."""
        ...
