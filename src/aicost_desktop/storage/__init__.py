"""The ledger's storage: SQLAlchemy engine, ORM tables, Alembic migrations and repositories."""
