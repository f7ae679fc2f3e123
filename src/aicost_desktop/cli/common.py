"""Helpers shared by command modules: argument types that raise InputError, JSON printing."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from aicost_desktop.domain.errors import InputError


def parse_date(text: str, field: str) -> date:
    """YYYY-MM-DD or InputError naming the flag."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(field, text, "must be a date YYYY-MM-DD") from None


def parse_int(text: str, field: str, *, minimum: int = 0) -> int:
    try:
        value = int(str(text).replace("_", ""))
    except ValueError:
        raise InputError(field, text, "must be a whole number") from None
    if value < minimum:
        raise InputError(field, text, f"must be >= {minimum}")
    return value


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return f"{obj:f}"
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def print_json(data: Any) -> None:
    """Money as strings, dates as ISO strings; one document on stdout."""
    json.dump(data, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")
