"""Anthropic Admin API sync: daily cost report (cents -> dollars, SPEND) plus usage token detail.

Which rows are money (never counted twice):

* Every cost-report row is SPEND (`amount` in cents, as billed).
* A usage-report row is DETAIL (token detail of a cost-report row) when the cost report carries its
  service tier: always for `standard` and `batch` (the only `service_tier` values the cost report
  documents), and for any other tier when the cost report of the same day, workspace and model has a
  row with that very `service_tier`.
* Otherwise it is SPEND priced from its tokens at its tier: Priority Tier costs "are not available
  in the cost endpoint" (Usage & Cost API FAQ: track `service_tier = priority` in usage), and
  `priority_on_demand`, `flex`, `flex_discount` (usage-report tiers) are not among the cost report's
  documented tiers, so without this their money would be lost. If the cost report is seen carrying
  such a tier, those usage rows are its detail; the next re-read flips them (same dedup key).

Usage rows are grouped by `context_window` and priced on their side of the long-context threshold
(`200k-1M` at long-context rates, `0-200k` at base rates); a day's aggregate is never judged by the
per-request 200k threshold. Requests never send an `ending_at` after the clock (the window is
clamped to now; a window reaching today omits `ending_at`, so today's partial bucket still comes).
"""

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
USAGE_GROUP = ("model", "workspace_id", "service_tier", "context_window")
# The `service_tier` values the cost report documents (ANT-REF-C): usage of these is always its detail.
COST_REPORT_TIERS = frozenset({"standard", "batch"})
LONG_CONTEXT = "200k-1M"
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


def _window(since: datetime, until: datetime, now: datetime | None) -> tuple[datetime, datetime | None]:
    """(starting_at, ending_at or None) for [since's UTC day, until), never ending after `now`.

    Anthropic returns buckets that *end* before `ending_at`, so ending_at is until's day rounded up to
    midnight; when that midnight is still in the future the parameter is left out (it is optional)
    rather than sent ahead of the clock. Raises ValueError for a window with nothing to ask for.
    """
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start, stop = day_floor(since), min(until.astimezone(timezone.utc), now)
    if stop <= start:
        raise ValueError(f"until={until.isoformat()}: must be after since={since.isoformat()} "
                         f"(and the window must start before now={now.isoformat()})")
    end = day_floor(stop)
    if end < stop:
        end += _DAY
    return start, end if end <= now else None


def _params(since: datetime, until: datetime, groups: tuple[str, ...], limit: int,
            page: str | None, now: datetime | None) -> tuple[tuple[str, str], ...]:
    start, end = _window(since, until, now)
    out = [("starting_at", rfc3339(start))]
    if end is not None:
        out.append(("ending_at", rfc3339(end)))
    out += [("bucket_width", "1d"), ("limit", str(limit))]
    out += [("group_by[]", g) for g in groups]
    if page:
        out.append(("page", page))
    return tuple(out)


def build_cost_request(since: datetime, until: datetime, page: str | None = None, limit: int = 31,
                       now: datetime | None = None) -> PageRequest:
    """GET cost_report in daily buckets grouped by workspace and description (`now`: the clock)."""
    return PageRequest(COST_PATH, _params(since, until, COST_GROUP, limit, page, now))


def build_usage_request(since: datetime, until: datetime, page: str | None = None, limit: int = 31,
                        now: datetime | None = None) -> PageRequest:
    """GET usage_report/messages in daily buckets grouped by model, workspace, tier and context window."""
    return PageRequest(USAGE_PATH, _params(since, until, USAGE_GROUP, limit, page, now))


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


def _tier_name(value: Any) -> str:
    return str(value or "standard").lower()


# (bucket start, workspace, model, raw service tier) of a cost-report row: which usage it already bills.
CostTierKey = tuple[datetime, Any, Any, str]


def parse_cost_page(body: Any, account: AccountInfo, billed: set[CostTierKey] | None = None) -> list[UsageRecord]:
    """Cost report buckets -> SPEND rows with reported_cost in dollars.

    `billed` collects the (day, workspace, model, tier) of every row naming a service tier, so the
    usage pass knows which tiers' money the cost report already holds.
    """
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            cost = cents_to_dollars(r.get("amount"))
            ws, desc, model = r.get("workspace_id"), r.get("description"), r.get("model")
            if billed is not None and r.get("service_tier"):
                billed.add((start, ws, model, _tier_name(r.get("service_tier"))))
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


def is_long_context(value: Any) -> bool:
    """`context_window` `200k-1M`: the bucket's requests each had a prompt above 200k tokens."""
    return str(value or "").lower() == LONG_CONTEXT.lower()


def _context_key(value: Any) -> Any:
    # Usage rows were keyed before context_window was grouped (the dimension was null then): the
    # 0-200k share keeps that key, so a re-read updates those rows instead of adding a second copy.
    return None if value is None or str(value).lower() == "0-200k" else value


def usage_is_billed_elsewhere(start: datetime, r: dict[str, Any], billed: set[CostTierKey] | None) -> bool:
    """True when the cost report holds this usage row's money (see the module docstring)."""
    tier = _tier_name(r.get("service_tier"))
    if tier in COST_REPORT_TIERS:
        return True
    return billed is not None and (start, r.get("workspace_id"), r.get("model"), tier) in billed


def parse_usage_page(body: Any, account: AccountInfo, pricer: Pricer,
                     billed: set[CostTierKey] | None = None) -> list[UsageRecord]:
    """Usage buckets -> rows priced at their tier and context window; DETAIL or SPEND by the module rule.

    `billed`: what the cost report of the same window carries (from `parse_cost_page`); None means
    only the documented cost-report tiers count as billed there.
    """
    records = []
    for start, end, results in _buckets(body):
        for r in results:
            usage = usage_tokens(r)
            model, ws, tier = r.get("model"), r.get("workspace_id"), tier_of(r.get("service_tier"))
            cw = r.get("context_window")
            long_context = is_long_context(cw)
            searches = _int(r.get("server_tool_use"), "web_search_requests")
            notes = [f"web_search_requests={searches}" if searches else None,
                     f"context_window={cw}: long-context rates" if long_context else None]
            detail = usage_is_billed_elsewhere(start, r, billed)
            records.append(UsageRecord(
                source=DataSource.API,
                dedup_key=_key("anthropic", account.id, "usage", start.isoformat(), ws, model,
                               r.get("service_tier"), _context_key(cw)),
                provider=PROVIDER, bucket_start=start, bucket_end=end, usage=usage, model=model,
                model_vendor="anthropic" if model else None, account_id=account.id,
                workspace_id=account.workspace_id, project=ws, api_key_id=r.get("api_key_id"),
                line_item="messages", service_tier=tier,
                # A bucket is many requests: its side of the 200k threshold is the reported context
                # window, never its summed size (long_context is always a bool here).
                computed_cost=pricer(model, usage, tier, start.date(), long_context=long_context) if model else None,
                cost_role=CostRole.DETAIL if detail else CostRole.SPEND,
                note="; ".join(n for n in notes if n) or None,
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
        """Fetch all cost then usage pages for [since's UTC day, min(until, now)); page -> sink.

        A window with nothing before now (since today-or-later at midnight, or in the future) asks
        nothing. A bad page raises before reaching the sink; pages already sunk stay. Cancel returns
        early with a 'cancelled' warning.
        """
        report = SyncReport()
        now = self.clock()
        until = min(until, now)
        if until <= day_floor(since):
            return report
        days = max(1, -(-(until - day_floor(since)) // _DAY))
        total = 2 * -(-days // self.limit)
        billed: set[CostTierKey] = set()  # filled by the cost pass, read by the usage pass
        try:
            for kind in ("cost", "usage"):
                build = build_cost_request if kind == "cost" else build_usage_request

                def fetch(page: str | None, build: Callable[..., Any] = build) -> Any:
                    return self._get(client, account, build(since, until, page, self.limit, now), report, cancel)

                def parse(body: Any, kind: str = kind) -> list[UsageRecord]:
                    if kind == "cost":
                        return parse_cost_page(body, account, billed)
                    return parse_usage_page(body, account, pricer, billed)

                follow_pages(fetch, parse, provider=PROVIDER, sink=sink, report=report, total=total,
                             progress=progress, cancel=cancel)
        except Cancelled:
            report.warnings.append("cancelled")
        return report

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        """One cheap 1-day cost report request; raises AuthError for a non-admin key."""
        now = self.clock()
        body = self._get(client, account, build_cost_request(now - _DAY, now, limit=2, now=now), SyncReport(), None)
        page_cursor(body, PROVIDER)
        spent = sum((r.reported_cost or Decimal(0) for r in parse_cost_page(body, account)), Decimal(0))
        return f"Anthropic Admin key OK: cost report answered (${spent:.2f} since yesterday UTC)"
