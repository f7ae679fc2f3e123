"""Enumerations of the ledger's vocabulary: where a row came from, its tier, its role in totals."""

from __future__ import annotations

from enum import Enum


class DataSource(str, Enum):
    """Where a ledger row came from; shown as a badge everywhere."""

    API = "api"
    IMPORT = "import"
    LOG = "log"
    MANUAL = "manual"
    SUBSCRIPTION = "subscription"
    PROXY = "proxy"


class ServiceTier(str, Enum):
    """Pricing tier of a request."""

    STANDARD = "standard"
    BATCH = "batch"
    PRIORITY = "priority"
    FLEX = "flex"


class CostRole(str, Enum):
    """How a row's money takes part in spend totals.

    SPEND rows count. DETAIL rows carry token detail for money reported by another row
    (OpenAI usage vs costs describe the same spend, so adding both would double count).
    COVERED rows are usage paid by a subscription: shown as equivalent API cost, not spend.
    """

    SPEND = "spend"
    DETAIL = "detail"
    COVERED = "covered"


class Period(str, Enum):
    """Calendar period of a budget or subscription."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
