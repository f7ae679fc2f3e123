"""Ids are never handed out twice (SQLite AUTOINCREMENT, PostgreSQL sequences), and migration 0006 gives an
existing ledger that without losing a row or running a foreign key's ON DELETE action."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, event, text

from aicost_desktop.budgets.model import BudgetSpec, add_budget, remove_budget
from aicost_desktop.manual import ManualEntry, add_entry, add_subscription, delete_entry, remove_subscription
from aicost_desktop.storage import migrate
from aicost_desktop.storage.db import Database, _sqlite_pragmas
from aicost_desktop.storage.tables import Base

REUSED_BEFORE = ("workspaces", "accounts", "usage_records", "price_overrides", "subscriptions", "budgets",
                 "cost_alerts")


def _entry(amount: str = "30") -> ManualEntry:
    return ManualEntry(service="Midjourney", amount=amount, entry_date=date(2026, 11, 1))


def test_a_deleted_id_is_never_given_again(db: Database) -> None:
    first = add_entry(db, _entry())
    delete_entry(db, first)
    second = add_entry(db, _entry())
    assert second != first and second > first
    sub = add_subscription(db, "Claude Pro", "20", "monthly", date(2026, 10, 1), today=date(2026, 11, 1))
    remove_subscription(db, sub)
    assert add_subscription(db, "Claude Pro", "20", "monthly", date(2026, 10, 1), today=date(2026, 11, 1)) > sub
    budget = add_budget(db, BudgetSpec.build(name="b", amount="10"))
    remove_budget(db, "b")
    assert add_budget(db, BudgetSpec.build(name="b", amount="10")) > budget


def test_orm_and_migrations_agree_on_autoincrement(sqlite_db: Database) -> None:
    orm = {t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}
    with sqlite_db.engine.connect() as conn:
        migrated = {name for name, sql in conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
                    if "AUTOINCREMENT" in sql}
    # Tables added later (integrations, routing) are created with AUTOINCREMENT by their own migrations.
    assert orm == migrated and set(REUSED_BEFORE) <= orm


def _engine_at(url: str, revision: str):  # type: ignore[no-untyped-def]
    """A SQLite engine (the app's pragmas: foreign keys on) whose ledger is at `revision`."""
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine


def _counts(engine, tables) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_migration_0006_keeps_every_row_index_and_reference(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = _engine_at(url, "0005")
    now = datetime(2026, 11, 1, tzinfo=timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        x = conn.exec_driver_sql
        x("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'default', ?)", (now,))
        x("INSERT INTO accounts (id, name, provider, workspace_id, enabled, status, created_at) "
          "VALUES (1, 'work', 'openai', 1, 1, 'ok', ?)", (now,))
        x("INSERT INTO subscriptions (id, service, amount, currency, period, start_date, workspace_id, is_demo, "
          "created_at) VALUES (1, 'Claude Pro', 200000000000, 'USD', 'monthly', '2026-10-01', 1, 0, ?)", (now,))
        for i, (source, sub) in enumerate((("manual", None), ("subscription", 1), ("openai_api", None),
                                           ("manual", None)), start=1):
            x("INSERT INTO usage_records (id, source, dedup_key, workspace_id, account_id, provider, service_tier, "
              "bucket_start, bucket_end, dated, input_tokens, output_tokens, cache_read_tokens, "
              "cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, reasoning_included, requests, "
              "reported_cost, cost, cost_role, currency, is_demo, subscription_id, updated_at) "
              "VALUES (?, ?, ?, 1, 1, 'openai', 'standard', ?, ?, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'spend', "
              "'USD', 0, ?, ?)", (i, source, f"k{i}", now, now, sub, now))
        x("INSERT INTO budgets (id, name, workspace_id, scope_kind, amount, currency, period, thresholds, "
          "forecast_alert, on_exceed, enabled, created_at, updated_at) "
          "VALUES (1, 'b', 1, 'all', 100000000000, 'USD', 'monthly', '50,80,100', 0, 'notify', 1, ?, ?)", (now, now))
        x("INSERT INTO workspace_usage (workspace_id, budget_id, period_start, period_end, cost, tokens, "
          "updated_at) VALUES (1, 1, '2026-11-01', '2026-11-30', 0, 0, ?)", (now,))
        x("INSERT INTO sync_state (account_id, stream) VALUES (1, 'costs')")
        x("INSERT INTO cost_alerts (id, type, dedup_key, workspace_id, budget_id, account_id, message, currency, "
          "sent_at, acknowledged) VALUES (1, 'threshold', 'd1', 1, 1, 1, 'm', 'USD', ?, 0)", (now,))
        x("INSERT INTO alert_outbox (alert_id, channel, target, status, attempts, next_attempt_at, created_at) "
          "VALUES (1, 'tray', '', 'pending', 0, ?, ?)", (now, now))
    tables = (*REUSED_BEFORE, "workspace_usage", "sync_state", "alert_outbox")
    before = _counts(engine, tables)
    with engine.connect() as conn:
        indexes = set(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                           "AND sql IS NOT NULL").all())
    assert migrate.upgrade(engine) is True
    assert _counts(engine, tables) == before  # no CASCADE / SET NULL ran while tables were rebuilt
    with engine.connect() as conn:
        after = set(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                         "AND sql IS NOT NULL").all())
        # Every index is back as it was; 0011 (later) makes the account index partial, 0012 adds the daily roll-up's.
        partial, added = "ix_usage_records_account_bucket", "ix_usage_daily_day"
        assert {i for i in after if i[0] not in (partial, added)} == {i for i in indexes if i[0] != partial}
        assert {sql for name, sql in after if name == partial} == {
            sql + " WHERE account_id IS NOT NULL" for name, sql in indexes if name == partial}
        assert conn.exec_driver_sql("SELECT account_id, subscription_id FROM usage_records WHERE id = 2").one() \
            == (1, 1)
        assert conn.exec_driver_sql("SELECT budget_id, account_id FROM cost_alerts").one() == (1, 1)
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforcement is back on
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
    db = Database.open(url)
    try:
        added = add_entry(db, _entry())
        delete_entry(db, added)  # the newest row deleted: before 0006 its id came back with the next one
        assert (added, add_entry(db, _entry())) == (5, 6)
    finally:
        db.dispose()


def test_migration_0006_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = _engine_at(url, "0005")
    assert migrate.upgrade(engine) is True
    cfg = migrate.alembic_config()
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        sqls = [s for (s,) in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table'")]
    assert not any("AUTOINCREMENT" in s for s in sqls)
    assert migrate.upgrade(engine) is True
    with engine.connect() as conn:
        sqls = [s for (s,) in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                                   "AND name = 'budgets'")]
    assert "AUTOINCREMENT" in sqls[0]
    engine.dispose()
