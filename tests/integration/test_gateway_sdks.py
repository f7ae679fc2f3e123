"""The official OpenAI and Anthropic Python SDKs, pointed at the gateway as docs/gateway.md says, work unchanged:
answers, streams, usage, 401 and budget 429s surface as the SDKs' own error classes without retries."""

from __future__ import annotations

import time
from typing import Callable

import pytest
from sqlalchemy import select

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow
from tests.unit.gateway.fixtures import catalog, ledger, make_gateway, secrets, upstream  # noqa: F401 - fixtures

HI = [{"role": "user", "content": "hi"}]


def test_openai_and_anthropic_sdks_through_the_gateway(make_gateway: Callable[..., GatewayHost],
                                                       ledger: Database) -> None:
    # Imported here, not at the top: the two SDKs take 3 s to import, which every test process would pay
    # while collecting, not only the one that runs this test.
    import anthropic
    import openai

    gw = make_gateway()
    oc = openai.OpenAI(base_url=gw.base_url + "/openai/v1", api_key="sk-own-openai-key-123456", max_retries=2,
                       default_headers={"X-AICost-Token": gw.token or "", "X-AICost-Project": "invoices"})
    ac = anthropic.Anthropic(base_url=gw.base_url + "/anthropic", api_key="sk-ant-own-key-123456", max_retries=2,
                             default_headers={"X-AICost-Token": gw.token or ""})
    assert oc.chat.completions.create(model="gpt-4o-mini", messages=HI).usage.prompt_tokens == 20  # type: ignore[union-attr]
    chunks = list(oc.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True))
    assert {c.usage for c in chunks} == {None}  # the usage chunk the gateway asked for is not shown
    assert oc.responses.create(model="gpt-5", input="hi").usage.input_tokens == 20  # type: ignore[union-attr]
    assert oc.embeddings.create(model="text-embedding-3-small", input="x").usage.prompt_tokens == 8
    assert ac.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=HI).usage.output_tokens == 15  # type: ignore[arg-type]
    with ac.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=HI) as st:  # type: ignore[arg-type]
        assert "".join(st.text_stream) == "abcd" * 5
        assert st.get_final_message().usage.output_tokens == 15
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gw.base_url + "/openai/v1", api_key="x").models.list()
    assert gw.flush()
    with ledger.session() as s:
        got = [(r.line_item, r.input_tokens, r.output_tokens) for r in s.scalars(select(UsageRow).order_by(UsageRow.id))]
    assert got == [("chat.completions", 20, 10)] * 2 + [("responses", 20, 10), ("embeddings", 8, 0)] + [
        ("messages", 25, 15)] * 2

    add_budget(ledger, BudgetSpec.build(name="cap", amount="0.0001", on_exceed="block"))
    gw.reload_budgets()
    t = time.perf_counter()
    with pytest.raises(openai.RateLimitError, match="'cap' reached"):
        oc.chat.completions.create(model="gpt-4o-mini", messages=HI)
    with pytest.raises(anthropic.RateLimitError, match="'cap' reached"):
        ac.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=HI)  # type: ignore[arg-type]
    assert time.perf_counter() - t < 0.5  # x-should-retry: false, so no backoff retries (those take >= 1 s)
