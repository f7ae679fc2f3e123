"""Reading Claude Code transcripts in worker processes, and starting that before the ledger is loaded.

A first import of a big folder is mostly parsing (claude_parse.py), which worker processes do; the
rest of the import (SQLAlchemy and the price catalog imported, the ledger opened or created) takes
the main process about a second. `ReadAhead` forks the workers first, from what the stored file
states say is to be read (read with the standard library: storage/quick_state.py), so the two
overlap; the import hands the results over only when its own plan, made from the ledger, asks for
exactly those reads, and reads itself otherwise. Standard library only, like claude_parse.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from aicost_desktop.importers import file_state
from aicost_desktop.importers.claude_files import KIND, settings_key, state_keys
from aicost_desktop.importers.claude_parse import Entry, FileScan, iter_entries, scan_file
from aicost_desktop.storage.quick_state import stored_states

# Reading this many bytes or more uses worker processes (when the platform and caller allow it).
PARALLEL_BYTES = 64 << 20
Job = tuple[str, int, int]  # (file path, start offset, index in the listing)
Listing = list[tuple[Path, str, str]]  # claude_files.list_files: (root, file path, path below the root)


def worker_count(nbytes: int, workers: int | None = None) -> int:
    """How many processes read `nbytes`: `workers` when given, else several only for big reads."""
    if workers is not None:
        return max(1, workers)
    if nbytes < PARALLEL_BYTES or not can_fork():
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def can_fork() -> bool:
    """Fork only where it is safe and cheap: POSIX but not macOS (system libraries break after
    fork), from a single-threaded caller (a GUI worker thread reads in-process)."""
    return (hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1
            and threading.current_thread() is threading.main_thread())


class ReadAhead:
    """The files a coming import will read, being read by worker processes meanwhile. `take` hands
    the results to the import whose plan is the same; `close` stops the workers (always call it)."""

    def __init__(self, listing: Listing, jobs: list[Job], workers: int,
                 stats: "list[os.stat_result | None] | None" = None) -> None:
        self.listing = listing  # the listing the jobs' indexes point into
        self.stats = stats  # per listed file, what the plan was made from (None: not stated)
        self.jobs = jobs
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start)
        self._pool: Any = pool  # multiprocessing.pool.Pool; None once closed
        self._results: Iterator[FileScan] | None = pool.imap(_scan_job, jobs, chunksize=_chunk(jobs, workers))

    def take(self, jobs: list[Job]) -> Iterator[FileScan] | None:
        """The scans of `jobs`, in order, if they are what is being read; else None (and the workers stop)."""
        results, self._results = self._results, None
        if results is None or jobs != self.jobs:
            self.close()
            return None
        return results

    def close(self) -> None:
        self._results = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()
            pool.join()

    def __enter__(self) -> "ReadAhead":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_ahead(roots: Sequence[Path], listing: Listing, billing: object, db_url: str) -> ReadAhead | None:
    """Start reading what an import of `roots` (listed by claude_files.list_files) into the ledger at
    `db_url` will read (default workspace), when that is big enough for worker processes; None
    otherwise, or when the stored states cannot be read without the ledger's machinery."""
    states = stored_states(db_url, KIND)
    if states is None or not can_fork():
        return None
    settings = settings_key(billing, None)
    jobs: list[Job] = []
    stats: list[os.stat_result | None] = [None] * len(listing)
    nbytes = 0
    for i, key in enumerate(state_keys(roots, listing)):
        path = listing[i][1]
        try:
            st = stats[i] = os.stat(path)
        except OSError:
            continue
        got = states.get(key)
        prev = file_state.FileState(*got) if got is not None else None
        p = file_state.plan(path, key, st, prev, settings)
        if p is not None:
            jobs.append((path, p.start, i))
            nbytes += p.size - p.start
    workers = worker_count(nbytes)
    if workers <= 1 or len(jobs) < 2:
        return None
    return ReadAhead(listing, jobs, workers, stats)


def scans(jobs: list[Job], workers: int, warm: Callable[[], None],
          ahead: ReadAhead | None = None) -> Iterator[tuple[FileScan, Iterable[Entry]]]:
    """(scan, its entries) per job in job order; the scan's bookkeeping is complete once its entries
    are consumed. From `ahead` when it read these jobs, else in `workers` forked processes when
    more than one, else here. `ahead` is closed either way."""
    results = ahead.take(jobs) if ahead is not None else None
    if results is None and workers > 1 and len(jobs) >= 2:
        ahead = ReadAhead([], jobs, workers)
        results = ahead.take(jobs)
    if results is None or ahead is None:
        warm()
        for path, start, index in jobs:
            scan = FileScan(index=index)
            yield scan, iter_entries(path, start, scan)
        return
    try:
        warm()  # load prices here while the workers read
        for scan in results:
            yield scan, scan.entries
    finally:
        ahead.close()


def _worker_start() -> None:
    gc.disable()  # a scan makes millions of acyclic objects: collections would only cost time
    # The workers read ahead of the main process, which is the import's critical path (loading the
    # ledger, then writing rows as scans arrive): on a machine with fewer cores than busy processes it
    # goes first, and the workers use what is left.
    os.nice(10)


def _chunk(jobs: list[Job], workers: int) -> int:
    # Big chunks: a task round trip costs more than scanning a small file.
    return max(1, min(256, len(jobs) // (workers * 8)))


def _scan_job(job: Job) -> FileScan:
    return scan_file(*job)
