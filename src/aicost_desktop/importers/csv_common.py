"""Streaming CSV reader shared by the console-export and generic importers: header checks, row keys.

A row's dedup key is `<format>:<hash of its parsed content>:<n>`, where n counts identical rows
earlier in the same file, so importing a file twice changes nothing while two genuinely equal
rows (two $5 charges on one day) stay two rows. Cell text is kept verbatim: a note such as
`=HYPERLINK(...)` is stored as typed; escaping formula-like cells is the exporter's job.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import check_row_money, check_tokens, check_usage_day, check_usage_instant
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers.base import ImportReport, stable_digest

# Row fields that must not change a row's identity: prices get corrected, roles get re-chosen.
_NOT_IDENTITY = ("computed_cost", "cost_role", "workspace_id")


class CsvFormat(Protocol):
    """One CSV shape: its name (also the dedup key prefix), required columns and row parser."""

    name: str
    required: Sequence[str]

    def check_header(self, header: Sequence[str]) -> None:
        """Raise InputError when the header cannot be read by this format (beyond `required`)."""

    def parse(self, row: dict[str, str]) -> dict[str, Any] | None:
        """UsageRecord keyword arguments (without source/dedup_key), or None for an empty row."""


def cell(row: dict[str, str], column: str) -> str:
    """A cell's text with surrounding whitespace removed ('' when absent)."""
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def parse_tokens(text: str, field: str) -> int:
    """A token count cell: '' -> 0; '1,234' and '12.0' are accepted; anything else names the field."""
    t = text.replace(",", "").replace("_", "").strip()
    if not t:
        return 0
    try:
        d = Decimal(t)
    except ArithmeticError:
        raise InputError(field, text, "must be a whole number of tokens") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise InputError(field, text, "must be a whole number of tokens")
    if d < 0:
        raise InputError(field, text, "must not be negative")
    return check_tokens(field, int(d))


def provider_amount(text: str, field: str) -> Decimal:
    """A provider-reported amount: any finite non-negative decimal, rounded to ledger scale
    (exports carry float noise such as 0.003835980000000000000000000000)."""
    try:
        d = Decimal(text.strip())
    except ArithmeticError:
        raise InputError(field, text, "must be a decimal number such as 12.50") from None
    if not d.is_finite():
        raise InputError(field, text, "must be a finite number")
    if d < 0:
        raise InputError(field, text, "must not be negative")
    try:
        check_row_money(field, d)
    except InputError as exc:
        raise InputError(field, text, exc.reason) from None
    return money(d)


def parse_bucket(text: str, field: str, tz: tzinfo = timezone.utc) -> tuple[datetime, datetime]:
    """A date (the whole local day in `tz`) or a timestamp (a point; naive ones are in `tz`)."""
    t = text.strip()
    if not t:
        raise InputError(field, text, "a date is required")
    try:
        day = date.fromisoformat(t) if len(t) == 10 else None
    except ValueError:
        raise InputError(field, text, "must be a date YYYY-MM-DD or an ISO 8601 timestamp") from None
    if day is not None:
        check_usage_day(field, day)  # before the day's end is computed: 9999-12-31 has none
    try:
        if day is not None:
            start = datetime.combine(day, time(0), tzinfo=tz)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            return start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(field, text, "must be a date YYYY-MM-DD or an ISO 8601 timestamp") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    check_usage_instant(field, dt)  # before astimezone: year 9999 in a zone east of UTC overflows
    dt = dt.astimezone(timezone.utc)
    return dt, dt


def normalize_model(name: str) -> str | None:
    """'Claude Haiku 4.5' -> 'claude-haiku-4-5'; ids pass through lower-cased; '' -> None."""
    t = " ".join(name.split()).lower()
    if not t:
        return None
    return t.replace(" ", "-").replace(".", "-") if " " in t else t


def _identity(kwargs: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for k, v in kwargs.items():
        if k in _NOT_IDENTITY or v is None:
            continue
        if isinstance(v, TokenUsage):
            v = asdict(v)
        elif isinstance(v, Decimal):
            v = f"{v.normalize():f}"
        elif isinstance(v, datetime):
            v = v.isoformat()
        elif hasattr(v, "value"):
            v = v.value
        content[k] = v
    return content


def text_encoding(path: Path) -> tuple[str, str | None]:
    """The encoding to read a CSV with, and a warning when it is not UTF-8.

    Spreadsheet apps save "CSV" as UTF-8 (with or without a BOM), UTF-16 with a BOM ("Unicode
    text") or the Windows code page; a file that is not valid UTF-8 is read as Windows-1252,
    the superset of Latin-1 those apps write, and the user is told.
    """
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", None
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", None
        pairs = len(head) // 2
        if pairs and head[1::2].count(0) > pairs * 0.4 and head[0::2].count(0) == 0:
            return "utf-16-le", None
        if pairs and head[0::2].count(0) > pairs * 0.4 and head[1::2].count(0) == 0:
            return "utf-16-be", None
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = fh.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252", f"{path}: not UTF-8; read as Windows-1252 (Latin-1)"
    return "utf-8", None


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field limit" in text:
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    return f"not readable as CSV ({text})"


def iter_csv(path: Path, fmt: CsvFormat, report: ImportReport, *, cost_role: CostRole = CostRole.SPEND,
             workspace_id: int | None = None,
             on_header: Callable[[Sequence[str]], None] | None = None) -> Iterator[UsageRecord]:
    """Stream a CSV file's rows as records; bad rows go to `report` with line, field and value."""
    if not path.exists():
        raise InputError("FILE", str(path), "does not exist")
    if not path.is_file():
        raise InputError("FILE", str(path), "is not a file")
    seen: Counter[str] = Counter()
    encoding, note = text_encoding(path)
    if note:
        report.warnings.append(note)
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:  # a header the reader cannot take: no row can be read against it
            raise InputError("FILE", str(path), f"header row: {_csv_reason(exc)}") from None
        header = [h.strip() for h in (fieldnames or [])]
        if not header:
            raise InputError("FILE", str(path), "is empty: no header row")
        reader.fieldnames = header
        missing = [c for c in fmt.required if c not in header]
        if missing:
            raise InputError("FILE", str(path), f"not a {fmt.name} CSV: missing column(s) "
                             f"{', '.join(missing)}; found {', '.join(header)}")
        fmt.check_header(header)
        if on_header:
            on_header(header)
        report.files += 1
        prev = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # the reader goes on with the next line
                line = prev + 1
                prev = max(reader.line_num, line)
                report.reject(line, _csv_reason(exc))
                continue
            line, prev = prev + 1, reader.line_num
            if None in row:
                report.reject(line, f"has {len(row[None])} more cell(s) than the header")
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            try:
                kwargs = fmt.parse(row)
            except InputError as exc:
                report.reject(line, str(exc))
                continue
            if kwargs is None:
                report.skipped += 1
                continue
            kwargs.setdefault("workspace_id", workspace_id)
            digest = stable_digest(_identity(kwargs))
            seen[digest] += 1
            try:
                yield UsageRecord(source=DataSource.IMPORT, dedup_key=f"{fmt.name}:{digest}:{seen[digest]}",
                                  cost_role=kwargs.pop("cost_role", cost_role), **kwargs)
            except (TypeError, ValueError) as exc:
                report.reject(line, str(exc))
