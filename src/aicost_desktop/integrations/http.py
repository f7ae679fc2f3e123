"""One HTTP layer for every integration: each service's success and rate-limit signals, bounded retries, redaction."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from aicost_desktop import __version__
from aicost_desktop.domain.redact import redact, register, register_credential_header
from aicost_desktop.integrations import errors as E
from aicost_desktop.sync.tls import client_tls

log = logging.getLogger("aicost.integrations.http")
USER_AGENT = f"aicost-desktop/{__version__}"
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def make_client(timeout: float = 20.0) -> httpx.Client:
    """The client integrations share (tests pass their own). No redirects: a 3xx is an answer, not a hop."""
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False,
                        verify=client_tls())


def retry_after_header(resp: httpx.Response, now: float | None = None) -> float | None:
    """`Retry-After` as delta-seconds (float allowed) or an HTTP-date, in seconds from now."""
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def body_json(resp: httpx.Response) -> Any:
    """The response's JSON, or None when the body is empty or not JSON (services answer text/plain too)."""
    try:
        return resp.json()
    except ValueError:
        return None


class Dialect:
    """How one service says "ok", "slow down" and "no". Subclasses override the parts that differ."""

    service = "service"

    def ok(self, resp: httpx.Response) -> bool:
        return 200 <= resp.status_code < 300

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        """(message, code) of a failed response; the generic shapes most APIs use."""
        data = body_json(resp)
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                return str(err.get("message") or err.get("type") or err), err.get("code") or err.get("type")
            msg = data.get("message") or data.get("error_description") or err
            if msg:
                return str(msg), (str(data["code"]) if data.get("code") is not None else
                                  (str(err) if isinstance(err, str) else None))
        text = resp.text.strip()
        return (text[:300] or f"HTTP {resp.status_code}"), None

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        return retry_after_header(resp, now)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        s = resp.status_code
        if s == 429:
            return E.RateLimited
        if s == 401:
            return E.AuthFailed
        if s == 403:
            return E.PermissionDenied
        if s in (404, 410):
            return E.NotFound
        if s >= 500:
            return E.ServiceUnavailable
        return E.InvalidRequest

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return None

    def failure(self, resp: httpx.Response, now: float) -> E.IntegrationError:
        message, code = self.error_fields(resp)
        kind = self.kind(resp, message, code)
        wait = self.wait_hint(resp, now) if kind.retryable else None
        return kind(self.service, f"HTTP {resp.status_code}: {message}", hint=self.hint(resp, kind, code),
                    status=resp.status_code, code=code, retry_after=wait)

    def may_retry(self, resp: httpx.Response, err: E.IntegrationError, idempotent: bool) -> bool:
        """A rate-limited request was not processed: always safe. A 5xx POST may have been: only if idempotent."""
        if isinstance(err, E.RateLimited):
            return True
        return err.retryable and idempotent


@dataclass
class RetryPolicy:
    """At most `max_attempts` tries; waits up to `max_wait` s in-process, longer waits go back to the caller
    (the outbox schedules them) as a RateLimited with `retry_after`."""

    max_attempts: int = 3
    max_wait: float = 30.0
    base_delay: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default=random.random)
    clock: Callable[[], float] = time.time

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_wait, self.base_delay * 2.0 ** (attempt - 1)) * (0.5 + self.jitter() / 2))


class ServiceHttp:
    """Requests for one service: success decided by its dialect, typed errors, bounded retries."""

    def __init__(self, client: httpx.Client, dialect: Dialect, policy: RetryPolicy | None = None) -> None:
        self.client, self.dialect, self.policy = client, dialect, policy or RetryPolicy()
        self.waits: list[float] = []  # every in-process wait, for diagnostics and tests

    def request(self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any) -> httpx.Response:
        method = method.upper()
        idem = method in _IDEMPOTENT if idempotent is None else idempotent
        self._register(kwargs)
        # Our name on every request whatever client was passed in (GitHub refuses requests without one).
        kwargs["headers"] = {"User-Agent": USER_AGENT, **(kwargs.get("headers") or {})}
        p = self.policy
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                # A connect failure never reached the server; anything later may have been processed.
                sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if attempt < p.max_attempts and (idem or not sent):
                    self._wait(p.backoff(attempt))
                    continue
                raise E.NetworkError(self.dialect.service, f"{type(exc).__name__}: {redact(str(exc)) or 'no answer'}"
                                     f" ({redact(_origin(url))})") from None
            log.debug("%s %s -> %s", method, redact(_origin(url)), resp.status_code)
            if self.dialect.ok(resp):
                return resp
            err = self.dialect.failure(resp, p.clock())
            if attempt < p.max_attempts and self.dialect.may_retry(resp, err, idem):
                wait = err.retry_after if err.retry_after is not None else p.backoff(attempt)
                if wait <= p.max_wait:
                    self._wait(wait)
                    continue
            raise err

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.policy.sleep(seconds)

    @staticmethod
    def _register(kwargs: dict[str, Any]) -> None:
        # Whatever is sent as a credential is a secret from here on, wherever it came from.
        for k, v in (kwargs.get("headers") or {}).items():
            if k.lower() in _CREDENTIAL_HEADERS:
                register_credential_header(v)
        auth = kwargs.get("auth")
        if isinstance(auth, tuple) and len(auth) == 2:
            register(auth[1])


def _origin(url: str) -> str:
    """Scheme, host and path of a URL, without its query (which may carry a key)."""
    return str(httpx.URL(url).copy_with(query=None))
