"""Any CSV with a column mapping (`--map col=field`): spend from invoices, other tools, spreadsheets."""

from __future__ import annotations

from datetime import timezone, tzinfo
from typing import Any, Callable, Iterable, Sequence

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import parse_row_amount
from aicost_desktop.domain.money import validate_currency
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.importers.csv_common import cell, parse_bucket, parse_tokens
from aicost_desktop.sync.base import Pricer

FIELDS = ("date", "amount", "currency", "provider", "model", "input_tokens", "output_tokens",
          "cache_read_tokens", "cache_write_tokens", "note", "account", "project")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
DEFAULT_PROVIDER = "other"

# Resolves an account name from the file to a ledger account id (None: no such account).
AccountResolver = Callable[[str], "int | None"]


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """['Day=date', 'Cost (USD)=amount'] -> {field: column}; InputError naming the bad item."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, field = item.rpartition("=")
        column, field = column.strip(), field.strip()
        if not sep or not column:
            raise InputError("map", item, "must be COLUMN=FIELD, e.g. Date=date")
        if field not in FIELDS:
            raise InputError("map", item, f"unknown field {field!r}; use one of {', '.join(FIELDS)}")
        if field in mapping:
            raise InputError("map", item, f"field {field!r} is mapped twice")
        mapping[field] = column
    if "date" not in mapping:
        raise InputError("map", ", ".join(items) or "(none)", "a column must be mapped to date")
    if "amount" not in mapping and not any(f in mapping for f in TOKEN_FIELDS):
        raise InputError("map", ", ".join(items), "map a column to amount or to a token field")
    return mapping


class GenericCsv:
    """`--format generic`: rows become spend (amount) or priced token usage (no amount)."""

    name = "generic"

    def __init__(self, mapping: dict[str, str], pricer: Pricer, tz: tzinfo = timezone.utc,
                 accounts: AccountResolver | None = None) -> None:
        self.mapping = mapping
        self.pricer = pricer
        self.tz = tz
        self.accounts = accounts
        self.required: Sequence[str] = tuple(mapping.values())

    def check_header(self, header: Sequence[str]) -> None:
        return None

    def _get(self, row: dict[str, str], field: str) -> str:
        column = self.mapping.get(field)
        return cell(row, column) if column else ""

    def parse(self, row: dict[str, str]) -> dict[str, Any] | None:
        col = self.mapping
        start, end = parse_bucket(self._get(row, "date"), col["date"], self.tz)
        usage = TokenUsage(
            input_tokens=parse_tokens(self._get(row, "input_tokens"), col.get("input_tokens", "")),
            output_tokens=parse_tokens(self._get(row, "output_tokens"), col.get("output_tokens", "")),
            cache_read_tokens=parse_tokens(self._get(row, "cache_read_tokens"), col.get("cache_read_tokens", "")),
            cache_write_5m_tokens=parse_tokens(self._get(row, "cache_write_tokens"),
                                               col.get("cache_write_tokens", "")),
        )
        raw_amount = self._get(row, "amount")
        amount = parse_row_amount(raw_amount, col["amount"], allow_zero=True) if raw_amount else None
        if amount is None and usage.total_tokens == 0:
            raise InputError(col.get("amount", "amount"), raw_amount, "row has neither an amount nor tokens")
        currency = validate_currency(self._get(row, "currency") or "USD", col.get("currency", "currency"))
        model = self._get(row, "model") or None
        computed = None
        if amount is None:
            computed = self.pricer(model, usage, ServiceTier.STANDARD, start.date())
        return {
            "provider": (self._get(row, "provider") or DEFAULT_PROVIDER).lower(),
            "bucket_start": start, "bucket_end": end, "usage": usage, "model": model,
            "reported_cost": amount, "computed_cost": computed, "currency": currency,
            "note": self._raw(row, "note"), "project": self._get(row, "project") or None,
            "account_id": self._account(row),
        }

    def _raw(self, row: dict[str, str], field: str) -> str | None:
        """Free text kept exactly as in the file (formula-like text included)."""
        column = self.mapping.get(field)
        value = row.get(column) if column else None
        return value if value else None

    def _account(self, row: dict[str, str]) -> int | None:
        name = self._get(row, "account")
        if not name:
            return None
        found = self.accounts(name) if self.accounts else None
        if found is None:
            raise InputError(self.mapping["account"], name, "no account with this name; add it first")
        return found
