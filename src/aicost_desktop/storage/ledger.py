"""The ledger writer: idempotent, page-at-a-time upserts of UsageRecords keyed by (source, dedup_key)."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from itertools import islice
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import delete, select, update

from aicost_desktop.domain.days import DAY, is_dated_bucket
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.storage import rollup
from aicost_desktop.storage.db import Database, affected_rows
from aicost_desktop.storage.own_writes import will_announce
from aicost_desktop.storage.tables import UsageRow, core_table
from aicost_desktop.storage.types import money_to_units

log = logging.getLogger("aicost.ledger")

# Columns compared to decide whether an existing row changed (updated_at and id excluded).
VALUE_COLUMNS = (
    "workspace_id", "account_id", "provider", "model", "model_vendor", "project", "api_key_id", "line_item",
    "service_tier", "bucket_start", "bucket_end", "dated", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens",
    "reasoning_included", "requests", "reported_cost", "computed_cost", "cost", "cost_role", "currency",
    "note", "is_demo", "subscription_id",
)
# Listeners called after each committed page with the UTC hours it touched (budgets, GUI refresh).
_listeners: list[Callable[[set[datetime]], None]] = []


@dataclass
class UpsertResult:
    """Counts of one upsert run: rows inserted, changed, or already identical."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    hours: set[datetime] = field(default_factory=set, repr=False)

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.hours |= other.hours
        return self


def add_listener(fn: Callable[[set[datetime]], None]) -> None:
    _listeners.append(fn)


def remove_listener(fn: Callable[[set[datetime]], None]) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def record_to_row(rec: UsageRecord, default_workspace: int) -> dict[str, Any]:
    u = rec.usage
    return {
        "source": rec.source.value,
        "dedup_key": rec.dedup_key,
        "workspace_id": rec.workspace_id or default_workspace,
        "account_id": rec.account_id,
        "provider": rec.provider,
        "model": rec.model,
        "model_vendor": rec.model_vendor,
        "project": rec.project,
        "api_key_id": rec.api_key_id,
        "line_item": rec.line_item,
        "service_tier": rec.service_tier.value,
        "bucket_start": rec.bucket_start,
        "bucket_end": rec.bucket_end,
        "dated": is_dated_bucket(rec.bucket_start, rec.bucket_end),
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "cache_write_5m_tokens": u.cache_write_5m_tokens,
        "cache_write_1h_tokens": u.cache_write_1h_tokens,
        "reasoning_tokens": u.reasoning_tokens,
        "reasoning_included": u.reasoning_included,
        "requests": u.requests,
        "reported_cost": rec.reported_cost,
        "computed_cost": rec.computed_cost,
        "cost": rec.spend_cost,
        "cost_role": rec.cost_role.value,
        "currency": rec.currency,
        "note": rec.note,
        "is_demo": rec.is_demo,
        "subscription_id": rec.subscription_id,
    }


def _same(existing: Any, row: dict[str, Any]) -> bool:
    for col in VALUE_COLUMNS:
        a, b = getattr(existing, col), row[col]
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            if a.compare_total(b.quantize(a)) != 0:
                return False
        elif a != b:
            return False
    return True


def _pages(records: Iterable[UsageRecord], size: int) -> Iterator[list[UsageRecord]]:
    it = iter(records)
    while page := list(islice(it, size)):
        yield page


def upsert_records(db: Database, records: Iterable[UsageRecord], page_size: int = 1000) -> UpsertResult:
    """Write records idempotently, one transaction per page: re-running with the same data changes nothing,
    and a crash leaves the previous state plus whole pages."""
    total = UpsertResult()
    ws = db.default_workspace_id()
    for page in _pages(records, page_size):
        total += _upsert_page(db, page, ws)
    return total


def _upsert_page(db: Database, page: list[UsageRecord], ws: int) -> UpsertResult:
    if db.dialect == "sqlite":
        result = _insert_new_rows(db, _native_rows(page, ws, sqlite_time(datetime.now(_UTC))))
        if result is not None:
            return result
    return _upsert_page_core(db, page, ws)


def _upsert_page_core(db: Database, page: list[UsageRecord], ws: int) -> UpsertResult:
    """The general path (any dialect, pages with existing rows): compare, insert, update, refresh hours."""
    with db.write_session() as s:
        result = upsert_in(s, db.dialect, page, ws)
    _notify(result.hours)
    return result


def upsert_in(s: Any, dialect: str, page: list[UsageRecord], ws: int) -> UpsertResult:
    """`_upsert_page_core` inside the caller's write transaction `s` (the caller tells the listeners, with
    `notify_changed(result.hours)`, after its commit): for a change that must land whole with other writes."""
    will_announce(s)  # its caller tells the listeners after the commit
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in page:
        rows[(rec.source.value, rec.dedup_key)] = record_to_row(rec, ws)  # last one in a page wins
    result = UpsertResult()
    now = datetime.now(timezone.utc)
    by_source: dict[str, list[str]] = {}
    for src, key in rows:
        by_source.setdefault(src, []).append(key)
    existing: dict[tuple[str, str], Any] = {}
    for src, keys in by_source.items():
        q = select(UsageRow.id, UsageRow.source, UsageRow.dedup_key,
                   *[getattr(UsageRow, c) for c in VALUE_COLUMNS]).where(
            UsageRow.source == src, UsageRow.dedup_key.in_(keys))
        for r in s.execute(q):
            existing[(r.source, r.dedup_key)] = r
    inserts, updates = [], []
    for k in sorted(rows):  # a stable order keeps concurrent writers' row locks deadlock-free
        row = rows[k]
        old = existing.get(k)
        if old is None:
            inserts.append({**row, "updated_at": now})
            result.hours.add(rollup.floor_hour(row["bucket_start"]))
        elif _same(old, row):
            result.unchanged += 1
        else:
            updates.append({**row, "id": old.id, "updated_at": now})
            result.hours.add(rollup.floor_hour(row["bucket_start"]))
            result.hours.add(rollup.floor_hour(old.bucket_start))
    if inserts:
        # Core table, not the ORM entity: the ORM's bulk path splits a page into one statement per
        # pattern of None values (thousands of tiny statements); Core sends one executemany per page.
        ins = _dialect_insert(dialect)(core_table(UsageRow))
        # ON CONFLICT covers a row another process inserted after our read: it is updated, never duplicated.
        stmt = ins.on_conflict_do_update(
            index_elements=["source", "dedup_key"],
            set_={c: ins.excluded[c] for c in (*VALUE_COLUMNS, "updated_at")})
        s.connection().execute(stmt, inserts)
        result.added += len(inserts)
    if updates:
        s.execute(update(UsageRow), updates)
        result.updated += len(updates)
    if result.hours:
        rollup.refresh_hours(s, result.hours)
    return result


def notify_changed(hours: set[datetime]) -> None:
    """Tell the listeners about rows changed outside upsert_records (repricing), as a page write does."""
    _notify(hours)


def _notify(hours: set[datetime]) -> None:
    if hours:
        for fn in list(_listeners):
            try:
                fn(hours)
            except Exception:  # a listener must never make a committed write look failed
                log.exception("ledger listener failed")


# --- SQLite fast path: pages whose keys are all new (first syncs, imports, bulk loads) ---------------------

# Column order of the raw INSERT; values are converted once to what SQLAlchemy's column types would bind.
# A plain INSERT: the roll-up is incremented for new rows only, so a key that exists must fail the page
# (which is then written the general way) rather than update a row.
INSERT_COLUMNS = ("source", "dedup_key", *VALUE_COLUMNS, "updated_at")
_INSERT_INTO = f"INSERT INTO usage_records ({', '.join(INSERT_COLUMNS)}) VALUES "
_SQLITE_INSERT = f"{_INSERT_INTO}({', '.join('?' * len(INSERT_COLUMNS))})"
_START = INSERT_COLUMNS.index("bucket_start")
_UTC = timezone.utc
_BOOLS = (True, False)


def sqlite_time(dt: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime writes for an instant via UTCDateTime ("%Y-%m-%d %H:%M:%S.%f")."""
    if dt.tzinfo is not _UTC:
        if dt.tzinfo is None:
            raise ValueError(f"naive datetime {dt!r}: store instants as aware UTC")
        dt = dt.astimezone(_UTC)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                                                   dt.microsecond)


def _money(value: Any) -> int | None:
    """What types.Money binds: integer 1e-10 units."""
    if value is None:
        return None
    return money_to_units(value if isinstance(value, Decimal) else Decimal(str(value)))


def _bool(value: Any) -> int:
    """What SQLAlchemy's Boolean binds on SQLite (strict: only bools, 0 and 1)."""
    if value not in _BOOLS:
        raise TypeError(f"Not a boolean value: {value!r}")
    return 1 if value else 0


def _native_rows(page: list[UsageRecord], ws: int, updated_at: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """record_to_row of each record converted to DB-native values (what the column types bind), in
    INSERT_COLUMNS order, keyed by (source, dedup_key); the last record of a key wins. One loop with
    everything inlined: this runs once per ingested row."""
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    to_text, money, boolean, dated_bucket = sqlite_time, _money, _bool, is_dated_bucket
    day, spend = DAY, CostRole.SPEND
    for rec in page:
        u = rec.usage
        start, end = rec.bucket_start, rec.bucket_end
        role = rec.cost_role
        reported, computed = money(rec.reported_cost), money(rec.computed_cost)
        if role is not spend:
            cost = 0
        elif reported is not None:
            cost = reported
        else:
            cost = computed if computed is not None else 0
        start_text = to_text(start)
        source, key = rec.source.value, rec.dedup_key
        out[(source, key)] = (
            source, key, rec.workspace_id or ws, rec.account_id, rec.provider, rec.model, rec.model_vendor,
            rec.project, rec.api_key_id, rec.line_item, rec.service_tier.value,
            start_text, start_text if end == start else to_text(end),
            0 if end - start < day else boolean(dated_bucket(start, end)),
            u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_5m_tokens,
            u.cache_write_1h_tokens, u.reasoning_tokens, boolean(u.reasoning_included), u.requests, reported,
            computed, cost, role.value, rec.currency, rec.note, boolean(rec.is_demo), rec.subscription_id,
            updated_at,
        )
    return out


_LITERAL_MIN_ROWS = 64  # fewer rows: one statement text for any values (compiled once, cached)
_INT, _STR = {int}, {str}


def _insert_statement(ordered: list[tuple[Any, ...]]) -> tuple[str, Any]:
    """The INSERT for these rows and the values it binds. A column holding one value in every row
    (the source, workspace, provider, currency... of an import's page) is written into the
    statement as a literal instead of bound once per row: binding is most of the Python side of a
    bulk insert. Only integers, NULL and text without NUL become literals (quoted by doubling)."""
    if len(ordered) < _LITERAL_MIN_ROWS:
        return _SQLITE_INSERT, ordered
    columns = list(zip(*ordered))
    literals: list[str | None] = []
    for col in columns:
        first = col[0]
        if col.count(first) != len(col):
            literals.append(None)
        elif first is None:
            literals.append("NULL")
        elif (kinds := set(map(type, col))) == _INT:  # equal values of one type (1 == True: bools stay bound)
            literals.append(str(first))
        elif kinds == _STR and "\x00" not in first:
            literals.append("'" + first.replace("'", "''") + "'")
        else:
            literals.append(None)
    if not any(literals):
        return _SQLITE_INSERT, ordered
    bound = [col for col, lit in zip(columns, literals) if lit is None]
    sql = f"{_INSERT_INTO}({', '.join('?' if lit is None else lit for lit in literals)})"
    return sql, zip(*bound) if bound else [()] * len(ordered)


@dataclass
class NewRows:
    """A page of rows whose keys are all new, made ready to write (`prepare_new_rows`): the INSERT
    and the values it binds, and the page's roll-up cells. Made by the thread that built the rows,
    so a writing thread (claude_code._Writer) spends its share of the GIL on writing alone."""

    count: int
    sql: str
    values: Any  # the rows' bound values, an iterable consumed by the one executemany
    cells: "rollup.Cells | None"  # None: values of unusual types (the hours are recomputed instead)
    hours: set[datetime]


def prepare_new_rows(rows: dict[tuple[str, str], tuple[Any, ...]]) -> NewRows:
    """`rows` (DB-native values in INSERT_COLUMNS order, keyed by (source, dedup_key)) ready for
    _insert_rows / BulkInserter.insert."""
    # Key order, as the general path. An import's page has one source: its dedup keys alone order it
    # (comparing texts, not (source, key) pairs: a tenth of the preparation).
    sources = {source for source, _key in rows}
    ordered = [rows[k] for k in (sorted(rows, key=itemgetter(1)) if len(sources) == 1 else sorted(rows))]
    sql, values = _insert_statement(ordered)
    cells = rollup.new_cells(ordered, INSERT_COLUMNS)
    if cells is not None:
        hours = rollup.cell_hours(cells)
    else:
        hours = {datetime.strptime(r[_START][:13], "%Y-%m-%d %H").replace(tzinfo=_UTC) for r in ordered}
    return NewRows(len(ordered), sql, values, cells, hours)


def _insert_new_rows(db: Database, rows: dict[tuple[str, str], tuple[Any, ...]]) -> UpsertResult | None:
    """SQLite: insert rows whose keys are all new in one transaction (see _insert_rows) and tell the
    listeners. `rows` are DB-native values in INSERT_COLUMNS order (what _native_rows makes of records),
    keyed by (source, dedup_key). Returns None, having written nothing, when any key already exists (the
    caller then writes the page through the general path, which compares and updates)."""
    with db.write_session() as s:
        cur = s.connection().connection.cursor()
        try:
            result = _insert_rows(s, cur, prepare_new_rows(rows))
        finally:
            cur.close()
    if result is not None:
        _notify(result.hours)
    return result


def _insert_rows(s: Any, cur: Any, page: NewRows, deferred: "rollup.Cells | None" = None) -> UpsertResult | None:
    """Insert a page whose keys are all new through the raw DBAPI cursor (one executemany) and add it
    to the roll-up incrementally, inside the caller's write transaction `s`; None, having written
    nothing, when any key already exists. With `deferred`, the page's cells are added to it instead,
    for the caller to write (rollup.write_cells_sqlite) before it commits."""
    will_announce(s)  # its caller tells the listeners after the commit
    # The one unique constraint is (source, dedup_key): a key that exists fails the INSERT, and the rows
    # the page inserted before it are undone. (Cheaper than looking the keys up first, which was a
    # sixth of a first import's write time: the insert looks each up in that index anyway.)
    cur.execute("SAVEPOINT new_rows")
    try:
        cur.executemany(page.sql, page.values)
    except BaseException as exc:
        try:
            cur.execute("ROLLBACK TO new_rows")
            cur.execute("RELEASE new_rows")
        except sqlite3.Error:  # the error ended the transaction itself (a full disk): report that error
            raise exc from None
        if isinstance(exc, sqlite3.IntegrityError) and exc.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE":
            return None
        raise
    cur.execute("RELEASE new_rows")
    if page.cells is None:  # values of unusual types: recompute the touched hours from the ledger instead
        if deferred:  # after the deferred cells are in (the recomputed hours would lose them otherwise)
            rollup.write_cells_sqlite(cur, deferred)
            deferred.clear()
        rollup.refresh_hours(s, page.hours)
    elif deferred is not None:
        rollup.merge_cells(deferred, page.cells)
    else:
        rollup.write_cells_sqlite(cur, page.cells)
    return UpsertResult(added=page.count, hours=page.hours)


class BulkInserter:
    """_insert_new_rows for a stream of pages (SQLite), several pages to a transaction: each commit
    rewrites every index page its rows touched, and new dedup keys and instants land all over the
    indexes, so a first import of tens of thousands of rows spends most of its write time on
    commits. Pages go into one write transaction, with a larger page cache meanwhile, until
    `rows_per_commit` rows or `seconds_per_commit` seconds are in it (other writers wait for the
    lock no longer than that), then it commits and the listeners are told. The roll-up cells of
    the transaction's pages are summed in memory and written once, before the commit: a page of
    requests spread over many hours touched as many cells as it had rows, each page again. Use from
    one thread; `close()` commits the rest, `abort()` rolls it back."""

    CACHE_KIB = 8_192  # the page cache while a transaction is open (SQLite's default is 2 MiB)

    def __init__(self, db: Database, rows_per_commit: int = 50_000, seconds_per_commit: float = 3.0) -> None:
        self.db = db
        self.rows_per_commit = rows_per_commit
        self.seconds_per_commit = seconds_per_commit
        self._session: Any = None  # the open write_session context, or None
        self._cur: Any = None
        self._rows = 0
        self._started = 0.0
        self._hours: set[datetime] = set()
        self._cells: rollup.Cells = {}  # the roll-up of the pages inserted since the last commit

    def insert(self, rows: "dict[tuple[str, str], tuple[Any, ...]] | NewRows") -> UpsertResult | None:
        """_insert_new_rows of one page (its rows, or `prepare_new_rows` of them) inside the open
        transaction; None, having written nothing of this page, when a key exists (call commit()
        before writing it another way)."""
        page = rows if isinstance(rows, NewRows) else prepare_new_rows(rows)
        if not page.count:
            return UpsertResult()
        if self._session is None:
            self._begin()
        result = _insert_rows(self._session[1], self._cur, page, self._cells)
        if result is None:
            return None
        self._hours |= result.hours
        self._rows += result.added
        if self._rows >= self.rows_per_commit or time.monotonic() - self._started >= self.seconds_per_commit:
            self.commit()
        return result

    def _begin(self) -> None:
        if self.db.dialect != "sqlite":
            raise TypeError("BulkInserter writes SQLite ledgers only")
        ctx = self.db.write_session()
        session = ctx.__enter__()
        try:
            cur = session.connection().connection.cursor()
            self._default_cache = cur.execute("PRAGMA cache_size").fetchone()[0]
            cur.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        except BaseException as exc:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._session, self._cur = (ctx, session), cur
        self._rows, self._started = 0, time.monotonic()

    def commit(self) -> None:
        """Commit the pages inserted so far and tell the listeners."""
        if self._session is not None:
            if self._cells:
                try:
                    rollup.write_cells_sqlite(self._cur, self._cells)
                except BaseException:
                    self.abort()
                    raise
                self._cells = {}
            self._end(None)
            hours, self._hours = self._hours, set()
            _notify(hours)

    def close(self, before_commit: Callable[[Any], None] | None = None) -> None:
        """Commit the rest; `before_commit(cursor)` writes more in the same transaction first (opened
        for it when no page is pending)."""
        if before_commit is not None:
            if self._session is None:
                self._begin()
            try:
                before_commit(self._cur)
            except BaseException:
                self.abort()
                raise
        self.commit()

    def abort(self) -> None:
        """Roll back the pages not yet committed."""
        if self._session is not None:
            self._hours, self._cells = set(), {}
            exc = RuntimeError("bulk insert aborted")
            self._end(exc)

    def _end(self, exc: BaseException | None) -> None:
        ctx, _session = self._session
        cur, self._session, self._cur = self._cur, None, None
        try:
            cur.execute(f"PRAGMA cache_size = {self._default_cache}")  # the pooled connection goes back as it was
            cur.close()
        finally:
            if exc is None:
                ctx.__exit__(None, None, None)
            else:
                try:
                    ctx.__exit__(type(exc), exc, None)
                except RuntimeError:
                    pass


def delete_where(db: Database, *conditions: Any) -> int:
    """Delete ledger rows matching conditions and refresh the affected roll-up hours."""
    with db.write_session() as s:
        n, hours = delete_in(s, *conditions)
    _notify(hours)
    return n


def delete_in(s: Any, *conditions: Any) -> tuple[int, set[datetime]]:
    """`delete_where` inside the caller's write transaction `s`: (rows deleted, the roll-up hours refreshed, for
    the caller's `notify_changed` after its commit)."""
    will_announce(s)  # its caller tells the listeners after the commit
    hours = {rollup.floor_hour(h) for (h,) in s.execute(select(UsageRow.bucket_start).where(*conditions))}
    n = affected_rows(s.execute(delete(UsageRow).where(*conditions)))
    rollup.refresh_hours(s, hours)
    return n, hours


def _dialect_insert(dialect: str) -> Any:
    """The dialect's INSERT construct (the one with ON CONFLICT)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # lazy: only the ledger's own dialect is imported
        return insert
    # lazy: sqlalchemy.dialects.postgresql (every driver's module, asyncio) would come into each CLI start on SQLite
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    return pg_insert
