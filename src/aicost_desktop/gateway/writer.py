"""The gateway's ledger writer: a queue and one thread that upserts rows in batches and retries failures.

A request only enqueues its row (no I/O on the event loop), so a slow or locked database never delays
or fails a client's call. Rows are idempotent (source `proxy`, one dedup key per request), so a batch
retried after an ambiguous failure is written once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Sequence

from aicost_desktop.domain.redact import redact
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records

log = logging.getLogger("aicost.gateway.writer")
BATCH = 500
RETRY_FIRST, RETRY_MAX = 0.2, 10.0


# What to tell once a row is committed: the budget guard's charges, (budget id, amount) pairs.
Charges = list[tuple[int, Decimal]]


class Item:
    """A row to write and what to tell once it is committed: the budget guard's charges and the call
    (what `GatewayState.recent` shows of it)."""

    __slots__ = ("record", "after", "call")

    def __init__(self, record: UsageRecord, after: Charges | None = None, call: dict[str, Any] | None = None) -> None:
        self.record, self.after, self.call = record, after, call


class LedgerWriter:
    """`put(record)` from any thread; one daemon thread writes. `flush()` waits until all is committed.

    `on_committed(items)` runs on the writer thread after each committed batch; `tasks` are callables
    run on the same thread between batches (the guard re-reads budgets there, so a re-read never
    races a commit), and `idle(seconds)` is called when nothing arrived for that long.
    """

    def __init__(self, db: Database, *, on_committed: Callable[[Sequence[Item]], None] | None = None,
                 idle: Callable[[], None] | None = None, idle_seconds: float = 5.0,
                 write: Callable[[Database, list[UsageRecord]], object] = upsert_records) -> None:
        self.db, self._on_committed, self._idle, self._idle_seconds = db, on_committed, idle, idle_seconds
        self._write = write
        self._q: "queue.Queue[Item | Callable[[], None] | None]" = queue.Queue()
        self._cond = threading.Condition()
        self._put_count = 0   # rows put, ever
        self._done_count = 0  # rows committed (or given up), ever; rows commit in the order they were put
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failures = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gateway-ledger-writer", daemon=True)
            self._thread.start()

    def put(self, record: UsageRecord, after: Charges | None = None, call: dict[str, Any] | None = None) -> None:
        with self._cond:
            self._put_count += 1
        self._q.put(Item(record, after, call))

    def call(self, fn: Callable[[], None], wait: float | None = None) -> None:
        """Run `fn` on the writer thread (after rows queued before it); wait up to `wait` seconds for it."""
        done = threading.Event()

        def task() -> None:
            try:
                fn()
            finally:
                done.set()

        self._q.put(task)
        if wait is not None and self._thread is not None:
            done.wait(wait)

    @property
    def pending(self) -> int:
        with self._cond:
            return self._put_count - self._done_count

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row put so far is committed; False on timeout.

        Rows put after the call are not waited for, so a flush under steady traffic still ends."""
        with self._cond:
            target = self._put_count
            return self._cond.wait_for(lambda: self._done_count >= target, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued (retrying until `timeout`), then end the thread."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._stop.set()
        self._q.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        last_idle = time.monotonic()
        while True:
            try:
                first = self._q.get(timeout=self._idle_seconds)
            except queue.Empty:
                self._run_idle()
                last_idle = time.monotonic()
                continue
            if first is None:
                return
            batch: list[Item] = []
            tasks: list[Callable[[], None]] = []
            for got in self._drain(first):
                if got is None:
                    self._stop.set()
                elif isinstance(got, Item):
                    batch.append(got)
                else:
                    tasks.append(got)
            if batch:
                self._commit(batch)
            for task in tasks:
                self._safe(task)
            if time.monotonic() - last_idle >= self._idle_seconds:
                self._run_idle()
                last_idle = time.monotonic()
            if self._stop.is_set() and self._q.empty():
                return

    def _drain(self, first: "Item | Callable[[], None] | None") -> list["Item | Callable[[], None] | None"]:
        out = [first]
        while len(out) < BATCH:
            try:
                out.append(self._q.get_nowait())
            except queue.Empty:
                break
        return out

    def _commit(self, batch: list[Item]) -> None:
        delay, last_tries = RETRY_FIRST, 3
        while True:
            try:
                self._write(self.db, [i.record for i in batch])
                break
            except Exception as exc:  # noqa: BLE001 - any failure is retried; the client already has its answer
                self.failures += 1
                log.warning("gateway: ledger write of %d rows failed, retrying in %.1f s: %s",
                            len(batch), delay, redact(f"{type(exc).__name__}: {exc}"))
                if self._stop.is_set():  # stopping after flush() timed out: a few quick tries, then give up
                    last_tries -= 1
                    if last_tries <= 0:
                        log.error("gateway: %d metered requests not written to the ledger", len(batch))
                        self._done(len(batch))
                        return
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
        self.written += len(batch)
        on_committed = self._on_committed
        if on_committed is not None:
            self._safe(lambda: on_committed(batch))
        self._done(len(batch))

    def _done(self, n: int) -> None:
        with self._cond:
            self._done_count += n
            self._cond.notify_all()

    def _run_idle(self) -> None:
        if self._idle is not None:
            self._safe(self._idle)

    @staticmethod
    def _safe(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a guard refresh failing must not stop the writer
            log.warning("gateway: background task failed: %s", redact(f"{type(exc).__name__}: {exc}"))
