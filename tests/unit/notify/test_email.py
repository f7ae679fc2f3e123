"""Email alerts received by a real aiosmtpd server on 127.0.0.1: plain, STARTTLS and SSL, with login."""

from __future__ import annotations

import email
import ssl
import subprocess
from datetime import datetime, timezone
from email.message import Message
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed (pip install .[test])")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from aicost_desktop.budgets.model import BudgetSpec, add_budget  # noqa: E402
from aicost_desktop.notify.alerts import raise_alert  # noqa: E402
from aicost_desktop.notify.email import EmailChannel, SmtpConfig, parse_email, valid_email  # noqa: E402
from aicost_desktop.notify.outbox import Dispatcher, outbox_rows  # noqa: E402
from aicost_desktop.storage.db import Database  # noqa: E402

T0 = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"alerts" and data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cert")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return crt, key


def server_ctx(cert: tuple[Path, Path]) -> ssl.SSLContext:
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(str(cert[0]), str(cert[1]))
    return c


def client_ctx(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(request: pytest.FixtureRequest, cert: tuple[Path, Path]) -> Iterator[tuple[Sink, int, str]]:
    mode = request.param
    sink = Sink()
    kw: dict[str, Any] = {"authenticator": _auth}
    if mode == "starttls":
        kw.update(tls_context=server_ctx(cert), require_starttls=True)
    elif mode == "ssl":
        kw.update(ssl_context=server_ctx(cert), auth_require_tls=False)
    else:
        kw.update(auth_require_tls=False)
    ctl = Controller(sink, hostname="127.0.0.1", port=_free_port(), server_hostname="127.0.0.1", **kw)
    ctl.start()
    try:
        yield sink, ctl.port, mode
    finally:
        ctl.stop()


@pytest.mark.parametrize("smtp", ["none", "starttls", "ssl"], indirect=True)
def test_alert_email_delivered_once_with_text_and_html(sqlite_db: Database, smtp: tuple[Sink, int, str],
                                                       cert: tuple[Path, Path]) -> None:
    sink, port, mode = smtp
    bid = add_budget(sqlite_db, BudgetSpec.build(name="OpenAI", amount="100", emails=["me@example.com"]))
    raise_alert(sqlite_db, "threshold", "k", "OpenAI: 80% of budget reached", budget_id=bid, threshold=80,
                current_usage=80, budget_limit=100, now=T0, channels=[("email", "me@example.com")])
    cfg = SmtpConfig(host="127.0.0.1", port=port, security=mode, user="alerts", sender="tracker@example.com",
                     timeout=10)
    channel = EmailChannel(cfg, lambda: "s3cret", ssl_context=client_ctx(cert))
    disp = Dispatcher(sqlite_db, {"email": channel}, ZoneInfo("UTC"), clock=lambda: T0)
    assert len(disp.run_once().sent) == 1
    assert disp.run_once().sent == []
    [(sender, rcpts, msg)] = sink.messages
    assert sender == "tracker@example.com" and rcpts == ["me@example.com"]
    assert msg["Subject"] == "[AI Cost Tracker] OpenAI: 80% of budget"
    assert msg["Message-ID"].startswith("<aicost-alert-")
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    assert "Spent $80.00 of $100.00 (80%)" in parts["text/plain"]
    assert "<h2>OpenAI: 80% of budget</h2>" in parts["text/html"]
    assert outbox_rows(sqlite_db)[0].status == "sent"


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_wrong_password_is_retried_later(sqlite_db: Database, smtp: tuple[Sink, int, str]) -> None:
    sink, port, _ = smtp
    raise_alert(sqlite_db, "anomaly", "k", "m", now=T0, channels=[("email", "me@example.com")])
    channel = EmailChannel(SmtpConfig("127.0.0.1", port, "none", "alerts", timeout=3), lambda: "wrong")
    r = Dispatcher(sqlite_db, {"email": channel}, ZoneInfo("UTC"), clock=lambda: T0).run_once()
    assert r.retried and sink.messages == []
    row = outbox_rows(sqlite_db)[0]
    assert row.status == "pending" and row.last_error and row.next_attempt_at > T0


def test_unconfigured_smtp_is_permanent(sqlite_db: Database) -> None:
    raise_alert(sqlite_db, "anomaly", "k", "m", now=T0, channels=[("email", "me@example.com")])
    r = Dispatcher(sqlite_db, {"email": EmailChannel(None)}, ZoneInfo("UTC"), clock=lambda: T0).run_once()
    assert r.failed


def test_smtp_setting_parsing() -> None:
    assert SmtpConfig.from_setting({}) is None
    c = SmtpConfig.from_setting({"host": "smtp.example.com", "security": "ssl", "user": "u@example.com"})
    assert c is not None and c.port == 465 and c.sender == "u@example.com"
    with pytest.raises(Exception, match="smtp.security"):
        SmtpConfig.from_setting({"host": "h", "security": "tls13"})


@pytest.mark.parametrize("addr, ok", [("a@example.com", True), ("first.last+tag@mail.example.org", True),
                                      ("a@b", False), ("@example.com", False), ("a@@example.com", False),
                                      ("a b@example.com", False), ("a@example..com", False), ("", False)])
def test_email_validation(addr: str, ok: bool) -> None:
    assert valid_email(addr) is ok
    if not ok:
        with pytest.raises(Exception, match="email="):
            parse_email(addr)
