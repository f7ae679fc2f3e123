"""The ranges a ledger row's fields must be in, checked once for every source and both backends.

Each check raises InputError naming the field and the value, so an importer turns it into one
rejected line and a command into one `error:` line. The ranges follow what the columns hold:
token counts are 64-bit integers summed per hour and per report (so one row stays far below
2**63), money is a 64-bit count of 1e-10 units, text columns have a length, and PostgreSQL
refuses NUL bytes that SQLite would store.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import MAX_AMOUNT, SCALE, parse_amount

# One row's token count of one kind: a trillion. The largest real day of one model in one
# account is orders of magnitude below; 9 million such rows still sum within 64 bits.
MAX_TOKENS = 10**12
# One ledger row's amount: a million (dollars, or units of its currency). Hours, days and reports sum rows in
# the same 64-bit columns, so one row stays far below a column's ~$922M: 9,223 of the largest rows still fit in
# one sum. The largest real row (one model-day of one account, a monthly invoice line) is far below.
MAX_ROW_MONEY = Decimal(1_000_000)
# Usage happened after 2000 and not more than a year from now (a clock a little off is fine).
EARLIEST_USAGE = date(2000, 1, 1)
FUTURE_SLACK = timedelta(days=366)
# Column lengths (storage/tables.py) for the names a row carries; notes are free text.
TEXT_LIMITS = {
    "source": 20, "dedup_key": 400, "provider": 40, "model": 200, "model_vendor": 60, "project": 200,
    "api_key_id": 200, "line_item": 200, "currency": 3,
}
MAX_NOTE = 10_000
# What the money columns hold exactly: a signed 64-bit count of 1e-10 units.
COLUMN_MAX = Decimal(2**63 - 1).scaleb(-SCALE)
COLUMN_MIN = Decimal(-(2**63)).scaleb(-SCALE)

# Bidirectional controls make a model name render as another (U+202E turns "gpt" into "tpg").
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_tokens(field: str, value: int) -> int:
    """A token (or request) count: a whole number 0 .. MAX_TOKENS."""
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(field, value, "must be a whole number of tokens")
    if value < 0:
        raise InputError(field, value, "must not be negative")
    if value > MAX_TOKENS:
        raise InputError(field, value, f"is more than {MAX_TOKENS:,} tokens, the most one ledger row holds")
    return value


def check_money(field: str, value: Decimal | float | int, *, allow_negative: bool = True) -> Decimal:
    """A finite amount within the ledger's range (+-$922,337,203); float input is taken by its repr."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(field, value, "must be a finite number")
        d = Decimal(repr(value))
    else:
        d = value if isinstance(value, Decimal) else Decimal(value)
    if not d.is_finite():
        raise InputError(field, value, "must be a finite number")
    if not COLUMN_MIN <= d <= COLUMN_MAX:
        raise InputError(field, value, f"is outside the ledger's range of -{MAX_AMOUNT:,} .. {MAX_AMOUNT:,} "
                         "(64-bit units of 1e-10)")
    if d < 0 and not allow_negative:
        raise InputError(field, value, "must not be negative")
    return d


def check_row_money(field: str, value: Decimal | float | int, *, allow_negative: bool = True) -> Decimal:
    """A ledger row's amount: `check_money`, and at most MAX_ROW_MONEY either way (rows are summed)."""
    d = check_money(field, value, allow_negative=allow_negative)
    if abs(d) > MAX_ROW_MONEY:
        plain = format(d.normalize(), "f") if isinstance(value, Decimal) else value  # '900000000', not Decimal('9E+8')
        raise InputError(field, plain, _ROW_MONEY_REASON)
    return d


_ROW_MONEY_REASON = (f"is more than {MAX_ROW_MONEY:,}, the most one ledger row holds (rows are summed per hour "
                     "and day in 64-bit columns)")


def parse_row_amount(text: object, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """A typed amount that becomes a ledger row (a manual entry, a subscription charge, a CSV cell): the error
    names the field and the text as typed."""
    d = parse_amount(text, field, allow_zero=allow_zero)
    if abs(d) > MAX_ROW_MONEY:
        raise InputError(field, text, _ROW_MONEY_REASON)
    return d


def latest_usage_day(today: date | None = None) -> date:
    return (today or datetime.now(timezone.utc).date()) + FUTURE_SLACK


def check_usage_instant(field: str, value: datetime, today: date | None = None) -> datetime:
    """An instant of usage: from 2000-01-01 up to a year from today (UTC)."""
    try:
        day = value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    except OverflowError:  # 9999-12-31 late in a zone west of UTC, 0001-01-01 early east of it
        day = value.date()
    _check_day(field, day, value.isoformat(), today)
    return value


def check_usage_day(field: str, value: date, today: date | None = None) -> date:
    """A calendar date of usage (manual entries, subscription charges, CSV rows): same range."""
    _check_day(field, value, value.isoformat(), today)
    return value


def _check_day(field: str, day: date, shown: str, today: date | None) -> None:
    if day < EARLIEST_USAGE:
        raise InputError(field, shown, f"is before {EARLIEST_USAGE.isoformat()}")
    latest = latest_usage_day(today)
    if day > latest:
        raise InputError(field, shown, f"is after {latest.isoformat()}, more than a year from now")


def usage_range_now() -> tuple[datetime, datetime]:
    """(first, last) instants of the usage range as of now: a cheap pre-check for hot loops, which
    call the exact check only outside it (the range only grows as days pass)."""
    return (datetime.combine(EARLIEST_USAGE, datetime.min.time(), timezone.utc),
            datetime.combine(latest_usage_day(), datetime.min.time(), timezone.utc))


def check_name(field: str, value: str | None, limit: int | None = None) -> str | None:
    """A one-line name (model, project, provider...): no control or bidi characters, within its column."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(field, value, "must be text")
    limit = limit if limit is not None else TEXT_LIMITS.get(field, 200)
    if len(value) > limit:
        raise InputError(field, value, f"is {len(value):,} characters long; at most {limit} fit")
    if not value.isprintable() or not _BIDI.isdisjoint(value):
        bad = next(c for c in value if not c.isprintable() or c in _BIDI)
        raise InputError(field, value, f"contains the unprintable character U+{ord(bad):04X}")
    return value


def check_note(field: str, value: str | None) -> str | None:
    """Free text (a note): any characters but NUL, which PostgreSQL cannot store, up to MAX_NOTE."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(field, value, "must be text")
    if len(value) > MAX_NOTE:
        raise InputError(field, value, f"is {len(value):,} characters long; at most {MAX_NOTE:,} fit")
    if "\x00" in value:
        raise InputError(field, value, "contains a NUL character")
    return value
