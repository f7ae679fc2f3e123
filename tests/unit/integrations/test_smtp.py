"""Email (SMTP) as an integration, against a real aiosmtpd server on 127.0.0.1: test logs in, send_test mails."""

from __future__ import annotations

import email
import socket
from typing import Any

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed (pip install .[test])")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from aicost_desktop.integrations import errors as E  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    return AuthResult(success=isinstance(data, LoginPassword) and data.login == b"alerts" and data.password == b"s3cret-pw")


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=_auth, auth_require_tls=False)
    ctl.start()
    yield sink, port
    ctl.stop()


def _fields(port: int, password: str = "s3cret-pw") -> dict[str, str]:
    return {"host": "127.0.0.1", "port": str(port), "security": "none", "user": "alerts", "password": password,
            "from": "alerts@example.com"}


def test_connect_logs_in_without_sending_and_send_test_uses_the_alert_mail(manager, smtp, keychain) -> None:
    sink, port = smtp
    rec = manager.connect("email", _fields(port), name="mail")
    assert rec.status_message == f"logged in to 127.0.0.1:{port}" and sink.messages == []
    assert [k.rsplit(":", 1)[1] for k in keychain._data] == ["password"]
    assert rec.plain["host"] == "127.0.0.1" and "password" not in rec.plain
    assert manager.run("mail", "send_test", {"to": "finance@example.com"}) == {"ok": True, "to": "finance@example.com"}
    rcpts, msg = sink.messages[0]
    assert rcpts == ["finance@example.com"] and msg["Subject"] == "[AI Cost Tracker] Test budget: 80% of budget"
    assert msg["From"] == "alerts@example.com" and msg.is_multipart()


def test_an_unreachable_server_says_so(manager) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(E.NetworkError, match="check host, port"):
        manager.connect("email", _fields(port), name="mail")
