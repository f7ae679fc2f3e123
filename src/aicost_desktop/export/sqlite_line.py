"""SQL for one finished CSV line per ledger row on SQLite: a single printf() with every cell formatted.

Why printf: SQLite formats in C what Python would format cell by cell (money digits, ISO instants, local days,
names); one call per row with integer arguments costs far less than a string expression per cell.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from aicost_desktop.domain.days import utc_offset_changes
from aicost_desktop.export import writer as w
from aicost_desktop.storage.tables import UsageRow

SEP = "\x1d"  # precedes a raw data text cell instead of a comma (GS: real text has none, and that is checked)
LEAD = "\x1c"  # starts a line whose first cell is a raw data text cell (removed after the check)
CSV_SPECIAL = (",", '"', "\r", "\n")  # csv.writer (QUOTE_MINIMAL, lineterminator \r\n) quotes these
DATA_TEXT = frozenset(w.TEXT_COLUMNS - {"account", "workspace"})  # text read from the row itself
MAX_NULL_VARIANTS = 3  # nullable multi-part cells, spelled out as 2**n printf variants
_INTS = ("id", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
         "cache_write_1h_tokens", "reasoning_tokens", "requests")
_E = 10_000_000_000  # money units per currency unit
_R = "usage_records."
_DANGER_SQL = "(" + ", ".join(f"'{c}'" for c in w._DANGEROUS) + ")"
_SPECIAL_GLOB = "'*[" + "".join(CSV_SPECIAL) + "]*'"

Cell = tuple[str, list[Any], "str | None"]  # printf format, SQL arguments, SQL test for an empty cell (or None)


def csv_rule_holds() -> bool:
    """True when csv.writer quotes exactly the fields containing , " CR or LF (doubling quotes)."""
    probes = ["a", "", " a ", "a,b", 'a"b', "a\rb", "a\nb", "a\tb", "'=1", "a;b", "\u00e9", "a\\b", "#x"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(probes)
    return buf.getvalue() == ",".join(csv_text(p) for p in probes) + "\r\n"


def csv_text(value: str | None) -> str:
    """The CSV text of one text cell as the general path writes it (neutralized, then quoted if needed)."""
    if value is None:
        return ""
    v = w.neutralize(value)
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in CSV_SPECIAL) else v


def _text(col: str) -> str:
    """csv_text() in SQL (for batches with many odd cells, where checking in Python would cost more)."""
    neutral = f"CASE WHEN substr({col}, 1, 1) IN {_DANGER_SQL} THEN '''' || {col} ELSE {col} END"
    return (f"CASE WHEN {col} IS NULL THEN '' WHEN {col} GLOB {_SPECIAL_GLOB} "
            f"""THEN '"' || replace({neutral}, '"', '""') || '"' ELSE {neutral} END""")


def _money(col: str, nullable: bool) -> Cell:
    """money_text() as printf arguments: sign, whole part, kept decimals (2..10, trailing zeros dropped), digits.
    |units / 1e10| and |units % 1e10| never overflow, even for the smallest int64."""
    r = f"({col} % {_E})"
    keep = "CASE " + " ".join(f"WHEN {col} % {10 ** (10 - k)} = 0 THEN {k}" for k in range(2, 10)) + " ELSE 10 END"
    digits = ("CASE " + " ".join(f"WHEN {col} % {10 ** (10 - k)} = 0 THEN abs({r} / {10 ** (10 - k)})"
                                 for k in range(2, 10)) + f" ELSE abs({r}) END")
    sign = f"CASE WHEN {col} < 0 THEN '-' ELSE '' END"
    return "%s%d.%0*d", [sign, f"abs({col} / {_E})", keep, digits], f"{col} IS NULL" if nullable else None


def _iso(col: str, nullable: bool) -> Cell:
    """_Times.iso() from the stored text 'YYYY-MM-DD HH:MM:SS.ffffff': date, T, time, trimmed fraction, Z."""
    frac = f"CASE WHEN substr({col}, 20) = '.000000' THEN '' ELSE rtrim(substr({col}, 20), '.0') END"
    return "%.10sT%.8s%sZ", [col, f"substr({col}, 12, 8)", frac], f"{col} IS NULL" if nullable else None


def offset_changes(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """UTC offsets (seconds) of `tz` over [lo, hi]: [(utc_from, offset)], each change located to the second."""
    return [(at, int(o.total_seconds())) for at, o in utc_offset_changes(tz, lo, hi)]


def _local_day(col: str, dated: str, changes: list[tuple[datetime, int]]) -> Cell:
    """_Times.local_day(), printed as the first 10 characters of the stored instant or of the shifted one:
    dated rows keep their date; an instant is shifted by the zone's offset at that instant (a balanced CASE
    over the offset changes in the data's range)."""
    whole = f"substr({col}, 1, 19)"  # date() rounds to milliseconds: 23:59:59.9999 would be the next day

    def shifted(seconds: int) -> str:
        if seconds == 0:
            return col
        if seconds % 3600 == 0:  # whole hours: only the hours next to midnight change the date
            h = seconds // 3600
            hour = f"substr({col}, 12, 2)"
            if h > 0:
                return f"CASE WHEN {hour} < '{24 - h:02d}' THEN {col} ELSE date({whole}, '+{h} hours') END"
            return f"CASE WHEN {hour} >= '{-h:02d}' THEN {col} ELSE date({whole}, '{h} hours') END"
        return f"date({whole}, '{seconds:+d} seconds')"

    def tree(lo: int, hi: int) -> str:  # over changes[lo:hi]
        if hi - lo == 1:
            return shifted(changes[lo][1])
        mid = (lo + hi) // 2
        at = changes[mid][0].strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"CASE WHEN {col} < '{at}' THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END"

    return "%.10s", [f"CASE WHEN {dated} != 0 THEN {col} ELSE {tree(0, len(changes))} END"], None


def cells(columns: Sequence[str], names: dict[str, dict[Any, str]], changes: list[tuple[datetime, int]] | None,
          marked: bool) -> list[Cell]:
    """One printf cell per column, formatted as the general path formats it. Data text cells are raw when
    `marked` (Python checks them), else quoted and neutralized in SQL."""
    T = UsageRow.__table__.c
    out: list[Cell] = []
    for c in columns:
        if c in DATA_TEXT:
            out.append(("%s", [_R + c if marked else _text(_R + c)], None))  # NULL prints as an empty cell
        elif c in ("account", "workspace"):  # names as taken before the query, as exact CSV text (bound values)
            col = UsageRow.account_id if c == "account" else UsageRow.workspace_id
            ids = {i: csv_text(n) for i, n in names[c].items() if i is not None}
            out.append(("%s", [case(ids, value=col, else_=literal("", String)) if ids else literal("", String)],
                        None))
        elif c in _INTS:  # %s prints whatever is stored, as the general path does (%d only for the rowid)
            out.append(("%d" if c == "id" else "%s", [_R + c], None))
        elif c == "cache_write_tokens":
            out.append(("%s", [f"{_R}cache_write_5m_tokens + {_R}cache_write_1h_tokens"], None))
        elif c in w.MONEY_COLUMNS:
            out.append(_money(_R + c, T[c].nullable))
        elif c in ("start_utc", "end_utc", "updated_at"):
            src = {"start_utc": "bucket_start", "end_utc": "bucket_end"}.get(c, c)
            out.append(_iso(_R + src, T[src].nullable))
        elif c == "local_day":
            assert changes is not None
            out.append(_local_day(_R + "bucket_start", _R + "dated", changes))
        elif c in ("dated", "is_demo"):
            out.append(("%s", [f"CASE WHEN {_R}{c} != 0 THEN 'True' ELSE 'False' END"], None))
        else:
            raise AssertionError(f"no SQLite cell for column {c}")
    return out


def line(columns: Sequence[str], cells: list[Cell], marked: bool) -> ColumnElement[str]:
    """The printf() of a whole CSV line; when `marked`, raw data text cells follow SEP (LEAD when first).
    A nullable multi-part cell (money) would print '0.00' for NULL, so each NULL pattern has its own format."""
    nullable = [i for i, cell in enumerate(cells) if cell[2]]
    assert len(nullable) <= MAX_NULL_VARIANTS

    def printf(empty: set[int]) -> ColumnElement[str]:
        fmt: list[str] = []
        args: list[Any] = []  # SQL expressions and literal values, as a Cell holds them
        for i, (c, (f, a, _)) in enumerate(zip(columns, cells)):
            fmt.append((LEAD if i == 0 else SEP) if marked and c in DATA_TEXT else ("" if i == 0 else ","))
            if i not in empty:
                fmt.append(f)
                args.extend(literal_column(x, String) if isinstance(x, str) else x for x in a)
        return func.printf(literal("".join(fmt), String), *args, type_=String)

    whens: list[tuple[ColumnElement[Any], ColumnElement[str]]] = []
    for mask in range((1 << len(nullable)) - 1):
        empty = {i for b, i in enumerate(nullable) if mask >> b & 1}
        test = " AND ".join(("" if i in empty else "NOT ") + f"({cells[i][2]})" for i in nullable)
        whens.append((literal_column(test), printf(empty)))
    return case(*whens, else_=printf(set(nullable))) if whens else printf(set())
