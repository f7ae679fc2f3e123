"""Claude Console (console.anthropic.com / platform.claude.com) Usage and Cost page CSV exports.

The Console's Usage and Cost pages each have a CSV export (support.claude.com article 9534590,
"Cost and usage reporting in the Claude Console"). Anthropic publishes no header; the columns
below are the ones public importers of these files read, in the files' order:

* usage export (`--format anthropic-usage`): `usage_date_utc, model_version, api_key, workspace,
  usage_type, context_window, usage_input_tokens_no_cache, usage_input_tokens_cache_write_5m,
  usage_input_tokens_cache_write_1h, usage_input_tokens_cache_read, usage_output_tokens,
  web_search_count, inference_geo, speed` -- tokens only, so cost is computed with the catalog;
  `usage_date_utc` is a UTC day (some exports are hourly and carry a time as well).
* cost export (`--format anthropic-cost`): `usage_date_utc, model, workspace, api_key,
  usage_type, context_window, token_type, cost_usd, list_price_usd, cost_type, inference_geo,
  speed, api_key_id, api_key_status` -- `cost_usd` in dollars (unlike the Admin API's cents),
  `model` a display name ("Claude Haiku 4.5"), `token_type` one of input_no_cache, output,
  input_cache_read, ... and `cost_type` token / web_search / code_execution.

Both describe the same spend: import one of them per period, or import the usage export with
`--role detail` next to the cost export (detail rows carry tokens, not spend).
"""

from __future__ import annotations

from typing import Any, Sequence

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.importers.csv_common import cell, provider_amount, normalize_model, parse_bucket, parse_tokens
from aicost_desktop.sync.base import Pricer

_TOKEN_COLUMNS = {
    "input_tokens": "usage_input_tokens_no_cache",
    "cache_write_5m_tokens": "usage_input_tokens_cache_write_5m",
    "cache_write_1h_tokens": "usage_input_tokens_cache_write_1h",
    "cache_read_tokens": "usage_input_tokens_cache_read",
    "output_tokens": "usage_output_tokens",
}


def _model(name: str, speed: str) -> str | None:
    model = normalize_model(name)
    return f"{model}-fast" if model and speed.lower() == "fast" else model


class AnthropicUsageCsv:
    """`--format anthropic-usage`: token counts per day, model, key and workspace."""

    name = "anthropic-usage"
    required: Sequence[str] = ("usage_date_utc", "model_version", "usage_input_tokens_no_cache",
                               "usage_output_tokens")

    def __init__(self, pricer: Pricer) -> None:
        self.pricer = pricer

    def check_header(self, header: Sequence[str]) -> None:
        return None

    def parse(self, row: dict[str, str]) -> dict[str, Any] | None:
        start, end = parse_bucket(cell(row, "usage_date_utc"), "usage_date_utc")
        tokens = {f: parse_tokens(cell(row, c), c) for f, c in _TOKEN_COLUMNS.items()}
        usage = TokenUsage(input_tokens=tokens["input_tokens"], cache_write_5m_tokens=tokens["cache_write_5m_tokens"],
                           cache_write_1h_tokens=tokens["cache_write_1h_tokens"],
                           cache_read_tokens=tokens["cache_read_tokens"], output_tokens=tokens["output_tokens"])
        if usage.total_tokens == 0:
            return None
        model = _model(cell(row, "model_version"), cell(row, "speed"))
        tier = ServiceTier.BATCH if "batch" in cell(row, "usage_type").lower() else ServiceTier.STANDARD
        return {
            "provider": "anthropic", "bucket_start": start, "bucket_end": end, "usage": usage,
            "model": model, "model_vendor": "anthropic", "project": cell(row, "workspace") or None,
            "api_key_id": cell(row, "api_key") or None, "line_item": cell(row, "usage_type") or None,
            "service_tier": tier, "computed_cost": self.pricer(model, usage, tier, start.date()),
        }


class AnthropicCostCsv:
    """`--format anthropic-cost`: provider-reported dollars per day, model and token type."""

    name = "anthropic-cost"
    required: Sequence[str] = ("usage_date_utc", "cost_usd")

    def check_header(self, header: Sequence[str]) -> None:
        return None

    def parse(self, row: dict[str, str]) -> dict[str, Any] | None:
        start, end = parse_bucket(cell(row, "usage_date_utc"), "usage_date_utc")
        raw = cell(row, "cost_usd")
        if not raw:
            return None
        amount = provider_amount(raw, "cost_usd")
        model = _model(cell(row, "model"), cell(row, "speed"))
        kind = cell(row, "token_type") or cell(row, "cost_type") or None
        return {
            "provider": "anthropic", "bucket_start": start, "bucket_end": end,
            "model": model, "model_vendor": "anthropic" if model else None,
            "project": cell(row, "workspace") or None,
            "api_key_id": cell(row, "api_key_id") or cell(row, "api_key") or None,
            "line_item": kind, "reported_cost": amount, "currency": "USD",
        }
