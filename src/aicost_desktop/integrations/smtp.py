"""Email over SMTP as one integration: a wrapper of notify.email's channel (the same SMTP code sends alerts)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)
from aicost_desktop.notify.alerts import AlertView
from aicost_desktop.notify.email import EmailChannel, SmtpConfig, valid_email
from aicost_desktop.notify.outbox import Delivery, PermanentDeliveryError


class SmtpClient:
    """Builds notify.email's SmtpConfig from the connection's fields; the password comes from the keychain."""

    def __init__(self, conn: Connection, ssl_context: ssl.SSLContext | None = None) -> None:
        self.conn = conn
        v = conn.values
        self.config = SmtpConfig.from_setting({"host": v.get("host"), "port": v.get("port"), "security": v.get("security"),
                                               "user": v.get("user"), "from": v.get("from")})
        self.channel = EmailChannel(self.config, password=lambda: conn.value("password"), ssl_context=ssl_context)

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """A logged-in SMTP session (STARTTLS or SSL as configured); login and network failures typed."""
        cfg = self.config
        assert cfg is not None
        ctx = self.channel.ssl_context or ssl.create_default_context()
        try:
            server = (smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ctx) if cfg.security == "ssl"
                      else smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout))
        except (smtplib.SMTPException, OSError) as exc:
            raise E.NetworkError("SMTP", f"{cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}",
                                 hint="check host, port and security (587 starttls, 465 ssl)") from None
        try:
            if cfg.security == "starttls":
                server.starttls(context=ctx)
            if cfg.user:
                password = self.conn.require("password")
                redact.register(password)  # a server that echoes the AUTH exchange must not leak it
                server.login(cfg.user, password)
            yield server
        except smtplib.SMTPAuthenticationError as exc:
            raise E.AuthFailed("SMTP", f"login refused ({exc.smtp_code})",
                               hint="check the user and password (many providers need an app password)") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise E.InvalidRequest("SMTP", f"recipient refused: {', '.join(sorted(exc.recipients))}",
                                   hint="check the addresses in the rule's To field") from None
        except smtplib.SMTPResponseException as exc:
            # 4xx is the server's "try again later" (greylisting, a full queue); 5xx a refusal to fix first.
            kind = E.ServiceUnavailable if 400 <= exc.smtp_code < 500 else E.InvalidRequest
            raise kind("SMTP", f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise E.NetworkError("SMTP", f"{cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}",
                                 hint="check host, port and security (587 starttls, 465 ssl)") from None
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()

    def test(self) -> str:
        """Connect, start TLS and log in as a delivery would, then say goodbye without sending."""
        cfg = self.config
        assert cfg is not None
        with self._session() as server:
            server.noop()
        return f"logged in to {cfg.host}:{cfg.port}" if cfg.user else f"connected to {cfg.host}:{cfg.port}"

    def send_email(self, to: list[str], subject: str, text: str, html: str | None = None) -> dict[str, Any]:
        """One email to the rule's addresses: plain text, and the HTML part when given."""
        cfg = self.config
        assert cfg is not None
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = cfg.sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(localtime=False)
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        with self._session() as server:
            server.send_message(msg)
        return {"ok": True, "to": list(to)}

    def deliver(self, delivery: Delivery) -> None:
        """Send one outbox delivery (the route runtime calls this), as notify's email channel always has."""
        self.channel.send(delivery)

    def send_test(self, to: str) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        alert = AlertView(0, "threshold", "Test budget", None, Decimal(80),
                          "This is a test of your AI Cost Tracker email integration.", Decimal("80"), Decimal("100"),
                          "USD", None, now, False)
        try:
            self.deliver(Delivery(0, "email", to, 1, alert))
        except PermanentDeliveryError as exc:
            raise E.InvalidRequest("SMTP", str(exc)) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise E.AuthFailed("SMTP", f"login refused ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise E.NetworkError("SMTP", f"{type(exc).__name__}: {exc}") from None
        return {"ok": True, "to": to}


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class EmailAction(Action):
    """send_email: its To list is checked address by address when a rule is added, not at the first alert."""

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        checked = super().validate(params)
        for addr in checked.get("to") or ():
            if not valid_email(addr):
                raise InputError("to", addr, "not an email address (name@example.com)")
        return checked


SPEC = IntegrationSpec(
    id="email", name="Email (SMTP)", category=Category.EMAIL_SMS, icon="email",
    description="Email alerts through your own SMTP server (STARTTLS, SSL or plain).",
    fields=(
        CredentialField("host", "SMTP host", placeholder="smtp.example.com"),
        CredentialField("port", "Port", required=False, pattern=r"[0-9]{1,5}", pattern_hint="a port number such as 587"),
        CredentialField("security", "Security", required=False, default="starttls", pattern=r"starttls|ssl|none",
                        pattern_hint="starttls, ssl or none"),
        CredentialField("user", "User", required=False),
        CredentialField("password", "Password", secret=True, required=False),
        CredentialField("from", "From address", required=False, pattern=r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+",
                        pattern_hint="an email address"),
    ),
    auth_methods=(AuthMethod(AuthKind.SMTP, "SMTP login", ("host", "port", "security", "user", "password", "from")),),
    base_urls={},
    test=ConnectionTest("SMTP connect, STARTTLS, AUTH LOGIN, NOOP", "the server accepts the login (nothing is sent)"),
    actions=(
        EmailAction("send_email", "Send an email", "An alert or report to one or more addresses",
                    (ActionParam("to", "To", ParamType.LIST, required=True, help="addresses, comma-separated"),
                     ActionParam("subject", "Subject"),
                     ActionParam("text", "Plain-text body", ParamType.TEXT),
                     ActionParam("html", "HTML body", ParamType.TEXT)),
                    lambda c, p: c.send_email(p["to"], p["subject"] or "AI Cost Tracker", p["text"] or "",
                                              p["html"])),
        Action("send_test", "Send a test email", "A sample alert to an address",
               (ActionParam("to", "To", ParamType.EMAIL, required=True),), lambda c, p: c.send_test(p["to"]),
               destination=False),
    ),
    client=SmtpClient,
)
