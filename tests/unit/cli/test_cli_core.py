"""The `aicost` contract for report, manual, subscriptions, demo and accounts: outputs and exit codes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_then_report_by_provider(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, tmp_path, "demo", "--days", "30", "--seed", "3")
    assert code == 0 and "demo rows" in out
    code, out, _ = run(capsys, tmp_path, "report", "--json", "--group-by", "provider", "--from", "2000-01-01")
    data = json.loads(out)
    assert code == 0 and data["currency"] == "USD" and data["tz"] == "UTC"
    by = {r["provider"]: r["cost"] for r in data["rows"]}
    for provider in ("openai", "anthropic", "openrouter", "google"):
        assert float(by[provider]) > 0, provider
    total = sum(float(v) for v in by.values())
    assert abs(total - float(data["total"])) < 0.01 * len(by)
    # Loading again changes nothing (deterministic, idempotent).
    run(capsys, tmp_path, "demo", "--days", "30", "--seed", "3")
    code, out2, _ = run(capsys, tmp_path, "report", "--json", "--group-by", "provider", "--from", "2000-01-01")
    assert json.loads(out2)["total"] == data["total"]
    code, out, _ = run(capsys, tmp_path, "demo", "--clear")
    assert code == 0
    code, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2000-01-01")
    assert json.loads(out)["total"] == "0.00"


def test_manual_add_prints_id_and_counts_in_report(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, tmp_path, "manual", "add", "--service", "Midjourney", "--amount", "30.50",
                       "--date", "2026-11-03", "--note", '=HYPERLINK("http://x")')
    assert code == 0 and out.strip().isdigit()
    code, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2026-11-01", "--to", "2026-11-30",
                       "--group-by", "day,source")
    data = json.loads(out)
    assert data["total"] == "30.50"
    assert data["rows"][0]["day"] == "2026-11-03" and data["rows"][0]["source"] == "manual"
    code, out, _ = run(capsys, tmp_path, "--tz", "Pacific/Auckland", "report", "--json", "--from", "2026-11-03",
                       "--to", "2026-11-03")
    assert json.loads(out)["total"] == "30.50"  # a dated entry keeps its date in every zone
    code, out, _ = run(capsys, tmp_path, "manual", "list", "--json")
    assert json.loads(out)[0]["note"] == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("args,needle", [
    (["--amount", "-5"], "amount='-5'"),
    (["--amount", "abc"], "amount='abc'"),
    (["--amount", "0"], "amount='0'"),
    (["--date", "2026-02-30"], "date='2026-02-30'"),
    (["--currency", "XYZ"], "currency='XYZ'"),
    (["--input-tokens", "-1"], "input-tokens='-1'"),
])
def test_manual_bad_input_exits_2_and_stores_nothing(tmp_path: Path, capsys, args, needle) -> None:
    base = {"--service": "X", "--amount": "1", "--date": "2026-11-01"}
    flags: list[str] = []
    overrides = dict(zip(args[::2], args[1::2]))
    for k, v in {**base, **overrides}.items():
        flags += [k, v]
    code, out, err = run(capsys, tmp_path, "manual", "add", *flags)
    assert code == 2 and err.startswith("error: ") and needle in err, err
    code, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2000-01-01")
    assert json.loads(out)["rows"] == []


def test_manual_refund_reduces_spend_and_edit_delete(tmp_path: Path, capsys) -> None:
    _, out, _ = run(capsys, tmp_path, "manual", "add", "--service", "X", "--amount", "10", "--date", "2026-11-02")
    entry = out.strip()
    run(capsys, tmp_path, "manual", "add", "--service", "X", "--amount", "4", "--date", "2026-11-02", "--refund")
    _, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2026-11-01", "--to", "2026-11-30")
    assert json.loads(out)["total"] == "6.00"
    assert run(capsys, tmp_path, "manual", "edit", entry, "--service", "X", "--amount", "12", "--date",
               "2026-11-02")[0] == 0
    _, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2026-11-01", "--to", "2026-11-30")
    assert json.loads(out)["total"] == "8.00"
    assert run(capsys, tmp_path, "manual", "delete", entry)[0] == 0
    code, _, err = run(capsys, tmp_path, "manual", "delete", entry)
    assert code == 2 and f"id={entry}" in err


def test_subscription_materializes_one_row_per_month(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, tmp_path, "subscriptions", "add", "--service", "ChatGPT Plus", "--amount", "20",
                       "--period", "monthly", "--start", "2026-01-31", "--end", "2026-05-15")
    assert code == 0
    _, out, _ = run(capsys, tmp_path, "report", "--json", "--from", "2026-01-01", "--to", "2026-12-31",
                    "--group-by", "day")
    data = json.loads(out)
    # Jan 31, Feb 28 (clamped), Mar 31, Apr 30; May 31 is after the end date.
    assert [r["day"] for r in data["rows"]] == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    assert data["total"] == "80.00"
    code, _, err = run(capsys, tmp_path, "subscriptions", "add", "--service", "X", "--amount", "5",
                       "--period", "fortnightly", "--start", "2026-01-01")
    assert code == 2 and "period='fortnightly'" in err
    code, _, err = run(capsys, tmp_path, "subscriptions", "add", "--service", "X", "--amount", "5",
                       "--period", "monthly", "--start", "2026-03-01", "--end", "2026-01-01")
    assert code == 2 and "end='2026-01-01'" in err


def test_report_bad_input(tmp_path: Path, capsys) -> None:
    assert "group-by='colour'" in run(capsys, tmp_path, "report", "--group-by", "colour")[2]
    code, _, err = run(capsys, tmp_path, "report", "--from", "yesterday")
    assert code == 2 and "from='yesterday'" in err
    code, _, err = run(capsys, tmp_path, "--tz", "Mars/Olympus", "report")
    assert code == 2 and "Mars/Olympus" in err
    code, _, err = run(capsys, tmp_path, "nonsense")
    assert code == 2 and err.startswith("error:")


def test_accounts_add_without_keychain_fails_clearly_and_stores_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-admin-secret-value")
    code, out, err = run(capsys, tmp_path, "accounts", "add", "--provider", "openai", "--name", "org",
                         "--key-env", "MY_KEY")
    assert code == 1 and "keychain" in err and "sk-admin-secret-value" not in out + err
    code, out, _ = run(capsys, tmp_path, "accounts", "list", "--json")
    assert json.loads(out) == []


@pytest.mark.parametrize("args,needle", [
    (["--provider", "nope", "--name", "a", "--key-env", "K"], "provider='nope'"),
    (["--provider", "openai", "--name", "a"], "--key-env"),
    (["--provider", "openai", "--name", "a", "--key-env", "UNSET_VAR_X"], "key-env='UNSET_VAR_X'"),
    (["--provider", "openai", "--name", "a", "--key-env", "K", "--base-url", "ftp://x"], "base-url='ftp://x'"),
    # A name shows in every report and list: no control or bidi characters (the terminal would print "ab").
    (["--provider", "openai", "--name", "a\x01b", "--key-env", "K"], "name='a\\x01b': contains the unprintable"),
    (["--provider", "openai", "--name", "ok", "--workspace", "w\u202ex", "--key-env", "K"],
     "workspace='w\\u202ex': contains the unprintable character U+202E"),
])
def test_accounts_add_bad_input(tmp_path: Path, capsys, monkeypatch, args, needle) -> None:
    monkeypatch.setenv("K", "sk-test")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    code, _, err = run(capsys, tmp_path, "accounts", "add", *args)
    assert code == 2 and needle in err, err


def test_sync_with_no_accounts_is_fine(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, tmp_path, "sync")
    assert code == 0 and "no accounts" in out


def test_version_and_help(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "aicost" in capsys.readouterr().out
    assert main([]) == 2


def test_version_loads_no_command_module() -> None:
    """`aicost --version` answers without importing the commands (and SQLAlchemy with them): it took a second."""
    import subprocess

    code = ("import sys\nfrom aicost_desktop.cli.main import main\n"
            "try:\n    main(['--tz', 'UTC', '--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('aicost_desktop.cli.') or m == 'sqlalchemy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "['aicost_desktop.cli.commands', 'aicost_desktop.cli.main']", out.stderr
    assert out.stdout.startswith("aicost ")


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    """`aicost report --json ... | head -1`: the closed pipe ends the command quietly, without a traceback."""
    import subprocess
    from datetime import date, timedelta

    env = {**os.environ, "AICOST_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "aicost_desktop.cli.main"]
    assert subprocess.run([*cli, "demo", "--days", "60"], env=env, capture_output=True).returncode == 0
    # Far more than a pipe buffer (64 KiB), so writing goes on after the reader has gone.
    reader = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE)
    run = subprocess.run([*cli, "report", "--json", "--group-by", "day,provider,model", "--from",
                          (date.today() - timedelta(days=59)).isoformat()], env=env, stdout=reader.stdin,
                         stderr=subprocess.PIPE, text=True)
    reader.stdin.close()
    reader.wait(30)
    assert "Traceback" not in run.stderr and run.returncode == 0, run.stderr


def test_the_aicost_executable_runs_main_and_freezes_what_it_loaded_for_the_exit(tmp_path: Path) -> None:
    """`aicost` (pyproject's script, the frozen installer's entry, `python -m aicost_desktop.cli.main`) is
    `run`: main's exit code, then every object frozen out of the shutdown's garbage collection (~40 ms
    after an import). `main` itself, which tests call in a process that goes on, freezes nothing."""
    import subprocess
    import tomllib

    scripts = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["aicost"] == "aicost_desktop.cli.main:run"
    assert "import run" in (Path(__file__).parents[3] / "installer" / "entry_cli.py").read_text()
    code = ("import gc\nfrom aicost_desktop.cli.main import main, run\n"
            "assert main([]) == 2 and gc.get_freeze_count() == 0\n"
            "print(run(), gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", code, "sync"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AICOST_HOME": str(tmp_path / "home")})
    assert out.stdout.split()[-2:] == ["0", "True"], out.stderr


def test_a_failed_sync_is_one_error_line_not_also_a_log_warning(tmp_path: Path) -> None:
    """The sync's own failure warning (kept in the app's log) is not printed next to the command's error."""
    import json
    import subprocess
    from datetime import datetime, timezone

    from tests.fakes.openai_fake import ADMIN_KEY, OpenAIFake

    keychain = tmp_path / "keychain.json"
    env = {**os.environ, "AICOST_HOME": str(tmp_path / "home"), "TEST_KEY": ADMIN_KEY, "AICOST_TZ": "UTC",
           "PYTHON_KEYRING_BACKEND": "tests.fakes.file_keyring.FileKeyring", "AICOST_TEST_KEYRING_FILE": str(keychain)}
    cli = [sys.executable, "-m", "aicost_desktop.cli.main"]
    with OpenAIFake(now=datetime.now(timezone.utc), days=2) as fake:
        add = subprocess.run([*cli, "accounts", "add", "--provider", "openai", "--name", "work", "--base-url",
                              fake.base_url + "/v1", "--key-env", "TEST_KEY"], env=env, capture_output=True, text=True)
        assert add.returncode == 0, add.stderr
        # The key is revoked at the provider: the keychain's copy no longer opens it (401, no retries).
        stored = json.loads(keychain.read_text())
        keychain.write_text(json.dumps({svc: {user: "sk-admin-revoked" for user in users}
                                        for svc, users in stored.items()}))
        out = subprocess.run([*cli, "sync"], env=env, capture_output=True, text=True, timeout=120)
        verbose = subprocess.run([*cli, "-v", "sync"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stderr.startswith("error: work: "), out.stderr
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert "sync of work failed" in verbose.stderr  # -v still shows the log line
