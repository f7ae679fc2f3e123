"""storage.query: one LedgerFilter, the same rows on the ledger and the roll-up, unknown names with suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from aicost_desktop.domain.days import local_day
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.query import LedgerFilter, close_matches, filter_choices, where_clauses
from aicost_desktop.storage.tables import Account, UsageHourly, UsageRow, Workspace

LA = ZoneInfo("America/Los_Angeles")
UTC = timezone.utc


@dataclass(frozen=True)
class Row:
    """What a test row is, to compute the expected answer in Python."""

    key: str
    provider: str
    model: str | None
    account: str | None
    workspace: str
    project: str | None
    source: DataSource
    start: datetime
    dated: bool
    requests: int


def _ledger(db: Database) -> list[Row]:
    """Rows across every filter field, instants near local midnight in Los Angeles and whole-day (dated) rows."""
    with db.write_session() as s:
        team = Workspace(name="team")
        s.add(team)
        s.flush()
        ws = {"default": db.default_workspace_id(), "team": team.id}
        accs = {}
        for name, provider, w in (("prod", "openai", "default"), ("research", "anthropic", "team"),
                                  ("spare", "deepseek", "default")):  # spare: an account with no rows
            a = Account(name=name, provider=provider, workspace_id=ws[w])
            s.add(a)
            s.flush()
            accs[name] = a.id
    base = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    specs = [
        ("openai", "gpt-5", "prod", "default", "web", DataSource.API),
        ("openai", "gpt-5-mini", "prod", "default", None, DataSource.API),
        ("anthropic", "claude-sonnet-4-5", "research", "team", "web", DataSource.API),
        ("anthropic", "claude-opus-4-1", None, "default", "cli", DataSource.LOG),
        ("openai", None, None, "team", "ops", DataSource.MANUAL),
    ]
    n = 0
    for day in range(6):
        for i, (prov, model, acc, w, proj, src) in enumerate(specs):
            dated = src is DataSource.MANUAL or (prov == "openai" and day % 2 == 0)
            # 03:00 UTC is the previous local day in Los Angeles; dated rows keep their date.
            start = base + timedelta(days=day) if dated else base + timedelta(days=day, hours=3 + 7 * (i % 3))
            n += 1
            rows.append(Row(f"k{n}", prov, model, acc, w, proj, src, start, dated, n))
    # A row's computed cost is its number, so a sum says exactly which rows a filter picked.
    upsert_records(db, [
        UsageRecord(r.source, r.key, r.provider, r.start,
                    r.start + (timedelta(days=1) if r.dated else timedelta(hours=1)),
                    usage=TokenUsage(10, 5, requests=1), model=r.model,
                    account_id=accs[r.account] if r.account else None, workspace_id=ws[r.workspace],
                    project=r.project, computed_cost=Decimal(r.requests))
        for r in rows])
    return rows


def _sums(db: Database, flt: LedgerFilter, tz: ZoneInfo) -> tuple[int, Decimal]:
    """(rows, cost) the filter selects on the ledger, checked equal on the roll-up."""
    out = []
    for T, count in ((UsageRow, func.count()), (UsageHourly, func.sum(UsageHourly.rows))):
        with db.session() as s:
            n, cost = s.execute(select(count, func.sum(T.computed_cost)).where(*where_clauses(db, flt, tz, T))).one()
        out.append((int(n or 0), cost or Decimal(0)))
    assert out[0] == out[1], f"ledger {out[0]} != roll-up {out[1]} for {flt}"
    return out[0]


def _expected(rows: list[Row], keep: Callable[[Row], bool]) -> tuple[int, Decimal]:
    chosen = [r for r in rows if keep(r)]
    return len(chosen), Decimal(sum(r.requests for r in chosen))


def _day(r: Row, tz: ZoneInfo) -> date:
    return local_day(r.start, r.dated, tz)


CASES: list[tuple[str, LedgerFilter, Callable[[Row], bool]]] = [
    ("everything", LedgerFilter(), lambda r: True),
    ("provider", LedgerFilter.of(provider="anthropic"), lambda r: r.provider == "anthropic"),
    ("providers", LedgerFilter(providers=("anthropic", "openai")), lambda r: True),
    ("model", LedgerFilter.of(model="gpt-5"), lambda r: r.model == "gpt-5"),
    ("models", LedgerFilter(models=("gpt-5", "claude-opus-4-1")), lambda r: r.model in ("gpt-5", "claude-opus-4-1")),
    ("account", LedgerFilter.of(account="prod"), lambda r: r.account == "prod"),
    ("accounts", LedgerFilter(accounts=("prod", "research")), lambda r: r.account in ("prod", "research")),
    ("workspace", LedgerFilter.of(workspace="team"), lambda r: r.workspace == "team"),
    ("project", LedgerFilter.of(project="web"), lambda r: r.project == "web"),
    ("projects", LedgerFilter(projects=("web", "ops")), lambda r: r.project in ("web", "ops")),
    ("source", LedgerFilter.of(source="log"), lambda r: r.source is DataSource.LOG),
    ("sources", LedgerFilter(sources=("log", "manual")), lambda r: r.source in (DataSource.LOG, DataSource.MANUAL)),
    ("no source at all", LedgerFilter(sources=()), lambda r: False),
    ("an account with no rows", LedgerFilter.of(account="spare"), lambda r: False),
    ("combined", LedgerFilter.of(provider="openai", account="prod", project="web"),
     lambda r: r.provider == "openai" and r.account == "prod" and r.project == "web"),
    ("narrowed", LedgerFilter(sources=("api", "log")).narrowed(sources=["log", "manual"]),
     lambda r: r.source is DataSource.LOG),
    ("narrowed from any", LedgerFilter().narrowed(sources=["manual"]), lambda r: r.source is DataSource.MANUAL),
    ("from", LedgerFilter(start=date(2026, 3, 3)), lambda r: _day(r, LA) >= date(2026, 3, 3)),
    ("to", LedgerFilter(end=date(2026, 3, 2)), lambda r: _day(r, LA) <= date(2026, 3, 2)),
    ("from-to", LedgerFilter.of(provider="openai", start=date(2026, 3, 2), end=date(2026, 3, 4)),
     lambda r: r.provider == "openai" and date(2026, 3, 2) <= _day(r, LA) <= date(2026, 3, 4)),
    ("one day", LedgerFilter().between(date(2026, 2, 28), date(2026, 2, 28)), lambda r: _day(r, LA) == date(2026, 2, 28)),
]


@pytest.mark.parametrize("name,flt,keep", CASES, ids=[c[0] for c in CASES])
def test_each_filter_field_selects_the_same_rows_on_ledger_and_rollup(db: Database, name: str, flt: LedgerFilter,
                                                                      keep: Callable[[Row], bool]) -> None:
    rows = _ledger(db)
    assert _sums(db, flt, LA) == _expected(rows, keep)


def test_local_days_follow_the_zone_and_the_dated_rule(db: Database) -> None:
    rows = _ledger(db)
    # The 03:00 UTC rows of Mar 1 are Feb 28 in Los Angeles but Mar 1 in UTC; dated rows are Mar 1 in both.
    for tz in (LA, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")):
        flt = LedgerFilter(start=date(2026, 3, 1), end=date(2026, 3, 1))
        assert _sums(db, flt, tz) == _expected(rows, lambda r: _day(r, tz) == date(2026, 3, 1)), tz
    la_feb = _expected(rows, lambda r: _day(r, LA) == date(2026, 2, 28))
    assert la_feb[0] > 0 and _expected(rows, lambda r: _day(r, ZoneInfo("UTC")) == date(2026, 2, 28))[0] == 0


@pytest.mark.parametrize("flt,field,value,hint", [
    (LedgerFilter.of(provider="opnai"), "provider", "opnai", "did you mean 'openai'?"),
    (LedgerFilter.of(provider="OpenAI"), "provider", "OpenAI", "did you mean 'openai'?"),
    (LedgerFilter.of(model="gpt5"), "model", "gpt5", "did you mean 'gpt-5'"),
    (LedgerFilter.of(account="prdo"), "account", "prdo", "did you mean 'prod'?"),
    (LedgerFilter.of(workspace="teem"), "workspace", "teem", "did you mean 'team'?"),
    (LedgerFilter.of(project="wbe"), "project", "wbe", "did you mean 'web'?"),
    (LedgerFilter.of(source="apii"), "source", "apii", "did you mean 'api'?"),
    (LedgerFilter(providers=("openai", "zzz-nothing")), "provider", "zzz-nothing", "known: anthropic, deepseek, openai"),
])
def test_unknown_name_is_an_input_error_with_close_matches(db: Database, flt: LedgerFilter, field: str, value: str,
                                                           hint: str) -> None:
    _ledger(db)
    for T in (UsageRow, UsageHourly):
        with pytest.raises(InputError) as err:
            where_clauses(db, flt, LA, T)
        assert (err.value.field, err.value.value) == (field, value)
        assert str(err.value).startswith(f"{field}={value!r}: no such {field}") and hint in str(err.value)


def test_known_names_without_rows_are_not_errors(db: Database) -> None:
    _ledger(db)
    # deepseek has an account but no rows; 'manual' is a source no filter needs rows for.
    assert _sums(db, LedgerFilter.of(provider="deepseek"), LA) == (0, Decimal(0))
    assert _sums(db, LedgerFilter.of(source="proxy"), LA) == (0, Decimal(0))


def test_empty_ledger_says_there_is_nothing_yet(db: Database) -> None:
    with pytest.raises(InputError, match=r"model='gpt-5': no such model; there is no model yet"):
        where_clauses(db, LedgerFilter.of(model="gpt-5"), LA)


def test_range_and_mode_are_checked(db: Database) -> None:
    with pytest.raises(InputError, match=r"to='2026-03-01': is before from=2026-03-02"):
        where_clauses(db, LedgerFilter(start=date(2026, 3, 2), end=date(2026, 3, 1)), LA)
    with pytest.raises(InputError, match=r"mode='net'"):
        where_clauses(db, LedgerFilter(mode="net"), LA)
    assert LedgerFilter(mode="computed").cost_column(UsageHourly) is UsageHourly.computed_cost
    assert LedgerFilter.of(provider="", model=None).is_empty and not LedgerFilter(sources=()).is_empty


def test_close_matches_ignore_case_and_keep_spelling() -> None:
    assert close_matches("claude-sonet-4-5", ["claude-sonnet-4-5", "gpt-5", "Claude-Opus"]) == ["claude-sonnet-4-5"]
    assert close_matches("CLAUDE-OPUS", ["Claude-Opus"]) == ["Claude-Opus"]
    assert close_matches("x", ["openai"]) == []


def test_filter_choices_are_what_the_filter_accepts(db: Database) -> None:
    _ledger(db)
    choices = filter_choices(db)
    assert choices == {"provider": ["anthropic", "openai"],
                       "model": ["claude-opus-4-1", "claude-sonnet-4-5", "gpt-5", "gpt-5-mini"],
                       "source": ["api", "log", "manual"], "account": ["prod", "research", "spare"],
                       "workspace": ["default", "team"]}
    for field, values in choices.items():
        for v in values:
            where_clauses(db, LedgerFilter.of(**{field: v}), LA)  # none raises


def test_report_export_and_budget_share_the_rule(sqlite_db: Database, tmp_path: Path) -> None:
    from aicost_desktop.analytics.report import spend_report
    from aicost_desktop.budgets.spend import Scope, scope_spend
    from aicost_desktop.export.writer import ExportSpec, export

    _ledger(sqlite_db)
    with pytest.raises(InputError, match="did you mean 'openai'"):
        spend_report(sqlite_db, LA, date(2026, 3, 1), date(2026, 3, 5), filters=LedgerFilter.of(provider="opnai"))
    with pytest.raises(InputError, match="did you mean 'gpt-5'"):
        export(sqlite_db, LA, ExportSpec("csv", tmp_path / "x.csv", filters=LedgerFilter.of(model="gpt5")))
    assert not (tmp_path / "x.csv").exists()
    # A budget's scope is checked when it is created; one whose name nothing has (any more) counts nothing.
    assert scope_spend(sqlite_db, LA, date(2026, 3, 1), date(2026, 3, 5), Scope("model", "gpt5")).cost == 0
    total = spend_report(sqlite_db, LA, date(2026, 2, 28), date(2026, 3, 6), filters=LedgerFilter.of(project="web"))
    spent = scope_spend(sqlite_db, LA, date(2026, 2, 28), date(2026, 3, 6), Scope("project", "web"))
    assert total.total == spent.cost > 0


def _run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    from aicost_desktop.cli.main import main

    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_unknown_filter_exits_2_with_close_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert _run(capsys, home, "demo", "--days", "10", "--seed", "3")[0] == 0
    code, out, err = _run(capsys, home, "report", "--provider", "opnai")
    assert code == 2 and "provider='opnai'" in err and "did you mean 'openai'?" in err and "$" not in out
    code, out, err = _run(capsys, home, "export", "--out", str(tmp_path / "x.csv"), "--provider", "anthropik")
    assert code == 2 and "did you mean 'anthropic'?" in err and "exported" not in out
    assert not (tmp_path / "x.csv").exists()
