"""Unpriced models end to end (import or sync -> alert -> `prices set` reprices and closes it) and
`aicost analytics reconcile` per day and model."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main

MODEL = "acme-coder-9"  # no price source knows it


def run(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(home, capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def claude_line(msg: str, model: str, when: str, inp: int, out: int) -> str:
    """One assistant line of a Claude Code transcript (the shape of tests/fixtures/claude)."""
    return json.dumps({"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/tmp/proj",
                       "sessionId": "s-1", "version": "2.1.63", "type": "assistant", "uuid": f"u-{msg}",
                       "timestamp": when, "requestId": f"req_{msg}",
                       "message": {"type": "message", "role": "assistant", "model": model, "id": msg,
                                   "content": [{"type": "text", "text": "ok"}], "stop_reason": None,
                                   "usage": {"input_tokens": inp, "output_tokens": out}}})


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    d = tmp_path / "claude" / "projects" / "-tmp-proj"
    d.mkdir(parents=True)
    (d / "s-1.jsonl").write_text("\n".join([
        claude_line("m1", MODEL, "2026-03-02T08:00:00.000Z", 1_000_000, 100_000),
        claude_line("m2", MODEL, "2026-03-03T08:00:00.000Z", 500_000, 0),
        claude_line("m3", "claude-sonnet-4-5-20250929", "2026-03-03T09:00:00.000Z", 1_000, 10),
    ]) + "\n")
    return tmp_path / "claude"


def test_import_of_an_unknown_model_alerts_once_and_set_price_reprices_and_closes_it(
        tmp_path: Path, logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    code, out, err = run(home, capsys, "import", "claude-code", "--path", str(logs))
    assert code == 0 and out.startswith("added 3,"), err
    code, out, _ = run(home, capsys, "alerts", "list")
    (line,) = out.splitlines()
    assert line.startswith("*") and "unpriced_model" in line
    assert line.endswith(f"2 ledger rows of model {MODEL} have no price — set one (aicost prices set, or "
                         "'Set price' in the Analytics dock); until then their usage counts as $0 in spend and budgets.")
    # Importing again writes nothing new and raises nothing new.
    run(home, capsys, "import", "claude-code", "--path", str(logs))
    alerts = run_json(home, capsys, "alerts", "list")
    assert [a["type"] for a in alerts] == ["unpriced_model"]  # type: ignore[union-attr]
    rng = ("--from", "2026-03-01", "--to", "2026-03-31")
    before = run_json(home, capsys, "report", "--mode", "computed", "--group-by", "model", *rng)
    assert {r["model"]: r["unpriced_rows"] for r in before["rows"]}[MODEL] == 2  # type: ignore[index]

    code, out, _ = run(home, capsys, "prices", "set", MODEL, "--input-per-mtok", "2", "--output-per-mtok", "10")
    assert code == 0 and out.splitlines() == [
        f"set price of {MODEL} for all dates (USD per million tokens): input 2, output 10",
        f"repriced 2 of 2 ledger rows of {MODEL}"]
    # 1M x $2 + 0.1M x $10 = $3; 0.5M x $2 = $1. Reports in every mode see it at once.
    for mode in ("computed", "auto"):
        after = run_json(home, capsys, "report", "--mode", mode, "--group-by", "model", *rng)
        row = {r["model"]: r for r in after["rows"]}[MODEL]  # type: ignore[index]
        assert (row["cost_exact"], row["unpriced_rows"]) == ("4.00", 0), mode
    out_file = tmp_path / "x.ndjson"
    assert run(home, capsys, "export", "--format", "ndjson", "--out", str(out_file), *rng)[0] == 0
    exported = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert sum(Decimal(r["cost"]) for r in exported if r["model"] == MODEL) == Decimal(4)
    # Priced: the alert is closed (acknowledged), and the tray has nothing left to show for it.
    assert run(home, capsys, "alerts", "list", "--unacknowledged")[1] == "no alerts\n"


def test_a_sync_that_writes_unpriced_rows_alerts_once_for_that_account(ctx, capsys) -> None:  # type: ignore[no-untyped-def]
    from aicost_desktop.accounts import add_account
    from aicost_desktop.analytics.reconcile import unpriced_models
    from aicost_desktop.sync.http import HttpPolicy
    from aicost_desktop.account_sync import sync_account
    from tests.fakes.openai_fake import ADMIN_KEY, OpenAIFake

    now = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
    with OpenAIFake(now=now, days=6, models=("gpt-4o-2024-08-06", "acme-gpt-9")) as fake:
        acc = add_account(ctx.db, ctx.secrets, "openai", "org", ADMIN_KEY, fake.base_url + "/v1")
        first = sync_account(ctx, acc, policy=HttpPolicy(sleep=lambda s: None), now=now)
        assert first.ok and first.written.added, first.message
        again = sync_account(ctx, acc, policy=HttpPolicy(sleep=lambda s: None), now=now + timedelta(hours=1))
        assert again.ok, again.message
    n = {u.model: u.rows for u in unpriced_models(ctx.db)}["acme-gpt-9"]
    alerts = run_json(ctx.paths.home, capsys, "alerts", "list")
    assert [(a["type"], a["message"].split(" have no price")[0]) for a in alerts] == [  # type: ignore[index,union-attr]
        ("unpriced_model", f"{n} ledger rows of model acme-gpt-9")]
    from aicost_desktop.notify.alerts import list_alerts

    assert list_alerts(ctx.db)[0].account_id == acc


def test_reconcile_lists_days_and_models_and_flags_drift_over_two_percent(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.domain import DataSource, UsageRecord
    from aicost_desktop.domain.enums import CostRole
    from aicost_desktop.storage.ledger import upsert_records
    from aicost_desktop.storage.tables import Account

    home = tmp_path / "home"
    ctx = AppContext(home=home)
    with ctx.db.write_session() as s:
        a = Account(name="prod", provider="openai", workspace_id=ctx.db.default_workspace_id())
        s.add(a)
        s.flush()
        acc = a.id
    recs = []
    for i, (model, rep, comp) in enumerate([("gpt-4.1", "10", "10.1"), ("gpt-4.1", "10", "10.5"),
                                            ("gpt-4o-2024-08-06", "4", "4"), ("gpt-4o", "1", None)]):
        day = datetime(2026, 3, 1 + min(i, 2), tzinfo=timezone.utc)
        nxt = day + timedelta(days=1)
        recs.append(UsageRecord(DataSource.API, f"c{i}", "openai", day, nxt, model=model, account_id=acc,
                                reported_cost=Decimal(rep)))
        if comp is not None:
            recs.append(UsageRecord(DataSource.API, f"u{i}", "openai", day, nxt, model=model, account_id=acc,
                                    computed_cost=Decimal(comp), cost_role=CostRole.DETAIL))
    upsert_records(ctx.db, recs)
    ctx.close()
    rng = ("--from", "2026-03-01", "--to", "2026-03-31")
    code, out, _ = run(home, capsys, "analytics", "reconcile", *rng)
    assert code == 0 and out.splitlines() == [
        "Reported vs computed per day and model, 2026-03-01 .. 2026-03-31 (flag above 2%):",
        "  day         account  model    reported  computed   drift",
        # The undated gpt-4o cost row joins the dated model's rows of that day as the catalog groups them,
        # so its $1 is compared (and makes the drift) instead of being listed as reported-only.
        "  2026-03-03  prod     gpt-4o      $5.00     $4.00  -20.0%  FLAG",
        "  2026-03-02  prod     gpt-4.1    $10.00    $10.50   +5.0%  FLAG",
        "  3 model-days compared, 2 drift above 2%",
    ]
    # --all lists every compared day, flagged or not.
    code, out, _ = run(home, capsys, "analytics", "reconcile", "--all", *rng)
    lines = out.splitlines()
    assert code == 0 and lines[2:5] == [
        "  2026-03-03  prod     gpt-4o      $5.00     $4.00  -20.0%  FLAG",
        "  2026-03-02  prod     gpt-4.1    $10.00    $10.50   +5.0%  FLAG",
        "  2026-03-01  prod     gpt-4.1    $10.00    $10.10   +1.0%",
    ]
    data = run_json(home, capsys, "analytics", "reconcile", *rng)
    assert data["flagged"] == 2 and data["drift_limit_pct"] == 2.0  # type: ignore[index]
    first = data["models"][0]  # type: ignore[index]
    assert (first["reported"], first["computed"], first["drift_pct"]) == ("5.00", "4.00", -20.0)
