"""CSV export on SQLite: SQLite formats each line, Python checks whole batches, odd rows take the general path.

Why: formatting a million rows cell by cell in Python costs several seconds; SQLite's printf() does it in C
(sqlite_line). Text cells are not quoted or neutralized in SQL, since testing every cell there costs more than
all the other formatting: a raw data text cell follows the marker SEP instead of a comma, and Python checks a
whole batch with a few C-speed string scans that no text cell holds , " CR LF or a marker and none starts with
= + - @ TAB. Such a batch becomes CSV by turning SEP into commas. In any other batch the odd rows (usually
none) are formatted again by the general path, so the file has exactly the general path's bytes. Should odd
rows turn out common, the rest of the export is read with text cells quoted and neutralized by SQLite.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections import Counter
from datetime import datetime, timezone
from typing import IO, Any, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from aicost_desktop.export import sqlite_line as sl
from aicost_desktop.export import writer as w
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow

_MAX_NAMES_IN_SQL = 200  # more accounts/workspaces than this: the general path looks names up in Python
_RUN = 64  # a failed batch is checked again in runs of this many lines, then line by line
_ODD_SHARE = 100  # more than one odd row in this many: quote and neutralize in SQL from then on
_ID, _NAMES = 2, 4  # result columns: line, cost, id, currency, then the name ids the checker needs
_LINE, _COST, _CURRENCY = operator.itemgetter(0), operator.itemgetter(1), operator.itemgetter(3)


class _Checker:
    """Turns n raw lines joined by CRLF into final CSV text, or None when some cell needs the general path."""

    def __init__(self, columns: Sequence[str], names: dict[str, dict[Any, str]]) -> None:
        self.lead = columns[0] in sl.DATA_TEXT
        self.commas = len(columns) - 1
        danger = re.escape("".join(d for d in w._DANGEROUS if d != "\r"))  # a leading CR is caught by the count
        self.danger = re.compile(f"[{re.escape(sl.SEP + sl.LEAD)}][{danger}]" if self.lead
                                 else f"{re.escape(sl.SEP)}[{danger}]")
        # Names are exact CSV text already; their commas, quotes, CRs and LFs are expected, counted per row.
        # Only names holding such characters need their ids read (result columns from _NAMES on).
        self.extras: list[tuple[int, str, dict[Any, tuple[int, ...]]]] = []
        for c in ("account", "workspace"):
            if c in columns:
                k = columns.count(c)  # a column may be chosen twice
                table = {i: tuple(k * sl.csv_text(n).count(ch) for ch in sl.CSV_SPECIAL) for i, n in names[c].items()}
                table = {i: e for i, e in table.items() if any(e)}
                if table:
                    self.extras.append((_NAMES + len(self.extras), c, table))

    def extra(self, rows: Sequence[Any]) -> tuple[int, ...]:
        """The commas, quotes, CRs and LFs the names in these rows bring."""
        tot = [0, 0, 0, 0]
        for pos, _, table in self.extras:
            for i, k in Counter(map(operator.itemgetter(pos), rows)).items():
                for j, e in enumerate(table.get(i, ())):
                    tot[j] += k * e
        return tuple(tot)

    def finish(self, rows: Sequence[Any]) -> str | None:
        chunk, n = "\r\n".join(map(_LINE, rows)), len(rows)
        if self.danger.search(chunk) or (self.lead and chunk.count(sl.LEAD) != n):
            return None
        out = chunk.replace(sl.SEP, ",")  # a SEP inside data becomes one comma too many
        commas, quotes, crs, lfs = self.extra(rows) if self.extras else (0, 0, 0, 0)
        if (out.count(",") != n * self.commas + commas or (out.count('"') != quotes if quotes else '"' in out)
                or out.count("\r") != n - 1 + crs or out.count("\n") != n - 1 + lfs):
            return None
        return out.replace(sl.LEAD, "") if self.lead else out


def _general_lines(conn: Any, db: Database, tz: ZoneInfo, columns: Sequence[str],
                   names: dict[str, dict[Any, str]], ids: list[int]) -> dict[int, str]:
    """The general path's CSV line (without CRLF) of each of these rows, read in the same transaction."""
    raw_names, cols = w._select(UsageRow, db.dialect)
    _, fns, text_pos = w._csv_formatter(db, tz, columns, names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    out: dict[int, str] = {}
    id_pos = raw_names.index("id")
    for k in range(0, len(ids), 500):  # well under SQLite's bound-parameter limit
        for r in conn.execute(select(*cols).where(UsageRow.id.in_(ids[k:k + 500]))):
            buf.seek(0)
            buf.truncate()
            writer.writerow(w._csv_cells(r, fns, text_pos))
            out[r[id_pos]] = buf.getvalue()[:-2]
    return out


def _mixed(conn: Any, db: Database, tz: ZoneInfo, columns: Sequence[str], names: dict[str, dict[Any, str]],
           checker: _Checker, batch: Sequence[Any]) -> tuple[str, int]:
    """A batch with some odd cell: (its CSV text, how many rows the general path formatted). Runs of lines are
    checked first, so a single odd row costs a few dozen checks, not one per line."""
    pieces: list[str | int] = []  # finished text, or the id of a row for the general path
    for k in range(0, len(batch), _RUN):
        run = batch[k:k + _RUN]
        text = checker.finish(run)
        if text is None:
            pieces.extend(t if (t := checker.finish((r,))) is not None else r[_ID] for r in run)
        else:
            pieces.append(text)
    odd = [p for p in pieces if isinstance(p, int)]
    general = _general_lines(conn, db, tz, columns, names, odd)
    return "\r\n".join(general[p] if isinstance(p, int) else p for p in pieces), len(odd)


def csv_sqlite(fh: IO[str], db: Database, tz: ZoneInfo, spec: w.ExportSpec, names: dict[str, dict[Any, str]],
               total: int, progress: Callable[[int, int], None] | None,
               cancelled: Callable[[], bool] | None) -> tuple[int, dict[str, int]] | None:
    """The CSV of the general path, formatted by SQLite. None (nothing written) when it does not apply."""
    columns = list(spec.columns)
    if (len(columns) < 2 or len(names["account"]) > _MAX_NAMES_IN_SQL
            or len(names["workspace"]) > _MAX_NAMES_IN_SQL or not sl.csv_rule_holds()):
        return None  # (csv.writer writes a row of one empty cell as "")
    T = UsageRow
    checker = _Checker(columns, names)
    name_ids = [T.account_id if c == "account" else T.workspace_id for _, c, _ in checker.extras]
    done = odd = 0
    units: dict[str, int] = {}
    last_id: int | None = None
    marked = True  # raw text cells checked in Python; False once odd rows are common
    # One read transaction (a consistent snapshot, like the general path) for every query below; lines are
    # taken from the DBAPI cursor as sqlite3 returns them, without SQLAlchemy row processing.
    with db.engine.connect() as conn:
        changes = None
        if "local_day" in columns:
            # Two queries: SQLite answers a lone min() or max() from the index, both together by a full scan.
            lo = conn.execute(select(func.min(T.bucket_start))).scalar()
            hi = conn.execute(select(func.max(T.bucket_start))).scalar()
            changes = ([(datetime.min.replace(tzinfo=timezone.utc), 0)] if lo is None or hi is None  # no rows
                       else sl.offset_changes(tz, lo, hi))
        cells = {m: sl.cells(columns, names, changes, m) for m in (True, False)}
        if sum(c[2] is not None for c in cells[True]) > sl.MAX_NULL_VARIANTS:
            return None
        fh.write(",".join(columns) + "\r\n")  # column names are plain identifiers
        while True:
            cond = w._where(db, tz, spec) + ([T.id > last_id] if last_id is not None else [])
            q = (select(sl.line(columns, cells[marked], marked), T.cost, T.id, T.currency, *name_ids)
                 .where(*cond).order_by(T.id))
            cursor = conn.execute(q).cursor
            switch = False
            try:
                while not switch and (batch := cursor.fetchmany(spec.batch_size)):
                    if cancelled and cancelled():
                        raise w.ExportCancelled("export cancelled; nothing was written")
                    text = checker.finish(batch) if marked else "\r\n".join(map(_LINE, batch))
                    if text is None:
                        text, n = _mixed(conn, db, tz, columns, names, checker, batch)
                        odd += n
                        switch = odd * _ODD_SHARE > done + len(batch)
                    fh.write(text)
                    fh.write("\r\n")
                    w.add_costs(units, batch, _COST, _CURRENCY)
                    done += len(batch)
                    last_id = batch[-1][_ID]
                    if progress:
                        progress(done, max(total, done))
            finally:
                cursor.close()
            if not switch:
                break
            marked = False  # the rest from where this query stopped, same snapshot
    if cancelled and cancelled():
        raise w.ExportCancelled("export cancelled; nothing was written")
    return done, units
