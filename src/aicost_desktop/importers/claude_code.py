"""Claude Code transcripts (`projects/**/*.jsonl`) to ledger rows, one per API request, de-duplicated the
way ccusage does (research/providers.md 6.1), read incrementally.

Rules, in order (claude_parse.py reads the lines):

* a request is (message.id, requestId); its copies (streaming snapshots, resumed sessions copying
  the earlier conversation, copies across files and roots) keep the non-sidechain one, then the
  larger token total, then the one in fast mode, then the first seen (files in path order, then
  earlier imports);
* sidechain copies (`isSidechain: true`: sub-agent files, `/btw` side questions) are dropped when a
  non-sidechain copy of the same message id exists (a side question replays parent messages with
  a new requestId); sidechain copies of one message id collapse into one;
* an `agent_progress` line in the parent transcript embeds a sub-agent's message; it counts only
  when no other copy of that message exists (the sub-agent file was deleted), as one request;
* entries without `message.id` are not de-duplicated (keyed by a hash of the line);
* `<synthetic>` entries and `isApiErrorMessage` entries are not requests; lines without usage are
  ignored; nested `cache_creation.{ephemeral_5m,ephemeral_1h}_input_tokens` replace the flat
  `cache_creation_input_tokens`; `speed: "fast"` is priced as `<model>-fast` (unpriced unless the
  catalog knows it, never silently at standard rates); `costUSD` becomes `reported_cost`; each
  request is priced on its own (requests=1), so long-context rates apply per request.

`import_into` reads only what changed since the last import (importers/file_state.py) and settles
new copies against the ledger: a better copy replaces the stored row, and a row that a new copy
makes redundant (a sidechain copy, a progress copy, a smaller sidechain copy) is deleted.
"""

from __future__ import annotations

import gc
import os
import queue
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import and_, or_, select

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.limits import MAX_ROW_MONEY, TEXT_LIMITS, check_name, check_row_money
from aicost_desktop.domain.money import SCALE, money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers import file_state, file_state_store
from aicost_desktop.importers.base import PAGE_SIZE, Billing, ImportReport
from aicost_desktop.importers.claude_files import (KIND, discover_roots, list_files, roots_for_path, settings_key,
                                                   state_keys, usage_files)
from aicost_desktop.importers.claude_parse import (KEY_PREFIX, LINE_ITEMS, MAIN, NUMBERS, SIDECHAIN, SYNTHETIC_MODEL,
                                                   Entry, FileScan, identity, rank_of)
from aicost_desktop.importers.claude_read import Listing, ReadAhead, scans, worker_count
from aicost_desktop.importers.request_pricer import RequestPricer
from aicost_desktop.storage.ledger import (INSERT_COLUMNS, BulkInserter, NewRows, UpsertResult, delete_where,
                                           prepare_new_rows, sqlite_time, upsert_records)
from aicost_desktop.storage.types import money_to_units
from aicost_desktop.storage.tables import UsageRow as U
from aicost_desktop.sync.base import Pricer

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

__all__ = ["SYNTHETIC_MODEL", "ClaudeCodeImporter", "discover_roots", "roots_for_path", "usage_files"]

_TIERS = {t.value: t for t in ServiceTier}
_TIER_VALUES = {t: t.value for t in ServiceTier}  # an enum's .value is a property lookup: once per row adds up
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NAIVE_EPOCH = datetime(1970, 1, 1)
if (_NAIVE_EPOCH + timedelta(microseconds=1)).isoformat(" ", "microseconds") != sqlite_time(
        _EPOCH + timedelta(microseconds=1)):
    raise ImportError("storage.ledger.sqlite_time changed its format: update claude_code._rows")
_KEYLESS = KEY_PREFIX + "line:"
_PREFIX_LEN = len(KEY_PREFIX)
_LEDGER_BATCH = 200  # message ids per ledger lookup (two bound parameters each)
_LOG = DataSource.LOG.value
_SPEND = CostRole.SPEND
_UNITS_MAX = int(MAX_ROW_MONEY.scaleb(SCALE))  # the most one row's money may be, in units (domain/limits)
_UNITS_MIN = -_UNITS_MAX
# The ledger row _row builds, column by column (checked against the ledger's own order at import).
_ROW_COLUMNS = (
    "source", "dedup_key", "workspace_id", "account_id", "provider", "model", "model_vendor", "project",
    "api_key_id", "line_item", "service_tier", "bucket_start", "bucket_end", "dated", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens",
    "reasoning_included", "requests", "reported_cost", "computed_cost", "cost", "cost_role", "currency", "note",
    "is_demo", "subscription_id", "updated_at")
if _ROW_COLUMNS != INSERT_COLUMNS:
    raise ImportError("storage.ledger.INSERT_COLUMNS changed: update claude_code._ROW_COLUMNS and _rows")


class _Dedup:
    """What one import has kept so far: copies are offered in path order and the first best copy
    of each request wins. Non-sidechain copies are written as they come (a later better copy
    rewrites the row); sidechain and progress copies are held to the end, when it is known whether
    a non-sidechain copy of their message exists.

    With `early_side` (a ledger without Claude Code rows: nothing stored to settle against), the
    first sidechain copy of a message not seen in a non-sidechain copy yet is written as it comes
    too: a later copy that makes it redundant is rare (sub-agent files follow their parent's file in
    path order), and writing a fifth of a first import's rows after the reading ends made the
    import wait for them. `settle_early` says which of those rows a later copy replaced."""

    def __init__(self, early_side: bool = False) -> None:
        self.main: dict[int, int] = {}     # hash(dedup key) -> rank of the copy written
        self.main_mids: set[int] = set()   # hash(message id) of messages with a non-sidechain copy
        self.keyless: set[int] = set()
        self.side: dict[str, Entry] = {}   # message id -> best sidechain or progress copy
        self.late: dict[str, Entry] = {}   # dedup key -> better copy of a request written earlier
        self.early_side = early_side
        self.early: dict[str, Entry] = {}  # message id -> the sidechain copy written as it came

    def offer(self, e: Entry) -> bool:
        """True when `e` is to be written now."""
        key = e[1]
        if e[2] == MAIN:
            if key.startswith(_KEYLESS):
                h = hash(key)
                if h in self.keyless:
                    return False
                self.keyless.add(h)
                return True
            h = hash(key)
            old = self.main.get(h)
            if old is None:
                mid = key[_PREFIX_LEN:].rpartition(":")[0]
                self.main_mids.add(hash(mid))
                self.main[h] = e[0]
                if self.early and (written := self.early.get(mid)) is not None and written[1] == key:
                    self.late[key] = e  # the same request's sidechain copy is stored: rewritten at the end
                    return False
                return True
            if e[0] > old:  # a better copy of a request already written: rewritten at the end
                self.main[h] = e[0]
                self.late[key] = e
            return False
        if key.startswith(_KEYLESS):  # sidechain copies without message.id are not de-duplicated either
            h = hash(key)
            if h in self.keyless:
                return False
            self.keyless.add(h)
            return True
        mid = identity(e)
        old_side = self.side.get(mid)
        if old_side is None or e[0] > old_side[0]:
            self.side[mid] = e
        if (self.early_side and e[2] == SIDECHAIN and mid not in self.early
                and hash(mid) not in self.main_mids):
            self.early[mid] = e
            return True
        return False

    def held(self) -> list[Entry]:
        """The sidechain/progress copies that count, not written yet: those of messages without a
        non-sidechain copy. (Written at the end, as `late` is: after their first copies, each
        rewriting a row once.)"""
        early = self.early
        return [e for mid, e in self.side.items() if hash(mid) not in self.main_mids and early.get(mid) is not e]

    def settle_early(self) -> tuple[list[str], int]:
        """For the sidechain copies written as they came: the keys of the rows a later copy made
        redundant (to delete), and how many a better sidechain copy of the same request rewrites
        (held() has it; a non-sidechain copy of the same request is in `late`)."""
        stale: list[str] = []
        rewrites = 0
        for mid, written in self.early.items():
            key = written[1]
            if hash(mid) in self.main_mids:  # a non-sidechain copy of the message came later
                if hash(key) not in self.main:
                    stale.append(key)
            elif self.side[mid] is not written:
                if self.side[mid][1] == key:
                    rewrites += 1
                else:
                    stale.append(key)
        return stale, rewrites


class _Writer:
    """Writes pages of entries in a thread while the caller goes on reading: SQLite does its work with
    the GIL released, so the two overlap. Pages are written in the order given: on SQLite as DB-ready
    rows when all their keys are new (a first import), several pages to a transaction
    (storage.ledger.BulkInserter), else as records through upsert_records, which compares and
    updates, one transaction each. The caller's thread makes each page's rows ready
    (storage.ledger.prepare_new_rows) as it puts it: the writing thread is the import's slowest
    stage, and holding the GIL for that Python work stopped it from writing meanwhile."""

    def __init__(self, db: "Database", importer: "ClaudeCodeImporter") -> None:
        self.result = UpsertResult()
        self.error: BaseException | None = None
        self._importer = importer
        self._bulk = db.dialect == "sqlite"
        self._ws = db.default_workspace_id() if self._bulk else 0
        self._last: Callable[[Any], None] | None = None  # written into the last bulk transaction (close)
        self.last_written = False
        self._queue: queue.Queue[tuple[list[Entry], NewRows | None] | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, args=(db,), name="claude-code-writer", daemon=True)
        self._thread.start()

    def _run(self, db: "Database") -> None:
        importer = self._importer
        bulk = BulkInserter(db) if self._bulk else None
        ended = False  # the caller's end of pages was taken from the queue
        try:
            while (item := self._queue.get()) is not None:
                page, rows = item
                got = bulk.insert(rows) if bulk is not None and rows is not None else None
                if got is None:
                    if bulk is not None:
                        bulk.commit()  # the general path takes the write lock itself
                    got = upsert_records(db, [importer._record(e) for e in page], page_size=len(page))
                self.result += got
            ended = True
            if bulk is not None:
                bulk.close(self._last)
                self.last_written = self._last is not None
        except BaseException as exc:  # handed to the caller in put()/close()
            self.error = exc
            if bulk is not None:
                bulk.abort()
            # Let the caller finish putting; a failure in the last commit (a full disk) came after its end,
            # and waiting for another would hang the import.
            while not ended and self._queue.get() is not None:
                pass

    def put(self, page: list[Entry]) -> None:
        if self.error is not None:
            raise self.error
        if page:
            rows = prepare_new_rows(self._importer._rows(page, self._ws)) if self._bulk else None
            self._queue.put((page, rows))

    def close(self, last: Callable[[Any], None] | None = None) -> UpsertResult:
        """Wait for every page to be written. `last(cursor)`: more to write in the final transaction,
        on SQLite (`last_written` says whether it was)."""
        self._last = last
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.result


class ClaudeCodeImporter:
    """Turns Claude Code transcripts under some `projects/` roots into ledger records."""

    def __init__(self, roots: Sequence[Path], pricer: Pricer, report: ImportReport,
                 billing: Billing = Billing.PER_TOKEN, workspace_id: int | None = None,
                 workers: int | None = None, ahead: ReadAhead | None = None) -> None:
        self.roots = list(roots)
        self.pricer = RequestPricer(pricer)
        self.report = report
        self.billing = billing
        self.workspace_id = workspace_id
        self.workers = workers  # None: decide from the size to read and the platform
        self.ahead = ahead  # the roots' files being read already (claude_read.read_ahead): its listing is used
        self._listing: Listing = []  # claude_files.list_files's (root, file, path below the root)
        self._files: list[tuple[Path, str]] = []  # (root, file): texts, not Paths (thousands of files)
        self._projects: list[str | None] = []
        self._usage_lines = 0

    # --- reading ---------------------------------------------------------------------------------
    def _list(self) -> list[tuple[Path, str]]:
        walked = self._listing = self.ahead.listing if self.ahead is not None else list_files(self.roots)
        self._files = [(root, path) for root, path, _rel in walked]
        self._projects = [_project_of(rel) for _root, _path, rel in walked]
        limit = TEXT_LIMITS["project"]
        for project in set(self._projects):  # UsageRecord's check, once per folder instead of per row
            if project is not None and not (len(project) <= limit and project.isascii() and project.isprintable()):
                check_name("project", project, limit)
        self.report.files += len(self._files)
        return self._files

    def _entries(self, jobs: list[tuple[int, int]], nbytes: int,
                 done: dict[int, FileScan] | None = None) -> Iterator[Entry]:
        """Every entry of the (file index, start offset) jobs, in path order; reports each file's
        rejects and errors and keeps its scan (without entries) in `done`."""
        report = self.report
        ahead, self.ahead = self.ahead, None  # one import takes its results
        for scan, entries in scans([(self._files[i][1], start, i) for i, start in jobs],
                                   worker_count(nbytes, self.workers), self.pricer.warm, ahead):
            yield from entries
            path = self._files[scan.index][1]
            if scan.error:
                report.warnings.append(f"{path}: {scan.error}")
            for line, reason in scan.rejects:
                report.reject(line, reason, path)
            report.rejected_total += scan.rejected - len(scan.rejects)
            self._usage_lines += scan.usage_lines
            scan.entries = []
            if done is not None:
                done[scan.index] = scan

    # --- records ---------------------------------------------------------------------------------
    def records(self) -> Iterator[UsageRecord]:
        """Every request in the roots as a record (a full read; no ledger, no file state)."""
        files = self._list()
        dedup = _Dedup()
        written = 0
        for e in self._entries([(i, 0) for i in range(len(files))], _size(f for _, f in files)):
            if dedup.offer(e):
                written += 1
                yield self._record(e)
        for e in [*dedup.held(), *dedup.late.values()]:
            written += 1
            yield self._record(e)
        self._count(written, len(dedup.late))

    def _count(self, written: int, rewrites: int) -> None:
        """Usage lines that were not written (other copies, placeholders, copies the ledger has) are
        skipped; a request rewritten with a better copy within this import counts once, as added."""
        self.report.skipped += self._usage_lines - (written - rewrites)

    def _record(self, e: Entry) -> UsageRecord:
        rank, key, cls, model, numbers, tier_text, index = e
        ts_us, inp, out, cr, w5, w1, cost = NUMBERS.unpack(numbers)
        if model and rank & 1:
            model = f"{model}-fast"
        at = _EPOCH + timedelta(microseconds=ts_us)
        tier = _TIERS.get(tier_text, ServiceTier.STANDARD)
        usage = TokenUsage(inp, out, cr, w5, w1, 0, True, 1)
        return UsageRecord(
            source=DataSource.LOG, dedup_key=key, provider="anthropic", bucket_start=at, bucket_end=at,
            usage=usage, model=model, model_vendor="anthropic", workspace_id=self.workspace_id,
            project=self._projects[index], service_tier=tier, line_item=LINE_ITEMS[cls],
            reported_cost=money(cost) if cost == cost else None,  # NaN: no costUSD
            computed_cost=self.pricer(model, usage, tier, at.date()), cost_role=self.billing.cost_role,
        )

    def _rows(self, page: list[Entry], ws: int) -> dict[tuple[str, str], tuple[Any, ...]]:
        """The DB-ready ledger rows (storage.ledger.BulkInserter.insert) of what `_record` makes of these
        entries: the same values and prices without the objects. A record's own checks hold already:
        the line's were made when it was read (claude_parse.make_entry), the projects' in `_list`,
        and the computed cost's range here."""
        now = sqlite_time(datetime.now(timezone.utc))
        ws_id = self.workspace_id or ws
        role = self.billing.cost_role
        spend, role_text = role is _SPEND, role.value
        units, projects, tiers, items = self.pricer.units, self._projects, _TIERS, LINE_ITEMS
        tier_values = _TIER_VALUES
        unpack, epoch, us, standard = NUMBERS.unpack, _NAIVE_EPOCH, timedelta, ServiceTier.STANDARD
        out: dict[tuple[str, str], tuple[Any, ...]] = {}
        for rank, key, cls, model, numbers, tier_text, index in page:
            ts_us, inp, out_t, cr, w5, w1, cost = unpack(numbers)
            if model and rank & 1:
                model = f"{model}-fast"
            at = epoch + us(microseconds=ts_us)  # UTC, naive: its isoformat is sqlite_time's text
            tier = tiers.get(tier_text, standard)
            computed, exact = units(model, tier, at.date(), inp, out_t, cr, w5, w1)
            if computed is not None and (not _UNITS_MIN <= computed <= _UNITS_MAX
                                         or exact is not None and not -MAX_ROW_MONEY <= exact <= MAX_ROW_MONEY):
                check_row_money("computed_cost", exact if exact is not None else Decimal(computed).scaleb(-SCALE))
            reported = money_to_units(money(cost)) if cost == cost else None  # NaN: no costUSD
            charged = (reported if reported is not None else computed if computed is not None else 0) if spend else 0
            when = at.isoformat(" ", "microseconds")
            out[(_LOG, key)] = (_LOG, key, ws_id, None, "anthropic", model, "anthropic", projects[index], None,
                                items[cls], tier_values[tier], when, when, 0, inp, out_t, cr, w5, w1, 0, 1, 1, reported,
                                computed, charged, role_text, "USD", None, 0, None, now)
        return out

    # --- incremental import ----------------------------------------------------------------------
    def import_into(self, db: "Database", page_size: int = PAGE_SIZE) -> ImportReport:
        """Import what changed since the last import into the ledger; returns the report."""
        gc_was_on = gc.isenabled()
        # Reading makes millions of acyclic objects: collections would only cost time. Collection
        # resumes once _import has returned and its structures (one entry per request) are freed: the
        # first collection after would otherwise walk all of them, three times over (~0.1 s).
        gc.disable()
        try:
            return self._import(db, page_size)
        finally:
            if gc_was_on:
                gc.enable()

    def _import(self, db: "Database", page_size: int) -> ImportReport:
        files = self._list()
        settings = settings_key(self.billing, self.workspace_id)
        states = file_state_store.load(db, KIND)
        plans: dict[int, file_state.ReadPlan] = {}
        stats = self.ahead.stats if self.ahead is not None else None
        for i, ((_root, path), key) in enumerate(zip(files, state_keys(self.roots, self._listing))):
            try:
                st = stats[i] if stats is not None else None  # stated before the workers read
                if st is None:
                    st = os.stat(path)
            except OSError as exc:
                self.report.warnings.append(f"{path}: cannot read: {exc.strerror or exc}")
                continue
            p = file_state.plan(path, key, st, states.get(key), settings)
            if p is not None:
                plans[i] = p
        if not plans:
            return self.report
        refreshed = {i for i, p in plans.items() if p.refresh}
        stored = _Stored(db) if _ledger_has_claude_rows(db) else None
        scans: dict[int, FileScan] = {}
        dedup = _Dedup(early_side=stored is None)
        pending: list[Entry] = []
        writer: _Writer | None = None
        written = 0
        try:
            entries = self._entries([(i, p.start) for i, p in plans.items()],
                                    sum(p.size - p.start for p in plans.values()), scans)
            for e in entries:
                if dedup.offer(e):
                    pending.append(e)
                    if len(pending) >= page_size:
                        if writer is None:  # after the worker processes are forked: no thread then
                            writer = _Writer(db, self)
                        written += self._flush(pending, stored, refreshed, writer)
                        pending = []
            if writer is None:
                writer = _Writer(db, self)
            written += self._flush(pending, stored, refreshed, writer)
            held, late = dedup.held(), list(dedup.late.values())
            early_stale, early_rewrites = dedup.settle_early()
            if stored is not None:
                held = stored.settle_side(held, refreshed)
                late = stored.settle_main(late, refreshed)
            rewrites = early_rewrites + sum(1 for e in late if stored is None or hash(e[1]) not in stored.dropped)
            # Pages are written in order: the late copies after the first copies are stored, so each
            # rewrites its row once.
            for group in (held, late):
                for i in range(0, len(group), page_size):
                    writer.put(group[i:i + page_size])
            written += len(held) + len(late)
            read = [(plans[i].key, file_state.FileState(plans[i].size, plans[i].mtime_ns, s.offset, s.probe,
                                                        settings)) for i, s in scans.items() if not s.error]
            # The file states commit with the last rows when nothing is left to delete after them (a
            # state must not say a file was read before the rows its copies made redundant are gone).
            deletes = bool(early_stale) or (stored is not None and bool(stored.stale))
            result = writer.close(None if deletes else
                                  lambda cur: file_state_store.save_sqlite_in(cur, KIND, read))
            states_saved = writer.last_written
            writer = None
            self.report.added += result.added
            self.report.updated += result.updated
            self.report.skipped += result.unchanged
        finally:
            if writer is not None:
                try:
                    writer.close()
                except BaseException:
                    pass
        if early_stale:  # rows this import added and a later copy replaced
            _delete(db, early_stale)
            written -= len(early_stale)
            self.report.added -= len(early_stale)
        self._count(written, rewrites)
        self.report.updated -= rewrites  # the ledger saw them update rows this import had added
        if stored is not None and stored.stale:
            _delete(db, stored.stale)
        if not states_saved:
            file_state_store.save(db, KIND, read)
        return self.report

    def _flush(self, pending: list[Entry], stored: "_Stored | None", refreshed: set[int], writer: _Writer) -> int:
        batch = pending if stored is None else stored.settle_main(pending, refreshed)
        writer.put(batch)  # the writer keeps the list: the caller starts a new one
        return len(batch)


class _Stored:
    """Copies already in the ledger from earlier imports, looked up by message id as new copies come."""

    def __init__(self, db: "Database") -> None:
        self.db = db
        self.stale: list[str] = []  # stored rows that new copies make redundant
        self.dropped: set[int] = set()  # hash(dedup key) of copies not written (the stored one is as good)

    def settle_main(self, entries: list[Entry], refreshed: set[int]) -> list[Entry]:
        """The non-sidechain copies to write: new requests, and copies better than the stored one
        (ties keep the stored row, unless its file is read again for changed settings). Stored
        sidechain/progress copies of their messages become stale."""
        rows = _stored_copies(self.db, {identity_mid(e) for e in entries if not e[1].startswith(_KEYLESS)})
        keep: list[Entry] = []
        for e in entries:
            if e[1].startswith(_KEYLESS):
                keep.append(e)  # the ledger compares it with the stored row
                continue
            copies = rows.get(identity_mid(e), ())
            same = next((r for r in copies if r[0] == e[1]), None)
            if same is None or e[0] > same[1] or (e[0] == same[1] and e[6] in refreshed):
                keep.append(e)
            else:
                self.dropped.add(hash(e[1]))
            self.stale.extend(k for k, _rank, cls in copies if cls != MAIN)
        return keep

    def settle_side(self, entries: list[Entry], refreshed: set[int]) -> list[Entry]:
        """The sidechain/progress copies to write: none for a message with a stored non-sidechain
        copy; otherwise only one better than the best stored sidechain copy (which becomes stale)."""
        rows = _stored_copies(self.db, {identity(e) for e in entries if not e[1].startswith(_KEYLESS)})
        keep: list[Entry] = []
        for e in entries:
            if e[1].startswith(_KEYLESS):
                keep.append(e)
                continue
            copies = rows.get(identity(e), ())
            best = max(copies, key=lambda r: r[1], default=None)
            if any(cls == MAIN for _k, _r, cls in copies):
                continue
            if best is None or e[0] > best[1] or (e[0] == best[1] and best[0] == e[1] and e[6] in refreshed):
                keep.append(e)
                self.stale.extend(k for k, _r, _c in copies if k != e[1])
            else:  # one sidechain row per message: others are left by an import stopped before settling
                self.stale.extend(k for k, _r, _c in copies if k != best[0])
        return keep


def identity_mid(e: Entry) -> str:
    """The message id of a keyed entry."""
    return e[1][_PREFIX_LEN:].rpartition(":")[0]


def _ledger_has_claude_rows(db: "Database") -> bool:
    with db.session() as s:
        return s.scalar(select(U.id).where(U.source == DataSource.LOG.value, U.dedup_key >= KEY_PREFIX,
                                           U.dedup_key < KEY_PREFIX[:-1] + ";").limit(1)) is not None


def _stored_copies(db: "Database", mids: set[str]) -> dict[str, list[tuple[str, int, int]]]:
    """Stored rows of these message ids: mid -> [(dedup key, rank, copy class)]."""
    cols = (U.dedup_key, U.line_item, U.input_tokens, U.output_tokens, U.cache_read_tokens,
            U.cache_write_5m_tokens, U.cache_write_1h_tokens, U.model)
    classes = {v: k for k, v in LINE_ITEMS.items()}
    out: dict[str, list[tuple[str, int, int]]] = {}
    if not mids:
        return out

    def take(rows: Iterable[Sequence[Any]]) -> None:  # ledger rows of `cols`
        for key, item, i, o, cr, w5, w1, model in rows:
            if key.startswith(_KEYLESS):
                continue
            mid = key[_PREFIX_LEN:].rpartition(":")[0]
            if mid in mids:
                cls = classes.get(item, MAIN)
                out.setdefault(mid, []).append(
                    (key, rank_of(cls, i + o + cr + w5 + w1, bool(model and model.endswith("-fast"))), cls))

    with db.session() as s:
        ordered = sorted(mids)
        for i in range(0, len(ordered), _LEDGER_BATCH):
            ranges = [and_(U.dedup_key >= f"{KEY_PREFIX}{m}:", U.dedup_key < f"{KEY_PREFIX}{m};")
                      for m in ordered[i:i + _LEDGER_BATCH]]
            take(s.execute(select(*cols).where(U.source == DataSource.LOG.value, or_(*ranges))))
    return out


def _delete(db: "Database", keys: list[str]) -> None:
    unique = sorted(set(keys))
    for i in range(0, len(unique), 500):
        delete_where(db, U.source == DataSource.LOG.value, U.dedup_key.in_(unique[i:i + 500]))


def _size(paths: Iterable[str]) -> int:
    total = 0
    for p in paths:
        try:
            total += os.stat(p).st_size
        except OSError:
            pass
    return total


def _project_of(rel: str) -> str | None:
    """The first folder under `projects/` (the session's cwd with '/' turned into '-')."""
    head, sep, _rest = rel.partition(os.sep)
    return head if sep else None