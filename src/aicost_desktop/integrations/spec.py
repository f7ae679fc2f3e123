"""What an integration declares: credential fields, auth methods, base URLs, connection test, typed actions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aicost_desktop.domain.errors import InputError


class Category(str, Enum):
    MESSAGING = "messaging"
    EMAIL_SMS = "email_sms"
    DEV_TOOLS = "dev_tools"
    DOCS_SHEETS = "docs_sheets"
    PAYMENTS = "payments"

    @property
    def label(self) -> str:
        return {"messaging": "Messaging", "email_sms": "Email & SMS", "dev_tools": "Dev tools",
                "docs_sheets": "Docs & sheets", "payments": "Payments"}[self.value]


class AuthKind(str, Enum):
    WEBHOOK_URL = "webhook_url"    # the URL is the credential (Slack/Discord incoming webhooks)
    BEARER_TOKEN = "bearer_token"  # a pasted token or API key sent as Authorization: Bearer
    BASIC = "basic"                # HTTP Basic (Twilio)
    KEY_TOKEN = "key_token"        # an API key plus a user token (Trello)
    OAUTH_PKCE = "oauth_pkce"      # authorization code + PKCE on a 127.0.0.1 loopback redirect
    OAUTH_DEVICE = "oauth_device"  # RFC 8628 device authorization (GitHub)
    SMTP = "smtp"                  # an SMTP server login
    SIGNING_SECRET = "signing_secret"  # a shared secret we sign or verify with (generic webhook)


@dataclass(frozen=True)
class CredentialField:
    """One field of the connect form. Secret fields go to the keychain, the others to the ledger."""

    key: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""
    placeholder: str = ""
    pattern: str | None = None   # a full-match regex the value must satisfy
    pattern_hint: str = ""
    default: str | None = None

    def check(self, value: str | None) -> str | None:
        value = value.strip() if isinstance(value, str) else value
        if not value:
            if self.required and self.default is None:
                raise InputError(self.key, "<empty>", f"{self.label} is required")
            return self.default
        if self.pattern and not re.fullmatch(self.pattern, value):
            shown = "<redacted>" if self.secret else value
            raise InputError(self.key, shown, self.pattern_hint or f"does not look like a {self.label}")
        return value


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where an OAuth flow talks to; each URL is overridable per connection (tests point them at a fake)."""

    authorize_url: str = ""
    token_url: str = ""
    device_code_url: str = ""
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    scope_param: str = "scope"   # Slack's user-token installs ask with user_scope
    extra_authorize: tuple[tuple[str, str], ...] = ()
    client_auth: str = "body"    # "body": client_id (+secret) in the form; "basic": HTTP Basic
    redirect_path: str = "/callback"


@dataclass(frozen=True)
class AuthMethod:
    """One way to authenticate, with the credential fields it uses."""

    kind: AuthKind
    label: str
    fields: tuple[str, ...] = ()
    oauth: OAuthEndpoints | None = None
    id: str = ""  # when a service has two methods of one kind (Twilio: auth token or API key)

    @property
    def key(self) -> str:
        return self.id or self.kind.value


class ParamType(str, Enum):
    STRING = "string"
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    LIST = "list"      # comma-separated on the command line
    JSON = "json"      # an object or array (Slack blocks, Discord embeds, Notion properties)
    CHOICE = "choice"


_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_E164 = re.compile(r"(whatsapp:)?\+[1-9][0-9]{6,14}")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ActionParam:
    key: str
    label: str
    type: ParamType = ParamType.STRING
    required: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()

    def coerce(self, value: Any) -> Any:
        """The value in its declared type; strings (CLI, forms) are parsed, wrong types refused."""
        t = self.type
        if value is None or value == "":
            if self.required:
                raise InputError(self.key, value, f"{self.label} is required")
            return self.default
        if t in (ParamType.STRING, ParamType.TEXT, ParamType.URL, ParamType.EMAIL, ParamType.PHONE,
                 ParamType.CHOICE):
            if not isinstance(value, str):
                raise InputError(self.key, value, "must be text")
            if t is ParamType.EMAIL and not _EMAIL.fullmatch(value.strip()):
                raise InputError(self.key, value, "not an email address (name@example.com)")
            if t is ParamType.PHONE and not _E164.fullmatch(value.strip()):
                raise InputError(self.key, value, "not an E.164 number (+14155550100, or whatsapp:+14155550100)")
            if t is ParamType.URL and not re.match(r"https?://[^\s/]+", value.strip()):
                raise InputError(self.key, value, "not an http(s) URL")
            if t is ParamType.CHOICE and value not in self.choices:
                raise InputError(self.key, value, f"use one of {', '.join(self.choices)}")
            return value if t is ParamType.TEXT else value.strip()
        if t is ParamType.INT:
            if isinstance(value, bool):
                raise InputError(self.key, value, "must be a whole number")
            try:
                return int(value)
            except (TypeError, ValueError):
                raise InputError(self.key, value, "must be a whole number") from None
        if t is ParamType.BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise InputError(self.key, value, "must be true or false")
        if t is ParamType.LIST:
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return list(value)
            raise InputError(self.key, value, "must be a list of text")
        if t is ParamType.JSON:
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise InputError(self.key, value, f"not valid JSON ({exc.msg})") from None
            if not isinstance(value, (dict, list)):
                raise InputError(self.key, value, "must be a JSON object or array")
            return value
        raise AssertionError(t)


@dataclass(frozen=True)
class Action:
    """Something a connection can do (post a message, create an issue); `run(client, params)` does it."""

    id: str
    label: str
    description: str
    params: tuple[ActionParam, ...]
    run: Callable[[Any, dict[str, Any]], Any]
    destination: bool = True  # may be the target of an alert route

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        known = {p.key for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise InputError("param", unknown[0], f"{self.id} takes {', '.join(sorted(known)) or 'no parameters'}")
        return {p.key: p.coerce(params.get(p.key)) for p in self.params}


@dataclass(frozen=True)
class ConnectionTest:
    """The request that proves a credential works and the rule that says it did (shown in the UI and docs)."""

    request: str   # e.g. "POST /api/auth.test"
    rule: str      # e.g. "HTTP 200 and ok: true"


@dataclass(frozen=True)
class IntegrationSpec:
    """One service. `client(conn)` builds its client over a resolved connection (see `connection.py`)."""

    id: str
    name: str
    category: Category
    description: str
    icon: str
    fields: tuple[CredentialField, ...]
    auth_methods: tuple[AuthMethod, ...]
    base_urls: Mapping[str, str]
    test: ConnectionTest
    actions: tuple[Action, ...]
    client: Callable[[Any], Any]
    docs: str = field(default="")

    def __post_init__(self) -> None:
        if not self.docs:
            object.__setattr__(self, "docs", f"docs/integrations/{self.id}.md")
        keys = {f.key for f in self.fields}
        for m in self.auth_methods:
            missing = set(m.fields) - keys
            assert not missing, f"{self.id}: auth {m.kind} names unknown fields {missing}"

    def field(self, key: str) -> CredentialField:
        return next(f for f in self.fields if f.key == key)

    def auth(self, kind: str | AuthKind | None = None) -> AuthMethod:
        if kind is None:
            return self.auth_methods[0]
        for m in self.auth_methods:
            if m.key == kind or m.kind == kind:
                return m
        raise InputError("auth", kind, f"{self.name} supports {', '.join(m.key for m in self.auth_methods)}")

    def action(self, action_id: str) -> Action:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise InputError("action", action_id, f"{self.name} offers {', '.join(a.id for a in self.actions)}")

    @property
    def secret_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields if f.secret)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "category": self.category.value, "description": self.description,
                "icon": self.icon, "docs": self.docs,
                "auth_methods": [{"id": m.key, "kind": m.kind.value, "label": m.label, "fields": list(m.fields)}
                                 for m in self.auth_methods],
                "fields": [{"key": f.key, "label": f.label, "secret": f.secret, "required": f.required}
                           for f in self.fields],
                "base_urls": dict(self.base_urls),
                "test": {"request": self.test.request, "rule": self.test.rule},
                "actions": [{"id": a.id, "label": a.label, "destination": a.destination,
                             "params": [{"key": p.key, "type": p.type.value, "required": p.required}
                                        for p in a.params]} for a in self.actions]}
