"""Names a filter may use: accounts/workspaces by id for display, known values, 'did you mean' for typos."""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Sequence

from sqlalchemy import literal, select

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account, UsageDaily, Workspace

# {"account": {id: name}, "workspace": {id: name}}: the ledger stores ids, reports and exports show names.
NameMaps = dict[str, dict[Any, str]]
SHOWN_KNOWN = 8  # known values listed when no close match exists


def display_names(db: Database) -> NameMaps:
    """Account and workspace names by id (one small query each)."""
    with db.session() as s:
        accounts = {i: n for i, n in s.execute(select(Account.id, Account.name))}
        workspaces = {i: n for i, n in s.execute(select(Workspace.id, Workspace.name))}
    return {"account": accounts, "workspace": workspaces}


def close_matches(value: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like `value` (difflib, case-insensitive), best first."""
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    return [by_lower[m] for m in difflib.get_close_matches(value.lower(), list(by_lower), n=n, cutoff=0.6)]


def unknown_name(field: str, value: str, candidates: Iterable[str]) -> InputError:
    """The error for a filter value nothing has: names the field and value, and what it may have meant."""
    known = sorted(set(candidates))
    matches = close_matches(value, known)
    if matches:
        hint = "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
    elif known:
        more = f", … ({len(known)} in all)" if len(known) > SHOWN_KNOWN else ""
        hint = "; known: " + ", ".join(known[:SHOWN_KNOWN]) + more
    else:
        hint = f"; there is no {field} yet"
    return InputError(field, value, f"no such {field}{hint}")


# The daily roll-up holds every value the ledger has (each hourly cell is in its date's cells), in ~1/24 the rows.
_LEDGER_COLUMNS = {"provider": UsageDaily.provider, "model": UsageDaily.model, "project": UsageDaily.project}


def known_values(db: Database, field: str, names: NameMaps | None = None) -> set[str]:
    """Every value a filter on `field` matches something with: ledger values (read from the daily roll-up,
    which holds the same values), account names and providers, workspace names, the source vocabulary."""
    if field == "source":
        return {s.value for s in DataSource}
    if field in ("account", "workspace"):
        return set((names or display_names(db))[field].values())
    col = _LEDGER_COLUMNS[field]
    with db.session() as s:
        out = {v for (v,) in s.execute(select(col).distinct()) if v}
        if field == "provider":
            out |= {p for (p,) in s.execute(select(Account.provider).distinct()) if p}
    return out


def check_known(db: Database, field: str, values: Sequence[str], names: NameMaps | None = None) -> None:
    """Raise `unknown_name` for the first of `values` nothing has (a typo would otherwise match no row and
    read as $0.00 or 'exported 0 rows')."""
    if field in ("source", "account", "workspace"):
        known = known_values(db, field, names)
        for v in values:
            if v not in known:
                raise unknown_name(field, v, known)
        return
    col = _LEDGER_COLUMNS[field]
    with db.session() as s:
        for v in values:
            # One LIMIT 1 probe per value: stops at the first cell that has it.
            found = s.scalar(select(literal(1)).select_from(UsageDaily).where(col == v).limit(1))
            if found is None and field == "provider":
                found = s.scalar(select(literal(1)).select_from(Account).where(Account.provider == v).limit(1))
            if found is None:
                raise unknown_name(field, v, known_values(db, field))


def filter_choices(db: Database) -> dict[str, list[str]]:
    """What a filter picker offers: providers, models and sources the ledger has, account and workspace
    names, each sorted (the daily roll-up holds the same dimension values as the ledger, in far fewer rows)."""
    T = UsageDaily
    with db.session() as s:
        def distinct(col: Any) -> list[str]:
            return sorted(v for (v,) in s.execute(select(col).distinct()) if v)

        return {"provider": distinct(T.provider), "model": distinct(T.model), "source": distinct(T.source),
                "account": sorted(n for (n,) in s.execute(select(Account.name))),
                "workspace": sorted(n for (n,) in s.execute(select(Workspace.name)))}
