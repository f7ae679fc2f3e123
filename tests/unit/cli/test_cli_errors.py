"""Issue 15: every way `aicost` used to end in a traceback now ends in one `error:` line and exit 1 or 2,
and a rejected command writes nothing (plus the smaller fixes: newer ledgers, --home '', demo, exports)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main

LONG = "p" * 120_000


def run(capsys: pytest.CaptureFixture[str], home: Path | str, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err[:3000]
    assert "Traceback" not in err and "Background on this error" not in err and "[SQL:" not in err
    return lines[0]


def ledger_digest(home: Path) -> list[tuple[str, int]]:
    """Row counts of every table (and the cost sum): what a rejected command must leave alone."""
    con = sqlite3.connect(home / "ledger.sqlite3")
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        counts = [(t, con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables]
        return counts + [("cost", con.execute("SELECT coalesce(sum(cost), 0) FROM usage_records").fetchone()[0])]
    finally:
        con.close()


@pytest.fixture
def home(ledger_home: Path, capsys) -> Path:
    h = ledger_home
    assert run(capsys, h, "manual", "add", "--service", "Seed", "--amount", "5", "--date", "2024-01-02")[0] == 0
    assert run(capsys, h, "budgets", "add", "--name", "b1", "--amount", "50")[0] == 0
    return h


AMOUNT_COMMANDS = [  # --flag=VALUE, so that '-1e30' is a value and not an option
    ["manual", "add", "--service", "X", "--date", "2024-01-01", "--amount={v}"],
    ["subscriptions", "add", "--service", "X", "--period", "monthly", "--start", "2024-01-01", "--amount={v}"],
    ["budgets", "add", "--name", "big", "--amount={v}"],
    ["prices", "set", "m", "--output-per-mtok", "1", "--input-per-mtok={v}"],
    ["prices", "set", "m", "--input-per-mtok", "1", "--output-per-mtok", "1", "--cache-read-per-mtok={v}"],
    ["analytics", "anomalies", "--min-dollars={v}"],
]


@pytest.mark.parametrize("value", ["1e30", "1e309", "-1e30", "922337204", "NaN", "Infinity"])
@pytest.mark.parametrize("command", AMOUNT_COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_amounts_beyond_the_ledger_are_one_error_line_and_store_nothing(home: Path, capsys, command, value) -> None:
    before = ledger_digest(home)
    code, _, err = run(capsys, home, *[a.format(v=value) for a in command])
    line = one_error(err)
    assert code == 2 and repr(value) in line, line
    assert ledger_digest(home) == before


def test_the_largest_amount_one_row_holds_is_accepted_and_many_of_them_still_sum(home: Path, capsys) -> None:
    """One row holds at most a million: rows are summed per hour, day and report in the 64-bit money columns
    (~$922M), so rows of ~$900M each passed alone and then overflowed their hour's sum, aborting the command."""
    for i in range(3):
        code, _, err = run(capsys, home, "manual", "add", "--service", "Max", "--amount", "1000000",
                           "--date", "2024-01-03", "--note", f"n{i}")
        assert code == 0, err
    before = ledger_digest(home)
    code, _, err = run(capsys, home, "manual", "add", "--service", "Max", "--amount", "900000000",
                       "--date", "2024-01-03")
    assert code == 2 and "amount='900000000': is more than 1,000,000, the most one ledger row holds" in one_error(err)
    assert ledger_digest(home) == before
    code, out, err = run(capsys, home, "report", "--from", "2024-01-03", "--to", "2024-01-03", "--json")
    assert code == 0 and json.loads(out)["total"] == "3000000.00", err


ID_COMMANDS = [
    ["manual", "edit", "{v}", "--service", "X", "--amount", "1", "--date", "2024-01-01"],
    ["manual", "delete", "{v}"], ["alerts", "ack", "{v}"], ["subscriptions", "remove", "{v}"],
    ["accounts", "enable", "{v}"], ["accounts", "disable", "{v}"], ["accounts", "remove", "{v}"],
    ["budgets", "remove", "{v}"],
]


@pytest.mark.parametrize("value", [str(10**30), str(2**63), "9" * 5000])
@pytest.mark.parametrize("command", ID_COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_ids_beyond_64_bits_are_one_error_line(home: Path, capsys, command, value) -> None:
    before = ledger_digest(home)
    code, _, err = run(capsys, home, *[a.format(v=value) for a in command])
    line = one_error(err)
    assert code == 2 and len(line) < 300, line
    assert ledger_digest(home) == before


@pytest.mark.parametrize("command", [
    ["manual", "add", "--service", "X", "--amount", "1", "--date", "2024-01-01", "--input-tokens", str(10**30)],
    ["cost", "--model", "gpt-4o", "--output-tokens", str(10**30)],
])
def test_token_counts_beyond_the_columns_are_one_error_line(home: Path, capsys, command) -> None:
    code, _, err = run(capsys, home, *command)
    assert code == 2 and "must be <=" in one_error(err)


@pytest.mark.parametrize("command", [
    ["import", "csv", LONG, "--format", "openai-costs"],
    ["import", "claude-code", "--path", LONG],
    ["import", "codex", "--path", "/tmp/" + LONG],
    ["export", "--out", LONG],
    ["export", "--out", "/tmp/" + "q" * 200 + "/" + LONG],
    ["prices", "update", "--from", LONG],
])
def test_120000_character_paths_are_one_short_error_line(home: Path, capsys, command) -> None:
    code, _, err = run(capsys, home, *command)
    line = one_error(err)
    assert code in (1, 2) and len(line) < 500, line[:500]


@pytest.mark.parametrize("make,needle", [
    (lambda t: "", "must not be empty"),
    (lambda t: " ", "must not be empty"),
    (lambda t: str(t / "file.txt"), "is a file"),
    (lambda t: str(t / "file.txt" / "home"), "is a file"),
    (lambda t: "/proc/self", "inside /proc"),
    (lambda t: "/proc/aicost-home", "inside /proc"),
    (lambda t: LONG, "too long"),
])
def test_bad_home_is_one_error_line(tmp_path: Path, capsys, monkeypatch, make, needle) -> None:
    monkeypatch.chdir(tmp_path)  # a relative home ('  ') accepted by mistake lands here
    (tmp_path / "file.txt").write_text("not a folder")
    code, _, err = run(capsys, make(tmp_path), "report")
    line = one_error(err)
    assert code == 2 and line.startswith("error: --home=") and needle in line, line[:300]


def test_empty_home_never_falls_back_to_the_real_data_folder(tmp_path: Path, capsys, monkeypatch) -> None:
    default = tmp_path / "default-home"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AICOST_HOME", str(default))
    code, _, err = run(capsys, "", "manual", "add", "--service", "X", "--amount", "1", "--date", "2024-01-01")
    assert code == 2 and "--home=''" in one_error(err)
    assert not (default / "ledger.sqlite3").exists()


def test_an_empty_aicost_home_is_refused_not_the_real_data_folder(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("AICOST_HOME", "")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # where the real data folder would be
    code = main(["manual", "add", "--service", "X", "--amount", "1", "--date", "2024-01-01"])
    assert code == 2 and "AICOST_HOME (environment)='': must not be empty" in one_error(capsys.readouterr().err)
    assert not (tmp_path / "xdg").exists()


def test_aicost_home_that_is_a_file_names_the_variable(tmp_path: Path, capsys, monkeypatch) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    monkeypatch.setenv("AICOST_HOME", str(f))
    code = main(["report"])
    assert code == 2 and "AICOST_HOME" in one_error(capsys.readouterr().err)


@pytest.mark.parametrize("content,kind", [("[1, 2]", "list"), ('"x"', "str"), ("null", "null"), ("3", "int")])
def test_settings_file_that_is_not_an_object_is_an_error_naming_it(tmp_path: Path, capsys, content, kind) -> None:
    h = tmp_path / "home"
    h.mkdir()
    (h / "settings.json").write_text(content)
    code, _, err = run(capsys, h, "report")
    line = one_error(err)
    assert code == 2 and str(h / "settings.json") in line and kind in line, line
    assert (h / "settings.json").read_text() == content  # never overwritten with defaults


def _settings(h: Path, **values: object) -> None:
    h.mkdir(parents=True, exist_ok=True)
    (h / "settings.json").write_text(json.dumps(values))


def test_bad_time_zone_names_its_source(tmp_path: Path, capsys, monkeypatch) -> None:
    h = tmp_path / "home"
    _settings(h, timezone="Mars/Olympus")
    monkeypatch.delenv("AICOST_TZ")
    code, _, err = run(capsys, h, "report")
    line = one_error(err)
    assert code == 2 and "settings.json: timezone='Mars/Olympus'" in line, line
    # AICOST_TZ wins over the setting, and is named when it is the bad one.
    monkeypatch.setenv("AICOST_TZ", "Mars/Olympus")
    _settings(h)
    code, _, err = run(capsys, h, "report")
    assert code == 2 and "AICOST_TZ (environment)='Mars/Olympus'" in one_error(err)
    monkeypatch.delenv("AICOST_TZ")
    monkeypatch.setenv("TZ", "Mars/Olympus")
    code, _, err = run(capsys, h, "report")
    assert code == 2 and "TZ (environment)='Mars/Olympus'" in one_error(err)
    code, _, err = run(capsys, h, "--tz", "Europe", "report")  # a folder of zones, not a zone
    assert code == 2 and "--tz='Europe'" in one_error(err)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert run(capsys, h, "report")[0] == 0


@pytest.mark.parametrize("rate", ["NaN", "-100", "Infinity", "0", "abc", True, None])
def test_fx_rates_must_be_finite_and_positive(tmp_path: Path, capsys, rate) -> None:
    h = tmp_path / "home"
    _settings(h, fx_rates={"USD": "1", "EUR": rate})
    assert run(capsys, h, "manual", "add", "--service", "X", "--amount", "10", "--currency", "EUR",
               "--date", "2024-01-01")[0] == 0
    code, out, err = run(capsys, h, "report", "--from", "2024-01-01", "--to", "2024-01-31")
    line = one_error(err)
    assert code == 2 and "fx_rates.EUR=" in line and "settings.json" in line, line
    assert "NaN" not in out


@pytest.mark.parametrize("port", ["abc", 0, 70000, -1, True, "25 "])
def test_smtp_port_must_be_a_port_number(tmp_path: Path, capsys, port) -> None:
    h = tmp_path / "home"
    _settings(h, smtp={"host": "127.0.0.1", "port": port})
    assert run(capsys, h, "budgets", "add", "--name", "tiny", "--amount", "1", "--email", "a@example.com")[0] == 0
    code, _, err = run(capsys, h, "check")
    if port == "25 ":  # a number with a stray space is still that number
        assert "smtp.port" not in err, err
    else:
        assert code == 2 and "smtp.port=" in one_error(err), err


def test_accounts_add_rejected_for_its_name_stores_no_workspace(home: Path, capsys, monkeypatch) -> None:
    import keyring

    from tests.unit.cli.test_cli_fuzz import _MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(_MemoryKeyring())
    monkeypatch.setenv("K", "sk-test-key")
    try:
        assert run(capsys, home, "accounts", "add", "--provider", "openai", "--name", "org", "--key-env", "K")[0] == 0
        before = ledger_digest(home)
        code, _, err = run(capsys, home, "accounts", "add", "--provider", "openai", "--name", "org", "--key-env", "K",
                           "--workspace", "brand-new")
        assert code == 2 and "name='org'" in one_error(err)
        assert ledger_digest(home) == before
        code, _, err = run(capsys, home, "accounts", "add", "--provider", "openai", "--name", "org2", "--key-env",
                           "K", "--workspace", "w" * 101)
        assert code == 2 and "workspace=" in one_error(err)
        assert ledger_digest(home) == before
        code, _, err = run(capsys, home, "accounts", "add", "--provider", "openai", "--name", "org2", "--key-env",
                           "K", "--workspace", "w" * 100)
        assert code == 0, err
    finally:
        keyring.set_keyring(previous)


def test_ledger_of_a_newer_version_says_update_the_app_and_takes_no_backups(tmp_path: Path, capsys) -> None:
    h = tmp_path / "home"
    assert run(capsys, h, "report")[0] == 0
    con = sqlite3.connect(h / "ledger.sqlite3")
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    for _ in range(2):
        code, _, err = run(capsys, h, "report")
        line = one_error(err)
        assert code == 1 and "written by a newer AI Cost Tracker (revision 9999_future); update the app" in line
        assert "Can't locate revision" not in line
    assert list((h / "backups").iterdir()) == []


def test_database_errors_print_the_drivers_words_only(tmp_path: Path) -> None:
    """A real 'database is locked' from SQLAlchemy: one short line, no SQL, no documentation link."""
    from sqlalchemy import create_engine, text

    from aicost_desktop.cli.main import error_exit
    from sqlalchemy.exc import OperationalError

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    holder = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    holder.execute("CREATE TABLE t (a INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(url, connect_args={"timeout": 0})
    try:
        with pytest.raises(OperationalError) as caught:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": 1})
    finally:
        engine.dispose()
        holder.close()
    assert "Background on this error" in str(caught.value)  # what used to be printed
    assert error_exit(caught.value) == (1, "database error: database is locked")


def test_postgresql_shut_down_under_a_command_is_one_line(pg_url: str) -> None:
    """The server ends the session (what a stopped PostgreSQL does mid-import): AdminShutdown, one line."""
    from sqlalchemy import create_engine, text

    from aicost_desktop.cli.main import error_exit
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with pytest.raises(DBAPIError) as caught:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    code, message = error_exit(caught.value)  # type: ignore[misc]
    assert code == 1 and message.startswith("database error: ") and "\n" not in message
    assert "Background on this error" not in message and "terminating connection" in message


def test_full_disk_during_import_is_one_error_line_and_the_ledger_stays_whole(tmp_path: Path) -> None:
    """The ledger file may not grow past a limit (RLIMIT_FSIZE, as a full disk): the import fails with
    one line and exit 1, and what was stored before is intact."""
    resource = pytest.importorskip("resource")
    h = tmp_path / "home"
    env = {**os.environ, "AICOST_HOME": str(h), "AICOST_TZ": "UTC"}
    cli = [sys.executable, "-m", "aicost_desktop.cli.main"]
    seed = subprocess.run([*cli, "manual", "add", "--service", "Seed", "--amount", "5", "--date", "2024-01-02"],
                          env=env, capture_output=True, text=True)
    assert seed.returncode == 0, seed.stderr
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("date,amount,model,note\n")
        for i in range(40_000):
            fh.write(f"2024-02-{1 + i % 28:02d},{i % 97 + 1}.25,model-{i % 500},row {i} {'n' * 40}\n")
    limit = sum(p.stat().st_size for p in h.glob("ledger.sqlite3*")) + 256 * 1024

    def cap() -> None:  # the child may write at most `limit` bytes per file; past it, EFBIG as on a full disk
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([*cli, "import", "csv", str(big), "--format", "generic", "--map", "date=date",
                           "--map", "amount=amount", "--map", "model=model", "--map", "note=note"],
                          env=env, capture_output=True, text=True, preexec_fn=cap, timeout=300)
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-500:], proc.stderr[-3000:])
    one_error(proc.stderr)
    con = sqlite3.connect(h / "ledger.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM usage_records WHERE project = 'Seed'").fetchone()[0] == 1
    finally:
        con.close()


def test_export_removes_parts_a_killed_export_left_but_not_a_running_ones(home: Path, tmp_path: Path, capsys) -> None:
    import fcntl

    out = tmp_path / "out" / "spend.csv"
    out.parent.mkdir()
    stale = out.parent / ".spend.csv.k1ll3d.part"  # what mkstemp named the part of an export killed mid-way
    stale.write_text("id,cost\n1,")
    running = out.parent / ".spend.csv.running.part"
    running.write_text("id,cost\n")
    other = out.parent / ".other.csv.k1ll3d.part"  # another target's part: not ours to judge
    other.write_text("x")
    with running.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # an export in another process holds its part like this
        code, _, err = run(capsys, home, "export", "--out", str(out))
        assert code == 0, err
        assert not stale.exists() and running.exists() and other.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == [".other.csv.k1ll3d.part", ".spend.csv.running.part",
                                                            "spend.csv"]


def test_a_demo_killed_half_way_is_completed_by_the_next_one(tmp_path: Path, capsys) -> None:
    def report(h: Path) -> dict[str, object]:
        code, out, _ = run(capsys, h, "report", "--json", "--from", "2000-01-01", "--group-by", "source")
        assert code == 0
        return json.loads(out)

    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for h in (clean, killed):
        assert run(capsys, h, "demo", "--days", "40")[0] == 0
    # The state a run killed after two of the four subscriptions leaves: no later subscription, no entry.
    _, out, _ = run(capsys, killed, "subscriptions", "list", "--json")
    for sub in json.loads(out)[2:]:
        assert run(capsys, killed, "subscriptions", "remove", str(sub["id"]))[0] == 0
    _, out, _ = run(capsys, killed, "manual", "list", "--json")
    for entry in json.loads(out):
        assert run(capsys, killed, "manual", "delete", str(entry["id"]))[0] == 0
    assert report(killed) != report(clean)
    assert run(capsys, killed, "demo", "--days", "40")[0] == 0
    assert report(killed) == report(clean)
    _, out, _ = run(capsys, killed, "subscriptions", "list", "--json")
    assert len(json.loads(out)) == 4


def test_a_deleted_ledger_is_refused_not_silently_recreated(tmp_path: Path) -> None:
    from aicost_desktop.manual import ManualEntry, add_entry
    from aicost_desktop.storage.db import Database, LedgerGoneError

    path = tmp_path / "ledger.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    try:
        from datetime import date

        add_entry(db, ManualEntry(service="X", amount="1", entry_date=date(2024, 1, 1)))
        assert not db.file_gone()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        assert db.file_gone()
        with pytest.raises(LedgerGoneError, match="was deleted or replaced"):
            add_entry(db, ManualEntry(service="Y", amount="1", entry_date=date(2024, 1, 1)))
        assert not path.exists()  # no new, empty ledger in its place
        with pytest.raises(LedgerGoneError):
            with db.session():
                pass
    finally:
        db.dispose()


def test_arguments_that_are_not_text_are_one_error_line(home: Path, capsys) -> None:
    before = ledger_digest(home)
    for value in ("\udcff", "a\x00b"):
        code, _, err = run(capsys, home, "manual", "add", "--service", value, "--amount", "1", "--date", "2024-01-01")
        assert code == 2, err
        one_error(err)
    assert ledger_digest(home) == before


def test_an_action_is_required_where_there_are_actions(home: Path, capsys) -> None:
    for group in ("prices", "alerts", "budgets", "manual"):
        code, _, err = run(capsys, home, group)
        assert code == 2 and "required: ACTION" in one_error(err), group


def _hostile_files(tmp: Path) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    files = {"deep": ("deep.json", "[" * 200_000), "big": ("big.json", json.dumps({"gpt-4o": {
        "input_cost_per_token": 1e30, "output_cost_per_token": 1e30, "litellm_provider": "openai", "mode": "chat"}})),
        "header": ("header.csv", "date,amount,provider," + "x" * 140_000 + "\n2026-11-01,5,openai,a\n")}
    for name, text in files.values():
        (tmp / name).write_text(text)
    return {key: tmp / name for key, (name, _) in files.items()}


@pytest.mark.parametrize("args,needle", [
    (["accounts", "add", "--provider", "openai", "--name", "n", "--key-env", "K", "--base-url", "http://[::1"],
     "base-url='http://[::1'"),
    (["accounts", "add", "--provider", "openai", "--name", "n", "--key-env", "K", "--base-url", "http://h:99999/v1"],
     "base-url='http://h:99999/v1'"),
    (["prices", "update", "--from", "{deep}", "--force"], "JSON nested too deep"),
    (["import", "csv", "--format", "generic", "--map", "date=date", "--map", "amount=amount", "--map",
      "provider=provider", "{header}"], "header row: a cell is longer than 131,072 characters"),
    (["report", "--from", "0001-01-02"], "from='0001-01-02': must be a date from 1900-01-01 to 2999-12-31"),
    (["export", "--out", "{tmp}/x.csv", "--to", "9999-12-31"], "to='9999-12-31': must be a date from 1900-01-01"),
    (["analytics", "anomalies", "--from", "0001-01-01"], "from='0001-01-01'"),
])
def test_inputs_that_ended_in_an_internal_error_are_one_usage_error(home: Path, capsys, tmp_path: Path,
                                                                   monkeypatch, args, needle) -> None:
    """Each of these ended in `error: internal error: …` with exit 1 (a ValueError, RecursionError, csv.Error
    or a date past year 9999 in a day's bounds): bad input is exit 2, naming what was wrong."""
    monkeypatch.setenv("K", "sk-test-key-123456")
    files = {name: str(p) for name, p in _hostile_files(tmp_path / "in").items()}
    before = ledger_digest(home)
    code, _, err = run(capsys, home, *[a.format(tmp=tmp_path, **files) for a in args])
    line = one_error(err)
    assert code == 2 and needle in line and "internal error" not in line, line
    assert ledger_digest(home) == before


def test_a_price_map_whose_price_is_no_number_a_decimal_holds_is_installed_without_it(home: Path, capsys,
                                                                                     tmp_path: Path) -> None:
    big = _hostile_files(tmp_path / "in")["big"]
    code, out, err = run(capsys, home, "prices", "update", "--from", str(big), "--force")
    assert code == 0 and "internal error" not in err, err  # was InvalidOperation: 1e30 per token is no price
    code, out, err = run(capsys, home, "cost", "--model", "gpt-4o", "--input-tokens", "10", "--output-tokens", "1")
    assert code == 2 and "catalog entry 'gpt-4o' has no per-token price" in one_error(err)


@pytest.mark.parametrize("command", [["manual", "list"], ["manual", "add", "--service", "X", "--amount", "1", "--date",
                                                             "2024-01-01"], ["prices", "show", "gpt-4o"]])
def test_a_bad_time_zone_in_the_environment_fails_every_command_alike(home: Path, capsys, monkeypatch, command) -> None:
    """`report` refused AICOST_TZ=Mars/Olympus while `manual add` stored an entry under it (exit 0)."""
    monkeypatch.setenv("AICOST_TZ", "Mars/Olympus")
    before = ledger_digest(home)
    code, _, err = run(capsys, home, *command)
    assert code == 2 and "AICOST_TZ (environment)='Mars/Olympus': unknown IANA time zone" in one_error(err)
    assert ledger_digest(home) == before
