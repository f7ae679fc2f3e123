"""Stripe against its fake: key headers, revenue from balance transactions (minor units to Decimal), lists with
starting_after, form encoding and Idempotency-Key on writes, errors, retries, Stripe-Signature webhooks."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.signatures import InvalidSignature
from aicost_desktop.integrations.stripe import API_VERSION, form_pairs, to_major
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.stripe import RESTRICTED_KEY, SECRET_KEY, WEBHOOK_SECRET, StripeFake, sign


@pytest.fixture
def stripe():  # type: ignore[no-untyped-def]
    with serving(StripeFake()) as fake:
        yield fake


def _connect(manager, stripe, key: str = RESTRICTED_KEY, name: str = "pay") -> None:  # type: ignore[no-untyped-def]
    manager.connect("stripe", {"api_key": key, "webhook_secret": WEBHOOK_SECRET}, name=name,
                    urls={"api": stripe.base_url})


def test_connection_test_reads_the_balance_with_the_pinned_version(manager, stripe) -> None:
    _connect(manager, stripe)
    assert manager.store.get("pay").status_message == "test mode, 6666.70 USD available"
    req = stripe.requests_to("/v1/balance")[0]
    assert req.header("authorization") == f"Bearer {RESTRICTED_KEY}" and req.header("stripe-version") == API_VERSION
    _connect(manager, stripe, SECRET_KEY, "full")
    assert manager.store.get("full").status_message.endswith("a restricted key (rk_) would be safer")


def test_revenue_sums_charges_refunds_and_fees_per_currency_in_major_units(manager, stripe) -> None:
    _connect(manager, stripe)
    out = manager.run("pay", "revenue", {"days": "7"})
    # 7 days hold charges 0..20 (i/3 + 0.1 days ago), the refund and the JPY charge; the payout is not revenue.
    assert out["USD"] == {"gross": Decimal("420.00"), "refunded": Decimal("5.00"), "fees": Decimal("18.48"),
                          "net": Decimal("396.52"), "charges": 21}
    assert out["JPY"] == {"gross": Decimal(5000), "refunded": Decimal(0), "fees": Decimal(180), "net": Decimal(4820),
                          "charges": 1}
    pages = stripe.requests_to("/v1/balance_transactions")
    assert len(pages) == 1 and int(pages[0].param("created[gte]")) == pytest.approx(time.time() - 7 * 86400, abs=5)
    assert manager.run("pay", "revenue", {"days": "40"})["USD"]["charges"] == 120
    pages = stripe.requests_to("/v1/balance_transactions")[1:]
    assert [p.param("limit") for p in pages] == ["100", "100"]
    assert pages[0].param("starting_after") is None
    assert pages[1].param("starting_after") == stripe.transactions[99]["id"]  # the last item of page one


def test_lists_follow_starting_after_and_filter(manager, stripe) -> None:
    _connect(manager, stripe)
    txns = manager.run("pay", "balance_transactions", {"days": "60", "limit": "150"})
    assert len(txns) == 123 and txns[0]["created"] >= txns[-1]["created"]
    pages = stripe.requests_to("/v1/balance_transactions")
    assert pages[1].param("starting_after") == txns[99]["id"] and pages[1].param("limit") == "50"
    refunds = manager.run("pay", "balance_transactions", {"type": "refund"})
    assert [(t["type"], t["amount"], t["net"]) for t in refunds] == [("refund", Decimal("-5.00"), Decimal("-5.00"))]
    assert [c["email"] for c in manager.run("pay", "customers", {"email": "user1@example.com"})] == ["user1@example.com"]


def test_writes_are_form_encoded_with_an_idempotency_key_and_a_read_only_key_is_refused(manager, stripe) -> None:
    _connect(manager, stripe)
    with pytest.raises(E.PermissionDenied, match="rak_payment_intent_write") as err:
        manager.run("pay", "create_payment_intent", {"amount": "1099", "currency": "USD"})
    assert "restricted key" in err.value.hint and SECRET_KEY not in str(err.value)
    _connect(manager, stripe, SECRET_KEY, "full")
    out = manager.run("full", "create_payment_intent", {"amount": "1099", "currency": "USD",
                                                        "customer": "cus_QXg1o8vcGmoR01",
                                                        "metadata": '{"budget": "team"}'})
    assert out["status"] == "requires_payment_method" and out["amount"] == Decimal("10.99") and "client_secret" not in out
    req = [r for r in stripe.requests if r.method == "POST"][-1]
    assert req.header("content-type") == "application/x-www-form-urlencoded" and req.header("idempotency-key")
    assert dict(parse_qsl(req.body.decode())) == {
        "amount": "1099", "currency": "usd", "customer": "cus_QXg1o8vcGmoR01",
        "automatic_payment_methods[enabled]": "true", "metadata[source]": "aicost-desktop", "metadata[budget]": "team"}
    sub = manager.run("full", "create_subscription", {"customer": "cus_QXg1o8vcGmoR00",
                                                      "price": "price_1MowQULkdIwHu7ixraBm864M"})
    assert sub["status"] == "active"
    form = dict(parse_qsl([r for r in stripe.requests if r.method == "POST"][-1].body.decode()))
    assert form["items[0][price]"] == "price_1MowQULkdIwHu7ixraBm864M" and form["items[0][quantity]"] == "1"
    listed = manager.run("pay", "subscriptions", {})
    assert listed[0]["items"] == [{"price": "price_1MowQULkdIwHu7ixraBm864M", "quantity": 1, "currency": "USD",
                                   "unit_amount": Decimal("49.00"), "interval": "month"}]
    with pytest.raises(E.InvalidRequest, match=r"No such price: 'price_nope' \(param items\[0\]\[price\]\)"):
        manager.run("full", "create_subscription", {"customer": "cus_QXg1o8vcGmoR00", "price": "price_nope"})


def test_a_retried_post_reuses_its_key_and_stripe_replays_instead_of_charging_twice(manager, stripe, waits) -> None:
    _connect(manager, stripe, SECRET_KEY)
    stripe.inject(stripe.lock_timeout())
    manager.run("pay", "create_payment_intent", {"amount": "2000", "currency": "usd"})
    stripe.inject(stripe.server_error("true"))
    manager.run("pay", "create_payment_intent", {"amount": "3000", "currency": "usd"})
    posts = [r for r in stripe.requests if r.method == "POST"]
    assert len(posts) == 4 and posts[0].header("idempotency-key") == posts[1].header("idempotency-key")
    assert posts[2].header("idempotency-key") == posts[3].header("idempotency-key") != posts[0].header("idempotency-key")
    assert len(stripe.payment_intents) == 2 and waits == [0.5, 0.5]
    stripe.inject(stripe.server_error("false"))
    with pytest.raises(E.ServiceUnavailable):
        manager.run("pay", "create_payment_intent", {"amount": "4000", "currency": "usd"})
    assert len([r for r in stripe.requests if r.method == "POST"]) == 5  # Stripe-Should-Retry: false obeyed


def test_rate_limit_backs_off_and_errors_say_what_to_do(manager, stripe, waits) -> None:
    _connect(manager, stripe)
    stripe.inject(stripe.rate_limited(), times=2)
    assert manager.run("pay", "balance", {})["livemode"] is False
    assert waits == [0.5, 1.0]  # no Retry-After from Stripe: exponential backoff
    with pytest.raises(E.AuthFailed, match=r"Invalid API Key provided: rk_test_\*+") as err:
        manager.connect("stripe", {"api_key": "rk_test_wrongwrongwrong1234"}, name="bad", urls={"api": stripe.base_url})
    assert "wrongwrong" not in str(err.value) and "restricted key" in err.value.hint
    from aicost_desktop.domain.errors import InputError
    with pytest.raises(InputError, match="publishable"):
        manager.connect("stripe", {"api_key": "pk_test_abc"}, urls={"api": stripe.base_url})


def test_stripe_signature_webhooks_good_bad_and_stale(manager, stripe) -> None:
    _connect(manager, stripe)
    client = manager.open("pay")
    body = json.dumps({"id": "evt_1", "type": "invoice.paid", "data": {"object": {"amount_paid": 4900}}}).encode()
    assert client.verify_webhook(body, sign(body))["type"] == "invoice.paid"
    now = int(time.time())
    # Stripe sends several v1 signatures while a secret is rolled: any one matching is enough.
    rolled = sign(body, "whsec_old", now) + "," + sign(body, t=now).split(",")[1]
    assert client.verify_webhook(body, rolled)["id"] == "evt_1"
    with pytest.raises(InvalidSignature, match="does not match"):
        client.verify_webhook(body.replace(b"4900", b"4901"), sign(body))
    with pytest.raises(InvalidSignature, match="replay"):
        client.verify_webhook(body, sign(body, t=now - 301))
    with pytest.raises(InvalidSignature, match="no t= or v1="):
        client.verify_webhook(body, None)


def test_encoding_and_currency_units() -> None:
    assert form_pairs({"a": {"b": True, "c": None}, "expand": ["x", "y"], "n": 3}) == [
        ("a[b]", "true"), ("expand[0]", "x"), ("expand[1]", "y"), ("n", "3")]
    assert to_major(1099, "usd") == Decimal("10.99") and to_major(500, "JPY") == Decimal(500)
    assert to_major(1234, "kwd") == Decimal("1.234")
