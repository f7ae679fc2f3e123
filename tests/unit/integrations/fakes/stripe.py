"""Fake Stripe v1: Bearer or Basic key, form-encoded bodies with bracket notation, lists, idempotency, errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from urllib.parse import parse_qsl, urlencode

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
RESTRICTED_KEY = "rk_test_51PgaxNB7WZ01zgkWreadonly0123456789abcdef"
WEBHOOK_SECRET = "whsec_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
READ_ONLY = {"GET"}  # the restricted key's permissions: reads only
JSON_TYPE = "application/json"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, t: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<ts>,v1=<hex HMAC-SHA256(secret, '{t}.{payload}')>."""
    ts = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def parse_form(body: str) -> dict:
    """Bracket notation into nested objects; objects keyed 0..n become lists (Stripe's own decoding)."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value

    def listify(obj):  # type: ignore[no-untyped-def]
        if isinstance(obj, dict):
            obj = {k: listify(v) for k, v in obj.items()}
            if obj and all(k.isdigit() for k in obj):
                return [obj[str(i)] for i in range(len(obj))]
        return obj

    return listify(root)


def _txn(i: int, now: int, kind: str, amount: int, fee: int, currency: str = "usd", days_ago: float = 0) -> dict:
    return {"id": f"txn_{i:04d}PgaxNB7WZ01zgkWEV3TLf", "object": "balance_transaction", "amount": amount,
            "available_on": now, "balance_type": "payments", "created": int(now - days_ago * 86400),
            "currency": currency, "description": f"{kind} {i}", "exchange_rate": None, "fee": fee,
            "fee_details": [], "net": amount - fee, "reporting_category": kind, "source": f"ch_{i:04d}",
            "status": "available", "type": kind}


class StripeFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        now = int(time.time())
        self.keys = {SECRET_KEY: {"GET", "POST"}, RESTRICTED_KEY: READ_ONLY}
        # Newest first, as Stripe lists: 120 USD charges over 40 days, a refund, a payout, a JPY charge.
        txns = [_txn(i, now, "charge", 2000, 88, days_ago=i / 3 + 0.1) for i in range(120)]
        txns += [_txn(500, now, "refund", -500, 0, days_ago=2.5), _txn(501, now, "payout", -10000, 0, days_ago=3.5),
                 _txn(502, now, "charge", 5000, 180, "jpy", days_ago=1.5)]
        self.transactions = sorted(txns, key=lambda t: -t["created"])
        self.customers = [{"id": f"cus_QXg1o8vcGmoR{i:02d}", "object": "customer", "balance": 0,
                           "created": now - i * 3600, "currency": "usd", "default_source": None, "delinquent": False,
                           "description": None, "email": f"user{i}@example.com", "invoice_prefix": f"7FE110{i}",
                           "livemode": False, "metadata": {}, "name": f"User {i}", "phone": None,
                           "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None}
                          for i in range(3)]
        self.prices = {"price_1MowQULkdIwHu7ixraBm864M": {"id": "price_1MowQULkdIwHu7ixraBm864M", "object": "price",
                                                           "currency": "usd", "unit_amount": 4900,
                                                           "recurring": {"interval": "month", "interval_count": 1}}}
        self.subscriptions: list[dict] = []
        self.payment_intents: list[dict] = []
        self.idempotency: dict[str, tuple[dict, FakeResponse]] = {}

    # ---- envelopes ---------------------------------------------------------------------
    @staticmethod
    def _json(obj: dict, status: int = 200, extra: dict | None = None) -> FakeResponse:
        return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": JSON_TYPE,
                                                               "Request-Id": "req_" + secrets.token_hex(7),
                                                               **(extra or {})})

    def error(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None,
              extra: dict | None = None) -> FakeResponse:
        err: dict = {"type": type_, "message": message, "request_log_url": "https://dashboard.stripe.com/test/logs/req_x"}
        if code:
            err["code"] = code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            err["param"] = param
        return self._json({"error": err}, status, extra)

    def rate_limited(self) -> FakeResponse:
        return self.error(429, "invalid_request_error", "Request rate limit exceeded. Learn more about rate limits "
                          "here https://stripe.com/docs/rate-limits.", "rate_limit")

    def lock_timeout(self, should_retry: str | None = None) -> FakeResponse:
        extra = {"Stripe-Should-Retry": should_retry} if should_retry else None
        return self.error(409, "invalid_request_error", "This object cannot be accessed right now because another "
                          "API request or Stripe process is currently accessing it.", "lock_timeout", extra=extra)

    def server_error(self, should_retry: str | None = None) -> FakeResponse:
        extra = {"Stripe-Should-Retry": should_retry} if should_retry else None
        return self.error(500, "api_error", "An unknown error occurred", extra=extra)

    # ---- routing -----------------------------------------------------------------------
    def _key(self, req: FakeRequest) -> str | None:
        auth = req.header("authorization") or ""
        if auth.startswith("Bearer "):
            return auth[7:]
        if auth.startswith("Basic "):
            return base64.b64decode(auth[6:]).decode().partition(":")[0]
        return None

    def handle(self, req: FakeRequest) -> FakeResponse:
        key = self._key(req)
        if key not in self.keys:
            masked = (key or "")[:8] + "*" * max(0, len(key or "") - 12) + (key or "")[-4:]
            return self.error(401, "invalid_request_error", f"Invalid API Key provided: {masked}")
        if req.method not in self.keys[key]:
            return self.error(403, "invalid_request_error", f"The provided key '{key[:8]}***{key[-4:]}' does not "
                              "have the required permissions for this endpoint on account 'acct_1PgaxNB7WZ01zgkW'. "
                              "Having the 'rak_payment_intent_write' permission would allow this request to continue.")
        path = req.path
        if req.method == "POST":
            if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
                return self.error(400, "invalid_request_error", "Invalid request (check that your POST content type "
                                  "is application/x-www-form-urlencoded). If you have any questions, we can help at "
                                  "https://support.stripe.com/.")
            params = parse_form(req.body.decode())
            ikey = req.header("idempotency-key")
            if ikey and ikey in self.idempotency:
                first, resp = self.idempotency[ikey]
                if first != params:
                    return self.error(400, "idempotency_error", "Keys for idempotent requests can only be used with "
                                      f"the same parameters they were first used with. Try using a key other than "
                                      f"'{ikey}' if you meant to execute a different request.")
                return FakeResponse(resp.status, resp.body, {**resp.headers, "Idempotent-Replayed": "true"})
            resp = self._post(path, params)
            if ikey and resp.status < 500:
                self.idempotency[ikey] = (params, resp)
            return resp
        q = parse_form(urlencode([(k, v) for k, vs in req.query.items() for v in vs]))
        if path == "/v1/balance":
            return self._json({"object": "balance", "livemode": False,
                               "available": [{"amount": 666670, "currency": "usd", "source_types": {"card": 666670}}],
                               "pending": [{"amount": 61414, "currency": "usd", "source_types": {"card": 61414}}],
                               "connect_reserved": [{"amount": 0, "currency": "usd"}]})
        if path == "/v1/balance_transactions":
            items = self.transactions
            if q.get("type"):
                items = [t for t in items if t["type"] == q["type"]]
            return self._list(path, items, q)
        if path == "/v1/customers":
            items = [c for c in self.customers if not q.get("email") or c["email"] == q["email"]]
            return self._list(path, items, q)
        if path == "/v1/subscriptions":
            items = [s for s in self.subscriptions if q.get("status") in (None, "all", s["status"])]
            return self._list(path, items, q)
        return self.error(404, "invalid_request_error", f"Unrecognized request URL (GET: {path}).")

    def _list(self, path: str, items: list[dict], q: dict) -> FakeResponse:
        try:
            limit = int(q.get("limit", 10))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return self.error(400, "invalid_request_error", "This value must be less than or equal to 100.",
                              "parameter_invalid_integer", "limit")
        created = q.get("created") or {}
        if isinstance(created, dict):
            if "gte" in created:
                items = [i for i in items if i["created"] >= int(created["gte"])]
            if "lte" in created:
                items = [i for i in items if i["created"] <= int(created["lte"])]
        if q.get("starting_after"):
            ids = [i["id"] for i in items]
            if q["starting_after"] not in ids:
                return self.error(400, "invalid_request_error", f"No such object: '{q['starting_after']}'",
                                  "resource_missing", "starting_after")
            items = items[ids.index(q["starting_after"]) + 1:]
        return self._json({"object": "list", "url": path, "has_more": len(items) > limit, "data": items[:limit]})

    def _post(self, path: str, p: dict) -> FakeResponse:
        if path == "/v1/payment_intents":
            if "amount" not in p:
                return self.error(400, "invalid_request_error", "Missing required param: amount.",
                                  "parameter_missing", "amount")
            if not str(p["amount"]).isdigit() or int(p["amount"]) < 50:
                return self.error(400, "invalid_request_error", "Amount must be at least $0.50 usd",
                                  "amount_too_small", "amount")
            if p.get("customer") and p["customer"] not in {c["id"] for c in self.customers}:
                return self.error(400, "invalid_request_error", f"No such customer: '{p['customer']}'",
                                  "resource_missing", "customer")
            pid = f"pi_{secrets.token_hex(12)}"
            pi = {"id": pid, "object": "payment_intent", "amount": int(p["amount"]), "amount_capturable": 0,
                  "amount_received": 0,
                  "automatic_payment_methods": {"enabled": p.get("automatic_payment_methods", {}).get("enabled") == "true"},
                  "capture_method": "automatic", "client_secret": f"{pid}_secret_{secrets.token_hex(12)}",
                  "confirmation_method": "automatic", "created": int(time.time()), "currency": p.get("currency"),
                  "customer": p.get("customer"), "description": p.get("description"), "last_payment_error": None,
                  "latest_charge": None, "livemode": False, "metadata": p.get("metadata", {}),
                  "payment_method": None, "payment_method_types": ["card"], "status": "requires_payment_method"}
            self.payment_intents.append(pi)
            return self._json(pi)
        if path == "/v1/subscriptions":
            if p.get("customer") not in {c["id"] for c in self.customers}:
                return self.error(400, "invalid_request_error", f"No such customer: '{p.get('customer')}'",
                                  "resource_missing", "customer")
            items = p.get("items") or []
            if not isinstance(items, list) or not items:
                return self.error(400, "invalid_request_error", "Missing required param: items.",
                                  "parameter_missing", "items")
            for i, it in enumerate(items):
                if it.get("price") not in self.prices:
                    return self.error(400, "invalid_request_error", f"No such price: '{it.get('price')}'",
                                      "resource_missing", f"items[{i}][price]")
            sub = {"id": f"sub_{secrets.token_hex(12)}", "object": "subscription", "customer": p["customer"],
                   "status": "active", "created": int(time.time()), "metadata": p.get("metadata", {}),
                   "items": {"object": "list", "has_more": False,
                             "data": [{"id": f"si_{i}", "object": "subscription_item", "quantity": int(it.get("quantity", 1)),
                                       "price": self.prices[it["price"]]} for i, it in enumerate(items)]}}
            self.subscriptions.insert(0, sub)
            return self._json(sub)
        return self.error(404, "invalid_request_error", f"Unrecognized request URL (POST: {path}).")
