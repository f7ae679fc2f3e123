"""`IncomingService` in the runtime: on from the setting, a Stripe payment re-reads revenue from the Stripe fake,
a new port restarts it, a taken port is said, the runtime's stop closes it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from aicost_desktop.app_context import AppContext
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.runtime import Runtime
from aicost_desktop.runtime.incoming import Revenue, event_log
from aicost_desktop.secrets import MemorySecretStore
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.stripe import RESTRICTED_KEY, WEBHOOK_SECRET, StripeFake, sign


def _free_ports(n: int = 1) -> list[int]:
    """n distinct free ports (held together while picked, so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def stripe() -> Iterator[StripeFake]:
    with serving(StripeFake()) as fake:
        yield fake


@pytest.fixture
def ctx(tmp_path) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    c = AppContext(home=tmp_path / "home", tz="UTC", secrets=MemorySecretStore())
    yield c
    c.close()


def _wait(event, predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until `predicate()` holds, woken by `event` (a runtime Event) rather than polling a clock."""
    changed = threading.Event()
    off = event.connect(lambda *a: changed.set())
    try:
        while not predicate():
            assert changed.wait(timeout), "no event within the timeout"
            changed.clear()
    finally:
        off()


def _post_event(base: str, type_: str, event_id: str) -> httpx.Response:
    body = json.dumps({"id": event_id, "object": "event", "type": type_,
                       "data": {"object": {"object": "charge", "amount": 2000, "currency": "usd"}}}).encode()
    return httpx.post(f"{base}/hooks/pay", content=body, timeout=10,
                      headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"})


def test_the_runtime_starts_it_from_the_setting_and_a_payment_refreshes_revenue(ctx: AppContext, stripe) -> None:
    m = IntegrationManager(ctx.db, ctx.secrets)
    m.connect("stripe", {"api_key": RESTRICTED_KEY, "webhook_secret": WEBHOOK_SECRET}, name="pay",
              urls={"api": stripe.base_url})
    m.close()
    port, = _free_ports()
    ctx.settings.set("incoming_webhooks_port", port)
    ctx.settings.set("incoming_webhooks_enabled", True)
    rt = Runtime(ctx, alert_interval_s=3600)
    service = rt.incoming
    refreshed: list[tuple[str, Revenue]] = []
    service.revenue_refreshed.connect(lambda name, rev: refreshed.append((name, rev)))
    try:
        rt.start(first_tick_ms=3_600_000)
        _wait(service.state_changed, lambda: service.running)
        assert service.base_url == f"http://127.0.0.1:{port}"
        pages = len(stripe.requests_to("/v1/balance_transactions"))
        assert _post_event(service.base_url, "customer.created", "evt_1").status_code == 200  # not a payment
        assert _post_event(service.base_url, "charge.succeeded", "evt_2").status_code == 200
        _wait(service.revenue_refreshed, lambda: bool(refreshed))
        name, rev = refreshed[0]
        # 30 days of the fake: 90 USD charges of $20.00 less $0.88 fees, a $5.00 refund; the JPY charge.
        assert name == "pay" and rev.by_currency["USD"]["net"] == Decimal("1715.80")
        assert rev.by_currency["JPY"]["net"] == Decimal(4820) and service.revenue("pay") == rev
        assert len(stripe.requests_to("/v1/balance_transactions")) == pages + 1  # one refresh, for the payment
        unsigned = httpx.post(f"{service.base_url}/hooks/pay", content=b"{}", timeout=10)
        assert unsigned.status_code == 401
        assert [(e.event, e.status) for e in service.recent()] == [
            (None, "rejected"), ("charge.succeeded", "accepted"), ("customer.created", "accepted")]
        assert [e.status for e in event_log(ctx).recent()] == ["rejected", "accepted", "accepted"]
    finally:
        rt.stop(wait_s=10)
    assert not service.running
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))


def test_settings_switch_and_move_it_and_a_taken_port_is_said(ctx: AppContext) -> None:
    rt = Runtime(ctx, alert_interval_s=3600)
    service = rt.incoming
    try:
        rt.start(first_tick_ms=3_600_000)
        assert not service.enabled and not service.running  # off by default
        first, second = _free_ports(2)
        ctx.settings.set("incoming_webhooks_port", first)
        ctx.settings.set("incoming_webhooks_enabled", True)
        service.settings_changed(["incoming_webhooks_enabled"])
        _wait(service.state_changed, lambda: service.base_url == f"http://127.0.0.1:{first}")
        ctx.settings.set("incoming_webhooks_port", second)
        service.settings_changed(["incoming_webhooks_port"])
        _wait(service.state_changed, lambda: service.base_url == f"http://127.0.0.1:{second}")
        service.settings_changed(["timezone"])  # nothing of ours: no restart
        assert service.base_url == f"http://127.0.0.1:{second}"
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", first))
            taken.listen()
            ctx.settings.set("incoming_webhooks_port", first)
            service.settings_changed(["incoming_webhooks_port"])
            _wait(service.state_changed, lambda: service.error is not None)
            assert not service.running and f"cannot listen on 127.0.0.1:{first}" in service.error
        ctx.settings.set("incoming_webhooks_enabled", False)
        service.settings_changed(["incoming_webhooks_enabled"])
        assert not service.running
    finally:
        rt.stop(wait_s=10)
