"""OpenAI usage dashboard "Export -> Cost data" CSV: daily provider-reported cost per line item.

Confirmed column set (help.openai.com "Usage Dashboard" says Export downloads Cost or Activity
data, up to 60 days, UTC; the exact header is seen in third-party importers' fixtures, e.g.
docs.pelanor.io/integrations/services/openai and a public test of an "OpenAI dashboard cost
export" converter): `start_time,end_time,start_time_iso,end_time_iso,amount_value,
amount_currency,quantity,quantity_unit,line_item,user_id,api_key_id,project_id,organization_id,
project_name,organization_name,user_email,api_source`. `start_time`/`end_time` are Unix seconds
(the day's bucket), `amount_value` a decimal in dollars with long float noise
(`0.003835980000000000000000000000`), `amount_currency` lower-case `usd`, `line_item` like
`"gpt-5-nano, input_tokens"` when grouped by line item (empty otherwise). Rows with an empty
`amount_value` are empty buckets and are skipped. Only `start_time` (or `start_time_iso`) and
`amount_value` are required; the other columns are used when present.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import check_usage_instant
from aicost_desktop.domain.money import validate_currency
from aicost_desktop.importers.csv_common import cell, provider_amount


def _instant(row: dict[str, str], unix_col: str, iso_col: str) -> datetime | None:
    raw = cell(row, unix_col)
    if raw:
        try:
            at = datetime.fromtimestamp(int(float(raw)), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise InputError(unix_col, raw, "must be Unix seconds") from None
        return check_usage_instant(unix_col, at)
    iso = cell(row, iso_col)
    if iso:
        try:
            dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(iso_col, iso, "must be an ISO 8601 timestamp") from None
        dt = check_usage_instant(iso_col, dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc))
        return dt.astimezone(timezone.utc)
    return None


class OpenAICostsCsv:
    """`--format openai-costs`."""

    name = "openai-costs"
    required: Sequence[str] = ("amount_value",)

    def check_header(self, header: Sequence[str]) -> None:
        if "start_time" not in header and "start_time_iso" not in header:
            raise InputError("FILE", ", ".join(header),
                             "not an openai-costs CSV: needs a start_time or start_time_iso column")

    def parse(self, row: dict[str, str]) -> dict[str, Any] | None:
        raw_amount = cell(row, "amount_value")
        if not raw_amount:
            return None  # an empty bucket of the export
        start = _instant(row, "start_time", "start_time_iso")
        if start is None:
            raise InputError("start_time", "", "a bucket start is required")
        end = _instant(row, "end_time", "end_time_iso") or start + timedelta(days=1)
        amount = provider_amount(raw_amount, "amount_value")
        currency = validate_currency(cell(row, "amount_currency") or "usd", "amount_currency")
        line_item = cell(row, "line_item") or None
        model = line_item.split(",", 1)[0].strip() if line_item and "," in line_item else None
        return {
            "provider": "openai", "bucket_start": start, "bucket_end": end,
            "model": model or None, "model_vendor": "openai" if model else None,
            "line_item": line_item, "project": cell(row, "project_name") or cell(row, "project_id") or None,
            "api_key_id": cell(row, "api_key_id") or None,
            "reported_cost": amount, "currency": currency,
        }
