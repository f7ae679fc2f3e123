"""ORM tables of the ledger: usage records, accounts, workspaces, prices, budgets, alerts, sync state."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, Date, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aicost_desktop.storage.types import Money, UTCDateTime

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Tables whose ids users act on (delete entry 12, ack alert 7): SQLite AUTOINCREMENT never hands out an id
# again once its row is deleted, so a retried delete cannot hit a row added since (PostgreSQL's sequences
# never do). Migration 0006 gives existing ledgers the same.
NEVER_REUSED = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def core_table(entity: type[Base]) -> Table:
    """The Core Table behind an ORM entity (typed as any FromClause, since a mapping may be to a join)."""
    table = entity.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{entity.__name__} is not mapped to a table")
    return table


class Workspace(Base):
    """A group of accounts sharing budgets (default: one workspace called 'default')."""

    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(Base):
    """A provider account; its key lives in the OS keychain under `key_ref`, never here."""

    __tablename__ = "accounts"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    base_url: Mapped[str | None] = mapped_column(String(500))
    key_ref: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(30), default="new")  # new, ok, needs_attention, error
    status_message: Mapped[str | None] = mapped_column(Text)
    sync_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    backfill_days: Mapped[int | None] = mapped_column(Integer)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Rows from an account's sync: only they are looked up by account (log, CSV and manual rows have none).
HAS_ACCOUNT = text("account_id IS NOT NULL")
# Rows whose spend nobody can price: no computed cost, and no reported cost where one would count. One SQL
# text for both the partial index and the query, so SQLite's planner (which matches terms literally) uses it.
UNPRICED_ROWS = text("computed_cost IS NULL AND model IS NOT NULL AND source NOT IN ('manual', 'subscription') "
                     "AND ((cost_role = 'spend' AND reported_cost IS NULL) OR cost_role = 'detail')")


class UsageRow(Base):
    """One ledger row: tokens and money for a model over a time bucket, from one source.

    `cost` is what the row adds to spend totals (auto mode): reported cost when the provider
    reports one, else computed cost, and 0 for detail/covered rows. `reported_cost` and
    `computed_cost` are kept as they came for reconciliation; they are never added together.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("source", "dedup_key", name="uq_usage_records_source_dedup"),
        Index("ix_usage_records_bucket_start", "bucket_start"),
        # Both partial on both backends. PostgreSQL's conditions are only in migrations 0011 and 0004, which
        # build its schema (the ORM's metadata builds none there): a `postgresql_where` here would import the
        # whole PostgreSQL dialect (every driver's module, asyncio) into every process, ~50 ms of each CLI start.
        Index("ix_usage_records_account_bucket", "account_id", "bucket_start", sqlite_where=HAS_ACCOUNT),
        Index("ix_usage_records_unpriced", "provider", "model", sqlite_where=UNPRICED_ROWS),
        NEVER_REUSED,
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    dedup_key: Mapped[str] = mapped_column(String(400))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    model_vendor: Mapped[str | None] = mapped_column(String(60))
    project: Mapped[str | None] = mapped_column(String(200))
    api_key_id: Mapped[str | None] = mapped_column(String(200))
    line_item: Mapped[str | None] = mapped_column(String(200))
    service_tier: Mapped[str] = mapped_column(String(20), default="standard")
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime)
    bucket_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # A "dated" bucket (whole UTC days, e.g. a provider's daily bucket or a manual entry's date)
    # belongs to its calendar date in every time zone; other rows are instants read in local time.
    dated: Mapped[bool] = mapped_column(Boolean, default=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_5m_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_1h_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_included: Mapped[bool] = mapped_column(Boolean, default=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_cost: Mapped[Decimal | None] = mapped_column(Money)
    computed_cost: Mapped[Decimal | None] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    cost_role: Mapped[str] = mapped_column(String(10), default="spend")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    note: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _Cell:
    """The dimensions and sums a roll-up cell has (usage_hourly and usage_daily), summed from usage_records."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, sort_order=-2)
    dated: Mapped[bool] = mapped_column(Boolean, default=False)
    workspace_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    project: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    cost_role: Mapped[str] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    reported_cost: Mapped[Decimal | None] = mapped_column(Money)
    computed_cost: Mapped[Decimal | None] = mapped_column(Money)
    unpriced_rows: Mapped[int] = mapped_column(Integer, default=0)


class UsageHourly(_Cell, Base):
    """Hourly roll-up of usage_records (UTC hours) so views re-bucket by local day without a scan."""

    __tablename__ = "usage_hourly"
    __table_args__ = (
        # Covering: reports read a year of cells from the index alone (migration 0003).
        Index("ix_usage_hourly_covering", "hour_start", "dated", "provider", "currency", "model", "account_id",
              "source", "workspace_id", "project", "cost", "reported_cost", "computed_cost", "input_tokens",
              "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "unpriced_rows"),
    )
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=-1)


class UsageDaily(_Cell, Base):
    """Daily roll-up of usage_hourly (UTC dates; a dated row's own date): a year of a dimension is a few
    thousand cells, and a local day is its UTC date's cell corrected by the hours of the zone's offset
    (storage/query/daily.py)."""

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_day", "day"),)
    day: Mapped[date] = mapped_column(Date, sort_order=-1)


class PriceOverride(Base):
    """A user-set price for a model from a date on (per million tokens)."""

    __tablename__ = "price_overrides"
    __table_args__ = (UniqueConstraint("model_key", "effective_from", name="uq_price_overrides_model_from"),
                      NEVER_REUSED)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_key: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date)
    input_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    output_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    cache_read_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    cache_write_5m_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    cache_write_1h_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Base):
    """A recurring charge (e.g. ChatGPT Plus $20 monthly) materialized as one ledger row per period."""

    __tablename__ = "subscriptions"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    period: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    note: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportSource(Base):
    """A local log folder imported on a schedule, with its billing setting."""

    __tablename__ = "import_sources"
    __table_args__ = (UniqueConstraint("kind", "path", name="uq_import_sources_kind_path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # claude-code, codex
    path: Mapped[str] = mapped_column(String(1000))
    billing: Mapped[str] = mapped_column(String(20), default="per_token")  # per_token, subscription
    auto_import: Mapped[bool] = mapped_column(Boolean, default=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)


class ImportFileState(Base):
    """How much of one log file an importer has read: size, mtime and the byte offset consumed, so a
    re-import reads only what was appended (importers/file_state.py)."""

    __tablename__ = "import_file_state"
    __table_args__ = (UniqueConstraint("kind", "path", name="uq_import_file_state_kind_path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # claude-code
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)  # end of the last complete line read
    probe: Mapped[str] = mapped_column(String(64))  # hash of the head and of the bytes before `offset`
    settings: Mapped[str] = mapped_column(String(100))  # billing/workspace/parser the rows were made with
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncState(Base):
    """Per account and stream: how far history is complete, and the last run's outcome."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("account_id", "stream", name="uq_sync_state_account_stream"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(60))
    synced_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WriteSeq(Base):
    """One row: a counter every write transaction of this app bumps (storage/own_writes), so a watcher can tell
    its process's own commits from another's."""

    __tablename__ = "write_seq"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class BalanceReading(Base):
    """A prepaid balance / credit-limit snapshot of an account (not spend)."""

    __tablename__ = "balance_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Money)
    remaining: Mapped[Decimal | None] = mapped_column(Money)
    used: Mapped[Decimal | None] = mapped_column(Money)
    limit: Mapped[Decimal | None] = mapped_column("limit_amount", Money)
    detail: Mapped[str | None] = mapped_column(Text)


class Budget(Base):
    """A spending limit over a calendar period for a scope, with alert thresholds."""

    __tablename__ = "budgets"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    scope_kind: Mapped[str] = mapped_column(String(20), default="all")
    scope_value: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    period: Mapped[str] = mapped_column(String(10), default="monthly")
    thresholds: Mapped[str] = mapped_column(String(200), default="50,80,100")
    forecast_alert: Mapped[bool] = mapped_column(Boolean, default=False)
    emails: Mapped[str | None] = mapped_column(Text)
    on_exceed: Mapped[str] = mapped_column(String(30), default="notify")  # notify, require_ack, pause_key
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" local
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # on_exceed = pause_key: which provider key to pause (migration 0002); the hash, never the key.
    pause_account_id: Mapped[int | None] = mapped_column(Integer)
    pause_key_hash: Mapped[str | None] = mapped_column(String(200))
    key_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BudgetAction(Base):
    """Log of on-exceed actions taken on provider keys (pause / resume), with their outcome."""

    __tablename__ = "budget_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("budgets.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # pause_key, resume_key
    account_id: Mapped[int | None] = mapped_column(Integer)
    key_hash: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(Text)


class WorkspaceUsage(Base):
    """Per-period usage of a workspace (and budget): tokens, cost, limit and alert threshold."""

    __tablename__ = "workspace_usage"
    __table_args__ = (UniqueConstraint("workspace_id", "budget_id", "period_start",
                                       name="uq_workspace_usage_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    budget_limit: Mapped[Decimal | None] = mapped_column(Money)
    alert_threshold: Mapped[Decimal | None] = mapped_column(Money)
    forecast: Mapped[Decimal | None] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CostAlert(Base):
    """An alert raised once per (budget, period, threshold) or other dedup key; acknowledgeable."""

    __tablename__ = "cost_alerts"
    __table_args__ = (UniqueConstraint("dedup_key", name="uq_cost_alerts_dedup_key"), NEVER_REUSED)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # threshold, forecast, sync_failure, unpriced_model, anomaly
    dedup_key: Mapped[str] = mapped_column(String(300))
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id"))
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("budgets.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    threshold: Mapped[Decimal | None] = mapped_column(Money)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text)
    current_usage: Mapped[Decimal | None] = mapped_column(Money)
    budget_limit: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """One delivery of an alert to one channel; retried with backoff, sent at most once."""

    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("alert_id", "channel", "target", name="uq_alert_outbox_delivery"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("cost_alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(30))  # tray, email, later slack/discord/sms...
    target: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the delivery log says besides an error: why it waits (quiet hours, a rate limit), or the summary
    # message it went out in (status 'folded': delivered inside another row's message).
    note: Mapped[str | None] = mapped_column(Text)


class IntegrationConnection(Base):
    """A connected integration (Slack, GitHub...): non-secret config here, each secret in the keychain under
    `secret_ref:<field>` (the names of the stored fields are listed in `config`)."""

    __tablename__ = "integration_connections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    auth_method: Mapped[str] = mapped_column(String(30))
    config: Mapped[str] = mapped_column(Text, default="{}")  # JSON: plain fields, URL overrides, token expiry
    secret_ref: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="new")  # new, ok, error
    status_message: Mapped[str | None] = mapped_column(Text)
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRoute(Base):
    """A routing rule: alerts of a trigger (optionally one budget, at or above a percentage) go to destinations."""

    __tablename__ = "alert_routes"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    trigger: Mapped[str] = mapped_column(String(20))  # threshold, exceeded, forecast, sync_failure, anomaly, unpriced
    # A named budget's rule goes with the budget (a deleted budget must not widen it to "any budget").
    budget_id: Mapped[int | None] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    min_percent: Mapped[Decimal | None] = mapped_column(Money)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" local: deliveries due then wait
    quiet_end: Mapped[str | None] = mapped_column(String(5))    # until "07:00"
    max_per_hour: Mapped[int | None] = mapped_column(Integer)   # per destination; the excess goes out as one summary
    # When what it matches last changed: alerts raised before that are not routed by the new match.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RouteDestination(Base):
    """One destination of a rule: a connection's action with the user's parameters (JSON). Its id is the
    `alert_outbox.target` of channel 'route', so ids are never reused (one delivery per alert and destination)."""

    __tablename__ = "route_destinations"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("alert_routes.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("integration_connections.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(60))
    params: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSchedule(Base):
    """A scheduled spend report to one destination; `last_period` (the reported period's first local day)
    makes it run once per period across restarts, `claimed_at`/`attempts`/`next_attempt_at` retry a failed send."""

    __tablename__ = "report_schedules"
    __table_args__ = NEVER_REUSED
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    frequency: Mapped[str] = mapped_column(String(10))  # daily, weekly, monthly
    weekday: Mapped[int | None] = mapped_column(Integer)  # weekly: 0 = Monday .. 6 = Sunday
    hour: Mapped[int] = mapped_column(Integer, default=9)  # local hour from which the period's report is due
    group_by: Mapped[str] = mapped_column(String(60), default="model")
    connection_id: Mapped[int] = mapped_column(ForeignKey("integration_connections.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(60))
    params: Mapped[str] = mapped_column(Text, default="{}")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_period: Mapped[str | None] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(12))  # sent, retrying, failed
    last_error: Mapped[str | None] = mapped_column(Text)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
