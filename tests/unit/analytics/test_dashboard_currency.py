"""The Analytics dock's figures (load_analytics) are all in the display currency, converted with the user's rates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.analytics.dashboard import AnalyticsQuery, anomaly_notes, load_analytics
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.errors import InputError
from aicost_desktop.storage.ledger import upsert_records
from tests.unit.analytics.ledger_data import add_account

TODAY = date(2026, 3, 20)
UTC = ZoneInfo("UTC")
FX = {"USD": Decimal(1), "EUR": Decimal("1.08"), "JPY": Decimal("0.0067")}
CENT = Decimal("0.01")


def _eur(usd: Decimal) -> Decimal:
    return (usd / Decimal("1.08")).quantize(CENT)


@pytest.fixture
def ledger(sqlite_db):  # type: ignore[no-untyped-def]
    """60 days of USD provider spend (reported, with a computed detail row for reconciliation), a spike 5 days
    ago, a manual entry typed in EUR and a USD monthly budget."""
    acc = add_account(sqlite_db, "prod", "openai")
    recs = []
    for i in range(60):
        d = TODAY - timedelta(days=59 - i)
        day = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        amount = Decimal("200") if d == TODAY - timedelta(days=5) else Decimal("10") + Decimal(i % 7) / 4
        recs.append(UsageRecord(DataSource.API, f"c{i}", "openai", day, day + timedelta(days=1), model="gpt-5",
                                account_id=acc, reported_cost=amount))
        recs.append(UsageRecord(DataSource.API, f"u{i}", "openai", day, day + timedelta(days=1), model="gpt-5",
                                account_id=acc, computed_cost=amount * Decimal("1.05"), cost_role=CostRole.DETAIL))
    at = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    recs.append(UsageRecord(DataSource.MANUAL, "m1", "midjourney", at, at, reported_cost=Decimal("54.00"),
                            currency="EUR", project="art", note="top-up"))
    upsert_records(sqlite_db, recs)
    add_budget(sqlite_db, BudgetSpec.build(name="All AI", amount="1080"))
    return sqlite_db


def _load(db, currency: str):  # type: ignore[no-untyped-def]
    data = load_analytics(db, UTC, AnalyticsQuery(today=TODAY, currency=currency), fx=FX)
    assert data is not None
    return data


def test_usd_rows_shown_in_eur_are_converted_by_the_rate(ledger) -> None:
    usd, eur = _load(ledger, "USD"), _load(ledger, "EUR")
    assert usd.currency == "USD" and eur.currency == "EUR"
    # The EUR manual entry is 54 EUR = 58.32 USD in the USD view, and itself in the EUR view.
    manual_usd = Decimal("54.00") * Decimal("1.08")
    assert usd.series.total - manual_usd == pytest.approx(eur.series.total * Decimal("1.08") - manual_usd)
    assert eur.series.total.quantize(CENT) == (_eur(usd.series.total - manual_usd) + Decimal("54.00"))
    assert eur.series.total < usd.series.total  # converted, not relabelled
    # Month over month, the month-end projection and the budget line.
    assert eur.mom.this_to_date.quantize(CENT) == _eur(usd.mom.this_to_date - manual_usd) + Decimal("54.00")
    assert eur.mom.last_total.quantize(CENT) == _eur(usd.mom.last_total)
    assert eur.month_forecast.currency == "EUR"
    assert eur.month_forecast.month_projection.quantize(CENT) == _eur(usd.month_forecast.month_projection)
    assert eur.budget == ("All AI", Decimal("1000"))
    # Breakdown by model: the provider rows convert, the EUR entry stays as typed.
    by_key = {r.key: r.cost for r in usd.breakdown}
    eur_by_key = {r.key: r.cost for r in eur.breakdown}
    assert eur_by_key["gpt-5"].quantize(CENT) == _eur(by_key["gpt-5"])
    assert eur_by_key["(none)"] == Decimal("54.00") and by_key["(none)"] == manual_usd
    assert [r.share for r in eur.breakdown] == pytest.approx([r.share for r in usd.breakdown])  # one real spend
    # Reconciliation: both sides converted, the drift (a ratio) the same.
    u, e = usd.reconciliation.models[0], eur.reconciliation.models[0]
    assert (e.day, e.account) == (u.day, u.account)
    assert e.reported.quantize(CENT) == _eur(u.reported) and e.computed.quantize(CENT) == _eur(u.computed)
    assert e.drift_pct == pytest.approx(u.drift_pct)
    # Anomalies: the spike in EUR, and its words in EUR.
    spike = next(a for a in eur.anomalies if a.dimension == "provider")
    assert spike.day == TODAY - timedelta(days=5) and spike.currency == "EUR"
    assert spike.actual == _eur(Decimal("200"))
    note = anomaly_notes(eur.anomalies)[spike.day]
    assert "EUR" in note and "$" not in note
    # The manual entry's chart note: in the display currency, and as typed when that differs.
    assert usd.manual_days[date(2026, 3, 10)] == "art $58.32 (54.00 EUR): top-up"
    assert eur.manual_days[date(2026, 3, 10)] == "art 54.00 EUR: top-up"


def test_the_anomaly_floor_is_five_dollars_in_any_currency(ledger) -> None:
    """A flat $0.50 a day that jumps to $3 is far out of its usual range but $2.50 is not worth telling; in yen
    it is 373 yen, still not (the floor is $5 = 746 yen, not 5 yen)."""
    recs = []
    for i in range(60):
        d = TODAY - timedelta(days=59 - i)
        at = datetime(d.year, d.month, d.day, 9, tzinfo=timezone.utc)
        cost = Decimal("3") if d == TODAY - timedelta(days=2) else Decimal("0.5")
        recs.append(UsageRecord(DataSource.LOG, f"ds{i}", "deepseek", at, at, model="deepseek-chat",
                                computed_cost=cost))
    upsert_records(ledger, recs)
    usd, jpy = _load(ledger, "USD"), _load(ledger, "JPY")
    assert jpy.currency == "JPY" and jpy.series.total.quantize(CENT) == (usd.series.total / FX["JPY"]).quantize(CENT)
    assert {a.day for a in usd.anomalies} == {TODAY - timedelta(days=5)}  # the $190 spike only
    assert {(a.day, a.key) for a in jpy.anomalies} == {(a.day, a.key) for a in usd.anomalies}
    assert all(a.currency == "JPY" for a in jpy.anomalies)


def test_a_currency_without_a_rate_is_named(ledger) -> None:
    with pytest.raises(InputError, match="EUR"):
        load_analytics(ledger, UTC, AnalyticsQuery(today=TODAY, currency="USD"), fx={"USD": Decimal(1)})


def test_a_display_currency_without_a_rate_is_an_error_not_a_rate_of_one() -> None:
    from aicost_desktop.analytics.dashboard import convert

    assert convert(Decimal("10.80"), "EUR", "USD", {"EUR": Decimal("1.08")}) == Decimal("11.6640")  # USD needs none
    assert convert(Decimal("10.80"), "USD", "EUR", FX) == Decimal(10)
    for source, target in (("USD", "GBP"), ("GBP", "USD")):
        with pytest.raises(InputError) as exc:
            convert(Decimal(1), source, target, FX)
        assert exc.value.field == "currency" and exc.value.value == "GBP" and "fx_rates" in str(exc.value)
