"""Ledger writes on SQLite and PostgreSQL: idempotent upserts, exact money, roll-up consistency, migrations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from aicost_desktop.domain import CostRole, DataSource, TokenUsage, UsageRecord
from aicost_desktop.storage import migrate
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_where, upsert_records
from aicost_desktop.storage.tables import UsageHourly, UsageRow

T0 = datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc)


def rec(i: int, cost: str = "0.0000001234", source: DataSource = DataSource.API, **kw) -> UsageRecord:
    return UsageRecord(source, f"k{i}", kw.pop("provider", "openai"), T0 + timedelta(minutes=37 * i),
                       T0 + timedelta(minutes=37 * i + 1), TokenUsage(input_tokens=10 + i, output_tokens=5),
                       model="gpt-4o-mini", reported_cost=Decimal(cost), **kw)


def sums(db: Database) -> tuple[Decimal, Decimal, int, int]:
    with db.session() as s:
        return (s.scalar(select(func.sum(UsageRow.cost))), s.scalar(select(func.sum(UsageHourly.cost))),
                s.scalar(select(func.count()).select_from(UsageRow)),
                s.scalar(select(func.sum(UsageHourly.rows))))


def test_upsert_is_idempotent_and_exact(db: Database) -> None:
    records = [rec(i) for i in range(2500)]
    first = upsert_records(db, records, page_size=700)
    assert (first.added, first.updated, first.unchanged) == (2500, 0, 0)
    again = upsert_records(db, records, page_size=700)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2500)
    total, rolled, count, rolled_rows = sums(db)
    # 2500 x 1.234e-7 exactly: a float column would have drifted.
    assert total == Decimal("0.0003085000") == rolled
    assert count == 2500 == rolled_rows


def test_changed_rows_update_in_place(db: Database) -> None:
    upsert_records(db, [rec(1), rec(2)])
    res = upsert_records(db, [rec(1, cost="5"), rec(2)])
    assert (res.added, res.updated, res.unchanged) == (0, 1, 1)
    total, rolled, count, _ = sums(db)
    assert total == rolled == Decimal("5.0000001234") and count == 2


def test_same_key_in_other_source_is_another_row(db: Database) -> None:
    upsert_records(db, [rec(1), rec(1, source=DataSource.LOG)])
    assert sums(db)[2] == 2


def test_detail_and_covered_rows_never_count_as_spend(db: Database) -> None:
    upsert_records(db, [
        rec(1, cost="2"),
        UsageRecord(DataSource.API, "usage1", "openai", T0, T0 + timedelta(days=1), computed_cost=Decimal("2"),
                    cost_role=CostRole.DETAIL),
        UsageRecord(DataSource.LOG, "cc1", "anthropic", T0, T0, computed_cost=Decimal("9"),
                    cost_role=CostRole.COVERED),
    ])
    total, rolled, _, _ = sums(db)
    assert total == rolled == Decimal("2")


def test_unpriced_rows_are_flagged_not_zero(db: Database) -> None:
    upsert_records(db, [UsageRecord(DataSource.LOG, "u1", "anthropic", T0, T0, TokenUsage(100, 100),
                                    model="mystery-model")])
    with db.session() as s:
        row = s.scalar(select(UsageRow))
        assert row.reported_cost is None and row.computed_cost is None
        assert s.scalar(select(func.sum(UsageHourly.unpriced_rows))) == 1


def test_delete_refreshes_rollup(db: Database) -> None:
    upsert_records(db, [rec(i) for i in range(10)])
    assert delete_where(db, UsageRow.dedup_key.in_(["k1", "k2"])) == 2
    total, rolled, count, rolled_rows = sums(db)
    assert count == rolled_rows == 8 and total == rolled


def test_failed_page_leaves_previous_pages(sqlite_db: Database) -> None:
    good = [rec(i) for i in range(5)]
    upsert_records(sqlite_db, good)

    def pages():
        yield from [rec(i) for i in range(5, 8)]
        raise RuntimeError("crash mid-iteration")

    with pytest.raises(RuntimeError):
        upsert_records(sqlite_db, pages(), page_size=3)
    total, rolled, count, _ = sums(sqlite_db)
    assert count == 8 and total == rolled


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        UsageRecord(DataSource.API, "k", "openai", datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_migration_backs_up_sqlite_before_upgrading(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a ledger an older version left at the first revision
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    db = Database.open(url, backup_dir=tmp_path / "backups")
    db.dispose()
    backups = list((tmp_path / "backups").glob("*.sqlite3"))
    assert [b.name.split("-")[1] for b in backups] == ["0001"]


def test_unknown_revision_fails_without_a_backup(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    db = Database.open(url, backup_dir=tmp_path / "backups")
    with db.engine.begin() as conn:  # as a newer version of the app leaves it
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    db.dispose()
    from aicost_desktop.domain.errors import OperationError

    for _ in range(2):
        with pytest.raises(OperationError, match=r"newer AI Cost Tracker \(revision 9999_future\)"):
            Database.open(url, backup_dir=tmp_path / "backups")
    assert list((tmp_path / "backups").glob("*")) == []


def test_head_revision_applied(db: Database) -> None:
    assert migrate.current_revision(db.engine) == migrate.head_revision()


def test_bad_database_url_names_the_flag() -> None:
    from aicost_desktop.domain.errors import InputError

    with pytest.raises(InputError, match="db="):
        Database.open("mysql://nope")


def test_http_debug_log_setting_switches_the_request_logger(tmp_path) -> None:
    import logging

    from aicost_desktop.app_context import AppContext

    ctx = AppContext(home=tmp_path)
    assert logging.getLogger("aicost.http").level == logging.INFO
    ctx.settings.set("http_debug_log", True)
    ctx.apply_logging_settings()
    assert logging.getLogger("aicost.http").isEnabledFor(logging.DEBUG)
    ctx.settings.set("http_debug_log", False)
    AppContext(home=tmp_path)
    assert not logging.getLogger("aicost.http").isEnabledFor(logging.DEBUG)
