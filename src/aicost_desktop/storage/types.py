"""Column types that keep money exact and instants in UTC on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from aicost_desktop.domain.money import SCALE

_FACTOR = Decimal(10) ** SCALE


class Money(TypeDecorator[Decimal]):
    """Decimal stored as an integer count of 1e-10 units.

    SQLite has no exact decimal type (Numeric silently becomes a float), so money is stored
    as BIGINT; SUM() in SQL stays exact and fast on both backends. The range is +-9.2e8 USD.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        return int((d * _FACTOR).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / _FACTOR).quantize(Decimal(1).scaleb(-SCALE))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in, aware UTC datetimes out (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store instants as aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def money_to_units(value: Decimal) -> int:
    """The integer stored for a Decimal (used by bulk paths that bypass the ORM)."""
    return int((value * _FACTOR).to_integral_value())


def units_to_money(units: int | None) -> Decimal:
    """Inverse of money_to_units for raw SQL aggregates."""
    if units is None:
        return Decimal(0).quantize(Decimal(1).scaleb(-SCALE))
    return (Decimal(int(units)) / _FACTOR).quantize(Decimal(1).scaleb(-SCALE))
