"""What every importer shares: the report, rejected rows, billing roles and the paged ledger driver."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import check_tokens
from aicost_desktop.domain.usage import UsageRecord

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

# A garbage file can produce millions of bad lines; keep details for the first ones, count all.
MAX_REJECTED_DETAILS = 1000
PAGE_SIZE = 1000


class Billing(str, Enum):
    """How a log source is paid: per token (spend) or by a subscription (equivalent cost only)."""

    PER_TOKEN = "per_token"
    SUBSCRIPTION = "subscription"

    @property
    def cost_role(self) -> CostRole:
        return CostRole.COVERED if self is Billing.SUBSCRIPTION else CostRole.SPEND


def parse_billing(value: str | Billing | None, field_name: str = "billing") -> Billing:
    """'per_token' (default) or 'subscription'; anything else is an InputError naming the field."""
    if value is None or value == "":
        return Billing.PER_TOKEN
    try:
        return Billing(value)
    except ValueError:
        raise InputError(field_name, value, "must be per_token or subscription") from None


@dataclass(frozen=True)
class RejectedRow:
    """One line that could not be imported: where it is and why."""

    line: int
    reason: str
    file: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.file else f"line {self.line}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    """What one import did. `skipped` counts entries not written: duplicates, ignored entries
    (synthetic, API errors, empty buckets) and rows already in the ledger unchanged."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    files: int = 0
    rejected_total: int = 0
    warnings: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str, file: str | Path | None = None) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REJECTED_DETAILS:
            self.rejected.append(RejectedRow(line, reason, str(file) if file is not None else None))

    def merge(self, other: "ImportReport") -> "ImportReport":
        self.added += other.added
        self.updated += other.updated
        self.skipped += other.skipped
        self.files += other.files
        self.rejected_total += other.rejected_total
        room = MAX_REJECTED_DETAILS - len(self.rejected)
        self.rejected.extend(other.rejected[:max(room, 0)])
        self.warnings.extend(other.warnings)
        return self

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, skipped {self.skipped}, "
                f"rejected {self.rejected_total}")

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "skipped": self.skipped,
                "rejected": self.rejected_total, "files": self.files,
                "rejected_rows": [r.to_dict() for r in self.rejected],
                "rejected_rows_truncated": self.rejected_total > len(self.rejected),
                "warnings": list(self.warnings)}


def ingest(db: "Database", records: Iterable[UsageRecord], report: ImportReport,
           page_size: int = PAGE_SIZE) -> ImportReport:
    """Stream records into the ledger a page per transaction; add the outcome to `report`.

    Parsers are generators that write their rejects and skips into the same report while the
    ledger consumes them, so nothing but one page is ever held here.
    """
    from aicost_desktop.storage.ledger import upsert_records  # lazy: `aicost import` with nothing new loads no SQLAlchemy

    result = upsert_records(db, records, page_size=page_size)
    report.added += result.added
    report.updated += result.updated
    report.skipped += result.unchanged
    return report


def collect(records: Iterable[UsageRecord]) -> list[UsageRecord]:
    """Materialize records (tests and dry runs); later duplicates of a dedup key replace earlier."""
    by_key: dict[tuple[str, str], UsageRecord] = {}
    for r in records:
        by_key[(r.source.value, r.dedup_key)] = r
    return list(by_key.values())


def stable_digest(content: Any) -> str:
    """A short hash of JSON-able content that is the same in every run and on every machine."""
    import hashlib  # lazy: a re-import with nothing new (mostly interpreter start and imports) never hashes

    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def parse_instant(text: Any, field_name: str = "timestamp") -> datetime:
    """ISO 8601 with 'Z' or an offset -> aware UTC datetime; InputError naming field and value."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field_name, text, "missing or not a string")
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(field_name, text, "not an ISO 8601 timestamp") from None
    if dt.tzinfo is None:
        raise InputError(field_name, text, "timestamp has no time zone")
    return dt.astimezone(timezone.utc)


def token_count(container: dict[str, Any], key: str, *, required: bool = False, prefix: str = "") -> int:
    """A token field within domain/limits.py's range; missing -> 0 unless required; InputError otherwise."""
    value = container.get(key)
    name = f"{prefix}{key}"
    if value is None:
        if required:
            raise InputError(name, value, "required token count is missing")
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return check_tokens(name, value)
