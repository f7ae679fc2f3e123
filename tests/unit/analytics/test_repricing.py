"""repricing.set_price: stores the override under the catalog key, reloads the catalog, reprices the ledger."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.notify.alerts import list_alerts, raise_unpriced_written
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.repricing import set_price
from aicost_desktop.storage import ledger, rollup
from aicost_desktop.storage.tables import PriceOverride, UsageHourly, UsageRow

MTOK = 1_000_000


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


def log_row(key: str, model: str, when: datetime, **kw) -> UsageRecord:  # type: ignore[no-untyped-def]
    usage = kw.pop("usage", TokenUsage(input_tokens=MTOK, output_tokens=MTOK // 2, requests=1))
    return UsageRecord(DataSource.LOG, key, "anthropic", when, when, usage=usage, model=model, **kw)


def rows(db) -> dict[str, tuple[Decimal | None, Decimal]]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return {k: (c, cost) for k, c, cost in s.execute(select(UsageRow.dedup_key, UsageRow.computed_cost,
                                                                UsageRow.cost))}


def hourly(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return sorted(tuple(r) for r in s.execute(select(
            UsageHourly.hour_start, UsageHourly.model, UsageHourly.cost_role, UsageHourly.rows, UsageHourly.cost,
            UsageHourly.computed_cost, UsageHourly.unpriced_rows)))


def test_unknown_model_priced_for_all_dates_reprices_rows_rollup_and_closes_its_alert(sqlite_db) -> None:
    catalog = PriceCatalog.load(db=sqlite_db)
    started = datetime.now(timezone.utc)
    ledger.upsert_records(sqlite_db, [
        log_row("a", "Acme Coder 9", at(1)),
        log_row("b", "Acme Coder 9", at(2), usage=TokenUsage(input_tokens=2 * MTOK, cache_read_tokens=MTOK)),
        log_row("covered", "Acme Coder 9", at(2), cost_role=CostRole.COVERED),
        log_row("reported", "Acme Coder 9", at(3), reported_cost=Decimal("9.99")),
        log_row("other", "claude-opus-4-1", at(3), computed_cost=Decimal("1")),
        UsageRecord(DataSource.MANUAL, "typed", "acme", at(3), at(3), model="Acme Coder 9",
                    reported_cost=Decimal("5")),
    ], page_size=2)
    (alert,) = raise_unpriced_written(sqlite_db, started)
    # The covered row is not spend and the reported one has the provider's figure: two rows lack a price.
    assert alert.message.startswith("2 ledger rows of model Acme Coder 9 have no price — set one")
    seen: list[set[datetime]] = []
    ledger.add_listener(seen.append)
    progress: list[tuple[int, int]] = []
    try:
        done = set_price(sqlite_db, catalog, "Acme Coder 9", input_per_mtok=Decimal("2"),
                         output_per_mtok=Decimal("10"), page_size=2,
                         progress=lambda d, t: progress.append((d, t)))
    finally:
        ledger.remove_listener(seen.append)
    assert (done.model_key, done.effective_from, done.replaced) == ("acme-coder-9", date(1970, 1, 1), False)
    assert done.models == ["Acme Coder 9"] and (done.rows_checked, done.rows_changed) == (4, 4)
    assert progress == [(2, 4), (4, 4)] and done.still_unpriced == 0 and done.alerts_closed == 1
    got = rows(sqlite_db)
    # 1M in at $2 + 0.5M out at $10 = $7; the cache read has no rate of its own: billed as input ($2).
    assert got["a"] == (Decimal("7"), Decimal("7"))
    assert got["b"] == (Decimal("6"), Decimal("6"))
    assert got["covered"] == (Decimal("7"), Decimal("0"))  # paid by a plan: equivalent cost, not spend
    assert got["reported"] == (Decimal("7"), Decimal("9.99"))  # the provider's figure stays the spend
    assert got["other"] == (Decimal("1"), Decimal("1")) and got["typed"] == (None, Decimal("5"))
    # The roll-up equals one rebuilt from the ledger, and the listeners heard about exactly those hours.
    after = hourly(sqlite_db)
    with sqlite_db.write_session() as s:
        rollup.rebuild(s)
    assert after == hourly(sqlite_db)
    assert set().union(*seen) == {at(1), at(2), at(3)}
    (closed,) = list_alerts(sqlite_db, type_="unpriced_model")
    assert closed.acknowledged
    # Priced now: the same model written again does not alert; a new unpriced episode would.
    assert raise_unpriced_written(sqlite_db, started) == []


def test_dated_and_routed_spellings_priced_from_a_date_on(sqlite_db) -> None:
    """A price on `claude-sonnet-4-5` covers the dated id and the router spelling, as the catalog resolves
    them, and only rows dated from its first day (the UTC date the importers price by)."""
    catalog = PriceCatalog.load(db=sqlite_db)
    ledger.upsert_records(sqlite_db, [
        log_row(k, m, at(d), computed_cost=Decimal("10.5"))
        for k, m, d in (("old", "claude-sonnet-4-5-20250929", 9), ("dated", "claude-sonnet-4-5-20250929", 10),
                        ("routed", "anthropic/claude-sonnet-4.5", 11), ("undated", "claude-sonnet-4-5", 12),
                        ("haiku", "claude-haiku-4-5", 12))])
    done = set_price(sqlite_db, catalog, "claude-sonnet-4-5", input_per_mtok=Decimal("1"),
                     output_per_mtok=Decimal("4"), effective_from=date(2026, 3, 10), note="test")
    assert done.model_key == "claude-sonnet-4-5"
    assert done.models == ["anthropic/claude-sonnet-4.5", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"]
    got = rows(sqlite_db)
    assert got["old"] == (Decimal("10.5"), Decimal("10.5"))  # before the price's first day
    for key in ("dated", "routed", "undated"):
        assert got[key] == (Decimal("3"), Decimal("3")), key  # $1 + 0.5M x $4
    assert got["haiku"] == (Decimal("10.5"), Decimal("10.5"))
    assert done.rows_changed == 3
    # The dated spelling resolves to the same user price, as every catalog lookup does: setting it again
    # replaces that row (one override, not two) and leaves nothing to change.
    again = set_price(sqlite_db, catalog, "claude-sonnet-4-5-20250929", input_per_mtok=Decimal("1"),
                      output_per_mtok=Decimal("4"), effective_from=date(2026, 3, 10))
    assert (again.model_key, again.replaced, again.rows_changed) == ("claude-sonnet-4-5", True, 0)
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(PriceOverride)) == 1


@pytest.mark.parametrize("kwargs,field", [
    ({"input_per_mtok": Decimal("-1"), "output_per_mtok": Decimal("1")}, "input_per_mtok"),
    ({"input_per_mtok": Decimal("1"), "output_per_mtok": 1.5}, "output_per_mtok"),
    ({"input_per_mtok": Decimal("1"), "output_per_mtok": None}, "output_per_mtok"),
    ({"input_per_mtok": Decimal("NaN"), "output_per_mtok": Decimal("1")}, "input_per_mtok"),
])
def test_bad_rates_name_the_field_and_store_nothing(sqlite_db, kwargs, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        set_price(sqlite_db, PriceCatalog.load(db=sqlite_db), "gpt-4o", **kwargs)
    assert err.value.field == field
    with pytest.raises(InputError) as err:
        set_price(sqlite_db, PriceCatalog.load(db=sqlite_db), "  ", input_per_mtok=Decimal(1),
                  output_per_mtok=Decimal(1))
    assert err.value.field == "model"
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(PriceOverride)) == 0
