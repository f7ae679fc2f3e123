"""One redactor for the whole process: every secret value it holds, and credential-looking text, become [redacted].

Secrets are registered by value (keychain reads and writes, the SMTP password, credential headers
of outgoing requests), so a key is hidden whatever it looks like: a gateway's `gw_Ab3$x9!k2`, a
40-char hex string or a JWT, not only `sk-...`. Its common encodings (URL-quoted, JSON-escaped,
base64 at any alignment, as in HTTP Basic auth) and long partial echoes (a provider's message cut
to 300 characters) are hidden too. On top of that, obvious patterns (`sk-...`, `Bearer x`,
`x-api-key: x`, `user:pass@` in URLs, `?api_key=`) are hidden even for values never registered.

Every log handler the app and the CLI set up carries `RedactingFilter`; every status, error and
alert text written to the ledger passes through `redact()` at the write.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter values are not secrets worth the name, and redacting them would garble ordinary words.
MIN_SECRET_LEN = 6
# A run of this many characters of a secret (or half the secret, when that is longer) is a leak too:
# a message cut in the middle of an echoed key still holds most of the key.
PARTIAL_MIN = 10
_GRAM = 8  # index granularity: secrets (and encodings) of at least this length are found via 8-grams

_HEADER_NAMES = r"(?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|x-auth-token|set-cookie|cookie"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ (or token@) in a URL: hide the whole userinfo.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@\"'<>]+@"), rf"\1{REDACTED}@"),
    # credentials in a query string
    (re.compile(r"(?i)([?&](?:api[_-]?key|key|access[_-]?token|token|auth|password|secret|signature)=)"
                r"[^&\s#\"'<>]+"), rf"\1{REDACTED}"),
    # a credential header as a raw line, a JSON / Python dict item or a form field: `name: value`
    (re.compile(rf"(?i)(?<![\w-])({_HEADER_NAMES})([\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}}&]+"),
     rf"\1\2{REDACTED}"),
    # `Bearer <token>` anywhere; the token needs a digit or punctuation ("Bearer authentication" stays)
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+(?=[^\s\"'<>,;]*[^A-Za-z\s\"'<>,;])[^\s\"'<>,;]{8,}"),
     rf"\1 {REDACTED}"),
    # provider key shapes: sk-... (but not an elided example such as `sk-ant-admin...` or `sk-or-v1-...`)
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{4,}+(?<!-)(?!\.\.\.|\u2026)"), REDACTED),
    # JSON web tokens
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), REDACTED),
    # Google API keys
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), REDACTED),
)


def _b64_cores(raw: bytes) -> set[str]:
    """Base64 of `raw` as it appears inside a longer payload (`user:` + key in HTTP Basic auth):
    for each of the three alignments, the 4-char groups made only of `raw`'s own bytes."""
    out: set[str] = set()
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        start = 4 if shift else 0
        end = ((shift + len(raw)) // 3) * 4
        core = enc[start:end]
        if len(core) >= _GRAM:
            out.add(core)
            out.add(core.replace("+", "-").replace("/", "_"))  # the URL-safe alphabet
    return out


def _variants(secret: str) -> set[str]:
    """The forms a secret takes in text: itself, URL-quoted, JSON/Python-escaped, base64."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret),
             json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/"), repr(secret)[1:-1]}
    try:
        raw = secret.encode("utf-8")
    except UnicodeEncodeError:
        raw = b""
    if raw:
        forms.add(base64.b64encode(raw).decode("ascii").rstrip("="))
        forms |= _b64_cores(raw)
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


class _Registry:
    """The secret values this process holds, indexed by 8-gram for a single pass over each text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._long: list[str] = []          # variants of length >= _GRAM
        self._short: list[str] = []         # shorter variants: matched exactly
        self._index: dict[str, list[tuple[int, int]]] = {}

    def register(self, secret: str) -> None:
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            for form in _variants(secret):
                if len(form) < _GRAM:
                    if form not in self._short:
                        self._short.append(form)
                        self._short.sort(key=len, reverse=True)
                    continue
                if form in self._long:
                    continue
                vid = len(self._long)
                self._long.append(form)
                for off in range(len(form) - _GRAM + 1):
                    self._index.setdefault(form[off:off + _GRAM], []).append((vid, off))

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._long.clear()
            self._short.clear()
            self._index.clear()

    def __len__(self) -> int:
        return len(self._secrets)

    def scrub(self, text: str) -> str:
        with self._lock:
            if not self._secrets:
                return text
            index, long_, short = self._index, self._long, list(self._short)
            spans: list[tuple[int, int]] = []
            n, i = len(text), 0
            while i <= n - _GRAM:
                hits = index.get(text[i:i + _GRAM])
                if hits:
                    best = 0
                    for vid, off in hits:
                        form = long_[vid]
                        length = _GRAM
                        while i + length < n and off + length < len(form) and \
                                text[i + length] == form[off + length]:
                            length += 1
                        if length >= min(len(form), max(PARTIAL_MIN, len(form) // 2)) and length > best:
                            best = length
                    if best:
                        spans.append((i, i + best))
                        i += best
                        continue
                i += 1
        if spans:
            parts, last = [], 0
            for a, b in spans:
                parts.append(text[last:a])
                parts.append(REDACTED)
                last = b
            parts.append(text[last:])
            text = "".join(parts)
        for form in short:
            text = text.replace(form, REDACTED)
        return text


_REGISTRY = _Registry()


def register(secret: str | None) -> None:
    """Remember a secret value so `redact()` hides it from now on (None and short values are ignored)."""
    if isinstance(secret, str):
        secret = secret.strip()
        if len(secret) >= MIN_SECRET_LEN:
            _REGISTRY.register(secret)


def register_credential_header(value: str | None) -> None:
    """Register the secret in an `Authorization`/`x-api-key` header value (`Bearer x`, `Basic b64`, `x`)."""
    if not isinstance(value, str):
        return
    scheme, _, rest = value.strip().partition(" ")
    if rest and scheme.lower() in ("bearer", "token", "basic"):
        register(rest)
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(rest, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return
            register(password)
    else:
        register(value)


def registered_count() -> int:
    """How many distinct secrets are registered (for tests and diagnostics; never the values)."""
    return len(_REGISTRY)


def clear() -> None:
    """Forget every registered secret (tests, which simulate separate processes in one)."""
    _REGISTRY.clear()


def redact(text: object) -> str:
    """`text` with every registered secret (and its encodings and long fragments) and every
    credential-looking pattern replaced by `[redacted]`."""
    s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    s = _REGISTRY.scrub(s)
    for pattern, repl in _PATTERNS:
        s = pattern.sub(repl, s)
    return s


class RedactingFilter(logging.Filter):
    """A handler filter that redacts the formatted message, exception text and stack of each record."""

    _exc_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: let the handler report it as usual
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exc_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install(*handlers: logging.Handler) -> None:
    """Put the one redacting filter on each handler (idempotent)."""
    for h in handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(_FILTER)


def install_on_logger(logger: logging.Logger | None = None) -> None:
    """Put the redacting filter on every handler currently attached to `logger` (default: root)."""
    install(*(logger or logging.getLogger()).handlers)
