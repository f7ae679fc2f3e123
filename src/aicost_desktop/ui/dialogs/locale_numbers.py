"""Numbers as the user's locale writes them: '12,50' is 12.50 where the decimal separator is a comma."""

from __future__ import annotations

import re

from PySide6.QtCore import QLocale

_GROUPED_POINT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")  # 1,234.56 (comma only as thousands)


def decimal_text(text: str, locale: QLocale | None = None) -> str:
    """`text` with a '.' decimal point and no thousands separators, for Decimal().

    Where the locale's decimal separator is a comma, '12,50' and '1.234,50' are read that way ('12.50'
    still works: people paste it). Elsewhere a comma is only taken as a thousands separator when it
    groups digits by three, so '12,50' stays invalid instead of silently becoming 1250."""
    t = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    loc = locale or QLocale()
    if loc.decimalPoint() == ",":
        if "," in t:
            t = t.replace(".", "").replace(",", ".")
        return t
    return t.replace(",", "") if _GROUPED_POINT.match(t) else t
