"""The one ledger filter: which rows count, as SQL conditions on the ledger or on the hourly roll-up."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import false

from aicost_desktop.domain.errors import InputError
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query.names import NameMaps, check_known, display_names, unknown_name
from aicost_desktop.storage.query.windows import time_window
from aicost_desktop.storage.tables import UsageHourly

COST_MODES = ("auto", "reported", "computed")
Values = tuple[str, ...] | None

# Filter field -> (singular name used in errors and CLI flags, column name on both tables).
_FIELDS = {"providers": ("provider", "provider"), "models": ("model", "model"), "sources": ("source", "source"),
           "projects": ("project", "project"), "accounts": ("account", "account_id"),
           "workspaces": ("workspace", "workspace_id")}


@dataclass(frozen=True)
class LedgerFilter:
    """Rows to count. A value field is None for 'any', else a tuple of accepted values (empty: no row);
    accounts and workspaces by name. `start`/`end` are local days, inclusive, None for an open end.
    `mode` picks the cost column: auto (what a row adds to spend), reported or computed."""

    providers: Values = None
    models: Values = None
    accounts: Values = None
    workspaces: Values = None
    projects: Values = None
    sources: Values = None
    start: date | None = None
    end: date | None = None
    mode: str = "auto"

    @classmethod
    def of(cls, *, provider: str | None = None, model: str | None = None, account: str | None = None,
           workspace: str | None = None, project: str | None = None, source: str | None = None,
           start: date | None = None, end: date | None = None, mode: str = "auto") -> "LedgerFilter":
        """One value per field, as CLI flags and pickers give them (None or '' = any)."""
        def one(v: str | None) -> Values:
            return (v,) if v else None

        return cls(one(provider), one(model), one(account), one(workspace), one(project), one(source),
                   start, end, mode)

    def between(self, start: date | None, end: date | None) -> "LedgerFilter":
        """The same filter over local days [start, end]."""
        return replace(self, start=start, end=end)

    def narrowed(self, *, sources: Sequence[str] | None = None) -> "LedgerFilter":
        """Also require one of `sources` (None: no change): intersected with the filter's own sources."""
        if sources is None:
            return self
        mine = tuple(dict.fromkeys(sources))
        if self.sources is not None:
            mine = tuple(s for s in self.sources if s in mine)
        return replace(self, sources=mine)

    def cost_column(self, table: Any) -> Any:
        """The column summed as cost in this filter's mode."""
        return {"auto": table.cost, "reported": table.reported_cost, "computed": table.computed_cost}[self.mode]

    def validate(self) -> None:
        """InputError for a range that ends before it starts or an unknown cost mode."""
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InputError("to", self.end.isoformat(), f"is before from={self.start.isoformat()}")
        if self.mode not in COST_MODES:
            raise InputError("mode", self.mode, f"use one of {', '.join(COST_MODES)}")

    @property
    def is_empty(self) -> bool:
        """True when the filter selects every row (no value field, no date)."""
        return all(getattr(self, f.name) is None for f in fields(self) if f.name != "mode")


def where_clauses(db: Database, flt: LedgerFilter, tz: ZoneInfo, table: Any = UsageHourly,
                      names: NameMaps | None = None, check: bool = True) -> list[Any]:
    """WHERE clauses of `flt` on `table` (UsageHourly, UsageDaily or UsageRow: the same rows either way).

    A value no row, account or workspace has is an InputError naming the field, with close matches
    (`check` False: the caller checked the values already, the probes are not run again).
    `names` (from `display_names`) saves a query when the caller already has them.
    """
    flt.validate()
    # No cost_role condition: detail/covered rows carry cost 0 in auto mode, and their tokens still count.
    cond: list[Any] = []
    if flt.start is not None or flt.end is not None:
        cond.append(time_window(flt.start, flt.end, tz, table))
    for attr in ("providers", "models", "sources", "projects"):
        values = getattr(flt, attr)
        if values is None:
            continue
        field, column = _FIELDS[attr]
        if check:
            check_known(db, field, values)
        cond.append(_one_of(getattr(table, column), values))
    if flt.accounts is not None or flt.workspaces is not None:
        names = names or display_names(db)
        for attr in ("accounts", "workspaces"):
            values = getattr(flt, attr)
            if values is None:
                continue
            field, column = _FIELDS[attr]
            ids = []
            for v in values:
                matched = [i for i, n in names[field].items() if n == v]
                if not matched:
                    raise unknown_name(field, v, names[field].values())
                ids += matched
            cond.append(getattr(table, column).in_(ids) if ids else false())
    return cond


def _one_of(col: Any, values: tuple[str, ...]) -> Any:
    if not values:
        return false()
    # One value as `=` (the SQL these queries always had); several as IN.
    return col == values[0] if len(values) == 1 else col.in_(values)
