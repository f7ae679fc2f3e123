"""The one HTTP policy every provider sync uses: timeouts, retries with backoff, error mapping, redaction."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.domain.redact import redact as _redact
from aicost_desktop.domain.redact import register_credential_header
from aicost_desktop.sync.base import AuthError, ProviderError, SyncReport

log = logging.getLogger("aicost.http")

# 408 request timeout, 429 rate limit, 5xx and Anthropic's 529 "overloaded".
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
# Longest server-requested wait we honour (the OpenAI SDK's MAX_RETRY_AFTER_DELAY).
MAX_RETRY_AFTER = 120.0

# What httpx takes as query params: a mapping (a list value repeats the key) or the pairs in order.
_Param = str | int | float | bool | None
QueryParams = Mapping[str, _Param | Sequence[_Param]] | tuple[tuple[str, _Param], ...] | list[tuple[str, _Param]]


@dataclass(frozen=True)
class PageRequest:
    """One GET of a paged report: path (relative to the provider's API base) and query params, arrays
    spelled out as repeated (name, value) pairs in the provider's own style."""

    path: str
    params: tuple[tuple[str, str], ...]


def day_floor(dt: datetime) -> datetime:
    """UTC midnight at or before `dt` (OpenAI's and Anthropic's daily buckets are UTC days)."""
    return utc_midnight(dt.astimezone(timezone.utc).date())


class Cancelled(Exception):
    """The caller's cancel event was set while a request was waiting to retry."""


@dataclass
class HttpPolicy:
    """Retry/timeout knobs. Tests pass `sleep` (records delays) and `jitter` (deterministic)."""

    max_attempts: int = 5
    timeout: float = 30.0
    base_delay: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = MAX_RETRY_AFTER
    sleep: Callable[[float], None] | None = None
    jitter: Callable[[], float] = field(default=random.random)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts}: must be at least 1")


DEFAULT_POLICY = HttpPolicy()

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie", "proxy-authorization"})


def redact(text: str) -> str:
    """Every secret this process holds, and anything that looks like a credential, as `[redacted]`
    (the one redactor, domain.redact, so error text echoing a key of any shape is safe)."""
    return _redact(text)


def _register_credentials(client: httpx.Client, headers: Mapping[str, str] | None) -> None:
    # The key being sent is a secret whatever its source (keychain, a test, a gateway's default
    # header): a provider echoing it back in an error must not get it into any message.
    for source in (client.headers, headers or {}):
        for k, v in source.items():
            if k.lower() in _SECRET_HEADERS:
                register_credential_header(v)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms`, then `Retry-After` seconds or HTTP-date."""
    h = {k.lower(): v for k, v in headers.items()}
    ms = h.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = h.get("retry-after")
    if ra is None:
        return None
    ra = ra.strip()
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(ra)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, policy: HttpPolicy) -> float:
    """Exponential backoff with jitter for retry number `attempt` (1-based): ~0.5, 1, 2, 4 s..."""
    factor: int = 2 ** (attempt - 1)  # int ** int is typed int | float: attempts count from 1
    base = min(policy.base_delay * factor, policy.max_backoff)
    # Full-ish jitter: between 75 % and 100 % of the base, so retries from many clients spread.
    return base * (1.0 - 0.25 * policy.jitter())


def retry_delay(attempt: int, headers: Mapping[str, str] | None, policy: HttpPolicy) -> float:
    """Delay before retry `attempt`: the server's request (capped at 120 s) or our backoff."""
    server = parse_retry_after(headers or {}, policy.clock()) if headers is not None else None
    if server is not None and server > 0:
        return min(server, policy.max_retry_after)
    return backoff_delay(attempt, policy)


def error_message(resp: httpx.Response) -> str:
    """The human message from a provider's error envelope (OpenAI, Anthropic, OpenRouter, others)."""
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        text = resp.text.strip()
        # Redact before cutting: a cut through an echoed key would leave a fragment nothing recognises.
        return redact(text)[:300] if text else (resp.reason_phrase or f"HTTP {resp.status_code}")
    msg: Any = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            msg = err.get("message") or err.get("type") or err.get("code")
            if err.get("type") and msg != err.get("type"):
                msg = f"{msg} ({err['type']})"
        elif isinstance(err, str):
            msg = err
        msg = msg or body.get("message") or body.get("detail") or body.get("msg")
    if not msg:
        return redact(json.dumps(body))[:300]
    return redact(str(msg))


def join_url(base: str, path: str) -> str:
    """`base` + `path` with exactly one slash between them."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def _should_retry(resp: httpx.Response) -> bool:
    forced = resp.headers.get("x-should-retry")
    if forced == "true":
        return True
    if forced == "false":
        return False
    return resp.status_code in RETRY_STATUSES


def _wait(delay: float, policy: HttpPolicy, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    if policy.sleep is not None:
        policy.sleep(delay)
    elif cancel is not None:
        if cancel.wait(delay):
            raise Cancelled()
    else:
        time.sleep(delay)
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def send(client: httpx.Client, method: str, url: str, *, provider: str, auth_hint: str,
         params: QueryParams | None = None, headers: Mapping[str, str] | None = None,
         json_body: Any = None, policy: HttpPolicy | None = None, report: SyncReport | None = None,
         cancel: threading.Event | None = None) -> httpx.Response:
    """Perform one logical request with retries; return the 2xx response or raise.

    401/403 raise AuthError (message ends with `auth_hint`, e.g. which kind of key is needed);
    other 4xx raise ProviderError with the provider's own message; retryable statuses and network
    errors are retried up to `policy.max_attempts`, then raise ProviderError.
    """
    policy = policy or DEFAULT_POLICY
    _register_credentials(client, headers)
    safe_url = redact(url)
    last: str = ""
    for attempt in range(1, policy.max_attempts + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if report is not None:
            report.requests += 1
        started = time.perf_counter()
        try:
            resp = client.request(method, url, params=params, headers=headers, json=json_body,
                                  timeout=policy.timeout)
        except httpx.TransportError as exc:
            ms = (time.perf_counter() - started) * 1000
            last = f"{type(exc).__name__}: {redact(str(exc)) or 'network error'}"
            log.debug("%s %s -> %s after %.0f ms (attempt %d/%d)", method, safe_url, last, ms,
                      attempt, policy.max_attempts)
            if attempt == policy.max_attempts:
                break
            delay = retry_delay(attempt, None, policy)
            _count_retry(report)
            _wait(delay, policy, cancel)
            continue
        ms = (time.perf_counter() - started) * 1000
        shown = redact(str(resp.request.url))
        log.debug("%s %s -> %d in %.0f ms (attempt %d/%d)", method, shown, resp.status_code, ms,
                  attempt, policy.max_attempts)
        if resp.is_success:
            return resp
        msg = error_message(resp)
        if resp.status_code in (401, 403):
            raise AuthError(f"{provider}: HTTP {resp.status_code} {msg} — {auth_hint}")
        if not _should_retry(resp):
            raise ProviderError(f"{provider}: HTTP {resp.status_code} from {_path(url)}: {msg}")
        last = f"HTTP {resp.status_code}: {msg}"
        if attempt == policy.max_attempts:
            break
        delay = retry_delay(attempt, resp.headers, policy)
        log.debug("retrying %s %s in %.2f s (%s)", method, safe_url, delay, last)
        _count_retry(report)
        _wait(delay, policy, cancel)
    raise ProviderError(f"{provider}: {_path(url)} failed after {policy.max_attempts} attempts ({last})")


def request_json(client: httpx.Client, method: str, url: str, *, provider: str, auth_hint: str,
                 params: QueryParams | None = None, headers: Mapping[str, str] | None = None,
                 json_body: Any = None, policy: HttpPolicy | None = None,
                 report: SyncReport | None = None, cancel: threading.Event | None = None) -> Any:
    """`send()` and decode the JSON body; a truncated or non-JSON body raises ProviderError."""
    resp = send(client, method, url, provider=provider, auth_hint=auth_hint, params=params,
                headers=headers, json_body=json_body, policy=policy, report=report, cancel=cancel)
    try:
        return json.loads(resp.content)
    except (ValueError, UnicodeDecodeError) as exc:
        log.debug("invalid JSON from %s: %s", redact(str(resp.request.url)), redact(resp.text)[:200])
        raise ProviderError(f"{provider}: invalid JSON from {_path(url)} ({exc})") from None


def _count_retry(report: SyncReport | None) -> None:
    if report is not None:
        report.retries += 1


def _path(url: str) -> str:
    return redact(httpx.URL(url).path)


def page_cursor(body: Any, provider: str, seen: set[str] | None = None) -> str | None:
    """The cursor to fetch next from a `{data, has_more, next_page}` page, None when done.

    `has_more: true` without a `next_page` (or a cursor seen before) is a ProviderError, not "done".
    """
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ProviderError(f"{provider}: malformed page (expected an object with a 'data' list)")
    if not body.get("has_more"):
        return None
    cursor = body.get("next_page")
    if not isinstance(cursor, str) or not cursor:
        raise ProviderError(f"{provider}: page says has_more=true but gives no next_page cursor")
    if seen is not None:
        if cursor in seen:
            raise ProviderError(f"{provider}: pagination cursor {cursor!r} repeated; stopping")
        seen.add(cursor)
    return cursor


def follow_pages(fetch: Callable[[str | None], Any], parse: Callable[[Any], list[Any]], *, provider: str,
                 sink: Callable[[list[Any]], None], report: SyncReport, total: int,
                 progress: Callable[[int, int], None] | None = None,
                 cancel: threading.Event | None = None) -> None:
    """Fetch every page of one endpoint (`fetch(cursor)`), parse it and hand it to `sink`.

    A page is parsed completely before the sink sees it, so a malformed page is never written;
    pages already sunk stay. Raises Cancelled when `cancel` is set between pages.
    """
    page: str | None = None
    seen: set[str] = set()
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        body = fetch(page)
        next_page = page_cursor(body, provider, seen)
        records = parse(body)
        if records:
            sink(records)
        report.pages += 1
        report.records += len(records)
        if progress is not None:
            progress(report.pages, max(total, report.pages))
        if next_page is None:
            return
        page = next_page
