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


def test_a_bulk_page_writes_its_shared_values_as_literals_and_stores_the_same_rows(sqlite_db: Database) -> None:
    """The SQLite bulk insert writes a column with one value in every row into the statement instead of
    binding it per row: a quote in that text, NULL, 0 and a mix of 1 and True (which compare equal but
    are not the same value) must all come back exactly as bound ones would."""
    from aicost_desktop.storage.ledger import INSERT_COLUMNS, _insert_statement, _native_rows, sqlite_time

    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    page = [UsageRecord(source=DataSource.IMPORT, dedup_key=f"k{i}", provider="o'brien", model=f"m{i % 3}",
                        bucket_start=start + timedelta(minutes=i), bucket_end=start + timedelta(minutes=i),
                        usage=TokenUsage(input_tokens=i, output_tokens=7), note="it's \"quoted\"; --",
                        computed_cost=Decimal("0.25"))
            for i in range(100)]
    rows = _native_rows(page, 1, sqlite_time(start))
    ordered = [rows[k] for k in sorted(rows)]
    # A column equal in every row, of mixed types (1 and True): bound, not written as 1.
    mixed = INSERT_COLUMNS.index("requests")
    ordered = [r[:mixed] + ((True if n % 2 else 1),) + r[mixed + 1:] for n, r in enumerate(ordered)]
    sql, values = _insert_statement(ordered)
    assert "'o''brien'" in sql and "NULL" in sql and sql.count("?") < len(INSERT_COLUMNS)
    assert sql.split("VALUES")[1].count("?") == len(INSERT_COLUMNS) - sum(
        1 for i in range(len(INSERT_COLUMNS)) if len({(type(r[i]), r[i]) for r in ordered}) == 1)
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM usage_records")
        conn.connection.cursor().executemany(sql, values)
        cols = ", ".join(INSERT_COLUMNS)
        stored = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM usage_records ORDER BY dedup_key")]
        types = conn.exec_driver_sql("SELECT DISTINCT typeof(requests), typeof(account_id), typeof(note) "
                                     "FROM usage_records").all()
    assert stored == [tuple(int(v) if type(v) is bool else v for v in r) for r in ordered]
    assert [tuple(t) for t in types] == [("integer", "null", "text")]
    # A small page is bound whole: one statement text for any values.
    assert _insert_statement(ordered[:10]) == (_insert_statement([])[0], ordered[:10])


def test_a_bulk_page_meeting_a_stored_key_late_writes_nothing(sqlite_db: Database) -> None:
    """The key that exists sorts last in the page: the rows before it were inserted when the insert
    met it, and are undone with it (the caller then writes the page the general way)."""
    from aicost_desktop.storage.ledger import _insert_new_rows, _native_rows, sqlite_time

    upsert_records(sqlite_db, [rec(999)])  # "k999" sorts after "k000".."k099"
    before = sums(sqlite_db)
    page = [UsageRecord(DataSource.API, f"k{i:03d}", "openai", T0 + timedelta(minutes=i), T0 + timedelta(minutes=i),
                        TokenUsage(input_tokens=i), model="gpt-4o-mini", reported_cost=Decimal("1"))
            for i in range(100)] + [rec(999)]
    assert _insert_new_rows(sqlite_db, _native_rows(page, sqlite_db.default_workspace_id(), sqlite_time(T0))) is None
    assert sums(sqlite_db) == before
    assert upsert_records(sqlite_db, page).added == 100  # the general path writes it
    assert sums(sqlite_db)[2:] == (101, 101)


def test_a_bulk_transaction_sums_its_pages_roll_up_once_and_equals_a_rebuild(sqlite_db: Database) -> None:
    """BulkInserter sums the roll-up cells of the pages in one transaction and writes them before the
    commit. Pages sharing hours and cells, a page whose values are of a type the in-memory roll-up does
    not group (its hours are recomputed from the ledger, after the pending cells are written: else they
    would count twice or not at all), a page rolled back: the roll-up equals a rebuild from the rows."""
    from aicost_desktop.storage import rollup
    from aicost_desktop.storage.ledger import INSERT_COLUMNS, BulkInserter, _native_rows, sqlite_time

    def records(first: int, n: int = 70) -> list[UsageRecord]:  # over about 8 hours, two models
        return [UsageRecord(DataSource.LOG, f"b{first + i:04d}", "anthropic", T0 + timedelta(minutes=7 * i),
                            T0 + timedelta(minutes=7 * i), TokenUsage(input_tokens=first + i, output_tokens=3),
                            model=f"m{i % 2}", project="p", computed_cost=Decimal("0.01") * (i % 5) or None)
                for i in range(n)]

    upsert_records(sqlite_db, records(900, 3))  # stored cells the transaction adds to
    ws = sqlite_db.default_workspace_id()

    def page(first: int, project: object = "p") -> dict:
        rows = _native_rows(records(first), ws, sqlite_time(T0))
        at = INSERT_COLUMNS.index("project")
        return {k: r[:at] + (project,) + r[at + 1:] for k, r in rows.items()}

    def hourly() -> list[tuple]:
        cols = [c.name for c in UsageHourly.__table__.columns if c.name != "id"]
        with sqlite_db.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.exec_driver_sql(f"SELECT {', '.join(cols)} FROM usage_hourly"))

    bulk = BulkInserter(sqlite_db, rows_per_commit=10**6, seconds_per_commit=600)
    assert bulk.insert(page(0)).added == 70
    assert bulk.insert(page(100)).added == 70
    assert bulk.insert(page(200, project=7)).added == 70  # stored as text '7': hours recomputed
    assert bulk.insert(page(300)).added == 70
    bulk.close()
    assert bulk.insert(page(400)).added == 70
    bulk.abort()
    written = hourly()
    with sqlite_db.write_session() as s:
        rollup.rebuild(s)
    assert written == hourly()
    assert sums(sqlite_db)[2:] == (283, 283)
    assert len(written) > 20  # hours x models x projects: cells shared by pages
