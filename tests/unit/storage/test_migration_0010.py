"""Migration 0010 (a rule's quiet hours, hourly limit and edit time; the delivery log's note) keeps existing rules
and deliveries, on SQLite and PostgreSQL, and goes down and up again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import create_engine, text

from aicost_desktop.storage import migrate

from .alembic_step import migrate_to


def test_0010_adds_the_columns_and_keeps_the_rules(blank_db_url: str) -> None:
    engine = create_engine(blank_db_url)
    migrate_to(engine, "0009")
    created = datetime(2026, 12, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO integration_connections (name, kind, auth_method, config, secret_ref, status, "
                          "created_at, updated_at) VALUES ('dc', 'discord', 'webhook_url', '{}', 'r', 'ok', :t, :t)"),
                     {"t": created})
        conn.execute(text("INSERT INTO alert_routes (name, trigger, enabled, created_at) "
                          "VALUES ('odd', 'anomaly', true, :t)"), {"t": created})
        conn.execute(text("INSERT INTO cost_alerts (type, dedup_key, message, currency, sent_at, acknowledged) "
                          "VALUES ('anomaly', 'k', 'Spend was unusual', 'USD', :t, false)"), {"t": created})
        conn.execute(text("INSERT INTO alert_outbox (alert_id, channel, target, status, attempts, next_attempt_at, "
                          "created_at) VALUES (1, 'route', '1', 'sent', 1, :t, :t)"), {"t": created})
    assert migrate.upgrade(engine) is True
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, quiet_start, quiet_end, max_per_hour, edited_at FROM alert_routes")
                            ).one() == ("odd", None, None, None, None)
        assert conn.execute(text("SELECT status, note FROM alert_outbox")).one() == ("sent", None)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alert_routes SET quiet_start = '22:00', quiet_end = '07:00', max_per_hour = 3"))
    migrate_to(engine, "0009", down=True)
    with engine.connect() as conn:
        columns = set(conn.execute(text("SELECT * FROM alert_routes")).keys())
        assert "quiet_start" not in columns and "max_per_hour" not in columns and "name" in columns
    assert migrate.upgrade(engine) is True
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, max_per_hour FROM alert_routes")).one() == ("odd", None)
    engine.dispose()
