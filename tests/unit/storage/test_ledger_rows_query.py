"""storage.queries.ledger_page / ledger_total: one row per thing paid for (a provider's usage and cost reports of
a model-day fold into one), pages that never split a model-day, sources and dates combined, the filter's total."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.manual import ManualEntry, add_entry, add_subscription
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.queries import ledger_has_rows, ledger_page, ledger_total
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.storage.tables import Account
from aicost_desktop.sync.base import AccountInfo
from aicost_desktop.sync.openai import parse_costs_page, parse_usage_page

UTC = timezone.utc
TZ = ZoneInfo("Europe/Berlin")
DAY = datetime(2025, 5, 6, tzinfo=UTC)


def _account(db, name: str = "OpenAI prod") -> AccountInfo:  # type: ignore[no-untyped-def]
    with db.write_session() as s:
        acc = Account(name=name, provider="openai", workspace_id=db.default_workspace_id())
        s.add(acc)
        s.flush()
        return AccountInfo(acc.id, name, "openai", "", db.default_workspace_id(), "sk-test")


def _price(model, usage, tier, day):  # type: ignore[no-untyped-def]
    return Decimal(usage.input_tokens) * Decimal("0.000002") + Decimal(usage.output_tokens) * Decimal("0.000008")


def _openai_day(db, acct: AccountInfo, day: datetime, models: dict[str, tuple[int, int, str, str]]) -> None:  # type: ignore[no-untyped-def]
    """What OpenAI's /organization/usage/completions and /organization/costs return for one day (their wire
    format), parsed by our sync: per model a usage result (tokens) and an input and an output cost line item."""
    t0, t1 = int(day.timestamp()), int((day + timedelta(days=1)).timestamp())
    usage = {"object": "page", "data": [{"object": "bucket", "start_time": t0, "end_time": t1, "results": [
        {"object": "organization.usage.completions.result", "input_tokens": tin, "output_tokens": tout,
         "input_cached_tokens": 0, "num_model_requests": 3, "model": model, "project_id": "proj_a"}
        for model, (tin, tout, _i, _o) in models.items()]}]}
    costs = {"object": "page", "data": [{"object": "bucket", "start_time": t0, "end_time": t1, "results": [
        r for model, (_a, _b, cin, cout) in models.items() for r in (
            {"object": "organization.costs.result", "amount": {"value": cin, "currency": "usd"},
             "line_item": f"{model}, input", "project_id": "proj_a"},
            {"object": "organization.costs.result", "amount": {"value": cout, "currency": "usd"},
             "line_item": f"{model}, output", "project_id": "proj_a"})]}]}
    upsert_records(db, parse_usage_page(usage, acct, _price) + parse_costs_page(costs, acct))


def _log(key: str, at: datetime, computed: str = "0.40") -> UsageRecord:
    return UsageRecord(DataSource.LOG, key, "anthropic", at, at + timedelta(minutes=20),
                       usage=TokenUsage(input_tokens=100, output_tokens=50), model="claude-sonnet-4-5",
                       computed_cost=Decimal(computed))


def test_a_model_day_with_a_usage_row_and_cost_rows_is_one_row_with_tokens_and_cost(db):
    acct = _account(db)
    _openai_day(db, acct, DAY, {"gpt-4.1": (10_000, 2_000, "0.02", "0.016"), "gpt-5": (1_000, 500, "0.5", "1.25")})
    page = ledger_page(db, TZ)
    assert len(page.rows) == 2 and not page.has_more
    row = next(r for r in page.rows if r.model == "gpt-4.1")
    assert (row.input_tokens, row.output_tokens, row.requests) == (10_000, 2_000, 3)
    assert row.cost == Decimal("0.036") and row.reported_cost == Decimal("0.036")
    assert row.computed_cost == Decimal("0.036")  # our price of its tokens, beside what OpenAI billed
    assert row.cost_role == "spend" and not row.unpriced and row.account == "OpenAI prod"
    assert row.local_date == date(2025, 5, 6) and row.local_time is None  # a dated bucket, in every zone
    # The parts: one usage row (token detail, no money of its own) and the two billed line items.
    assert len(row.parts) == 3 and set(row.ids) == {p.id for p in row.parts}
    assert sorted(p.cost_role for p in row.parts) == ["detail", "spend", "spend"]
    assert sorted(p.line_item for p in row.parts) == ["completions", "gpt-4.1, input", "gpt-4.1, output"]
    assert sum(p.cost for p in row.parts) == row.cost
    assert not row.editable


def test_rows_fold_only_within_one_account_day_and_model(db):
    a, b = _account(db, "OpenAI prod"), _account(db, "OpenAI lab")
    _openai_day(db, a, DAY, {"gpt-4.1": (100, 10, "1", "2")})
    _openai_day(db, a, DAY - timedelta(days=1), {"gpt-4.1": (100, 10, "1", "2")})
    _openai_day(db, b, DAY, {"gpt-4.1": (100, 10, "1", "2")})
    rows = ledger_page(db, TZ).rows
    assert sorted((r.account, r.local_date.day, len(r.parts)) for r in rows) == [
        ("OpenAI lab", 6, 3), ("OpenAI prod", 5, 3), ("OpenAI prod", 6, 3)]
    assert all(r.cost == 3 for r in rows)


def test_usage_without_its_cost_report_yet_stands_alone_as_token_detail(db):
    acct = _account(db)
    t0, t1 = int(DAY.timestamp()), int((DAY + timedelta(days=1)).timestamp())
    usage = {"data": [{"start_time": t0, "end_time": t1, "results": [
        {"input_tokens": 50, "output_tokens": 5, "num_model_requests": 1, "model": "gpt-4.1"}]}]}
    upsert_records(db, parse_usage_page(usage, acct, _price))
    (row,) = ledger_page(db, TZ).rows
    assert row.parts == () and row.cost_role == "detail" and row.cost == 0 and row.input_tokens == 50


def test_subscriptions_and_manual_entries_are_named_by_their_service(db):
    add_subscription(db, "ChatGPT Plus", "20", "monthly", date(2025, 4, 1), provider="openai",
                     today=date(2025, 5, 10))
    add_entry(db, ManualEntry(service="Midjourney", amount="30", entry_date=date(2025, 5, 2)))
    rows = ledger_page(db, TZ).rows
    subs = [r for r in rows if r.source == "subscription"]
    assert [r.label for r in subs] == ["ChatGPT Plus", "ChatGPT Plus"] and all(r.editable for r in subs)
    assert all(r.subscription_id is not None and r.model == "" for r in subs)
    (manual,) = [r for r in rows if r.source == "manual"]
    assert manual.label == "Midjourney" and manual.editable and manual.reported_cost == 30


def test_sources_combine_and_a_date_range_filters(db):
    acct = _account(db)
    _openai_day(db, acct, DAY, {"gpt-4.1": (100, 10, "1", "2")})
    _openai_day(db, acct, DAY - timedelta(days=10), {"gpt-4.1": (100, 10, "1", "2")})
    upsert_records(db, [_log("l1", DAY + timedelta(hours=9)), _log("l2", DAY - timedelta(days=10, hours=-9))])
    add_entry(db, ManualEntry(service="Midjourney", amount="30", entry_date=DAY.date()))

    def sources(flt: LedgerFilter) -> list[str]:
        return sorted(r.source for r in ledger_page(db, TZ, flt).rows)

    assert sources(LedgerFilter(sources=("api", "log"))) == ["api", "api", "log", "log"]
    assert sources(LedgerFilter(sources=("api", "log"), start=DAY.date(), end=DAY.date())) == ["api", "log"]
    assert sources(LedgerFilter(start=DAY.date())) == ["api", "log", "manual"]
    assert sources(LedgerFilter(end=DAY.date() - timedelta(days=1))) == ["api", "log"]
    assert sources(LedgerFilter(sources=("manual",), end=DAY.date() - timedelta(days=1))) == []
    assert ledger_has_rows(db)


def test_the_filters_total_is_the_sum_of_its_rows_and_in_the_display_currency(db):
    acct = _account(db)
    for back in range(4):
        _openai_day(db, acct, DAY - timedelta(days=back), {"gpt-4.1": (100, 10, "1.10", "2.05"),
                                                           "gpt-5": (100, 10, "0.0004", "0.0001")})
    upsert_records(db, [_log(f"l{i}", DAY + timedelta(hours=i), "0.25") for i in range(3)])
    add_entry(db, ManualEntry(service="Invoice", amount="10", currency="EUR", entry_date=DAY.date()))
    fx = {"USD": Decimal(1), "EUR": Decimal("1.10")}
    for flt, text in [(LedgerFilter(), None), (LedgerFilter(sources=("api",)), None),
                      (LedgerFilter(sources=("api", "log"), start=DAY.date() - timedelta(days=1)), None),
                      (LedgerFilter(), "gpt-5")]:
        rows = ledger_page(db, TZ, flt, text=text).rows
        usd = sum((r.cost for r in rows if r.currency == "USD"), Decimal(0))
        eur = sum((r.cost for r in rows if r.currency == "EUR"), Decimal(0))
        assert ledger_total(db, TZ, flt, text=text, currency="USD", fx=fx) == usd + eur * Decimal("1.10")
    assert ledger_total(db, TZ, LedgerFilter(sources=("log",)), fx=fx) == Decimal("0.75")
    assert ledger_total(db, TZ, LedgerFilter(sources=("api",)), fx=fx) == 4 * Decimal("3.1505")
    with pytest.raises(InputError, match="exchange rate"):
        ledger_total(db, TZ, LedgerFilter(), currency="USD", fx={"USD": Decimal(1)})


def test_pages_never_split_a_model_day_and_join_up_to_the_whole_ledger(db):
    acct = _account(db)
    for back in range(6):
        _openai_day(db, acct, DAY - timedelta(days=back), {"gpt-4.1": (100, 10, "1", "2"),
                                                           "gpt-5": (100, 10, "1", "2")})
    whole = ledger_page(db, TZ, limit=10_000).rows
    assert len(whole) == 12 and all(len(r.parts) == 3 for r in whole)
    seen, before, pages = [], None, 0
    while True:
        page = ledger_page(db, TZ, before=before, limit=4)  # 4 of a day's 6 ledger rows: the day is read whole
        assert page.rows and all(len(r.parts) == 3 for r in page.rows)
        seen += page.rows
        pages += 1
        if not page.has_more:
            break
        before = page.oldest
    assert pages == 6 and [r.key for r in seen] == [r.key for r in whole]
    assert [r.at for r in seen] == sorted((r.at for r in seen), reverse=True)
    # A reload through the oldest bucket scrolled in keeps those rows, at most `cap` ledger rows.
    assert len(ledger_page(db, TZ, limit=4, through=DAY - timedelta(days=2)).rows) == 6
    assert len(ledger_page(db, TZ, limit=4, through=DAY - timedelta(days=5), cap=13).rows) == 6


def test_a_text_search_finds_rows_by_account_or_note(db):
    acct = _account(db, "Team key")
    _openai_day(db, acct, DAY, {"gpt-4.1": (100, 10, "1", "2")})
    upsert_records(db, [_log("l1", DAY + timedelta(hours=3))])
    assert [r.source for r in ledger_page(db, TZ, text="team KEY").rows] == ["api"]
    assert [r.source for r in ledger_page(db, TZ, text="sonnet").rows] == ["log"]
    assert ledger_page(db, TZ, text="nothing-like-it").rows == []


def test_an_edited_subscription_lists_its_new_charges_under_the_same_id(db):
    from aicost_desktop.manual import get_subscription, update_subscription

    sub_id = add_subscription(db, "ChatGPT Plus", "20", "monthly", date(2025, 3, 15), provider="openai",
                              today=date(2025, 5, 20))
    update_subscription(db, sub_id, "ChatGPT Pro", "200", "monthly", date(2025, 4, 15), None, "USD", "openai",
                        "upgraded", today=date(2025, 5, 20))
    rows = ledger_page(db, TZ).rows
    assert [(r.label, r.cost, r.local_date) for r in rows] == [
        ("ChatGPT Pro", Decimal(200), date(2025, 5, 15)), ("ChatGPT Pro", Decimal(200), date(2025, 4, 15))]
    assert {r.subscription_id for r in rows} == {sub_id} and get_subscription(db, sub_id).note == "upgraded"
    with pytest.raises(InputError):
        update_subscription(db, sub_id, "", "1", "monthly", date(2025, 4, 15))
