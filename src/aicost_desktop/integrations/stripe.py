"""Stripe: a restricted API key; revenue from balance transactions, customers, subscriptions; verify webhooks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json, retry_after_header
from aicost_desktop.integrations.signatures import InvalidSignature, verify_stripe
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

API_VERSION = "2026-06-24.dahlia"  # stripe-python's pin: response shapes do not move under us
MAX_ITEMS = 2000  # list items followed (100 a page) before we stop
# Amounts are in the currency's smallest unit; these have none, or three decimals (Stripe's currency docs).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
REVENUE_TYPES = frozenset({"charge", "payment"})
REFUND_TYPES = frozenset({"refund", "payment_refund"})


def to_major(amount: int, currency: str) -> Decimal:
    """A Stripe amount (smallest unit) in the currency's major unit: 1099 usd -> 10.99, 500 jpy -> 500."""
    c = currency.lower()
    places = 0 if c in ZERO_DECIMAL else 3 if c in THREE_DECIMAL else 2
    return Decimal(int(amount)).scaleb(-places)


def form_pairs(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's v1 form encoding: nested objects as a[b]=, lists indexed as a[0]=, booleans true/false."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            out += form_pairs(value, name)
        elif isinstance(value, (list, tuple)):
            out += form_pairs({str(i): v for i, v in enumerate(value)}, name)
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        else:
            out.append((name, str(value)))
    return out


class StripeApi(Dialect):
    """2xx is success; errors are `{"error": {type, code, message, param}}`. 429 (or a legacy 400 `rate_limit`) is a
    rate limit with no wait named: exponential backoff. `Stripe-Should-Retry` decides when present; every POST
    carries an Idempotency-Key, so retrying one never charges twice."""

    service = "Stripe"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict) and err.get("message"):
            param = f" (param {err['param']})" if err.get("param") else ""
            return f"{err['message']}{param}", str(err.get("code") or err.get("type") or "") or None
        return super().error_fields(resp)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if resp.status_code == 429 or code == "rate_limit":
            return E.RateLimited
        if resp.status_code == 402:
            return E.InvalidRequest  # a card error: the request was understood and refused
        return super().kind(resp, message, code)

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        return retry_after_header(resp, now)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        if resp.status_code == 401:
            return "Stripe refused the key: create a restricted key (Developers > API keys) and connect again"
        if resp.status_code == 403:
            return "the restricted key lacks the permission the message names: edit the key in Stripe's dashboard"
        if code == "idempotency_error":
            return "an earlier request used the same idempotency key with other parameters: retry as a new request"
        return None

    def may_retry(self, resp: httpx.Response, err: E.IntegrationError, idempotent: bool) -> bool:
        should: str | None = resp.headers.get("stripe-should-retry")
        if should in ("true", "false"):
            return should == "true"
        if resp.status_code == 409:
            return True  # a lock conflict: the SDK retries it
        return super().may_retry(resp, err, idempotent)


class StripeClient:
    def __init__(self, conn: Connection, clock: Callable[[], float] = time.time) -> None:
        self.conn, self.clock = conn, clock
        self.http = conn.http(StripeApi())

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.conn.token('api_key')}", "Stripe-Version": API_VERSION}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.http.request("GET", f"{self.conn.url()}/v1/{path}", headers=self._headers(),
                                 params=form_pairs(params or {}))
        data: dict[str, Any] = resp.json()
        return data

    def _post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        # One key per call, kept across this call's retries: Stripe replays the first answer instead of acting twice.
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded",
                   "Idempotency-Key": str(uuid.uuid4())}
        resp = self.http.request("POST", f"{self.conn.url()}/v1/{path}", headers=headers,
                                 content=urlencode(form_pairs(params)).encode("ascii"), idempotent=True)
        data: dict[str, Any] = resp.json()
        return data

    def _list(self, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Items of a list endpoint, newest first, following `has_more` with `starting_after`."""
        items: list[dict[str, Any]] = []
        params = dict(params)
        while len(items) < min(limit, MAX_ITEMS):
            params["limit"] = min(100, limit - len(items))
            page = self._get(path, params)
            data = page.get("data") or []
            items += data
            if not page.get("has_more") or not data:
                break
            params["starting_after"] = data[-1]["id"]
        return items[:limit]

    def test(self) -> str:
        bal = self.balance()
        shown = ", ".join(f"{b['amount']} {b['currency']}" for b in bal["available"]) or "nothing"
        mode = "live" if bal["livemode"] else "test"
        note = "" if self.conn.require("api_key").startswith("rk_") else "; a restricted key (rk_) would be safer"
        return f"{mode} mode, {shown} available{note}"

    def balance(self) -> dict[str, Any]:
        b = self._get("balance")

        def amounts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"currency": r["currency"].upper(), "amount": to_major(r["amount"], r["currency"])} for r in rows]

        return {"livemode": bool(b.get("livemode")), "available": amounts(b.get("available") or []),
                "pending": amounts(b.get("pending") or [])}

    def balance_transactions(self, days: int = 30, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        if days < 1:
            raise InputError("days", days, "must be at least 1")
        params: dict[str, Any] = {"created": {"gte": int(self.clock()) - days * 86400}, "type": kind}
        return [{"id": t["id"], "type": t.get("type"), "created": t.get("created"),
                 "currency": str(t["currency"]).upper(), "amount": to_major(t["amount"], t["currency"]),
                 "fee": to_major(t.get("fee") or 0, t["currency"]), "net": to_major(t.get("net") or 0, t["currency"]),
                 "description": t.get("description")}
                for t in self._list("balance_transactions", params, limit)]

    def revenue(self, days: int = 30) -> dict[str, dict[str, Any]]:
        """Per currency over the last `days`: gross charges, refunds, Stripe fees and net (what AI spend is set
        against). Payouts, transfers and adjustments are not revenue and are left out."""
        out: dict[str, dict[str, Any]] = {}
        for t in self.balance_transactions(days, None, MAX_ITEMS):
            kind = t["type"]
            if kind not in REVENUE_TYPES | REFUND_TYPES:
                continue
            row = out.setdefault(t["currency"], {"gross": Decimal(0), "refunded": Decimal(0), "fees": Decimal(0),
                                                 "net": Decimal(0), "charges": 0})
            if kind in REVENUE_TYPES:
                row["gross"] += t["amount"]
                row["charges"] += 1
            else:
                row["refunded"] -= t["amount"]  # refunds are negative amounts
            row["fees"] += t["fee"]
            row["net"] += t["net"]
        return out

    def customers(self, limit: int = 100, email: str | None = None) -> list[dict[str, Any]]:
        return [{"id": c["id"], "email": c.get("email"), "name": c.get("name"), "created": c.get("created")}
                for c in self._list("customers", {"email": email}, limit)]

    def subscriptions(self, status: str = "active", limit: int = 100) -> list[dict[str, Any]]:
        out = []
        for s in self._list("subscriptions", {"status": status}, limit):
            items = []
            for it in (s.get("items") or {}).get("data") or []:
                price = it.get("price") or {}
                cur = str(price.get("currency") or "usd")
                items.append({"price": price.get("id"), "quantity": it.get("quantity"), "currency": cur.upper(),
                              "unit_amount": to_major(price.get("unit_amount") or 0, cur),
                              "interval": (price.get("recurring") or {}).get("interval")})
            out.append({"id": s["id"], "customer": s.get("customer"), "status": s.get("status"), "items": items})
        return out

    def create_payment_intent(self, amount: int, currency: str, customer: str | None = None,
                              description: str | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """`amount` in the currency's smallest unit (1099 = $10.99), as Stripe takes it."""
        if amount < 1:
            raise InputError("amount", amount, "must be a positive number of the currency's smallest unit")
        pi = self._post("payment_intents", {"amount": amount, "currency": currency.lower(), "customer": customer,
                                            "description": description,
                                            "automatic_payment_methods": {"enabled": True},
                                            "metadata": {"source": "aicost-desktop", **(metadata or {})}})
        # The client_secret confirms the payment in a browser: it is not ours to print.
        return {"id": pi["id"], "status": pi.get("status"), "amount": to_major(pi["amount"], pi["currency"]),
                "currency": str(pi["currency"]).upper()}

    def create_subscription(self, customer: str, price: str, quantity: int = 1) -> dict[str, Any]:
        sub = self._post("subscriptions", {"customer": customer, "items": [{"price": price, "quantity": quantity}],
                                           "metadata": {"source": "aicost-desktop"}})
        return {"id": sub["id"], "status": sub.get("status"), "customer": sub.get("customer")}

    def verify_webhook(self, body: bytes, signature: str | None, *, now: float | None = None) -> dict[str, Any]:
        """The event of a `Stripe-Signature`d request (t=, v1=, five minutes' tolerance); InvalidSignature if not."""
        secret = self.conn.value("webhook_secret")
        if not secret:
            raise E.CredentialMissing("Stripe", "no webhook signing secret (whsec_...) on this connection",
                                      hint="connect again with the endpoint's signing secret")
        verify_stripe(secret, signature, body, now=self.clock() if now is None else now)
        try:
            event: dict[str, Any] = json.loads(body)
        except ValueError:
            raise InvalidSignature("signed body is not JSON") from None
        return event


_DAYS = ActionParam("days", "Days back", ParamType.INT, default=30)
_LIMIT = ActionParam("limit", "At most", ParamType.INT, default=100)

SPEC = IntegrationSpec(
    id="stripe", name="Stripe", category=Category.PAYMENTS, icon="stripe",
    description="Read revenue (balance transactions), customers and subscriptions to set AI cost against revenue.",
    fields=(
        CredentialField("api_key", "Restricted API key", secret=True, placeholder="rk_live_...",
                        pattern=r"(rk|sk)_(test|live)_[A-Za-z0-9]+",
                        pattern_hint="a Stripe secret or restricted key (rk_live_..., rk_test_...); a publishable "
                                     "key (pk_) cannot read"),
        CredentialField("webhook_secret", "Webhook signing secret", secret=True, required=False,
                        placeholder="whsec_...", pattern=r"whsec_[A-Za-z0-9]+",
                        pattern_hint="the endpoint's signing secret starts with whsec_",
                        help="only to verify incoming Stripe webhooks"),
    ),
    auth_methods=(AuthMethod(AuthKind.BEARER_TOKEN, "Restricted API key", ("api_key", "webhook_secret")),),
    base_urls={"api": "https://api.stripe.com"},
    test=ConnectionTest("GET /v1/balance", "HTTP 200 with the balance object (livemode says test or live)"),
    actions=(
        Action("revenue", "Revenue", "Gross, refunds, fees and net per currency over the last days", (_DAYS,),
               lambda c, p: c.revenue(p["days"]), destination=False),
        Action("balance", "Balance", "Available and pending balance", (), lambda c, p: c.balance(), destination=False),
        Action("balance_transactions", "Balance transactions", "Charges, refunds, payouts... of the last days",
               (_DAYS, ActionParam("type", "Type", help="charge, refund, payout..."), _LIMIT),
               lambda c, p: c.balance_transactions(p["days"], p["type"], p["limit"]), destination=False),
        Action("customers", "Customers", "Customers, newest first", (_LIMIT, ActionParam("email", "Email")),
               lambda c, p: c.customers(p["limit"], p["email"]), destination=False),
        Action("subscriptions", "Subscriptions", "Subscriptions and their prices",
               (ActionParam("status", "Status", default="active"), _LIMIT),
               lambda c, p: c.subscriptions(p["status"], p["limit"]), destination=False),
        # Writes exist for completeness; no alert route may trigger them (destination=False).
        Action("create_payment_intent", "Create a payment intent", "A PaymentIntent (amount in the smallest unit)",
               (ActionParam("amount", "Amount (smallest unit)", ParamType.INT, required=True),
                ActionParam("currency", "Currency", required=True), ActionParam("customer", "Customer id"),
                ActionParam("description", "Description"), ActionParam("metadata", "Metadata (JSON)", ParamType.JSON)),
               lambda c, p: c.create_payment_intent(p["amount"], p["currency"], p["customer"], p["description"],
                                                    p["metadata"]), destination=False),
        Action("create_subscription", "Create a subscription", "Subscribe a customer to a price",
               (ActionParam("customer", "Customer id", required=True), ActionParam("price", "Price id", required=True),
                ActionParam("quantity", "Quantity", ParamType.INT, default=1)),
               lambda c, p: c.create_subscription(p["customer"], p["price"], p["quantity"]), destination=False),
    ),
    client=StripeClient,
)
