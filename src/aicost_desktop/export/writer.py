"""Streaming export of ledger rows to CSV, JSON (one array) or NDJSON with constant memory.

Rows are streamed in batches from one query (a server-side cursor on PostgreSQL), written to
a temp file in the target directory and moved into place with os.replace only on success: a cancelled
or failed export leaves no partial file at the target path.
"""

from __future__ import annotations

import csv
import glob
import json
import logging
import operator
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, String, func, select, type_coerce

from aicost_desktop.domain.days import whole_hour_zone
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.domain.money import format_money
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter, display_names, where_clauses
from aicost_desktop.storage.tables import UsageRow
from aicost_desktop.storage.types import units_to_money

log = logging.getLogger("aicost.export")

FORMATS = ("csv", "json", "ndjson")
DEFAULT_COLUMNS = ("id", "start_utc", "local_day", "provider", "account", "model", "source", "input_tokens",
                   "output_tokens", "cache_read_tokens", "cache_write_tokens", "reported_cost", "computed_cost",
                   "cost", "currency", "note")
EXTRA_COLUMNS = ("end_utc", "workspace", "project", "model_vendor", "api_key_id", "line_item", "service_tier",
                 "cost_role", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "requests",
                 "dated", "dedup_key", "is_demo", "updated_at")
ALL_COLUMNS = DEFAULT_COLUMNS + EXTRA_COLUMNS
# Each column in words (the dialog's picker) and what it holds; the file's header keeps the field names, which
# scripts and spreadsheets key on.
COLUMN_WORDS: dict[str, tuple[str, str]] = {
    "id": ("Row id", "the ledger's id of the row (never reused)"),
    "start_utc": ("Start (UTC)", "start of the usage bucket, ISO 8601 in UTC"),
    "local_day": ("Local day", "the day the row counts on, in your time zone"),
    "provider": ("Provider", "openai, anthropic, ..."),
    "account": ("Account", "the account's name"),
    "model": ("Model / service", "the model, or the service of a manual entry or subscription"),
    "source": ("Source", "where the row came from: api, import, log, manual, subscription, proxy (the gateway)"),
    "input_tokens": ("Input tokens", "uncached prompt tokens (cache reads and writes not included)"),
    "output_tokens": ("Output tokens", "completion tokens"),
    "cache_read_tokens": ("Cache read tokens", "prompt tokens read from the cache"),
    "cache_write_tokens": ("Cache write tokens", "prompt tokens written to the cache (5 min and 1 h together)"),
    "reported_cost": ("Reported cost", "what the provider says it charged (empty when it did not say)"),
    "computed_cost": ("Computed cost", "tokens times the price catalog (empty when unpriced)"),
    "cost": ("Cost", "the cost the totals use, in the row's currency"),
    "currency": ("Currency", "ISO code of the row's amounts; always exported with an amount"),
    "note": ("Note", "your note"),
    "end_utc": ("End (UTC)", "end of the usage bucket, ISO 8601 in UTC"),
    "workspace": ("Workspace", "the ledger workspace"),
    "project": ("Project", "the provider's project, or the gateway's X-AICost-Project"),
    "model_vendor": ("Model vendor", "who made the model (for routers such as OpenRouter)"),
    "api_key_id": ("API key id", "the provider's id of the key (never the key itself)"),
    "line_item": ("Line item", "the provider's billing line item"),
    "service_tier": ("Service tier", "standard, batch, priority or flex"),
    "cost_role": ("Cost role", "spend (counts in totals), detail (tokens of money another row reports) or "
                                      "covered (paid by a subscription)"),
    "cache_write_5m_tokens": ("Cache write tokens (5 min)", "tokens written to the 5-minute cache"),
    "cache_write_1h_tokens": ("Cache write tokens (1 h)", "tokens written to the 1-hour cache"),
    "reasoning_tokens": ("Reasoning tokens", "thinking tokens the provider reported (part of output when it says so)"),
    "requests": ("Requests", "number of API requests"),
    "dated": ("Whole day", "true when the row belongs to a calendar date in every time zone"),
    "dedup_key": ("Deduplication key", "what makes a re-import replace the row instead of adding it"),
    "is_demo": ("Sample data", "true for rows of the sample data"),
    "updated_at": ("Updated (UTC)", "when the row was last written"),
}
MONEY_COLUMNS = frozenset({"reported_cost", "computed_cost", "cost"})
INT_COLUMNS = frozenset({"id", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                         "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "requests"})
TEXT_COLUMNS = frozenset({"provider", "account", "model", "source", "currency", "note", "workspace", "project",
                          "model_vendor", "api_key_id", "line_item", "service_tier", "cost_role", "dedup_key"})
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 5000


class ExportCancelled(OperationError):
    """The user cancelled; nothing was written at the target path."""


@dataclass
class ExportSpec:
    """What to export: format, target, local-day range (None = open), filters and columns.

    `start`/`end`, when given, replace the filter's dates; `sources` narrows its sources."""

    fmt: str
    path: Path
    start: date | None = None
    end: date | None = None
    filters: LedgerFilter = field(default_factory=LedgerFilter)
    sources: Sequence[str] | None = None
    columns: Sequence[str] = DEFAULT_COLUMNS
    bom: bool = False
    batch_size: int = BATCH

    def validate(self) -> None:
        if self.fmt not in FORMATS:
            raise InputError("format", self.fmt, f"use one of {', '.join(FORMATS)}")
        bad = [c for c in self.columns if c not in ALL_COLUMNS]
        if bad:
            raise InputError("columns", ",".join(bad), f"unknown column; use {', '.join(ALL_COLUMNS)}")
        if not self.columns:
            raise InputError("columns", "", "choose at least one column")
        self.ledger_filter().validate()

    def ledger_filter(self) -> LedgerFilter:
        """The rows this export selects, as one filter."""
        flt = self.filters
        if self.start is not None or self.end is not None:
            flt = replace(flt, start=self.start if self.start is not None else flt.start,
                          end=self.end if self.end is not None else flt.end)
        return flt.narrowed(sources=list(self.sources) if self.sources else None)


@dataclass
class ExportResult:
    path: Path
    rows: int
    # Exact sum of the `cost` column per currency, in 1e-10 units: amounts in different currencies are never
    # added, the file keeps each row's own currency.
    cost_units: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, Decimal]:
        """The sum of the `cost` column per currency (as recorded), by currency code."""
        return {c: units_to_money(u) for c, u in sorted(self.cost_units.items())}

    def cost_text(self, empty_currency: str = "USD") -> str:
        """The totals in the one money format, one per currency: '$10.00', '$10.00 + 54.00 EUR'."""
        totals = self.totals or {empty_currency: units_to_money(0)}
        return " + ".join(format_money(v, c) for c, v in totals.items())


def add_costs(totals: dict[str, int], rows: Sequence[Any], cost: Callable[[Any], int],
              currency: Callable[[Any], str]) -> None:
    """Add the rows' costs to `totals`, per currency. A batch is usually in one currency: then one sum."""
    codes = set(map(currency, rows))
    if len(codes) == 1:
        code = codes.pop()
        totals[code] = totals.get(code, 0) + sum(map(cost, rows))
        return
    for r in rows:
        code = currency(r)
        totals[code] = totals.get(code, 0) + cost(r)


def parse_columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_COLUMNS
    cols = tuple(c.strip() for c in text.split(",") if c.strip())
    ExportSpec("csv", Path("."), columns=cols).validate()
    return cols


def with_currency(columns: Sequence[str]) -> tuple[str, ...]:
    """`columns`, plus `currency` after the last money column when it is missing: amounts are exported as
    recorded, in each row's own currency (not converted to the display currency), so a row has to say which."""
    cols = tuple(columns)
    money = [i for i, c in enumerate(cols) if c in MONEY_COLUMNS]
    if not money or "currency" in cols:
        return cols
    return cols[:money[-1] + 1] + ("currency",) + cols[money[-1] + 1:]


def neutralize(value: str) -> str:
    """Make a CSV cell inert in spreadsheets: a leading = + - @ tab or CR would start a formula."""
    if value and value[0] in _DANGEROUS:
        return "'" + value
    return value


def money_text(units: int | None) -> str | None:
    """Exact decimal string of 1e-10 units, trailing zeros trimmed to at least 2 places ('12.50')."""
    if units is None:
        return None
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), 10_000_000_000)
    frac = f"{r:010d}".rstrip("0")
    if len(frac) < 2:
        frac = frac.ljust(2, "0")
    return f"{sign}{q}.{frac}"


class _Times:
    """Fast ISO-8601 UTC text and local day from stored instants, cached per hour (whole-hour zones)."""

    def __init__(self, tz: ZoneInfo, whole_hours: bool) -> None:
        self.tz = tz
        self.cut = 13 if whole_hours else 16  # 'YYYY-MM-DD HH' or 'YYYY-MM-DD HH:MM'
        self.cache: dict[str, str] = {}

    @staticmethod
    def iso(v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, datetime):
            v = v.replace(tzinfo=None).isoformat(sep=" ")
        s = str(v)
        frac = s[19:].rstrip("0")
        return f"{s[:10]}T{s[11:19]}{frac if len(frac) > 1 else ''}Z"

    def local_day(self, v: Any, dated: Any) -> str:
        s = v if isinstance(v, str) else v.replace(tzinfo=None).isoformat(sep=" ")
        if dated:
            return s[:10]
        key = s[:self.cut]
        day = self.cache.get(key)
        if day is None:
            dt = datetime.fromisoformat(s[:19]).replace(tzinfo=timezone.utc)
            day = self.cache[key] = dt.astimezone(self.tz).date().isoformat()
        return day


def _select(T: Any, dialect: str) -> tuple[list[str], list[Any]]:
    raw_time = String if dialect == "sqlite" else None
    def t(col: Any) -> Any:
        return type_coerce(col, raw_time) if raw_time else col
    cols = {
        "id": T.id, "bucket_start": t(T.bucket_start), "bucket_end": t(T.bucket_end), "dated": T.dated,
        "provider": T.provider, "account_id": T.account_id, "workspace_id": T.workspace_id, "model": T.model,
        "source": T.source, "input_tokens": T.input_tokens, "output_tokens": T.output_tokens,
        "cache_read_tokens": T.cache_read_tokens, "cache_write_5m_tokens": T.cache_write_5m_tokens,
        "cache_write_1h_tokens": T.cache_write_1h_tokens, "reasoning_tokens": T.reasoning_tokens,
        "requests": T.requests,
        # Money as raw integer units: exact, and no Decimal round trip per cell.
        "reported_cost": type_coerce(T.reported_cost, BigInteger), "computed_cost": type_coerce(T.computed_cost, BigInteger),
        "cost": type_coerce(T.cost, BigInteger), "currency": T.currency, "note": T.note, "project": T.project,
        "model_vendor": T.model_vendor, "api_key_id": T.api_key_id, "line_item": T.line_item,
        "service_tier": T.service_tier, "cost_role": T.cost_role, "dedup_key": T.dedup_key,
        "is_demo": type_coerce(T.is_demo, Boolean), "updated_at": t(T.updated_at),
    }
    return list(cols), list(cols.values())


def _where(db: Database, tz: ZoneInfo, spec: ExportSpec) -> list[Any]:
    """The export's WHERE clauses: local-day range (if any), filters, sources."""
    return where_clauses(db, spec.ledger_filter(), tz, UsageRow)


def iter_rows(db: Database, tz: ZoneInfo, spec: ExportSpec) -> Iterator[Sequence[Sequence[Any]]]:
    """Batches of raw rows in id order, streamed from one query (constant memory)."""
    T = UsageRow
    names, cols = _select(T, db.dialect)
    q = select(*cols).where(*_where(db, tz, spec)).order_by(T.id)
    # One streamed query (server-side cursor on PostgreSQL, lazy cursor on SQLite): constant memory and
    # one consistent snapshot, so the exported sum equals a report taken at the same moment. A read
    # transaction in WAL mode does not block writers.
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=spec.batch_size).execute(q)
        for part in result.partitions():
            yield part


def count_rows(db: Database, tz: ZoneInfo, spec: ExportSpec) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UsageRow).where(*_where(db, tz, spec))) or 0)


def export(db: Database, tz: ZoneInfo, spec: ExportSpec,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> ExportResult:
    """Write the rows selected by `spec`; progress(done, total) after each batch; `cancelled()` is polled
    between batches and raises ExportCancelled. Read-only or missing target dirs raise OperationError."""
    spec.validate()
    target = Path(spec.path).expanduser().absolute()
    if target.is_dir():
        raise InputError("out", str(target), "is a directory; give a file name")
    if not target.parent.is_dir():
        raise OperationError(f"cannot export to {target}: folder {target.parent} does not exist")
    total = count_rows(db, tz, spec) if progress else 0
    names = display_names(db)
    remove_stale_parts(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise OperationError(f"cannot write to folder {target.parent}: {exc.strerror or exc}") from None
    lock = _lock_part(tmp)  # held until the part is renamed: a running export's part is never stale
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if spec.bom and spec.fmt == "csv" else "utf-8",
                       newline="") as fh:
            if spec.bom and spec.fmt != "csv":
                fh.write("\ufeff")
            rows, units = _write(fh, db, tz, spec, names, total, progress, cancelled)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OperationError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    finally:
        if lock is not None:
            os.close(lock)
    log.info("exported %d rows to %s", rows, target)
    return ExportResult(target, rows, units)


def _lock_part(path: str) -> int | None:
    """An exclusive lock on a part file being written (POSIX flock; None where there is none)."""
    try:
        import fcntl  # platform: POSIX only; Windows has no fcntl (an open file cannot be deleted there anyway)
    except ImportError:
        return None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _unlink_unless_held(part: Path) -> None:
    """Delete a part file, or raise OSError while an export still holds it."""
    try:
        import fcntl  # platform: POSIX only (see _lock_part)
    except ImportError:
        os.unlink(part)  # Windows refuses while another export has the file open
        return
    fd = os.open(part, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while an export holds it
        os.unlink(part)
    finally:
        os.close(fd)


def remove_stale_parts(target: Path) -> int:
    """Delete the `.NAME.*.part` files a killed export to `target` left behind; returns how many.
    A part another export is still writing is locked (or, on Windows, open) and is kept."""
    removed = 0
    for part in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        try:
            _unlink_unless_held(part)
            removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d stale partial export(s) of %s", removed, target)
    return removed


def _write(fh: IO[str], db: Database, tz: ZoneInfo, spec: ExportSpec, names: dict[str, dict[Any, str]],
           total: int, progress: Callable[[int, int], None] | None,
           cancelled: Callable[[], bool] | None) -> tuple[int, dict[str, int]]:
    if spec.fmt == "csv" and db.dialect == "sqlite":
        from aicost_desktop.export.sqlite_csv import csv_sqlite  # cycle: export.sqlite_csv imports this module

        fast = csv_sqlite(fh, db, tz, spec, names, total, progress, cancelled)
        if fast is not None:
            return fast
    raw_names, fns, text_pos = _csv_formatter(db, tz, spec.columns, names)
    cost_of = operator.itemgetter(raw_names.index("cost"))
    currency_of = operator.itemgetter(raw_names.index("currency"))
    columns = list(spec.columns)
    writer = csv.writer(fh, lineterminator="\r\n") if spec.fmt == "csv" else None
    if writer:
        writer.writerow(columns)
    elif spec.fmt == "json":
        fh.write("[")
    done = 0
    units: dict[str, int] = {}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for batch in iter_rows(db, tz, spec):
        if cancelled and cancelled():
            raise ExportCancelled("export cancelled; nothing was written")
        if writer:
            writer.writerows([_csv_cells(r, fns, text_pos) for r in batch])
        else:
            parts = [dumps(dict(zip(columns, [f(r) for f in fns]))) for r in batch]
            if spec.fmt == "json":
                fh.write(("," if done else "") + "\n" + ",\n".join(parts))
            else:
                fh.write("\n".join(parts) + "\n")
        add_costs(units, batch, cost_of, currency_of)
        done += len(batch)
        if progress:
            progress(done, max(total, done))
    if spec.fmt == "json":
        fh.write("\n]\n" if done else "]\n")
    if cancelled and cancelled():
        raise ExportCancelled("export cancelled; nothing was written")
    return done, units


def _csv_formatter(db: Database, tz: ZoneInfo, columns: Sequence[str], names: dict[str, dict[Any, str]]
                   ) -> tuple[list[str], list[Callable[[Any], Any]], list[int]]:
    """Raw column names of _select(), one cell function per exported column, positions of text columns."""
    raw_names, _ = _select(UsageRow, db.dialect)
    ix = {n: i for i, n in enumerate(raw_names)}
    times = _Times(tz, whole_hour_zone(tz, date(2000, 1, 1), date(2040, 1, 1)))
    getters = _getters(ix, times, names["account"], names["workspace"])
    return raw_names, [getters[c] for c in columns], [i for i, c in enumerate(columns) if c in TEXT_COLUMNS]


def _csv_cells(r: Any, fns: list[Callable[[Any], Any]], text_pos: list[int]) -> list[Any]:
    """One raw row as CSV cells: formatted, text cells neutralized (shared by both CSV paths: same bytes)."""
    vals = [f(r) for f in fns]
    for i in text_pos:
        v = vals[i]
        if v and v[0] in _DANGEROUS:
            vals[i] = "'" + v
    return vals


def _getters(ix: dict[str, int], times: _Times, accounts: dict[Any, str],
             workspaces: dict[Any, str]) -> dict[str, Callable[[Any], Any]]:
    def col(name: str) -> Callable[[Any], Any]:
        i = ix[name]
        return lambda r: r[i]

    def money(name: str) -> Callable[[Any], Any]:
        i = ix[name]
        return lambda r: money_text(r[i])

    bs, be, dt, cw5, cw1 = ix["bucket_start"], ix["bucket_end"], ix["dated"], ix["cache_write_5m_tokens"], \
        ix["cache_write_1h_tokens"]
    acc, ws, up = ix["account_id"], ix["workspace_id"], ix["updated_at"]
    g: dict[str, Callable[[Any], Any]] = {c: col(c) for c in (
        "id", "provider", "model", "source", "input_tokens", "output_tokens", "cache_read_tokens", "currency",
        "note", "project", "model_vendor", "api_key_id", "line_item", "service_tier", "cost_role",
        "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "requests", "dedup_key")}
    g.update({c: money(c) for c in MONEY_COLUMNS})
    g["start_utc"] = lambda r: times.iso(r[bs])
    g["end_utc"] = lambda r: times.iso(r[be])
    g["updated_at"] = lambda r: times.iso(r[up])
    g["local_day"] = lambda r: times.local_day(r[bs], r[dt])
    g["cache_write_tokens"] = lambda r: r[cw5] + r[cw1]
    g["account"] = lambda r: accounts.get(r[acc]) if r[acc] is not None else None
    g["workspace"] = lambda r: workspaces.get(r[ws])
    g["dated"] = lambda r: bool(r[dt])
    g["is_demo"] = lambda r: bool(r[ix["is_demo"]])
    return g
