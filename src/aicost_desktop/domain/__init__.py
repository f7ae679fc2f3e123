"""Plain dataclasses and enums shared by every layer: money, token usage, ledger records."""

from aicost_desktop.domain.enums import CostRole, DataSource, Period, ServiceTier
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.domain.money import ZERO, money, parse_amount, validate_currency
from aicost_desktop.domain.usage import TokenUsage, UsageRecord

__all__ = [
    "CostRole", "DataSource", "Period", "ServiceTier", "InputError", "OperationError",
    "ZERO", "money", "parse_amount", "validate_currency", "TokenUsage", "UsageRecord",
]
