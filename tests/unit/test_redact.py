"""The one redactor: registered secrets of any shape (and their encodings and long fragments) and
credential-looking patterns become [redacted]; keychain reads/writes, SMTP logins and outgoing
credential headers register; every log record through the filter is clean."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import keyring
import pytest

from aicost_desktop.domain import redact as R
from aicost_desktop.domain.redact import REDACTED, RedactingFilter, redact, register
from tests.fakes.file_keyring import ENV as KEYRING_ENV
from tests.fakes.file_keyring import FileKeyring

SHAPES = {
    "openai-project": "sk-proj-" + "Xy7Qw2Er9Ty4Ui1Op6As3Df8Gh5Jk0Lz" * 4,
    "anthropic-admin": "sk-ant-admin01-" + "mN3bV6cX9zL2kJ5hG8fD1sA4pO7iU0yT" * 3 + "-AA",
    "hex40": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnYXRld2F5In0.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA",
    "short-punct": "gw_Ab3$x9!k2",
    "uuid": "3f2b8c1e-9a4d-4e7f-b1c2-5d6e7f8a9b0c",
    "regex-meta": "a.b*c+d?(e)[f]{g}|h^$\\",
}


@pytest.fixture(params=list(SHAPES), ids=list(SHAPES))
def key(request: pytest.FixtureRequest) -> str:
    register(SHAPES[request.param])
    return SHAPES[request.param]


def echoes(k: str) -> list[str]:
    """The ways a provider or proxy echoes a key back."""
    plain = base64.b64encode(b"\0me\0" + k.encode()).decode()  # SMTP AUTH PLAIN's initial response
    return [
        f"Incorrect API key provided: {k}.",
        f"headers: {json.dumps({'Authorization': 'Bearer ' + k})}",
        f"headers: {dict(key=k)!r}",
        f"x={quote(k, safe='')}&y={quote_plus(k)}",
        f"upstream said Basic {base64.b64encode(('u:' + k).encode()).decode()}",
        f"AUTH PLAIN {plain}",
        f"token={base64.b64encode(k.encode()).decode()} end",
        f"{k}{k}",
        f"({k})",
    ]


def test_every_shape_and_encoding_is_redacted(key: str) -> None:
    for text in echoes(key):
        out = redact(text)
        assert key not in out and quote(key, safe="") not in out, (text, out)
        assert REDACTED in out
        if len(key) >= 16:  # nor a recognisable chunk of it
            assert key[len(key) // 4: len(key) // 4 + 10] not in out, out


def test_a_cut_through_an_echoed_key_leaves_no_half_key(key: str) -> None:
    if len(key) < 20:
        pytest.skip("short keys are matched whole [ci-ok]")
    cut = ("x" * 50 + " key " + key)[: 55 + len(key) * 2 // 3]
    out = redact(cut)
    assert key[: len(key) // 2] not in out and out.endswith(REDACTED)


def test_unregistered_values_only_fall_to_patterns() -> None:
    # Today's code only knew `sk-...`: these pass through unless registered (the leak).
    for k in (SHAPES["hex40"], SHAPES["uuid"], SHAPES["short-punct"]):
        assert k in redact(f"key {k} bad")
        register(k)
        assert redact(f"key {k} bad") == f"key {REDACTED} bad"


@pytest.mark.parametrize("text,expected", [
    ("key sk-ant-admin01-AbC_d-9 and sk-proj-x1y2z3", f"key {REDACTED} and {REDACTED}"),
    ("Authorization: Bearer abc123def456", f"Authorization: {REDACTED}"),
    ('{"x-api-key": "k-1234567890"}', f'{{"x-api-key": "{REDACTED}"}}'),
    ("sent Bearer zz9-abcdefgh", f"sent Bearer {REDACTED}"),
    ("https://user:hunter2@gw.example/v1", f"https://{REDACTED}@gw.example/v1"),
    ("GET /v1/x?api_key=abc&page=2", f"GET /v1/x?api_key={REDACTED}&page=2"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl ok", f"jwt {REDACTED} ok"),
])
def test_patterns_without_registration(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "this endpoint needs an OpenAI Admin key (sk-admin-...), created by an organization owner",
    "an Anthropic Admin API key (sk-ant-admin...)",
    "use an OpenRouter API key (sk-or-v1-...)",
    "uses Bearer authentication; Basic plan",
    "HTTP 400 from /v1/organization/costs: Missing required parameter: 'start_time'.",
])
def test_hints_and_ordinary_text_survive(text: str) -> None:
    register(SHAPES["hex40"])
    assert redact(text) == text


def test_short_and_empty_values_are_not_registered() -> None:
    for v in (None, "", "   ", "abc", "12345"):
        register(v)
    assert R.registered_count() == 0
    assert redact("abc 12345") == "abc 12345"


def test_filter_redacts_message_args_exception_and_stack() -> None:
    k = SHAPES["uuid"]
    register(k)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    R.install(handler)
    R.install(handler)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    log = logging.getLogger("aicost.test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("sync failed for %s (100%% sure)", k)
        try:
            raise RuntimeError(f"echo {k}")
        except RuntimeError:
            log.exception("boom %s", "x")
        log.warning("stack", stack_info=True, extra={"k": k})
    finally:
        log.removeHandler(handler)
        log.propagate = True
    text = stream.getvalue()
    assert k not in text and "100% sure" in text and "RuntimeError: echo [redacted]" in text


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileKeyring]:
    """A keyring backend the real KeyringSecretStore talks to (the OS keychain is outside the test)."""
    monkeypatch.setenv(KEYRING_ENV, str(tmp_path / "keychain.json"))
    previous = keyring.get_keyring()
    backend = FileKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_keychain_reads_and_writes_register(file_keyring: FileKeyring) -> None:
    from aicost_desktop.secrets import SERVICE, KeyringSecretStore, MemorySecretStore

    store = KeyringSecretStore()
    store.set("account:1", SHAPES["hex40"])
    assert redact(SHAPES["hex40"]) == REDACTED
    R.clear()  # a new process: the key is known again once read from the keychain
    file_keyring.set_password(SERVICE, "account:2", SHAPES["short-punct"])
    assert store.get("account:2") == SHAPES["short-punct"]
    assert redact(SHAPES["short-punct"]) == REDACTED
    mem = MemorySecretStore()
    mem.set("a", SHAPES["uuid"])
    R.clear()
    assert mem.get("a") == SHAPES["uuid"] and redact(SHAPES["uuid"]) == REDACTED


def test_send_registers_the_credential_it_sends_so_an_echo_is_hidden() -> None:
    from aicost_desktop.sync.base import ProviderError
    from aicost_desktop.sync.http import HttpPolicy, request_json
    from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse, serving

    class Echo(FakeHTTPServer):
        def handle(self, req: FakeRequest) -> FakeResponse:
            return FakeResponse.json_({"error": {"message": f"bad key {req.header('x-api-key')}",
                                                 "type": "invalid_request_error", "param": None,
                                                 "code": None}}, 400)

    k = SHAPES["regex-meta"]
    with serving(Echo()) as fake, httpx.Client() as client:
        with pytest.raises(ProviderError) as ei:
            request_json(client, "GET", fake.base_url + "/v1/x", provider="p", auth_hint="h",
                         headers={"x-api-key": k}, policy=HttpPolicy(max_attempts=1))
    assert k not in str(ei.value) and f"bad key {REDACTED}" in str(ei.value)


def test_smtp_password_is_registered_when_used(tmp_path: Path) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed (pip install .[test])")
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from aicost_desktop.notify.email import EmailChannel, SmtpConfig
    from aicost_desktop.notify.outbox import Delivery

    pw = "pw-" + SHAPES["short-punct"]

    def refuse(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
        return AuthResult(success=False, handled=False,
                          message=f"535 bad password {data.password.decode()}")

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = Controller(Sink(), hostname="127.0.0.1", port=port, authenticator=refuse, auth_require_tls=False)
    ctl.start()
    try:
        from datetime import datetime, timezone

        from aicost_desktop.notify.alerts import AlertView

        alert = AlertView(1, "anomaly", None, None, None, "m", None, None, "USD", None,
                          datetime(2026, 1, 1, tzinfo=timezone.utc), False)
        channel = EmailChannel(SmtpConfig("127.0.0.1", port, "none", "me", timeout=5), lambda: pw)
        with pytest.raises(Exception) as ei:
            channel.send(Delivery(outbox_id=1, alert=alert, channel="email", target="a@example.com",
                                  attempts=1))
    finally:
        ctl.stop()
    assert pw in str(ei.value)  # the server's echo, as smtplib reports it...
    assert pw not in redact(str(ei.value))  # ...is hidden wherever the app writes it
