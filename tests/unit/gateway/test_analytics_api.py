"""The analytics API on the gateway: the report's numbers for a period, grouped or by day, behind the token."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import httpx
import pytest

from aicost_desktop.analytics.report import spend_report
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.gateway.analytics_api import analytics_routes, period_days
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records

UTC = ZoneInfo("UTC")


def test_periods() -> None:
    today = date(2026, 3, 15)
    assert period_days({"period": "7d"}, today) == (date(2026, 3, 9), today)
    assert period_days({"period": "1d"}, today) == period_days({"period": "today"}, today) == (today, today)
    assert period_days({}, today) == (date(2026, 3, 1), today)
    assert period_days({"period": "ytd"}, today) == (date(2026, 1, 1), today)
    assert period_days({"from": "2026-02-01", "to": "2026-02-10"}, today) == (date(2026, 2, 1), date(2026, 2, 10))
    for bad in ({"period": "0d"}, {"period": "7"}, {"period": "lastweek"}, {"from": "2026-13-01"},
                {"from": "2026-03-10", "to": "2026-03-01"}):
        with pytest.raises(InputError):
            period_days(bad, today)


def test_the_api_returns_the_reports_numbers(make_gateway: Callable[..., GatewayHost], ledger: Database) -> None:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    recs = [UsageRecord(DataSource.API, f"k{i}", prov, now - timedelta(days=i), now - timedelta(days=i, minutes=-5),
                        usage=TokenUsage(input_tokens=100 * i, output_tokens=7, requests=1), model=model,
                        reported_cost=Decimal("0.0123") * (i + 1))
            for i, (prov, model) in enumerate([("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5")] * 5)]
    upsert_records(ledger, recs)
    gw = make_gateway(extra_routes=analytics_routes(ledger, UTC))
    h = {"X-AICost-Token": gw.token or ""}
    today = datetime.now(UTC).date()

    def get(path: str, **params: str) -> httpx.Response:
        return httpx.get(gw.base_url + "/api/analytics/cost" + path, params=params, headers=h, timeout=10)

    total = get("", period="7d").json()
    want = spend_report(ledger, UTC, today - timedelta(days=6), today)
    assert Decimal(total["total_exact"]) == want.total and total["from"] == (today - timedelta(days=6)).isoformat()
    assert total["requests"] == 7 and "rows" not in total
    by = get("/breakdown", period="30d", by="provider").json()
    assert {r["provider"]: Decimal(r["cost_exact"]) for r in by["rows"]} == {
        r.keys["provider"]: r.cost for r in spend_report(ledger, UTC, today - timedelta(days=29), today,
                                                         ["provider"]).rows}
    hist = get("/history", period="30d").json()
    assert len(hist["rows"]) == 10 and all(set(r) >= {"day", "cost_exact"} for r in hist["rows"])
    months = [r["month"] for r in get("/history", period="30d", interval="month").json()["rows"]]
    assert months[-1] == today.strftime("%Y-%m") and months == sorted(set(months))
    assert get("", period="bad").status_code == 400
    assert get("/history", interval="hour").json()["error"]["param"] == "interval"
    assert httpx.get(gw.base_url + "/api/analytics/cost", timeout=10).status_code == 401
    assert httpx.get(gw.base_url + "/api/analytics/cost", headers={"Authorization": f"Bearer {gw.token}"},
                     timeout=10).status_code == 200


def test_a_call_answered_before_the_query_counts_although_another_process_holds_the_write_lock(
        make_gateway: Callable[..., GatewayHost], ledger: Database, tmp_path: Path) -> None:
    gw = make_gateway(extra_routes=analytics_routes(ledger, UTC))
    lock = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN IMMEDIATE")  # a CLI import mid-transaction: the gateway's row waits in its queue
    release = threading.Timer(1.0, lock.execute, ("COMMIT",))
    try:
        call = httpx.post(gw.base_url + "/openai/v1/chat/completions",
                          json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                          headers={"X-AICost-Token": gw.token or "", "X-Fake-Prompt": "1000",
                                   "X-Fake-Output": "100"}, timeout=10)
        assert call.status_code == 200
        release.start()
        got = httpx.get(gw.base_url + "/api/analytics/cost", params={"period": "today"},
                        headers={"X-AICost-Token": gw.token or ""}, timeout=30).json()
    finally:
        if release.is_alive() or release.finished.is_set():
            release.join()
        else:
            lock.execute("COMMIT")
        lock.close()
    assert got["requests"] == 1  # before: 0, the API read the ledger before the queued row was written
    assert Decimal(got["total_exact"]) == Decimal("0.00021")  # 1000 x $0.15 + 100 x $0.60 per MTok
