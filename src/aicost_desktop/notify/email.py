"""Email channel: SMTP with STARTTLS or SSL, password from the keychain, plain-text and HTML bodies."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Callable, Mapping

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError
from aicost_desktop.notify.message import render
from aicost_desktop.notify.outbox import Delivery, PermanentDeliveryError
from aicost_desktop.secrets import SecretStore

SECURITY = ("starttls", "ssl", "none")
SMTP_SECRET_KEY = "smtp-password"  # the keychain entry holding the SMTP password


def valid_email(addr: str) -> bool:
    """A pragmatic check: one @, a dot in the domain, no spaces or angle brackets."""
    addr = addr.strip()
    if not addr or any(c in addr for c in " <>,;\"'") or addr.count("@") != 1:
        return False
    local, domain = addr.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".") \
        and ".." not in domain


def parse_email(addr: str, field: str = "email") -> str:
    if not valid_email(addr or ""):
        raise InputError(field, addr, "not a valid email address (name@example.com)")
    return addr.strip()


@dataclass(frozen=True)
class SmtpConfig:
    """The `smtp` setting: host, port, security (starttls/ssl/none), user, sender, timeout."""

    host: str
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    sender: str = "aicost@localhost"
    timeout: float = 20.0

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> "SmtpConfig | None":
        if not value or not value.get("host"):
            return None
        security = str(value.get("security", "starttls")).lower()
        if security not in SECURITY:
            raise InputError("smtp.security", security, f"use one of {', '.join(SECURITY)}")
        port = int(value.get("port") or (465 if security == "ssl" else 587))
        user = value.get("user") or None
        return cls(host=str(value["host"]), port=port, security=security, user=user,
                   sender=str(value.get("from") or user or "aicost@localhost"),
                   timeout=float(value.get("timeout", 20)))


def build_message(d: Delivery, sender: str) -> EmailMessage:
    r = render(d.alert)
    msg = EmailMessage()
    msg["Subject"] = f"[AI Cost Tracker] {r.title}"
    msg["From"] = sender
    msg["To"] = d.target
    msg["Date"] = formatdate(localtime=False)
    # Stable per delivery: if a crash after sending makes the outbox retry, mail clients see a duplicate.
    msg["Message-ID"] = f"<aicost-alert-{d.alert.id}-{d.outbox_id}@aicost.local>"
    msg.set_content(r.text)
    msg.add_alternative(r.html, subtype="html")
    return msg


class EmailChannel:
    """Sends one message per delivery; the password is looked up only when needed."""

    def __init__(self, config: SmtpConfig | None, password: Callable[[], str | None] = lambda: None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.password = password
        self.ssl_context = ssl_context

    def send(self, delivery: Delivery) -> None:
        cfg = self.config
        if cfg is None:
            raise PermanentDeliveryError("no SMTP server configured (setting smtp)")
        msg = build_message(delivery, cfg.sender)
        ctx = self.ssl_context or ssl.create_default_context()
        if cfg.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ctx)
        else:
            server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            if cfg.security == "starttls":
                server.starttls(context=ctx)
            if cfg.user:
                pw = self.password()
                redact.register(pw)  # a server that echoes the AUTH exchange must not leak it
                if pw is None:
                    raise PermanentDeliveryError(f"no SMTP password in the keychain ({SMTP_SECRET_KEY})")
                server.login(cfg.user, pw)
            try:
                server.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentDeliveryError(f"recipient refused: {delivery.target}") from exc
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()


def secret_password(secrets: SecretStore) -> Callable[[], str | None]:
    """A lookup of the SMTP password in a SecretStore."""
    def lookup() -> str | None:
        try:
            return secrets.get(SMTP_SECRET_KEY)
        except Exception:  # noqa: BLE001 - no keychain: treated as no password
            return None
    return lookup
