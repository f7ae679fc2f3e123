"""Anthropic Admin API sync: daily cost report (cents -> dollars, SPEND) plus usage token detail."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aicost_desktop import __version__
from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.sync.base import (
    AccountInfo, PageSink, Pricer, Progress, ProviderError, SyncReport,
)
from aicost_desktop.sync.http import (Cancelled, HttpPolicy, PageRequest, day_floor, follow_pages, join_url,
                                     page_cursor, request_json)

PROVIDER = "anthropic"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
ADMIN_KEY_HINT = ("this endpoint needs an Anthropic Admin API key (sk-ant-admin...), created by an "
                  "organization admin in the Claude Console; workspace API keys do not work")
COST_PATH = "/v1/organizations/cost_report"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_GROUP = ("workspace_id", "description")
USAGE_GROUP = ("model", "workspace_id", "service_tier")
TIERS = {"standard": ServiceTier.STANDARD, "batch": ServiceTier.BATCH, "priority": ServiceTier.PRIORITY,
         "priority_on_demand": ServiceTier.PRIORITY, "flex": ServiceTier.FLEX,
         "flex_discount": ServiceTier.FLEX}
_DAY = timedelta(days=1)


def api_base(base_url: str | None) -> str:
    """Base URL without a trailing `/v1` (our paths carry it)."""
    base = (base_url or ANTHROPIC_BASE_URL).rstrip("/")
    return base[:-3] if base.endswith("/v1") else base


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(since: datetime, until: datetime, groups: tuple[str, ...], limit: int,
            page: str | None) -> tuple[tuple[str, str], ...]:
    start = day_floor(since)
    # Anthropic returns buckets that *end* before ending_at, so round up to include today's bucket.
    end = day_floor(until)
    if end < until.astimezone(timezone.utc) or end <= start:
        end += _DAY
    out = [("starting_at", rfc3339(start)), ("ending_at", rfc3339(end)), ("bucket_width", "1d"),
           ("limit", str(limit))]
    out += [("group_by[]", g) for g in groups]
    if page:
        out.append(("page", page))
    return tuple(out)


def build_cost_request(since: datetime, until: datetime, page: str | None = None, limit: int = 31) -> PageRequest:
    """GET cost_report in daily buckets grouped by workspace and description."""
    if until <= since:
        raise ValueError(f"until={until.isoformat()}: must be after since={since.isoformat()}")
    return PageRequest(COST_PATH, _params(since, until, COST_GROUP, limit, page))


def build_usage_request(since: datetime, until: datetime, page: str | None = None, limit: int = 31) -> PageRequest:
    """GET usage_report/messages in daily buckets grouped by model, workspace and service tier."""
    if until <= since:
        raise ValueError(f"until={until.isoformat()}: must be after since={since.isoformat()}")
    return PageRequest(USAGE_PATH, _params(since, until, USAGE_GROUP, limit, page))


def _time(v: Any, what: str) -> datetime:
    if not isinstance(v, str):
        raise ProviderError(f"anthropic: malformed bucket: {what}={v!r}")
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(f"anthropic: malformed bucket: {what}={v!r}") from None
    if dt.tzinfo is None:
        raise ProviderError(f"anthropic: malformed bucket: {what}={v!r} has no time zone")
    return dt.astimezone(timezone.utc)


def _buckets(body: Any) -> list[tuple[datetime, datetime, list[dict[str, Any]]]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ProviderError("anthropic: malformed page (expected an object with a 'data' list)")
    out = []
    for b in body["data"]:
        if not isinstance(b, dict) or not isinstance(b.get("results"), list) \
                or not all(isinstance(r, dict) for r in b["results"]):
            raise ProviderError(f"anthropic: malformed bucket {str(b)[:120]}")
        out.append((_time(b.get("starting_at"), "starting_at"), _time(b.get("ending_at"), "ending_at"),
                    b["results"]))
    return out


def cents_to_dollars(amount: Any) -> Decimal:
    """Cost report `amount` is a decimal string in cents ('123.78912' -> $1.2378912)."""
    if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
        raise ProviderError(f"anthropic: malformed cost result: amount={amount!r}")
    try:
        d = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ProviderError(f"anthropic: malformed cost result: amount={amount!r}") from None
    if not d.is_finite():
        raise ProviderError(f"anthropic: malformed cost result: amount={amount!r}")
    return money(d / 100)


def _key(*parts: object) -> str:
    return ":".join("-" if p is None else str(p) for p in parts)


def tier_of(value: Any) -> ServiceTier:
    return TIERS.get(str(value or "standard").lower(), ServiceTier.STANDARD)


def parse_cost_page(body: Any, account: AccountInfo) -> list[UsageRecord]:
    """Cost report buckets -> SPEND rows with reported_cost in dollars."""
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            cost = cents_to_dollars(r.get("amount"))
            ws, desc, model = r.get("workspace_id"), r.get("description"), r.get("model")
            records.append(UsageRecord(
                source=DataSource.API,
                dedup_key=_key("anthropic", account.id, "cost", start.isoformat(), ws, desc, model,
                               r.get("cost_type"), r.get("token_type"), r.get("context_window"),
                               r.get("service_tier"), r.get("inference_geo")),
                provider=PROVIDER, bucket_start=start, bucket_end=end, model=model,
                model_vendor="anthropic" if model else None, account_id=account.id,
                workspace_id=account.workspace_id, project=ws, line_item=desc,
                service_tier=tier_of(r.get("service_tier")), reported_cost=cost,
                currency=str(r.get("currency") or "USD").upper(), cost_role=CostRole.SPEND,
            ))
    return records


def _int(d: Any, key: str) -> int:
    if not isinstance(d, dict):
        return 0
    v = d.get(key)
    if v is None:
        return 0
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ProviderError(f"anthropic: malformed usage result: {key}={v!r}")
    return v


def usage_tokens(r: dict[str, Any]) -> TokenUsage:
    """Anthropic already reports uncached input, cache reads and 5m/1h cache writes separately."""
    cc = r.get("cache_creation")
    if cc is not None and not isinstance(cc, dict):
        raise ProviderError(f"anthropic: malformed usage result: cache_creation={cc!r}")
    return TokenUsage(
        input_tokens=_int(r, "uncached_input_tokens"), output_tokens=_int(r, "output_tokens"),
        cache_read_tokens=_int(r, "cache_read_input_tokens"),
        cache_write_5m_tokens=_int(cc, "ephemeral_5m_input_tokens"),
        cache_write_1h_tokens=_int(cc, "ephemeral_1h_input_tokens"), reasoning_included=True,
    )


def parse_usage_page(body: Any, account: AccountInfo, pricer: Pricer) -> list[UsageRecord]:
    """Usage buckets -> DETAIL rows priced from the catalog; priority tier -> SPEND rows.

    The cost report omits Priority Tier, so priority usage is the only record of that money.
    """
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            usage = usage_tokens(r)
            model, ws, tier = r.get("model"), r.get("workspace_id"), tier_of(r.get("service_tier"))
            searches = _int(r.get("server_tool_use"), "web_search_requests")
            records.append(UsageRecord(
                source=DataSource.API,
                dedup_key=_key("anthropic", account.id, "usage", start.isoformat(), ws, model,
                               r.get("service_tier"), r.get("context_window")),
                provider=PROVIDER, bucket_start=start, bucket_end=end, usage=usage, model=model,
                model_vendor="anthropic" if model else None, account_id=account.id,
                workspace_id=account.workspace_id, project=ws, api_key_id=r.get("api_key_id"),
                line_item="messages", service_tier=tier,
                computed_cost=pricer(model, usage, tier, start.date()) if model else None,
                cost_role=CostRole.SPEND if tier is ServiceTier.PRIORITY else CostRole.DETAIL,
                note=f"web_search_requests={searches}" if searches else None,
            ))
    return records


def auth_headers(account: AccountInfo) -> dict[str, str]:
    return {"x-api-key": account.api_key, "anthropic-version": ANTHROPIC_VERSION,
            "User-Agent": f"aicost-desktop/{__version__} (local spend tracker)"}


class AnthropicSync:
    """ProviderSync for an Anthropic organization (Admin key): cost report, then usage report."""

    provider = PROVIDER

    def __init__(self, policy: HttpPolicy | None = None, limit: int = 31,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.policy = policy
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.limit = limit

    def _get(self, client: httpx.Client, account: AccountInfo, req: PageRequest, report: SyncReport,
             cancel: threading.Event | None) -> Any:
        return request_json(client, "GET", join_url(api_base(account.base_url), req.path), provider=PROVIDER,
                            auth_hint=ADMIN_KEY_HINT, params=req.params, headers=auth_headers(account),
                            policy=self.policy, report=report, cancel=cancel)

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        """Fetch all cost then usage pages for [since's UTC day, until's UTC day end); page -> sink.

        A bad page raises before reaching the sink; pages already sunk stay. Cancel returns early
        with a 'cancelled' warning.
        """
        report = SyncReport()
        days = max(1, -(-(until - day_floor(since)) // _DAY))
        total = 2 * -(-days // self.limit)
        try:
            for kind in ("cost", "usage"):
                build = build_cost_request if kind == "cost" else build_usage_request

                def fetch(page: str | None, build: Callable[..., Any] = build) -> Any:
                    return self._get(client, account, build(since, until, page, self.limit), report, cancel)

                def parse(body: Any, kind: str = kind) -> list[UsageRecord]:
                    return parse_cost_page(body, account) if kind == "cost" else parse_usage_page(body, account, pricer)

                follow_pages(fetch, parse, provider=PROVIDER, sink=sink, report=report, total=total,
                             progress=progress, cancel=cancel)
        except Cancelled:
            report.warnings.append("cancelled")
        return report

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        """One cheap 1-day cost report request; raises AuthError for a non-admin key."""
        now = self.clock()
        body = self._get(client, account, build_cost_request(now - _DAY, now, limit=2), SyncReport(), None)
        page_cursor(body, PROVIDER)
        spent = sum((r.reported_cost or Decimal(0) for r in parse_cost_page(body, account)), Decimal(0))
        return f"Anthropic Admin key OK: cost report answered (${spent:.2f} since yesterday UTC)"
