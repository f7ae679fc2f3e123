"""`prices update` validation and installation, and overrides read from a real ledger database."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.pricing.update import install_catalog, validate_update

D = Decimal


def _entries(n: int, price: float = 1e-06) -> dict[str, dict[str, float]]:
    return {f"model-{i}": {"input_cost_per_token": price, "output_cost_per_token": 2 * price} for i in range(n)}


@pytest.fixture
def current(tmp_path: Path) -> PriceCatalog:
    f = tmp_path / "current.json"
    f.write_text(json.dumps(_entries(10)))
    return PriceCatalog.load(user_file=f)


def _write(tmp_path: Path, doc: object, name: str = "new.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


def test_accepts_a_plausible_update(current: PriceCatalog, tmp_path: Path) -> None:
    doc = _entries(12)
    doc["model-0"]["input_cost_per_token"] = 3e-06  # 3x: allowed
    doc["sample_spec"] = {"input_cost_per_token": 0}
    s = validate_update(current, _write(tmp_path, doc), force=False)
    assert (s.models_before, s.models_after) == (10, 12)
    assert s.added == ["model-10", "model-11"] and s.removed == [] and s.changed == ["model-0"]
    assert s.big_moves == []


@pytest.mark.parametrize("text,reason", [("[1, 2]", "must be a JSON object"), ("{not json", "not a LiteLLM price map"),
                                         ('{"sample_spec": {}}', "contains no model entries")])
def test_refuses_non_price_maps_even_with_force(current: PriceCatalog, tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(InputError) as exc:
        validate_update(current, _write(tmp_path, text), force=True)
    assert exc.value.field == "--from" and reason in exc.value.reason


def test_refuses_missing_file(current: PriceCatalog, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        validate_update(current, tmp_path / "nope.json")


def test_refuses_dropping_more_than_half_unless_forced(current: PriceCatalog, tmp_path: Path) -> None:
    path = _write(tmp_path, _entries(4))
    with pytest.raises(InputError) as exc:
        validate_update(current, path)
    assert "would drop 6 of 10 models (more than half)" in exc.value.reason
    assert validate_update(current, path, force=True).forced
    assert validate_update(current, _write(tmp_path, _entries(5), "half.json")).removed == [
        "model-5", "model-6", "model-7", "model-8", "model-9"]  # exactly half is allowed


@pytest.mark.parametrize("new_price,refused", [(1e-05, False), (1.0001e-05, True), (1e-07, False),
                                               (9.9e-08, True), (0.0, True)])
def test_refuses_price_moves_over_10x(current: PriceCatalog, tmp_path: Path, new_price: float, refused: bool) -> None:
    doc = _entries(10)
    doc["model-3"]["input_cost_per_token"] = new_price
    path = _write(tmp_path, doc)
    if refused:
        with pytest.raises(InputError, match="by more than 10x: model-3 input 1 ->"):
            validate_update(current, path)
        assert validate_update(current, path, force=True).big_moves
    else:
        assert validate_update(current, path).big_moves == []


def test_install_is_atomic_copy(tmp_path: Path) -> None:
    src = _write(tmp_path, _entries(3))
    target = tmp_path / "home" / "model_prices.json"
    install_catalog(src, target)
    assert target.read_bytes() == src.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["model_prices.json"]  # no temp file left


def test_overrides_from_the_ledger_database(tmp_path: Path) -> None:
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.tables import PriceOverride

    db = Database.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    try:
        with db.session() as s:
            s.add(PriceOverride(model_key="gpt-4o-mini", effective_from=date(2026, 1, 1),
                                input_per_mtok=D("0.1"), output_per_mtok=D("0.4"), cache_read_per_mtok=None,
                                cache_write_5m_per_mtok=None, cache_write_1h_per_mtok=None, note="negotiated"))
        cat = PriceCatalog.load(db=db)
        usage = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)
        assert cat.cost_of("gpt-4o-mini", usage, ServiceTier.STANDARD, date(2026, 2, 1)) == D("0.5")
        assert cat.cost_of("gpt-4o-mini", usage, ServiceTier.STANDARD, date(2025, 12, 31)) == D("0.75")
        assert cat.lookup("gpt-4o-mini", date(2026, 2, 1)).note == "negotiated"
    finally:
        db.dispose()
