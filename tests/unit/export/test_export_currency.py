"""Exports say which currency: amounts as recorded, each row with its currency (never converted)."""

from __future__ import annotations

import csv
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
