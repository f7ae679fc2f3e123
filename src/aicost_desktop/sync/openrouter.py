"""OpenRouter sync: key/credit balance, per-day per-model activity, and key pause/limit updates."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import quote

import httpx

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.sync.base import (AccountInfo, AuthError, BalanceSnapshot, PageSink, Pricer,
                                      Progress, ProviderError, SyncReport)
from aicost_desktop.sync.http import HttpPolicy, join_url, request_json

log = logging.getLogger("aicost.sync.openrouter")

PROVIDER = "openrouter"
DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
# The 403 message OpenRouter sends an inference key on /credits and /activity (OR-SPEC).
MANAGEMENT_ONLY = "only management keys"
ACTIVITY_WINDOW_DAYS = 30
AUTH_HINT = ("use an OpenRouter API key (sk-or-v1-...); per-model history and account credits "
             "need a management key")
NEEDS_MANAGEMENT_KEY = ("OpenRouter: this is an inference key, so only the balance was synced; "
                        "add a management key to import per-model daily history (/activity).")


def _num(data: dict[str, Any], name: str) -> Decimal | None:
    """Optional JSON number (OpenRouter sends USD floats) as a ledger Decimal; null stays None."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProviderError(f"OpenRouter: field {name}={value!r} is not a number")
    try:
        return money(value)
    except ArithmeticError:
        raise ProviderError(f"OpenRouter: field {name}={value!r} is not a number") from None


def _data(payload: Any, what: str) -> Any:
    if not isinstance(payload, dict) or "data" not in payload:
        raise ProviderError(f"OpenRouter {what}: response has no 'data' member")
    return payload["data"]


# ---- /key -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyInfo:
    """`GET /key` (or a keys-API answer). Every field optional: old keys lack byok/daily fields."""

    label: str | None = None
    limit: Decimal | None = None  # None = unlimited
    limit_remaining: Decimal | None = None
    limit_reset: str | None = None
    usage: Decimal | None = None
    usage_daily: Decimal | None = None
    usage_weekly: Decimal | None = None
    usage_monthly: Decimal | None = None
    byok_usage: Decimal | None = None
    is_free_tier: bool | None = None
    is_management_key: bool | None = None  # None: old shape, unknown until /credits answers
    disabled: bool | None = None
    hash: str | None = None
    expires_at: str | None = None

    @property
    def kind(self) -> str:
        if self.is_management_key is None:
            return "unknown"
        return "management" if self.is_management_key else "inference"


def parse_key(payload: Any) -> KeyInfo:
    """Parse `{data: {...}}` from `/key` or `PATCH /keys/{hash}`."""
    d = _data(payload, "/key")
    if not isinstance(d, dict):
        raise ProviderError("OpenRouter /key: 'data' is not an object")
    mgmt = d.get("is_management_key", d.get("is_provisioning_key"))
    return KeyInfo(
        label=d.get("label") or d.get("name"),
        limit=_num(d, "limit"), limit_remaining=_num(d, "limit_remaining"),
        limit_reset=d.get("limit_reset"), usage=_num(d, "usage"),
        usage_daily=_num(d, "usage_daily"), usage_weekly=_num(d, "usage_weekly"),
        usage_monthly=_num(d, "usage_monthly"), byok_usage=_num(d, "byok_usage"),
        is_free_tier=d.get("is_free_tier"), is_management_key=mgmt if isinstance(mgmt, bool) else None,
        disabled=d.get("disabled"), hash=d.get("hash"), expires_at=d.get("expires_at"),
    )


def _key_detail(key: KeyInfo) -> dict[str, str]:
    detail = {"key_kind": key.kind}
    for name in ("label", "limit_reset", "usage_daily", "usage_weekly", "usage_monthly",
                 "byok_usage", "is_free_tier", "expires_at", "disabled"):
        value = getattr(key, name)
        if value is not None:
            detail[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return detail


def key_balance(key: KeyInfo) -> BalanceSnapshot:
    """Balance as an inference key sees it: its credit limit (None = unlimited) and usage."""
    remaining = key.limit_remaining
    if remaining is None and key.limit is not None and key.usage is not None:
        remaining = key.limit - key.usage
    return BalanceSnapshot(currency="USD", total=key.limit, remaining=remaining, used=key.usage,
                           limit=key.limit, detail=_key_detail(key))


# ---- /credits ---------------------------------------------------------------------------------

def parse_credits(payload: Any, key: KeyInfo | None = None) -> BalanceSnapshot:
    """`{data: {total_credits, total_usage}}` (floats, USD) -> account balance."""
    d = _data(payload, "/credits")
    total, used = _num(d, "total_credits"), _num(d, "total_usage")
    if total is None or used is None:
        raise ProviderError("OpenRouter /credits: total_credits and total_usage are required")
    detail = _key_detail(key) if key is not None else {}
    return BalanceSnapshot(currency="USD", total=total, used=used, remaining=total - used,
                           limit=key.limit if key is not None else None, detail=detail)


# ---- /activity --------------------------------------------------------------------------------

def activity_params(since: datetime, until: datetime, today: date) -> dict[str, str] | None:
    """Query for `/activity`, or None when the window misses the 30 completed UTC days before `today`.

    A window inside one completed day asks for that `date` only; the API answers 400 for a
    `date` outside its window, and today's partial day is never served, so those are skipped.
    """
    first = since.astimezone(timezone.utc).date()
    last = (until.astimezone(timezone.utc) - timedelta(microseconds=1)).date()
    lo, hi = max(first, today - timedelta(days=ACTIVITY_WINDOW_DAYS)), min(last, today - timedelta(days=1))
    if lo > hi:
        return None
    return {"date": lo.isoformat()} if lo == hi else {}


def activity_floor(today: date) -> date:
    """The first day `/activity` serves: the 30 completed UTC days before `today` start here."""
    return today - timedelta(days=ACTIVITY_WINDOW_DAYS)


def retention_note(floor: date) -> str:
    """What a backfill beyond OpenRouter's activity window cannot get, in the user's words."""
    return (f"OpenRouter keeps {ACTIVITY_WINDOW_DAYS} days of activity: data before {floor.isoformat()} "
            "cannot be synced")


def model_vendor(model: str | None) -> str | None:
    """`openai/gpt-4.1` -> `openai` (the model's maker; OpenRouter itself bills the call)."""
    if not model or "/" not in model:
        return None
    return model.split("/", 1)[0]


def _int(row: dict[str, Any], name: str) -> int:
    value = row.get(name) or 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProviderError(f"OpenRouter /activity: {name}={value!r} is not a token count")
    return value


@dataclass
class _Acc:
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: Decimal = Decimal(0)
    byok: Decimal = Decimal(0)


def parse_activity(payload: Any, account: AccountInfo, pricer: Pricer,
                   since: datetime | None = None, until: datetime | None = None
                   ) -> dict[date, list[UsageRecord]]:
    """Activity rows -> one SPEND record per (day, model, upstream provider), grouped by day.

    `usage` (OpenRouter credits, USD) is the reported cost. `byok_usage_inference` is billed by
    the upstream provider on the user's own key, so it is noted, not counted. Token semantics
    follow OpenAI's: `completion_tokens` includes reasoning [unconfirmed for /activity]; cached
    prompt tokens are not broken out, so the computed cost treats all prompt tokens as uncached.
    Rows repeating a (day, model, provider) key (several endpoints, workspace grouping) add up.
    """
    rows = _data(payload, "/activity")
    if not isinstance(rows, list):
        raise ProviderError("OpenRouter /activity: 'data' is not a list")
    lo = since.astimezone(timezone.utc) if since else None
    hi = until.astimezone(timezone.utc) if until else None
    groups: dict[tuple[date, str, str], _Acc] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise ProviderError(f"OpenRouter /activity: row {row!r} is not an object")
        try:
            day = date.fromisoformat(str(row["date"])[:10])
            model = str(row["model"])
        except (KeyError, ValueError):
            raise ProviderError(f"OpenRouter /activity: row without a valid date/model: {row!r}") from None
        start = datetime.combine(day, time(), timezone.utc)
        if (lo is not None and start + timedelta(days=1) <= lo) or (hi is not None and start >= hi):
            continue
        served_by = str(row.get("provider_name") or "unknown")
        acc = groups.setdefault((day, model, served_by), _Acc())
        acc.usage = acc.usage + TokenUsage(
            input_tokens=_int(row, "prompt_tokens"), output_tokens=_int(row, "completion_tokens"),
            reasoning_tokens=_int(row, "reasoning_tokens"), reasoning_included=True,
            requests=_int(row, "requests"))
        acc.cost += _num(row, "usage") or Decimal(0)
        acc.byok += _num(row, "byok_usage_inference") or Decimal(0)
    out: dict[date, list[UsageRecord]] = {}
    for (day, model, served_by), acc in sorted(groups.items()):
        start = datetime.combine(day, time(), timezone.utc)
        note = (f"BYOK inference {acc.byok.normalize():f} USD billed by the upstream provider"
                if acc.byok else None)
        out.setdefault(day, []).append(UsageRecord(
            source=DataSource.API, dedup_key=activity_dedup_key(account.id, day, model, served_by),
            provider=PROVIDER, bucket_start=start, bucket_end=start + timedelta(days=1),
            usage=acc.usage, model=model, model_vendor=model_vendor(model),
            account_id=account.id, workspace_id=account.workspace_id, line_item=served_by,
            service_tier=ServiceTier.STANDARD, reported_cost=acc.cost,
            computed_cost=pricer(model, acc.usage, ServiceTier.STANDARD, day),
            currency="USD", cost_role=CostRole.SPEND, note=note))
    return out


def activity_dedup_key(account_id: int, day: date, model: str, provider_name: str) -> str:
    return f"openrouter:{account_id}:{day.isoformat()}:{model}:{provider_name}"


# ---- keys API: pause / limit a key ------------------------------------------------------------

@dataclass(frozen=True)
class KeyUpdateRequest:
    """A pure description of `PATCH /keys/{hash}`; `update_key` sends it."""

    method: str
    url: str
    json: dict[str, Any]


def build_key_update_request(base_url: str, key_hash: str, disabled: bool | None,
                             limit: Decimal | None, *, clear_limit: bool = False) -> KeyUpdateRequest:
    """Build `PATCH {base}/keys/{hash}` with only the fields that change.

    Confirmed (2026-08, docs corpus): https://openrouter.ai/docs/api/api-reference/api-keys/update-keys
    — `PATCH https://openrouter.ai/api/v1/keys/{hash}`, management key required; optional body
    fields `name`, `disabled` (bool), `limit` (USD number), `limit_reset`, `include_byok_in_limit`;
    answer `{data: {hash, name, label, disabled, limit, limit_remaining, usage, ...}}` (SDK docs
    `UpdateKeysRequestBody` / `UpdateKeysResponse`). `limit: null` removing the limit is only
    secondary (withone.ai's OpenRouter page types it `number | null`), hence `clear_limit`.
    `hash` is the keys-API hash of a key, not the key itself.
    """
    if not key_hash or "/" in key_hash:
        raise ValueError(f"key_hash={key_hash!r}: must be the key's hash from the keys API")
    body: dict[str, Any] = {}
    if disabled is not None:
        body["disabled"] = bool(disabled)
    if clear_limit:
        if limit is not None:
            raise ValueError("limit and clear_limit are mutually exclusive")
        body["limit"] = None
    elif limit is not None:
        if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
            raise ValueError(f"limit={limit!r}: must be a non-negative Decimal (USD)")
        # JSON number: the API takes USD as a number; integral limits go out as integers.
        body["limit"] = int(limit) if limit == limit.to_integral_value() else float(limit)
    if not body:
        raise ValueError("nothing to update: give disabled and/or limit")
    url = f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/keys/{quote(key_hash, safe='')}"
    return KeyUpdateRequest("PATCH", url, body)


def update_key(client: httpx.Client, account: AccountInfo, key_hash: str,
               disabled: bool | None = None, limit: Decimal | None = None, *,
               clear_limit: bool = False, policy: HttpPolicy | None = None) -> KeyInfo:
    """Pause/resume a key or change its limit; needs the account's key to be a management key."""
    req = build_key_update_request(account.base_url, key_hash, disabled, limit, clear_limit=clear_limit)
    payload = request_json(client, req.method, req.url, provider="OpenRouter",
                           auth_hint="pausing a key or changing its limit needs a management key",
                           headers=_auth(account), json_body=req.json, policy=policy)
    return parse_key(payload)


# ---- the sync job -----------------------------------------------------------------------------

def _auth(account: AccountInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.api_key}"}


def _is_management_only(exc: AuthError) -> bool:
    """The 403 an inference key gets on management endpoints (vs. a bad or disabled key)."""
    text = str(exc)
    return "HTTP 403" in text and MANAGEMENT_ONLY in text.lower()


class OpenRouterSync:
    """`ProviderSync` for OpenRouter: balance always; activity when the key is a management key."""

    provider = PROVIDER

    def __init__(self, policy: HttpPolicy | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.policy = policy
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def _get(self, client: httpx.Client, account: AccountInfo, path: str,
             params: dict[str, str] | None = None, report: SyncReport | None = None,
             cancel: threading.Event | None = None) -> Any:
        return request_json(client, "GET", join_url(account.base_url or DEFAULT_BASE_URL, path),
                            provider="OpenRouter", auth_hint=AUTH_HINT, params=params,
                            headers=_auth(account), policy=self.policy, report=report, cancel=cancel)

    def _balance(self, client: httpx.Client, account: AccountInfo, key: KeyInfo,
                 report: SyncReport | None, cancel: threading.Event | None = None
                 ) -> tuple[BalanceSnapshot, bool]:
        """Account credits when the key may read them (True), else the key's own limit and usage."""
        try:
            payload = self._get(client, account, "/credits", report=report, cancel=cancel)
            return parse_credits(payload, key), True
        except AuthError as exc:
            if not _is_management_only(exc):
                raise
            return key_balance(key), False

    def run(self, client: httpx.Client, account: AccountInfo, since: datetime, until: datetime,
            sink: PageSink, pricer: Pricer, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        key = parse_key(self._get(client, account, "/key", report=report, cancel=cancel))
        report.balance, _ = self._balance(client, account, key, report, cancel)
        today = self.clock().astimezone(timezone.utc).date()
        floor = activity_floor(today)
        # A window starting before the floor has a hole no sync can fill: say so on the outcome.
        beyond = since.astimezone(timezone.utc).date() < floor
        params = activity_params(since, until, today)
        if cancel is not None and cancel.is_set():
            return report
        if params is None:
            if beyond and key.kind != "inference":
                self._note_retention(report, floor)
            return report
        try:
            payload = self._get(client, account, "/activity", params, report, cancel)
        except AuthError as exc:
            if not _is_management_only(exc):
                raise
            report.warnings.append(NEEDS_MANAGEMENT_KEY)
            return report
        if beyond:
            self._note_retention(report, floor)
        days = parse_activity(payload, account, pricer, since, until)
        total = len(days)
        for done, (_day, records) in enumerate(sorted(days.items()), start=1):
            if cancel is not None and cancel.is_set():
                break
            sink(records)
            report.pages += 1
            report.records += len(records)
            if progress is not None:
                progress(done, total)
        log.info("openrouter account %s: %d records in %d days", account.id, report.records, report.pages)
        return report

    @staticmethod
    def _note_retention(report: SyncReport, floor: date) -> None:
        report.warnings.append(retention_note(floor))
        report.unavailable_before = floor

    def test_connection(self, client: httpx.Client, account: AccountInfo) -> str:
        key = parse_key(self._get(client, account, "/key"))
        balance, management = self._balance(client, account, key, None)
        kind = key.kind if key.kind != "unknown" else ("management" if management else "inference")
        label = f" {key.label}" if key.label else ""
        if balance.total is None and balance.remaining is None:
            money_text = f"no credit limit, {balance.used or Decimal(0):.2f} USD used"
        else:
            money_text = f"{balance.remaining:.2f} USD remaining"
        if kind == "management":
            return f"OpenRouter management key{label}: {money_text}; per-model history available"
        return (f"OpenRouter inference key{label}: {money_text}; "
                "per-model history needs a management key")
