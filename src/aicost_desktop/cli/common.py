"""Helpers shared by command modules: argument parsing that raises InputError, JSON printing."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from aicost_desktop.cli.format import json_money, money_json
from aicost_desktop.domain.errors import InputError

# Ids and counts end up in 64-bit integer columns: a larger number could never name a row and would
# overflow the database driver, so it is refused as bad input.
MAX_ID = 2**63 - 1
# A token count per entry; far above any real bill, and small enough that sums of many entries stay
# inside the 64-bit columns.
MAX_TOKENS = 10**15
# Longer paths are refused by every file system we run on (PATH_MAX 4096 on Linux, 1024 on macOS).
MAX_PATH = 4096


# Dates a flag may name: far wider than any ledger (usage is 2000 .. a year from now), yet clear of year 1 and
# 9999, where a day's bounds in a zone, or the margin around a range, are no longer dates.
FIRST_FLAG_DATE, LAST_FLAG_DATE = date(1900, 1, 1), date(2999, 12, 31)


def parse_date(text: str, field: str, *, usage_day: bool = False) -> date:
    """YYYY-MM-DD from 1900-01-01 to 2999-12-31, or InputError naming the flag. A `usage_day` (the date of a
    manual entry or a subscription) is checked against the ledger's own range by the code it goes to."""
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(field, text, "must be a date YYYY-MM-DD") from None
    if not usage_day and not FIRST_FLAG_DATE <= day <= LAST_FLAG_DATE:
        raise InputError(field, text, f"must be a date from {FIRST_FLAG_DATE} to {LAST_FLAG_DATE}")
    return day


def parse_int(text: str, field: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """A whole number in minimum..maximum (default: what a 64-bit column holds) or InputError."""
    raw = str(text).replace("_", "").strip()
    # ASCII digits only: int() also takes Arabic-Indic digits, which nobody types as an id by intent.
    if not re.fullmatch(r"[+-]?[0-9]+", raw):
        raise InputError(field, text, "must be a whole number")
    # Past 40 digits the number is out of any range here; int() of a huge string would be slow or refused.
    value = int(raw) if len(raw) <= 40 else (-1 if raw.startswith("-") else 1) * 10**40
    if value < minimum:
        raise InputError(field, text, f"must be >= {minimum}")
    if value > maximum:
        raise InputError(field, text, f"must be <= {maximum}")
    return value


def parse_id(text: str, field: str = "id") -> int:
    """A row id: 1 .. 2**63-1."""
    return parse_int(text, field, minimum=1)


def parse_tokens(text: str, field: str) -> int:
    """A token count: 0 .. 10**15."""
    return parse_int(text, field, maximum=MAX_TOKENS)


def parse_path(text: str, field: str, *, must_exist: bool = False, kind: str | None = None) -> Path:
    """A path the OS can take (no NUL byte, not absurdly long); optionally existing, a 'file' or a 'dir'."""
    if not text or not text.strip():
        raise InputError(field, text, "must not be empty")
    if "\x00" in text:
        raise InputError(field, text, "must not contain a NUL byte")
    path = Path(text).expanduser()
    if len(os.fsencode(path)) > MAX_PATH or any(len(os.fsencode(p)) > 255 for p in path.parts):
        raise InputError(field, text, f"is too long for a path (at most {MAX_PATH} bytes, 255 per name)")
    if must_exist and not path.exists():
        raise InputError(field, text, "does not exist")
    if kind == "file" and path.is_dir():
        raise InputError(field, text, "is a folder; give a file")
    if kind == "dir" and path.exists() and not path.is_dir():
        raise InputError(field, text, "is a file; give a folder")
    return path


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return money_json(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def print_json(data: Any) -> None:
    """Money as strings in the one JSON money format (cli.format), dates as ISO strings; one document."""
    json.dump(json_money(data), sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")
