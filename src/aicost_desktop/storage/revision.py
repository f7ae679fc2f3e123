"""The ledger schema's newest migration revision, importable without SQLAlchemy or Alembic."""

from __future__ import annotations

# The newest revision in migrations/versions (a test keeps the two equal). Knowing it lets an
# up-to-date ledger open without importing Alembic, and lets `aicost import` see that nothing
# changed without importing SQLAlchemy.
HEAD = "0013"
