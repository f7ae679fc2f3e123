"""The gateway as a runtime service, without Qt: off by default, started from the settings by `Runtime.start`,
toggled, stopped by `Runtime.stop`; its events report calls and blocking budgets."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from aicost_desktop.accounts import add_account
from aicost_desktop.budgets.model import BudgetSpec, add_budget, find_budget, update_budget
from aicost_desktop.config import Settings
from aicost_desktop.domain.errors import InputError
from aicost_desktop.runtime import GatewayOptions, GatewayService, Runtime
from aicost_desktop.storage.tables import UsageRow
from tests.unit.gateway.fake_upstream import FakeUpstream
from tests.unit.gateway.fixtures import CHAT, configured, free_port, upstream  # noqa: F401 - fixtures
from tests.unit.runtime.recorder import Recorder



@pytest.fixture
def rt(configured: Any) -> Iterator[Runtime]:
    runtime = Runtime(configured, alert_interval_s=3600)
    yield runtime
    runtime.stop(wait_s=10)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_gateway_is_off_by_default_and_the_runtime_starts_without_it(ctx: Any) -> None:
    runtime = Runtime(ctx, alert_interval_s=3600)
    try:
        runtime.start()
        assert runtime.gateway.enabled is False and ctx.settings.get("gateway_port") == 8788
        assert not runtime.gateway.running and runtime.gateway.base_url is None
        assert runtime.gateway.recent() == [] and runtime.gateway.blocking() == []
    finally:
        assert runtime.stop(wait_s=10)
    assert runtime.gateway.host is None  # no server was ever built


def test_enabled_in_the_settings_it_serves_reports_calls_and_stops_with_the_runtime(
        rt: Runtime, configured: Any, upstream: FakeUpstream) -> None:
    configured.settings.set("gateway_enabled", True)
    rec = Recorder()
    rec.listen(rt.gateway.state_changed, "state")
    rec.listen(rt.gateway.call_recorded, "call")
    rt.start()
    rec.wait(lambda r: bool(r.of("state")))
    gw = rt.gateway
    assert gw.running and gw.error is None
    port = configured.settings.get("gateway_port")
    assert gw.base_url == f"http://127.0.0.1:{port}"
    token = gw.host.token if gw.host else None
    assert token
    for project in ("a", "b"):
        r = httpx.post(f"{gw.base_url}/openai/v1/chat/completions", json=CHAT, timeout=10,
                       headers={"X-AICost-Token": token, "X-AICost-Project": project, "X-Fake-Prompt": "1000",
                                "X-Fake-Output": "500"})
        assert r.status_code == 200
    rec.wait(lambda r: len(r.of("call")) == 2)
    (first,), (second,) = rec.of("call")
    assert (first["project"], second["project"]) == ("a", "b")
    # gpt-4o-mini: $0.15 / $0.60 per million input / output tokens.
    assert first["model"] == "gpt-4o-mini" and first["tokens"] == 1500
    assert Decimal(first["cost"]) == Decimal("0.00045") and first["status"] == 200
    assert [c["project"] for c in gw.recent()] == ["b", "a"]  # newest first
    with configured.db.session() as s:  # call_recorded comes after the row is committed
        assert s.scalar(select(func.count()).select_from(UsageRow).where(UsageRow.source == "proxy")) == 2
    assert rt.stop(wait_s=10)
    assert not gw.running and not listening(port)
    assert len(rec.of("state")) == 2  # started, stopped
    gw.want(True)  # a stopped runtime's gateway stays off
    assert not gw.running


def test_the_toggle_saves_the_setting_and_starts_and_stops_on_a_job(rt: Runtime, configured: Any) -> None:
    rec = Recorder()
    rec.listen(rt.gateway.state_changed, "state")
    rt.start()
    assert not rt.gateway.running
    rt.gateway.set_enabled(True)
    rec.wait(lambda r: len(r.of("state")) == 1)
    assert rt.gateway.running and Settings(configured.paths.settings).get("gateway_enabled") is True
    rt.gateway.set_enabled(False)
    rec.wait(lambda r: len(r.of("state")) == 2)
    assert not rt.gateway.running and Settings(configured.paths.settings).get("gateway_enabled") is False
    assert not listening(configured.settings.get("gateway_port"))


def test_a_taken_port_is_an_error_on_the_service_not_a_failed_runtime(rt: Runtime, configured: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        configured.settings.set("gateway_port", taken.getsockname()[1])
        configured.settings.set("gateway_enabled", True)
        rec = Recorder()
        rec.listen(rt.gateway.state_changed, "state")
        rt.start()
        rec.wait(lambda r: bool(r.of("state")))
        assert not rt.gateway.running
        assert rt.gateway.error and f"127.0.0.1:{taken.getsockname()[1]}" in rt.gateway.error
    rt.gateway.want(True)  # the port is free again: a retry starts it
    rec.wait(lambda r: len(r.of("state")) == 2)
    assert rt.gateway.running and rt.gateway.error is None


def test_a_block_budget_reached_shows_in_blocking_and_raising_it_clears_that(rt: Runtime, configured: Any) -> None:
    add_budget(configured.db, BudgetSpec.build(name="cap", amount="0.0001", on_exceed="block"))
    rec = Recorder()
    rec.listen(rt.gateway.state_changed, "state")
    rec.listen(rt.alerts.evaluated, "evaluated")
    rt.start()
    rt.gateway.start()
    gw = rt.gateway
    assert gw.blocking() == []
    h = {"X-AICost-Token": gw.host.token if gw.host and gw.host.token else "", "X-Fake-Prompt": "1000",
         "X-Fake-Output": "500"}
    assert httpx.post(f"{gw.base_url}/openai/v1/chat/completions", json=CHAT, headers=h).status_code == 200
    rec.wait(lambda r: len(r.of("state")) == 2)  # started; then the committed row reached the limit
    assert gw.blocking() == ["cap"]
    assert httpx.post(f"{gw.base_url}/openai/v1/chat/completions", json=CHAT, headers=h).status_code == 429
    b = find_budget(configured.db, "cap")
    update_budget(configured.db, b.id, BudgetSpec.from_row(b).with_(amount=Decimal("5")))
    rt.alerts.evaluate_now()  # what the GUI does after a budget edit; the gateway re-reads its budgets
    rec.wait(lambda r: len(r.of("state")) == 3)
    assert gw.blocking() == []
    assert httpx.post(f"{gw.base_url}/openai/v1/chat/completions", json=CHAT, headers=h).status_code == 200


def test_settings_and_options_choose_the_key_mode_and_errors_name_the_field(configured: Any) -> None:
    work = add_account(configured.db, configured.secrets, "openai", "work", "sk-proj-stored-key-abcdef123456")
    add_account(configured.db, configured.secrets, "anthropic", "claude", "sk-ant-api03-stored-key-abcdef123456")
    service = GatewayService(configured)
    assert service.config().inject_accounts == {}  # pass-through unless a setting or flag says otherwise
    configured.settings.set("gateway_inject_openai", "work")
    assert service.config().inject_accounts == {"openai": work}
    assert service.config(GatewayOptions(inject={"openai": ""})).inject_accounts == {}  # --pass-through-openai
    cfg = service.config(GatewayOptions(port=0, upstreams={"openai": "http://127.0.0.1:9/v1"}))
    assert cfg.port == 0 and cfg.upstreams["openai"] == "http://127.0.0.1:9/v1"
    configured.settings.set("gateway_inject_anthropic", "work")
    with pytest.raises(InputError, match="gateway_inject_anthropic='work': holds a openai key"):
        service.config()
    configured.settings.set("gateway_inject_anthropic", "nobody")
    with pytest.raises(InputError, match="gateway_inject_anthropic='nobody': no such account"):
        service.config()
    with pytest.raises(InputError, match="inject-anthropic='ghost'"):
        service.config(GatewayOptions(inject={"anthropic": "ghost"}))
