"""Streaming export of ledger rows to CSV, JSON (one array) or NDJSON with constant memory.

Rows are streamed in batches from one query (a server-side cursor on PostgreSQL), written to
a temp file in the target directory and moved into place with os.replace only on success: a cancelled
or failed export leaves no partial file at the target path.
"""

from __future__ import annotations

import csv
import json
import logging
import operator
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import (BigInteger, Boolean, Integer, String, case, func, literal, literal_column, select,
                        type_coerce)

from aicost_desktop.analytics.report import Filters, _conditions, _names
from aicost_desktop.domain.days import whole_hour_zone
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow

log = logging.getLogger("aicost.export")

FORMATS = ("csv", "json", "ndjson")
DEFAULT_COLUMNS = ("id", "start_utc", "local_day", "provider", "account", "model", "source", "input_tokens",
                   "output_tokens", "cache_read_tokens", "cache_write_tokens", "reported_cost", "computed_cost",
                   "cost", "currency", "note")
EXTRA_COLUMNS = ("end_utc", "workspace", "project", "model_vendor", "api_key_id", "line_item", "service_tier",
                 "cost_role", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "requests",
                 "dated", "dedup_key", "is_demo", "updated_at")
ALL_COLUMNS = DEFAULT_COLUMNS + EXTRA_COLUMNS
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
    """What to export: format, target, local-day range (None = everything), filters and columns."""

    fmt: str
    path: Path
    start: date | None = None
    end: date | None = None
    filters: Filters = field(default_factory=Filters)
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
        if self.start and self.end and self.end < self.start:
            raise InputError("to", self.end.isoformat(), f"is before from={self.start.isoformat()}")


@dataclass
class ExportResult:
    path: Path
    rows: int
    cost_units: int  # exact sum of the `cost` column in 1e-10 units

    @property
    def total_cost(self) -> Any:
        from aicost_desktop.storage.types import units_to_money

        return units_to_money(self.cost_units)


def parse_columns(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_COLUMNS
    cols = tuple(c.strip() for c in text.split(",") if c.strip())
    ExportSpec("csv", Path("."), columns=cols).validate()
    return cols


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
    T = UsageRow
    cond: list[Any] = []
    if spec.start or spec.end:
        start = spec.start or date(1970, 1, 2)
        end = spec.end or date(9998, 12, 30)
        cond = _conditions(db, T, start, end, tz, spec.filters, mode="all")
    else:
        cond = _conditions(db, T, date(1970, 1, 2), date(9998, 12, 30), tz, spec.filters, mode="all")[1:]
    if spec.sources:
        cond.append(T.source.in_(list(spec.sources)))
    return cond


def iter_rows(db: Database, tz: ZoneInfo, spec: ExportSpec) -> Iterator[list[tuple[Any, ...]]]:
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
    from sqlalchemy import func

    T = UsageRow
    start, end = spec.start or date(1970, 1, 2), spec.end or date(9998, 12, 30)
    cond = _conditions(db, T, start, end, tz, spec.filters, mode="all")
    if not (spec.start or spec.end):
        cond = cond[1:]
    if spec.sources:
        cond.append(T.source.in_(list(spec.sources)))
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(T).where(*cond)) or 0)


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
    names = _names(db)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise OperationError(f"cannot write to folder {target.parent}: {exc.strerror or exc}") from None
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
    log.info("exported %d rows to %s", rows, target)
    return ExportResult(target, rows, units)


def _write(fh: IO[str], db: Database, tz: ZoneInfo, spec: ExportSpec, names: dict[str, dict[Any, str]],
           total: int, progress: Callable[[int, int], None] | None,
           cancelled: Callable[[], bool] | None) -> tuple[int, int]:
    if spec.fmt == "csv" and db.dialect == "sqlite":
        fast = _csv_sqlite(fh, db, tz, spec, names, total, progress, cancelled)
        if fast is not None:
            return fast
    raw_names, _ = _select(UsageRow, db.dialect)
    ix = {n: i for i, n in enumerate(raw_names)}
    times = _Times(tz, whole_hour_zone(tz, date(2000, 1, 1), date(2040, 1, 1)))
    accounts, workspaces = names["account"], names["workspace"]
    getters = _getters(ix, times, accounts, workspaces)
    fns = [getters[c] for c in spec.columns]
    cost_i = ix["cost"]
    columns = list(spec.columns)
    is_csv = spec.fmt == "csv"
    text_pos = [i for i, c in enumerate(columns) if c in TEXT_COLUMNS]
    writer = csv.writer(fh, lineterminator="\r\n") if is_csv else None
    if writer:
        writer.writerow(columns)
    elif spec.fmt == "json":
        fh.write("[")
    done = units = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for batch in iter_rows(db, tz, spec):
        if cancelled and cancelled():
            raise ExportCancelled("export cancelled; nothing was written")
        if writer:
            out = []
            for r in batch:
                vals = [f(r) for f in fns]
                for i in text_pos:
                    v = vals[i]
                    if v and v[0] in _DANGEROUS:
                        vals[i] = "'" + v
                out.append(vals)
                units += r[cost_i]
            writer.writerows(out)
        else:
            parts = []
            for r in batch:
                parts.append(dumps(dict(zip(columns, [f(r) for f in fns]))))
                units += r[cost_i]
            if spec.fmt == "json":
                fh.write(("," if done else "") + "\n" + ",\n".join(parts))
            else:
                fh.write("\n".join(parts) + "\n")
        done += len(batch)
        if progress:
            progress(done, max(total, done))
    if spec.fmt == "json":
        fh.write("\n]\n" if done else "]\n")
    if cancelled and cancelled():
        raise ExportCancelled("export cancelled; nothing was written")
    return done, units


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


# --- CSV from SQLite: whole lines formatted by SQLite itself -----------------------------------------------
#
# The general path formats each cell in Python and hands rows to csv.writer. On SQLite the same bytes are
# produced in SQL: each row comes back as its finished CSV line (money digits, ISO instants, local days,
# names, formula neutralization, csv quoting), so Python only joins lines. The csv quoting rule used in SQL
# is checked against the csv module at run time; if they ever disagree, the general path is used.

_MAX_NAMES_IN_SQL = 200  # more accounts/workspaces than this: the general path looks names up in Python
_CSV_SPECIAL = (",", '"', "\r", "\n")  # csv.writer (QUOTE_MINIMAL, lineterminator \r\n) quotes these


def _csv_rule_holds() -> bool:
    """True when csv.writer quotes exactly the fields containing , " CR or LF (doubling quotes)."""
    import io

    probes = ["a", "", " a ", "a,b", 'a"b', "a\rb", "a\nb", "a\tb", "'=1", "a;b", "\u00e9", "a\\b", "#x"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(probes)
    expected = ",".join('"' + p.replace('"', '""') + '"' if any(c in p for c in _CSV_SPECIAL) else p
                        for p in probes) + "\r\n"
    return buf.getvalue() == expected


def _csv_text(value: str | None) -> str:
    """The CSV text of one text cell as the general path writes it (neutralized, then quoted if needed)."""
    if value is None:
        return ""
    v = neutralize(value)
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in _CSV_SPECIAL) else v


def _q(text: str) -> str:
    """An SQL string literal (only for constant text written here, never for data)."""
    return "'" + text.replace("'", "''") + "'"


_DANGER_SQL = "(" + ", ".join(_q(c) for c in _DANGEROUS) + ")"
_DANGER_CODES = "(" + ", ".join(str(ord(c)) for c in _DANGEROUS) + ")"
_TEXT_SQL_COLUMNS = ("provider", "model", "source", "currency", "note", "project", "model_vendor", "api_key_id",
                     "line_item", "service_tier", "cost_role", "dedup_key")
_SPECIAL_GLOB = _q('*[,"\r\n]*')
_QUOTE, _QUOTE2, _APOS = _q('"'), _q('""'), _q("'")


def _sql_text(col: str) -> str:
    """_csv_text() in SQL for a text column."""
    neutral = f"CASE WHEN substr({col}, 1, 1) IN {_DANGER_SQL} THEN {_APOS} || {col} ELSE {col} END"
    return (f"CASE WHEN {col} IS NULL THEN '' WHEN {col} GLOB {_SPECIAL_GLOB} "
            f"THEN {_QUOTE} || replace({neutral}, {_QUOTE}, {_QUOTE2}) || {_QUOTE} ELSE {neutral} END")


def _sql_money(col: str) -> str:
    """money_text() in SQL from integer 1e-10 units (NULL stays NULL, an empty cell): the fraction is the last 10
    digits of 1e10 + |units| % 1e10; two are always kept, trailing zeros after them trimmed."""
    def digits(v: str) -> str:
        return (f"({v} / 10000000000) || '.' || substr(10000000000 + {v} % 10000000000, 2, 2) || "
                f"rtrim(substr(10000000000 + {v} % 10000000000, 4), '0')")
    low = -(2 ** 63)
    return (f"CASE WHEN {col} >= 0 THEN {digits(col)} WHEN {col} = {low} THEN {_q(money_text(low) or '')} "
            f"WHEN {col} < 0 THEN '-' || {digits('-' + col)} END")


def _sql_iso(col: str) -> str:
    """_Times.iso() in SQL from the stored text 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    frac = f"rtrim(substr({col}, 20), '0')"
    return (f"CASE WHEN substr({col}, 20) = '.000000' THEN replace(substr({col}, 1, 19), ' ', 'T') || 'Z' "
            f"ELSE replace(substr({col}, 1, 19), ' ', 'T') || CASE WHEN length({frac}) > 1 THEN {frac} ELSE '' END "
            f"|| 'Z' END")


def _offset_changes(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """UTC offsets (seconds) of `tz` over [lo, hi]: [(utc_from, offset)], each change located to the second."""
    def off(at: datetime) -> int:
        return int((at.astimezone(tz).utcoffset() or timedelta(0)).total_seconds())

    t = lo.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    out = [(datetime.min.replace(tzinfo=timezone.utc), off(t))]
    step = timedelta(hours=6)
    stop = hi + timedelta(days=1)
    while t < stop:
        nxt = t + step
        if off(nxt) != out[-1][1]:
            a, b = t, nxt  # off(a) is the current offset, off(b) the new one
            while b - a > timedelta(seconds=1):
                mid = (a + (b - a) / 2).replace(microsecond=0)
                if mid <= a:
                    break
                if off(mid) == out[-1][1]:
                    a = mid
                else:
                    b = mid
            out.append((b, off(b)))
        t = nxt
    return out


def _sql_local_day(col: str, dated: str, changes: list[tuple[datetime, int]]) -> str:
    """_Times.local_day() in SQL: dated rows keep their date; an instant is shifted by the zone's offset at that
    instant (a balanced CASE over the offset changes in the data's range)."""
    utc_date = f"substr({col}, 1, 10)"

    def shifted(seconds: int) -> str:
        if seconds == 0:
            return utc_date
        if seconds % 3600 == 0:  # whole hours: only the hours next to midnight change date
            h = seconds // 3600
            if h > 0:
                return (f"CASE WHEN substr({col}, 12, 2) < '{24 - h:02d}' THEN {utc_date} "
                        f"ELSE date({col}, '+{h} hours') END")
            return f"CASE WHEN substr({col}, 12, 2) >= '{-h:02d}' THEN {utc_date} ELSE date({col}, '{h} hours') END"
        return f"date({col}, '{seconds:+d} seconds')"

    def tree(lo: int, hi: int) -> str:  # over changes[lo:hi]
        if hi - lo == 1:
            return shifted(changes[lo][1])
        mid = (lo + hi) // 2
        at = changes[mid][0].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"CASE WHEN {col} < '{at}' THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END"

    return f"CASE WHEN {dated} != 0 THEN {utc_date} ELSE {tree(0, len(changes))} END"


def _csv_sqlite(fh: IO[str], db: Database, tz: ZoneInfo, spec: ExportSpec, names: dict[str, dict[Any, str]],
                total: int, progress: Callable[[int, int], None] | None,
                cancelled: Callable[[], bool] | None) -> tuple[int, int] | None:
    """The CSV of the general path, formatted by SQLite. None (nothing written) when it does not apply."""
    accounts, workspaces = names["account"], names["workspace"]
    columns = list(spec.columns)
    if (len(columns) < 2 or len(accounts) > _MAX_NAMES_IN_SQL or len(workspaces) > _MAX_NAMES_IN_SQL
            or not _csv_rule_holds()):
        return None  # (csv.writer writes a row of one empty cell as "")
    T = UsageRow
    r = "usage_records."
    parts: dict[str, str] = {}
    for c in _TEXT_SQL_COLUMNS:
        parts[c] = _sql_text(r + c)
    for c in ("id", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
              "cache_write_1h_tokens", "reasoning_tokens", "requests"):
        parts[c] = r + c
    for c in MONEY_COLUMNS:
        parts[c] = _sql_money(r + c)
    parts["start_utc"], parts["end_utc"] = _sql_iso(r + "bucket_start"), _sql_iso(r + "bucket_end")
    parts["updated_at"] = _sql_iso(r + "updated_at")
    parts["cache_write_tokens"] = f"{r}cache_write_5m_tokens + {r}cache_write_1h_tokens"
    parts["dated"] = f"CASE WHEN {r}dated != 0 THEN 'True' ELSE 'False' END"
    parts["is_demo"] = f"CASE WHEN {r}is_demo != 0 THEN 'True' ELSE 'False' END"
    if "local_day" in columns:
        with db.session() as s:
            # Two queries: SQLite answers a lone min() or max() from the index, both together by a full scan.
            lo, hi = s.scalar(select(func.min(T.bucket_start))), s.scalar(select(func.max(T.bucket_start)))
        changes = ([(datetime.min.replace(tzinfo=timezone.utc), 0)] if lo is None
                   else _offset_changes(tz, lo, hi))
        parts["local_day"] = _sql_local_day(r + "bucket_start", r + "dated", changes)
    text_cols = [c for c in columns if c in _TEXT_SQL_COLUMNS]

    def line(checked: bool) -> Any:
        exprs: list[Any] = []
        for c in columns:
            if c in ("account", "workspace"):  # names as taken before the query, as exact CSV text (bound values)
                known = accounts if c == "account" else workspaces
                col = T.account_id if c == "account" else T.workspace_id
                ids = {i: _csv_text(n) for i, n in known.items() if i is not None}
                exprs.append(case(ids, value=col, else_=literal("", String)) if ids else literal("", String))
            elif c in _TEXT_SQL_COLUMNS and not checked:
                exprs.append(literal_column(r + c, String))  # NULL prints as an empty cell
            else:
                exprs.append(literal_column(parts[c], String))
        return func.printf(literal(",".join(["%s"] * len(columns)), String), *exprs, type_=String)

    if text_cols:
        # One test for all text cells of a row (most rows need neither a quote nor neutralizing): the
        # checked line only when some cell contains , " CR LF or starts with = + - @ TAB CR.
        joined = " || ".join(f"coalesce({r}{c}, '')" for c in text_cols)
        starts = " OR ".join(f"unicode({r}{c}) IN {_DANGER_CODES}" for c in text_cols)
        line_expr = case((literal_column(f"({joined}) GLOB {_SPECIAL_GLOB} OR {starts}"), line(True)),
                         else_=line(False))
    else:
        line_expr = line(True)
    q = select(line_expr, type_coerce(T.cost, Integer)).where(*_where(db, tz, spec)).order_by(T.id)
    fh.write(",".join(columns) + "\r\n")  # column names are plain identifiers
    text_of, cost_of = operator.itemgetter(0), operator.itemgetter(1)
    done = units = 0
    # One read transaction (a consistent snapshot, like the general path); lines are taken from the DBAPI
    # cursor as sqlite3 returns them, without SQLAlchemy row processing.
    with db.engine.connect() as conn:
        cursor = conn.execute(q).cursor
        try:
            while batch := cursor.fetchmany(spec.batch_size):
                if cancelled and cancelled():
                    raise ExportCancelled("export cancelled; nothing was written")
                units += sum(map(cost_of, batch))
                fh.write("\r\n".join(map(text_of, batch)))
                fh.write("\r\n")
                done += len(batch)
                if progress:
                    progress(done, max(total, done))
        finally:
            cursor.close()
    if cancelled and cancelled():
        raise ExportCancelled("export cancelled; nothing was written")
    return done, units
