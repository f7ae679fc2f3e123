"""Console CSV exports and the mapped generic CSV: exact totals, row rejects, idempotent re-import."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.errors import InputError
from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.csv_common import iter_csv, normalize_model
from aicost_desktop.importers.csv_generic import parse_mapping
from aicost_desktop.importers.runner import csv_format, import_csv

from .conftest import ledger_totals

GENERIC_MAP = ["Day=date", "Vendor=provider", "Model=model", "Cost=amount", "Cur=currency", "Memo=note",
               "Team=project"]


def _parse(path: Path, fmt: str, pricer, mapping=()):
    report = ImportReport()
    recs = collect(iter_csv(path, csv_format(fmt, pricer, mapping), report))
    return recs, report


def _rejects(report: ImportReport) -> list[tuple[int, str]]:
    return [(r.line, r.reason) for r in report.rejected]


def test_openai_costs_export(csv_dir: Path, pricer) -> None:
    recs, report = _parse(csv_dir / "openai_costs.csv", "openai-costs", pricer)
    assert sum(r.reported_cost for r in recs) == Decimal("2.30083598")
    assert (len(recs), report.skipped) == (4, 1)  # line 2 is an empty bucket
    assert [line for line, _ in _rejects(report)] == [7, 8]
    assert "amount_currency='5O'" in report.rejected[0].reason
    assert "amount_value='abc'" in report.rejected[1].reason
    r = next(r for r in recs if r.line_item == "gpt-5-nano, output_tokens")
    assert (r.model, r.project, r.api_key_id, r.currency, r.provider) == ("gpt-5-nano", "Proj A", "key_1", "USD", "openai")
    assert r.bucket_start == datetime(2026, 9, 28, tzinfo=timezone.utc)
    assert r.bucket_end == datetime(2026, 9, 29, tzinfo=timezone.utc)
    assert all(r.computed_cost is None for r in recs)


def test_anthropic_usage_export(csv_dir: Path, pricer) -> None:
    recs, report = _parse(csv_dir / "anthropic_usage.csv", "anthropic-usage", pricer)
    assert len(recs) == 3 and report.skipped == 1
    assert _rejects(report) == [(6, "usage_input_tokens_no_cache='12.5': must be a whole number of tokens")]
    assert sum(r.usage.input_tokens for r in recs) == 3010
    assert sum(r.usage.output_tokens for r in recs) == 720
    assert (sum(r.usage.cache_read_tokens for r in recs), sum(r.usage.cache_write_5m_tokens for r in recs),
            sum(r.usage.cache_write_1h_tokens for r in recs)) == (5000, 200, 100)
    fast = next(r for r in recs if r.model and r.model.endswith("-fast"))
    assert fast.model == "claude-opus-4-6-fast" and fast.computed_cost is None
    first = next(r for r in recs if r.model == "claude-sonnet-4-5-20250929")
    assert first.computed_cost == Decimal("0.006600") and first.reported_cost is None
    assert first.bucket_end - first.bucket_start == datetime(2026, 1, 2) - datetime(2026, 1, 1)


def test_anthropic_cost_export(csv_dir: Path, pricer) -> None:
    recs, report = _parse(csv_dir / "anthropic_cost.csv", "anthropic-cost", pricer)
    assert sum(r.reported_cost for r in recs) == Decimal("0.4800000001")
    assert sorted({r.model or "" for r in recs}) == ["", "claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5"]
    assert [line for line, _ in _rejects(report)] == [7, 8]
    assert "cost_usd='-0.30': must not be negative" in report.rejected[0].reason
    assert "usage_date_utc='August'" in report.rejected[1].reason
    web = next(r for r in recs if r.model is None)
    assert (web.line_item, web.api_key_id) == ("web_search", "apikey_01BBB")


def test_generic_csv_with_mapping(csv_dir: Path, pricer) -> None:
    recs, report = _parse(csv_dir / "generic.csv", "generic", pricer, GENERIC_MAP)
    assert [line for line, _ in _rejects(report)] == [5, 6]
    assert report.rejected[0].reason == "Cost='1e2x': must be a decimal number such as 12.50"
    assert report.rejected[1].reason.startswith("Cur='XYZ': unknown currency")
    assert len(recs) == 5  # the two identical Mistral rows stay two rows
    eur = [r for r in recs if r.currency == "EUR"]
    usd = [r for r in recs if r.currency == "USD"]
    assert sum(r.reported_cost for r in eur) == Decimal("25.00")
    assert sum(r.reported_cost for r in usd) == Decimal("6.10")
    assert {r.provider for r in recs} == {"mistral", "perplexity", "groq"}
    multi = next(r for r in recs if r.note and "multi" in r.note)
    assert multi.note == "multi\nline note" and multi.project == "infra"


def test_generic_csv_keeps_formula_like_text_verbatim(csv_dir: Path, pricer, db) -> None:
    from aicost_desktop.storage.tables import UsageRow

    import_csv(db, pricer, csv_dir / "generic.csv", "generic", GENERIC_MAP)
    with db.session() as s:
        notes = set(s.scalars(select(UsageRow.note)))
    assert {'=HYPERLINK("http://evil.example","click")', "@SUM(A1:A9)", "-cmd|' /C calc'!A0"} <= notes


def test_generic_dates_are_whole_local_days(tmp_path: Path, pricer) -> None:
    f = tmp_path / "g.csv"
    f.write_text("when,usd,tokens_in,m\n2026-03-29,1,,\n2026-03-30T12:00:00Z,,1000,m1\n", encoding="utf-8")
    report = ImportReport()
    fmt = csv_format("generic", pricer, ["when=date", "usd=amount", "tokens_in=input_tokens", "m=model"],
                     tz=ZoneInfo("Europe/Berlin"))
    day, point = collect(iter_csv(f, fmt, report))
    assert day.bucket_start == datetime(2026, 3, 28, 23, tzinfo=timezone.utc)
    assert day.bucket_end == datetime(2026, 3, 29, 22, tzinfo=timezone.utc)  # DST starts that day
    assert point.bucket_start == point.bucket_end == datetime(2026, 3, 30, 12, tzinfo=timezone.utc)
    assert point.reported_cost is None and point.computed_cost == Decimal("0.001")


@pytest.mark.parametrize("fmt,name", [("openai-costs", "openai_costs.csv"), ("anthropic-usage", "anthropic_usage.csv"),
                                      ("anthropic-cost", "anthropic_cost.csv")])
def test_importing_a_file_twice_changes_nothing(csv_dir: Path, pricer, db, fmt: str, name: str) -> None:
    first = import_csv(db, pricer, csv_dir / name, fmt)
    once = ledger_totals(db)
    second = import_csv(db, pricer, csv_dir / name, fmt)
    assert first.added > 0 and (second.added, second.updated) == (0, 0)
    assert second.skipped == first.added + first.skipped
    assert ledger_totals(db) == once


def test_generic_import_twice_and_detail_role(csv_dir: Path, pricer, db) -> None:
    import_csv(db, pricer, csv_dir / "generic.csv", "generic", GENERIC_MAP)
    again = import_csv(db, pricer, csv_dir / "generic.csv", "generic", GENERIC_MAP)
    assert (again.added, again.updated, ledger_totals(db)["rows"]) == (0, 0, 5)
    detail = import_csv(db, pricer, csv_dir / "generic.csv", "generic", GENERIC_MAP, role=CostRole.DETAIL)
    assert (detail.added, detail.updated) == (0, 5)  # same rows, new role: not new spend
    assert ledger_totals(db)["cost"] == 0


def test_wrong_file_names_missing_columns(csv_dir: Path, pricer) -> None:
    with pytest.raises(InputError) as exc:
        _parse(csv_dir / "generic.csv", "anthropic-cost", pricer)
    assert "usage_date_utc" in str(exc.value) and "Day, Vendor" in str(exc.value)
    with pytest.raises(InputError, match="does not exist"):
        _parse(csv_dir / "nope.csv", "openai-costs", pricer)


def test_mapping_errors_name_the_item() -> None:
    with pytest.raises(InputError, match="unknown field 'price'"):
        parse_mapping(["Day=date", "Cost=price"])
    with pytest.raises(InputError, match="must be COLUMN=FIELD"):
        parse_mapping(["Day"])
    with pytest.raises(InputError, match="mapped to date"):
        parse_mapping(["Cost=amount"])
    with pytest.raises(InputError, match="mapped twice"):
        parse_mapping(["Day=date", "D2=date"])
    assert parse_mapping(["a=b=date", "Cost=amount"]) == {"date": "a=b", "amount": "Cost"}


def test_extra_cells_and_blank_rows(tmp_path: Path, pricer) -> None:
    f = tmp_path / "g.csv"
    f.write_text("d,a\n2026-01-01,1\n\n,\n2026-01-02,2,oops\n", encoding="utf-8")
    recs, report = _parse(f, "generic", pricer, ["d=date", "a=amount"])
    assert len(recs) == 1 and _rejects(report) == [(5, "has 1 more cell(s) than the header")]


def test_normalize_model() -> None:
    assert normalize_model("Claude Sonnet 4.5") == "claude-sonnet-4-5"
    assert normalize_model("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5-20250929"
    assert normalize_model("  ") is None
