"""Exports say which currency: amounts as recorded, each row with its currency (never converted), one total per
currency (converted only in words, at the rates named)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main
from aicost_desktop.export.writer import with_currency


def test_an_amount_column_brings_the_currency_column() -> None:
    assert with_currency(("id", "cost", "note")) == ("id", "cost", "currency", "note")
    assert with_currency(("reported_cost", "id", "computed_cost")) == ("reported_cost", "id", "computed_cost",
                                                                        "currency")
    assert with_currency(("id", "currency", "cost")) == ("id", "currency", "cost")
    assert with_currency(("id", "note")) == ("id", "note")


def test_cli_export_keeps_each_rows_currency_as_recorded(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"

    def run(*args: str) -> int:
        code = main(["--home", str(home), *args])
        capsys.readouterr()
        return code

    assert run("manual", "add", "--service", "Art", "--amount", "54", "--currency", "EUR", "--date", "2026-03-01") == 0
    assert run("manual", "add", "--service", "Ops", "--amount", "10", "--date", "2026-03-02") == 0
    out = tmp_path / "m.csv"
    assert run("export", "--out", str(out), "--columns", "id,cost") == 0
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["id", "cost", "currency"]
    assert sorted((r["cost"], r["currency"]) for r in rows) == [("10.00", "USD"), ("54.00", "EUR")]


def test_cli_export_help_says_amounts_are_not_converted(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "in each row's own currency" in text and "not converted to the display currency" in text


def _three_currencies(db) -> None:  # type: ignore[no-untyped-def]
    from aicost_desktop.manual import ManualEntry, add_entry

    # Interleaved, so a batch of two holds two currencies (the per-row path) and one of one a single currency.
    for day, amount, cur in ((1, "10", "USD"), (2, "54", "EUR"), (3, "2.50", "USD"), (4, "20", "GBP"),
                             (5, "0.0001", "EUR")):
        add_entry(db, ManualEntry(service=f"S{day}", amount=amount, entry_date=date(2026, 3, day), currency=cur))


@pytest.mark.parametrize("fmt,batch", [("csv", 2), ("csv", 5000), ("json", 2), ("ndjson", 1)])
def test_export_totals_are_one_per_currency_never_added_across(sqlite_db, tmp_path: Path, fmt: str,
                                                                batch: int) -> None:
    from zoneinfo import ZoneInfo

    from aicost_desktop.export.writer import ExportSpec, export

    _three_currencies(sqlite_db)
    res = export(sqlite_db, ZoneInfo("UTC"), ExportSpec(fmt, tmp_path / f"x.{fmt}", batch_size=batch))
    assert res.rows == 5
    assert res.totals == {"EUR": Decimal("54.0001"), "GBP": Decimal("20"), "USD": Decimal("12.50")}
    assert res.cost_text() == "54.00 EUR + 20.00 GBP + $12.50"


def test_an_empty_export_costs_nothing_in_the_asked_currency(sqlite_db, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from aicost_desktop.export.writer import ExportSpec, export

    res = export(sqlite_db, ZoneInfo("UTC"), ExportSpec("csv", tmp_path / "x.csv"))
    assert res.totals == {} and res.cost_text("EUR") == "0.00 EUR" and res.cost_text() == "$0.00"


def test_cost_summary_converts_with_the_display_currency_and_names_the_rates(tmp_path: Path) -> None:
    from aicost_desktop.export.writer import ExportResult
    from aicost_desktop.runtime.export import cost_summary

    fx = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
    units = 10_000_000_000
    one = ExportResult(tmp_path / "x.csv", 1, {"EUR": 54 * units})
    assert cost_summary(one, "EUR", fx) == "54.00 EUR"  # one currency, the display one: nothing to convert
    mixed = ExportResult(tmp_path / "x.csv", 3, {"USD": 10 * units, "EUR": 54 * units, "GBP": 20 * units})
    # 10 / 1.08 + 54 + 20 * 1.27 / 1.08 = 9.259... + 54 + 23.518... = 86.78 EUR
    assert cost_summary(mixed, "EUR", fx) == ("86.78 EUR at your rates (1 EUR = 1.08 USD, 1 GBP = 1.27 USD); in the "
                                              "file, each row in its own currency: 54.00 EUR + 20.00 GBP + $10.00")
    assert cost_summary(one, "USD", fx) == ("$58.32 at your rates (1 EUR = 1.08 USD); in the file, each row in its "
                                            "own currency: 54.00 EUR")
    no_rate = ExportResult(tmp_path / "x.csv", 2, {"USD": units, "SEK": units})
    assert cost_summary(no_rate, "USD", fx) == ("no total: Settings has no exchange rate for SEK; in the file, each "
                                                "row in its own currency: 1.00 SEK + $1.00")


def test_cli_export_says_one_sum_per_currency(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    assert main(["--home", str(home), "manual", "add", "--service", "Art", "--amount", "54", "--currency", "EUR",
                 "--date", "2026-03-01"]) == 0
    assert main(["--home", str(home), "manual", "add", "--service", "Ops", "--amount", "10",
                 "--date", "2026-03-02"]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "export", "--out", str(tmp_path / "m.csv")]) == 0
    assert "(sum of cost: 54.00 EUR + $10.00)" in capsys.readouterr().out  # not "$64.00"


def test_every_column_has_words_and_what_it_holds() -> None:
    from aicost_desktop.export.writer import ALL_COLUMNS, COLUMN_WORDS

    assert list(COLUMN_WORDS) == list(ALL_COLUMNS)
    words = [w for w, _ in COLUMN_WORDS.values()]
    assert len(set(words)) == len(words) and all(w[0].isupper() and "_" not in w for w in words)
    assert COLUMN_WORDS["computed_cost"][0] == "Computed cost" and COLUMN_WORDS["line_item"][0] == "Line item"
