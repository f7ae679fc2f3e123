"""The first import's bulk path: the DB-ready rows are the rows the records would store, the request
pricer's integer units are the catalog's Decimal cost, and the checks a record made still hold."""

from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.importers.base import Billing, ImportReport
from aicost_desktop.importers.claude_code import ClaudeCodeImporter, discover_roots
from aicost_desktop.importers.request_pricer import RequestPricer
from aicost_desktop.importers.runner import import_claude_code
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.storage.ledger import INSERT_COLUMNS, _native_rows, record_to_row
from aicost_desktop.storage.types import money_to_units

from .conftest import fake_pricer

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from benchmarks.claude_logs_gen import generate  # noqa: E402


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> PriceCatalog:
    return PriceCatalog.load(user_file=tmp_path_factory.mktemp("cat") / "absent.json")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    generate(root, days=2, sessions_per_day=4, seed=7)
    return root / "projects"


def test_units_are_the_catalogs_cost_in_ledger_units(catalog: PriceCatalog) -> None:
    fast = RequestPricer(catalog.cost_of)
    rng = random.Random(9)
    models = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-opus-4-6-fast", "claude-haiku-4-5-20251001",
              "claude-sonnet-4-20250514", "anthropic/claude-sonnet-4-5", "gpt-4o", "no-such-model-xyz"]
    seen_integer = False
    for _ in range(4000):
        tokens = (rng.randint(0, 9000), rng.randint(0, 9000), rng.choice([0, rng.randint(0, 400_000)]),
                  rng.randint(0, 30_000), rng.choice([0, 7000]))
        inp, out, cr, w5, w1 = tokens
        model = rng.choice(models)
        tier = rng.choice([ServiceTier.STANDARD, ServiceTier.STANDARD, ServiceTier.BATCH, ServiceTier.PRIORITY])
        day = rng.choice([date(2026, 3, 1), date(2025, 6, 1)])
        want = catalog.cost_of(model, TokenUsage(inp, out, cr, w5, w1, 0, True, 1), tier, day)
        units, exact = fast.units(model, tier, day, inp, out, cr, w5, w1)
        assert units == (None if want is None else money_to_units(want)), (model, tokens, tier, day)
        assert exact is None or exact == want
        seen_integer |= units is not None and exact is None
    assert seen_integer  # the integer path was taken, not only the Decimal one


@pytest.mark.parametrize("billing, workspace", [(Billing.PER_TOKEN, None), (Billing.SUBSCRIPTION, 4)])
def test_bulk_rows_are_what_the_records_would_store(folder: Path, claude_home: Path, catalog: PriceCatalog,
                                                    billing: Billing, workspace: int | None) -> None:
    for roots, pricer in (([folder], catalog.cost_of), (discover_roots(env={}, home=claude_home), fake_pricer)):
        importer = ClaudeCodeImporter(roots, pricer, ImportReport(), billing, workspace)
        files = importer._list()
        entries = list(importer._entries([(i, 0) for i in range(len(files))], 0))
        assert len(entries) > 10
        got = {k: v[:-1] for k, v in importer._rows(entries, 1).items()}  # all but updated_at
        want = {k: v[:-1] for k, v in _native_rows([importer._record(e) for e in entries], 1, "").items()}
        assert got == want


def test_a_first_import_stores_the_records(folder: Path, catalog: PriceCatalog, db_url: str) -> None:
    """On SQLite through the bulk rows, on PostgreSQL through the records: the same stored values."""
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.tables import UsageRow as U

    db = Database.open(db_url)
    try:
        report = import_claude_code(db, catalog.cost_of, path=folder.parent, page_size=50)
        records = list(ClaudeCodeImporter([folder], catalog.cost_of, ImportReport()).records())
        assert report.added == len(records) > 100 and report.updated == 0
        columns = [c for c in INSERT_COLUMNS if c not in ("workspace_id", "updated_at")]
        with db.session() as s:
            stored = {r.dedup_key: tuple(getattr(r, c) for c in columns)
                      for r in s.execute(select(*(getattr(U, c) for c in columns)))}
        ws = db.default_workspace_id()
        assert stored == {r.dedup_key: tuple(record_to_row(r, ws)[c] for c in columns) for r in records}
    finally:
        db.dispose()


def _line(mid: str, rid: str, *, model: str = "claude-sonnet-4-5-20250929", tier: str = "standard") -> str:
    return json.dumps({"isSidechain": False, "message": {
        "model": model, "id": mid, "type": "message", "role": "assistant", "content": [],
        "usage": {"input_tokens": 3, "output_tokens": 5, "service_tier": tier}},
        "requestId": rid, "type": "assistant", "timestamp": "2026-03-01T10:00:00.000Z"}) + "\n"


def _write(tmp_path: Path, project: str, *lines: str) -> Path:
    folder = tmp_path / "claude" / "projects" / project
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text("".join(lines), encoding="utf-8")
    return tmp_path / "claude"


def test_a_dedup_key_too_long_only_together_rejects_its_line(tmp_path: Path, db) -> None:
    root = _write(tmp_path, "p", _line("m" * 188, "r" * 200), _line("msg_ok", "req_ok"))
    report = import_claude_code(db, fake_pricer, path=root)
    assert report.added == 1 and report.rejected_total == 1
    assert report.rejected[0].line == 1 and "dedup_key" in report.rejected[0].reason


def test_a_model_named_as_an_unchecked_tier_is_still_checked(tmp_path: Path, db) -> None:
    odd = "std\u202edrawkcab"
    root = _write(tmp_path, "p", _line("msg_1", "req_1", tier=odd), _line("msg_2", "req_2", model=odd))
    report = import_claude_code(db, fake_pricer, path=root)
    assert report.added == 1 and report.rejected_total == 1
    assert report.rejected[0].line == 2 and "message.model" in report.rejected[0].reason


def test_an_unprintable_project_folder_is_an_input_error(tmp_path: Path, db) -> None:
    root = _write(tmp_path, "bell\x07", _line("msg_1", "req_1"))
    with pytest.raises(InputError) as exc:
        import_claude_code(db, fake_pricer, path=root)
    assert exc.value.field == "project"



def test_bulk_inserter_commits_in_groups_refuses_known_keys_and_rolls_back(folder: Path, catalog: PriceCatalog,
                                                                           db) -> None:
    from sqlalchemy import func

    from aicost_desktop.storage import ledger
    from aicost_desktop.storage.tables import UsageHourly as H, UsageRow as U

    importer = ClaudeCodeImporter([folder], catalog.cost_of, ImportReport())
    files = importer._list()
    entries = list({e[1]: e for e in importer._entries([(i, 0) for i in range(len(files))], 0)}.values())
    rows = importer._rows(entries, db.default_workspace_id())
    keys = sorted(rows)
    assert len(keys) >= 150
    pages = [{k: rows[k] for k in keys[i:i + 30]} for i in range(0, 150, 30)]
    told: list[set] = []
    ledger.add_listener(told.append)

    def stored() -> tuple[int, int, int, int, int]:  # rows and input tokens, in the ledger and its roll-up
        with db.session() as s:
            n, tokens = s.execute(select(func.count(U.id), func.coalesce(func.sum(U.input_tokens), 0))).one()
            hourly, rolled = s.execute(select(func.coalesce(func.sum(H.rows), 0),
                                              func.coalesce(func.sum(H.input_tokens), 0))).one()
        return n, tokens, hourly, rolled, len(told)

    def tokens(*ps: dict) -> int:
        return sum(r[INSERT_COLUMNS.index("input_tokens")] for p in ps for r in p.values())

    try:
        bulk = ledger.BulkInserter(db, rows_per_commit=80, seconds_per_commit=600)
        assert bulk.insert(pages[0]).added == 30 and bulk.insert(pages[1]).added == 30
        assert stored() == (0, 0, 0, 0, 0)  # one open transaction: nothing committed yet
        assert bulk.insert(pages[2]).added == 30  # 90 rows: committed, listeners told once
        committed = (90, tokens(*pages[:3]), 90, tokens(*pages[:3]), 1)
        assert stored() == committed
        assert bulk.insert({**pages[3], **pages[0]}) is None  # a stored key: nothing of the page written
        bulk.commit()
        assert stored() == committed
        assert bulk.insert(pages[3]).added == 30
        bulk.abort()
        assert stored() == committed
        assert bulk.insert(pages[4]).added == 30
        bulk.close()
        assert stored() == (120, tokens(*pages[:3], pages[4]), 120, tokens(*pages[:3], pages[4]), 2)
        with db.session() as s:
            assert s.execute(select(func.count()).select_from(U).where(U.dedup_key.in_(
                [k[1] for k in pages[3]]))).scalar() == 0
    finally:
        ledger.remove_listener(told.append)
