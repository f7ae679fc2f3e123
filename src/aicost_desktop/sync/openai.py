"""OpenAI Admin API sync: daily costs (money, SPEND) plus usage token detail (DETAIL rows)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.sync.base import (
    AccountInfo, PageSink, Pricer, Progress, ProviderError, SyncReport,
)
from aicost_desktop.sync.http import (Cancelled, HttpPolicy, PageRequest, day_floor, follow_pages, join_url,
                                     page_cursor, request_json)

log = logging.getLogger("aicost.sync.openai")

PROVIDER = "openai"
OPENAI_BASE_URL = "https://api.openai.com/v1"
ADMIN_KEY_HINT = ("this endpoint needs an OpenAI Admin key (sk-admin-...), created by an organization "
                  "owner at platform.openai.com/settings/organization/admin-keys; project keys do not work")
COSTS_PATH = "/organization/costs"
# Usage endpoints we read, with the group_by we ask for (each must be valid for that endpoint).
USAGE_GROUPS: dict[str, tuple[str, ...]] = {
    "completions": ("model", "project_id", "batch", "service_tier"),
    "embeddings": ("model", "project_id"),
}
COSTS_GROUP = ("project_id", "line_item")
_DAY = timedelta(days=1)


def api_base(base_url: str | None) -> str:
    """The base URL the SDK uses (`.../v1`); a bare host gets `/v1` so paths never double it."""
    base = (base_url or OPENAI_BASE_URL).rstrip("/")
    return base if httpx.URL(base).path not in ("", "/") else base + "/v1"


def _window(since: datetime, until: datetime) -> tuple[int, int]:
    start, end = day_floor(since), until.astimezone(timezone.utc)
    if end <= start:
        raise ValueError(f"until={until.isoformat()}: must be after since={since.isoformat()}")
    return int(start.timestamp()), int(end.timestamp())


def _params(start: int, end: int, group_by: tuple[str, ...], limit: int, page: str | None) -> tuple[tuple[str, str], ...]:
    out = [("start_time", str(start)), ("end_time", str(end)), ("bucket_width", "1d"), ("limit", str(limit))]
    out += [("group_by", g) for g in group_by]  # the repeat form, as in OpenAI's own cookbook
    if page:
        out.append(("page", page))
    return tuple(out)


def build_costs_request(since: datetime, until: datetime, page: str | None = None, limit: int = 180) -> PageRequest:
    """GET /organization/costs for [since's UTC day, until), grouped by project and line item."""
    start, end = _window(since, until)
    return PageRequest(COSTS_PATH, _params(start, end, COSTS_GROUP, limit, page))


def build_usage_request(kind: str, since: datetime, until: datetime, page: str | None = None,
                        limit: int = 31) -> PageRequest:
    """GET /organization/usage/<kind> in daily buckets with the groups in USAGE_GROUPS."""
    if kind not in USAGE_GROUPS:
        raise ValueError(f"kind={kind!r}: expected one of {', '.join(USAGE_GROUPS)}")
    start, end = _window(since, until)
    return PageRequest(f"/organization/usage/{kind}", _params(start, end, USAGE_GROUPS[kind], limit, page))


def _ts(v: Any, what: str) -> datetime:
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProviderError(f"openai: malformed bucket: {what}={v!r} is not Unix seconds")
    return datetime.fromtimestamp(v, tz=timezone.utc)


def _buckets(body: Any) -> list[tuple[datetime, datetime, list[dict[str, Any]]]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ProviderError("openai: malformed page (expected an object with a 'data' list)")
    out = []
    for b in body["data"]:
        if not isinstance(b, dict) or not isinstance(b.get("results"), list):
            raise ProviderError(f"openai: malformed bucket {str(b)[:120]}")
        results = b["results"]
        if not all(isinstance(r, dict) for r in results):
            raise ProviderError("openai: malformed bucket: results must be objects")
        out.append((_ts(b.get("start_time"), "start_time"), _ts(b.get("end_time"), "end_time"), results))
    return out


def _int(r: dict[str, Any], key: str, required: bool = False) -> int:
    v = r.get(key)
    if v is None and not required:
        return 0
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ProviderError(f"openai: malformed result: {key}={v!r}")
    return v


def _amount(r: dict[str, Any]) -> tuple[Decimal, str]:
    amt = r.get("amount")
    if not isinstance(amt, dict):
        raise ProviderError(f"openai: malformed costs result: amount={amt!r}")
    value, currency = amt.get("value"), amt.get("currency") or "usd"
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ProviderError(f"openai: malformed costs result: amount.value={value!r}")
    try:
        d = money(value)  # floats go through repr, so 0.5470000000000001 -> 0.5470000000
    except (InvalidOperation, ValueError):
        raise ProviderError(f"openai: malformed costs result: amount.value={value!r}") from None
    if not d.is_finite():
        raise ProviderError(f"openai: malformed costs result: amount.value={value!r}")
    return d, str(currency).upper()


def model_from_line_item(line_item: str | None) -> str | None:
    """'gpt-4o-2024-08-06, input' -> 'gpt-4o-2024-08-06'; non-model line items -> None."""
    if not line_item or ", " not in line_item:
        return None
    return line_item.split(", ", 1)[0].strip() or None


def _key(*parts: object) -> str:
    return ":".join("-" if p is None else str(p) for p in parts)


def parse_costs_page(body: Any, account: AccountInfo,
                     skipped: Callable[[str], None] | None = None) -> list[UsageRecord]:
    """Costs buckets -> SPEND rows with reported_cost (dollars; currency upper-cased).

    A result whose `amount` (or `amount.value`) is null carries no money to record (OAI-PY types
    it Optional): it is skipped with a logged warning, and `skipped` hears a one-line description.
    """
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            project, line_item = r.get("project_id"), r.get("line_item")
            amt = r.get("amount")
            if amt is None or (isinstance(amt, dict) and amt.get("value") is None):
                what = (f"openai: costs result of {start.date().isoformat()} without an amount skipped "
                        f"(project {project or '-'}, line item {line_item or '-'})")
                log.warning("%s", what)
                if skipped is not None:
                    skipped(what)
                continue
            cost, currency = _amount(r)
            records.append(UsageRecord(
                source=DataSource.API,
                dedup_key=_key("openai", account.id, "costs", start.isoformat(), project, line_item),
                provider=PROVIDER, bucket_start=start, bucket_end=end,
                model=model_from_line_item(line_item), model_vendor="openai" if line_item else None,
                account_id=account.id, workspace_id=account.workspace_id, project=project,
                api_key_id=r.get("api_key_id"), line_item=line_item, reported_cost=cost,
                currency=currency, cost_role=CostRole.SPEND,
            ))
    return records


def tier_of(result: dict[str, Any]) -> ServiceTier:
    """OpenAI batch flag / service_tier -> our tier (batch wins; 'scale' is priority capacity)."""
    if result.get("batch") is True:
        return ServiceTier.BATCH
    tier = (result.get("service_tier") or "").lower()
    if tier == "flex":
        return ServiceTier.FLEX
    if tier in ("priority", "scale"):
        return ServiceTier.PRIORITY
    if tier == "batch":
        return ServiceTier.BATCH
    return ServiceTier.STANDARD


def usage_tokens(r: dict[str, Any]) -> TokenUsage:
    """Normalize an OpenAI usage result: input_tokens includes cached reads and cache writes."""
    total_in = _int(r, "input_tokens", required=True)
    cached = _int(r, "input_cached_tokens")
    writes = _int(r, "input_cache_write_tokens")
    uncached = total_in - cached - writes
    if uncached < 0:
        raise ProviderError(f"openai: malformed result: input_tokens={total_in} < cached {cached} + "
                            f"cache writes {writes}")
    return TokenUsage(
        input_tokens=uncached, output_tokens=_int(r, "output_tokens"), cache_read_tokens=cached,
        cache_write_5m_tokens=writes, reasoning_included=True,
        requests=_int(r, "num_model_requests", required=True),
    )


def parse_usage_page(body: Any, account: AccountInfo, pricer: Pricer, kind: str = "completions") -> list[UsageRecord]:
    """Usage buckets -> DETAIL rows (token detail of money the costs endpoint reports), priced."""
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            usage = usage_tokens(r)
            model, project, tier = r.get("model"), r.get("project_id"), tier_of(r)
            records.append(UsageRecord(
                source=DataSource.API,
                dedup_key=_key("openai", account.id, "usage", kind, start.isoformat(), project, model,
                               r.get("batch"), r.get("service_tier")),
                provider=PROVIDER, bucket_start=start, bucket_end=end, usage=usage, model=model,
                model_vendor="openai" if model else None, account_id=account.id,
                workspace_id=account.workspace_id, project=project, api_key_id=r.get("api_key_id"),
                line_item=kind, service_tier=tier,
                computed_cost=pricer(model, usage, tier, start.date()) if model else None,
                cost_role=CostRole.DETAIL,
            ))
    return records


def auth_headers(account: AccountInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.api_key}"}


class OpenAISync:
    """ProviderSync for an OpenAI organization (Admin key): costs first, then usage detail."""

    provider = PROVIDER

    def __init__(self, policy: HttpPolicy | None = None, costs_limit: int = 180, usage_limit: int = 31,
                 usage_kinds: tuple[str, ...] = ("completions", "embeddings"),
                 clock: Callable[[], datetime] | None = None) -> None:
        self.policy = policy
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.costs_limit = costs_limit
        self.usage_limit = usage_limit
        self.usage_kinds = usage_kinds

    def _get(self, client: httpx.Client, account: AccountInfo, req: PageRequest, report: SyncReport,
             cancel: threading.Event | None) -> Any:
        return request_json(client, "GET", join_url(api_base(account.base_url), req.path), provider=PROVIDER,
                            auth_hint=ADMIN_KEY_HINT, params=req.params, headers=auth_headers(account),
                            policy=self.policy, report=report, cancel=cancel)

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        """Fetch every page of costs and usage in [since's UTC day, until); each page goes to `sink`.

        A bad page raises (AuthError / ProviderError) before reaching the sink; pages already sunk
        stay. Cancelling returns early with a 'cancelled' warning.
        """
        report = SyncReport()
        until = min(until, self.clock())  # a future end_time is reportedly rejected; clamp to now
        if until <= day_floor(since):
            return report
        days = max(1, -(-(until - day_floor(since)) // _DAY))
        passes: list[tuple[str, int]] = [("costs", self.costs_limit)]
        passes += [(k, self.usage_limit) for k in self.usage_kinds]
        total = sum(-(-days // limit) for _, limit in passes)
        skipped: list[str] = []
        try:
            for kind, limit in passes:
                def fetch(page: str | None, kind: str = kind, limit: int = limit) -> Any:
                    req = (build_costs_request(since, until, page, limit) if kind == "costs"
                           else build_usage_request(kind, since, until, page, limit))
                    return self._get(client, account, req, report, cancel)

                def parse(body: Any, kind: str = kind) -> list[UsageRecord]:
                    return (parse_costs_page(body, account, skipped.append) if kind == "costs"
                            else parse_usage_page(body, account, pricer, kind))

                follow_pages(fetch, parse, provider=PROVIDER, sink=sink, report=report, total=total,
                             progress=progress, cancel=cancel)
        except Cancelled:
            report.warnings.append("cancelled")
        if skipped:
            report.warnings.insert(0, f"openai: {len(skipped)} costs result(s) without an amount skipped")
        return report

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        """One cheap 1-day costs request; raises AuthError for a non-admin key."""
        now = self.clock()
        body = self._get(client, account, build_costs_request(now - _DAY, now, limit=2), SyncReport(), None)
        page_cursor(body, PROVIDER)
        records = parse_costs_page(body, account)
        spent = sum((r.reported_cost or Decimal(0) for r in records), Decimal(0))
        return f"OpenAI Admin key OK: costs endpoint answered (${spent:.2f} since yesterday UTC)"
