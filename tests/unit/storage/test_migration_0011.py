"""Migration 0011: the (account, time) index holds only rows with an account, on SQLite and PostgreSQL; an
account's rows are still read through it, existing rows stay, and it goes down and up again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, create_engine, text

from aicost_desktop.storage import migrate

from .alembic_step import migrate_to

INDEX = "ix_usage_records_account_bucket"


def _definition(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return conn.scalar(text(f"SELECT sql FROM sqlite_master WHERE name = '{INDEX}'"))
        return conn.scalar(text(f"SELECT pg_get_indexdef('{INDEX}'::regclass)"))


def _plan(engine: Engine) -> str:
    """How the ledger reads one account's rows of a period."""
    query = "SELECT sum(cost) FROM usage_records WHERE account_id = 1 AND bucket_start >= '2026-12-01'"
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            return " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + query)))
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: else a scan would be cheaper
        return " ".join(r[0] for r in conn.execute(text("EXPLAIN " + query)))


def test_0011_keeps_only_rows_with_an_account_in_the_account_index(blank_db_url: str) -> None:
    engine = create_engine(blank_db_url)
    migrate_to(engine, "0010")
    at = datetime(2026, 12, 2, 9, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (name, created_at) VALUES ('default', :t)"), {"t": at})
        conn.execute(text("INSERT INTO accounts (name, provider, workspace_id, enabled, status, created_at) "
                          "VALUES ('oa', 'openai', 1, true, 'ok', :t)"), {"t": at})
        for key, account in (("api-1", 1), ("log-1", None)):
            conn.execute(text(
                "INSERT INTO usage_records (source, dedup_key, workspace_id, account_id, provider, service_tier, "
                "bucket_start, bucket_end, dated, input_tokens, output_tokens, cache_read_tokens, "
                "cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, reasoning_included, requests, cost, "
                "cost_role, currency, is_demo, updated_at) VALUES ('api', :k, 1, :a, 'openai', 'standard', :t, :t, "
                "false, 1, 1, 0, 0, 0, 0, true, 1, 5, 'spend', 'USD', false, :t)"), {"k": key, "a": account, "t": at})
    assert " WHERE " not in _definition(engine)
    assert migrate.upgrade(engine) is True
    assert "account_id IS NOT NULL" in _definition(engine).replace("(", "").replace(")", "")
    assert INDEX in _plan(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT dedup_key, account_id FROM usage_records ORDER BY dedup_key")).all() == [
            ("api-1", 1), ("log-1", None)]
    migrate_to(engine, "0010", down=True)
    assert " WHERE " not in _definition(engine)
    assert migrate.upgrade(engine) is True
    assert " WHERE " in _definition(engine) and INDEX in _plan(engine)
    engine.dispose()
